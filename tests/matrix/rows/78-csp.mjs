// A strict Content-Security-Policy (response header on every file, so the
// worker script gets it too): no 'unsafe-eval', no 'unsafe-inline'.
//   script-src 'self' 'wasm-unsafe-eval'  the module scripts, and compiling
//                                         the .wasm (Chromium and Firefox
//                                         check WebAssembly compilation
//                                         against script-src)
//   connect-src 'self'                    init()'s fetch of the .wasm
//   worker-src                            not needed for a same-origin worker:
//                                         it falls back to script-src 'self'
// The page imports the package by path (an inline import map would need a
// hash in script-src). Checked: the page and a module worker seal under it;
// without 'wasm-unsafe-eval' init() and initSync() reject with WasmBlocked
// whose message says what to add (the browsers' own CompileError, kept as
// `cause`, names 'unsafe-eval' in Chromium and only "CSP" in Firefox);
// without connect-src the .wasm fetch is what fails.
import path from "node:path";
import { assert, eq, write } from "../lib.mjs";
import { IMPORTS, pageSource, workerSource } from "./75-webworker.mjs";

const SEALPASS = "/node_modules/sealpass/index.js";
const STRICT = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'";
const NO_WASM = "default-src 'none'; script-src 'self'; connect-src 'self'";
const NO_CONNECT = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'";

const html = (src) => `<!doctype html><html><head><meta charset="utf-8"><script type="module" src="${src}"></script></head><body></body></html>`;

/** A page that only loads the module and reports how init() / initSync() / a worker's init() ended. */
const probe = `import init, { initSync } from ${JSON.stringify(SEALPASS)};
const show = (e) => ({ name: e.name, message: e.message, cause: e.cause ? e.cause.name + ": " + e.cause.message : null });
async function main() {
  const out = {};
  out.init = await init().then(() => "ok", show);
  try {
    const bytes = await (await fetch("/node_modules/sealpass/web/sealpass_bg.wasm")).arrayBuffer();
    initSync(bytes);
    out.initSync = "ok";
  } catch (e) {
    out.initSync = show(e);
  }
  const w = new Worker(new URL("./probe-worker.js", import.meta.url), { type: "module" });
  out.worker = await new Promise((resolve) => {
    w.onmessage = (m) => resolve(m.data);
    w.onerror = (e) => resolve({ name: "worker onerror", message: String(e.message) });
  });
  window.__result = out;
}
main();
`;
const probeWorker = `import init from ${JSON.stringify(SEALPASS)};
init().then(
  () => postMessage("ok"),
  (e) => postMessage({ name: e.name, message: e.message, cause: e.cause ? e.cause.name + ": " + e.cause.message : null }),
);
`;

export default {
  id: "csp",
  title: "Strict Content-Security-Policy (no 'unsafe-eval', no 'unsafe-inline')",
  tier: "test",
  needs: "browser",
  config:
    "`script-src 'self' 'wasm-unsafe-eval'` (compiling Wasm) and `connect-src 'self'` (the .wasm fetch; or the CDN's origin); a worker script needs the same in its own CSP header; without 'wasm-unsafe-eval' `init()` rejects with `WasmBlocked`",
  async run(t) {
    const dir = t.project("site", { type: "module" });
    write(path.join(dir, "app.js"), t.appSource({ importFrom: SEALPASS }));
    write(path.join(dir, "index.html"), html("/app.js"));
    write(path.join(dir, "seal-worker.js"), workerSource(`${IMPORTS} ${JSON.stringify(SEALPASS)};`, "init()"));
    write(path.join(dir, "worker-app.js"), pageSource(SEALPASS));
    write(path.join(dir, "worker.html"), html("/worker-app.js"));
    write(path.join(dir, "probe.js"), probe);
    write(path.join(dir, "probe-worker.js"), probeWorker);
    write(path.join(dir, "probe.html"), html("/probe.js"));

    const strict = await t.serveStatic(dir, { headers: { "content-security-policy": STRICT } });
    const csp = (await fetch(`${strict}/app.js`)).headers.get("content-security-policy");
    eq(csp, STRICT, "CSP header on the app's responses");
    t.log(`page under ${STRICT}:`);
    await t.inBrowsers(strict, (pt) => `/index.html${t.query(pt)}`, (b) => `csp page ${b} sécret`);
    t.log("module worker under the same CSP:");
    await t.inBrowsers(strict, (pt) => `/worker.html${t.query(pt)}`, (b) => `csp worker ${b} sécret`);

    const noWasm = await t.serveStatic(dir, { headers: { "content-security-policy": NO_WASM } });
    const noConnect = await t.serveStatic(dir, { headers: { "content-security-policy": NO_CONNECT } });
    for (const b of ["chromium", "firefox"]) {
      // Without 'wasm-unsafe-eval': WasmBlocked from init(), initSync() and in the worker.
      const { result: r } = await t.pageResult(b, `${noWasm}/probe.html`);
      for (const k of ["init", "initSync", "worker"]) {
        const e = r[k];
        assert(e && e !== "ok", `${b}: ${k} succeeded under ${NO_WASM}`);
        eq(e.name, "WasmBlocked", `${b}: ${k} error name under ${NO_WASM} (${e.message}; cause ${e.cause})`);
        assert(e.message.includes("add 'wasm-unsafe-eval' to script-src"), `${b}: ${k}: message does not say what to add: ${e.message}`);
        assert(/^CompileError: /.test(e.cause), `${b}: ${k}: cause is not the browser's CompileError: ${e.cause}`);
      }
      t.log(`${b}: no 'wasm-unsafe-eval': init(), initSync(), worker init() -> WasmBlocked (cause ${r.init.cause})`);
      // Without connect-src: the .wasm fetch fails (a network TypeError, not WasmBlocked); initSync(bytes) cannot fetch either.
      const { result: n } = await t.pageResult(b, `${noConnect}/probe.html`);
      for (const k of ["init", "initSync", "worker"]) {
        assert(n[k] !== "ok", `${b}: ${k} succeeded under ${NO_CONNECT}`);
        eq(n[k].name, "TypeError", `${b}: ${k} error under ${NO_CONNECT} (${n[k].message})`);
      }
      t.log(`${b}: no connect-src: the .wasm fetch fails (${n.init.name}: ${n.init.message})`);
    }
  },
};
