import { Subject, type Observable } from 'rxjs';
import { ActorlogError } from '../../src/errors.ts';
import type { StreamRecord } from '../../src/log/types.ts';
import type { Connection } from './connection.ts';
import type { StreamOwnership } from '../../src/log/types.ts';
import { NO_OWNER, type Fence } from './fence.ts';
import { STREAM_COLUMNS, toStreamRecord, type StreamRow } from './rows.ts';

/** Settings of {@link PostgresOwnership} (index.ts validates them). */
export interface OwnershipSettings {
  /** This store's node id (stable for the store: each `register()` gives it a new epoch). */
  nodeId: string;
  /** A node whose heartbeat is older than this (ms, database clock) has lost its streams. */
  leaseMs: number;
  /** Heartbeat period once registered (ms); 0: only when `heartbeat()` is called. */
  heartbeatMs: number;
}

/**
 * Fenced ownership of streams by node incarnations (PostgreSQL). One `nodes` row per node id holds
 * its current epoch (from the `node_epoch` sequence: a new one at every `register()`) and its
 * heartbeat time (`now()`, the database clock; no process clock is ever compared). Every active
 * stream carries `owner_node` / `owner_epoch`; the store's appends and status changes are refused
 * (`LEASE_LOST`) on a stream whose owner is not exactly this node and epoch.
 *
 * - `register()` starts a new incarnation: a new epoch for this node id. Streams of its previous
 *   epoch are orphans at once (any node may claim them, this one too).
 * - `heartbeat()` renews the lease (`heartbeat_at = now()`), or throws `LEASE_LOST` when the epoch
 *   was superseded or the lease had already expired (older than `leaseMs` by the database clock): the
 *   node must stop its actors, `register()` again and claim. `node` is then undefined.
 * - `claimOrphans(limit)` moves to this node, in one statement (`FOR UPDATE SKIP LOCKED`, `limit`
 *   rows at most), active streams whose owner is nobody, a node without a row, a superseded epoch,
 *   or a node whose heartbeat is older than `leaseMs`. Two nodes claiming at once get disjoint sets.
 * - `release(streamIds)` gives this node's streams up (owner NULL): others may claim them at once.
 * - With `heartbeatMs > 0` the store heartbeats by itself after `register()`; a lost lease is
 *   emitted on `lost` (and `node` becomes undefined). Errors of the connection are retried at the
 *   next beat.
 *
 * @example
 * ```ts
 * const store = await openPostgresStore(url, { leaseMs: 10_000, heartbeatMs: 3_000 });
 * await store.ownership!.register();
 * store.ownership!.lost.subscribe(() => stopEveryActor());
 * for (const stream of await store.ownership!.claimOrphans(100)) await recover(stream);
 * ```
 */
export class PostgresOwnership implements StreamOwnership {
  readonly leaseMs: number;
  readonly nodeId: string;
  private current: { nodeId: string; epoch: number } | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly lostSubject = new Subject<ActorlogError>();
  /** Emits the `LEASE_LOST` error when the automatic heartbeat finds the lease lost. */
  readonly lost: Observable<ActorlogError> = this.lostSubject.asObservable();

  constructor(
    private readonly connection: Connection,
    private readonly S: string,
    private readonly settings: OwnershipSettings,
    private readonly assertOpen: () => void,
  ) {
    this.leaseMs = settings.leaseMs;
    this.nodeId = settings.nodeId;
  }

  /** This store's current node incarnation, or undefined before `register()` or after a lost lease. */
  get node(): { nodeId: string; epoch: number } | undefined {
    return this.current === undefined ? undefined : { ...this.current };
  }

  /** The fencing token of the store's writes. */
  fence(): Fence {
    return this.current === undefined ? NO_OWNER : { node: this.current.nodeId, epoch: this.current.epoch };
  }

  /**
   * Starts a new incarnation of this node: a new epoch from the sequence, heartbeat now.
   * @returns the node id and its new epoch
   * @throws ActorlogError `STORE_UNAVAILABLE` (closed store, connection)
   */
  async register(): Promise<{ nodeId: string; epoch: number }> {
    this.assertOpen();
    const { rows } = await this.connection.query<{ epoch: string }>(
      'register this node',
      `INSERT INTO ${this.S}.nodes (node_id, epoch, heartbeat_at) VALUES ($1, nextval('${this.S}.node_epoch'), now())
       ON CONFLICT (node_id) DO UPDATE SET epoch = excluded.epoch, heartbeat_at = now() RETURNING epoch`,
      [this.nodeId],
    );
    this.current = { nodeId: this.nodeId, epoch: Number(rows[0]!.epoch) };
    this.startBeating();
    return { ...this.current };
  }

