/** The issue 15 crash scenarios, by name (test/support/shapes/app.ts runs one phase of one). */
import type { Scenario } from './scenario.ts';
import { children } from './children.ts';
import { fix } from './fix.ts';
import { foreign } from './foreign.ts';
import { ids } from './ids.ts';
import { messages } from './messages.ts';
import { ring } from './ring.ts';
import { systemId } from './systemId.ts';
import { tick } from './tick.ts';
import { timers } from './timers.ts';
import { upgrade } from './upgrade.ts';

export const scenarios: Record<string, Scenario> = { children, fix, foreign, ids, messages, ring, systemId, tick, timers, upgrade };
