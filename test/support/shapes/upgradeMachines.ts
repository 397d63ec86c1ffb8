/**
 * The order machines of the upgrade scenario (test/support/shapes/upgrade.ts) for `actorlog replay
 * --machines`: the name streams record runs version 3 today, and version 2 is kept registered under
 * another name, so a replay finds by hash the definition that ran the stretch before the 'accept'.
 */
import { v2, v3 } from './upgrade.ts';

export const machines = { orders: v3, ordersBeforeMigration: v2 };
