import { createHash } from 'node:crypto';
import type { AnyStateMachine } from 'xstate';
import { canonicalSource } from './canonicalSource.ts';

const hashes = new WeakMap<AnyStateMachine, string>();
/** The canonical source text of each function hashed, kept while the function lives (bindings share most of theirs). */
const texts = new WeakMap<Function, string>();

/**
 * The hash of a machine's definition and of the code it runs: sha256 (hex, first 16 chars) over
 * - `machine.toJSON()` (states, transitions, names, invoke ids),
 * - `machine.config` walked whole: data such as a static `context`, and the source text of every
 *   inline function (guards, `assign` bodies, invoke `input` mappers, delay functions, `context`
 *   factories, inline actor logic),
 * - `machine.implementations` (`actions`, `guards`, `actors`, `delays` of `setup({...})`, and those
 *   given with `.provide()`): their source text, and their values where they are data.
 *
 * XState's own action and guard creators (`assign`, `raise`, `sendTo`, `enqueueActions`, `and`, `or`,
 * `not`, …) are hashed by their name and payload (`assignment`, `event`, `to`, `delay`, `id`,
 * `collect`, `guards`, …), never by XState's wrapper code, so upgrading xstate does not by itself
 * change a hash. A child machine is hashed recursively (cycles are cut), and a `fromTransition`
 * reducer by its function (the fold runs both).
 *
 * What the fold does not run does not count: the body of an I/O actor (`fromPromise`,
 * `fromCallback`, `fromObservable`, `fromEventObservable`: logic that is started, whose outcome the
 * log records as events) is hashed as "an I/O actor" only, so a fix inside a promise's or callback's
 * body (a new URL, a retry, a parser) keeps the hash and every stream resumes on the fixed code at
 * the next `recover()`, its in-flight call started again with the new body (issue 15 item 12). The
 * `input` mapper of its `invoke` and what is done with its output (`onDone`, `onError`) are the
 * machine's, and count.
 *
 * Source text is compared in a canonical form: parsed with acorn and printed back as its syntax
 * tree, with the loaders' rewrites undone (vitest's `__vite_ssr_import_N__.x`, esbuild's CommonJS
 * `(0, import_mod.x)`, tsx's `__name(…)` keepNames wrappers, esbuild's `void 0` for `undefined`), so
 * the same file loaded by tsx, by vitest or compiled by tsc hashes alike, and whitespace, comments,
 * grouping parentheses, quote styles and number spellings do not count. The one exception is a use of
 * a default or namespace import (`dflt(x)`, `ns.f(x)`): vitest's rewrite (and esbuild's CommonJS one,
 * for a default import) loses its local name, so such a function hashes differently there.
 * What the text cannot show does not count either: values a closure captures (so
 * `a2aJobMachine({ url })` hashes alike for every `url`), the bodies of helpers a function calls,
 * and `fromTransition`'s initial state. A stream records the hash; when the registered machine's
 * hash differs, recovery does what `onMachineChange` says (verify the new machine against the kept
 * snapshots, refuse, or accept), and `actorlog replay --ignore-hash` replays one anyway.
 *
 * @returns 16 lowercase hex characters (cached per machine object)
 * @example
 * ```ts
 * const before = machineHash(counterMachine);
 * machineHash(counterMachine.provide({ guards: { canInc: () => false } })) !== before; // true
 * ```
 */
export function machineHash(machine: AnyStateMachine): string {
  return hashOf(machine, new Set());
}

function hashOf(machine: AnyStateMachine, visiting: Set<object>): string {
  let hash = hashes.get(machine);
  if (hash) return hash;
  const walk = new Walk(visiting);
  visiting.add(machine);
  const tree = {
    definition: machine.toJSON(),
    config: walk.describe(machine.config),
    implementations: walk.describe(machine.implementations),
  };
  visiting.delete(machine);
  const text = JSON.stringify(tree) + '\n' + walk.sources.join('\n');
  hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  hashes.set(machine, hash);
  return hash;
}

/** XState's own functions on its action and guard creators: its code, not the user's. */
const XSTATE_INTERNALS = new Set(['resolve', 'execute', 'retryResolve', 'check']);

const isMachine = (v: object): v is AnyStateMachine => (v as { __xstatenode?: unknown }).__xstatenode === true && 'implementations' in v && 'root' in v;
const isActorLogic = (v: object): v is { config: unknown } =>
  typeof (v as { transition?: unknown }).transition === 'function' && typeof (v as { config?: unknown }).config === 'function';
/** Logic that is started and runs I/O (promise, callback, observable): the fold never runs it, its outcome is logged. */
const isIoLogic = (v: object): boolean => typeof (v as { start?: unknown }).start === 'function';

/** Turns a value into JSON data, each user function replaced by `{ fn: n }`, its canonical text in `sources[n]`. */
class Walk {
  readonly sources: string[] = [];
  private readonly seen = new Set<object>();
  constructor(private readonly visiting: Set<object>) {}

  describe(value: unknown): unknown {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return typeof value === 'bigint' ? String(value) : value;
    if (this.visiting.has(value)) return { cycle: true };
    if (isMachine(value)) return { machine: hashOf(value, this.visiting) };
    if (this.seen.has(value)) return { seen: true };
    this.seen.add(value);
    if (isActorLogic(value)) return isIoLogic(value) ? { io: true } : { logic: this.describe(value.config) };
    if (typeof value === 'function') return this.describeFunction(value);
    if (Array.isArray(value)) return value.map((v) => this.describe(v));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = this.describe((value as Record<string, unknown>)[key]);
    return out;
  }

  private describeFunction(fn: Function): unknown {
    const keys = Object.keys(fn).sort();
    const builtIn = keys.some((k) => XSTATE_INTERNALS.has(k));
    const out: Record<string, unknown> = builtIn ? { creator: (fn as { type?: unknown }).type ?? fn.name } : { fn: this.sources.push(textOf(fn)) - 1 };
    for (const key of keys) if (!XSTATE_INTERNALS.has(key)) out[`.${key}`] = this.describe((fn as unknown as Record<string, unknown>)[key]);
    return out;
  }
}

/** A function's source in canonical form ({@link canonicalSource}), made once per function object. */
function textOf(fn: Function): string {
  let text = texts.get(fn);
  if (text === undefined) texts.set(fn, (text = canonicalSource(Function.prototype.toString.call(fn))));
  return text;
}
