import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { ensureServer } from './server-process.ts';

/** The example A2A agent running as its own process, so it outlives a killed orchestrator. */
export interface AgentProcess {
  url: string;
  pid: number;
  /** True when an agent left by an earlier run was found alive and reused. */
  reused: boolean;
  /** Stops the agent (SIGTERM to its PID) and forgets it. */
  stop(): void;
}

const SERVER = join(dirname(fileURLToPath(import.meta.url)), 'a2a-agent-server.ts');

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
 * (examples/server-process.ts does this for every example's server.)
 *
 * @param options.stepMs the agent's step duration (ms) for a newly started agent.
 * @throws Error when a new agent does not print its URL within 20 s (its output is in `<db>.agent.log`).
 */
export async function ensureAgent(options: { db: string; stepMs: number }): Promise<AgentProcess> {
  const agent = await ensureServer({
    db: options.db,
    name: 'agent',
    module: SERVER,
    answers,
    env: { PORT: '0', A2A_STEP_MS: String(options.stepMs) },
  });
  return { url: agent.url, pid: agent.pid, reused: agent.reused, stop: () => void agent.stop() };
}
