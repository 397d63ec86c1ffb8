/**
 * The CLI run in this process through `runCli` (importing cli/main.ts runs nothing): each command's
 * help, `actorlog diff`, and `actorlog export` whose file `replay` and `diff` read as the log itself.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { tempDb } from '../support/tempDb.ts';
import { writeViewerLog } from '../support/viewerLog.ts';

const db = tempDb();
const MACHINES = ['--machines', 'test/support/viewerMachines.ts'];

/** Runs the CLI; stdout as text and as bytes (export writes a binary file), stderr as text. */
async function cli(args: string[], tty = false) {
  let out = '';
  const bytes: Buffer[] = [];
  let err = '';
  const code = await runCli(['node', 'actorlog', ...args], {
    out: Object.assign({ write: (c: string | Uint8Array) => (typeof c === 'string' ? (out += c) : bytes.push(Buffer.from(c))) }, tty ? { isTTY: true } : {}),
    err: { write: (c: string) => (err += c) },
  });
  return { code, out, err, bytes: Buffer.concat(bytes) };
}

beforeAll(() => writeViewerLog(db.path));
afterAll(() => db.cleanup());

describe('actorlog, run in this process', () => {
  it('importing cli/main.ts runs nothing; --help lists every command, and each command its own options', async () => {
    expect(process.exitCode ?? 0).toBe(0);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['streams', 'replay', 'diff', 'tail', 'inspect', 'export', 'view']) expect(help.out).toMatch(new RegExp(`^  ${command} `, 'm'));
    const diff = await cli(['diff', '--help']);
    expect(diff.out).toContain('--actor <path>');
    expect(diff.out).toContain('--machines <module>');
    const exp = await cli(['export', '--help']);
    expect(exp.out).toContain('--to <position>');
    expect(exp.out).not.toContain('--machines');
  });

  it('diff prints what changed between two versions, lists matched by identity', async () => {
    const queue = await cli(['diff', db.path, 'queue-1', '4', '5', ...MACHINES]);
    expect(queue.err).toBe('');
    expect(queue.code).toBe(0);
    expect(queue.out).toBe('queue-1 v4 -> v5: open -> open\n  - context/queue/0  {"id":"j1","text":"first"}\n');
    const child = await cli(['diff', db.path, 'ping-1', '1', '2', '--actor', 'counter', '--json', ...MACHINES]);
    expect(JSON.parse(child.out)).toEqual({
      streamId: 'ping-1',
      actor: 'counter',
      from: 1,
      to: 2,
      state: { from: 'counting', to: 'counting' },
      changes: [
        { op: 'replace', path: 'context/count', before: 0, after: 1 },
        { op: 'add', path: 'context/seen/0', after: 'from parent' },
      ],
    });
    expect((await cli(['diff', db.path, 'job-ok', '0', '1', ...MACHINES])).out).toContain('  ~ value  "working" -> "done"\n');
    const past = await cli(['diff', db.path, 'queue-1', '1', '9', ...MACHINES]);
    expect(past.code).toBe(2);
    expect(past.err).toBe('actorlog: queue-1 has 5 event(s): there is no version 9 (INVALID_OPTIONS)\n');
  });

  it('export writes the streams as a log of their own, which replay and diff read as the original', async () => {
    const file = join(db.dir, 'bug.actorlog');
    const run = await cli(['export', db.path, 'ping-1', 'peer-1', '--out', file]);
    expect(run.code).toBe(0);
    expect(run.err).toMatch(/^actorlog: exported 2 stream\(s\), 12 event\(s\), \d+ snapshot\(s\), 2 definition\(s\) up to position \d+ to /);
    const source = openSqliteStore(db.path, { readonly: true });
    const copy = openSqliteStore(file, { readonly: true });
    try {
      expect(copy.listStreams().map((s) => [s.streamId, s.machine, s.status, s.version])).toEqual(
        ['peer-1', 'ping-1'].map((id) => {
          const s = source.getStream(id)!;
          return [id, s.machine, s.status, s.version];
        }),
      );
      for (const id of ['ping-1', 'peer-1']) {
        const strip = (rs: ReturnType<typeof source.readStream>) => rs.map(({ globalPosition: _g, ...r }) => r);
        expect(strip(copy.readStream(id))).toEqual(strip(source.readStream(id)));
      }
      // the source's order is kept: ping-1's note at v1 comes before peer-1 received it
      const order = copy.readAll().map((r) => `${r.streamId}@${r.version}`);
      expect(order.indexOf('ping-1@1')).toBeLessThan(order.indexOf('peer-1@1'));
      expect(copy.loadDefinition(source.getStream('ping-1')!.machine.hash)?.definition).toEqual(
        source.loadDefinition(source.getStream('ping-1')!.machine.hash)?.definition,
      );
    } finally {
      source.close();
      copy.close();
    }
    const replayed = await cli(['replay', file, 'ping-1', ...MACHINES]);
    const original = await cli(['replay', db.path, 'ping-1', ...MACHINES]);
    expect(replayed.out.replace(/ +\d+ +(external|parent|child)/g, ' $1')).toBe(original.out.replace(/ +\d+ +(external|parent|child)/g, ' $1'));
    expect((await cli(['diff', file, 'queue-1', '4', '5', ...MACHINES])).code).toBe(2); // not exported
    expect((await cli(['export', db.path, 'ping-1', '--out', file])).err).toContain('exists: export writes a new file (INVALID_OPTIONS)');
  });

  it('export --to cuts every stream at a global position; without --out it writes to standard output, never to a terminal', async () => {
    const source = openSqliteStore(db.path, { readonly: true });
    const cut = source.readStream('ping-1', { fromVersion: 4, toVersion: 4 })[0]!.globalPosition;
    source.close();
    const run = await cli(['export', db.path, 'ping-1', 'peer-1', '--to', String(cut)]);
    expect(run.code).toBe(0);
    expect(run.bytes.subarray(0, 16).toString()).toBe('SQLite format 3\u0000');
    const file = join(db.dir, 'cut.actorlog');
    writeFileSync(file, run.bytes);
    const copy = openSqliteStore(file, { readonly: true });
    try {
      expect(copy.listStreams().map((s) => [s.streamId, s.version, s.status])).toEqual([
        ['peer-1', 1, 'active'],
        ['ping-1', 4, 'active'],
      ]); // ping-1's second note (sent at v4) reached peer-1 after
    } finally {
      copy.close();
    }
    expect(readFileSync(file).length).toBe(run.bytes.length);
    const tty = await cli(['export', db.path, 'ping-1'], true);
    expect(tty.code).toBe(2);
    expect(tty.err).toBe('actorlog: export writes a binary log file: redirect it (> bug.actorlog) or pass --out <file> (INVALID_OPTIONS)\n');
  });
});
