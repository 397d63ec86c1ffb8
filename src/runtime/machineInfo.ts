import { createHash } from 'node:crypto';
import { transformSync } from 'esbuild';
import type { AnyStateMachine } from 'xstate';

const hashes = new WeakMap<AnyStateMachine, string>();

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
 * change a hash. Actor logic (`fromPromise`, `fromCallback`, `fromObservable`, `fromEventObservable`,
 * `fromTransition`) is hashed by the user's function it keeps in `.config`; a child machine is
 * hashed recursively (cycles are cut).
 *
 * Source text is compared in a canonical form (re-printed minified by esbuild, after removing the
 * module-import rewrites of tsx, esbuild's CommonJS output and vitest), so the same file loaded by
 * tsx, by vitest or as plain JavaScript hashes alike, and whitespace or comments do not count.
 * What the text cannot show does not count either: values a closure captures (so
 * `a2aJobMachine({ url })` hashes alike for every `url`), the bodies of helpers a function calls,
 * and `fromTransition`'s initial state. A stream records the hash; recovery refuses a stream whose
 * hash differs (`MACHINE_MISMATCH`), and `actorlog replay --ignore-hash` replays one anyway, for a
 * deliberate migration.
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
  const text = JSON.stringify(tree) + '\n' + canonicalSources(walk.sources).join('\n');
  hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  hashes.set(machine, hash);
  return hash;
}

/** XState's own functions on its action and guard creators: its code, not the user's. */
const XSTATE_INTERNALS = new Set(['resolve', 'execute', 'retryResolve', 'check']);

const isMachine = (v: object): v is AnyStateMachine => (v as { __xstatenode?: unknown }).__xstatenode === true && 'implementations' in v && 'root' in v;
const isActorLogic = (v: object): v is { config: unknown } => typeof (v as { transition?: unknown }).transition === 'function' && typeof (v as { config?: unknown }).config === 'function';

/** Turns a value into JSON data, each user function replaced by `{ fn: n }`, its text in `sources[n]`. */
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
    if (isActorLogic(value)) return { logic: this.describe(value.config) };
    if (typeof value === 'function') return this.describeFunction(value);
    if (Array.isArray(value)) return value.map((v) => this.describe(v));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = this.describe((value as Record<string, unknown>)[key]);
    return out;
  }

  private describeFunction(fn: Function): unknown {
    const keys = Object.keys(fn).sort();
    const builtIn = keys.some((k) => XSTATE_INTERNALS.has(k));
    const out: Record<string, unknown> = builtIn ? { creator: (fn as { type?: unknown }).type ?? fn.name } : { fn: this.sources.push(Function.prototype.toString.call(fn)) - 1 };
    for (const key of keys) if (!XSTATE_INTERNALS.has(key)) out[`.${key}`] = this.describe((fn as unknown as Record<string, unknown>)[key]);
    return out;
  }
}

/**
 * How loaders rewrite a use of an imported binding `x`: vitest `(0, __vite_ssr_import_3__.x)` or
 * `__vite_ssr_import_3__.x`, esbuild's CommonJS output (tsx on a CommonJS package) `(0, import_mod.x)`.
 */
const IMPORT_CALL = /\(\s*0\s*,\s*(?:__vite_ssr_import_\d+__|import_[\w$]+)\.([\w$]+)\s*\)/g;
const IMPORT_MEMBER = /\b(?:__vite_ssr_import_\d+__|import_[\w$]+)\.(?=[\w$])/g;
/** A function's text that is an expression (not a method written `name() {}` in an object). */
const EXPRESSION = /^(?:async\s*)?(?:function\b|class\b|\(|[\w$]+\s*=>)/;

const wrap = (text: string) => (EXPRESSION.test(text) ? `(${text})` : `({${text}})`);
const print = (code: string) => transformSync(code, { minifyWhitespace: true, minifySyntax: true, format: 'esm', loader: 'js' }).code;

/**
 * The canonical text of each function source: loader rewrites removed, then re-printed by esbuild
 * (whitespace, comments, `undefined`/`void 0` and syntax variants made one). All in one esbuild call;
 * when one text does not parse (native code), each is printed alone and that one kept as it is.
 */
function canonicalSources(sources: string[]): string[] {
  if (sources.length === 0) return [];
  const texts = sources.map((s) => s.replace(IMPORT_CALL, '$1').replace(IMPORT_MEMBER, '').trim());
  try {
    return [print(`export default [\n${texts.map(wrap).join(',\n')}\n]`)];
  } catch {
    return texts.map((text) => {
      try {
        return print(`export default ${wrap(text)}`);
      } catch {
        return text.replace(/\s+/g, ' ');
      }
    });
  }
}
