import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The JSON report lets .ci/run print its totals as `N passed, N failed`.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
  },
});
