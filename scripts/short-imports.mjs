// short-imports.mjs DIR — shorten the import names between a wasm-bindgen
// `--target web` build's sealpass_bg.wasm and its glue sealpass.js, in place.
//
// wasm-bindgen names every import `__wbg_<name>_<16 hex digits>` under the
// module "./sealpass_bg.js"; each name is written twice, once in the wasm's
// import section and once as a key of the glue's import object, and the hex
// digits do not compress (about 0.6 KB gzip of the two files). Here the
// module becomes "w" and the names "a", "b", …, in import order (so the
// output is deterministic). Nothing else changes: the import object's keys
// are the only place the glue spells them, which is checked — a glue that
// spells a name anywhere else, or not exactly once, stops the build.
//
// Everything is checked in memory before either file is written (the
// renamed module compiles, and the keys of the renamed glue's import object
// are exactly its import names); then each file is replaced by a rename of a
// temp file beside it. A failure leaves both inputs as they were.
//
// The module name stays the bare "w", not "./w": the `--target web` glue
// hands the wasm its imports as an object keyed by module name
// (`WebAssembly.instantiate(module, imports)`, `imports = {"w": import0}`)
// and loads the wasm by URL; no bundler resolves that name (only one that
// imports the .wasm itself as an ES module would, and for that neither
// "./sealpass_bg.js"'s renamed form nor "./w" would name a file).
import fs from "node:fs";
import path from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: short-imports.mjs DIR (with sealpass_bg.wasm and sealpass.js)");
  process.exit(2);
}
const die = (msg) => {
  console.error(`short-imports: ${msg}`);
  process.exit(1);
};
const wasmPath = path.join(dir, "sealpass_bg.wasm");
const gluePath = path.join(dir, "sealpass.js");
const wasm = fs.readFileSync(wasmPath);
let glue = fs.readFileSync(gluePath, "utf8");
const MODULE = "./sealpass_bg.js";
const NEW_MODULE = "w";

// --- a minimal reader/writer for the binary format (LEB128, names)
let pos = 0;
const u8 = () => wasm[pos++];
function leb() {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = u8();
    result += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) return result;
    shift += 7;
  }
}
function name() {
  const n = leb();
  const s = wasm.subarray(pos, pos + n).toString("utf8");
  pos += n;
  return s;
}
function encLeb(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}
const encName = (s) => Buffer.concat([encLeb(Buffer.byteLength(s)), Buffer.from(s, "utf8")]);
// Bytes of one import descriptor after the kind byte (copied verbatim).
function skipDesc(kind) {
  const limits = () => {
    const flags = u8();
    leb();
    if (flags & 1) leb();
  };
  switch (kind) {
    case 0: leb(); break; // func: type index
    case 1: u8(); limits(); break; // table: reftype, limits
    case 2: limits(); break; // memory
    case 3: u8(); u8(); break; // global: valtype, mutability
    case 4: u8(); leb(); break; // tag
    default: die(`unknown import kind ${kind}`);
  }
}

if (wasm.readUInt32LE(0) !== 0x6d736100 || wasm.readUInt32LE(4) !== 1) die(`${wasmPath} is not a wasm module`);
pos = 8;
const parts = [wasm.subarray(0, 8)];
const renamed = [];
const shortName = (i) => {
  const a = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  let s = "";
  do {
    s = a[i % a.length] + s;
    i = Math.floor(i / a.length) - 1;
  } while (i >= 0);
  return s;
};
while (pos < wasm.length) {
  const start = pos;
  const id = u8();
  const size = leb();
  const body = pos;
  if (id !== 2) {
    pos = body + size;
    parts.push(wasm.subarray(start, pos));
    continue;
  }
  const count = leb();
  const entries = [encLeb(count)];
  for (let i = 0; i < count; i++) {
    const mod = name();
    const field = name();
    const descStart = pos;
    const kind = u8();
    skipDesc(kind);
    const desc = wasm.subarray(descStart, pos);
    if (mod === MODULE) {
      const n = shortName(renamed.length);
      renamed.push([field, n]);
      entries.push(encName(NEW_MODULE), encName(n), desc);
    } else entries.push(encName(mod), encName(field), desc);
  }
  if (pos !== body + size) die("import section length mismatch");
  const content = Buffer.concat(entries);
  parts.push(Buffer.from([2]), encLeb(content.length), content);
}
if (renamed.length === 0) die(`no imports from "${MODULE}" (already shortened?)`);

// --- the glue: each name exactly once, as a key of the import object
const count = (s, re) => (s.match(re) || []).length;
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
for (const [old, n] of renamed) {
  const word = new RegExp(`(?<![\\w$])${esc(old)}(?![\\w$])`, "g");
  const key = new RegExp(`(^|\\n)(\\s+)${esc(old)}(: function\\()`);
  if (count(glue, word) !== 1 || !key.test(glue)) die(`the glue spells ${old} ${count(glue, word)} time(s), not once as an import key`);
  glue = glue.replace(key, `$1$2${n}$3`);
}
const modKey = `${JSON.stringify(MODULE)}: import0`;
if (glue.split(modKey).length !== 2) die(`the glue does not name the import module once as ${modKey}`);
glue = glue.replace(modKey, `${JSON.stringify(NEW_MODULE)}: import0`);

// --- checks, in memory: the renamed module compiles, imports nothing more
// from the old module name, and the renamed glue's import object has
// exactly its import names as keys.
const newWasm = Buffer.concat(parts);
let imports;
try {
  imports = WebAssembly.Module.imports(new WebAssembly.Module(newWasm));
} catch (e) {
  die(`the renamed module does not compile: ${e.message}`);
}
if (imports.some((im) => im.module === MODULE)) die(`the renamed module still imports from "${MODULE}"`);
const wasmNames = imports.filter((im) => im.module === NEW_MODULE).map((im) => im.name);
// The import object: `const import0 = {` … its closing `};` at the same
// indentation; its keys are the lines one level in.
const open = glue.match(/^([ \t]*)const import0 = \{\n/m);
if (!open) die("the glue has no `const import0 = {` import object");
const indent = open[1];
const body = glue.slice(open.index + open[0].length);
const end = body.indexOf(`\n${indent}};`);
if (end < 0) die("the glue's import object has no end");
const keyIndent = body.match(/^([ \t]+)/)?.[1] ?? "";
const keys = [];
for (const line of body.slice(0, end).split("\n")) {
  const m = line.startsWith(keyIndent) && !/^[ \t]/.test(line.slice(keyIndent.length)) && line.slice(keyIndent.length).match(/^([\w$]+):/);
  if (m && m[1] !== "__proto__") keys.push(m[1]);
}
const sorted = (a) => [...a].sort().join(",");
if (new Set(keys).size !== keys.length || sorted(keys) !== sorted(wasmNames))
  die(`the glue's import keys [${sorted(keys)}] are not the module's imports from "${NEW_MODULE}" [${sorted(wasmNames)}]`);

// --- write: temp files beside the inputs, then renames.
const tmp = (p) => `${p}.short-imports-${process.pid}.tmp`;
try {
  fs.writeFileSync(tmp(wasmPath), newWasm);
  fs.writeFileSync(tmp(gluePath), glue);
  fs.renameSync(tmp(wasmPath), wasmPath);
  fs.renameSync(tmp(gluePath), gluePath);
} catch (e) {
  for (const p of [wasmPath, gluePath]) fs.rmSync(tmp(p), { force: true });
  die(`writing ${dir}: ${e.message}`);
}
console.log(`short-imports: ${dir}: ${renamed.length} imports renamed`);
