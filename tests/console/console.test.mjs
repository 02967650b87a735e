// The console in real headless Chromium (Debian package `chromium`, driven
// by playwright-core) against `tangelo serve --demo` on free ports: the page
// shows both critical paths, the throughput moves under the demo traffic,
// clicking an application opens its drill-down, and a screenshot is saved
// as an artifact (<TANGELO_ARTIFACT_DIR>/console-screenshot.png).
//
// Run from the repository root (config/ is read relative to it):
//   TANGELO_BIN=build/release/tangelo node --test tests/console/console.test.mjs
// Exits 77 (ctest SKIP) when /usr/bin/chromium is not installed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const CHROMIUM = "/usr/bin/chromium";
if (!existsSync(CHROMIUM)) {
  console.log(`SKIP: ${CHROMIUM} is not installed (apt-get install chromium)`);
  process.exit(77);
}
const { chromium } = await import("playwright-core");

const BIN = resolve(process.env.TANGELO_BIN ?? "build/release/tangelo");
const ARTIFACTS = resolve(process.env.TANGELO_ARTIFACT_DIR ?? "build");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server, serverExit, dataDir, profileDir, context, baseUrl;
let serverLog = "";

async function waitFor(what, predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${serverLog}`);
    await sleep(200);
  }
}

before(async () => {
  assert.ok(existsSync(BIN), `no tangelo binary at ${BIN}`);
  dataDir = mkdtempSync(join(tmpdir(), "tangelo-console-"));
  profileDir = mkdtempSync(join(tmpdir(), "tangelo-chromium-"));
  server = spawn(BIN, ["serve", "--demo", "--data", dataDir, "--http", "127.0.0.1:0",
                       "--iso8583", "127.0.0.1:0", "--metrics", "127.0.0.1:0",
                       "--probe-interval-ms", "1000"],
                 { stdio: ["ignore", "pipe", "pipe"] });
  server.stdout.on("data", (d) => (serverLog += d));
  server.stderr.on("data", (d) => (serverLog += d));
  serverExit = new Promise((r) => server.on("exit", (code, signal) => r({ code, signal })));
  const ports = await waitFor("ports.json", () => {
    const path = join(dataDir, "ports.json");
    if (server.exitCode !== null) throw new Error(`serve exited early:\n${serverLog}`);
    return existsSync(path) && serverLog.includes("Demo API key") &&
           JSON.parse(readFileSync(path, "utf8"));
  }, 60_000);
  baseUrl = `http://127.0.0.1:${ports.http}`;
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 1000 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  if (context) await context.close();
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    const { code } = await serverExit;
    assert.equal(code, 0, `serve did not stop cleanly:\n${serverLog}`);
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

test("the demo prints the console URL and its API key", () => {
  assert.match(serverLog, new RegExp(`Console: +${baseUrl}/console`));
  assert.match(serverLog, /Demo API key: tgk_[A-Za-z0-9_-]{43}/);
});

test("the console shows both paths, live numbers, drill-down", async () => {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${baseUrl}/console`);

  const auth = page.locator('section.path[data-path="authorization"]');
  const transaction = page.locator('section.path[data-path="transaction"]');
  await auth.waitFor({ timeout: 15_000 });
  await transaction.waitFor({ timeout: 15_000 });
  for (const metric of ["uptime", "throughput", "error_rate", "latency"]) {
    assert.equal(await auth.locator(`.metric[data-metric="${metric}"]`).count(), 1, metric);
  }
  assert.match(await auth.locator(".budget").innerText(), /availability .*left/);
  // Nothing runs the transaction path in the demo: its uptime is not made up.
  assert.equal(
    await transaction.locator('.metric[data-metric="uptime"] .value').innerText(), "no data");

  // The throughput moves under the demo traffic (200 authorizations/s).
  const throughput = auth.locator('.metric[data-metric="throughput"] .value');
  const rate = async () => parseFloat(await throughput.innerText());
  const first = await throughput.innerText();
  const moved = await waitFor("the throughput to move", async () => {
    const now = await throughput.innerText();
    return now !== first && (await rate()) > 0 ? now : null;
  }, 10_000);
  assert.ok(parseFloat(moved) > 10, `throughput ${moved}`);
  // The probe runs every second: uptime comes from it.
  await waitFor("a probe run in the status", async () => {
    const status = await (await fetch(`${baseUrl}/console/api/status`)).json();
    const path = status.paths.find((p) => p.name === "authorization");
    return path.probe_success_ratio === 1;
  }, 10_000);
  assert.match(await auth.locator('.metric[data-metric="uptime"] .value').innerText(), /^100\.00%$/);

  // Drill-down into an application on the path.
  await auth.locator('button.app[data-app="api"]').click();
  const drill = auth.locator('.drilldown[data-drilldown="api"]');
  await drill.waitFor({ timeout: 5_000 });
  assert.match(await drill.locator("h3").innerText(), /authorization.*api/);
  const apiRate = parseFloat(
    await drill.locator('.metric[data-metric="throughput"] .value').innerText());
  assert.ok(apiRate > 0, `api throughput ${apiRate}`);
  // An application nothing measures says so instead of showing zeros.
  await auth.locator('button.app[data-app="gateway"]').click();
  const gateway = auth.locator('.drilldown[data-drilldown="gateway"]');
  await gateway.waitFor({ timeout: 5_000 });
  assert.equal(await drill.count(), 0, "one drill-down at a time");
  assert.match(await gateway.innerText(), /no data|No requests measured/);
  await auth.locator('button.app[data-app="api"]').click();
  await drill.waitFor({ timeout: 5_000 });
  await sleep(1500);  // A few more points in the sparklines.

  const shot = join(ARTIFACTS, "console-screenshot.png");
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(existsSync(shot));
  console.log(`screenshot: ${shot}`);
  assert.deepEqual(errors, []);
});
