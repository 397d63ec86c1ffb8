import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { assign, createMachine, enqueueActions, fromCallback, fromObservable, fromPromise, fromTransition, raise, setup, type AnyStateMachine } from 'xstate';
import { isActorlogError, machineHash } from '../../src/index.ts';
import { createRegistry } from '../../cli/registry.ts';
import type { StreamRecord } from '../../src/log/types.ts';
import { loadShippedMachines, shippedMachineHashes } from '../support/shippedMachines.ts';

const run = promisify(execFile);

/** A function made from its source text, so the test controls exactly what `toString()` returns. */
// oxlint-disable-next-line typescript/no-implied-eval -- making a function from source text is what this helper is for
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
  ({
    streamId: `${name}-1`,
    machine: { name, hash: machineHash(machine) },
    input: {},
    status: 'active',
    version: 0,
    createdAt: 0,
    updatedAt: 0,
  }) as StreamRecord;

describe('machineHash covers the code a machine runs', () => {
  it('is 16 hex chars, and equal for two machines built from the same code', () => {
    expect(machineHash(userMachine())).toMatch(/^[0-9a-f]{16}$/);
    expect(machineHash(userMachine())).toBe(machineHash(userMachine()));
  });

  it.each([
    ['a setup guard body', { guard: '({ context }) => context.count < 4' }],
    ['an inline assign body', { inlineAssign: '({ context }) => context.count + 2' }],
    ['a setup action body', { action: '({ context }) => console.warn(context.count)' }],
    ['a delay function', { delay: '({ context }) => context.count * 200' }],
  ])('changes when %s is edited', (_what, parts) => {
    expect(machineHash(userMachine(parts))).not.toBe(machineHash(userMachine()));
  });

  it("does not change when an I/O actor's body is edited (the fold never runs it), but does for a reducer the fold runs", () => {
    // a fix inside the body of a promise, callback or observable actor keeps every stream resumable
    expect(machineHash(userMachine({ actor: 'async ({ input }) => input.n * 3' }))).toBe(machineHash(userMachine()));
    const withChild = (logic: unknown) => createMachine({ id: 'm', invoke: { id: 'c', src: logic as never, input: { n: 1 } } });
    expect(machineHash(withChild(fromCallback(fn("({ sendBack }) => sendBack({ type: 'a' })"))))).toBe(
      machineHash(withChild(fromCallback(fn("({ sendBack }) => sendBack({ type: 'b' })")))),
    );
    expect(machineHash(withChild(fromObservable(fn('() => of(1)'))))).toBe(machineHash(withChild(fromObservable(fn('() => of(2)')))));
    // what the machine does with it still counts: the invoke's input mapper
    const mapped = (input: string) => createMachine({ id: 'm', invoke: { id: 'c', src: fromPromise(async () => 1), input: fn(input) } });
    expect(machineHash(mapped('({ context }) => context.a'))).not.toBe(machineHash(mapped('({ context }) => context.b')));
    // a fromTransition reducer is folded: its function counts
    const reducer = (body: string) => withChild(fromTransition(fn(body), { n: 0 }));
    expect(machineHash(reducer('(s) => ({ n: s.n + 1 })'))).not.toBe(machineHash(reducer('(s) => ({ n: s.n + 2 })')));
  });

  it('does not change for whitespace, comments or a loader rewriting imports (vitest, esbuild CommonJS)', () => {
    const spaced = userMachine({
      guard: '({context})=>context.count<3',
      inlineAssign: '({ context }) =>\n    // one more\n    context.count + 1',
      action: '({ context }) => /* why */ console.log( context.count )',
    });
    expect(machineHash(spaced)).toBe(machineHash(userMachine()));
    expect(machineHash(userMachine({ actor: 'async ({ input }) => ({ n: input.n })' }))).toBe(
      machineHash(userMachine({ actor: 'async ({ input: input }) => ({ n: input.n })' })),
    );
    const plain = userMachine({ delay: '({ context }) => backoffMs(context, context.count)' });
    expect(machineHash(userMachine({ delay: '({ context }) => (0, __vite_ssr_import_3__.backoffMs)(context, context.count)' }))).toBe(machineHash(plain));
    expect(machineHash(userMachine({ delay: '({context})=>(0,import_context.backoffMs)(context,context.count)' }))).toBe(machineHash(plain));
  });

  it('does not change between the texts tsc, tsx and vitest print for one source', () => {
    // one source as each prints it (copied from real output): tsc keeps the author's parentheses,
    // quotes and numbers; tsx (esbuild, keepNames) adds __name(…), writes void 0, drops `()` after
    // `new` and around one arrow parameter; vitest leaves a `;` after a block.
    const printed = {
      tsc: `({ input }) => {
        const done = (reply) => (reply === undefined ? undefined : reply);
        function inner(x) { return x; }
        class Local {
            static make() { return new Local(); }
        }
        if (input.n > 0) {
            return [];
        }
        return [done, inner, Local, { ...(input.n !== undefined ? { n: input.n } : {}), s: 'it\\'s', h: 0xff, big: 1_000 }, new AbortController()];
    }`,
      tsx: `({input})=>{const done=__name(reply=>reply===void 0?void 0:reply,"done");function inner(x){return x}__name(inner,"inner");class Local{static{__name(this,"Local")}static make(){return new Local}}if(input.n>0){return[]}return[done,inner,Local,{...input.n!==void 0?{n:input.n}:{},s:"it's",h:255,big:1e3},new AbortController]}`,
      vitest: `({ input }) => {\n\t\tconst done = (reply) => reply === undefined ? undefined : reply;\n\t\tfunction inner(x) {\n\t\t\treturn x;\n\t\t}\n\t\tclass Local {\n\t\t\tstatic make() {\n\t\t\t\treturn new Local();\n\t\t\t}\n\t\t}\n\t\tif (input.n > 0) {\n\t\t\treturn [];\n\t\t};\n\t\treturn [\n\t\t\tdone,\n\t\t\tinner,\n\t\t\tLocal,\n\t\t\t{\n\t\t\t\t...input.n !== undefined ? { n: input.n } : {},\n\t\t\t\ts: "it's",\n\t\t\t\th: 255,\n\t\t\t\tbig: 1e3\n\t\t\t},\n\t\t\tnew AbortController()\n\t\t];\n\t}`,
    };
    expect(machineHash(userMachine({ action: printed.tsx })), 'tsx').toBe(machineHash(userMachine({ action: printed.tsc })));
    expect(machineHash(userMachine({ action: printed.vitest })), 'vitest').toBe(machineHash(userMachine({ action: printed.tsc })));
    // a method's text (`report(x) { … }`, not an expression) is canonical too
    const method = (text: string) => setup({ actions: { report: fn(`({ ${text} }).report`) } }).createMachine({ id: 'm', entry: 'report' });
    expect(machineHash(method('report(x){return x}'))).toBe(machineHash(method('report(x) {\n  return x; // same\n}')));
    expect(machineHash(method('report(x){return x}'))).not.toBe(machineHash(method('report(x){return -x}')));
  });

  it('still changes when parentheses, a string or a number change what the code does', () => {
    const hashOf = (delay: string) => machineHash(userMachine({ delay }));
    expect(hashOf('({ context }) => (context.count + 1) * 100')).not.toBe(hashOf('({ context }) => context.count + 1 * 100'));
    expect(hashOf("({ context }) => context.count * 100 + 'ms'")).not.toBe(hashOf("({ context }) => context.count * 100 + 's'"));
    expect(hashOf('({ context }) => context.count * 0x100')).not.toBe(hashOf('({ context }) => context.count * 100'));
    expect(hashOf('({ context }) => void context.count')).not.toBe(hashOf('({ context }) => undefined'));
  });

  it("hashes XState's action and guard creators by their payload, not by XState's own code", () => {
    const withAction = (action: unknown) => createMachine({ id: 'm', initial: 'a', states: { a: { on: { go: { actions: action as never } } } } });
    expect(machineHash(withAction(raise({ type: 'one' })))).not.toBe(machineHash(withAction(raise({ type: 'two' }))));
    expect(machineHash(withAction(assign({ n: 1 })))).not.toBe(machineHash(withAction(assign({ n: 2 }))));
    const queue = (body: string) => withAction(enqueueActions(fn(body)));
    expect(machineHash(queue("({ enqueue }) => enqueue.raise({ type: 'a' })"))).not.toBe(machineHash(queue("({ enqueue }) => enqueue.raise({ type: 'b' })")));
    // the same creator and payload with another XState build's `resolve` (an xstate upgrade): same hash
    const creator = (resolve: string) =>
      Object.assign(fn('function assign(_args, _params) {}'), { type: 'xstate.assign', assignment: { n: 1 }, resolve: fn(resolve) });
    expect(machineHash(withAction(creator('(scope) => [scope, 1]')))).toBe(machineHash(withAction(creator('(scope, state) => { return [state, scope]; }'))));
  });

  it('hashes a child machine recursively, and stops at a cycle', () => {
    const child = (guard: string) =>
      setup({ guards: { ok: fn(guard) } }).createMachine({ id: 'child', initial: 'a', states: { a: { on: { go: { guard: 'ok', target: 'b' } } }, b: {} } });
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

describe('each shipped machine has a stable hash', () => {
  afterEach(() => vi.resetModules());

  it('across two imports: job, session, connection, worker and every binding', async () => {
    const first = await loadShippedMachines();
    vi.resetModules();
    const second = await loadShippedMachines();
    for (const name of Object.keys(first)) {
      expect(second[name], name).not.toBe(first[name]); // a fresh module evaluation: new functions, same code
      expect(machineHash(second[name]!), name).toBe(machineHash(first[name]!));
    }
  });

  it('under tsx as under vitest (a log written by one loader replays under the other)', async () => {
    // tsx (esbuild, keepNames) and vitest print the same files differently: `__name(…)`, `void 0`, `x=>`
    const { stdout } = await run(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../support/shippedMachines.ts', import.meta.url))]);
    expect(JSON.parse(stdout)).toEqual(await shippedMachineHashes());
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
    expect((await registry.resolve(stream, { ignoreHash: true })).mismatch).toEqual({
      logged: stream.machine.hash,
      registered: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
  });
});
