import { afterEach, describe, expect, it, vi } from 'vitest';
import { assign, createMachine, enqueueActions, fromPromise, raise, setup, type AnyStateMachine } from 'xstate';
import { isActorlogError, machineHash } from '../../src/index.ts';
import { createRegistry } from '../../src/cli/registry.ts';
import type { StreamRecord } from '../../src/log/types.ts';

/** A function made from its source text, so the test controls exactly what `toString()` returns. */
const fn = (source: string): never => new Function(`return (${source});`)() as never;

/** A user machine with one of each kind of implementation; `parts` replaces any of their sources. */
function userMachine(parts: Partial<Record<'guard' | 'inlineAssign' | 'action' | 'actor' | 'delay', string>> = {}): AnyStateMachine {
  const src = {
    guard: '({ context }) => context.count < 3',
    inlineAssign: '({ context }) => context.count + 1',
    action: '({ context }) => console.log(context.count)',
    actor: 'async ({ input }) => input.n * 2',
    delay: '({ context }) => context.count * 100',
    ...parts,
  };
  return setup({
    types: { context: {} as { count: number } },
    guards: { canCount: fn(src.guard) },
    actions: { report: fn(src.action) },
    actors: { double: fromPromise(fn(src.actor)) },
    delays: { backoff: fn(src.delay) },
  }).createMachine({
    id: 'user',
    context: { count: 0 },
    initial: 'idle',
    states: {
      idle: { on: { go: { guard: 'canCount', target: 'busy', actions: [assign({ count: fn(src.inlineAssign) }), 'report'] } } },
      busy: { invoke: { id: 'double', src: 'double', input: { n: 2 }, onDone: 'waiting' } },
      waiting: { after: { backoff: 'idle' } },
    },
  });
}

const streamOf = (machine: AnyStateMachine, name: string): StreamRecord =>
  ({ streamId: `${name}-1`, machine: { name, hash: machineHash(machine) }, input: {}, status: 'active', version: 0, createdAt: 0, updatedAt: 0 }) as StreamRecord;

describe('machineHash covers the code a machine runs (issue 8 item 8)', () => {
  it('is 16 hex chars, and equal for two machines built from the same code', () => {
    expect(machineHash(userMachine())).toMatch(/^[0-9a-f]{16}$/);
    expect(machineHash(userMachine())).toBe(machineHash(userMachine()));
  });

  it.each([
    ['a setup guard body', { guard: '({ context }) => context.count < 4' }],
    ['an inline assign body', { inlineAssign: '({ context }) => context.count + 2' }],
    ['a setup action body', { action: '({ context }) => console.warn(context.count)' }],
    ['a promise actor body', { actor: 'async ({ input }) => input.n * 3' }],
    ['a delay function', { delay: '({ context }) => context.count * 200' }],
  ])('changes when %s is edited', (_what, parts) => {
    expect(machineHash(userMachine(parts))).not.toBe(machineHash(userMachine()));
  });

  it('does not change for whitespace, comments or a loader rewriting imports (vitest, esbuild CommonJS)', () => {
    const spaced = userMachine({
      guard: '({context})=>context.count<3',
      inlineAssign: '({ context }) =>\n    // one more\n    context.count + 1',
      action: '({ context }) => /* why */ console.log( context.count )',
    });
    expect(machineHash(spaced)).toBe(machineHash(userMachine()));
    const plain = userMachine({ delay: '({ context }) => backoffMs(context, context.count)' });
    expect(machineHash(userMachine({ delay: '({ context }) => (0, __vite_ssr_import_3__.backoffMs)(context, context.count)' }))).toBe(machineHash(plain));
    expect(machineHash(userMachine({ delay: '({context})=>(0,import_context.backoffMs)(context,context.count)' }))).toBe(machineHash(plain));
  });

  it("hashes XState's action and guard creators by their payload, not by XState's own code", () => {
    const withAction = (action: unknown) => createMachine({ id: 'm', initial: 'a', states: { a: { on: { go: { actions: action as never } } } } });
    expect(machineHash(withAction(raise({ type: 'one' })))).not.toBe(machineHash(withAction(raise({ type: 'two' }))));
    expect(machineHash(withAction(assign({ n: 1 })))).not.toBe(machineHash(withAction(assign({ n: 2 }))));
    const queue = (body: string) => withAction(enqueueActions(fn(body)));
    expect(machineHash(queue("({ enqueue }) => enqueue.raise({ type: 'a' })"))).not.toBe(machineHash(queue("({ enqueue }) => enqueue.raise({ type: 'b' })")));
    // the same creator and payload with another XState build's `resolve` (an xstate upgrade): same hash
    const creator = (resolve: string) => Object.assign(fn('function assign(_args, _params) {}'), { type: 'xstate.assign', assignment: { n: 1 }, resolve: fn(resolve) });
    expect(machineHash(withAction(creator('(scope) => [scope, 1]')))).toBe(machineHash(withAction(creator('(scope, state) => { return [state, scope]; }'))));
  });

  it('hashes a child machine recursively, and stops at a cycle', () => {
    const child = (guard: string) => setup({ guards: { ok: fn(guard) } }).createMachine({ id: 'child', initial: 'a', states: { a: { on: { go: { guard: 'ok', target: 'b' } } }, b: {} } });
    const parent = (c: AnyStateMachine) => createMachine({ id: 'parent', invoke: { id: 'c', src: c } });
    expect(machineHash(parent(child('() => true')))).not.toBe(machineHash(parent(child('() => false'))));
    expect(machineHash(parent(child('() => true')))).toBe(machineHash(parent(child('() => true'))));
    const looped = setup({ actors: { self: fromPromise(async () => 1) } }).createMachine({ id: 'self', invoke: { src: 'self' } });
    (looped.implementations.actors as Record<string, unknown>).self = looped;
    expect(machineHash(looped)).toMatch(/^[0-9a-f]{16}$/);
  });

  it("does not see a closure's captured values: a2aJobMachine({ url }) hashes alike for two URLs", async () => {
    const { a2aJobMachine } = await import('../../machines/a2a/index.ts');
    expect(machineHash(a2aJobMachine({ url: 'http://127.0.0.1:1' }))).toBe(machineHash(a2aJobMachine({ url: 'http://10.0.0.2:8080/a2a' })));
  });
});

