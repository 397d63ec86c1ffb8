import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The path of the real `opencode` binary (npm `opencode-linux-x64`, pinned in devDependencies;
 * the `opencode-ai` wrapper is not used because its lockfile entries for other platforms cannot
 * be installed from this registry, which breaks `npm ci`).
 */
export function opencodeBinary(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('opencode-linux-x64/package.json')), 'bin', 'opencode');
}
