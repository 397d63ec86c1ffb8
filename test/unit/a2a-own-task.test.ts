import { describe, expect, it } from 'vitest';
import { notOurTask } from '../../machines/a2a/ownTask.ts';

const user = (messageId: string, text: string) => ({ kind: 'message' as const, role: 'user' as const, messageId, parts: [{ kind: 'text' as const, text }] });

describe('A2A: the task answered to message/send is ours (issue 16 item 12)', () => {
  it('is ours when its history holds our messageId with our text, or when it has no history to tell', () => {
    expect(notOurTask({ id: 't1', history: [user('job-1:m1', 'summarise')] }, { messageId: 'job-1:m1', text: 'summarise' })).toBeUndefined();
    expect(notOurTask({ id: 't1' }, { messageId: 'job-1:m1', text: 'summarise' })).toBeUndefined();
    expect(notOurTask({ id: 't1', history: [] }, { messageId: 'job-1:m1', text: 'summarise' })).toBeUndefined();
    expect(notOurTask({ id: 't1', history: [{ ...user('a-1', 'an answer'), role: 'agent' }] }, { messageId: 'job-1:m1', text: 'summarise' })).toBeUndefined(); // no user message: cannot tell
    // an agent message in the history (its answer) does not count as the message the task was made for
    expect(
      notOurTask(
        { id: 't1', history: [user('job-1:m1', 'summarise'), { ...user('a-1', 'done'), role: 'agent' }] },
        { messageId: 'job-1:m1', text: 'summarise' },
      ),
    ).toBeUndefined();
  });

  it('is not ours when no message carries our messageId, or when one does with another text (another sender reused the id)', () => {
    expect(notOurTask({ id: 't1', history: [user('job-9:m1', 'translate')] }, { messageId: 'job-1:m1', text: 'summarise' })).toBe(
      'task t1 holds no message with our messageId "job-1:m1" (the agent answered with another task): not ours',
    );
    expect(notOurTask({ id: 't1', history: [user('job-1:m1', 'translate')] }, { messageId: 'job-1:m1', text: 'summarise' })).toBe(
      'task t1 was made for another message with messageId "job-1:m1" (another sender reused it): not ours',
    );
  });
});