describe('each shipped machine has a stable hash across two imports', () => {
  afterEach(() => vi.resetModules());
  const url = 'http://127.0.0.1:9';
  const load = async (): Promise<Record<string, AnyStateMachine>> => ({
    job: (await import('../../machines/job/machine.ts')).jobMachine,
    session: (await import('../../machines/session/machine.ts')).sessionMachine,
    connection: (await import('../../machines/connection/machine.ts')).connectionMachine,
    worker: (await import('../../machines/ironclaw/machine.ts')).workerMachine,
    a2a: (await import('../../machines/a2a/index.ts')).a2aJobMachine({ url }),
    foreman: (await import('../../machines/foreman/index.ts')).foremanJobMachine({ url }),
    opencode: (await import('../../machines/opencode/index.ts')).opencodeSessionMachine({ url }),
    mcp: (await import('../../machines/mcp/index.ts')).mcpSessionMachine({ url }),
    molecule: (await import('../../machines/molecule/index.ts')).moleculeConnectionMachine({ apiUrl: url, token: 't', backend: async () => undefined as never }),
    yoi: (await import('../../machines/yoi/index.ts')).yoiConnectionMachine(),
    ironclaw: (await import('../../machines/ironclaw/index.ts')).ironclawWorkerMachine({ orchestratorUrl: url, jobId: 'j', token: 't' }),
  });

  it('job, session, connection, worker and every binding', async () => {
    const first = await load();
    vi.resetModules();
    const second = await load();
    for (const name of Object.keys(first)) {
      expect(second[name], name).not.toBe(first[name]); // a fresh module evaluation: new functions, same code
      expect(machineHash(second[name]!), name).toBe(machineHash(first[name]!));
    }
  });
});

describe('the CLI registry and the hash', () => {
  it('matches a stream written by a shipped binding to its built-in name', async () => {
    const { a2aJobMachine } = await import('../../machines/a2a/index.ts');
    const { yoiConnectionMachine } = await import('../../machines/yoi/index.ts');
    const written: Array<[string, AnyStateMachine]> = [
      ['job', a2aJobMachine({ url: 'http://127.0.0.1:1' })],
      ['yoi', yoiConnectionMachine({ onEvent: async () => undefined, headers: { authorization: 'Bearer t' } })],
      ['yoi', yoiConnectionMachine()],
    ];
    for (const [name, live] of written) {
      const { machine, mismatch } = await createRegistry().resolve(streamOf(live, name));
      expect(mismatch, name).toBeUndefined();
      expect(machineHash(machine), name).toBe(machineHash(live));
    }
  });

  it('refuses a stream of an edited machine with MACHINE_MISMATCH, unless ignoreHash', async () => {
    const registry = createRegistry({ user: userMachine({ guard: '({ context }) => context.count <= 3' }) });
    const stream = streamOf(userMachine(), 'user');
    const refused = await registry.resolve(stream).catch((e: unknown) => e);
    expect(isActorlogError(refused, 'MACHINE_MISMATCH')).toBe(true);
    expect((await registry.resolve(stream, { ignoreHash: true })).mismatch).toEqual({ logged: stream.machine.hash, registered: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });
});
