// No bundler: a static page whose <script type="module"> imports "sealpass"
// through an import map pointing at the installed package; init() finds the
// .wasm next to the package's own JS.
import path from "node:path";
import { write } from "../lib.mjs";

export default {
  id: "importmap",
  title: 'Plain `<script type="module">` with an import map',
  tier: "test",
  needs: "browser",
  config: 'an import map entry `"sealpass": "/node_modules/sealpass/index.js"` (serve the package directory as is)',
  async run(t) {
    const dir = t.project("site", { type: "module" });
    write(path.join(dir, "app.js"), t.appSource());
    write(
      path.join(dir, "index.html"),
      `<!doctype html><html><head><meta charset="utf-8">
<script type="importmap">{"imports":{"sealpass":"/node_modules/sealpass/index.js"}}</script>
<script type="module" src="/app.js"></script></head><body></body></html>`,
    );
    const origin = await t.serveStatic(dir);
    await t.inBrowsers(origin, (pt) => `/index.html${t.query(pt)}`, (b) => `importmap ${b} sécret`);
  },
};
