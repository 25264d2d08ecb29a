// Run a WASI preview1 core module on Node's built-in `node:wasi`.
//
//   node [--no-warnings] node-wasi.mjs [--dir HOST::GUEST]... [--env K=V | --env K]...
//        [--argv0 NAME] [--] MODULE.wasm [ARGS...]
//
// --dir HOST::GUEST  preopen host directory HOST as guest path GUEST (`--dir D` = `--dir D::D`)
// --env K=V          set K in the guest environment; `--env K` copies K from this process's
//                    environment if it is set there (and is skipped otherwise)
// --argv0 NAME       guest argv[0] (default: MODULE exactly as given on the command line)
// Options also take the `--opt=value` form. The guest environment holds only the --env values.
//
// Stdio passes through (guest fds 0, 1, 2 are this process's). The exit code is the guest's
// proc_exit code (0 when _start returns; node passes any u32 on as code & 0xff). As with
// `wasmtime run` on Unix: a trap is printed on stderr and exits with 134 (128 + SIGABRT); a module
// that cannot be read, compiled or instantiated (e.g. a missing import) exits with 1.
// Usage errors exit with 2.
//
// node:wasi emits an ExperimentalWarning on load; this launcher drops it itself, so callers do
// not have to pass --no-warnings (passing it is harmless).

process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w && w.name === 'ExperimentalWarning') return;
  process.stderr.write(`${w && w.stack ? w.stack : w}\n`);
});

const TRAP_EXIT_CODE = 134;
const LOAD_ERROR_EXIT_CODE = 1;
const USAGE_EXIT_CODE = 2;

// V8's fast API calls into node:wasi can crash the process after the
// module's memory grows (nodejs/node#46777, #53087). Set here rather than on
// the command line, where a Node whose V8 lacks the flag would refuse to
// start; V8 ignores a flag it does not know here.
(await import('node:v8')).setFlagsFromString('--no-turbo-fast-api-calls');

const { readFile } = await import('node:fs/promises');
const { WASI } = await import('node:wasi');

function usage(msg) {
  if (msg) process.stderr.write(`node-wasi: ${msg}\n`);
  process.stderr.write(
    'usage: node node-wasi.mjs [--dir HOST::GUEST]... [--env K=V]... [--argv0 NAME] [--] MODULE.wasm [ARGS...]\n',
  );
  process.exitCode = USAGE_EXIT_CODE;
}

function parseArgs(argv) {
  const opts = { preopens: {}, env: {}, argv0: undefined, module: undefined, args: [] };
  let i = 0;
  const value = (name, inline) => {
    if (inline !== undefined) return inline;
    if (i + 1 >= argv.length) throw new Error(`${name} needs a value`);
    i += 1;
    return argv[i];
  };
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i += 1;
      break;
    }
    if (!a.startsWith('--') || a === '-') break;
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const inline = eq < 0 ? undefined : a.slice(eq + 1);
    if (name === '--dir') {
      const spec = value(name, inline);
      const sep = spec.indexOf('::');
      const host = sep < 0 ? spec : spec.slice(0, sep);
      const guest = sep < 0 ? spec : spec.slice(sep + 2);
      if (!host || !guest) throw new Error(`bad --dir ${JSON.stringify(spec)}: expected HOST::GUEST`);
      opts.preopens[guest] = host;
    } else if (name === '--env') {
      const spec = value(name, inline);
      const e = spec.indexOf('=');
      if (e === 0) throw new Error(`bad --env ${JSON.stringify(spec)}: empty name`);
      if (e < 0) {
        if (Object.prototype.hasOwnProperty.call(process.env, spec)) opts.env[spec] = process.env[spec];
      } else {
        opts.env[spec.slice(0, e)] = spec.slice(e + 1);
      }
    } else if (name === '--argv0') {
      opts.argv0 = value(name, inline);
    } else if (name === '--help') {
      return null;
    } else {
      throw new Error(`unknown option ${a}`);
    }
  }
  if (i >= argv.length) throw new Error('missing MODULE.wasm');
  opts.module = argv[i];
  opts.args = argv.slice(i + 1);
  return opts;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    usage(e.message);
    return;
  }
  if (opts === null) {
    usage();
    process.exitCode = 0;
    return;
  }

  let instance;
  let wasi;
  try {
    const bytes = await readFile(opts.module);
    wasi = new WASI({
      version: 'preview1',
      args: [opts.argv0 ?? opts.module, ...opts.args],
      env: opts.env,
      preopens: opts.preopens,
      returnOnExit: true,
    });
    const module = await WebAssembly.compile(bytes);
    instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  } catch (e) {
    // Not a trap: unreadable/invalid module, missing import, bad preopen. wasmtime exits 1 here.
    process.stderr.write(`Error: failed to instantiate ${opts.module}\n${e && e.stack ? e.stack : e}\n`);
    process.exitCode = LOAD_ERROR_EXIT_CODE;
    return;
  }
  let code;
  try {
    // node:wasi writes guest fds synchronously, so all guest output is out when start returns.
    code = wasi.start(instance);
  } catch (e) {
    process.stderr.write(`Error: failed to run main module ${opts.module}\n${e && e.stack ? e.stack : e}\n`);
    code = TRAP_EXIT_CODE;
  }
  // Setting exitCode (not calling process.exit) lets pending stdout/stderr writes drain.
  process.exitCode = typeof code === 'number' ? code : 0;
}

await main();
