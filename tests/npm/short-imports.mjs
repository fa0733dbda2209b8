// Checks of scripts/short-imports.mjs (run by tests/npm/run.mjs) on a small
// hand-made module and glue in the shape wasm-bindgen's `--target web`
// writes: a good pair is renamed; a pair it must refuse exits non-zero and
// leaves both files byte-identical.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const leb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const str = (s) => [...leb(Buffer.byteLength(s)), ...Buffer.from(s)];
const section = (id, bytes) => [id, ...leb(bytes.length), ...bytes];
/** A module of one `() -> ()` type whose function imports are `[module, name]` pairs. */
export function wasmModule(imports) {
  const body = [...leb(imports.length), ...imports.flatMap(([m, n]) => [...str(m), ...str(n), 0, 0])];
  return Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...section(1, [1, 0x60, 0, 0]), ...section(2, body)]);
}
/** The glue's import function, with `keys` as the import object's keys and `extra` text after it. */
export function glue(keys, extra = "") {
  const entries = keys.map((k) => `        ${k}: function(arg0) {\n            return arg0;\n        },\n`).join("");
  return `function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
${entries}    };
    return {
        __proto__: null,
        "./sealpass_bg.js": import0,
    };
}
${extra}`;
}

const A = "__wbg_a_0123456789abcdef";
const B = "__wbg_b_fedcba9876543210";
const M = "./sealpass_bg.js";

/** Runs the script on DIR holding `wasm` and `js`; returns [status, stderr, wasm after, js after]. */
function runOn(root, dir, wasm, js) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "sealpass_bg.wasm"), wasm);
  fs.writeFileSync(path.join(dir, "sealpass.js"), js);
  const r = spawnSync(process.execPath, [path.join(root, "scripts/short-imports.mjs"), dir], { encoding: "utf8" });
  return [r.status, r.stderr, fs.readFileSync(path.join(dir, "sealpass_bg.wasm")), fs.readFileSync(path.join(dir, "sealpass.js"), "utf8"), fs.readdirSync(dir).sort()];
}

export function checkShortImports(root, tmp, { assert, eq }) {
  const dir = path.join(tmp, "short-imports");
  // A good pair: renamed, both files rewritten, no temp file left.
  let [status, stderr, wasm, js, files] = runOn(root, dir, wasmModule([[M, A], [M, B]]), glue([A, B]));
  eq(status, 0, `good pair: exit status (${stderr})`);
  eq(WebAssembly.Module.imports(new WebAssembly.Module(wasm)).map((i) => `${i.module}.${i.name}`), ["w.a", "w.b"], "good pair: renamed imports");
  assert(js.includes("        a: function(") && js.includes("        b: function(") && js.includes('"w": import0') && !js.includes(A), "good pair: renamed glue");
  eq(files, ["sealpass.js", "sealpass_bg.wasm"], "good pair: files in the directory");
  // Pairs it must refuse: nothing written.
  const refused = [
    ["a glue that spells an import name twice", wasmModule([[M, A], [M, B]]), glue([A, B], `// calls ${A}\n`)],
    // The link check used to run after both files were written.
    ["a module that already imports from \"w\" what the glue lacks", wasmModule([[M, A], ["w", "zz"]]), glue([A])],
    ["a glue import key the module does not import", wasmModule([[M, A]]), glue([A, "__wbg_extra_00112233aabbccdd"])],
  ];
  for (const [label, inWasm, inJs] of refused) {
    [status, stderr, wasm, js, files] = runOn(root, dir, inWasm, inJs);
    assert(status !== 0 && status !== null, `${label}: exit status ${status}, expected a failure`);
    assert(/^short-imports: /m.test(stderr), `${label}: no short-imports message in: ${stderr}`);
    assert(wasm.equals(inWasm), `${label}: sealpass_bg.wasm changed`);
    eq(js, inJs, `${label}: sealpass.js`);
    eq(files, ["sealpass.js", "sealpass_bg.wasm"], `${label}: files in the directory`);
  }
}
