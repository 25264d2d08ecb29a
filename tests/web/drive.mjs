// Opens examples/web in headless Chromium on a job and prints the page's
// result as JSON:
//
//   node tests/web/drive.mjs JOB_DIR
//
// JOB_DIR holds job.json (see examples/web/page.mjs) and the module it
// names; it is served at /job/ by the page's own server, on 127.0.0.1.

import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "../../examples/web/serve.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../../.cache/runtimes/web/package.json"));
const puppeteer = require("puppeteer-core");

const server = await serve({ "/job/": path.resolve(process.argv[2]) });
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  timeout: 60_000,
});
let code = 0;
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const { port } = server.address();
  await page.goto(`http://127.0.0.1:${port}/index.html?job=/job/job.json`, { timeout: 60_000 });
  await page.waitForFunction(() => document.body.dataset.done === "1", { timeout: 120_000 });
  const result = await page.evaluate(() => window.result);
  // Hex for the test to read back simply.
  const hex = (b64) => Buffer.from(b64, "base64").toString("hex");
  result.stdout = hex(result.stdout);
  result.stderr = hex(result.stderr);
  for (const k of Object.keys(result.files)) result.files[k] = result.files[k] && hex(result.files[k]);
  // What the page shows a person, too.
  result.shown = await page.evaluate(() => document.getElementById("stdout").textContent);
  result.errors = errors;
  process.stdout.write(JSON.stringify(result));
} catch (e) {
  console.error(`drive: ${e}`);
  code = 1;
} finally {
  await browser.close();
  server.close();
}
process.exit(code);
