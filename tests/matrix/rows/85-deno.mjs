// Deno 2 running a script that imports "sealpass" from a project whose
// node_modules holds the tarball (package.json present, so Deno resolves
// bare specifiers from node_modules: nodeModulesDir "manual"). Deno applies
// the "deno", "node", "import" conditions: the package's "node" entry, whose
// CommonJS glue reads the .wasm with fs — hence --allow-read=node_modules
// (without it: NotCapable: Requires read access to ".../sealpass_bg.wasm"). --cached-only
// proves that nothing is fetched from jsr or the npm registry.
import fs from "node:fs";
import path from "node:path";
import { run, write } from "../lib.mjs";
import { parseResult, runtimeInput, runtimeSource, tool } from "../runtime.mjs";

const DENO = "2.9.6";

export default {
  id: "deno",
  title: "Deno 2 (`import` from node_modules)",
  tier: "test",
  needs: "runtime",
  config: '`deno run --allow-read=node_modules` (the Node entry reads its `.wasm` with `fs`); in a deno.json project (no package.json) also `"nodeModulesDir": "manual"`',
  async run(t) {
    if (process.platform !== "linux" || process.arch !== "x64") t.cannotRun(`@deno/linux-x64-glibc is for linux x64, not ${process.platform} ${process.arch}`);
    const deno = path.join(tool(t, "deno", { deno: DENO }), "node_modules/@deno/linux-x64-glibc/deno");
    const dir = t.project("app", { type: "module" });
    const env = { ...process.env, DENO_DIR: path.join(dir, ".deno-dir"), DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1", NO_COLOR: "1" };
    const version = run(deno, ["--version"], { env }).stdout.split("\n")[0];
    write(path.join(dir, "seal.mjs"), runtimeSource("esm"));
    write(path.join(dir, "resolve.mjs"), `console.log(import.meta.resolve("sealpass"));\n`);
    const pt = `deno sécret`;
    const r = run(deno, ["run", "--cached-only", "--allow-read=node_modules", "seal.mjs", runtimeInput(t, pt)], { cwd: dir, env });
    t.checkSealed(parseResult(r, version), pt, version);
    // A Deno project (deno.json, no package.json) with node_modules from `npm install`: nodeModulesDir "manual".
    fs.renameSync(path.join(dir, "package.json"), path.join(dir, "package.json.off"));
    write(path.join(dir, "deno.json"), JSON.stringify({ nodeModulesDir: "manual" }) + "\n");
    const pt2 = `deno deno.json sécret`;
    const r2 = run(deno, ["run", "--cached-only", "--allow-read=node_modules", "seal.mjs", runtimeInput(t, pt2)], { cwd: dir, env });
    t.checkSealed(parseResult(r2, `${version} (deno.json)`), pt2, `${version} (deno.json)`);
    const resolved = run(deno, ["run", "--cached-only", "resolve.mjs"], { cwd: dir, env });
    t.log(`${version}: sealed v1 + v2 (package.json project, then deno.json project), CLI opened all; "sealpass" → ${resolved.stdout.trim().replace(`file://${dir}/`, "") || resolved.stderr.trim()}`);
  },
};
