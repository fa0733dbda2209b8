// Cloudflare Workers: workerd (the open-source Workers runtime, which
// wrangler dev runs) serving a Worker bundled the way wrangler bundles one:
// esbuild with the conditions workerd,worker,browser and every .wasm kept as
// a separate module (wrangler uploads it as a compiled-Wasm module; here the
// workerd config lists it as a `wasm` module). workerd refuses to compile
// Wasm from bytes, so the package's "workerd" entry imports the .wasm and
// instantiates the compiled Module on import: the Worker calls no init().
import fs from "node:fs";
import path from "node:path";
import { freePort, runOk, write } from "../lib.mjs";
import { node22, tool } from "../runtime.mjs";

const WORKERD = "1.20261117.1";
const WRANGLER = "4.164.0"; // depends on workerd 1.20261117.1; needs Node >= 22.12

// No init() before sealing: the workerd entry is ready on import. The calls
// after it show that code shared with the browser entry may still call them.
const WORKER = `import init, { initSync, seal, fingerprint, identityFingerprint, SealpassError } from "sealpass";

export default {
  async fetch(request) {
    const q = new URL(request.url).searchParams;
    const out = {};
    try {
      const ctx = JSON.parse(q.get("ctx"));
      out.fingerprint = fingerprint(q.get("pk"));
      out.identityFingerprint = identityFingerprint(q.get("nik"));
      out.envelope = seal(q.get("pk"), q.get("pt"), ctx);
      out.envelope2 = seal(q.get("pk"), "v2 " + q.get("pt"), ctx, { identity: q.get("nik") });
      try { seal(q.get("pk"), "x", { ...ctx, injection_method: "Not Kebab" }); }
      catch (e) { out.err = { name: e.name, code: e.code, inst: e instanceof SealpassError, str: String(e) }; }
      await init();
      initSync();
    } catch (e) {
      out.failed = String((e && e.stack) || e);
    }
    return Response.json(out);
  },
};
`;

