import { ActorlogError } from '../../src/errors.ts';
import { keepRaw } from '../../src/transport/classify.ts';
import type { SendMessageArgs } from './client.ts';
import { messageText, type A2ATask } from './schemas.ts';

/**
 * Why a task answered to `message/send` is not the one made for our message, or `undefined` when it
 * is (or cannot be told: the agent returned no history). An agent that takes `messageId` as an
 * idempotency key answers a messageId it has seen with the task it made for it; when another sender
 * reused our messageId, or the agent mixed up ids, that task is someone else's, and following it would
 * end our job with another's answer. The task's `history` (A2A v0.3 §6.1) holds the
 * message it was made for: ours carries our messageId and our text.
 *
 * @example
 * notOurTask({ id: 't1', history: [{ messageId: 'job-1:m1', parts: [{ kind: 'text', text: 'other' }] }] }, { messageId: 'job-1:m1', text: 'ours' })
 * // 'task t1 was made for another message with messageId "job-1:m1" (another sender reused it): not ours'
 */
export function notOurTask(task: Pick<A2ATask, 'id' | 'history'>, args: Pick<SendMessageArgs, 'messageId' | 'text'>): string | undefined {
  const history = (task.history ?? []).filter((m) => m.role === 'user');
  if (history.length === 0) return undefined;
  const ours = history.find((m) => m.messageId === args.messageId);
  if (!ours) return `task ${task.id} holds no message with our messageId "${args.messageId}" (the agent answered with another task): not ours`;
  if ((messageText(ours) ?? '') !== args.text)
    return `task ${task.id} was made for another message with messageId "${args.messageId}" (another sender reused it): not ours`;
  return undefined;
}

/**
 * The error of a `message/send` answered with a task that is not ours ({@link notOurTask}):
 * `OUTCOME_UNKNOWN` (whether the agent handled our message is unknown; sending it again with the same
 * messageId would be answered the same), with the task kept raw for the `job.invalid` record.
 */
export function notOurTaskError(reason: string, task: A2ATask, messageId: string): ActorlogError {
  return new ActorlogError('OUTCOME_UNKNOWN', `A2A message/send: ${reason}; the job does not follow it and does not send again`, {
    details: { method: 'message/send', messageId, taskId: task.id, raw: keepRaw(JSON.stringify(task)), notOurTask: true },
  });
}
