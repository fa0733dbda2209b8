// Consumer tests of the packed `sealpass` npm package (driven by run.sh).
//
// Installs the tarball (offline) into fresh temp projects and checks it the
// way users consume it: Node ESM + CommonJS, interop with the native CLI in
// both directions, the seal-only browser entry, esbuild bundles and an
// unbundled <script type="module"> page in headless Chromium and Firefox
// (puppeteer-core, system browsers), `tsc --strict`, `npm publish --dry-run`
// and the browser payload size. Ends with `N passed, N failed`.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";

// ---------------------------------------------------------------- args
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const ROOT = args.root;
const TARBALL = args.tarball;
const CLI = args.cli;
const DEPS = args.deps;
for (const [k, v] of Object.entries({ root: ROOT, tarball: TARBALL, cli: CLI, deps: DEPS }))
  if (!v) throw new Error(`missing --${k}`);
const BIN = (name) => path.join(DEPS, "node_modules/.bin", name);
const KEEP = process.env.SEALPASS_NPM_KEEP === "1";

/** Gzip -9 budget for the browser payload (wasm + glue + entry): the design record's page budget. */
const GZIP_BUDGET = 30 * 1024;

/** Exactly what the tarball may hold. */
const ALLOWED_FILES = [
  "README.md",
  "package.json",
  "index.js",
  "index.d.ts",
  "web/sealpass.js",
  "web/sealpass_bg.wasm",
  "node/errors.cjs",
  "node/index.cjs",
  "node/index.mjs",
  "node/index.d.cts",
  "node/index.d.mts",
  "node/sealpass.cjs",
  "node/sealpass_bg.wasm",
  "node-open/index.cjs",
  "node-open/index.mjs",
  "node-open/index.d.cts",
  "node-open/index.d.mts",
  "node-open/sealpass.cjs",
  "node-open/sealpass_bg.wasm",
].sort();

// ---------------------------------------------------------------- harness
const results = [];
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name} (${Date.now() - t0} ms)\n     ${String(e?.stack ?? e).split("\n").join("\n     ")}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
function eq(actual, expected, msg) {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Error(`${msg}: expected ${b}, got ${a}`);
}
/** Same list, same order; on mismatch name what is missing, extra or moved. */
function sameList(actual, expected, msg) {
  if (JSON.stringify(actual) === JSON.stringify(expected)) return;
  const missing = expected.filter((x) => !actual.includes(x));
  const extra = actual.filter((x) => !expected.includes(x));
  throw new Error(`${msg}: missing [${missing.join(", ")}], extra [${extra.join(", ")}]${missing.length || extra.length ? "" : ", order differs"}`);
}
function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: opts.encoding ?? "utf8", maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  return r;
}
function runOk(cmd, argv, opts = {}) {
  const r = run(cmd, argv, opts);
  if (r.status !== 0)
    throw new Error(`${cmd} ${argv.join(" ")} exited ${r.status}\n${r.stdout ?? ""}\n${r.stderr ?? ""}`);
  return r;
}

// ---------------------------------------------------------------- fixtures
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "sealpass-npm-"));
const write = (p, text) => {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
};

/** A fresh project with the tarball installed from disk, offline. */
function project(name, pkgJson = {}) {
  const dir = path.join(TMP, name);
  write(path.join(dir, "package.json"), JSON.stringify({ name: `consumer-${name}`, private: true, ...pkgJson }, null, 2));
  runOk("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", TARBALL], { cwd: dir });
  return dir;
}

// Native key pair and context shared by the interop checks.
const KEY_FILE = path.join(TMP, "node.key");
const PUBLIC_KEY = runOk(CLI, ["keygen", "--out", KEY_FILE]).stdout.trim();
const SECRET_KEY = fs.readFileSync(KEY_FILE, "utf8");
const CONTEXT = {
  node_id: "node-7",
  pending_id: "pend-42",
  slug: "stripe-key",
  injection_method: "header",
  field_name: "Authorization",
  target_url: "https://api.example.com/v1/charges",
};
const CTX_FILE = write(path.join(TMP, "ctx.json"), JSON.stringify(CONTEXT));

