// cli: a JavaScript command (componentize-js) that uses what CLI programs
// use: arguments, environment, stdin, files in a preopened directory,
// stdout and stderr, clocks, random, and an exit code.
//
//   cli.js [EXIT-CODE]   with /data preopened, holding input.txt
//
// Reads stdin and /data/input.txt, writes /data/output.txt (the input's
// lines numbered and upper-cased), lists /data, and exits with EXIT-CODE.
// Everything printed is deterministic.
import { getStdin } from 'wasi:cli/stdin@0.2.12';
import { getArguments, getEnvironment } from 'wasi:cli/environment@0.2.12';
import { exitWithCode } from 'wasi:cli/exit@0.2.12';
import { getDirectories } from 'wasi:filesystem/preopens@0.2.12';
import { now } from 'wasi:clocks/monotonic-clock@0.2.12';
import { getRandomBytes } from 'wasi:random/random@0.2.12';

function readAll(stream) {
  const parts = [];
  try {
    for (;;) {
      parts.push(stream.blockingRead(65536n));
    }
  } catch (e) {
    // `closed`: the end.
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return new TextDecoder().decode(out);
}

export const run = {
  run() {
    const args = getArguments();
    console.log(`args: ${JSON.stringify(args.slice(1))}`);
    const env = getEnvironment().filter(([k]) => k.startsWith('JS_')).sort();
    console.log(`env: ${JSON.stringify(env)}`);

    const input = readAll(getStdin());
    const lines = input.split('\n').filter((l) => l.length > 0);
    console.log(`stdin: ${input.length} bytes, ${lines.length} lines, first: ${lines[0] ?? ''}`);

    const data = getDirectories().find(([, path]) => path === '/data');
    if (!data) {
      console.error('no /data preopened');
      exitWithCode(2);
    }
    const dir = data[0];
    const file = dir.openAt({}, 'input.txt', {}, { read: true });
    const text = readAll(file.readViaStream(0n));
    const numbered = text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l, i) => `${i + 1}: ${l.toUpperCase()}`)
      .join('\n');
    const out = dir.openAt({}, 'output.txt', { create: true, truncate: true }, { write: true });
    const stream = out.writeViaStream(0n);
    stream.blockingWriteAndFlush(new TextEncoder().encode(numbered + '\n'));
    console.log(`input.txt: ${text.length} bytes; wrote output.txt`);

    const names = [];
    const entries = dir.readDirectory();
    for (let e = entries.readDirectoryEntry(); e; e = entries.readDirectoryEntry()) {
      names.push(`${e.name} (${e.type})`);
    }
    console.log(`/data: ${names.sort().join(', ')}`);

    const t0 = now();
    let x = 0;
    for (let i = 0; i < 100000; i++) x += i;
    console.log(`monotonic clock advanced: ${now() >= t0} (${x})`);
    console.log(`wall clock after 2020: ${Date.now() > Date.UTC(2020, 0, 1)}`);
    const r = getRandomBytes(32n);
    console.log(`random: ${r.length} bytes, not all zero: ${r.some((b) => b !== 0)}`);
    const m = Math.random();
    console.log(`Math.random in [0, 1): ${m >= 0 && m < 1}`);
    console.error('done (stderr)');
    exitWithCode(Number(args[1] ?? '0'));
  },
};
