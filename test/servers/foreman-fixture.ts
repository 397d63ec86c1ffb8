import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { foremanJobMachine, type ForemanBindingOptions, type ForemanDiagnostic } from '../../machines/foreman/index.ts';
import { createActorSystem, verifyReplay, type ActorSystem, type EventRecord } from '../../src/index.ts';
import { createWebhookReceiver, type WebhookReceiver, type WebhookReceiverOptions } from '../../src/sources/webhook/index.ts';
import { openSqliteStore, type SqliteStore } from '../../stores/sqlite/index.ts';
import { tempDb } from '../support/tempDb.ts';
import { startForemanServer, type ForemanServer, type ForemanServerOptions } from './foreman.ts';

/** Secrets of the fixture: tests grep the log for them. */
export const TOKEN = 'tok-foreman-7f3a9c1e-SECRET';
export const WEBHOOK_SECRET = 'whsec-5d2b8e40-SECRET';

/**
 * A foreman test daemon (token, HMAC secret; like the seed's, it ignores `Idempotency-Key` unless
 * `serverOptions` says otherwise), a SQLite log, a listening webhook receiver (default signature
 * header) and an actor system whose `job` is the foreman-bound job machine; `close()` ends everything it made.
 */
export async function startForemanFixture(prefix: string, serverOptions: Partial<ForemanServerOptions> = {}) {
  const server: ForemanServer = await startForemanServer({ token: TOKEN, webhookSecret: WEBHOOK_SECRET, stepMs: 40, workers: 4, ...serverOptions });
  const db = tempDb();
  const store: SqliteStore = openSqliteStore(db.path);
  const diagnostics: ForemanDiagnostic[] = [];
  const systems: ActorSystem[] = [];
  const receivers: WebhookReceiver[] = [];
  let n = 0;

  async function makeReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
    // No signature option: the receiver's default header is the one foreman signs in.
    const r = createWebhookReceiver({ secret: WEBHOOK_SECRET, ...options });
    receivers.push(r);
    await r.listen();
    return r;
  }
  const receiver = await makeReceiver();
  function makeSystem(binding: Partial<ForemanBindingOptions> = {}, on: SqliteStore = store): ActorSystem {
    const s = createActorSystem({
      store: on,
      machines: { job: foremanJobMachine({ url: server.url, token: TOKEN, receiver, onDiagnostic: (d) => diagnostics.push(d), ...binding }) },
      onError: () => {},
    });
    systems.push(s);
    return s;
  }
  const system = makeSystem();
  /** The machine the streams record (a binding's options do not change its hash): what replays them. */
  const machine = foremanJobMachine({ url: server.url, token: TOKEN, receiver });
  const events = (id: string): EventRecord[] => store.readStream(id);

  return {
    server,
    store,
    db,
    receiver,
    system,
    machine,
    diagnostics,
    makeSystem,
    makeReceiver,
    events,
    nextId: () => `${prefix}-${++n}`,
    chat: (content: string) => ({ model: 'llama3:8b', messages: [{ role: 'user', content }] }),
    fast: { pollIntervalMs: 40, retryDelayMs: 20, timeoutMs: 20_000 },
    updates: (id: string, source?: string) => events(id).filter((r) => r.type === 'job.update' && (!source || r.meta.source === source)),
    stateOf: (r: { data: unknown }) => (r.data as { update: { remoteState: string } }).update.remoteState,
    finalValue: (id: string) => (store.loadSnapshot(id)!.snapshot as { state: { value: string; context: Record<string, unknown> } }).state,
    async expectReplayEqualsLive(id: string) {
      const v = await verifyReplay(store, machine, id);
      expect(v, id).toMatchObject({ ok: true });
      expect(v.checked).toBeGreaterThan(0);
    },
    expectNoSecretsInLog() {
      for (const file of [db.path, `${db.path}-wal`, `${db.path}-shm`]) {
        if (!existsSync(file)) continue;
        const bytes = readFileSync(file);
        for (const secret of [TOKEN, WEBHOOK_SECRET, 'SECRET']) expect(bytes.includes(secret), `${secret} in ${file}`).toBe(false);
      }
    },
    async close() {
      for (const s of systems) await s.close();
      for (const r of receivers) await r.close();
      store.close();
      await server.close();
      db.cleanup();
    },
  };
}

export type ForemanFixture = Awaited<ReturnType<typeof startForemanFixture>>;
