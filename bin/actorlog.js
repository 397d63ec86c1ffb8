#!/usr/bin/env node
// The `actorlog` command. An installed package runs the compiled CLI (dist/cli/main.js) with
// plain Node, no TypeScript loader. In a git checkout (cli/main.ts beside bin/, tsx installed as a
// devDependency) it runs the sources through tsx instead, so it never runs a stale build; there
// `npm run actorlog -- …` is the same command.
import { existsSync } from 'node:fs';

const source = new URL('../cli/main.ts', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);

async function tsxRegister() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch {
    return undefined;
  }
}

const register = existsSync(source) ? await tsxRegister() : undefined;
if (register) {
  register();
  await (await import(source.href)).main();
} else if (existsSync(compiled)) {
  await (await import(compiled.href)).main();
} else {
  process.stderr.write('actorlog: the compiled CLI (dist/) is missing: run `npm run build`, or `npm run actorlog -- <args>` in a checkout\n');
  process.exitCode = 2;
}
