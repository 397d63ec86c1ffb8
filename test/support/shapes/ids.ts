/**
 * Issue 15 item 11: a spawn without an id (easy in JavaScript) is refused before anything is written;
 * a stream row with a NULL id, as an older version wrote one, is not resumed by recover() and does
 * not stop close(). The first process makes such a row with raw SQL, the way that version left it.
 */
import Database from 'better-sqlite3';
import { assign, setup } from 'xstate';
import { isActorlogError } from 'actorlog';
import type { Scenario } from './scenario.ts';

export const tally = setup({ types: { context: {} as { n: number }, events: {} as { type: 'add' } } }).createMachine({
  id: 'tally',
  context: { n: 0 },
  on: { add: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
});

/** The code `fn` throws with, or 'no error'. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (err) {
    return isActorlogError(err) ? err.code : `not coded: ${String(err)}`;
  }
}

export const ids: Scenario = {
  machines: { tally },
  phases: [
    {
      at: 0,
      async run({ system, store }) {
        // What JavaScript lets through the types: each is refused before anything is written.
        const spawn = system.spawn.bind(system) as (machine: unknown, options: unknown) => unknown;
        const refused = [
          codeOf(() => spawn('tally', {})),
          codeOf(() => spawn('tally', { id: '' })),
          codeOf(() => spawn('tally', { id: null })),
          codeOf(() => spawn('tally', undefined)),
          codeOf(() => spawn('tally', { id: 't-2', inputs: { n: 1 } })),
          codeOf(() => spawn(undefined, { id: 't-2' })),
        ];
        const streams = store.listStreams().map((s) => s.streamId);
        system.spawn('tally', { id: 't-1' }).send({ type: 'add' });
        // The row an older version wrote for `spawn('tally', {})`.
        const db = new Database(store.path);
        db.prepare(
          "INSERT INTO streams (stream_id, machine_name, machine_hash, input, status, created_at, status_at) SELECT NULL, machine_name, machine_hash, 'null', 'active', created_at, status_at FROM streams WHERE stream_id = 't-1'",
        ).run();
        db.close();
        return { refused, streams };
      },
    },
    {
      at: 1_000,
      async run({ system }) {
        const { recovered, failed } = await system.recover();
        system.get('t-1')!.send({ type: 'add' });
        return {
          recovered: recovered.map((a) => a.id),
          failed: failed.map((f) => [f.streamId, f.error.code]),
          n: system.get<typeof tally>('t-1')!.getSnapshot().context.n,
        };
      },
    },
  ],
};
