/**
 * One process of an issue 15 crash scenario: `node --import tsx test/support/shapes/app.ts <scenario>
 * <phase> <db>`. It opens the file, creates the system on a SimulatedClock set to the phase's time,
 * runs the phase and prints one line `RESULT <json>` (the phase's result and the errors told to
 * onError). The last phase then closes and exits 0; any other phase waits to be killed (SIGKILL).
 */
import { SimulatedClock } from 'xstate';
import { createActorSystem } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { scenarios } from './index.ts';

const [name, phaseArg, db] = process.argv.slice(2);
const scenario = scenarios[name!];
if (!scenario) throw new Error(`no scenario ${name}`);
const index = Number(phaseArg);
const phase = scenario.phases[index]!;
const clock = new SimulatedClock();
clock.set(phase.at);
const store = openSqliteStore(db!);
const errors: Array<{ id: string; code: string }> = [];
const system = createActorSystem({
  store: phase.store ? phase.store(store) : store,
  machines: phase.machines ?? scenario.machines,
  clock,
  commit: scenario.commit,
  snapshotEvery: 0,
  onMachineChange: phase.onMachineChange,
  onError: (id, err) => errors.push({ id, code: err.code }),
});
const result = await phase.run({ system, store, clock, errors });
process.stdout.write(`RESULT ${JSON.stringify({ result, errors })}\n`);
if (index === scenario.phases.length - 1) {
  await system.close();
  store.close();
  process.exit(0);
}
// Killed here with SIGKILL by the test: nothing is closed, nothing flushed beyond what committed.
setInterval(() => {}, 60_000);
