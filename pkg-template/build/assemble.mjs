// Assemble the npm package directory from the wasm-pack outputs and this
// template. Called by scripts/pack.sh; not shipped in the package.
//
//   node pkg-template/build/assemble.mjs ROOT WASM_DIR OUT_DIR VERSION
//
// WASM_DIR holds wasm-pack outputs web/ (seal-only, --target web),
// node/ (seal-only, --target nodejs) and node-open/ (--features open,
// --target nodejs); the hand-written workerd/ entry uses the web/ glue and
// .wasm. Types come from two sources of truth: the error table from
// src/error.rs, Context/SealOptions/OpenOptions/Envelope and the function
// signatures from the wasm-bindgen .d.ts (i.e. from crates/wasm/src/bindings.rs).
import fs from "node:fs";
import path from "node:path";

const [root, wasmDir, outDir, version] = process.argv.slice(2);
if (!root || !wasmDir || !outDir || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version ?? "")) {
  console.error("usage: assemble.mjs ROOT WASM_DIR OUT_DIR X.Y.Z");
  process.exit(2);
}
const tpl = path.join(root, "pkg-template");
const read = (p) => fs.readFileSync(p, "utf8");
const die = (msg) => {
  console.error(`assemble: ${msg}`);
  process.exit(1);
};

// ---- Cargo.toml [package] metadata (the core crate); fields it inherits
// with `x.workspace = true` come from [workspace.package].
function cargoPackage() {
  const text = read(path.join(root, "Cargo.toml"));
  const m = text.match(/^\[package\]\n([\s\S]*?)(?=^\[)/m);
  if (!m) die("no [package] section in Cargo.toml");
  const ws = text.match(/^\[workspace\.package\]\n([\s\S]*?)(?=^\[)/m)?.[1] ?? "";
  const field = (sec, k) => sec.match(new RegExp(`^${k}\\s*=\\s*"([^"]*)"`, "m"))?.[1];
  const inherits = (k) => new RegExp(`^${k}\\.workspace\\s*=\\s*true`, "m").test(m[1]);
  const get = (k) => field(m[1], k) ?? (inherits(k) ? field(ws, k) : undefined);
  const kw = m[1].match(/^keywords\s*=\s*\[([^\]]*)\]/m)?.[1] ?? "";
  return {
    version: get("version"),
    description: get("description"),
    repository: get("repository"),
    license: get("license"),
    keywords: [...kw.matchAll(/"([^"]*)"/g)].map((x) => x[1]),
  };
}

// ---- src/error.rs: the codes! { ... } table
function errorCodes() {
  const text = read(path.join(root, "src/error.rs"));
  const start = text.indexOf("\ncodes! {");
  if (start < 0) die("codes! { not found in src/error.rs");
  const body = text.slice(start + 9, text.indexOf("\n}", start));
  const out = [];
  let doc = [];
  for (const raw of body.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("///")) doc.push(line.slice(3).trim());
    else if (/^[A-Z][A-Za-z0-9]*\s*=\s*\d+,$/.test(line)) {
      const [, name, code] = line.match(/^([A-Za-z0-9]+)\s*=\s*(\d+),$/);
      out.push({ name, code: Number(code), doc: doc.join(" ") });
      doc = [];
    } else if (line === "" || line.startsWith("//")) doc = [];
    else die(`unexpected line in codes!: ${line}`);
  }
  if (out.length < 20 || !out.some((c) => c.name === "DecryptFailed" && c.code === 8006))
    die(`parsed only ${out.length} error codes from src/error.rs`);
  return out;
}

