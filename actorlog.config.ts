/**
 * The `actorlog` CLI's config for this repository: with it, every stream that `npm start` and the
 * examples write replays with `npx actorlog replay <db> <id>` and no flag. The shipped machines and
 * bindings are built into the CLI; the main job's `batch` machine lives in examples/.
 */
export default {
  machines: ['./examples/batch-machine.ts'],
  db: './actorlog.db',
};
