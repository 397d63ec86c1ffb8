import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { stopSharedPostgres } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The directory through which the test files of this run share one PostgreSQL server (test/support/postgres.ts). */
    postgresHarness: string;
  }
}

/**
 * vitest globalSetup: makes the directory through which every test file of the run shares ONE
 * PostgreSQL server (started by the first file that needs it, see `sharedPostgres`), provides it to
 * the tests as `inject('postgresHarness')`, and at the end of the run stops that server by its PID
 * and removes its data directory and this one.
 */
export default function setup(project: TestProject): () => Promise<void> {
  const harness = fs.mkdtempSync(path.join(os.tmpdir(), 'actorlog-pg-harness-'));
  project.provide('postgresHarness', harness);
  return async () => {
    try {
      await stopSharedPostgres(harness);
    } finally {
      fs.rmSync(harness, { recursive: true, force: true });
    }
  };
}
