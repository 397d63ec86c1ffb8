import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 server binaries (package `postgresql`; .ci/run installs it when absent). */
export const POSTGRES_BIN = process.env.ACTORLOG_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A running throwaway PostgreSQL server. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, no password). */
  url: string;
  port: number;
  /** The postmaster's PID. */
  pid: number;
  /** The temporary directory holding the data directory and the unix socket. */
  dir: string;
}

/** Options of {@link startPostgres}. */
export interface StartOptions {
  /** fsync and synchronous commit on (as in production; for benchmarks). Tests leave it off: faster, same semantics. @default false */
  durable?: boolean;
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Runs a server binary as the `postgres` user when this process is root (initdb refuses root), else as this user. */
async function runAsPostgres(binary: string, args: string[]): Promise<void> {
  const file = path.join(POSTGRES_BIN, binary);
  if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', file, ...args], { timeout: 120_000 });
  else await run(file, args, { timeout: 120_000 });
}

/**
 * Starts a throwaway PostgreSQL 15 server from Debian's binaries: `initdb` (trust authentication,
 * UTF8, C locale, no sync) into a fresh temporary directory owned by the `postgres` user (when this
 * process is root: `runuser -u postgres`), then `pg_ctl start` listening on 127.0.0.1 on a free port
 * with its unix socket inside that directory. No docker, no network beyond 127.0.0.1.
 *
 * @throws Error naming the missing binaries (install Debian's `postgresql`) or the failed step
 * @example
 * ```ts
 * const server = await startPostgres();
 * const store = await openPostgresStore(server.url);
 * await stopPostgres(server);
 * ```
 */
export async function startPostgres(options: StartOptions = {}): Promise<PostgresServer> {
  if (!fs.existsSync(path.join(POSTGRES_BIN, 'initdb')) || !fs.existsSync(path.join(POSTGRES_BIN, 'pg_ctl'))) {
    throw new Error(
      `PostgreSQL server binaries not found in ${POSTGRES_BIN}: install Debian's package \`postgresql\` (apt-get install postgresql; .ci/run does) to run the PostgreSQL tests`,
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'actorlog-pg-'));
  const data = path.join(dir, 'data');
  try {
    if (process.getuid?.() === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const uid = Number(stdout.trim());
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
      fs.chownSync(dir, uid, gid);
    }
    fs.chmodSync(dir, 0o700);
    await runAsPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    const port = await freePort();
    const settings = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${dir}`,
      '-c max_connections=300',
      ...(options.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    ];
    await runAsPostgres('pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', path.join(dir, 'server.log'), '-o', settings.join(' ')]);
    const pid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, pid, dir };
  } catch (err) {
    const log = path.join(dir, 'server.log');
    const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').slice(-10).join('\n') : '';
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start PostgreSQL from ${POSTGRES_BIN}: ${(err as Error).message}${tail ? `\nserver log:\n${tail}` : ''}`, { cause: err });
  }
}

/** Whether a process with this PID exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops the server by its PID (SIGINT: fast shutdown, then SIGKILL after 10 s) and removes its directory.
 * @example
 * ```ts
 * await stopPostgres(server);
 * ```
 */
export async function stopPostgres(server: Pick<PostgresServer, 'pid' | 'dir'>): Promise<void> {
  if (alive(server.pid)) {
    process.kill(server.pid, 'SIGINT');
    for (let waited = 0; alive(server.pid) && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    if (alive(server.pid)) process.kill(server.pid, 'SIGKILL');
  }
  fs.rmSync(server.dir, { recursive: true, force: true });
}

// ---- the shared server of one vitest run ---------------------------------------------------------

const SERVER_FILE = 'server.json';
const ERROR_FILE = 'error.json';

/**
 * The server shared by every test file of a vitest run, started by the first file that asks (so a
 * run without PostgreSQL tests starts none). `harness` is the directory the globalSetup
 * (test/support/postgresGlobalSetup.ts) made and stops the server from at the end. The first caller
 * takes the directory's lock and starts the server; the others wait for its `server.json` (or the
 * error of the start, which they rethrow).
 */
export async function sharedPostgres(harness: string): Promise<PostgresServer> {
  const serverFile = path.join(harness, SERVER_FILE);
  const errorFile = path.join(harness, ERROR_FILE);
  let starter = false;
  try {
    fs.mkdirSync(path.join(harness, 'lock'));
    starter = true;
  } catch {
    // another test file is starting it
  }
  if (starter) {
    try {
      const server = await startPostgres();
      fs.writeFileSync(`${serverFile}.tmp`, JSON.stringify(server));
      fs.renameSync(`${serverFile}.tmp`, serverFile);
      return server;
    } catch (err) {
      fs.writeFileSync(`${errorFile}.tmp`, JSON.stringify({ message: (err as Error).message }));
      fs.renameSync(`${errorFile}.tmp`, errorFile);
      throw err;
    }
  }
  for (let waited = 0; waited < 120_000; waited += 100) {
    if (fs.existsSync(serverFile)) return JSON.parse(fs.readFileSync(serverFile, 'utf8')) as PostgresServer;
    if (fs.existsSync(errorFile)) throw new Error((JSON.parse(fs.readFileSync(errorFile, 'utf8')) as { message: string }).message);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the shared PostgreSQL server did not start within 120 s');
}

/** Stops the shared server of a run if a test file started one (the globalSetup's teardown). */
export async function stopSharedPostgres(harness: string): Promise<void> {
  const serverFile = path.join(harness, SERVER_FILE);
  if (fs.existsSync(serverFile)) await stopPostgres(JSON.parse(fs.readFileSync(serverFile, 'utf8')) as PostgresServer);
}

/** A database of its own for one test file, on the shared server. */
export interface TestDatabase {
  /** Connection string of the new database. */
  url: string;
  name: string;
  /** Drops the database (closing its connections). */
  drop(): Promise<void>;
}

/**
 * Creates a fresh database on the shared server for the calling test file (`CREATE DATABASE` from
 * template0: empty, a few ms with fsync off). Tests inside the file then take a schema each
 * (`openPostgresStore(url, { schema })`), or share the database.
 *
 * @param harness `inject('postgresHarness')` of the test file
 * @example
 * ```ts
 * const db = await createTestDatabase(inject('postgresHarness'));
 * const store = await openPostgresStore(db.url, { schema: 't1' });
 * ```
 */
export async function createTestDatabase(harness: string): Promise<TestDatabase> {
  const server = await sharedPostgres(harness);
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`);
  } finally {
    await admin.end();
  }
  const url = server.url.replace(/\/postgres$/, `/${name}`);
  return {
    url,
    name,
    async drop() {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
