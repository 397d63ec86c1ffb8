/**
 * The core (src/) is the bottom layer. Stores and machines build on it, and the CLI
 * (cli/) is an application above all three; src/ imports nothing from stores/, machines/ or cli/,
 * and stores/ nothing from machines/ or cli/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (path.endsWith('.ts')) yield path;
  }
}

/** Every relative import of the files under `dir`, resolved to a path from the repository root. */
function importsOf(dir: string): Array<{ file: string; target: string }> {
  const out: Array<{ file: string; target: string }> = [];
  for (const file of files(join(ROOT, dir))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      out.push({ file: relative(ROOT, file), target: relative(ROOT, resolve(file, '..', m[1]!)) });
    }
  }
  return out;
}

describe('layers', () => {
  it('src/ imports nothing from stores/, machines/ or cli/', () => {
    const imports = importsOf('src');
    expect(imports.length).toBeGreaterThan(50);
    expect(imports.filter((i) => /^(stores|machines|cli)\//.test(i.target))).toEqual([]);
  });

  it('stores/ imports nothing from machines/ or cli/', () => {
    const imports = importsOf('stores');
    expect(imports.length).toBeGreaterThan(10);
    expect(imports.filter((i) => /^(machines|cli)\//.test(i.target))).toEqual([]);
  });

  it('machines/ import nothing from stores/ or cli/', () => {
    const imports = importsOf('machines');
    expect(imports.length).toBeGreaterThan(50);
    expect(imports.filter((i) => /^(stores|cli)\//.test(i.target))).toEqual([]);
  });
});
