import type { AppendResult } from '../../src/log/types.ts';
import { appendBatch, oneStatement } from './appendBatch.ts';
import { appendToStream } from './appendToStream.ts';
import type { Queryable } from './connection.ts';
import type { WriteBatch } from '../../src/log/types.ts';
import { saveDefinitions } from './definitions.ts';
import type { Fence } from './fence.ts';
import { consumeMessages, postMessages } from './inbox.ts';
import { saveSnapshot } from './snapshots.ts';
import { createStream, passivateStreams, setStreamStatus } from './streams.ts';

/** What {@link applyBatch} wrote: the append results and the transaction's id (when it appended). */
export interface Applied {
  results: AppendResult[];
  /** xid8 of the transaction, decimal, when it appended events; undefined otherwise. */
  transactionId: string | undefined;
}

/**
 * Applies a {@link WriteBatch} on one client inside the caller's transaction (or, for a batch of one
 * statement, on the pool: `inTransaction` false), in the contract's
 * order: definitions (one statement), streams, appends (one fenced statement for all the streams,
 * see appendBatch.ts; request by request when the batch has an empty or non-contiguous one), messages
 * (one statement), consumed (one statement), snapshots, statuses, passivations (one statement). The first error is thrown as it
 * is (an ActorlogError: STREAM_EXISTS, VERSION_CONFLICT, STREAM_NOT_FOUND, LEASE_LOST,
 * ACTOR_STOPPED, APPEND_FAILED…); the caller rolls the transaction back, so nothing of the batch stays.
 *
 * @example
 * ```ts
 * await connection.transaction('write', (client) => applyBatch(client, true, S, fence, 10, { streams: [s], appends: [a] }));
 * ```
 */
export async function applyBatch(
  client: Queryable,
  inTransaction: boolean,
  S: string,
  fence: Fence,
  keepSnapshots: number,
  batch: WriteBatch,
): Promise<Applied> {
  await saveDefinitions(client, S, batch.definitions ?? []);
  for (const stream of batch.streams ?? []) await createStream(client, S, fence, stream);
  const results: AppendResult[] = [];
  let transactionId: string | undefined;
  const appends = batch.appends ?? [];
  if (oneStatement(appends)) {
    const appended = await appendBatch(client, S, fence, appends, inTransaction);
    results.push(...appended.map((a) => a.result));
    transactionId = appended[0]!.transactionId;
  } else {
    for (const request of appends) {
      const appended = await appendToStream(client, S, fence, request.streamId, request.expectedVersion, request.events, inTransaction);
      results.push(appended.result);
      if (request.events.length > 0) transactionId = appended.transactionId;
    }
  }
  await postMessages(client, S, batch.messages ?? []);
  await consumeMessages(client, S, batch.consumed ?? []);
  for (const snapshot of batch.snapshots ?? []) await saveSnapshot(client, S, keepSnapshots, snapshot);
  for (const s of batch.statuses ?? []) await setStreamStatus(client, S, fence, s.streamId, s.status, s.at);
  await passivateStreams(client, S, fence, batch.passivations ?? []);
  return { results, transactionId };
}

/** How many statements {@link applyBatch} runs for `batch` (a batch of one statement needs no BEGIN/COMMIT). */
export function statementCount(batch: WriteBatch): number {
  return (
    (batch.definitions?.length ? 1 : 0) +
    (batch.streams?.length ?? 0) +
    (batch.appends === undefined || batch.appends.length === 0 ? 0 : oneStatement(batch.appends) ? 1 : batch.appends.length) +
    (batch.messages?.length ? 1 : 0) +
    (batch.consumed?.length ? 1 : 0) +
    (batch.snapshots?.length ?? 0) +
    (batch.statuses?.length ?? 0) +
    // one statement, but a refused stream is found after it: always inside a transaction, so nothing stays
    (batch.passivations?.length ? 2 : 0)
  );
}
