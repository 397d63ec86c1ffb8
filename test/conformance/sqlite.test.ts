import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { firstValueFrom, take } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/log/types.ts';
import { openSqliteStore, SCHEMA_VERSION, type SqliteStore } from '../../stores/sqlite/index.ts';
import { advance, virtualTime } from '../support/kit/index.ts';
import { createStream, event, events, expectCode, positions } from './embedded/fixtures.ts';
import { embeddedConformance } from './embeddedConformance.ts';
import { storeConformance } from './storeConformance.ts';

let dir: string;
let n = 0;
const freshPath = () => path.join(dir, `log-${++n}.db`);
const mode = (file: string) => fs.statSync(file).mode & 0o777;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'actorlog-sqlite-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

storeConformance('sqlite', async (options) => openSqliteStore(freshPath(), options));
embeddedConformance('sqlite', (options) => openSqliteStore(freshPath(), options));

describe('sqlite store', () => {
  type Closable = { close(): void } | { unsubscribe(): void };
  const opened: Closable[] = [];
  /** Closes stores and connections, unsubscribes subscriptions after the test (last first). */
  const track = <T extends Closable>(x: T): T => (opened.push(x), x);
  afterEach(() => {
    for (const x of opened.splice(0).reverse()) {
      if ('close' in x) x.close();
      else x.unsubscribe();
    }
  });

  it('creates its file (and -wal, -shm) with mode 0600', () => {
    const file = freshPath();
    const store = track(openSqliteStore(file));
    createStream(store, 'a');
    store.append('a', 0, events(1));
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}-wal`)).toBe(0o600);
    expect(mode(`${file}-shm`)).toBe(0o600);
  });

  it('uses WAL, synchronous NORMAL by default, a busy timeout, the current schema', () => {
    const store = track(openSqliteStore(freshPath()));
    expect(store.pragma('journal_mode')).toBe('wal');
    expect(store.pragma('synchronous')).toBe(1);
    expect(store.pragma('busy_timeout')).toBe(5000);
    expect(store.pragma('user_version')).toBe(SCHEMA_VERSION);
    expectCode(() => store.pragma('synchronous = OFF'), 'INVALID_OPTIONS');
  });

  it('really sets synchronous FULL when asked (PRAGMA synchronous = 2)', () => {
    const store = track(openSqliteStore(freshPath(), { synchronous: 'FULL', busyTimeoutMs: 250 }));
    expect(store.pragma('synchronous')).toBe(2);
    expect(store.pragma('busy_timeout')).toBe(250);
  });

  it('keeps everything across close and reopen, and appends on from there', () => {
    const file = freshPath();
    const first = openSqliteStore(file);
    createStream(first, 'a', 100, { prompt: 'hi' });
    first.append('a', 0, events(3));
    first.setStreamStatus('a', 'stopped', 2000);
    first.saveSnapshot({ streamId: 'a', version: 3, snapshot: { value: 'idle' }, recordedAt: 1500 });
    first.saveCheckpoint('tail', 3);
    const before = { streams: first.listStreams(), all: first.readAll() };
    first.close();

    const second = track(openSqliteStore(file));
    expect(second.listStreams()).toEqual(before.streams);
    expect(second.readAll()).toEqual(before.all);
    expect(second.loadSnapshot('a')?.snapshot).toEqual({ value: 'idle' });
    expect(second.loadCheckpoint('tail')).toBe(3);
    expectCode(() => second.append('a', 2, events(1)), 'VERSION_CONFLICT', { actualVersion: 3 });
    expect(second.append('a', 3, events(1))).toEqual({ nextVersion: 4, lastGlobalPosition: 4 });
  });

  it('sees appends of another connection by polling, and conflicts with them', () => {
    const file = freshPath();
    const a = track(openSqliteStore(file));
    const b = track(openSqliteStore(file));
    createStream(a, 's');
    a.append('s', 0, events(1));
    const { scheduler } = virtualTime();
    const received: EventRecord[] = [];
    track(a.subscribe({ scheduler, pollIntervalMs: 100 }).subscribe((r) => received.push(r)));
    expect(positions(received)).toEqual([1]);

    b.append('s', 1, [event('from.b')]);
    expect(positions(received)).toEqual([1]);
    advance(scheduler, 100);
    expect(received.map((r) => r.type)).toEqual(['e.1', 'from.b']);

    // a's cached version (1) is stale: the unique index still catches the conflict
    expectCode(() => a.append('s', 1, [event('stale')]), 'VERSION_CONFLICT', { expectedVersion: 1, actualVersion: 2 });
    expect(a.append('s', 2, [event('from.a')]).nextVersion).toBe(3);
    expect(b.getStream('s')!.version).toBe(3);
  });

  it('polls on real timers by default (asyncScheduler, a 2 ms interval here)', async () => {
    const file = freshPath();
    const a = track(openSqliteStore(file));
    const b = track(openSqliteStore(file));
    createStream(a, 's');
    const first = firstValueFrom(a.subscribe({ pollIntervalMs: 2 }).pipe(take(1)));
    b.append('s', 0, [event('from.b')]);
    await expect(first).resolves.toMatchObject({ streamId: 's', version: 1, type: 'from.b' });
  });

  it('sees rows a raw better-sqlite3 connection inserts', () => {
    const file = freshPath();
    const store = track(openSqliteStore(file));
    createStream(store, 's');
    const { scheduler } = virtualTime();
    const received: EventRecord[] = [];
    track(store.subscribe({ scheduler, streamId: 's' }).subscribe((r) => received.push(r)));
    const raw = track(new Database(file));
    raw
      .prepare('INSERT INTO events (stream_id, version, type, data, meta) VALUES (?, ?, ?, ?, ?)')
      .run('s', 1, 'raw', '{"x":1}', '{"source":"poll","recordedAt":7}');
    advance(scheduler, 250);
    expect(received).toEqual([{ globalPosition: 1, streamId: 's', version: 1, type: 'raw', data: { x: 1 }, meta: { source: 'poll', recordedAt: 7 } }]);
  });

  it('refuses a file whose schema is newer: SCHEMA_VERSION', () => {
    const file = freshPath();
    openSqliteStore(file).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expectCode(() => openSqliteStore(file), 'SCHEMA_VERSION', { found: SCHEMA_VERSION + 1, known: SCHEMA_VERSION });
    expectCode(() => openSqliteStore(file, { readonly: true }), 'SCHEMA_VERSION');
  });

  it('read-only: a missing file is STORE_UNAVAILABLE and is not created', () => {
    const file = freshPath();
    expectCode(() => openSqliteStore(file, { readonly: true }), 'STORE_UNAVAILABLE', { path: file });
    expect(fs.existsSync(file)).toBe(false);
  });

  it('read-only: reads and tails an existing file, refuses writes', () => {
    const file = freshPath();
    const writer = track(openSqliteStore(file));
    createStream(writer, 's');
    writer.append('s', 0, events(2));
    const reader: SqliteStore = track(openSqliteStore(file, { readonly: true }));
    expect(reader.readonly).toBe(true);
    expect(reader.readStream('s')).toHaveLength(2);
    expectCode(() => reader.append('s', 2, events(1)), 'STORE_UNAVAILABLE', { readonly: true });
    expectCode(() => createStream(reader, 'x'), 'STORE_UNAVAILABLE');
    expectCode(() => reader.saveCheckpoint('tail', 1), 'STORE_UNAVAILABLE');
    const { scheduler } = virtualTime();
    const received: EventRecord[] = [];
    track(reader.subscribe({ scheduler }).subscribe((r) => received.push(r)));
    writer.append('s', 2, events(1));
    advance(scheduler, 250);
    expect(positions(received)).toEqual([1, 2, 3]);
    expect(reader.transaction(() => reader.headPosition())).toBe(3);
  });

  it('read-only: opens a file whose writer has closed (no -wal, -shm left)', () => {
    const file = freshPath();
    const writer = openSqliteStore(file);
    createStream(writer, 's');
    writer.append('s', 0, events(2));
    writer.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    const reader = track(openSqliteStore(file, { readonly: true }));
    expect(reader.getStream('s')).toMatchObject({ version: 2, updatedAt: 1002 });
    expect(mode(file)).toBe(0o600);
  });

  it('a file that is not an actorlog log cannot be opened read-only', () => {
    const file = freshPath();
    new Database(file).close();
    expectCode(() => openSqliteStore(file, { readonly: true }), 'STORE_UNAVAILABLE');
  });
});
