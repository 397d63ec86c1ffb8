import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

type ExportEntry = string | { import?: string };

/**
 * `import … from 'actorlog'` and its subpaths, inside this repository's tests, resolve to the .ts
 * sources: package.json `exports` names the build (`./dist/src/index.js`), made only by
 * `npm run build`; the source of each is the same path without `dist/`, ending in `.ts`.
 * tsconfig.json `paths` gives the same mapping to tsc and tsx.
 */
function sourceAliases(): { find: RegExp; replacement: string }[] {
  const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { name: string; exports: Record<string, ExportEntry> };
  return Object.entries(pkg.exports).flatMap(([subpath, entry]) => {
    const target = typeof entry === 'string' ? entry : entry.import;
    if (!target || !target.startsWith('./dist/') || !target.endsWith('.js')) return [];
    const specifier = pkg.name + subpath.slice(1);
    const source = './' + target.slice('./dist/'.length, -'.js'.length) + '.ts';
    return [{ find: new RegExp(`^${specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`), replacement: fileURLToPath(new URL(source, import.meta.url)) }];
  });
}

export default defineConfig({
  resolve: { alias: sourceAliases() },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One throwaway PostgreSQL server for the whole run, started by the first test file that needs it
    // and stopped here at the end (test/support/postgres.ts).
    globalSetup: ['test/support/postgresGlobalSetup.ts'],
    // The JSON report lets .ci/run print its totals as `N passed, N failed`.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
  },
});
