// Consumer tests of the packed `sealpass` npm package (driven by run.sh).
//
// Installs the tarball (offline) into fresh temp projects and checks it the
// way users consume it: Node ESM + CommonJS, interop with the native CLI in
// both directions for envelope v1 and v2 (sealed to the node identity,
// opened with `--identity-key` / `{ identityKey }`), the seal-only browser entry, esbuild bundles and an
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
import { checkShortImports } from "./short-imports.mjs";

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

/** Gzip -9 budgets (wasm + glue + entry), asserted so they cannot regrow silently:
 *  the default browser entry (the small build: 24.9 KB when set to 26 KB; issue #18's goal
 *  of 16,000 B for wasm + minified glue is tracked in bench/RESULTS.md, not met),
 *  and sealpass/fast (the speed build, 71.3 KB when set to 72 KB, after the divsteps
 *  inversion added ~1.9 KB for a ~12% faster open: still under 40% of
 *  libsodium-wrappers-sumo's 189 KB bundle). */
const GZIP_BUDGET = 26 * 1024;
const FAST_GZIP_BUDGET = 72 * 1024;

/** The exact exports of each entry (sorted; `default` only in ES module namespaces). */
const SEAL_EXPORTS = ["SealpassError", "fingerprint", "identityFingerprint", "init", "initSync", "isSealpassError", "seal", "validateContext"];
const SEAL_NS = ["SealpassError", "default", "fingerprint", "identityFingerprint", "init", "initSync", "isSealpassError", "seal", "validateContext"];
const OPEN_EXPORTS = [
  "Opener",
  "SealpassError",
  "fingerprint",
  "generateKeyPair",
  "identityFingerprint",
  "init",
  "initSync",
  "isSealpassError",
  "open",
  "seal",
  "validateContext",
];
const OPEN_NS = [
  "Opener",
  "SealpassError",
  "default",
  "fingerprint",
  "generateKeyPair",
  "identityFingerprint",
  "init",
  "initSync",
  "isSealpassError",
  "open",
  "seal",
  "validateContext",
];
const V1_SUITE = "x25519-hkdf-sha256-xchacha20poly1305";
const V2_SUITE = "x25519-x25519-hkdf-sha256-xchacha20poly1305";

