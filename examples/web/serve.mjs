// A static server for the page, on 127.0.0.1 only:
//
//   node examples/web/serve.mjs [PORT]      then open http://127.0.0.1:PORT/
//
// It serves this folder, and the shim from `make runtimes`' cache at
// /browser_wasi_shim/. `serve(routes)` is what the tests use.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const shim = path.join(here, "../../.cache/runtimes/web/node_modules/@bjorn3/browser_wasi_shim/dist");
const types = { ".html": "text/html", ".mjs": "text/javascript", ".js": "text/javascript", ".json": "application/json", ".wasm": "application/wasm" };

/** Serves `{ "/prefix/": directory }` (plus the page and the shim); resolves to the server once it listens. */
export function serve(routes = {}, port = 0) {
  const all = { ...routes, "/browser_wasi_shim/": shim, "/": here };
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const prefix = Object.keys(all).find((p) => url.startsWith(p));
    const base = all[prefix];
    let file = path.join(base, url.slice(prefix.length) || "index.html");
    if (!file.startsWith(base)) file = "";
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404).end("not found");
      } else {
        res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" }).end(data);
      }
    });
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await serve({}, Number(process.argv[2] ?? 8000));
  console.log(`serving on http://127.0.0.1:${server.address().port}/`);
}
