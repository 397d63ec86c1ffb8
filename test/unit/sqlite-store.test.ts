// SQLite store: query plans, snapshot pruning on disk, the bounded version cache,
// foreign files, the file mode of an existing log, read-only opening in a directory one cannot write.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore, SCHEMA_VERSION } from '../../stores/sqlite/index.ts';
import { READ_STREAM_AFTER_SQL } from '../../stores/sqlite/readAll.ts';
import { APPLICATION_ID, migrations } from '../../stores/sqlite/schema.ts';
import { LIST_STREAMS_BY_STATUS_SQL } from '../../stores/sqlite/streams.ts';
import { VersionCache } from '../../stores/sqlite/versionCache.ts';
import { createStream, event, events, expectCode } from '../conformance/embedded/fixtures.ts';
import { tempLog } from '../support/kit/index.ts';

/** The `detail` lines of EXPLAIN QUERY PLAN for `sql` on a raw connection to `file`. */
function plan(file: string, sql: string, ...params: unknown[]): string[] {
  const raw = new Database(file, { readonly: true });
  try {
    return raw
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((r) => (r as { detail: string }).detail);
  } finally {
    raw.close();
  }
}
const mode = (file: string) => fs.statSync(file).mode & 0o777;
const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('sqlite store: indexed reads (EXPLAIN QUERY PLAN on a real file)', () => {
  it('readAll({ streamId }) is a range of events (stream_id, global_position), no scan, no sort', () => {
    const log = tempLog();
    const file = log.path;
    const store = log.open();
    for (const id of ['a', 'b']) createStream(store, id);
    store.append('a', 0, events(3));
    store.append('b', 0, events(3));
    const detail = plan(file, READ_STREAM_AFTER_SQL, 'a', 2, 10);
    expect(detail.join(' | ')).toMatch(/SEARCH events USING INDEX events_stream_position \(stream_id=\? AND global_position>\?\)/);
    expect(detail.join(' | ')).not.toMatch(/SCAN|TEMP B-TREE/);
    expect(store.readAll({ streamId: 'b', after: 2 }).map((r) => r.globalPosition)).toEqual([4, 5, 6]);
  });

  it('listStreams({ status }) searches the streams_status index: no SCAN of streams', () => {
    const log = tempLog();
    const file = log.path;
    const store = log.open();
    for (const id of ['a', 'b', 'c']) createStream(store, id);
    store.setStreamStatus('b', 'done', 200);
    const detail = plan(file, LIST_STREAMS_BY_STATUS_SQL, 'active', 'error', 'error', 'error');
    expect(detail[0]).toMatch(/^SEARCH s USING INDEX streams_status \(status=\?\)/);
    expect(detail.filter((d) => /\bSCAN\b/.test(d))).toEqual([]);
    expect(store.listStreams({ status: ['active', 'error'] }).map((s) => s.streamId)).toEqual(['a', 'c']);
  });
});

describe('sqlite store: snapshots on disk', () => {
  it('keeps at most keepSnapshots rows per stream in the file, across reopen', () => {
    const log = tempLog();
    const file = log.path;
    const store = openSqliteStore(file, { keepSnapshots: 4 });
    for (let v = 1; v <= 9; v++) store.saveSnapshot({ streamId: 's', version: v, snapshot: { v }, recordedAt: v });
    store.close();
    const raw = new Database(file, { readonly: true });
    const rows = raw.prepare('SELECT version FROM snapshots WHERE stream_id = ? ORDER BY version').pluck().all('s');
    raw.close();
    expect(rows).toEqual([6, 7, 8, 9]);
    expect(
      log
        .open()
        .listSnapshots('s')
        .map((s) => s.version),
    ).toEqual([6, 7, 8, 9]);
  });

  it('refuses a keepSnapshots or versionCacheSize that is not a count: INVALID_OPTIONS', () => {
    const log = tempLog();
    const file = log.path;
    expectCode(() => openSqliteStore(file, { keepSnapshots: -1 }), 'INVALID_OPTIONS', { keepSnapshots: -1 });
    expectCode(() => openSqliteStore(file, { keepSnapshots: 2.5 }), 'INVALID_OPTIONS');
    expectCode(() => openSqliteStore(file, { versionCacheSize: 0 }), 'INVALID_OPTIONS', { versionCacheSize: 0 });
  });
});