/** A workerd config (capnp text) serving one Worker made of `modules` ([name, kind, file]). */
function capnpConfig(modules) {
  const list = modules.map(([name, kind, file]) => `      (name = ${JSON.stringify(name)}, ${kind} = embed ${JSON.stringify(file)}),`).join("\n");
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
${list}
  ],
  compatibilityDate = "2026-11-01",
);
`;
}

/** Bundle src/worker.js like wrangler: ESM, workerd,worker,browser conditions, .wasm files as separate modules. */
function bundle(t, dir, outdir) {
  const esbuild = path.join(t.m.deps, "node_modules/.bin/esbuild");
  runOk(
    esbuild,
    ["src/worker.js", "--bundle", "--format=esm", "--platform=browser", "--target=es2022", "--conditions=workerd,worker,browser", "--loader:.wasm=copy", "--asset-names=[name]-[hash]", `--outdir=${outdir}`, "--log-level=warning"],
    { cwd: dir },
  );
  const files = fs.readdirSync(path.join(dir, outdir));
  const wasm = files.filter((f) => f.endsWith(".wasm"));
  const js = fs.readFileSync(path.join(dir, outdir, "worker.js"), "utf8");
  return { files, wasm, js };
}

/** GET `url` and parse the JSON the Worker answered. */
async function workerResult(url) {
  const res = await fetch(url);
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`the Worker answered ${res.status}: ${text.slice(0, 2000)}`);
  }
}

const workerdRow = {
  id: "workerd",
  title: "Cloudflare Workers (workerd; wrangler's bundling)",
  tier: "test",
  needs: "runtime",
  config: 'nothing with wrangler (it resolves the `workerd` condition and imports `.wasm` as modules); with another bundler: the conditions `workerd,worker,browser` and `.wasm` imports kept as separate Wasm modules',
  async run(t) {
    if (process.platform !== "linux" || process.arch !== "x64") t.cannotRun(`@cloudflare/workerd-linux-64 is for linux x64, not ${process.platform} ${process.arch}`);
    const workerd = path.join(tool(t, "workerd", { workerd: WORKERD }), "node_modules/@cloudflare/workerd-linux-64/bin/workerd");
    const version = runOk(workerd, ["--version"]).stdout.trim();
    const dir = t.project("worker", { type: "module" });
    write(path.join(dir, "src/worker.js"), WORKER);
    const { wasm, js } = bundle(t, dir, "dist");
    if (wasm.length !== 1) throw new Error(`expected one .wasm module next to the bundle, got ${JSON.stringify(wasm)}`);
    if (!js.includes(`from "./${wasm[0]}"`)) throw new Error(`the bundle does not import ./${wasm[0]} as a module`);
    write(path.join(dir, "dist/config.capnp"), capnpConfig([["worker.js", "esModule", "worker.js"], [wasm[0], "wasm", wasm[0]]]));
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    await t.spawnServer(workerd, ["serve", "config.capnp", "--socket-addr", `http=127.0.0.1:${port}`], { cwd: path.join(dir, "dist"), readyUrl: `${origin}/ready` });
    const pt = "workerd sécret";
    t.checkSealed(await workerResult(`${origin}/${t.query(pt)}`), pt, version);
    t.log(`${version}: the Worker sealed v1 + v2 without init(), CLI opened both (bundle: worker.js + ${wasm[0]})`);
  },
};

// The same Worker under `wrangler dev` (wrangler's own esbuild bundling and
// its local workerd through miniflare), with nothing but a wrangler.toml;
// `wrangler deploy --dry-run` shows what would be uploaded: the .wasm as its
// own module next to worker.js.
const wranglerRow = {
  id: "wrangler",
  title: "Cloudflare Workers with wrangler (`wrangler dev`, `wrangler deploy --dry-run`)",
  tier: "test",
  needs: "runtime",
  config: "nothing (wrangler resolves the `workerd` condition and bundles the `.wasm` as a separate Wasm module); TypeScript: `\"customConditions\": [\"workerd\"]` in tsconfig, else it takes the browser types (DOM lib)",
  async run(t) {
    const node = node22(t);
    const wrangler = path.join(tool(t, "wrangler", { wrangler: WRANGLER }), "node_modules/wrangler/bin/wrangler.js");
    const dir = t.project("worker", { type: "module" });
    write(path.join(dir, "src/worker.js"), WORKER);
    write(path.join(dir, "wrangler.toml"), `name = "sealpass-consumer"\nmain = "src/worker.js"\ncompatibility_date = "2026-11-01"\n`);
    // No account, no metrics; the request.cf data is not fetched from workers.cloudflare.com.
    const env = { WRANGLER_SEND_METRICS: "false", DO_NOT_TRACK: "1", CI: "1", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_LOG_PATH: path.join(dir, ".wrangler-logs") };
    const version = runOk(node, [wrangler, "--version"], { cwd: dir, env: { ...process.env, ...env } }).stdout.trim().split("\n").at(-1);
    runOk(node, [wrangler, "deploy", "--dry-run", "--outdir", "out"], { cwd: dir, env: { ...process.env, ...env } });
    const out = fs.readdirSync(path.join(dir, "out"));
    const wasm = out.filter((f) => f.endsWith(".wasm"));
    if (wasm.length !== 1) throw new Error(`wrangler deploy --dry-run: expected one .wasm module, got ${JSON.stringify(out)}`);
    if (!fs.readFileSync(path.join(dir, "out/worker.js"), "utf8").includes(`from "./${wasm[0]}"`)) throw new Error(`wrangler's worker.js does not import ./${wasm[0]}`);
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    await t.spawnServer(node, [wrangler, "dev", "--ip", "127.0.0.1", "--port", String(port), "--show-interactive-dev-session=false"], { cwd: dir, env, readyUrl: `${origin}/ready` });
    const pt = "wrangler dev sécret";
    t.checkSealed(await workerResult(`${origin}/${t.query(pt)}`), pt, `wrangler ${version}`);
    t.log(`wrangler ${version}: deploy --dry-run emits worker.js + ${wasm[0]}; wrangler dev sealed v1 + v2, CLI opened both`);
  },
};

export default [workerdRow, wranglerRow];