// ---- wasm-bindgen .d.ts: doc-commented interfaces and functions
function parseDts(file) {
  const lines = read(file).split("\n");
  const interfaces = new Map();
  const functions = new Map();
  const classes = new Map();
  let doc = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("/**")) {
      doc = [line];
      while (!lines[i].includes("*/")) doc.push(lines[++i]);
      continue;
    }
    let m;
    if ((m = line.match(/^export interface (\w+) \{/))) {
      const block = [...doc, line];
      while (lines[i] !== "}") block.push(lines[++i]);
      interfaces.set(m[1], block.join("\n").replace(/\n {4}/g, "\n  "));
    } else if ((m = line.match(/^export class (\w+) \{/))) {
      const block = [...doc, line.replace(/^export class/, "export declare class")];
      // wasm-bindgen also declares `[Symbol.dispose]()`, which fails to type-check
      // for consumers whose lib predates esnext.disposable; free() is the API.
      while (lines[i] !== "}") if (!/^\s*\[Symbol\.dispose\]\(\): void;$/.test(lines[++i])) block.push(lines[i]);
      classes.set(m[1], block.join("\n").replace(/\n {4}/g, "\n  "));
    } else if ((m = line.match(/^export function (\w+)\(/))) {
      functions.set(m[1], [...doc, line.replace(/^export function/, "export declare function")].join("\n"));
    }
    if (line.trim() !== "") doc = [];
  }
  return { interfaces, functions, classes };
}

const SEAL_API = ["seal", "fingerprint", "identityFingerprint", "validateContext"];
const OPEN_API = ["open", "generateKeyPair"];
const OPEN_CLASSES = ["Opener"];

function pick(dts, names, label) {
  return names
    .map((n) => dts.functions.get(n) ?? die(`${label}: wasm-bindgen .d.ts lacks ${n}()`))
    .join("\n\n");
}

// A trailing `Option<js_sys::Object>` argument with `unchecked_param_type`
// comes out of wasm-bindgen as a required `options: SealOptions`; the Rust
// side takes undefined and null as "no options", so declare it optional
// (`seal(pk, pt, ctx)` must type-check). Every declaration that takes
// options must come out as exactly `options?: X | null`.
const OPTIONS_PARAM = /\boptions\??: (SealOptions|OpenOptions)(?: \| null)?(?: \| undefined)?(?=\))/g;
function optionalOptions(text, label, expect) {
  const out = text.replace(OPTIONS_PARAM, (_, t) => `options?: ${t} | null`);
  const found = [...out.matchAll(/\boptions\??: [^,)]*/g)].map((m) => m[0]);
  if (found.length !== expect.length || found.some((f, i) => f !== `options?: ${expect[i]} | null`))
    die(`${label}: expected options parameters ${JSON.stringify(expect)}, got ${JSON.stringify(found)}`);
  return out;
}

// ---- build
const pkgMeta = cargoPackage();
if (pkgMeta.version !== version) die(`version ${version} != Cargo.toml ${pkgMeta.version}`);
const codes = errorCodes();
const dts = {
  web: parseDts(path.join(wasmDir, "web/sealpass.d.ts")),
  node: parseDts(path.join(wasmDir, "node/sealpass.d.ts")),
  open: parseDts(path.join(wasmDir, "node-open/sealpass.d.ts")),
};
for (const n of OPEN_API) {
  if (dts.web.functions.has(n) || dts.node.functions.has(n))
    die(`seal-only build exports ${n}(): built with the open feature?`);
  if (!dts.open.functions.has(n)) die(`node-open build lacks ${n}(): built without the open feature?`);
}
for (const n of OPEN_CLASSES) {
  if (dts.web.classes.has(n) || dts.node.classes.has(n)) die(`seal-only build exports class ${n}: built with the open feature?`);
  if (!dts.open.classes.has(n)) die(`node-open build lacks class ${n}: built without the open feature?`);
}
// OpenOptions only where open()/Opener exist (node-open); the seal-only
// entries declare Context, SealOptions and Envelope.
const SEAL_TYPES = ["Context", "SealOptions", "Envelope"];
const OPEN_TYPES = ["Context", "SealOptions", "OpenOptions", "Envelope"];
const dataTypes = (d, names, label) =>
  names.map((n) => d.interfaces.get(n) ?? die(`${label} .d.ts lacks interface ${n}`)).join("\n\n");
const errorLines = codes
  .map((c) => `  /** ${c.doc.replace(/\*\//g, "* /")} */\n  ${c.name}: ${c.code};`)
  .join("\n");
const sharedFor = (types) =>
  read(path.join(tpl, "types/shared.d.ts"))
    .replace("/*@@ERROR_CODES@@*/", () => errorLines)
    .replace("/*@@DATA_TYPES@@*/", () => types)
    .trimEnd();
const sharedWeb = sharedFor(dataTypes(dts.web, SEAL_TYPES, "web"));
const sharedNode = sharedFor(dataTypes(dts.node, SEAL_TYPES, "node"));
const sharedOpen = sharedFor(dataTypes(dts.open, OPEN_TYPES, "node-open"));
const header = "// Generated by scripts/pack.sh — do not edit; see pkg-template/ in the sealpass repository.\n";

fs.rmSync(outDir, { recursive: true, force: true });
for (const d of ["web", "fast", "node", "node-open", "workerd"]) fs.mkdirSync(path.join(outDir, d), { recursive: true });

const write = (rel, text) => fs.writeFileSync(path.join(outDir, rel), text);
const copy = (from, rel) => fs.copyFileSync(from, path.join(outDir, rel));
const glue = (file) => read(file).replace(/^\/\* @ts-self-types="[^"]*" \*\/\n/, "");

