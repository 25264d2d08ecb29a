// Runs a `jco transpile`d command on Node with preview2-shim, the peer of an
// adapted program on `node:wasi` (make bench). Copied next to the jco install
// (.cache/jco) so that the shim resolves to the one the module imports.
// Usage: node jco-run.mjs MODULE.js GUEST::HOST|- ARGV0 ARGS...
import { _setArgs } from "@bytecodealliance/preview2-shim/cli";
import { _setPreopens } from "@bytecodealliance/preview2-shim/filesystem";
import { pathToFileURL } from "node:url";

const [module, dir, ...argv] = process.argv.slice(2);
_setArgs(argv);
const preopens = {};
if (dir !== "-") {
  const [guest, host] = dir.split("::");
  preopens[guest] = host;
}
_setPreopens(preopens);
const { run } = await import(pathToFileURL(module).href);
try {
  run.run();
} catch (e) {
  // `run` returned `err`: the program's failure status, as wasmtime gives it.
  if (e && e.payload === undefined) console.error(e);
  process.exit(1);
}
