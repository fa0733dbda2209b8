// esbuild --bundle (the esbuild of tests/npm/.deps: no install). esbuild does
// not treat `new URL(…, import.meta.url)` as an asset, so the app imports the
// .wasm itself: with `--loader:.wasm=file` that import is the URL of the
// emitted (hashed) file, and `init(wasmUrl)` fetches it. That URL is relative
// to the page ("./sealpass_bg-HASH.wasm") unless --public-path is set.
// Two builds: ESM with the page next to the bundle, and esbuild's default
// format (IIFE, a classic <script>) with the bundle in assets/ and
// --public-path=/assets.
import path from "node:path";
import { runOk, write } from "../lib.mjs";

export default {
  id: "esbuild",
  title: "esbuild --bundle",
  tier: "test",
  needs: "browser",
  config:
    '`--loader:.wasm=file` and `import wasmUrl from "sealpass/sealpass_bg.wasm"; await init(wasmUrl)` (the URL is relative to the page: set `--public-path` when the page is not next to the bundle)',
  async run(t) {
    const dir = t.project("app", { type: "module" });
    write(path.join(dir, "src/main.js"), t.appSource({ head: 'import wasmUrl from "sealpass/sealpass_bg.wasm";\n', initCall: "await init(wasmUrl);" }));
    const esbuild = path.join(t.m.deps, "node_modules/.bin/esbuild");
    const builds = [
      {
        name: "esm",
        argv: ["--format=esm", "--outdir=dist-esm"],
        out: "dist-esm",
        html: `<script type="module" src="main.js"></script>`,
      },
      {
        name: "iife",
        argv: ["--outdir=dist-iife/assets", "--public-path=/assets"],
        out: "dist-iife",
        html: `<script src="/assets/main.js"></script>`,
      },
    ];
    for (const b of builds) {
      runOk(esbuild, ["src/main.js", "--bundle", "--minify", "--loader:.wasm=file", ...b.argv], { cwd: dir });
      const dist = path.join(dir, b.out);
      write(path.join(dist, "index.html"), `<!doctype html><html><head><meta charset="utf-8">${b.html}</head><body></body></html>\n`);
      t.checkBrowserBuild(dist, dir);
      const origin = await t.serveStatic(dist);
      await t.inBrowsers(origin, (pt) => `/index.html${t.query(pt)}`, (br) => `esbuild ${b.name} ${br} sécret`);
    }
  },
};
