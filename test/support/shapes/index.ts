/** The issue 15 crash scenarios, by name (test/support/shapes/app.ts runs one phase of one). */
import type { Scenario } from './scenario.ts';
import { timers } from './timers.ts';

export const scenarios: Record<string, Scenario> = { timers };
