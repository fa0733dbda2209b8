// webpack 5 with webpack-cli, production mode and no webpack.config.js at
// all: src/index.js -> dist/main.js. webpack 5 turns the glue's
// `new URL("sealpass_bg.wasm", import.meta.url)` into an asset module, so the
// .wasm is emitted next to the bundle and `init()` needs no argument.
import path from "node:path";
import { runOk, write } from "../lib.mjs";

export default {
  id: "webpack5",
  title: "webpack 5 production build",
  tier: "test",
  needs: "browser",
  config: "nothing (webpack 5 emits the .wasm as an asset from `new URL(…, import.meta.url)`)",
  async run(t) {
    const dir = t.project("app", { devDependencies: { webpack: "5.113.0", "webpack-cli": "7.3.1" } });
    write(path.join(dir, "src/index.js"), t.appSource());
    runOk(path.join(dir, "node_modules/.bin/webpack"), ["--mode", "production"], { cwd: dir });
    const dist = path.join(dir, "dist");
    // webpack writes no HTML without a plugin: the page is the user's own.
    write(path.join(dist, "index.html"), `<!doctype html><html><head><meta charset="utf-8"><script src="main.js"></script></head><body></body></html>\n`);
    t.checkBrowserBuild(dist, dir);
    const origin = await t.serveStatic(dist);
    await t.inBrowsers(origin, (pt) => `/index.html${t.query(pt)}`, (b) => `webpack5 ${b} sécret`);
  },
};