// JS glue and wasm
write("web/sealpass.js", glue(path.join(wasmDir, "web/sealpass.js")));
copy(path.join(wasmDir, "web/sealpass_bg.wasm"), "web/sealpass_bg.wasm");
// sealpass/fast: the same API from the speed build (web-fast), glue next to it.
write("fast/sealpass.js", glue(path.join(wasmDir, "web-fast/sealpass.js")));
copy(path.join(wasmDir, "web-fast/sealpass_bg.wasm"), "fast/sealpass_bg.wasm");
for (const [src, dst] of [["node", "node"], ["node-open", "node-open"]]) {
  write(`${dst}/sealpass.cjs`, glue(path.join(wasmDir, src, "sealpass.js")));
  copy(path.join(wasmDir, src, "sealpass_bg.wasm"), `${dst}/sealpass_bg.wasm`);
}
for (const g of ["web/sealpass.js", "fast/sealpass.js"])
  if (/\bopen\b|generateKeyPair|Opener/.test(read(path.join(outDir, g)).replace(/\/\/.*|\/\*[\s\S]*?\*\//g, "").replace(/'[^']*'|"[^"]*"/g, "")))
    die(`${g} mentions open/generateKeyPair`);

// hand-written entries
copy(path.join(tpl, "index.js"), "index.js");
{
  // fast/index.js: index.js with its glue import pointed at fast/sealpass.js.
  const entry = read(path.join(tpl, "index.js"));
  if (!entry.includes('from "./web/sealpass.js";')) die("index.js does not import ./web/sealpass.js");
  write(
    "fast/index.js",
    entry
      .replace("// sealpass — browser / bundler entry (seal-only WebAssembly build).", "// sealpass/fast — browser entry, seal-only, built for speed (generated from index.js by scripts/pack.sh).")
      .replace('from "./web/sealpass.js";', 'from "./sealpass.js";')
      .replaceAll("web/sealpass.js", "fast/sealpass.js"),
  );
}
for (const f of ["index.cjs", "index.mjs", "errors.cjs"]) copy(path.join(tpl, "node", f), `node/${f}`);
for (const f of ["index.cjs", "index.mjs"]) copy(path.join(tpl, "node-open", f), `node-open/${f}`);
copy(path.join(tpl, "workerd/index.js"), "workerd/index.js");

// types
const fill = (template, shared, functions, title) =>
  header +
  read(path.join(tpl, "types", template))
    .replace("/*@@TITLE@@*/", () => title)
    .replace("/*@@SHARED@@*/", () => shared)
    .replace("/*@@FUNCTIONS@@*/", () => functions)
    .trimEnd() +
  "\n";
const webFns = optionalOptions(pick(dts.web, SEAL_API, "web"), "web", ["SealOptions"]);
write("index.d.ts", fill("web.d.ts", sharedWeb, webFns, ""));
write("fast/index.d.ts", fill("web.d.ts", sharedWeb, webFns, ""));
// workerd/: the web build's API, without the DOM lib (Workers types bring their own).
write("workerd/index.d.ts", fill("workerd.d.ts", sharedWeb, webFns, ""));
const nodeFns = optionalOptions(pick(dts.node, SEAL_API, "node"), "node", ["SealOptions"]);
const openFns = optionalOptions(
  [pick(dts.open, [...OPEN_API, ...SEAL_API], "node-open"), ...OPEN_CLASSES.map((n) => dts.open.classes.get(n))].join("\n\n"),
  "node-open",
  ["OpenOptions", "SealOptions", "OpenOptions"],
);
const nodeTitle = "sealpass — Node.js entry (seal-only).";
const openTitle = "sealpass/node-open — Node.js only: seal and open.";
write("node/index.d.cts", fill("node.d.ts", sharedNode, nodeFns, nodeTitle));
write("node/index.d.mts", fill("node.d.ts", sharedNode, nodeFns, nodeTitle) + "export default init;\n");
write("node-open/index.d.cts", fill("node.d.ts", sharedOpen, openFns, openTitle));
write("node-open/index.d.mts", fill("node.d.ts", sharedOpen, openFns, openTitle) + "export default init;\n");

// README with the error table
const table = [
  "| code | name | meaning |",
  "|---|---|---|",
  ...codes.map((c) => `| ${c.code} | ${c.name} | ${c.doc.replace(/\|/g, "\\|")} |`),
].join("\n");
const readme = read(path.join(tpl, "README.md"));
if (!readme.includes("<!-- @@ERROR_CODES@@ -->")) die("README template lacks the error table marker");
write("README.md", readme.replace("<!-- @@ERROR_CODES@@ -->", () => table).replaceAll("@@VERSION@@", () => version));

// package.json
const pj = JSON.parse(read(path.join(tpl, "package.json")));
pj.version = version;
pj.description = pkgMeta.description ?? pj.description;
pj.keywords = pkgMeta.keywords;
if (pkgMeta.license && pkgMeta.license !== pj.license) die(`license ${pj.license} != Cargo.toml ${pkgMeta.license}`);
if (pkgMeta.repository) pj.repository = { type: "git", url: pkgMeta.repository };
else delete pj.repository;
write("package.json", JSON.stringify(pj, null, 2) + "\n");

for (const f of pj.files) if (!fs.existsSync(path.join(outDir, f))) die(`files entry ${f} missing`);
console.log(`assembled ${outDir} (sealpass ${version}, ${codes.length} error codes)`);
