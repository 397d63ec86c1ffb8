import { ActorlogError } from '../../src/errors.ts';
import type { Queryable } from './connection.ts';
import { wrapPgError } from './errors.ts';

/**
 * The writer's fencing token: the node incarnation the store is registered as, or none. Every append
 * (and status change) must match the stream row's `owner_node` / `owner_epoch` exactly: a registered
 * store writes only the streams it owns, an unregistered one only streams nobody owns.
 */
export interface Fence {
  node: string | null;
  epoch: number | null;
}

/** An unregistered store's token: it may write streams that have no owner. */
export const NO_OWNER: Fence = { node: null, epoch: null };

interface StreamState {
  version: string;
  status: string;
  owner_node: string | null;
  owner_epoch: string | null;
  position: string | null;
}

/** What {@link diagnose} found: the error to throw, or (nothing wrong any more) the position at `expectedVersion`. */
export type Diagnosis = { error: ActorlogError } | { ok: true; position: number };

/**
 * The follow-up read of a write the fenced statement refused (it affected no row): reads the stream
 * row once and names the reason, in this order:
 * - no stream: `STREAM_NOT_FOUND` (details `{ streamId }`);
 * - another owner, node or epoch (or an owner while this store is unregistered): `LEASE_LOST`
 *   (details `{ streamId, ownerNode, ownerEpoch, nodeId, epoch }`);
 * - a registered store and a stream that is not active: `ACTOR_STOPPED` (details `{ streamId, status }`);
 * - another version: `VERSION_CONFLICT` (details `{ streamId, expectedVersion, actualVersion }`).
 * When none holds (the row changed back between the statement and this read), it returns `ok` with
 * the global position of the stream's event at `expectedVersion` (0 when none), so the caller may retry.
 * Run inside the write's transaction, it sees that transaction's own earlier writes.
 */
export async function diagnose(q: Queryable, S: string, fence: Fence, streamId: string, expectedVersion: number | undefined): Promise<Diagnosis> {
  let rows: StreamState[];
  try {
    rows = (
      await q.query<StreamState>(
        `SELECT s.version, s.status, s.owner_node, s.owner_epoch,
       (SELECT e.global_position FROM ${S}.events e WHERE e.stream_id = s.stream_id AND e.version = $2) AS position
     FROM ${S}.streams s WHERE s.stream_id = $1`,
        [streamId, expectedVersion ?? 0],
      )
    ).rows;
  } catch (err) {
    throw wrapPgError(err, `read stream ${streamId}`, 'APPEND_FAILED', { streamId });
  }
  const row = rows[0];
  if (row === undefined) return { error: new ActorlogError('STREAM_NOT_FOUND', `no stream ${streamId}`, { details: { streamId } }) };
  const ownerEpoch = row.owner_epoch === null ? null : Number(row.owner_epoch);
  if (row.owner_node !== fence.node || ownerEpoch !== fence.epoch) {
    const owner = row.owner_node === null ? 'no node' : `node ${row.owner_node} (epoch ${ownerEpoch})`;
    const self = fence.node === null ? 'this store is not registered' : `this store is node ${fence.node} (epoch ${fence.epoch})`;
    return {
      error: new ActorlogError('LEASE_LOST', `stream ${streamId} is owned by ${owner}, and ${self}: nothing was written`, {
        details: { streamId, ownerNode: row.owner_node, ownerEpoch, nodeId: fence.node, epoch: fence.epoch },
      }),
    };
  }
  if (fence.node !== null && row.status !== 'active') {
    return {
      error: new ActorlogError('ACTOR_STOPPED', `stream ${streamId} has ended (${row.status}): nothing was written`, {
        details: { streamId, status: row.status },
      }),
    };
  }
  const actualVersion = Number(row.version);
  if (expectedVersion !== undefined && actualVersion !== expectedVersion) {
    return {
      error: new ActorlogError('VERSION_CONFLICT', `stream ${streamId} is at version ${actualVersion}, not ${expectedVersion}`, {
        details: { streamId, expectedVersion, actualVersion },
      }),
    };
  }
  return { ok: true, position: row.position === null ? 0 : Number(row.position) };
}
