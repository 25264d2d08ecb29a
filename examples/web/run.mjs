// Runs a program adapted by wasi-downlevel (a preview1 module) in the
// browser, on @bjorn3/browser_wasi_shim, with everything in memory: stdin,
// stdout and stderr as files (not the console device, so programs do not
// think they are on a terminal) and a tree of files preopened as `dir`.

import { WASI, File, Directory, OpenFile, PreopenDirectory } from "@bjorn3/browser_wasi_shim";

/** A directory tree from `{ "path/to/file": Uint8Array, "empty/dir/": null }`. */
function tree(files) {
  const root = new Map();
  for (const [path, data] of Object.entries(files)) {
    const parts = path.split("/").filter((p) => p !== "");
    let dir = root;
    const last = path.endsWith("/") ? parts.length : parts.length - 1;
    for (const name of parts.slice(0, last)) {
      if (!dir.has(name)) dir.set(name, new Directory(new Map()));
      dir = dir.get(name).contents;
    }
    if (last < parts.length) dir.set(parts[last], new File(data ?? new Uint8Array()));
  }
  return root;
}

/** The files of a tree back as `{ path: Uint8Array }` (directories as `"path/": null`). */
function flatten(contents, prefix = "", out = {}) {
  for (const [name, entry] of contents) {
    if (entry instanceof Directory) {
      out[prefix + name + "/"] = null;
      flatten(entry.contents, prefix + name + "/", out);
    } else {
      out[prefix + name] = entry.data;
    }
  }
  return out;
}

/**
 * Runs `module` (a WebAssembly.Module or the bytes of one) to its end.
 * Returns `{ status, stdout, stderr, files }`: the exit status (or
 * `"trap: ..."`), the output as bytes, and the preopened tree afterwards.
 */
export async function run(module, { argv0 = "program.wasm", args = [], env = [], stdin = new Uint8Array(), files = {}, dir = "/" } = {}) {
  const stdout = new File(new Uint8Array());
  const stderr = new File(new Uint8Array());
  const preopen = new PreopenDirectory(dir, tree(files));
  const fds = [new OpenFile(new File(stdin)), new OpenFile(stdout), new OpenFile(stderr), preopen];
  const wasi = new WASI([argv0, ...args], env, fds);
  const compiled = module instanceof WebAssembly.Module ? module : await WebAssembly.compile(module);
  const instance = await WebAssembly.instantiate(compiled, { wasi_snapshot_preview1: wasi.wasiImport });
  let status;
  try {
    status = wasi.start(instance);
  } catch (e) {
    status = `trap: ${e}`;
  }
  return { status, stdout: stdout.data, stderr: stderr.data, files: flatten(preopen.dir.contents) };
}
