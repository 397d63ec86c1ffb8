import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

/** The example A2A agent running as its own process, so it outlives a killed orchestrator. */
export interface AgentProcess {
  url: string;
  pid: number;
  /** True when an agent left by an earlier run was found alive and reused. */
  reused: boolean;
  /** Stops the agent (SIGTERM to its PID) and forgets it. */
  stop(): void;
}

const TSX = import.meta.resolve('tsx');
const SERVER = join(dirname(fileURLToPath(import.meta.url)), 'a2a-agent-server.ts');
const URL_LINE = /listening on (http:\/\/127\.0\.0\.1:\d+\S*)/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await request(new URL('/.well-known/agent-card.json', url), { headersTimeout: 1_000, bodyTimeout: 1_000 });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

/**
 * Reuses the agent an earlier run of the main job left (recorded in `<db>.agent.json`) when it still
 * answers, or starts a new one (`node --import tsx examples/a2a-agent-server.ts`, detached, on a
 * free port of 127.0.0.1) and records it. A crashed orchestrator thus finds its tasks again.
 *
 * @param options.stepMs the agent's step duration (ms) for a newly started agent.
 * @throws Error when a new agent does not print its URL within 20 s (its output is in `<db>.agent.log`).
 */
export async function ensureAgent(options: { db: string; stepMs: number }): Promise<AgentProcess> {
  const stateFile = `${options.db}.agent.json`;
  const logFile = `${options.db}.agent.log`;
  const forget = (pid: number) => () => {
    if (alive(pid)) process.kill(pid, 'SIGTERM');
    rmSync(stateFile, { force: true });
  };
  if (existsSync(stateFile)) {
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { url: string; pid: number };
    if (alive(state.pid) && (await answers(state.url))) return { ...state, reused: true, stop: forget(state.pid) };
    rmSync(stateFile, { force: true });
  }
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, ['--import', TSX, SERVER], {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, PORT: '0', A2A_STEP_MS: String(options.stepMs) },
  });
  closeSync(out);
  child.unref();
  const pid = child.pid!;
  for (let waited = 0; waited < 20_000; waited += 100) {
    const match = URL_LINE.exec(readFileSync(logFile, 'utf8'));
    if (match) {
      writeFileSync(stateFile, JSON.stringify({ url: match[1], pid }), { mode: 0o600 });
      return { url: match[1], pid, reused: false, stop: forget(pid) };
    }
    if (!alive(pid)) break;
    await sleep(100);
  }
  forget(pid)();
  throw new Error(`the example agent did not start; see ${logFile}`);
}