describe('sqlite store: the version cache is bounded', () => {
  it('VersionCache keeps the most recently written entries, never more than its capacity', () => {
    const cache = new VersionCache(3);
    for (let i = 0; i < 1000; i++) {
      cache.set(`s${i}`, i);
      expect(cache.size).toBeLessThanOrEqual(3);
    }
    expect([cache.get('s997'), cache.get('s998'), cache.get('s999'), cache.get('s996')]).toEqual([997, 998, 999, undefined]);
    cache.set('s997', 5000); // written again: now the most recent
    cache.set('x', 1);
    expect([cache.get('s997'), cache.get('s998'), cache.get('x')]).toEqual([5000, undefined, 1]);
  });

  it('the store stays correct with far more streams than cache entries (misses re-read the version)', () => {
    const log = tempLog();
    const store = log.open({ versionCacheSize: 2 });
    const other = log.open();
    const ids = Array.from({ length: 12 }, (_, i) => `s${i}`);
    for (const id of ids) createStream(store, id);
    for (let round = 0; round < 3; round++) for (const id of ids) store.append(id, round, [event(`r${round}`)]);
    expect(store.listStreams().map((s) => s.version)).toEqual(ids.map(() => 3));
    // another connection writes to an evicted stream (s0) and to a cached one (s11)
    other.append('s0', 3, [event('other')]);
    other.append('s11', 3, [event('other')]);
    expectCode(() => store.append('s0', 3, [event('stale')]), 'VERSION_CONFLICT', { actualVersion: 4 });
    expectCode(() => store.append('s11', 3, [event('stale')]), 'VERSION_CONFLICT', { actualVersion: 4 });
    expect(store.append('s0', 4, [event('ok')]).nextVersion).toBe(5);
    expect(store.append('s11', 4, [event('ok')]).nextVersion).toBe(5);
    expectCode(() => store.append('s5', 2, [event('stale')]), 'VERSION_CONFLICT', { actualVersion: 3 });
    expect(store.readAll().length).toBe(12 * 3 + 4);
  });
});

describe('sqlite store: files that are not actorlog logs', () => {
  /** A file of another application: a table, rollback journal, user_version 0. */
  function foreign(
    file: string,
    setup: (db: Database.Database) => unknown = (db) => db.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me')"),
  ): void {
    const db = new Database(file);
    setup(db);
    db.close();
  }
  const tables = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      return {
        tables: db.prepare('SELECT name FROM sqlite_schema ORDER BY name').pluck().all(),
        journal: db.pragma('journal_mode', { simple: true }),
        userVersion: db.pragma('user_version', { simple: true }),
      };
    } finally {
      db.close();
    }
  };

  it('refuses, read-write, a file with other tables: STORE_UNAVAILABLE, and the file is unchanged', () => {
    const log = tempLog();
    const { dir, path: file } = log;
    foreign(file);
    fs.chmodSync(file, 0o644);
    const [before, hash] = [tables(file), sha(file)];
    expect(before).toEqual({ tables: ['notes'], journal: 'delete', userVersion: 0 });
    expectCode(() => openSqliteStore(file), 'STORE_UNAVAILABLE', { path: file, kind: 'foreign' });
    expect(tables(file)).toEqual(before);
    expect(sha(file)).toBe(hash);
    expect(mode(file)).toBe(0o644);
    expect(fs.readdirSync(dir)).toEqual(['log.db']); // no -wal, no -shm left
  });

  it('refuses a file with another user_version or application_id (not SCHEMA_VERSION: it is not ours)', () => {
    const logA = tempLog();
    const a = logA.path;
    foreign(a, (db) => db.exec('CREATE TABLE t (x); PRAGMA user_version = 7'));
    expectCode(() => openSqliteStore(a), 'STORE_UNAVAILABLE', { kind: 'foreign' });
    expectCode(() => openSqliteStore(a, { readonly: true }), 'STORE_UNAVAILABLE', { kind: 'foreign' });
    expect(tables(a)).toEqual({ tables: ['t'], journal: 'delete', userVersion: 7 });
    const logB = tempLog();
    const b = logB.path;
    foreign(b, (db) => db.pragma('application_id = 1234'));
    expectCode(() => openSqliteStore(b), 'STORE_UNAVAILABLE', { kind: 'foreign' });
  });

  it('opens an empty file (0 bytes) or a new database without tables as a new log', () => {
    const logA = tempLog();
    const a = logA.path;
    fs.writeFileSync(a, '');
    expect(logA.open().pragma('user_version')).toBe(SCHEMA_VERSION);
    const logB = tempLog();
    const b = logB.path;
    new Database(b).close();
    const store = logB.open();
    expect(store.pragma('application_id')).toBe(APPLICATION_ID);
    expect(store.pragma('journal_mode')).toBe('wal');
  });

  it('still opens a log of schema version 1 (before application_id): migrates it read-write, reads it read-only', () => {
    const log = tempLog();
    const file = log.path;
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(migrations[0]!);
    db.pragma('user_version = 1');
    db.prepare("INSERT INTO streams VALUES ('s', 'job', 'h', '{}', 'active', 1, 1)").run();
    db.close();
    expect(
      log
        .open({ readonly: true })
        .listStreams()
        .map((s) => s.streamId),
    ).toEqual(['s']);
    const store = log.open();
    expect(store.pragma('user_version')).toBe(SCHEMA_VERSION);
    expect(store.pragma('application_id')).toBe(APPLICATION_ID);
    expect(store.append('s', 0, events(1)).nextVersion).toBe(1);
  });
});

