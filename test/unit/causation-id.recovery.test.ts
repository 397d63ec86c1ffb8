/**
 * A message from a child whose id holds `:` to another journaled actor: its causation id reads back as
 * the child's stream and path, and recovery delivers the message its sender's log implies once, also
 * when the receiver logged it in the form written before paths escaped their colons.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { assign, sendTo, setup } from 'xstate';
import { createActorSystem } from 'actorlog';
import { parseCausationId } from '../../src/log/causationId.ts';
import { tempLog } from '../support/kit/index.ts';

const worker = setup({}).createMachine({ id: 'worker', on: { go: { actions: sendTo(({ system }) => system.get('b-1'), { type: 'ping' }) } } });
const sender = setup({ actors: { worker } }).createMachine({
  id: 'sender',
  invoke: { id: 'w:1', src: 'worker' },
  on: { go: { actions: sendTo('w:1', { type: 'go' }) } },
});
const receiver = setup({ types: { context: {} as { pings: number } } }).createMachine({
  id: 'receiver',
  context: { pings: 0 },
  on: { ping: { actions: assign({ pings: ({ context }) => context.pings + 1 }) } },
});
const machines = { sender, receiver };

describe('the causation id of a child whose id holds a colon', () => {
  it('names the child as the sender, and recovery does not deliver again a message logged in the older form', async () => {
    const log = tempLog();
    const first = log.open();
    const running = createActorSystem({ store: first, machines });
    running.spawn('receiver', { id: 'b-1' });
    running.spawn('sender', { id: 'a-1' }).send({ type: 'go' });
    await running.settled();
    const [ping] = first.readStream('b-1').filter((r) => r.type === 'ping');
    expect(ping!.meta.causationId).toBe('a-1:2:w%3A1:0');
    expect(parseCausationId(ping!.meta.causationId!)).toEqual({ streamId: 'a-1', version: 2, path: 'w:1', index: 0 });

    // The process dies here (running is never closed). The receiver's log holds the id as it was written before the escape.
    const raw = new Database(log.path);
    raw.prepare(`UPDATE events SET meta = json_set(meta, '$.causationId', 'a-1:2:w:1:0') WHERE stream_id = 'b-1' AND type = 'ping'`).run();
    raw.close();

    const second = log.open();
    const recovered = createActorSystem({ store: second, machines });
    const report = await recovered.recover();
    expect(report.recovered.map((a) => a.id).sort()).toEqual(['a-1', 'b-1']);
    await recovered.settled();
    expect(second.readStream('b-1').filter((r) => r.type === 'ping')).toHaveLength(1);
    expect(recovered.get<typeof receiver>('b-1')!.getSnapshot().context.pings).toBe(1);
    await recovered.close();
  });
});
