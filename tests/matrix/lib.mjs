// tests/matrix/lib.mjs — what every consumer-matrix row uses (driven by run.mjs).
//
// A row gets a `t` (new RowContext) and uses it to make fresh projects with the
// packed tarball installed from disk, to start servers on 127.0.0.1 (killed by
// PID when the row ends), to load pages in headless Chromium and Firefox and
// to check what they sealed: the native CLI must open every envelope (v1 with
// the node key, v2 only with the identity key as well).
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { createRequire } from "node:module";

export class CannotRun extends Error {}

export const CONTEXT = {
  node_id: "node-7",
  pending_id: "pend-42",
  slug: "stripe-key",
  injection_method: "header",
  field_name: "Authorization",
  target_url: "https://api.example.com/v1/charges",
};

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
export function eq(actual, expected, msg) {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Error(`${msg}: expected ${b}, got ${a}`);
}
export function write(p, text) {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
}
export function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 64 << 20, timeout: 15 * 60_000, ...opts });
  if (r.error) throw r.error;
  return r;
}
/** Run to completion; throw with the tail of its output when it exits non-zero. */
export function runOk(cmd, argv, opts = {}) {
  const r = run(cmd, argv, opts);
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ""}\n${r.stderr ?? ""}`.trim().split("\n").slice(-40).join("\n");
    throw new Error(`${path.basename(cmd)} ${argv.join(" ")} exited ${r.status ?? r.signal}\n${tail}`);
  }
  return r;
}
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every process group a row started and has not reaped: killed on any exit of the runner. */
const LIVE = new Set();
export function killAll(signal = "SIGKILL") {
  for (const c of LIVE)
    try {
      process.kill(-c.pid, signal);
    } catch {}
  LIVE.clear();
}
process.on("exit", () => killAll());

/** Everything shared by the rows of one run: fixture keys, the CLI, browsers. */
export class Matrix {
  constructor({ root, tarball, cli, deps, tmp, keep }) {
    Object.assign(this, { root, tarball, cli, deps, tmp, keep });
    this.keyFile = path.join(tmp, "node.key");
    this.publicKey = runOk(cli, ["keygen", "--out", this.keyFile]).stdout.trim();
    this.identityKeyFile = path.join(tmp, "identity.key");
    this.identity = runOk(cli, ["keygen", "--out", this.identityKeyFile]).stdout.trim();
    this.identityFingerprint = runOk(cli, ["fingerprint", "--identity", this.identity]).stdout.trim();
    this.fingerprint = runOk(cli, ["fingerprint", this.publicKey]).stdout.trim();
    this.ctxFile = write(path.join(tmp, "ctx.json"), JSON.stringify(CONTEXT));
    this.browsers = new Map();
    this.require = createRequire(path.join(deps, "package.json"));
  }

  /** Headless Chromium or Firefox (system browsers through puppeteer-core), launched once. */
  async browser(name) {
    if (!this.browsers.has(name)) {
      const puppeteer = this.require("puppeteer-core");
      const opts =
        name === "chromium"
          ? {
              browser: "chrome",
              executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
              headless: true,
              args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
            }
          : { browser: "firefox", executablePath: process.env.FIREFOX_BIN || "/usr/bin/firefox-esr", headless: true };
      this.browsers.set(name, await puppeteer.launch(opts));
    }
    return this.browsers.get(name);
  }
  async close() {
    for (const b of this.browsers.values()) await b.close().catch(() => {});
    this.browsers.clear();
  }

  /** `sealpass open` of one envelope: the plaintext, or throw with its error line. */
  cliOpen(envelope, { identity = false } = {}) {
    const argv = ["open", "--key", this.keyFile, ...(identity ? ["--identity-key", this.identityKeyFile] : []), "--context", this.ctxFile];
    const r = run(this.cli, argv, { input: typeof envelope === "string" ? envelope : JSON.stringify(envelope) });
    if (r.status !== 0) throw new Error(`sealpass open failed (${r.status}): ${r.stderr.trim()}`);
    return r.stdout;
  }
}

/** Every file under `dir`, as paths relative to it. */
export function listFiles(dir) {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath ?? d.path, d.name)));
}

/** What one row's run() gets. */
export class RowContext {
  constructor(matrix, row) {
    this.m = matrix;
    this.row = row;
    this.children = [];
    this.servers = [];
    this.notes = [];
    /** The browsers in which this row's envelopes were checked (the README's "passes (…)" label). */
    this.browsersChecked = new Set();
  }
  get tmp() {
    return this.m.tmp;
  }
  /** This row cannot run on this machine: reported (with why) instead of passing. */
  cannotRun(reason) {
    throw new CannotRun(reason);
  }
  log(msg) {
    console.log(`     ${msg}`);
  }

  /**
   * A fresh project dir with `devDependencies` (exact versions, from the npm
   * registry or its cache) and the packed tarball installed from disk.
   */
  project(name, { devDependencies = {}, ...pkg } = {}) {
    const dir = path.join(this.m.tmp, `${this.row.id}-${name}`);
    fs.rmSync(dir, { recursive: true, force: true });
    write(path.join(dir, "package.json"), JSON.stringify({ name: `consumer-${this.row.id}-${name}`, private: true, ...pkg }, null, 2));
    const tools = Object.entries(devDependencies).map(([n, v]) => `${n}@${v}`);
    const npm = (args) =>
      runOk("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...args], {
        cwd: dir,
        env: { ...process.env, PUPPETEER_SKIP_DOWNLOAD: "1", NEXT_TELEMETRY_DISABLED: "1" },
      });
    if (tools.length) npm(["--save-dev", "--save-exact", ...tools]);
    npm(["--offline", this.m.tarball]);
    return dir;
  }

  /** The page module every browser row serves: seals v1 and v2 from the query, no top-level await. */
  appSource({ importFrom = "sealpass", initCall = "await init();", head = "" } = {}) {
    return `${head}import init, { seal, fingerprint, identityFingerprint, SealpassError } from ${JSON.stringify(importFrom)};