describe('sqlite store: file modes', () => {
  it('sets an existing log file of mode 0644 to 0600 when it opens it read-write', () => {
    const log = tempLog();
    const file = log.path;
    openSqliteStore(file).close();
    fs.chmodSync(file, 0o644);
    openSqliteStore(file, { readonly: true }).close();
    expect(mode(file)).toBe(0o644); // read-only never changes the file
    log.open();
    expect(mode(file)).toBe(0o600);
  });
});

/** Whether `nobody` can run node here (we are root, and runuser exists). */
function unprivilegedUser(): string | undefined {
  if (process.getuid?.() !== 0) return 'the tests do not run as root, so they cannot act as another user';
  const probe = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, '-e', 'process.exit(process.getuid() === 0 ? 1 : 0)']);
  if (probe.error || probe.status !== 0) return `runuser -u nobody cannot run node: ${probe.error?.message ?? probe.stderr.toString()}`;
  return undefined;
}
const noUser = unprivilegedUser();

describe('sqlite store: read-only in a directory the user cannot write', () => {
  // CI runs as root with runuser (as the PostgreSQL test server does): a machine that cannot fails here, never skips.
  it('reads the streams as user nobody (immutable=1 fallback)', () => {
    if (noUser !== undefined) throw new Error(`cannot run this test: ${noUser}`);
    const { dir } = tempLog();
    const logDir = path.join(dir, 'logs');
    fs.mkdirSync(logDir);
    const file = path.join(logDir, 'log.db');
    const writer = openSqliteStore(file);
    for (const id of ['job-1', 'job-2']) createStream(writer, id);
    writer.append('job-1', 0, events(2));
    writer.close();
    const script = path.join(dir, 'read.ts');
    const entry = path.resolve(import.meta.dirname, '../../stores/sqlite/index.ts');
    fs.writeFileSync(
      script,
      `import { openSqliteStore } from ${JSON.stringify(entry)};
const store = openSqliteStore(process.argv[2], { readonly: true });
console.log(JSON.stringify({ streams: store.listStreams().map((s) => [s.streamId, s.version]), immutable: store.immutable, uid: process.getuid() }));
store.close();
`,
    );
    // nobody owns the log file (mode 0600) but may not create files in its directory (root's, 0755)
    fs.chownSync(file, 65534, 65534);
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(logDir, 0o755);
    fs.chmodSync(script, 0o644);
    const hash = sha(file);
    const run = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, '--import', 'tsx', script, file], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
    });
    const error = run.stderr
      .split('\n')
      .find((l) => /Error|code:/.test(l))
      ?.replace(/[^\x20-\x7e]/g, '?');
    expect(error, 'the reader failed').toBeUndefined();
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toEqual({
      streams: [
        ['job-1', 2],
        ['job-2', 0],
      ],
      immutable: true,
      uid: 65534,
    });
    expect(fs.readdirSync(logDir)).toEqual(['log.db']);
    expect(sha(file)).toBe(hash);
  });

  it('a read-only store in a writable directory is not immutable (it sees later writes)', () => {
    const log = tempLog();
    const writer = log.open();
    createStream(writer, 's');
    const reader = log.open({ readonly: true });
    expect(reader.immutable).toBe(false);
    writer.append('s', 0, events(1));
    expect(reader.headPosition()).toBe(1);
  });
});
