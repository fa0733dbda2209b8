// Parcel 2 production build from index.html. Parcel treats the glue's
// `new URL("sealpass_bg.wasm", import.meta.url)` as a URL dependency and
// emits the .wasm (hashed) next to the bundle.
import path from "node:path";
import { runOk, write } from "../lib.mjs";

export default {
  id: "parcel",
  title: "Parcel 2 production build",
  tier: "test",
  needs: "browser",
  config: "nothing",
  async run(t) {
    const dir = t.project("app", { devDependencies: { parcel: "2.16.4" } });
    write(path.join(dir, "src/main.js"), t.appSource());
    write(
      path.join(dir, "src/index.html"),
      `<!doctype html><html><head><meta charset="utf-8"><title>sealpass + parcel</title>
<script type="module" src="./main.js"></script></head><body></body></html>\n`,
    );
    runOk(path.join(dir, "node_modules/.bin/parcel"), ["build", "src/index.html", "--dist-dir", "dist", "--no-autoinstall"], { cwd: dir });
    const dist = path.join(dir, "dist");
    t.checkBrowserBuild(dist, dir);
    const origin = await t.serveStatic(dist);
    await t.inBrowsers(origin, (pt) => `/index.html${t.query(pt)}`, (b) => `parcel ${b} sécret`);
  },
};
