import { parseExpressionAt, type Node, type Options } from 'acorn';

/** A parsed node seen generically: its type and its fields, walked by name. */
type AnyNode = Node & Record<string, unknown>;

const PARSE: Options = { ecmaVersion: 'latest', sourceType: 'script' };

/** Fields that say how the text was written, not what it does. */
const LAYOUT = new Set(['type', 'start', 'end', 'loc', 'range', 'shorthand']);

/** The namespace objects loaders put in place of an import: vitest `__vite_ssr_import_3__`, esbuild's CommonJS `import_mod`. */
const LOADER_NAMESPACE = /^(?:__vite_ssr_import_\d+__|import_[\w$]+)$/;

/**
 * A function's source text (`Function.prototype.toString`) in a form that is the same however the
 * file was loaded: parsed with acorn and printed back as its syntax tree, so whitespace, comments,
 * grouping parentheses, quote styles and number spellings (`0xff`, `255`) do not count, and with the
 * rewrites loaders make undone: vitest's `__vite_ssr_import_3__.x` and `(0, __vite_ssr_import_3__.x)`,
 * esbuild's CommonJS `import_mod.x` and `(0, import_mod.x)` become `x`; esbuild's `keepNames` wrappers
 * (`__name(fn, "fn")`, `__name(inner, "inner");`, `static { __name(this, "C") }`, as tsx emits them)
 * are dropped, and so is an empty `;` statement in a block (vitest prints some after a block);
 * `void 0` (esbuild's spelling) is read as `undefined`.
 * A method written `name() {…}` is read as an object member; text that does not parse (native code)
 * is kept with its whitespace runs made one space.
 *
 * @internal used by {@link machineHash}
 * @param text the source text of one function or class
 * @returns a string that two loaders' texts of the same source share
 * @example
 * ```ts
 * canonicalSource('({ context }) => (0, __vite_ssr_import_3__.next)(context)') ===
 *   canonicalSource('({context})=>next(context)'); // true
 * ```
 */
export function canonicalSource(text: string): string {
  const source = text.trim();
  const node = parseWhole(source) ?? parseWhole(`{${source}\n}`);
  if (node === undefined) return source.replace(/\s+/g, ' ');
  const out: string[] = [];
  print(node, out);
  return out.join('');
}

/** The expression that is the whole of `code`, or undefined. */
function parseWhole(code: string): AnyNode | undefined {
  try {
    const node = parseExpressionAt(code, 0, PARSE) as AnyNode;
    return code.slice(node.end).trim() === '' ? node : undefined;
  } catch {
    return undefined;
  }
}

/** Appends the canonical text of `value` (a node, a list of nodes, or a field's plain value) to `out`. */
function print(value: unknown, out: string[]): void {
  if (Array.isArray(value)) {
    out.push('[');
    for (const item of value) {
      if (isNoOpStatement(item)) continue;
      print(item, out);
      out.push(',');
    }
    out.push(']');
    return;
  }
  if (value === null || typeof value !== 'object') {
    out.push(typeof value === 'string' ? JSON.stringify(value) : String(value));
    return;
  }
  const node = unwrap(value as AnyNode);
  switch (node.type) {
    case 'Identifier':
      out.push('$', node.name as string);
      return;
    case 'Literal': {
      const regex = node.regex as { pattern: string; flags: string } | undefined;
      if (regex) out.push('/', regex.pattern, '/', regex.flags);
      else out.push(node.bigint !== undefined ? `${node.bigint as string}n` : JSON.stringify(node.value));
      return;
    }
    case 'TemplateElement': {
      const { cooked, raw } = node.value as { cooked?: string | null; raw: string };
      out.push('`', JSON.stringify(cooked ?? raw));
      return;
    }
  }
  out.push(node.type, '{');
  for (const key of Object.keys(node)) {
    if (LAYOUT.has(key)) continue;
    out.push(key, ':');
    print(node[key], out);
    out.push(',');
  }
  out.push('}');
}

/** The node with the loaders' rewrites of it undone (see {@link canonicalSource}). */
function unwrap(node: AnyNode): AnyNode {
  for (;;) {
    if (isNameCall(node)) node = (node.arguments as AnyNode[])[0]!;
    else if (node.type === 'SequenceExpression' && isImportUse(node)) node = (node.expressions as AnyNode[])[1]!;
    else if (isLoaderMember(node)) return node.property as AnyNode;
    else if (node.type === 'UnaryExpression' && node.operator === 'void' && isLiteral(node.argument, 0))
      return { ...node, type: 'Identifier', name: 'undefined' };
    else return node;
  }
}

const isLiteral = (node: unknown, value: unknown): boolean => (node as AnyNode | null)?.type === 'Literal' && (node as AnyNode).value === value;
const isString = (node: unknown): boolean => (node as AnyNode | null)?.type === 'Literal' && typeof (node as AnyNode).value === 'string';

/** `__name(target, "name")`: esbuild's keepNames (tsx) naming a function or class. */
const isNameCall = (node: AnyNode): boolean => {
  if (node.type !== 'CallExpression' || (node.callee as AnyNode).type !== 'Identifier' || (node.callee as AnyNode).name !== '__name') return false;
  const args = node.arguments as AnyNode[];
  return args.length === 2 && isString(args[1]);
};

/** `__vite_ssr_import_3__.x` or `import_mod.x`. */
const isLoaderMember = (node: AnyNode): boolean =>
  node.type === 'MemberExpression' &&
  !node.computed &&
  (node.object as AnyNode).type === 'Identifier' &&
  LOADER_NAMESPACE.test((node.object as AnyNode).name as string) &&
  (node.property as AnyNode).type === 'Identifier';

/** `(0, ns.x)`, the call form loaders use so `x` is called without a `this`. */
const isImportUse = (node: AnyNode): boolean => {
  const [zero, member, ...rest] = node.expressions as AnyNode[];
  return rest.length === 0 && isLiteral(zero, 0) && member !== undefined && isLoaderMember(member);
};

/**
 * A statement that does nothing the source says: an empty `;` in a block (vitest's printer leaves some
 * after a block), or one keepNames adds, `__name(inner, "inner");` or a class's `static { __name(this, "C"); }`.
 */
function isNoOpStatement(value: unknown): boolean {
  const node = value as AnyNode | null;
  if (node?.type === 'EmptyStatement') return true;
  if (node?.type === 'ExpressionStatement') {
    const call = node.expression as AnyNode;
    return isNameCall(call) && ['Identifier', 'ThisExpression'].includes((call.arguments as AnyNode[])[0]!.type);
  }
  if (node?.type !== 'StaticBlock') return false;
  const body = node.body as AnyNode[];
  return body.length === 1 && isNoOpStatement(body[0]);
}