async function main() {
  const q = new URLSearchParams(location.search);
  const out = {};
  try {
    ${initCall}
    const ctx = JSON.parse(q.get("ctx"));
    out.fingerprint = fingerprint(q.get("pk"));
    out.identityFingerprint = identityFingerprint(q.get("nik"));
    out.envelope = seal(q.get("pk"), q.get("pt"), ctx);
    out.envelope2 = seal(q.get("pk"), "v2 " + q.get("pt"), ctx, { identity: q.get("nik") });
    try { seal(q.get("pk"), "x", { ...ctx, injection_method: "Not Kebab" }); }
    catch (e) { out.err = { name: e.name, code: e.code, inst: e instanceof SealpassError, str: String(e) }; }
  } catch (e) {
    out.failed = String(e && e.stack || e);
  }
  window.__result = out;
}
main();
`;
  }
  /** The query string the app module reads; the plaintext names the row and the browser. */
  query(plaintext) {
    const q = new URLSearchParams({ pk: this.m.publicKey, nik: this.m.identity, pt: plaintext, ctx: JSON.stringify(CONTEXT) });
    return `?${q}`;
  }

  /** Check what the app (or a runtime) sealed for `plaintext`: the native CLI opens v1 and v2. */
  checkSealed(r, plaintext, label) {
    assert(r && !r.failed, `${label}: the consumer failed: ${r?.failed ?? "no result"}`);
    eq(r.fingerprint, this.m.fingerprint, `${label}: fingerprint = sealpass fingerprint`);
    eq(r.identityFingerprint, this.m.identityFingerprint, `${label}: identityFingerprint = sealpass fingerprint --identity`);
    eq([r.envelope.v, r.envelope2.v], [1, 2], `${label}: envelope versions`);
    eq(this.m.cliOpen(r.envelope), plaintext, `${label}: CLI opens the v1 envelope`);
    eq(this.m.cliOpen(r.envelope2, { identity: true }), `v2 ${plaintext}`, `${label}: CLI opens the v2 envelope with --identity-key`);
    let refused = false;
    try {
      this.m.cliOpen(r.envelope2);
    } catch {
      refused = true;
    }
    assert(refused, `${label}: the v2 envelope opened without the identity key`);
    assert(r.err, `${label}: seal() with injection_method "Not Kebab" did not throw`);
    eq([r.err.name, r.err.code, r.err.inst], ["InjectionMethodInvalid", 8204, true], `${label}: error name, code, instanceof SealpassError`);
    eq(r.err.str, "InjectionMethodInvalid: injection_method must match ^[a-z0-9]+(-[a-z0-9]+)*$ (error 8204)", `${label}: String(err) (the README's form)`);
  }

  /**
   * Load `url` (path + query made by query()) in both browsers, wait for
   * window.__result and check it. `plaintext(browser)` must match query().
   */
  async inBrowsers(origin, pathAndQuery, plaintext, { browsers = ["chromium", "firefox"], timeoutMs = 60_000 } = {}) {
    for (const name of browsers) {
      const pt = plaintext(name);
      const r = await this.pageResult(name, origin + pathAndQuery(pt), timeoutMs);
      this.checkSealed(r.result, pt, name);
      this.browsersChecked.add(name);
      this.log(`${name}: sealed v1 + v2, CLI opened both`);
    }
  }
  /** Load a page and return window.__result plus its console lines. */
  async pageResult(browserName, url, timeoutMs = 60_000) {
    const browser = await this.m.browser(browserName);
    const page = await browser.newPage();
    const logs = [];
    page.on("console", (msg) => logs.push(msg.text()));
    page.on("pageerror", (e) => logs.push(`pageerror: ${e?.message ?? e}`));
    try {
      await page.goto(url, { waitUntil: "load", timeout: timeoutMs });
      await page.waitForFunction("window.__result !== undefined", { timeout: timeoutMs }).catch((e) => {
        throw new Error(`${browserName} ${url}: no result (${e.message}); console: ${logs.join(" | ")}`);
      });
      const result = JSON.parse(await page.evaluate(() => JSON.stringify(window.__result)));
      return { result, logs };
    } finally {
      await page.close().catch(() => {});
    }
  }

  /**
   * A browser production build in `outDir` (of the project `projectDir`):
   * the package's .wasm is emitted as a file of its own (byte-identical),
   * never inlined (no `data:application/wasm`, no base64 of a wasm header or
   * other long base64 run in the JS/HTML), and none of the Node build
   * (node-open, generateKeyPair, sealpass.cjs, readFileSync) was bundled.
   * Returns the emitted .wasm paths (relative to outDir).
   */
  checkBrowserBuild(outDir, projectDir) {
    const want = fs.readFileSync(path.join(projectDir, "node_modules/sealpass/web/sealpass_bg.wasm"));
    const files = listFiles(outDir);
    const wasm = files.filter((f) => f.endsWith(".wasm") && fs.readFileSync(path.join(outDir, f)).equals(want));
    assert(wasm.length >= 1, `build output has no copy of sealpass_bg.wasm (files: ${files.join(", ")})`);
    const code = files.filter((f) => /\.(m?js|cjs|html?)$/.test(f));
    assert(code.length >= 1, `build output has no JS (files: ${files.join(", ")})`);
    for (const f of code) {
      const text = fs.readFileSync(path.join(outDir, f), "utf8");
      for (const bad of ["data:application/wasm", "AGFzbQ", "node-open", "generateKeyPair", "sealpass.cjs", "readFileSync"])
        assert(!text.includes(bad), `${f} contains ${JSON.stringify(bad)} (wasm inlined or the Node build bundled)`);
      const b64 = text.match(/[A-Za-z0-9+/]{2000,}/);
      assert(!b64, `${f} contains a ${b64?.[0].length}-character base64 run (wasm inlined?)`);
    }
    this.log(`build: ${wasm.join(", ")} emitted as a file (${want.length} bytes); ${code.length} JS/HTML file(s) without inlined wasm or Node build`);
    return wasm;
  }

  /** Serve `dir` on 127.0.0.1 (random port) with extra response headers; closed when the row ends. */
  async serveStatic(dir, { headers = {} } = {}) {
    const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json", ".css": "text/css" };
    const root = path.resolve(dir);
    const server = http.createServer((req, res) => {
      const url = new URL(req.url, "http://x");
      const p = path.normalize(path.join(root, decodeURIComponent(url.pathname)));
      const file = url.pathname.endsWith("/") ? path.join(p, "index.html") : p;
      if (!(file === root || file.startsWith(root + path.sep)) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
        res.writeHead(404).end("not found");
        return;
      }
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-store", ...headers });
      fs.createReadStream(file).pipe(res);
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.servers.push(server);
    return `http://127.0.0.1:${server.address().port}`;
  }

  /**
   * Start a long-running command (dev server, `next start`, workerd) in its
   * own process group; resolves once `readyUrl` answers (any HTTP status), or
   * once `ready(output)` is true, and kills the group when the row ends.
   */
  async spawnServer(cmd, argv, { cwd, env = {}, readyUrl, ready, timeoutMs = 120_000 } = {}) {
    const child = spawn(cmd, argv, { cwd, env: { ...process.env, ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    this.children.push(child);
    LIVE.add(child); // until cleanup() has killed its whole group
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${path.basename(cmd)} exited (${child.exitCode ?? child.signalCode}) before ${readyUrl} answered:\n${output.slice(-4000)}`);
      const ok = ready
        ? ready(output)
        : await fetch(readyUrl, { signal: AbortSignal.timeout(2000) }).then(
            () => true,
            () => false,
          );
      if (ok) return { child, output: () => output };
      await sleep(250);
    }
    throw new Error(`${path.basename(cmd)}: not ready (${readyUrl ?? "ready()"}) within ${timeoutMs} ms:\n${output.slice(-4000)}`);
  }

  async cleanup() {
    // close() alone waits for the browsers' kept-alive (and preconnected) sockets: ~100 s with Chromium.
    for (const s of this.servers) await new Promise((r) => (s.close(r), s.closeAllConnections()));
    // The whole process group, even when its leader already exited (a
    // launcher such as wrangler can leave its server running).
    for (const c of this.children) {
      const alive = c.exitCode === null && c.signalCode === null;
      try {
        process.kill(-c.pid, "SIGTERM");
      } catch {}
      if (alive) await Promise.race([new Promise((r) => c.once("exit", r)), sleep(5000)]);
      try {
        process.kill(-c.pid, "SIGKILL");
      } catch {}
      LIVE.delete(c);
    }
    this.servers = [];
    this.children = [];
  }
}
