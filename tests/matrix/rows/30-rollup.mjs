// Rollup 4 with @rollup/plugin-node-resolve. Rollup leaves the glue's
// `new URL("sealpass_bg.wasm", import.meta.url)` alone and copies no asset,
// so the .wasm is missing next to the bundle. Two honest fixes, both built here:
//   plugin — @web/rollup-plugin-import-meta-assets emits it (hashed) and rewrites the URL;
//   copy   — no plugin: copy node_modules/sealpass/web/sealpass_bg.wasm into the
//            output dir, next to the chunk (the URL is relative to the chunk).
import fs from "node:fs";
import path from "node:path";
import { runOk, write } from "../lib.mjs";

const config = (out, plugin) => `import { nodeResolve } from "@rollup/plugin-node-resolve";
${plugin ? 'import { importMetaAssets } from "@web/rollup-plugin-import-meta-assets";\n' : ""}
export default {
  input: "src/main.js",
  output: { dir: "${out}", format: "es" },
  plugins: [nodeResolve({ browser: true })${plugin ? ", importMetaAssets()" : ""}],
};
`;

export default {
  id: "rollup",
  title: "Rollup 4 build",
  tier: "test",
  needs: "browser",
  config:
    '`@rollup/plugin-node-resolve` (`browser: true`), output `format: "es"`, and either `@web/rollup-plugin-import-meta-assets` (emits the .wasm) or a copy of `node_modules/sealpass/web/sealpass_bg.wasm` next to the bundle',
  async run(t) {
    const dir = t.project("app", {
      type: "module",
      devDependencies: { rollup: "4.68.9", "@rollup/plugin-node-resolve": "16.0.3", "@web/rollup-plugin-import-meta-assets": "2.3.3" },
    });
    write(path.join(dir, "src/main.js"), t.appSource());
    write(path.join(dir, "rollup.config.js"), config("dist", true));
    write(path.join(dir, "rollup.copy.config.js"), config("dist-copy", false));
    const rollup = path.join(dir, "node_modules/.bin/rollup");
    runOk(rollup, ["-c"], { cwd: dir });
    runOk(rollup, ["-c", "rollup.copy.config.js"], { cwd: dir });
    fs.copyFileSync(path.join(dir, "node_modules/sealpass/web/sealpass_bg.wasm"), path.join(dir, "dist-copy/sealpass_bg.wasm"));
    for (const [name, out] of [["plugin", "dist"], ["copy", "dist-copy"]]) {
      const dist = path.join(dir, out);
      write(path.join(dist, "index.html"), `<!doctype html><html><head><meta charset="utf-8"><script type="module" src="main.js"></script></head><body></body></html>\n`);
      t.checkBrowserBuild(dist, dir);
      const origin = await t.serveStatic(dist);
      await t.inBrowsers(origin, (pt) => `/index.html${t.query(pt)}`, (b) => `rollup ${name} ${b} sécret`);
    }
  },
};