/** Open an envelope with the native CLI; returns the plaintext. */
function cliOpen(envelope, { keyFile = KEY_FILE, ctxFile = CTX_FILE } = {}) {
  const r = run(CLI, ["open", "--key", keyFile, "--context", ctxFile], {
    input: typeof envelope === "string" ? envelope : JSON.stringify(envelope),
  });
  assert(r.status === 0, `sealpass open failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

// The worked example of docs/PROTOCOL.md §12 (the README's browser example seals to its npk).
const WORKED = {
  nskHex: "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
  npk: "YFpyXSpK3-6xop4X7dYhwbdZPujNvESsbEq24vgF0jw",
  fingerprint: "6636-bbd9-7ffc-80ee-2071-eb1a-252b-3795",
};
const WORKED_KEY_FILE = write(
  path.join(TMP, "worked.key"),
  Buffer.from(WORKED.nskHex, "hex").toString("base64url") + "\n",
);

function readmeBlock(readme, marker) {
  const at = readme.indexOf(`<!-- example:${marker} -->`);
  assert(at >= 0, `README has no example:${marker} block`);
  const m = readme.slice(at).match(/```js\n([\s\S]*?)```/);
  assert(m, `README example:${marker} has no js block`);
  return m[1];
}

// ---------------------------------------------------------------- package contents
const tarList = runOk("tar", ["tzf", TARBALL]).stdout.split("\n").filter(Boolean);

await check("tarball holds exactly the allow-listed files (no sources, tests or maps)", () => {
  const files = tarList.map((f) => f.replace(/^package\//, "")).sort();
  const extra = files.filter((f) => !ALLOWED_FILES.includes(f));
  const missing = ALLOWED_FILES.filter((f) => !files.includes(f));
  assert(!extra.length && !missing.length, `extra: ${extra.join(", ") || "-"}; missing: ${missing.join(", ") || "-"}`);
  const bad = files.filter((f) => /\.(map|rs|ts|tsx)$/.test(f) && !/\.d\.[cm]?ts$/.test(f));
  assert(!bad.length, `forbidden files: ${bad}`);
});

await check("npm publish --dry-run passes and lists only allow-listed files", () => {
  const r = runOk("npm", ["publish", "--dry-run", "--json", "--loglevel=error", TARBALL], { cwd: TMP });
  const info = JSON.parse(r.stdout);
  const entry = info.sealpass ?? info;
  eq(entry.name, "sealpass", "package name");
  const files = entry.files.map((f) => f.path).sort();
  eq(files, ALLOWED_FILES, "published files");
});

const PKG_JSON = JSON.parse(runOk("tar", ["xzOf", TARBALL, "package/package.json"]).stdout);
await check("package.json: name, version from Cargo.toml, type, exports, engines, license, sideEffects", () => {
  const cargo = fs.readFileSync(path.join(ROOT, "Cargo.toml"), "utf8");
  const version = cargo.match(/^\[package\][\s\S]*?^version\s*=\s*"([^"]+)"/m)[1];
  eq(PKG_JSON.name, "sealpass", "name");
  eq(PKG_JSON.version, version, "version");
  eq(PKG_JSON.type, "module", "type");
  eq(PKG_JSON.license, "MIT OR Apache-2.0", "license");
  eq(PKG_JSON.sideEffects, false, "sideEffects");
  eq(PKG_JSON.engines, { node: ">=20" }, "engines");
  const dot = PKG_JSON.exports["."];
  eq(dot.browser, { types: "./index.d.ts", default: "./index.js" }, "exports['.'].browser");
  eq(dot.import, { types: "./index.d.ts", default: "./index.js" }, "exports['.'].import");
  eq(dot.node.import.default, "./node/index.mjs", "node import");
  eq(dot.node.require.default, "./node/index.cjs", "node require");
  eq(Object.keys(PKG_JSON.exports["./node-open"]), ["node"], "node-open is Node-only");
  assert(!PKG_JSON.dependencies, "the package has no dependencies");
});

await check("error codes: index.d.ts and README tables match docs/PROTOCOL.md §13", () => {
  const proto = fs.readFileSync(path.join(ROOT, "docs/PROTOCOL.md"), "utf8");
  const sec = proto.slice(proto.indexOf("## 13."), proto.indexOf("## 14."));
  const expected = [...sec.matchAll(/^\| (\d{4}) \| (\w+) \|/gm)].map((m) => `${m[2]}=${m[1]}`);
  assert(expected.length >= 50, `only ${expected.length} rows in PROTOCOL.md §13`);
  const dts = runOk("tar", ["xzOf", TARBALL, "package/index.d.ts"]).stdout;
  const iface = dts.slice(dts.indexOf("export interface ErrorCodes {"));
  const body = iface.slice(0, iface.indexOf("\n}"));
  sameList([...body.matchAll(/^ {2}(\w+): (\d+);$/gm)].map((m) => `${m[1]}=${m[2]}`), expected, "ErrorCodes in index.d.ts vs PROTOCOL.md §13");
  const readme = runOk("tar", ["xzOf", TARBALL, "package/README.md"]).stdout;
  sameList([...readme.matchAll(/^\| (\d{4}) \| (\w+) \|/gm)].map((m) => `${m[2]}=${m[1]}`), expected, "README table vs PROTOCOL.md §13");
  for (const f of ["node/index.d.mts", "node/index.d.cts", "node-open/index.d.mts", "node-open/index.d.cts"]) {
    const t = runOk("tar", ["xzOf", TARBALL, `package/${f}`]).stdout;
    assert(t.includes(body), `${f} has a different ErrorCodes table`);
  }
});

await check("README: install, browser + Node examples, two-line threat model, error table", () => {
  const readme = runOk("tar", ["xzOf", TARBALL, "package/README.md"]).stdout;
  assert(readme.includes("npm install sealpass"), "no install line");
  const browser = readmeBlock(readme, "browser");
  const node = readmeBlock(readme, "node");
  const lines = (s) => s.trim().split("\n").length;
  assert(lines(browser) <= 12 && lines(node) <= 12, `examples too long: ${lines(browser)}, ${lines(node)} lines`);
  assert(/cannot read/.test(readme) && /fingerprint[\s\S]{0,120}out of band/.test(readme), "threat model lines missing");
  assert(!/\bopen\b/.test(browser), "browser example uses open");
});

// ---------------------------------------------------------------- browser entry: no open
await check("web entry: index.d.ts declares no open/generateKeyPair/Opener", () => {
  const dts = runOk("tar", ["xzOf", TARBALL, "package/index.d.ts"]).stdout;
  const decls = [...dts.matchAll(/^export (?:declare )?(?:function|const|class) (\w+)/gm)].map((m) => m[1]).sort();
  eq(decls, ["SealpassError", "fingerprint", "init", "initSync", "isSealpassError", "seal", "validateContext"], "web exports");
});

const NODE_DIR = project("node");
const nodeRun = (file, opts = {}) => runOk(process.execPath, [file], { cwd: NODE_DIR, ...opts }).stdout;

await check("web entry: module namespace has no open, pre-init NotInitialized, init(bytes) seals (in Node)", () => {
  write(
    path.join(NODE_DIR, "web-entry.mjs"),
    `import fs from "node:fs";
import * as web from "./node_modules/sealpass/index.js";
const out = { keys: Object.keys(web).sort() };
try { web.seal("x", "y", {}); } catch (e) { out.pre = [e.name, e.message]; }
await web.init(fs.readFileSync("node_modules/sealpass/web/sealpass_bg.wasm"));
out.envelope = web.seal(${JSON.stringify(PUBLIC_KEY)}, "from-web-build", ${JSON.stringify(CONTEXT)});
console.log(JSON.stringify(out));`,
  );
  const out = JSON.parse(nodeRun("web-entry.mjs"));
  eq(out.keys, ["SealpassError", "default", "fingerprint", "init", "initSync", "isSealpassError", "seal", "validateContext"], "web namespace");
  eq(out.pre?.[0], "NotInitialized", "error before init");
  assert(/await init\(\)/.test(out.pre[1]), "NotInitialized message should say what to do");
  eq(cliOpen(out.envelope), "from-web-build", "CLI open of the web-build envelope");
});

await check("web build .wasm exports no open (WebAssembly.Module.exports); node-open's does", () => {
  const exportsOf = (f) =>
    WebAssembly.Module.exports(new WebAssembly.Module(fs.readFileSync(path.join(NODE_DIR, "node_modules/sealpass", f)))).map((e) => e.name);
  const web = exportsOf("web/sealpass_bg.wasm");
  for (const n of ["seal", "fingerprint", "validateContext"]) assert(web.includes(n), `web wasm lacks ${n}`);
  const leaked = web.filter((n) => /open|generateKeyPair|keypair/i.test(n));
  eq(leaked, [], "open-like exports in the web wasm");
  const nodeSealOnly = exportsOf("node/sealpass_bg.wasm");
  eq(nodeSealOnly.filter((n) => /open|generateKeyPair/i.test(n)), [], "open-like exports in node/ wasm");
  const open = exportsOf("node-open/sealpass_bg.wasm");
  assert(open.includes("open") && open.includes("generateKeyPair"), "node-open wasm lacks open/generateKeyPair");
  assert(open.includes("opener_open") && open.includes("opener_new"), `node-open wasm lacks the Opener class: ${open.join(", ")}`);
});

// ---------------------------------------------------------------- Node
await check("Node ESM import seals without init; envelope opens with the native CLI", () => {
  write(
    path.join(NODE_DIR, "esm.mjs"),
    `import { seal, fingerprint, validateContext, SealpassError, isSealpassError } from "sealpass";
import * as ns from "sealpass";
const ctx = ${JSON.stringify(CONTEXT)};
validateContext(ctx);
const out = { keys: Object.keys(ns).sort(), fp: fingerprint(${JSON.stringify(PUBLIC_KEY)}) };
out.envelope = seal(${JSON.stringify(PUBLIC_KEY)}, "esm secret ✓", ctx);
try { seal(${JSON.stringify(PUBLIC_KEY)}, "x", { ...ctx, injection_method: "Not Kebab" }); }
catch (e) { out.err = { name: e.name, code: e.code, inst: e instanceof SealpassError, is: isSealpassError(e), error: e instanceof Error }; }
out.plainIsNot = new Error("x") instanceof SealpassError;
console.log(JSON.stringify(out));`,
  );
  const out = JSON.parse(nodeRun("esm.mjs"));
  eq(out.keys, ["SealpassError", "default", "fingerprint", "init", "initSync", "isSealpassError", "seal", "validateContext"], "ESM namespace (no open)");
  eq(out.fp, runOk(CLI, ["fingerprint", PUBLIC_KEY]).stdout.trim(), "fingerprint matches the CLI");
  eq(out.err, { name: "InjectionMethodInvalid", code: 8204, inst: true, is: true, error: true }, "error shape");
  eq(out.plainIsNot, false, "plain Error instanceof SealpassError");
  eq(Object.keys(out.envelope), ["v", "suite", "epk", "nonce", "ct"], "envelope keys");
  eq(cliOpen(out.envelope), "esm secret ✓", "CLI open");
});

await check("Node CommonJS require seals (bytes plaintext); envelope opens with the native CLI", () => {
  write(
    path.join(NODE_DIR, "cjs.cjs"),
    `const sealpass = require("sealpass");
const { seal } = sealpass;
const env = seal(${JSON.stringify(PUBLIC_KEY)}, new Uint8Array([0, 1, 2, 255]), ${JSON.stringify(CONTEXT)});
console.log(JSON.stringify({ keys: Object.keys(sealpass).sort(), env }));`,
  );
  const out = JSON.parse(nodeRun("cjs.cjs"));
  eq(out.keys, ["SealpassError", "fingerprint", "init", "initSync", "isSealpassError", "seal", "validateContext"], "CJS exports (no open)");
  const r = run(CLI, ["open", "--key", KEY_FILE, "--context", CTX_FILE], { input: Buffer.from(JSON.stringify(out.env)), encoding: "buffer" });
  assert(r.status === 0, `CLI open failed: ${r.stderr}`);
  eq([...r.stdout], [0, 1, 2, 255], "CLI open plaintext bytes");
});

await check("CLI seal -> Node sealpass/node-open open (ESM and CommonJS)", () => {
  const secret = "cli→node secret\nline 2";
  const envelope = runOk(CLI, ["seal", "--to", PUBLIC_KEY, "--context", CTX_FILE], { input: secret }).stdout;
  write(path.join(NODE_DIR, "cli-envelope.json"), envelope);
  write(
    path.join(NODE_DIR, "open.mjs"),
    `import fs from "node:fs";
import { open } from "sealpass/node-open";
const pt = open(fs.readFileSync(${JSON.stringify(KEY_FILE)}, "utf8"), fs.readFileSync("cli-envelope.json", "utf8").trim(), ${JSON.stringify(CONTEXT)});
console.log(JSON.stringify(new TextDecoder().decode(pt)));
try { open(fs.readFileSync(${JSON.stringify(KEY_FILE)}, "utf8"), JSON.parse(fs.readFileSync("cli-envelope.json", "utf8")), { ...${JSON.stringify(CONTEXT)}, slug: "other" }); }
catch (e) { console.log(JSON.stringify([e.name, e.code])); }`,
  );
  const [pt, err] = nodeRun("open.mjs").trim().split("\n").map((l) => JSON.parse(l));
  eq(pt, secret, "ESM node-open plaintext");
  eq(err, ["DecryptFailed", 8006], "wrong context must fail to open");
  write(
    path.join(NODE_DIR, "open.cjs"),
    `const fs = require("node:fs");
const { open, generateKeyPair, seal } = require("sealpass/node-open");
const pt = open(fs.readFileSync(${JSON.stringify(KEY_FILE)}, "utf8"), JSON.parse(fs.readFileSync("cli-envelope.json", "utf8")), ${JSON.stringify(CONTEXT)});
const kp = generateKeyPair();
const rt = open(kp.secretKey, seal(kp.publicKey, "round trip", ${JSON.stringify(CONTEXT)}), ${JSON.stringify(CONTEXT)});
console.log(JSON.stringify([Buffer.from(pt).toString(), Buffer.from(rt).toString()]));`,
  );
  eq(JSON.parse(nodeRun("open.cjs")), [secret, "round trip"], "CJS node-open");
  // Opener: the key held once, its public key derived once; same results and
  // errors as open(), and unusable after free().
  write(
    path.join(NODE_DIR, "opener.mjs"),
    `import fs from "node:fs";
import { Opener, generateKeyPair, seal } from "sealpass/node-open";
const ctx = ${JSON.stringify(CONTEXT)};
const out = {};
const op = new Opener(fs.readFileSync(${JSON.stringify(KEY_FILE)}, "utf8"));
out.publicKey = op.publicKey;
out.cli = new TextDecoder().decode(op.open(fs.readFileSync("cli-envelope.json", "utf8").trim(), ctx));
const kp = generateKeyPair();
const op2 = new Opener(Buffer.from(kp.secretKey, "base64url"));
out.samePk = op2.publicKey === kp.publicKey;
out.rt = new TextDecoder().decode(op2.open(seal(kp.publicKey, "via opener", ctx), ctx));
const err = (f) => { try { f(); return "no error"; } catch (e) { return [e.name, e.code]; } };
out.wrongKey = err(() => op2.open(JSON.parse(fs.readFileSync("cli-envelope.json", "utf8")), ctx));
out.badSecret = err(() => new Opener("not-a-key"));
op2.free();
out.afterFree = err(() => op2.open(seal(kp.publicKey, "x", ctx), ctx)) !== "no error";
console.log(JSON.stringify(out));`,
  );
  const o = JSON.parse(nodeRun("opener.mjs"));
  eq(o.publicKey, PUBLIC_KEY, "Opener.publicKey of the CLI key");
  eq(o.cli, secret, "Opener opens the CLI envelope");
  eq([o.samePk, o.rt], [true, "via opener"], "Opener from bytes: publicKey and round trip");
  eq(o.wrongKey, ["DecryptFailed", 8006], "Opener with another node's key");
  eq(o.badSecret, ["InvalidSecretKey", 8303], "Opener refuses a malformed secret key");
  eq(o.afterFree, true, "Opener refuses use after free()");
});

await check("README Node example runs as written", () => {
  const readme = fs.readFileSync(path.join(NODE_DIR, "node_modules/sealpass/README.md"), "utf8");
  write(path.join(NODE_DIR, "readme-node.mjs"), readmeBlock(readme, "node"));
  const lines = nodeRun("readme-node.mjs").trim().split("\n");
  assert(/^([0-9a-f]{4}-){7}[0-9a-f]{4} \{"v":1,/.test(lines[0]), `unexpected first line: ${lines[0]}`);
  eq(lines.at(-1), "sk_live_51H8example", "decrypted plaintext");
});

// ---------------------------------------------------------------- TypeScript
const TS_DIR = project("ts", { type: "module" });
const TSC_WEB = ["--strict", "--noEmit", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler", "--lib", "es2022,dom"];
const TSC_NODE = ["--strict", "--noEmit", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext", "--lib", "es2022"];
const tsc = (flags, files) => run(process.execPath, [path.join(DEPS, "node_modules/typescript/bin/tsc"), ...flags, ...files], { cwd: TS_DIR });

await check("tsc --strict passes on typed consumers (bundler + DOM; nodenext ESM .mts and CJS .cts)", () => {
  write(
    path.join(TS_DIR, "good.ts"),
    `import init, { seal, fingerprint, validateContext, SealpassError, isSealpassError } from "sealpass";
import type { Context, Envelope, ErrorName, ErrorCode, SealpassErrorOf } from "sealpass";
import wasmUrl from "sealpass/sealpass_bg.wasm";
await init();
await init(wasmUrl);
await init(new URL("https://cdn.example.com/sealpass_bg.wasm"));
await init(new Uint8Array(8));
const ctx: Context = { node_id: "n", pending_id: "p", slug: "s", injection_method: "header", field_name: null };
const env: Envelope = seal("pk", new Uint8Array([1]), ctx);
const v: 1 = env.v;
const suite: "x25519-hkdf-sha256-xchacha20poly1305" = env.suite;
const fp: string = fingerprint("pk");
validateContext({ ...ctx, target_url: "https://x" });
try { seal("pk", "secret", ctx); } catch (e) {
  if (e instanceof SealpassError) {
    const n: ErrorName = e.name; const c: ErrorCode = e.code;
    if (e.name === "DecryptFailed") { const c8006: 8006 = e.code; }
  }
  if (isSealpassError(e) && e.code === 8204) { const nm: "InjectionMethodInvalid" = e.name; const one: SealpassErrorOf<"InjectionMethodInvalid"> = e; }
}
export { v, suite, fp };
`,
  );
  write(
    path.join(TS_DIR, "good-node.mts"),
    `import init, { seal, type Context } from "sealpass";
import { open, generateKeyPair, Opener, SealpassError } from "sealpass/node-open";
await init();
const ctx: Context = { node_id: "n", pending_id: "p", slug: "s", injection_method: "env" };
const { secretKey, publicKey } = generateKeyPair();
const pt: Uint8Array = open(secretKey, seal(publicKey, "x", ctx), ctx);
const fromJson: Uint8Array = open(secretKey, "{}", ctx);
try { open(secretKey, "{}", ctx); } catch (e) { if (e instanceof SealpassError) { const c: number = e.code; } }
const opener = new Opener(secretKey);
const npk: string = opener.publicKey;
const viaOpener: Uint8Array = opener.open(seal(npk, "x", ctx), ctx);
opener.free();
export { pt, fromJson, viaOpener };
`,
  );
  write(
    path.join(TS_DIR, "good-node.cts"),
    `import sealpass = require("sealpass");
import nodeOpen = require("sealpass/node-open");
const ctx: sealpass.Context = { node_id: "n", pending_id: "p", slug: "s", injection_method: "env" };
const env: sealpass.Envelope = sealpass.seal("pk", "x", ctx);
const pt: Uint8Array = nodeOpen.open("sk", env, ctx);
export = { pt };
`,
  );
  // What a bundler's client types provide for asset imports (e.g. vite/client for "*.wasm?url").
  write(path.join(TS_DIR, "assets.d.ts"), `declare module "*.wasm" { const url: string; export default url; }\n`);
  let r = tsc(TSC_WEB, ["assets.d.ts", "good.ts"]);
  assert(r.status === 0, `tsc (bundler) failed:\n${r.stdout}${r.stderr}`);
  r = tsc(TSC_NODE, ["good-node.mts", "good-node.cts"]);
  assert(r.status === 0, `tsc (nodenext) failed:\n${r.stdout}${r.stderr}`);
});

await check("tsc --strict fails on wrong consumers (misspelled key, wrong plaintext type, open from web entry, wrong code)", () => {
  const HEAD = `import { seal, SealpassError, type Context } from "sealpass";\nconst ctx: Context = { node_id: "n", pending_id: "p", slug: "s", injection_method: "env" };\n`;
  const cases = [
    ["bad-key.ts", `seal("pk", "x", { nodeId: "n", pending_id: "p", slug: "s", injection_method: "env" });`, /nodeId/],
    ["bad-key-var.ts", `const c2: Context = { node_id: "n", pending_id: "p", slug: "s", injection_method: "env", fieldName: "x" };\nseal("pk", "x", c2);`, /fieldName/],
    ["bad-missing.ts", `seal("pk", "x", { node_id: "n", pending_id: "p", slug: "s" });`, /injection_method/],
    ["bad-plaintext.ts", `seal("pk", 42, ctx);`, /number/],
    ["bad-open.ts", `import { open } from "sealpass";\nopen("sk", "{}", ctx);`, /open/],
    ["bad-opener.ts", `import { Opener } from "sealpass";\nnew Opener("sk");`, /Opener/],
    ["bad-code.ts", `try { seal("pk", "x", ctx); } catch (e) { if (e instanceof SealpassError && e.name === "DecryptFailed") { const c: 8007 = e.code; } }`, /8006|8007/],
    ["bad-name.ts", `try { seal("pk", "x", ctx); } catch (e) { if (e instanceof SealpassError && e.name === "DecryptFail") {} }`, /DecryptFail/],
  ];
  for (const [file, body] of cases) write(path.join(TS_DIR, file), HEAD + body + "\n");
  // One tsc run; diagnostics are grouped by file and each file must have its own error.
  const r = tsc(TSC_WEB, cases.map((c) => c[0]));
  assert(r.status !== 0, "tsc passed on the wrong consumers");
  const byFile = {};
  let current = null;
  for (const line of (r.stdout + r.stderr).split("\n")) {
    const m = line.match(/^([\w.-]+\.ts)\(\d+,\d+\): error/);
    if (m) current = m[1];
    if (current) byFile[current] = (byFile[current] ?? "") + line + "\n";
  }
  const problems = cases
    .filter(([file, , expect]) => !byFile[file] || !expect.test(byFile[file]))
    .map(([file]) => `${file}: ${byFile[file] ? `unexpected diagnostics:\n${byFile[file]}` : "no error reported"}`);
  const stray = Object.keys(byFile).filter((f) => !cases.some((c) => c[0] === f));
  assert(!problems.length && !stray.length, [...problems, ...stray.map((f) => `error in ${f}`)].join("\n") + `\n${r.stdout}`);
});

// ---------------------------------------------------------------- browsers
const WEB_DIR = project("web", { type: "module" });
const NM = path.join(WEB_DIR, "node_modules/sealpass");

// esbuild bundles: the .wasm as a file asset (URL) and inlined as bytes.
const APP = `import init, { seal, fingerprint, SealpassError } from "sealpass";
import * as ns from "sealpass";
import wasm from "sealpass/sealpass_bg.wasm";
const out = {};
try { seal("x", "y", {}); } catch (e) { out.preInit = e.name; }
await init(wasm);
const q = new URLSearchParams(location.search);
const ctx = JSON.parse(q.get("ctx"));
out.keys = Object.keys(ns).sort();
out.fingerprint = fingerprint(q.get("pk"));
out.envelope = seal(q.get("pk"), q.get("pt"), ctx);
try { seal(q.get("pk"), "x", { ...ctx, injection_method: "Not Kebab" }); }
catch (e) { out.err = { name: e.name, code: e.code, inst: e instanceof SealpassError }; }
window.__result = out;
`;
write(path.join(WEB_DIR, "src/app.js"), APP);
const HTML = (script, extraHead = "") =>
  `<!doctype html><html><head><meta charset="utf-8">${extraHead}</head><body>${script}</body></html>`;
const esbuild = (entry, outdir, extra) =>
  runOk(BIN("esbuild"), [entry, "--bundle", "--format=esm", "--platform=browser", "--target=es2022", `--outdir=${outdir}`, ...extra], { cwd: WEB_DIR });

let bundlesBuilt = false;
await check("esbuild bundles the package (wasm as asset URL, wasm inlined as bytes, README example)", () => {
  esbuild("src/app.js", "dist-file", ["--loader:.wasm=file", "--asset-names=[name]-[hash]"]);
  esbuild("src/app.js", "dist-bytes", ["--loader:.wasm=binary"]);
  write(path.join(WEB_DIR, "dist-file/index.html"), HTML(`<script type="module" src="app.js"></script>`));
  write(path.join(WEB_DIR, "dist-bytes/index.html"), HTML(`<script type="module" src="app.js"></script>`));
  // README example as written: `await init()` finds sealpass_bg.wasm next to the bundle.
  const readme = fs.readFileSync(path.join(NM, "README.md"), "utf8");
  write(path.join(WEB_DIR, "src/readme.js"), readmeBlock(readme, "browser") + "\nwindow.__result = { done: true };\n");
  esbuild("src/readme.js", "dist-readme", []);
  fs.copyFileSync(path.join(NM, "web/sealpass_bg.wasm"), path.join(WEB_DIR, "dist-readme/sealpass_bg.wasm"));
  write(path.join(WEB_DIR, "dist-readme/index.html"), HTML(`<script type="module" src="readme.js"></script>`));
  for (const d of ["dist-file", "dist-bytes", "dist-readme"]) {
    const js = fs.readFileSync(path.join(WEB_DIR, d, d === "dist-readme" ? "readme.js" : "app.js"), "utf8");
    assert(!/generateKeyPair|node-open|sealpass\.cjs/.test(js), `${d} bundle pulled in the Node build`);
  }
  assert(fs.readdirSync(path.join(WEB_DIR, "dist-file")).some((f) => f.endsWith(".wasm")), "no wasm asset emitted");
  bundlesBuilt = true;
});

// Unbundled pages: plain module import, README example through an import map, CDN-style wasm path.
const PLAIN = APP.replaceAll('"sealpass"', '"/node_modules/sealpass/index.js"')
  .replace('import wasm from "sealpass/sealpass_bg.wasm";\n', "")
  .replace("await init(wasm);", "await init();");
write(path.join(WEB_DIR, "plain/index.html"), HTML(`<script type="module">\n${PLAIN}</script>`));
const CDN = PLAIN.replace("await init();", 'await init("/cdn/sealpass/v1/sealpass_bg.wasm");');
write(path.join(WEB_DIR, "cdn/index.html"), HTML(`<script type="module">\n${CDN}</script>`));
fs.mkdirSync(path.join(WEB_DIR, "cdn/sealpass/v1"), { recursive: true });
fs.copyFileSync(path.join(NM, "web/sealpass_bg.wasm"), path.join(WEB_DIR, "cdn/sealpass/v1/sealpass_bg.wasm"));
{
  const readme = fs.readFileSync(path.join(NM, "README.md"), "utf8");
  write(
    path.join(WEB_DIR, "importmap/index.html"),
    HTML(
      `<script type="module">\n${readmeBlock(readme, "browser")}\nwindow.__result = { done: true };\n</script>`,
      `<script type="importmap">{"imports":{"sealpass":"/node_modules/sealpass/index.js"}}</script>`,
    ),
  );
}

// Static server on 127.0.0.1 (random port); captures the README example's POST.
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
let posted = [];
const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (req.method === "POST" && url.pathname === "/relay/envelopes") {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      posted.push(body);
      res.writeHead(202).end();
    });
    return;
  }
  const p = path.normalize(path.join(WEB_DIR, decodeURIComponent(url.pathname)));
  const file = p.endsWith(path.sep) || url.pathname.endsWith("/") ? path.join(p, "index.html") : p;
  if (!file.startsWith(WEB_DIR + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404).end("not found");
    return;
  }
  const cdnPrefix = path.join(WEB_DIR, "cdn/sealpass");
  res.writeHead(200, {
    "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
    "cache-control": "no-store",
    ...(file.startsWith(cdnPrefix) ? { "access-control-allow-origin": "*" } : {}),
  });
  fs.createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const ORIGIN = `http://127.0.0.1:${server.address().port}`;

const require = createRequire(path.join(DEPS, "package.json"));
const puppeteer = require("puppeteer-core");
const BROWSERS = {
  chromium: {
    browser: "chrome",
    executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  },
  firefox: { browser: "firefox", executablePath: process.env.FIREFOX_BIN || "/usr/bin/firefox-esr", headless: true },
};

async function loadPage(browser, pagePath) {
  const page = await browser.newPage();
  const logs = [];
  page.on("console", (m) => logs.push(m.text()));
  page.on("pageerror", (e) => logs.push(`pageerror: ${e?.message ?? e}`));
  try {
    await page.goto(ORIGIN + pagePath, { waitUntil: "load", timeout: 30000 });
    await page.waitForFunction("window.__result !== undefined", { timeout: 30000 }).catch((e) => {
      throw new Error(`${pagePath}: no result (${e.message}); console: ${logs.join(" | ")}`);
    });
    return { result: await page.evaluate(() => JSON.stringify(window.__result)).then(JSON.parse), logs };
  } finally {
    await page.close().catch(() => {});
  }
}

const WEB_KEYS = ["SealpassError", "default", "fingerprint", "init", "initSync", "isSealpassError", "seal", "validateContext"];
function checkAppResult(r, pt) {
  eq(r.preInit, "NotInitialized", "error before init");
  eq(r.keys, WEB_KEYS, "module namespace (no open)");
  eq(r.fingerprint, runOk(CLI, ["fingerprint", PUBLIC_KEY]).stdout.trim(), "fingerprint");
  eq(r.err, { name: "InjectionMethodInvalid", code: 8204, inst: true }, "error shape");
  eq(cliOpen(r.envelope), pt, "native CLI opens the browser's envelope");
}
const query = (pt) => `?pk=${encodeURIComponent(PUBLIC_KEY)}&pt=${encodeURIComponent(pt)}&ctx=${encodeURIComponent(JSON.stringify(CONTEXT))}`;

for (const [bname, opts] of Object.entries(BROWSERS)) {
  let browser;
  try {
    browser = await puppeteer.launch(opts);
  } catch (e) {
    await check(`${bname}: launch`, () => {
      throw e;
    });
    continue;
  }
  try {
    for (const [label, dir] of [["esbuild bundle, wasm asset URL", "dist-file"], ["esbuild bundle, wasm bytes", "dist-bytes"]]) {
      await check(`${bname}: ${label} seals; native CLI opens it`, async () => {
        assert(bundlesBuilt, "bundles not built");
        const pt = `${bname} ${dir} sécret`;
        const { result } = await loadPage(browser, `/${dir}/index.html${query(pt)}`);
        checkAppResult(result, pt);
      });
    }
    await check(`${bname}: esbuild bundle of the README example (as written) seals; CLI opens the POSTed envelope`, async () => {
      assert(bundlesBuilt, "bundles not built");
      posted = [];
      const { logs } = await loadPage(browser, "/dist-readme/index.html");
      assert(logs.some((l) => l.includes(WORKED.fingerprint)), `fingerprint not logged: ${logs}`);
      eq(posted.length, 1, "POSTed envelopes");
      eq(cliOpen(posted[0], { keyFile: WORKED_KEY_FILE, ctxFile: readmeCtx() }), "sk_live_51H8example", "plaintext");
    });
    await check(`${bname}: no bundler, <script type="module"> importing the web build seals; CLI opens it`, async () => {
      const pt = `${bname} plain module`;
      const { result } = await loadPage(browser, `/plain/index.html${query(pt)}`);
      checkAppResult(result, pt);
    });
    await check(`${bname}: no bundler, init() with a CDN-style wasm path seals; CLI opens it`, async () => {
      const pt = `${bname} cdn path`;
      const { result } = await loadPage(browser, `/cdn/index.html${query(pt)}`);
      checkAppResult(result, pt);
    });
    await check(`${bname}: no bundler, README example via an import map; CLI opens the POSTed envelope`, async () => {
      posted = [];
      const { logs } = await loadPage(browser, "/importmap/index.html");
      assert(logs.some((l) => l.includes(WORKED.fingerprint)), `fingerprint not logged: ${logs}`);
      eq(posted.length, 1, "POSTed envelopes");
      eq(cliOpen(posted[0], { keyFile: WORKED_KEY_FILE, ctxFile: readmeCtx() }), "sk_live_51H8example", "plaintext");
    });
  } finally {
    await browser.close().catch(() => {});
  }
}
server.close();

function readmeCtx() {
  return write(
    path.join(TMP, "readme-ctx.json"),
    JSON.stringify({ node_id: "node-7", pending_id: "pend-42", slug: "stripe-key", injection_method: "header", field_name: "Authorization" }),
  );
}

// ---------------------------------------------------------------- size
await check(`size: gzip -9 of the browser wasm + JS glue <= ${GZIP_BUDGET} bytes`, () => {
  const files = ["web/sealpass_bg.wasm", "web/sealpass.js", "index.js"];
  let raw = 0;
  let gz = 0;
  let br = 0;
  for (const f of files) {
    const buf = fs.readFileSync(path.join(NM, f));
    const g = execFileSync("gzip", ["-9", "-n", "-c"], { input: buf }).length;
    const b = zlib.brotliCompressSync(buf, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
    console.log(`     ${f.padEnd(22)} raw ${String(buf.length).padStart(7)}  gzip-9 ${String(g).padStart(6)}  brotli-11 ${String(b).padStart(6)}`);
    raw += buf.length;
    gz += g;
    br += b;
  }
  console.log(`     ${"total".padEnd(22)} raw ${String(raw).padStart(7)}  gzip-9 ${String(gz).padStart(6)}  brotli-11 ${String(br).padStart(6)}  (budget gzip ${GZIP_BUDGET}, goal 12288)`);
  assert(gz <= GZIP_BUDGET, `browser payload is ${gz} bytes gzip -9, over the ${GZIP_BUDGET}-byte budget`);
});

// ---------------------------------------------------------------- summary
if (KEEP) console.log(`kept temp projects in ${TMP}`);
else fs.rmSync(TMP, { recursive: true, force: true });
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
