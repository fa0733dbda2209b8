// Sealing in a module Web Worker: the page starts
// `new Worker(new URL("./seal-worker.js", import.meta.url), { type: "module" })`,
// the worker imports sealpass, awaits init() and answers postMessage requests.
// No helper in the package: the pattern below is what the README shows.
//   unbundled: import maps do not apply inside workers, so the worker imports
//              the package by path ("/node_modules/sealpass/index.js"); init()
//              fetches the .wasm from next to the package's JS.
//   esbuild:   page and worker are two entry points (esbuild does not follow
//              `new Worker(new URL(...))`); the worker imports the .wasm with
//              --loader:.wasm=file and passes its URL to init().
// Errors cross postMessage as { name, code, message } (structured clone keeps
// neither a custom `name` nor `code`) and the page rebuilds the Error, which
// `instanceof SealpassError` then recognises.
import fs from "node:fs";
import path from "node:path";
import { assert, runOk, write } from "../lib.mjs";

/** The worker: one generic request handler. */
export const workerSource = (importFrom, initCall) => `${importFrom}
const ready = ${initCall};
const api = { seal, fingerprint, identityFingerprint };

self.onmessage = async ({ data: { id, op, args } }) => {
  try {
    await ready;
    postMessage({ id, value: api[op](...args) });
  } catch (e) {
    postMessage({ id, error: { name: e.name, code: e.code, message: e.message } });
  }
};
`;

/** The page: a promise per request, then the same result object as t.appSource(). */
export const pageSource = (importFrom) => `import { SealpassError } from ${JSON.stringify(importFrom)};

const worker = new Worker(new URL("./seal-worker.js", import.meta.url), { type: "module" });
let nextId = 0;
function call(op, ...args) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    worker.addEventListener("message", function reply({ data }) {
      if (data.id !== id) return;
      worker.removeEventListener("message", reply);
      if (data.error) reject(Object.assign(new Error(data.error.message), data.error));
      else resolve(data.value);
    });
    worker.postMessage({ id, op, args });
  });
}

async function main() {
  const q = new URLSearchParams(location.search);
  const out = {};
  try {
    const ctx = JSON.parse(q.get("ctx"));
    out.fingerprint = await call("fingerprint", q.get("pk"));
    out.identityFingerprint = await call("identityFingerprint", q.get("nik"));
    out.envelope = await call("seal", q.get("pk"), q.get("pt"), ctx);
    out.envelope2 = await call("seal", q.get("pk"), "v2 " + q.get("pt"), ctx, { identity: q.get("nik") });
    try { await call("seal", q.get("pk"), "x", { ...ctx, injection_method: "Not Kebab" }); }
    catch (e) { out.err = { name: e.name, code: e.code, inst: e instanceof SealpassError, str: String(e) }; }
  } catch (e) {
    out.failed = String(e && e.stack || e);
  }
  window.__result = out;
}
main();
`;

export const IMPORTS = "import init, { seal, fingerprint, identityFingerprint } from";

export default {
  id: "webworker",
  title: "Module Web Worker (unbundled, and bundled with esbuild)",
  tier: "test",
  needs: "browser",
  config:
    'a module worker (`new Worker(new URL("./seal-worker.js", import.meta.url), { type: "module" })`) that imports sealpass and awaits `init()`; import maps do not apply in workers, so unbundled it imports `"/node_modules/sealpass/index.js"` (bundled: `"sealpass"`); errors cross `postMessage` as `{ name, code, message }`',
  async run(t) {
    // Unbundled: served as is.
    const site = t.project("site", { type: "module" });
    write(path.join(site, "seal-worker.js"), workerSource(`${IMPORTS} "/node_modules/sealpass/index.js";`, "init()"));
    write(path.join(site, "app.js"), pageSource("sealpass"));
    write(
      path.join(site, "index.html"),
      `<!doctype html><html><head><meta charset="utf-8">
<script type="importmap">{"imports":{"sealpass":"/node_modules/sealpass/index.js"}}</script>
<script type="module" src="/app.js"></script></head><body></body></html>`,
    );
    const origin = await t.serveStatic(site);
    t.log("unbundled worker:");
    await t.inBrowsers(origin, (pt) => `/index.html${t.query(pt)}`, (b) => `webworker unbundled ${b} sécret`);

    // esbuild: two entry points, the worker's .wasm as a file asset.
    const app = t.project("esbuild", { type: "module" });
    write(
      path.join(app, "src/seal-worker.js"),
      workerSource(`${IMPORTS} "sealpass";\nimport wasmUrl from "sealpass/sealpass_bg.wasm";`, "init(wasmUrl)"),
    );
    write(path.join(app, "src/app.js"), pageSource("sealpass"));
    const esbuild = path.join(t.m.deps, "node_modules/.bin/esbuild");
    runOk(esbuild, ["src/app.js", "src/seal-worker.js", "--bundle", "--format=esm", "--platform=browser", "--outdir=dist", "--loader:.wasm=file"], { cwd: app });
    assert(!fs.readFileSync(path.join(app, "dist/app.js"), "utf8").includes("instantiate"), "the page bundle holds the wasm loader (only the worker should)");
    write(path.join(app, "dist/index.html"), `<!doctype html><html><head><meta charset="utf-8"><script type="module" src="/app.js"></script></head><body></body></html>`);
    const origin2 = await t.serveStatic(path.join(app, "dist"));
    t.log("esbuild-bundled worker:");
    await t.inBrowsers(origin2, (pt) => `/index.html${t.query(pt)}`, (b) => `webworker esbuild ${b} sécret`);
  },
};
