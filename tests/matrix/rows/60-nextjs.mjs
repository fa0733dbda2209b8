// Next.js App Router, production build (`next build`, Turbopack by default in
// Next 16) served by `next start`: a "use client" component loads sealpass
// with a dynamic import() inside useEffect, so neither the glue nor the .wasm
// is in the page's initial chunks. Turbopack (like webpack) turns wasm-bindgen's
// `new URL("sealpass_bg.wasm", import.meta.url)` into a hashed file under
// .next/static/media, so init() needs no argument and next.config nothing.
// Row `nextjs-webpack` (also in `./build.sh test`) builds the same app with `--webpack`.
import fs from "node:fs";
import path from "node:path";
import { assert, eq, freePort, runOk, write } from "../lib.mjs";

const VERSIONS = { next: "16.4.6", react: "19.3.1", "react-dom": "19.3.1" };

/** The client component a user writes: sealpass is imported on demand, in the effect. */
const SEALER = `"use client";
import { useEffect, useState } from "react";

export default function Sealer() {
  const [status, setStatus] = useState("loading");
  useEffect(() => {
    async function main() {
      // Loaded on demand: sealpass (and its .wasm) is not in the page's initial chunks.
      const { default: init, seal, fingerprint, identityFingerprint, SealpassError } = await import("sealpass");
      const q = new URLSearchParams(location.search);
      const out = {};
      try {
        await init();
        const ctx = JSON.parse(q.get("ctx"));
        out.fingerprint = fingerprint(q.get("pk"));
        out.identityFingerprint = identityFingerprint(q.get("nik"));
        out.envelope = seal(q.get("pk"), q.get("pt"), ctx);
        out.envelope2 = seal(q.get("pk"), "v2 " + q.get("pt"), ctx, { identity: q.get("nik") });
        try { seal(q.get("pk"), "x", { ...ctx, injection_method: "Not Kebab" }); }
        catch (e) { out.err = { name: e.name, code: e.code, inst: e instanceof SealpassError, str: String(e) }; }
      } catch (e) {
        out.failed = String((e && e.stack) || e);
      }
      setStatus(out.failed ? "failed" : "sealed");
      window.__result = out;
    }
    main().catch((e) => { window.__result = { failed: String((e && e.stack) || e) }; });
  }, []);
  return <p id="status">{status}</p>;
}
`;

/** Every file under dir (relative paths). */
function walk(dir, rel = "") {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((d) => {
    const r = path.join(rel, d.name);
    return d.isDirectory() ? walk(dir, r) : [r];
  });
}

/** The App Router project: a server page rendering the client component. */
function app(t) {
  const t0 = Date.now();
  const dir = t.project("app", { devDependencies: VERSIONS });
  t.log(`npm install next, react, react-dom, sealpass: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  write(
    path.join(dir, "app/layout.js"),
    `export const metadata = { title: "sealpass consumer" };
export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
`,
  );
  write(
    path.join(dir, "app/page.js"),
    `import Sealer from "./Sealer";
export default function Page() {
  return (
    <main>
      <h1>sealpass</h1>
      <Sealer />
    </main>
  );
}
`,
  );
  write(path.join(dir, "app/Sealer.js"), SEALER);
  return dir;
}

const CONFIG =
  'nothing in next.config; import sealpass with `await import("sealpass")` inside a `"use client"` component\'s effect or event handler (it is browser-only, and so it stays out of the initial chunks); `init()` needs no argument';

/** One row per bundler of `next build`: Turbopack (the default) and `--webpack`. */
const row = ({ id, title, tier, bundler, args }) => ({
  id,
  title,
  tier,
  needs: "browser",
  config: CONFIG,
  async run(t) {
    const dir = app(t);
    const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
    const next = path.join(dir, "node_modules/.bin/next");
    const t0 = Date.now();
    const build = runOk(next, ["build", ...args], { cwd: dir, env });
    const used = /Next\.js [\d.]+ \((\w+)/.exec(build.stdout)?.[1] ?? "?";
    t.log(`next build${args.map((a) => ` ${a}`).join("")} (${used}): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    eq(used, bundler, "next build: bundler");

    // The .wasm is its own file, byte for byte the package's.
    const staticDir = path.join(dir, ".next/static");
    const files = walk(staticDir);
    const wasms = files.filter((f) => f.endsWith(".wasm"));
    eq(wasms.length, 1, `.wasm files under .next/static (${wasms.join(", ")})`);
    const pkgWasm = fs.readFileSync(path.join(dir, "node_modules/sealpass/web/sealpass_bg.wasm"));
    assert(fs.readFileSync(path.join(staticDir, wasms[0])).equals(pkgWasm), `.next/static/${wasms[0]} differs from sealpass's web/sealpass_bg.wasm`);
    const wasmName = path.basename(wasms[0]);
    const lazy = files.filter((f) => f.endsWith(".js") && fs.readFileSync(path.join(staticDir, f), "utf8").includes(wasmName));
    eq(lazy.length, 1, `JS chunks naming ${wasmName}`);

    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    await t.spawnServer(next, ["start", "-p", String(port), "-H", "127.0.0.1"], { cwd: dir, env, readyUrl: `${origin}/` });

    // The initial page: no .wasm, and none of its scripts holds sealpass's glue.
    const html = await (await fetch(`${origin}/`)).text();
    assert(!html.includes(".wasm"), "the initial HTML references a .wasm");
    const initial = [...new Set([...html.matchAll(/\/_next\/(static\/[^"'\s\\]+\.js)/g)].map((m) => m[1]))];
    assert(initial.length > 0, "no /_next/static/*.js in the initial HTML");
    for (const c of initial) {
      const js = fs.readFileSync(path.join(dir, ".next", c), "utf8");
      assert(!js.includes(wasmName) && !js.includes("instantiateStreaming"), `initial chunk ${c} holds sealpass's wasm loader`);
    }
    assert(!initial.includes(`static/${lazy[0]}`), `the chunk with the wasm loader (${lazy[0]}) is an initial chunk`);
    t.log(`initial page: ${initial.length} scripts, none with the wasm; the loader is lazy chunk ${lazy[0]}, the wasm ${wasms[0]} (${pkgWasm.length} bytes)`);

    await t.inBrowsers(origin, (pt) => `/${t.query(pt)}`, (b) => `${id} ${b} sécret`);
  },
});

/** `next dev` (Turbopack): what users see first. */
const dev = {
  id: "nextjs-dev",
  title: "Next.js 16 (App Router, `next dev` with Turbopack)",
  tier: "test",
  needs: "browser",
  config: CONFIG,
  async run(t) {
    const dir = app(t);
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
    const srv = await t.spawnServer(path.join(dir, "node_modules/.bin/next"), ["dev", "-p", String(port), "-H", "127.0.0.1"], { cwd: dir, env, readyUrl: `${origin}/` });
    eq(/Next\.js [\d.]+ \((\w+)/.exec(srv.output())?.[1], "Turbopack", "next dev: bundler");
    await t.inBrowsers(origin, (pt) => `/${t.query(pt)}`, (b) => `nextjs-dev ${b} sécret`, { timeoutMs: 120_000 });
  },
};

export default [
  row({ id: "nextjs", title: "Next.js 16 (App Router, `next build` with Turbopack, `next start`)", tier: "test", bundler: "Turbopack", args: [] }),
  row({ id: "nextjs-webpack", title: "Next.js 16 (App Router, `next build --webpack`, `next start`)", tier: "test", bundler: "webpack", args: ["--webpack"] }),
  dev,
];
