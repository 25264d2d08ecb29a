// The page: runs the program chosen in the form, or the job named by
// `?job=URL` (a JSON description: what the tests use), and shows the output.

import { run } from "./run.mjs";

const text = new TextDecoder();
const b64 = (bytes) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

function show(result) {
  document.getElementById("stdout").textContent = text.decode(result.stdout);
  document.getElementById("stderr").textContent = text.decode(result.stderr);
  document.getElementById("status").textContent = String(result.status);
  // For a driver: the exact bytes, and a flag that the run is over.
  window.result = {
    status: result.status,
    stdout: b64(result.stdout),
    stderr: b64(result.stderr),
    files: Object.fromEntries(Object.entries(result.files).map(([k, v]) => [k, v && b64(v)])),
  };
  document.body.dataset.done = "1";
}

async function runJob(url) {
  const job = await (await fetch(url)).json();
  const wasm = await WebAssembly.compileStreaming(fetch(new URL(job.wasm, new URL(url, location))));
  const files = Object.fromEntries(Object.entries(job.files ?? {}).map(([k, v]) => [k, v && unb64(v)]));
  show(await run(wasm, { ...job, stdin: unb64(job.stdin ?? ""), files }));
}

document.getElementById("form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const bytes = new Uint8Array(await document.getElementById("wasm").files[0].arrayBuffer());
  const files = {};
  for (const f of document.getElementById("files").files) {
    files[f.name] = new Uint8Array(await f.arrayBuffer());
  }
  const args = document.getElementById("args").value.split("\n").filter((a) => a !== "");
  const stdin = new TextEncoder().encode(document.getElementById("stdin").value);
  show(await run(bytes, { args, stdin, files }));
});

const job = new URLSearchParams(location.search).get("job");
if (job) {
  runJob(job).catch((e) => show({ status: `error: ${e}`, stdout: new Uint8Array(), stderr: new TextEncoder().encode(String(e)), files: {} }));
}