  /**
   * Renews this node's lease by the database clock.
   * @throws ActorlogError `LEASE_LOST` (details `{ nodeId, epoch, reason: 'superseded' | 'expired' | 'not registered' }`)
   *   when there is no incarnation, its epoch was superseded or its lease expired; `STORE_UNAVAILABLE`
   */
  async heartbeat(): Promise<void> {
    this.assertOpen();
    const node = this.current;
    if (node === undefined)
      throw new ActorlogError('LEASE_LOST', 'this store has no node incarnation: register() first', {
        details: { nodeId: this.nodeId, reason: 'not registered' },
      });
    const { rows } = await this.connection.query<{ renewed: boolean }>(
      'renew the lease',
      `UPDATE ${this.S}.nodes SET heartbeat_at = now()
       WHERE node_id = $1 AND epoch = $2 AND heartbeat_at >= now() - $3 * interval '1 millisecond' RETURNING true AS renewed`,
      [node.nodeId, node.epoch, this.leaseMs],
    );
    if (rows.length > 0) return;
    const row = (await this.connection.query<{ epoch: string }>('read this node', `SELECT epoch FROM ${this.S}.nodes WHERE node_id = $1`, [node.nodeId]))
      .rows[0];
    const reason = row !== undefined && Number(row.epoch) === node.epoch ? 'expired' : 'superseded';
    if (this.current === node) this.forget();
    throw new ActorlogError('LEASE_LOST', `node ${node.nodeId} epoch ${node.epoch} lost its lease (${reason}): stop its actors, register again and claim`, {
      details: { nodeId: node.nodeId, epoch: node.epoch, reason },
    });
  }

  /**
   * Claims up to `limit` orphaned active streams for this node (see the class doc), in creation order.
   * @returns the claimed streams, now owned by this node and epoch
   * @throws ActorlogError `LEASE_LOST` when not registered; `INVALID_OPTIONS` for a bad `limit`; `STORE_UNAVAILABLE`
   */
  async claimOrphans(limit: number): Promise<StreamRecord[]> {
    this.assertOpen();
    if (!Number.isInteger(limit) || limit < 0)
      throw new ActorlogError('INVALID_OPTIONS', `limit must be an integer >= 0, not ${String(limit)}`, { details: { limit } });
    const node = this.current;
    if (node === undefined)
      throw new ActorlogError('LEASE_LOST', 'this store has no node incarnation: register() first', {
        details: { nodeId: this.nodeId, reason: 'not registered' },
      });
    if (limit === 0) return [];
    // The liveness test is a scalar correlated subquery, which stays a subplan: when a row locked here
    // was claimed by another node after this statement's snapshot, PostgreSQL re-checks the row's new
    // version (READ COMMITTED) and re-runs the subplan for its new owner, so a stream just claimed by
    // a live node is skipped. (A NOT EXISTS would become an anti-join, whose re-check does not look at
    // the nodes table again: the stream would be taken twice; the concurrency test catches that.)
    const { rows } = await this.connection.query<StreamRow>(
      'claim orphaned streams',
      `UPDATE ${this.S}.streams s SET owner_node = $1, owner_epoch = $2
       WHERE s.stream_id IN (
         SELECT o.stream_id FROM ${this.S}.streams o
         WHERE o.status = 'active' AND o.passivated_at IS NULL
           AND COALESCE(
             (SELECT n.heartbeat_at FROM ${this.S}.nodes n WHERE n.node_id = o.owner_node AND n.epoch = o.owner_epoch),
             '-infinity') < now() - $3 * interval '1 millisecond'
         ORDER BY o.seq LIMIT $4 FOR UPDATE OF o SKIP LOCKED)
       RETURNING ${STREAM_COLUMNS.split(', ')
         .map((c) => `s.${c}`)
         .join(', ')}, s.seq`,
      [node.nodeId, node.epoch, this.leaseMs, limit],
    );
    return (rows as Array<StreamRow & { seq: string }>).sort((a, b) => Number(a.seq) - Number(b.seq)).map(toStreamRecord);
  }

  /**
   * Gives up this node's ownership of `streamIds` (owner NULL); streams it does not own are left alone.
   * @throws ActorlogError `STORE_UNAVAILABLE`
   */
  async release(streamIds: string[]): Promise<void> {
    this.assertOpen();
    const node = this.current;
    if (node === undefined || streamIds.length === 0) return;
    await this.connection.query(
      'release streams',
      `UPDATE ${this.S}.streams SET owner_node = NULL, owner_epoch = NULL WHERE stream_id = ANY($1::text[]) AND owner_node = $2 AND owner_epoch = $3`,
      [streamIds, node.nodeId, node.epoch],
      'APPEND_FAILED',
    );
  }

  private startBeating(): void {
    if (this.settings.heartbeatMs <= 0 || this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.heartbeat().catch((err: unknown) => {
        if (err instanceof ActorlogError && err.code === 'LEASE_LOST') this.lostSubject.next(err);
        // other failures (the connection): the next beat tries again; an expired lease is then 'LEASE_LOST'
      });
    }, this.settings.heartbeatMs);
    this.timer.unref();
  }

  /** Drops the incarnation (lease lost): the store's writes are then fenced as an unregistered store's. */
  private forget(): void {
    this.current = undefined;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops the heartbeat and completes `lost` (store close). */
  close(): void {
    this.forget();
    this.lostSubject.complete();
  }
}
