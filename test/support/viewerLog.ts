import type { LogStore } from '../../src/log/types.ts';
import { createActorSystem } from '../../src/runtime/actorSystem.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { machines } from './viewerMachines.ts';

/** How many `ping`s {@link writeViewerLog} sends `ping-1` (each one `inc` to its child and a note to `peer-1`). */
export const PINGS = 3;

/**
 * Writes the viewer tests' log with the journaled runtime: `job-ok` (final `done`), `job-failed`
 * and `job-failed-2` (final `failed`), `job-canceled`, `job-open` (active), `crash-1` (threw in
 * `running` on its 3rd event), `ping-1` with its child `counter` and `peer-1` (the journaled actor
 * it notes), `queue-1` (four jobs queued, then the head taken).
 */
export async function writeViewerLog(path: string): Promise<void> {
  // the contract's type: its calls are awaited whatever store it is
  const store: LogStore = openSqliteStore(path);
  const system = createActorSystem({ store, machines, onError: () => {} });
  try {
    system.spawn('outcome', { id: 'job-ok' }).send({ type: 'job.ok' });
    system.spawn('outcome', { id: 'job-failed' }).send({ type: 'job.fail' });
    system.spawn('outcome', { id: 'job-failed-2' }).send({ type: 'job.fail' });
    system.spawn('outcome', { id: 'job-canceled' }).send({ type: 'job.cancel' });
    system.spawn('outcome', { id: 'job-open' });
    const crash = system.spawn('crash', { id: 'crash-1' });
    crash.send({ type: 'start' });
    crash.send({ type: 'boom' });
    system.spawn('peer', { id: 'peer-1' });
    const ping = system.spawn('ping', { id: 'ping-1' });
    for (let i = 0; i < PINGS; i++) ping.send({ type: 'ping' });
    const queue = system.spawn('queue', { id: 'queue-1' });
    for (const [id, text] of [
      ['j1', 'first'],
      ['j2', 'second'],
      ['j3', 'third'],
      ['j4', 'fourth'],
    ])
      queue.send({ type: 'enqueue', id, text });
    queue.send({ type: 'take' });
    await system.settled();
  } finally {
    await system.close();
    await store.close();
  }
}
