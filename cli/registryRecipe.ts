import { resolve } from 'node:path';
import { loadConfig, type LoadedConfig } from './config.ts';
import { loadMachinesModule } from './machinesModule.ts';
import { createRegistry, type MachineRegistry } from './registry.ts';

/**
 * How a command's machine registry is made, as plain data (a worker thread makes the same one
 * from it): the config file (`--config`, else the one found in `cwd`) and the `--machines` module.
 */
export interface RegistryRecipe {
  /** `--config`, relative to `cwd`; undefined: the first actorlog.config.{js,mjs,ts} in `cwd`. */
  config?: string;
  /** `--machines`, relative to `cwd`. */
  machines?: string;
  cwd: string;
}

/** The built-in machines, the config's, then the `--machines` module's (each wins over the one before on a name). */
export async function registryOf(loaded: LoadedConfig, machinesModule: string | undefined, cwd = process.cwd()): Promise<MachineRegistry> {
  const module = machinesModule === undefined ? undefined : cwd === process.cwd() ? machinesModule : resolve(cwd, machinesModule);
  return createRegistry({ ...loaded.machines, ...(module ? await loadMachinesModule(module) : {}) });
}

/**
 * Makes the registry a recipe describes.
 * @throws ActorlogError `INVALID_OPTIONS` when the config or the module cannot be loaded
 */
export async function registryFromRecipe(recipe: RegistryRecipe): Promise<MachineRegistry> {
  return registryOf(await loadConfig(recipe.config, recipe.cwd), recipe.machines, recipe.cwd);
}
