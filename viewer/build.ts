/**
 * Builds the viewer page (`actorlog view`) with esbuild: viewer/main.tsx and what it imports
 * (preact, elkjs's API, jsondiffpatch; TSX compiled to preact's `jsx` calls) bundled into one `app.js`, and `style.css`, beside
 * `index.html` and elkjs's layout worker (`elk-worker.js`).
 * `npm run build` writes them to dist/viewer/, which the package ships; in a checkout the CLI calls
 * {@link buildViewer} in memory instead (cli/view/assets.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

/** The page's files by URL path (`/index.html`, `/app.js`, `/style.css`, `/elk-worker.js`). */
export async function buildViewer(): Promise<Map<string, Uint8Array>> {
  const result = await build({
    entryPoints: { app: here('main.tsx'), style: here('style.css') },
    jsx: 'automatic',
    jsxImportSource: 'preact',
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'linked',
    write: false,
    outdir: here('out'),
    logLevel: 'silent',
  });
  const files = new Map<string, Uint8Array>([
    ['/index.html', readFileSync(here('index.html'))],
    // elkjs's layout engine, run by the page in a Web Worker
    ['/elk-worker.js', readFileSync(createRequire(import.meta.url).resolve('elkjs/lib/elk-worker.min.js'))],
  ]);
  for (const file of result.outputFiles) files.set(`/${basename(file.path)}`, file.contents);
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? fileURLToPath(new URL('../dist/viewer/', import.meta.url));
  mkdirSync(out, { recursive: true });
  const files = await buildViewer();
  for (const [path, body] of files) writeFileSync(`${out}/${path.slice(1)}`, body);
  console.error(`viewer: ${[...files.keys()].join(' ')} -> ${out}`);
}
