import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A file of the page, as served. */
export interface Asset {
  body: Uint8Array;
  type: string;
}

/** The page's files by URL path (`/index.html`, `/app.js`, `/style.css`, `/elk-worker.js`). */
export interface Assets {
  get(path: string): Promise<Asset | undefined>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

function table(files: Map<string, Uint8Array>): Assets {
  return { get: async (path) => (files.has(path) ? { body: files.get(path)!, type: TYPES[extname(path)] ?? 'application/octet-stream' } : undefined) };
}

/**
 * The viewer's assets. Beside the compiled CLI (`dist/cli/view/`), `dist/viewer/` holds the page
 * `npm run build` made (viewer/build.ts, esbuild), read once into memory; nothing is fetched from a
 * network. In a git checkout the same relative place is the page's source folder (`viewer/`), and
 * the page is built on demand, in memory, the first time it is asked for, so it is never stale and
 * no manual build step comes first.
 */
export function loadAssets(): Assets {
  const dir = new URL('../../viewer/', import.meta.url);
  if (existsSync(new URL('main.tsx', dir))) {
    let built: Promise<Assets> | undefined;
    const build = async (): Promise<Assets> => {
      // a computed specifier: the compiled CLI never imports the build script (or esbuild)
      const script = pathToFileURL(fileURLToPath(new URL('build.ts', dir))).href;
      const { buildViewer } = (await import(script)) as { buildViewer: () => Promise<Map<string, Uint8Array>> };
      return table(await buildViewer());
    };
    return { get: async (path) => (await (built ??= build())).get(path) };
  }
  const files = new Map<string, Uint8Array>();
  if (existsSync(dir)) for (const name of readdirSync(dir)) files.set(`/${name}`, readFileSync(new URL(name, dir)));
  return table(files);
}
