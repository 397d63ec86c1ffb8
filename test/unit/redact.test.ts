import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { createActorSystem, redactSecrets, REDACTED, verifyReplay } from '../../src/index.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { tempDb } from '../support/tempDb.ts';

describe('secrets never reach the log (invariant 7)', () => {
  const db = tempDb();
  afterAll(() => db.cleanup());

  it('redacts secret-named string values, deeply, and keeps numbers', () => {
    expect(
      redactSecrets({ url: 'http://x', headers: { Authorization: 'Bearer abc', 'X-Api-Key': 'k' }, usage: { total_tokens: 12 }, list: [{ password: 'p' }] }),
    ).toEqual({ url: 'http://x', headers: { Authorization: REDACTED, 'X-Api-Key': REDACTED }, usage: { total_tokens: 12 }, list: [{ password: REDACTED }] });
  });

  it('keeps tokens out of the stream input and event data written to the SQLite file', () => {
    const machine = setup({ types: { events: {} as { type: 'login'; credentials: { token: string }; user: string } } }).createMachine({
      id: 'session',
      context: { user: '' },
      on: { login: { actions: assign({ user: ({ event }) => event.user }) } },
    });
    const store = openSqliteStore(db.path);
    const system = createActorSystem({ store, machines: { session: machine } });
    const actor = system.spawn('session', { id: 's-1', input: { url: 'http://127.0.0.1:1', apiKey: 'sk-input-SECRET-1' } as never });
    actor.send({ type: 'login', credentials: { token: 'tok-event-SECRET-2' }, user: 'ada' });
    system.stop('s-1');
    expect(store.getStream('s-1')!.input).toEqual({ url: 'http://127.0.0.1:1', apiKey: REDACTED });
    expect(store.readStream('s-1')[0].data).toEqual({ credentials: { token: REDACTED }, user: 'ada' });
    store.close();
    const bytes = ['', '-wal'].map((suffix) => { try { return readFileSync(db.path + suffix).toString('latin1'); } catch { return ''; } }).join('');
    expect(bytes).toContain('ada');
    expect(bytes).not.toContain('SECRET');
  });

  it('redacts secret fields of the live event too, so a machine that keeps one still replays equal', () => {
    const careless = setup({ types: { context: {} as { token: string }, events: {} as { type: 'auth'; token: string } } }).createMachine({
      id: 'careless',
      context: { token: '' },
      on: { auth: { actions: assign({ token: ({ event }) => event.token }) } },
    });
    const other = tempDb();
    const store = openSqliteStore(other.path);
    const system = createActorSystem({ store, machines: { careless }, snapshotEvery: 1 });
    const actor = system.spawn('careless', { id: 'k-1' });
    actor.send({ type: 'auth', token: 'tok-top-level-SECRET-3' });
    expect(actor.getSnapshot().context.token).toBe(REDACTED);
    expect(store.readStream('k-1')[0].data).toEqual({ token: REDACTED });
    expect(verifyReplay(store, careless, 'k-1')).toMatchObject({ ok: true, checked: 1 });
    store.close();
    other.cleanup();
  });
});

describe('redacting errors', () => {
  it('keeps the message of an Error whose details name a secret', () => {
    const err = Object.assign(new Error('secret store unreachable'), { code: 'TRANSIENT', details: { secretName: 'OPENAI_KEY' } });
    expect(redactSecrets({ error: err })).toEqual({ error: { name: 'Error', message: 'secret store unreachable', code: 'TRANSIENT' } });
  });
});

describe('redacting secrets in other shapes', () => {
  it('redacts objects under a secret key, header tuples, embedded JSON, bearer credentials and URL parameters', () => {
    expect(redactSecrets({ credentials: { user: 'u', key: 'k-123' } })).toEqual({ credentials: { user: REDACTED, key: REDACTED } });
    expect(redactSecrets({ auth: 'Bearer abc', privateKey: 'pk-1', author: 'ada' })).toEqual({ auth: REDACTED, privateKey: REDACTED, author: 'ada' });
    expect(redactSecrets({ headers: [['Authorization', 'Bearer abc.def']] })).toEqual({ headers: [['Authorization', 'Bearer [redacted]']] });
    expect(redactSecrets({ raw: '{"state":"bogus","token":"tok-123"}' })).toEqual({ raw: '{"state":"bogus","token":"[redacted]"}' });
    expect(redactSecrets({ url: 'http://127.0.0.1:1/x?access_token=abc&page=2' })).toEqual({ url: 'http://127.0.0.1:1/x?access_token=[redacted]&page=2' });
    expect(redactSecrets({ text: 'the token limit was reached', usage: { total_tokens: 12 } })).toEqual({ text: 'the token limit was reached', usage: { total_tokens: 12 } });
  });

  it('starts the actor from the redacted input the log keeps, so snapshots hold no secret and replay equals live', () => {
    const keeper = setup({ types: { input: {} as { apiKey: string; url: string }, context: {} as { apiKey: string; url: string } } }).createMachine({
      id: 'keeper',
      context: ({ input }) => ({ ...input }),
      on: { '*': {} },
    });
    const other = tempDb();
    const store = openSqliteStore(other.path);
    const system = createActorSystem({ store, machines: { keeper } });
    const actor = system.spawn('keeper', { id: 'i-1', input: { apiKey: 'sk-INPUT-SECRET-4', url: 'http://127.0.0.1:1' } });
    expect(actor.getSnapshot().context.apiKey).toBe(REDACTED);
    system.stop('i-1');
    expect(verifyReplay(store, keeper, 'i-1')).toMatchObject({ ok: true, checked: 1 });
    store.close();
    const bytes = ['', '-wal'].map((suffix) => { try { return readFileSync(other.path + suffix).toString('latin1'); } catch { return ''; } }).join('');
    expect(bytes).not.toContain('SECRET');
    other.cleanup();
  });
});