/** Exactly what the tarball may hold. */
const ALLOWED_FILES = [
  "README.md",
  "package.json",
  "index.js",
  "index.d.ts",
  "web/sealpass.js",
  "web/sealpass_bg.wasm",
  "fast/index.js",
  "fast/index.d.ts",
  "fast/sealpass.js",
  "fast/sealpass_bg.wasm",
  "workerd/index.js",
  "workerd/index.d.ts",
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

// The node's identity key (envelope v2, protocol §15) and another node's.
const IDENTITY_KEY_FILE = path.join(TMP, "identity.key");
const NIK = runOk(CLI, ["keygen", "--out", IDENTITY_KEY_FILE]).stdout.trim();
const IDENTITY_SECRET = fs.readFileSync(IDENTITY_KEY_FILE, "utf8");
const IDENTITY_FP = runOk(CLI, ["fingerprint", "--identity", NIK]).stdout.trim();
const OTHER_IDENTITY_KEY_FILE = path.join(TMP, "other-identity.key");
const OTHER_NIK = runOk(CLI, ["keygen", "--out", OTHER_IDENTITY_KEY_FILE]).stdout.trim();

/** Run `sealpass open` on an envelope (with --identity-key when given). */
function cliOpenRun(envelope, { keyFile = KEY_FILE, ctxFile = CTX_FILE, identityKeyFile } = {}) {
  const argv = ["open", "--key", keyFile, ...(identityKeyFile ? ["--identity-key", identityKeyFile] : []), "--context", ctxFile];
  return run(CLI, argv, { input: typeof envelope === "string" ? envelope : JSON.stringify(envelope) });
}
/** Open an envelope with the native CLI; returns the plaintext. */
function cliOpen(envelope, opts = {}) {
  const r = cliOpenRun(envelope, opts);
  assert(r.status === 0, `sealpass open failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
/** `sealpass open` must fail; returns the code of its `error <code> <Name>: …` line. */
function cliOpenError(envelope, opts = {}) {
  const r = cliOpenRun(envelope, opts);
  assert(r.status !== 0, `sealpass open succeeded but should have failed`);
  eq(r.stdout, "", "stdout of a failed open");
  const m = r.stderr.match(/^error (\d{4}) (\w+):/m);
  assert(m, `no error line in: ${r.stderr}`);
  return [m[2], Number(m[1])];
}
/** A v2 envelope opens with the identity key only: 8307 without it, 8006 with another node's. */
function checkV2(envelope, pt, label) {
  eq([envelope.v, envelope.suite], [2, V2_SUITE], `${label}: v and suite`);
  eq(Object.keys(envelope), ["v", "suite", "epk", "nonce", "ct"], `${label}: envelope keys`);
  eq(cliOpen(envelope, { identityKeyFile: IDENTITY_KEY_FILE }), pt, `${label}: CLI open --identity-key`);
  eq(cliOpenError(envelope), ["IdentityKeyRequired", 8307], `${label}: CLI open without --identity-key`);
  eq(cliOpenError(envelope, { identityKeyFile: OTHER_IDENTITY_KEY_FILE }), ["DecryptFailed", 8006], `${label}: CLI open with another identity key`);
}

function readmeBlock(readme, marker) {
  const at = readme.indexOf(`<!-- example:${marker} -->`);
  assert(at >= 0, `README has no example:${marker} block`);
  const m = readme.slice(at).match(/```js\n([\s\S]*?)```/);
  assert(m, `README example:${marker} has no js block`);
  return m[1];
}

// ---------------------------------------------------------------- build scripts
await check("scripts/short-imports.mjs renames a good pair; a refused one exits non-zero with both files untouched", () =>
  checkShortImports(ROOT, TMP, { assert, eq }),
);

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
  // Every crate inherits [workspace.package]'s version (`version.workspace = true`).
  const section = (name) => cargo.match(new RegExp(`^\\[${name.replace(".", "\\.")}\\]\\n([\\s\\S]*?)(?=^\\[|(?![\\s\\S]))`, "m"))?.[1] ?? "";
  const own = section("package");
  const version = (/^version\.workspace\s*=\s*true/m.test(own) ? section("workspace.package") : own).match(/^version\s*=\s*"([^"]+)"/m)?.[1];
  assert(version, "no version in Cargo.toml");
  eq(PKG_JSON.name, "sealpass", "name");
  eq(PKG_JSON.version, version, "version");
  eq(PKG_JSON.type, "module", "type");
  eq(PKG_JSON.license, "MIT OR Apache-2.0", "license");
  // Only the workerd entry runs code on import (it instantiates the wasm); a
  // bundler may drop every other file of the package when nothing of it is used.
  eq(PKG_JSON.sideEffects, ["./workerd/index.js"], "sideEffects");
  eq(PKG_JSON.engines, { node: ">=20" }, "engines");
  const dot = PKG_JSON.exports["."];
  eq(Object.keys(dot), ["workerd", "browser", "node", "import", "default"], "exports['.'] conditions (workerd before browser: wrangler resolves workerd,worker,browser)");
  eq(dot.workerd, { types: "./workerd/index.d.ts", default: "./workerd/index.js" }, "exports['.'].workerd");
  eq(dot.browser, { types: "./index.d.ts", default: "./index.js" }, "exports['.'].browser");
  eq(dot.import, { types: "./index.d.ts", default: "./index.js" }, "exports['.'].import");
  eq(dot.node.import.default, "./node/index.mjs", "node import");
  eq(dot.node.require.default, "./node/index.cjs", "node require");
  eq(Object.keys(PKG_JSON.exports["./node-open"]), ["node"], "node-open is Node-only");
  assert(!PKG_JSON.dependencies, "the package has no dependencies");
  // No placeholder text or URL (the package has no public repository yet: no `repository` at all).
  const text = JSON.stringify(PKG_JSON);
  assert(!/set by|example\.(invalid|com|org)|placeholder|TODO/i.test(text), `package.json carries a placeholder: ${text.match(/.{0,40}(set by|example\.|placeholder|TODO).{0,40}/i)?.[0]}`);
  for (const k of ["repository", "homepage", "bugs"])
    if (PKG_JSON[k] !== undefined) assert(/^https:\/\//.test(PKG_JSON[k].url ?? PKG_JSON[k]), `${k}: not a real URL`);
  assert(PKG_JSON.description.length > 20 && PKG_JSON.description === cargoDescription(cargo), "description is Cargo.toml's");
});
/** `description = "…"` of the [package] section of the root Cargo.toml. */
function cargoDescription(cargo) {
  return cargo.match(/^\[package\]\n[\s\S]*?^description\s*=\s*"([^"]*)"/m)?.[1];
}

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
  for (const f of ["workerd/index.d.ts", "node/index.d.mts", "node/index.d.cts", "node-open/index.d.mts", "node-open/index.d.cts"]) {
    const t = runOk("tar", ["xzOf", TARBALL, `package/${f}`]).stdout;
    assert(t.includes(body), `${f} has a different ErrorCodes table`);
  }
});

await check("README: install from the tarball (not the registry), browser + Node examples, two-line threat model, error table", () => {
  const readme = runOk("tar", ["xzOf", TARBALL, "package/README.md"]).stdout;
  assert(!/npm install sealpass\b(?!-)/.test(readme) && !/cdn\.jsdelivr|unpkg\.com/.test(readme), "README suggests the public registry or a CDN copy of it");
  assert(/not on the public npm registry yet/.test(readme) && /npm install \/path\/to\/sealpass-\d+\.\d+\.\d+\.tgz/.test(readme), "no tarball install line");
  assert(!/@@[A-Z:_]+@@/.test(readme), "README has an unfilled placeholder");
  const browser = readmeBlock(readme, "browser");
  const node = readmeBlock(readme, "node");
  const lines = (s) => s.trim().split("\n").length;
  assert(lines(browser) <= 40 && lines(node) <= 12, `examples too long: ${lines(browser)}, ${lines(node)} lines`);
  assert(/\/api\/v1\/pending\/\$\{[^}]+\}|\/api\/v1\/pending\//.test(browser) && /\/envelopes`/.test(browser) && /\{ envelopes \}/.test(browser), "browser example does not do the relay flow");
  assert(/identityFingerprint\(/.test(browser) && /\{ identity: /.test(browser), "browser example does not check the pin and seal v2");
  assert(/cannot read/.test(readme) && /fingerprint[\s\S]{0,120}out of band/.test(readme), "threat model lines missing");
  assert(!/\bopen\b/.test(browser), "browser example uses open");
});

// ---------------------------------------------------------------- browser entry: no open
await check("web and workerd entries: index.d.ts declares no open/generateKeyPair/Opener; workerd's needs no DOM lib", () => {
  for (const f of ["index.d.ts", "workerd/index.d.ts"]) {
    const dts = runOk("tar", ["xzOf", TARBALL, `package/${f}`]).stdout;
    const decls = [...dts.matchAll(/^export (?:declare )?(?:function|const|class) (\w+)/gm)].map((m) => m[1]).sort();
    sameList(decls, SEAL_EXPORTS, `${f} exports`);
    if (f.startsWith("workerd/")) assert(!/reference lib=|RequestInfo|Response|BufferSource/.test(dts), `${f} depends on the DOM lib`);
  }
});

const NODE_DIR = project("node");
const nodeRun = (file, opts = {}) => runOk(process.execPath, [file], { cwd: NODE_DIR, ...opts }).stdout;

await check("web entry: module namespace has no open, pre-init NotInitialized, init(bytes) seals v1 and v2 (in Node)", () => {
  write(
    path.join(NODE_DIR, "web-entry.mjs"),
    `import fs from "node:fs";
import * as web from "./node_modules/sealpass/index.js";
const out = { keys: Object.keys(web).sort() };
try { web.seal("x", "y", {}); } catch (e) { out.pre = [e.name, e.message]; }
try { web.identityFingerprint("x"); } catch (e) { out.preId = e.name; }
await web.init(fs.readFileSync("node_modules/sealpass/web/sealpass_bg.wasm"));
out.envelope = web.seal(${JSON.stringify(PUBLIC_KEY)}, "from-web-build", ${JSON.stringify(CONTEXT)});
out.envelope2 = web.seal(${JSON.stringify(PUBLIC_KEY)}, "v2 from-web-build", ${JSON.stringify(CONTEXT)}, { identity: ${JSON.stringify(NIK)} });
out.idfp = web.identityFingerprint(${JSON.stringify(NIK)});
try { web.seal(${JSON.stringify(PUBLIC_KEY)}, "x", ${JSON.stringify(CONTEXT)}, { identiy: ${JSON.stringify(NIK)} }); out.optErr = "no error"; }
catch (e) { out.optErr = [e.name, e.code]; }
console.log(JSON.stringify(out));`,
  );
  const out = JSON.parse(nodeRun("web-entry.mjs"));
  eq(out.preId, "NotInitialized", "identityFingerprint before init");
  eq(out.idfp, IDENTITY_FP, "identityFingerprint matches sealpass fingerprint --identity");
  eq(out.optErr, ["InvalidArgument", 8306], "misspelt option key");
  eq(out.envelope.v, 1, "seal without options is v1");
  checkV2(out.envelope2, "v2 from-web-build", "web build v2");
  sameList(out.keys, SEAL_NS, "web namespace");
  eq(out.pre?.[0], "NotInitialized", "error before init");
  assert(/await init\(\)/.test(out.pre[1]), "NotInitialized message should say what to do");
  eq(cliOpen(out.envelope), "from-web-build", "CLI open of the web-build envelope");
});

await check("sealpass/fast: the browser API from the speed build — same exports, init(bytes), seals v1 and v2 the CLI opens, no open", () => {
  write(
    path.join(NODE_DIR, "fast-entry.mjs"),
    `import fs from "node:fs";
import * as fast from "sealpass/fast";
import * as web from "./node_modules/sealpass/index.js";
const out = { keys: Object.keys(fast).sort(), webKeys: Object.keys(web).sort() };
try { fast.seal("x", "y", {}); } catch (e) { out.pre = e.name; }
await fast.init(fs.readFileSync("node_modules/sealpass/fast/sealpass_bg.wasm"));
out.envelope = fast.seal(${JSON.stringify(PUBLIC_KEY)}, "from-fast-build", ${JSON.stringify(CONTEXT)});
out.envelope2 = fast.seal(${JSON.stringify(PUBLIC_KEY)}, "v2 from-fast-build", ${JSON.stringify(CONTEXT)}, { identity: ${JSON.stringify(NIK)} });
out.idfp = fast.identityFingerprint(${JSON.stringify(NIK)});
out.wasmExports = WebAssembly.Module.exports(new WebAssembly.Module(fs.readFileSync("node_modules/sealpass/fast/sealpass_bg.wasm"))).map((e) => e.name);
out.sizes = ["fast/sealpass_bg.wasm", "web/sealpass_bg.wasm"].map((f) => fs.statSync("node_modules/sealpass/" + f).size);
console.log(JSON.stringify(out));`,
  );
  const out = JSON.parse(nodeRun("fast-entry.mjs"));
  sameList(out.keys, SEAL_NS, "sealpass/fast namespace");
  sameList(out.keys, out.webKeys, "sealpass/fast vs the default browser entry");
  eq(out.pre, "NotInitialized", "sealpass/fast before init");
  eq(out.idfp, IDENTITY_FP, "sealpass/fast identityFingerprint");
  eq(out.envelope.v, 1, "sealpass/fast seal without options is v1");
  eq(cliOpen(out.envelope), "from-fast-build", "CLI open of the sealpass/fast envelope");
  checkV2(out.envelope2, "v2 from-fast-build", "sealpass/fast v2");
  eq(out.wasmExports.filter((n) => /open|generateKeyPair|keypair/i.test(n)), [], "open-like exports in the fast wasm");
  // The speed build carries the fixed-base table: a different, larger wasm.
  assert(out.sizes[0] > out.sizes[1] + 20000, `fast wasm (${out.sizes[0]} B) should be the speed build, not the ${out.sizes[1]}-byte size build`);
});

// Wasm SIMD instructions in a module, by binaryen's wasm-dis (build.sh
// installs binaryen for wasm-opt): the text of every v128 operation.
const simdOps = (f) => {
  const text = execFileSync("wasm-dis", [path.join(NODE_DIR, "node_modules/sealpass", f)], { encoding: "utf8", maxBuffer: 256 << 20 });
  return (text.match(/\b(v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\.[a-z_0-9]+/g) || []).length;
};

await check("Wasm SIMD only in the speed builds: sealpass/fast and the Node entry use it (the two-lane X25519), the default browser build has none", () => {
  const fast = simdOps("fast/sealpass_bg.wasm");
  const node = simdOps("node/sealpass_bg.wasm");
  const web = simdOps("web/sealpass_bg.wasm");
  // ~100 i64x2.extmul per field multiplication: far more than a stray
  // auto-vectorized copy would give.
  assert(fast > 1000, `sealpass/fast has ${fast} SIMD operations: is it built with simd128 and wasm-x25519x2?`);
  assert(node > 1000, `the Node entry has ${node} SIMD operations: is it built with simd128 and wasm-x25519x2?`);
  eq(web, 0, "SIMD operations in the default browser build (it must load in engines without Wasm SIMD)");
});

await check("web build .wasm exports no open (WebAssembly.Module.exports); node-open's does", () => {
  const exportsOf = (f) =>
    WebAssembly.Module.exports(new WebAssembly.Module(fs.readFileSync(path.join(NODE_DIR, "node_modules/sealpass", f)))).map((e) => e.name);
  const web = exportsOf("web/sealpass_bg.wasm");
  for (const n of ["seal", "fingerprint", "identityFingerprint", "validateContext"]) assert(web.includes(n), `web wasm lacks ${n}`);
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
  sameList(out.keys, SEAL_NS, "ESM namespace (no open)");
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
  sameList(out.keys, SEAL_EXPORTS, "CJS exports (no open)");
  const r = run(CLI, ["open", "--key", KEY_FILE, "--context", CTX_FILE], { input: Buffer.from(JSON.stringify(out.env)), encoding: "buffer" });
  assert(r.status === 0, `CLI open failed: ${r.stderr}`);
  eq([...r.stdout], [0, 1, 2, 255], "CLI open plaintext bytes");
});

// ---------------------------------------------------------------- envelope v2 (identity-bound, protocol §15)
// Script shared by the ESM and CommonJS checks: `importLine` binds the module to `m`.
const v2Probe = (importLine, label) => `${importLine}
const LABEL = ${JSON.stringify(label)};
const pk = ${JSON.stringify(PUBLIC_KEY)};
const nik = ${JSON.stringify(NIK)};
const ctx = ${JSON.stringify(CONTEXT)};
const err = (f) => { try { f(); return "no error"; } catch (e) { return [e.name, e.code, e instanceof m.SealpassError]; } };
const out = {};
out.idfp = m.identityFingerprint(nik);
out.idfpBytes = m.identityFingerprint(Buffer.from(nik, "base64url"));
out.fp = m.fingerprint(nik);
out.v2 = m.seal(pk, "v2 secret ✓ " + LABEL, ctx, { identity: nik });
out.v2bytes = m.seal(pk, "v2 bytes identity", ctx, { identity: new Uint8Array(Buffer.from(nik, "base64url")) });
out.v1 = [m.seal(pk, "x", ctx).v, m.seal(pk, "x", ctx, undefined).v, m.seal(pk, "x", ctx, null).v,
  m.seal(pk, "x", ctx, {}).v];
out.undefinedIdentity = err(() => m.seal(pk, "x", ctx, { identity: undefined }));
out.nullIdentity = err(() => m.seal(pk, "x", ctx, { identity: null }));
out.inherited = m.seal(pk, "x", ctx, Object.create({ identity: nik })).v;
out.getter = m.seal(pk, "x", ctx, new (class { get identity() { return nik; } })()).v;
out.misspelt = err(() => m.seal(pk, "x", ctx, { identiy: nik }));
out.extraKey = err(() => m.seal(pk, "x", ctx, { identity: nik, strict: true }));
out.stringOpts = err(() => m.seal(pk, "x", ctx, nik));
out.arrayOpts = err(() => m.seal(pk, "x", ctx, [nik]));
out.numberOpts = err(() => m.seal(pk, "x", ctx, 2));
out.badIdentity = err(() => m.seal(pk, "x", ctx, { identity: "not-a-key" }));
out.shortIdentity = err(() => m.seal(pk, "x", ctx, { identity: new Uint8Array(31) }));
out.badIdFp = err(() => m.identityFingerprint("not-a-key"));
console.log(JSON.stringify(out));`;
function checkV2Probe(out, label) {
  eq(out.idfp, IDENTITY_FP, `${label}: identityFingerprint = sealpass fingerprint --identity`);
  eq(out.idfpBytes, IDENTITY_FP, `${label}: identityFingerprint of the 32 bytes`);
  assert(/^([0-9a-f]{4}-){7}[0-9a-f]{4}$/.test(out.idfp), `${label}: identity fingerprint shape ${out.idfp}`);
  eq(out.fp, runOk(CLI, ["fingerprint", NIK]).stdout.trim(), `${label}: fingerprint of the same key`);
  assert(out.fp !== out.idfp, `${label}: identity fingerprint must differ from the one-time fingerprint of the same bytes`);
  checkV2(out.v2, `v2 secret ✓ ${label}`, label);
  checkV2(out.v2bytes, "v2 bytes identity", `${label} (identity as bytes)`);
  eq(out.v1, [1, 1, 1, 1], `${label}: no identity (absent, undefined, null, {}) seals v1`);
  eq(out.undefinedIdentity, ["InvalidArgument", 8306, true], `${label}: identity present but undefined (a missed pin) is an error, not v1`);
  eq(out.nullIdentity, ["InvalidArgument", 8306, true], `${label}: identity null is an error, not v1`);
  eq(out.inherited, 2, `${label}: an inherited identity is used, not ignored`);
  eq(out.getter, 2, `${label}: an identity getter is used, not ignored`);
  eq(out.misspelt, ["InvalidArgument", 8306, true], `${label}: misspelt option key`);
  eq(out.extraKey, ["InvalidArgument", 8306, true], `${label}: extra option key`);
  eq(out.stringOpts, ["InvalidArgument", 8306, true], `${label}: string as options`);
  eq(out.arrayOpts, ["InvalidArgument", 8306, true], `${label}: array as options`);
  eq(out.numberOpts, ["InvalidArgument", 8306, true], `${label}: number as options`);
  eq(out.badIdentity, ["InvalidPublicKey", 8301, true], `${label}: malformed identity`);
  eq(out.shortIdentity, ["InvalidPublicKey", 8301, true], `${label}: 31-byte identity`);
  eq(out.badIdFp, ["InvalidPublicKey", 8301, true], `${label}: identityFingerprint of a malformed key`);
}

await check("v2: Node ESM seal(pk, pt, ctx, { identity }) -> CLI opens with --identity-key (8307 without); identityFingerprint = CLI; bad options 8306", () => {
  write(path.join(NODE_DIR, "v2.mjs"), v2Probe(`import * as m from "sealpass";`, "ESM"));
  checkV2Probe(JSON.parse(nodeRun("v2.mjs")), "ESM");
});

await check("v2: Node CommonJS seal(pk, pt, ctx, { identity }) -> CLI opens with --identity-key (8307 without); identityFingerprint = CLI; bad options 8306", () => {
  write(path.join(NODE_DIR, "v2.cjs"), v2Probe(`const m = require("sealpass");`, "CJS"));
  checkV2Probe(JSON.parse(nodeRun("v2.cjs")), "CJS");
});

await check("v2: node-open exports; its seal({ identity }) and identityFingerprint agree with the CLI (ESM and CommonJS)", () => {
  write(path.join(NODE_DIR, "v2-open.mjs"), v2Probe(`import * as m from "sealpass/node-open";`, "node-open ESM"));
  checkV2Probe(JSON.parse(nodeRun("v2-open.mjs")), "node-open ESM");
  write(path.join(NODE_DIR, "v2-open.cjs"), v2Probe(`const m = require("sealpass/node-open");`, "node-open CJS"));
  checkV2Probe(JSON.parse(nodeRun("v2-open.cjs")), "node-open CJS");
  write(
    path.join(NODE_DIR, "open-keys.mjs"),
    `import * as ns from "sealpass/node-open";
import { createRequire } from "node:module";
console.log(JSON.stringify({ esm: Object.keys(ns).sort(), cjs: Object.keys(createRequire(import.meta.url)("sealpass/node-open")).sort() }));`,
  );
  const keys = JSON.parse(nodeRun("open-keys.mjs"));
  sameList(keys.esm, OPEN_NS, "node-open ESM namespace");
  sameList(keys.cjs, OPEN_EXPORTS, "node-open CJS exports");
});

await check("v2: CLI seal --identity -> node-open open(..., { identityKey }) and new Opener(sk, { identityKey }) (ESM and CommonJS)", () => {
  const secret = "cli→node v2 secret\nline 2";
  const envelope = runOk(CLI, ["seal", "--to", PUBLIC_KEY, "--identity", NIK, "--context", CTX_FILE], { input: secret }).stdout;
  eq(JSON.parse(envelope).v, 2, "CLI seal --identity makes v2");
  write(path.join(NODE_DIR, "cli-envelope-v2.json"), envelope);
  const v1 = runOk(CLI, ["seal", "--to", PUBLIC_KEY, "--context", CTX_FILE], { input: "v1 via identity opener" }).stdout;
  write(path.join(NODE_DIR, "cli-envelope-v1.json"), v1);
  const body = `
const sk = fs.readFileSync(${JSON.stringify(KEY_FILE)}, "utf8");
const isk = fs.readFileSync(${JSON.stringify(IDENTITY_KEY_FILE)}, "utf8");
const otherIsk = fs.readFileSync(${JSON.stringify(OTHER_IDENTITY_KEY_FILE)}, "utf8");
const envText = fs.readFileSync("cli-envelope-v2.json", "utf8").trim();
const envObj = JSON.parse(envText);
const v1Text = fs.readFileSync("cli-envelope-v1.json", "utf8").trim();
const ctx = ${JSON.stringify(CONTEXT)};
const dec = (u) => new TextDecoder().decode(u);
const err = (f) => { try { f(); return "no error"; } catch (e) { return [e.name, e.code]; } };
const out = {};
out.open = dec(open(sk, envText, ctx, { identityKey: isk }));
out.openObj = dec(open(sk, envObj, ctx, { identityKey: Buffer.from(isk.trim(), "base64url") }));
out.openV1 = dec(open(sk, v1Text, ctx, { identityKey: isk }));
out.noIdentity = [err(() => open(sk, envText, ctx)), err(() => open(sk, envText, ctx, {})), err(() => open(sk, envText, ctx, { identityKey: null }))];
out.otherIdentity = err(() => open(sk, envText, ctx, { identityKey: otherIsk }));
out.wrongCtx = err(() => open(sk, envText, { ...ctx, slug: "other" }, { identityKey: isk }));
out.misspelt = err(() => open(sk, envText, ctx, { identity_key: isk }));
out.sealOption = err(() => open(sk, envText, ctx, { identity: isk }));
out.badIsk = err(() => open(sk, envText, ctx, { identityKey: "not-a-key" }));
const op = new Opener(sk, { identityKey: isk });
out.opIdentity = op.identity;
out.opPk = op.publicKey;
out.opOpen = dec(op.open(envText, ctx));
out.opOpenV1 = dec(op.open(v1Text, ctx));
op.free();
const plain = new Opener(sk);
out.plainIdentity = plain.identity === undefined;
out.plainV2 = err(() => plain.open(envObj, ctx));
plain.free();
out.ctorMisspelt = err(() => new Opener(sk, { identitykey: isk }));
out.ctorString = err(() => new Opener(sk, isk));
out.ctorBadIsk = err(() => new Opener(sk, { identityKey: new Uint8Array(31) }));
const id = generateKeyPair();
const ot = generateKeyPair();
const rt = seal(ot.publicKey, "node-open v2 round trip", ctx, { identity: id.publicKey });
out.rt = [rt.v, dec(open(ot.secretKey, rt, ctx, { identityKey: id.secretKey })), new Opener(ot.secretKey, { identityKey: id.secretKey }).identity === id.publicKey];
console.log(JSON.stringify(out));`;
  write(path.join(NODE_DIR, "open-v2.mjs"), `import fs from "node:fs";
import { open, Opener, generateKeyPair, seal } from "sealpass/node-open";
${body}`);
  write(path.join(NODE_DIR, "open-v2.cjs"), `const fs = require("node:fs");
const { open, Opener, generateKeyPair, seal } = require("sealpass/node-open");
${body}`);
  for (const f of ["open-v2.mjs", "open-v2.cjs"]) {
    const o = JSON.parse(nodeRun(f));
    eq([o.open, o.openObj], [secret, secret], `${f}: open with identityKey (key file text, bytes)`);
    eq(o.openV1, "v1 via identity opener", `${f}: open with identityKey still opens v1`);
    eq(o.noIdentity, [["IdentityKeyRequired", 8307], ["IdentityKeyRequired", 8307], ["InvalidArgument", 8306]], `${f}: v2 without identityKey (identityKey: null is an error)`);
    eq(o.otherIdentity, ["DecryptFailed", 8006], `${f}: another node's identity key`);
    eq(o.wrongCtx, ["DecryptFailed", 8006], `${f}: wrong context`);
    eq(o.misspelt, ["InvalidArgument", 8306], `${f}: misspelt open option`);
    eq(o.sealOption, ["InvalidArgument", 8306], `${f}: seal's option given to open`);
    eq(o.badIsk, ["InvalidSecretKey", 8303], `${f}: malformed identityKey`);
    eq([o.opIdentity, o.opPk], [NIK, PUBLIC_KEY], `${f}: Opener.identity and .publicKey`);
    eq([o.opOpen, o.opOpenV1], [secret, "v1 via identity opener"], `${f}: Opener with identityKey opens v2 and v1`);
    eq(o.plainIdentity, true, `${f}: Opener without identityKey has identity undefined`);
    eq(o.plainV2, ["IdentityKeyRequired", 8307], `${f}: Opener without identityKey on v2`);
    eq(o.ctorMisspelt, ["InvalidArgument", 8306], `${f}: misspelt Opener option`);
    eq(o.ctorString, ["InvalidArgument", 8306], `${f}: string as Opener options`);
    eq(o.ctorBadIsk, ["InvalidSecretKey", 8303], `${f}: 31-byte identityKey`);
    eq(o.rt, [2, "node-open v2 round trip", true], `${f}: node-open v2 round trip`);
  }
});

await check("hostile JS values (throwing getters, Proxy traps, detached buffers) are sealpass errors 8306, not raw exceptions (sealpass and node-open, ESM and CommonJS)", () => {
  const body = `
const sk = fs.readFileSync(${JSON.stringify(KEY_FILE)}, "utf8");
const ctx = ${JSON.stringify(CONTEXT)};
const env = seal(${JSON.stringify(PUBLIC_KEY)}, "x", ctx);
const err = (f) => { try { f(); return "no error"; } catch (e) { return [e.name, e.code, isSealpassError(e)]; } };
const throwing = (k) => { const c = { ...ctx }; Object.defineProperty(c, k, { enumerable: true, get() { throw new Error("getter"); } }); return c; };
const detached = () => { const a = new Uint8Array(32).fill(7); structuredClone(a.buffer, { transfer: [a.buffer] }); return a; };
const trap = (t, name) => new Proxy(t, { [name]() { throw new Error("trap"); } });
const out = {};
for (const k of Object.keys(ctx)) {
  out["ctx " + k] = [err(() => seal(${JSON.stringify(PUBLIC_KEY)}, "x", throwing(k))), err(() => open(sk, env, throwing(k))), err(() => validateContext(throwing(k)))];
}
for (const t of ["get", "ownKeys", "getOwnPropertyDescriptor"]) out["ctx Proxy " + t] = err(() => seal(${JSON.stringify(PUBLIC_KEY)}, "x", trap(ctx, t)));
for (const t of ["get", "has", "ownKeys"]) {
  out["seal options Proxy " + t] = err(() => seal(${JSON.stringify(PUBLIC_KEY)}, "x", ctx, trap({ identity: "x" }, t)));
  out["open options Proxy " + t] = err(() => open(sk, env, ctx, trap({ identityKey: "x" }, t)));
  out["Opener options Proxy " + t] = err(() => new Opener(sk, trap({ identityKey: "x" }, t)));
}
out["seal options getter"] = err(() => seal(${JSON.stringify(PUBLIC_KEY)}, "x", ctx, { get identity() { throw new Error("getter"); } }));
out["Opener options getter"] = err(() => new Opener(sk, { get identityKey() { throw new Error("getter"); } }));
out["detached plaintext"] = err(() => seal(${JSON.stringify(PUBLIC_KEY)}, detached(), ctx));
out["detached public key"] = err(() => seal(detached(), "x", ctx));
out["detached secret key (open)"] = err(() => open(detached(), env, ctx));
out["detached secret key (Opener)"] = err(() => new Opener(detached()));
out["detached identityKey"] = err(() => new Opener(sk, { identityKey: detached() }));
out["Proxy of a Uint8Array as plaintext"] = err(() => seal(${JSON.stringify(PUBLIC_KEY)}, new Proxy(new Uint8Array(4), {}), ctx));
console.log(JSON.stringify(out));`;
  write(path.join(NODE_DIR, "hostile.mjs"), `import fs from "node:fs";
import { open, Opener, seal, validateContext, isSealpassError } from "sealpass/node-open";
${body}`);
  write(path.join(NODE_DIR, "hostile.cjs"), `const fs = require("node:fs");
const { open, Opener, seal, validateContext, isSealpassError } = require("sealpass/node-open");
${body}`);
  const want = ["InvalidArgument", 8306, true];
  for (const f of ["hostile.mjs", "hostile.cjs"]) {
    const o = JSON.parse(nodeRun(f));
    assert(Object.keys(o).length === 26, `${f}: ${Object.keys(o).length} cases`);
    for (const [what, got] of Object.entries(o)) {
      eq(got, what.startsWith("ctx ") && Array.isArray(got[0]) ? [want, want, want] : want, `${f}: ${what}`);
    }
  }
  // The seal-only Node entry shares the bindings: one case through it.
  write(path.join(NODE_DIR, "hostile-seal.cjs"), `const { seal } = require("sealpass");
const a = new Uint8Array(8); structuredClone(a.buffer, { transfer: [a.buffer] });
try { seal(${JSON.stringify(PUBLIC_KEY)}, a, ${JSON.stringify(CONTEXT)}); console.log("no error"); } catch (e) { console.log(JSON.stringify([e.name, e.code])); }`);
  eq(JSON.parse(nodeRun("hostile-seal.cjs")), ["InvalidArgument", 8306], "sealpass (seal-only): detached plaintext");
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

await check("README v2 (identity) example runs as written; the README says v1 rests on a per-secret fingerprint check", () => {
  const readme = fs.readFileSync(path.join(NODE_DIR, "node_modules/sealpass/README.md"), "utf8");
  const block = readmeBlock(readme, "node-v2");
  assert(block.trim().split("\n").length <= 12, "v2 example too long");
  assert(/\{ identity: /.test(block) && /\{ identityKey: /.test(block), "v2 example lacks { identity } / { identityKey }");
  write(path.join(NODE_DIR, "readme-node-v2.mjs"), block);
  const lines = nodeRun("readme-node-v2.mjs").trim().split("\n");
  assert(/^compare once, then pin: ([0-9a-f]{4}-){7}[0-9a-f]{4}$/.test(lines[0]), `unexpected first line: ${lines[0]}`);
  eq(lines.at(-1), "sk_live_51H8example", "decrypted plaintext");
  assert(/without[\s\S]{0,200}v1|v1[\s\S]{0,200}every time/i.test(readme), "README does not say that without identity the envelope is v1");
  assert(/\*\*every time\*\*/.test(readme) && /\*\*once\*\*/.test(readme), "README does not contrast per-secret and once-per-node comparison");
  assert(/IdentityKeyRequired/.test(readme) && /8307/.test(readme), "README does not mention 8307");
});

// ---------------------------------------------------------------- TypeScript
const TS_DIR = project("ts", { type: "module" });
const TSC_WEB = ["--strict", "--noEmit", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler", "--lib", "es2022,dom"];
const TSC_NODE = ["--strict", "--noEmit", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext", "--lib", "es2022"];
const TSC_NODE16 = ["--strict", "--noEmit", "--target", "es2022", "--module", "node16", "--moduleResolution", "node16", "--lib", "es2022"];
// A Worker project: bundler resolution with wrangler's "workerd" condition and no DOM lib (Workers types bring their own globals).
const TSC_WORKERD = ["--strict", "--noEmit", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler", "--customConditions", "workerd", "--lib", "es2022"];
const tsc = (flags, files) => run(process.execPath, [path.join(DEPS, "node_modules/typescript/bin/tsc"), ...flags, ...files], { cwd: TS_DIR });

await check("tsc --strict passes on typed consumers (bundler + DOM; nodenext and node16 ESM .mts and CJS .cts; bundler + workerd condition, no DOM)", () => {
  write(
    path.join(TS_DIR, "good.ts"),
    `import init, { seal, fingerprint, identityFingerprint, validateContext, SealpassError, isSealpassError } from "sealpass";
import type { Context, Envelope, SealOptions, ErrorName, ErrorCode, SealpassErrorOf } from "sealpass";
import wasmUrl from "sealpass/sealpass_bg.wasm";
import initFast, { seal as sealFast, type Envelope as FastEnvelope, type Context as FastContext } from "sealpass/fast";
import fastWasmUrl from "sealpass/fast/sealpass_bg.wasm";
await initFast(fastWasmUrl);
const fastCtx: FastContext = { node_id: "n", pending_id: "p", slug: "s", injection_method: "env" };
const envFast: FastEnvelope = sealFast("pk", new Uint8Array([1]), fastCtx, { identity: "nik" });
await init();
await init(wasmUrl);
await init(new URL("https://cdn.example.com/sealpass_bg.wasm"));
await init(new Uint8Array(8));
const ctx: Context = { node_id: "n", pending_id: "p", slug: "s", injection_method: "header", field_name: null };
const env: Envelope = seal("pk", new Uint8Array([1]), ctx);
const v: 1 | 2 = env.v;
const suite: "x25519-hkdf-sha256-xchacha20poly1305" | "x25519-x25519-hkdf-sha256-xchacha20poly1305" = env.suite;
const fp: string = fingerprint("pk");
const env2: Envelope = seal("pk", "pt", ctx, { identity: "nik" });
const env3: Envelope = seal("pk", "pt", ctx, { identity: new Uint8Array(32) });
const opts: SealOptions = { identity: "nik" };
seal("pk", "pt", ctx, opts);
seal("pk", "pt", ctx, {});
seal("pk", "pt", ctx, undefined);
seal("pk", "pt", ctx, null);
const idfp: string = identityFingerprint("nik");
const idfpBytes: string = identityFingerprint(new Uint8Array(32));
if (env2.v === 2) { const s2: string = env2.suite; }
validateContext({ ...ctx, target_url: "https://x" });
try { seal("pk", "secret", ctx); } catch (e) {
  if (e instanceof SealpassError) {
    const n: ErrorName = e.name; const c: ErrorCode = e.code;
    if (e.name === "DecryptFailed") { const c8006: 8006 = e.code; }
  }
  if (isSealpassError(e) && e.code === 8204) { const nm: "InjectionMethodInvalid" = e.name; const one: SealpassErrorOf<"InjectionMethodInvalid"> = e; }
}
export { v, suite, fp, env3, idfp, idfpBytes, envFast };
`,
  );
  write(
    path.join(TS_DIR, "good-node.mts"),
    `import init, { seal, identityFingerprint, type Context, type SealOptions } from "sealpass";
import { open, generateKeyPair, Opener, SealpassError, type OpenOptions } from "sealpass/node-open";
import * as nodeOpen from "sealpass/node-open";
await init();
const ctx: Context = { node_id: "n", pending_id: "p", slug: "s", injection_method: "env" };
const { secretKey, publicKey } = generateKeyPair();
const id = generateKeyPair();
const pt: Uint8Array = open(secretKey, seal(publicKey, "x", ctx), ctx);
const fromJson: Uint8Array = open(secretKey, "{}", ctx);
const fromBytes: Uint8Array = open(secretKey, new Uint8Array([0x7b, 0x7d]), ctx);
try { open(secretKey, "{}", ctx); } catch (e) { if (e instanceof SealpassError) { const c: number = e.code; } }
const sealOpts: SealOptions = { identity: id.publicKey };
const openOpts: OpenOptions = { identityKey: id.secretKey };
const v2: Uint8Array = open(secretKey, seal(publicKey, "x", ctx, sealOpts), ctx, openOpts);
const v2b: Uint8Array = open(secretKey, nodeOpen.seal(publicKey, "x", ctx, { identity: id.publicKey }), ctx, { identityKey: new Uint8Array(32) });
open(secretKey, "{}", ctx, undefined);
open(secretKey, "{}", ctx, null);
const idfp: string = nodeOpen.identityFingerprint(id.publicKey) + identityFingerprint(id.publicKey);
const opener = new Opener(secretKey);
const npk: string = opener.publicKey;
const noIdentity: string | undefined = opener.identity;
const viaOpener: Uint8Array = opener.open(seal(npk, "x", ctx), ctx);
const viaOpenerBytes: Uint8Array = opener.open(new Uint8Array(0), ctx);
opener.free();
const idOpener = new Opener(secretKey, { identityKey: id.secretKey });
const nik: string | undefined = idOpener.identity;
new Opener(secretKey, null).free();
new Opener(secretKey, undefined).free();
export { pt, fromJson, fromBytes, viaOpener, viaOpenerBytes, v2, v2b, idfp, noIdentity, nik };
`,
  );
  write(
    path.join(TS_DIR, "good-node.cts"),
    `import sealpass = require("sealpass");
import nodeOpen = require("sealpass/node-open");
const ctx: sealpass.Context = { node_id: "n", pending_id: "p", slug: "s", injection_method: "env" };
const env: sealpass.Envelope = sealpass.seal("pk", "x", ctx);
const env2: sealpass.Envelope = sealpass.seal("pk", "x", ctx, { identity: "nik" });
const pt: Uint8Array = nodeOpen.open("sk", env, ctx);
const pt2: Uint8Array = nodeOpen.open("sk", env2, ctx, { identityKey: "isk" });
const o: nodeOpen.OpenOptions = { identityKey: "isk" };
const fp: string = sealpass.identityFingerprint("nik") + new nodeOpen.Opener("sk", o).publicKey;
export = { pt, pt2, fp };
`,
  );
  // What a bundler's client types provide for asset imports (e.g. vite/client for "*.wasm?url").
  write(path.join(TS_DIR, "assets.d.ts"), `declare module "*.wasm" { const url: string; export default url; }\n`);
  let r = tsc(TSC_WEB, ["assets.d.ts", "good.ts"]);
  assert(r.status === 0, `tsc (bundler) failed:\n${r.stdout}${r.stderr}`);
  r = tsc(TSC_NODE, ["good-node.mts", "good-node.cts"]);
  assert(r.status === 0, `tsc (nodenext) failed:\n${r.stdout}${r.stderr}`);
  r = tsc(TSC_NODE16, ["good-node.mts", "good-node.cts"]);
  assert(r.status === 0, `tsc (node16) failed:\n${r.stdout}${r.stderr}`);
  write(
    path.join(TS_DIR, "good-workerd.ts"),
    `import init, { seal, fingerprint, identityFingerprint, validateContext, initSync, SealpassError, isSealpassError } from "sealpass";
import type { Context, Envelope, ErrorName } from "sealpass";
await init();
initSync();
const ctx: Context = { node_id: "n", pending_id: "p", slug: "s", injection_method: "header", field_name: "Authorization" };
const env: Envelope = seal("pk", "pt", ctx);
const env2: Envelope = seal("pk", new Uint8Array([1]), ctx, { identity: "nik" });
const fp: string = fingerprint("pk") + identityFingerprint("nik");
validateContext(ctx);
try { seal("pk", "x", ctx); } catch (e) { if (e instanceof SealpassError) { const n: ErrorName = e.name; } if (isSealpassError(e)) { const c: number = e.code; } }
export { env, env2, fp };
`,
  );
  r = tsc([...TSC_WORKERD, "--explainFiles"], ["good-workerd.ts"]);
  assert(r.status === 0, `tsc (bundler, --customConditions workerd) failed:\n${r.stdout}${r.stderr}`);
  assert(/node_modules\/sealpass\/workerd\/index\.d\.ts/.test(r.stdout), `tsc with --customConditions workerd did not pick workerd/index.d.ts:\n${r.stdout.slice(0, 3000)}`);
  assert(!/lib\.dom\.d\.ts/.test(r.stdout), "the workerd types pulled in the DOM lib");
});

await check("tsc --strict fails on wrong consumers (misspelled key or option, wrong plaintext type, open from web entry, wrong code)", () => {
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
    ["bad-option.ts", `seal("pk", "x", ctx, { identiy: "nik" });`, /identiy/],
    ["bad-option-extra.ts", `seal("pk", "x", ctx, { identity: "nik", identityKey: "isk" });`, /identityKey/],
    ["bad-option-type.ts", `seal("pk", "x", ctx, { identity: 42 });`, /number/],
    ["bad-option-string.ts", `seal("pk", "x", ctx, "nik");`, /SealOptions/],
    ["bad-v1-literal.ts", `const v1: 1 = seal("pk", "x", ctx).v;`, /not assignable/],
    ["bad-openoptions.ts", `import type { OpenOptions } from "sealpass";\nconst o: OpenOptions = {};`, /OpenOptions/],
    ["bad-idfp.ts", `import { identityFingerprint } from "sealpass";\nidentityFingerprint(42);`, /number/],
    ["bad-fast-open.ts", `import { open } from "sealpass/fast";\nopen("sk", "{}", ctx);`, /open/],
  ];
  expectTscErrors(TSC_WEB, HEAD, cases);
});

await check("tsc --strict (nodenext) fails on wrong node-open consumers (seal's option to open, misspelt identityKey, identity maybe undefined)", () => {
  const HEAD = `import { open, Opener, seal, type Context } from "sealpass/node-open";\nconst ctx: Context = { node_id: "n", pending_id: "p", slug: "s", injection_method: "env" };\n`;
  const cases = [
    ["bad-open-option.mts", `open("sk", "{}", ctx, { identity: "nik" });`, /identity/],
    ["bad-open-misspelt.mts", `open("sk", "{}", ctx, { identity_key: "isk" });`, /identity_key/],
    ["bad-opener-option.mts", `new Opener("sk", { identitykey: "isk" });`, /identitykey/],
    ["bad-opener-identity.mts", `const n: string = new Opener("sk").identity;`, /undefined/],
    ["bad-seal-option.mts", `seal("pk", "x", ctx, { identityKey: "isk" });`, /identityKey/],
    ["bad-opener-open-options.mts", `new Opener("sk").open("{}", ctx, { identityKey: "isk" });`, /argument/i],
  ];
  expectTscErrors(TSC_NODE, HEAD, cases);
  expectTscErrors(TSC_NODE16, HEAD, cases);
});

await check("tsc --strict (node16) fails on wrong consumers of the Node entries (.mts and .cts)", () => {
  const HEAD = `import { seal, type Context } from "sealpass";\nconst ctx: Context = { node_id: "n", pending_id: "p", slug: "s", injection_method: "env" };\n`;
  const cases = [
    ["bad-n16-key.mts", `seal("pk", "x", { nodeId: "n", pending_id: "p", slug: "s", injection_method: "env" });`, /nodeId/],
    ["bad-n16-option.mts", `seal("pk", "x", ctx, { identiy: "nik" });`, /identiy/],
    ["bad-n16-open.mts", `import { open } from "sealpass";\nopen("sk", "{}", ctx);`, /open/],
    ["bad-n16-plaintext.mts", `seal("pk", 42, ctx);`, /number/],
  ];
  expectTscErrors(TSC_NODE16, HEAD, cases);
  const CJS_HEAD = `import sealpass = require("sealpass");\nconst ctx: sealpass.Context = { node_id: "n", pending_id: "p", slug: "s", injection_method: "env" };\n`;
  expectTscErrors(TSC_NODE16, CJS_HEAD, [
    ["bad-n16-open.cts", `sealpass.open("sk", "{}", ctx);`, /open/],
    ["bad-n16-option.cts", `sealpass.seal("pk", "x", ctx, { identityKey: "isk" });`, /identityKey/],
    ["bad-n16-openopts.cts", `import nodeOpen = require("sealpass/node-open");\nnodeOpen.open("sk", "{}", ctx, { identity: "nik" });`, /identity/],
  ]);
});

await check("tsc --strict (bundler, --customConditions workerd) fails on wrong Worker consumers", () => {
  const HEAD = `import { seal, type Context } from "sealpass";\nconst ctx: Context = { node_id: "n", pending_id: "p", slug: "s", injection_method: "env" };\n`;
  expectTscErrors(TSC_WORKERD, HEAD, [
    ["bad-wd-key.ts", `seal("pk", "x", { nodeId: "n", pending_id: "p", slug: "s", injection_method: "env" });`, /nodeId/],
    ["bad-wd-option.ts", `seal("pk", "x", ctx, { identiy: "nik" });`, /identiy/],
    ["bad-wd-open.ts", `import { open } from "sealpass";\nopen("sk", "{}", ctx);`, /open/],
    ["bad-wd-plaintext.ts", `seal("pk", 42, ctx);`, /number/],
  ]);
});

/** Write each case as HEAD + body and run tsc once; every file must have its own expected error, and no other file any. */
function expectTscErrors(flags, HEAD, cases) {
  for (const [file, body] of cases) write(path.join(TS_DIR, file), HEAD + body + "\n");
  // One tsc run; diagnostics are grouped by file and each file must have its own error.
  const r = tsc(flags, cases.map((c) => c[0]));
  assert(r.status !== 0, "tsc passed on the wrong consumers");
  const byFile = {};
  let current = null;
  for (const line of (r.stdout + r.stderr).split("\n")) {
    const m = line.match(/^([\w.-]+\.[cm]?ts)\(\d+,\d+\): error/);
    if (m) current = m[1];
    if (current) byFile[current] = (byFile[current] ?? "") + line + "\n";
  }
  const problems = cases
    .filter(([file, , expect]) => !byFile[file] || !expect.test(byFile[file]))
    .map(([file]) => `${file}: ${byFile[file] ? `unexpected diagnostics:\n${byFile[file]}` : "no error reported"}`);
  const stray = Object.keys(byFile).filter((f) => !cases.some((c) => c[0] === f));
  assert(!problems.length && !stray.length, [...problems, ...stray.map((f) => `error in ${f}`)].join("\n") + `\n${r.stdout}`);
}

// ---------------------------------------------------------------- browsers
const WEB_DIR = project("web", { type: "module" });
const NM = path.join(WEB_DIR, "node_modules/sealpass");

// esbuild bundles: the .wasm as a file asset (URL) and inlined as bytes.
const APP = `import init, { seal, fingerprint, identityFingerprint, SealpassError } from "sealpass";
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
out.identityFingerprint = identityFingerprint(q.get("nik"));
out.envelope2 = seal(q.get("pk"), "v2 " + q.get("pt"), ctx, { identity: q.get("nik") });
try { seal(q.get("pk"), "x", ctx, { identiy: q.get("nik") }); out.optErr = "no error"; }
catch (e) { out.optErr = { name: e.name, code: e.code, inst: e instanceof SealpassError }; }
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
  // The README example as written bundles for a target without top-level
  // await (es2020, Vite 6's default); tests/matrix runs it against a real relay.
  const readme = fs.readFileSync(path.join(NM, "README.md"), "utf8");
  write(path.join(WEB_DIR, "src/readme.js"), readmeBlock(readme, "browser"));
  runOk(BIN("esbuild"), ["src/readme.js", "--bundle", "--format=esm", "--platform=browser", "--target=es2020", "--loader:.wasm=file", "--outdir=dist-readme"], { cwd: WEB_DIR });
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

// Static server on 127.0.0.1 (random port).
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
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

const WEB_KEYS = SEAL_NS;
function checkAppResult(r, pt) {
  eq(r.preInit, "NotInitialized", "error before init");
  eq(r.keys, WEB_KEYS, "module namespace (no open)");
  eq(r.fingerprint, runOk(CLI, ["fingerprint", PUBLIC_KEY]).stdout.trim(), "fingerprint");
  eq(r.err, { name: "InjectionMethodInvalid", code: 8204, inst: true }, "error shape");
  eq(cliOpen(r.envelope), pt, "native CLI opens the browser's envelope");
  eq(r.envelope.v, 1, "seal without options is v1");
  eq(r.identityFingerprint, IDENTITY_FP, "identityFingerprint = sealpass fingerprint --identity");
  eq(r.optErr, { name: "InvalidArgument", code: 8306, inst: true }, "misspelt option key");
  checkV2(r.envelope2, `v2 ${pt}`, "browser v2 envelope");
}
const query = (pt) =>
  `?pk=${encodeURIComponent(PUBLIC_KEY)}&nik=${encodeURIComponent(NIK)}&pt=${encodeURIComponent(pt)}&ctx=${encodeURIComponent(JSON.stringify(CONTEXT))}`;

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
      await check(`${bname}: ${label} seals v1 and v2; native CLI opens them`, async () => {
        assert(bundlesBuilt, "bundles not built");
        const pt = `${bname} ${dir} sécret`;
        const { result } = await loadPage(browser, `/${dir}/index.html${query(pt)}`);
        checkAppResult(result, pt);
      });
    }
        await check(`${bname}: no bundler, <script type="module"> importing the web build seals v1 and v2; CLI opens them`, async () => {
      const pt = `${bname} plain module`;
      const { result } = await loadPage(browser, `/plain/index.html${query(pt)}`);
      checkAppResult(result, pt);
    });
    await check(`${bname}: no bundler, init() with a CDN-style wasm path seals v1 and v2; CLI opens them`, async () => {
      const pt = `${bname} cdn path`;
      const { result } = await loadPage(browser, `/cdn/index.html${query(pt)}`);
      checkAppResult(result, pt);
    });
  } finally {
    await browser.close().catch(() => {});
  }
}
server.close();


// ---------------------------------------------------------------- size
for (const [label, dir, budget] of [
  ["browser", "web", GZIP_BUDGET],
  ["sealpass/fast", "fast", FAST_GZIP_BUDGET],
]) {
  await check(`size: gzip -9 of the ${label} wasm + JS glue + entry <= ${budget} bytes`, () => {
    const files = [`${dir}/sealpass_bg.wasm`, `${dir}/sealpass.js`, dir === "web" ? "index.js" : `${dir}/index.js`];
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
    console.log(`     ${"total".padEnd(22)} raw ${String(raw).padStart(7)}  gzip-9 ${String(gz).padStart(6)}  brotli-11 ${String(br).padStart(6)}  (budget gzip ${budget})`);
    assert(gz <= budget, `${label} payload is ${gz} bytes gzip -9, over the ${budget}-byte budget`);
  });
}

// ---------------------------------------------------------------- summary
if (KEEP) console.log(`kept temp projects in ${TMP}`);
else fs.rmSync(TMP, { recursive: true, force: true });
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
