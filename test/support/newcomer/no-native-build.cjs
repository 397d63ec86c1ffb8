// Preloaded (node --require) by test/e2e/shapes-newcomer.test.ts: this process cannot load
// better-sqlite3's native addon, as on a machine where it was never built (NATIVE_BUILD=missing: the
// `bindings` module finds no file) or was built for another Node.js (NATIVE_BUILD=abi: Node's own
// dlopen error). Everything else loads as usual.
const dlopen = process.dlopen.bind(process);
process.dlopen = function (module, filename, ...rest) {
  if (String(filename).includes('better_sqlite3')) {
    if (process.env.NATIVE_BUILD === 'abi') {
      throw new Error(
        `The module '${filename}'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 108. This version of Node.js requires\nNODE_MODULE_VERSION 115.`,
      );
    }
    throw Object.assign(new Error(`Cannot find module '${filename}'`), { code: 'MODULE_NOT_FOUND' });
  }
  return dlopen(module, filename, ...rest);
};
