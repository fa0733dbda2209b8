// Bun running an ES module (`bun run seal.mjs`) and a CommonJS script
// (`bun seal.cjs`) that use "sealpass" from node_modules. Bun applies the
// "bun", "node" and "import"/"require" conditions: the package's "node" entry.
import path from "node:path";
import { run, write } from "../lib.mjs";
import { parseResult, runtimeInput, runtimeSource, tool } from "../runtime.mjs";

const BUN = "1.4.5";

export default {
  id: "bun",
  title: "Bun (`import` and `require`)",
  tier: "test",
  needs: "runtime",
  config: "nothing",
  async run(t) {
    if (process.platform !== "linux" || process.arch !== "x64") t.cannotRun(`@oven/bun-linux-x64 is for linux x64, not ${process.platform} ${process.arch}`);
    const bun = path.join(tool(t, "bun", { bun: BUN }), "node_modules/.bin/bun");
    const env = { ...process.env, DO_NOT_TRACK: "1", BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0", NO_COLOR: "1" };
    const v = run(bun, ["--version"], { env });
    if (v.status !== 0) throw new Error(`bun --version failed (${v.status ?? v.signal}): ${v.stderr}`);
    const version = `bun ${v.stdout.trim()}`;
    const dir = t.project("app", { type: "module" });
    write(path.join(dir, "seal.mjs"), runtimeSource("esm"));
    write(path.join(dir, "seal.cjs"), runtimeSource("cjs"));
    for (const [argv, file, pt] of [
      [["run", "seal.mjs"], "seal.mjs", "bun esm sécret"],
      [["seal.cjs"], "seal.cjs", "bun cjs sécret"],
    ]) {
      const r = run(bun, [...argv, runtimeInput(t, pt)], { cwd: dir, env });
      t.checkSealed(parseResult(r, `${version} ${file}`), pt, `${version} ${file}`);
    }
    write(path.join(dir, "resolve.mjs"), `console.log("import →", import.meta.resolve("sealpass"), "| require →", require.resolve("sealpass"));\n`);
    const resolved = run(bun, ["run", "resolve.mjs"], { cwd: dir, env });
    t.log(`${version}: bun run seal.mjs and bun seal.cjs sealed v1 + v2, CLI opened both; "sealpass": ${resolved.stdout.trim().replaceAll(`file://${dir}/`, "").replaceAll(`${dir}/`, "") || resolved.stderr.trim()}`);
  },
};
