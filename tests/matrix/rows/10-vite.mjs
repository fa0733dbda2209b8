// Vite: the dev server and the production build (served statically), Vite 6
// and the latest Vite. Vite 6's default build target has no top-level await,
// so the app (t.appSource) calls init() inside async main().
//
// Two apps in one project, pages /init/ and /url/:
//   init/ — `await init()`: the glue finds the .wasm with
//           `new URL("sealpass_bg.wasm", import.meta.url)`;
//   url/  — `import wasmUrl from "sealpass/sealpass_bg.wasm?url"; await init(wasmUrl)`.
// The production build handles both with no config (the .wasm is emitted as a
// hashed asset). The Vite 6 dev server pre-bundles the package into
// node_modules/.vite/deps, where that `new URL` points at a file that is not
// there (the server answers with index.html: "expected magic word 00 61 73 6d"),
// so plain init() needs `optimizeDeps: { exclude: ["sealpass"] }` there; the
// ?url import needs nothing. Vite 8's pre-bundler rewrites the URL: both work
// with no config.
import path from "node:path";
import { assert, freePort, runOk, write } from "../lib.mjs";

const CONFIG =
  'nothing with `import wasmUrl from "sealpass/sealpass_bg.wasm?url"; await init(wasmUrl)`; plain `await init()` needs `optimizeDeps: { exclude: ["sealpass"] }` for the Vite 6 dev server';

function viteProject(t, version) {
  const dir = t.project("app", { type: "module", devDependencies: { vite: version } });
  const page = (name) =>
    write(
      path.join(dir, name, "index.html"),
      `<!doctype html><html><head><meta charset="utf-8"><title>sealpass + vite</title>
<script type="module" src="./main.js"></script></head><body></body></html>\n`,
    );
  page("init");
  write(path.join(dir, "init/main.js"), t.appSource());
  page("url");
  write(path.join(dir, "url/main.js"), t.appSource({ head: 'import wasmUrl from "sealpass/sealpass_bg.wasm?url";\n', initCall: "await init(wasmUrl);" }));
  // Not the default name: only the run that passes --config uses it.
  write(path.join(dir, "vite.exclude.config.js"), `import { defineConfig } from "vite";\nexport default defineConfig({ optimizeDeps: { exclude: ["sealpass"] } });\n`);
  return dir;
}

async function devServer(t, dir, argv = []) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = await t.spawnServer(path.join(dir, "node_modules/.bin/vite"), ["--host", "127.0.0.1", "--port", String(port), "--strictPort", "--clearScreen", "false", ...argv], {
    cwd: dir,
    readyUrl: `${origin}/url/`,
  });
  return { origin, server };
}
/** Stop one dev server (its process group) before the next one uses the same .vite cache. */
async function stop({ child }) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  process.kill(-child.pid, "SIGTERM");
  await gone;
}

function devRow(id, title, version, tier, { plainInitNeedsExclude }) {
  return {
    id,
    title,
    tier,
    needs: "browser",
    config: CONFIG,
    async run(t) {
      const dir = viteProject(t, version);
      const a = await devServer(t, dir);
      await t.inBrowsers(a.origin, (pt) => `/url/${t.query(pt)}`, (b) => `${id} url ${b} sécret`);
      if (!plainInitNeedsExclude) {
        await t.inBrowsers(a.origin, (pt) => `/init/${t.query(pt)}`, (b) => `${id} init ${b} sécret`);
        return;
      }
      // Not a requirement, a fact for the README: is the exclude still needed?
      const plain = await t.pageResult("chromium", `${a.origin}/init/${t.query("x")}`);
      // The README says the exclude is needed here: fail when that stops being true.
      assert(plain.result.failed, "plain init() works on this dev server without optimizeDeps.exclude now: update the row's config text (README)");
      t.log(`plain init() without config: fails (${plain.result.failed.split("\n")[0]}), as the README says`);
      await stop(a.server);
      const b = await devServer(t, dir, ["--config", "vite.exclude.config.js"]);
      await t.inBrowsers(b.origin, (pt) => `/init/${t.query(pt)}`, (br) => `${id} init+exclude ${br} sécret`);
    },
  };
}

function buildRow(id, title, version, tier) {
  return {
    id,
    title,
    tier,
    needs: "browser",
    config: CONFIG,
    async run(t) {
      const dir = viteProject(t, version);
      for (const app of ["init", "url"]) {
        runOk(path.join(dir, "node_modules/.bin/vite"), ["build", app], { cwd: dir });
        const dist = path.join(dir, app, "dist");
        t.checkBrowserBuild(dist, dir);
        const origin = await t.serveStatic(dist);
        await t.inBrowsers(origin, (pt) => `/index.html${t.query(pt)}`, (b) => `${id} ${app} ${b} sécret`);
      }
    },
  };
}

export default [
  devRow("vite6-dev", "Vite 6 dev server", "6.4.6", "test", { plainInitNeedsExclude: true }),
  buildRow("vite6-build", "Vite 6 production build", "6.4.6", "test"),
  devRow("vite-dev", "Vite 8 dev server", "8.4.0", "test", { plainInitNeedsExclude: false }),
  buildRow("vite-build", "Vite 8 production build", "8.4.0", "test"),
];
