// Runs a preview1 module on @tybys/wasm-util's WASI (emnapi's, a JS
// preview1 host people ship) in Node, over the real filesystem:
//
//   node tests/hosts/wasm-util.mjs WASM HOST_DIR GUEST_DIR ARGV0 [ARGS...]

import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../../.cache/runtimes/web/package.json"));
const { WASI } = require("@tybys/wasm-util");

const [wasm, hostDir, guestDir, argv0, ...args] = process.argv.slice(2);
const wasi = new WASI({
  version: "preview1",
  args: [argv0, ...args],
  env: {},
  preopens: { [guestDir]: hostDir },
  fs,
  returnOnExit: true,
});
const module = await WebAssembly.compile(fs.readFileSync(wasm));
const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
process.exitCode = wasi.start(instance);
