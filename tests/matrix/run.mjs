// tests/matrix/run.mjs — the consumer matrix of the packed `sealpass` npm package (driven by run.sh).
//
// Each row (tests/matrix/rows/*.mjs) installs the tarball into fresh projects
// with one tool or runtime (exact versions from the npm registry), builds or
// runs a consumer the way that tool's users do, seals v1 and v2 envelopes
// (in headless Chromium and Firefox for browser rows) and has the native CLI
// open them. A row that cannot run on this machine reports why instead of
// passing. The package README's matrix table is generated from the rows and
// their outcome: `--write-readme` rewrites it, otherwise every row run here
// must match its README line (so the README cannot claim a row that did not
// pass). Ends with `N passed, N failed, N cannot run here`.
//
//   node run.mjs --root R --tarball T --cli C --deps D [--tier test|all] [--only id,id] [--write-readme]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CannotRun, Matrix, RowContext, killAll } from "./lib.mjs";

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const ROOT = opt("root");
const TARBALL = opt("tarball");
const CLI = opt("cli");
const DEPS = opt("deps");
for (const [k, v] of Object.entries({ root: ROOT, tarball: TARBALL, cli: CLI, deps: DEPS })) if (!v) throw new Error(`missing --${k}`);
const TIER = opt("tier") ?? "test";
if (!["test", "all"].includes(TIER)) throw new Error(`--tier must be test or all, not ${TIER}`);
const ONLY = opt("only")?.split(",").filter(Boolean);
const WRITE = flag("write-readme");
const README = path.join(ROOT, "pkg-template/README.md");
const HERE = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------- rows
/** Every row, in README order (files sorted by name; a file may export one row or a list). */
async function loadRows() {
  const dir = path.join(HERE, "rows");
  const rows = [];
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".mjs")).sort()) {
    const mod = await import(pathToFileURL(path.join(dir, f)));
    for (const row of [mod.default].flat()) {
      for (const k of ["id", "title", "tier", "needs", "run"])
        if (row[k] === undefined) throw new Error(`rows/${f}: row ${row.id ?? "?"} has no ${k}`);
      if (!["test", "matrix"].includes(row.tier)) throw new Error(`rows/${f}: row ${row.id}: tier must be test or matrix`);
      if (rows.some((r) => r.id === row.id || r.title === row.title)) throw new Error(`rows/${f}: duplicate row ${row.id}`);
      rows.push({ ...row, file: f });
    }
  }
  return rows;
}
const ROWS = await loadRows();
if (ONLY) for (const id of ONLY) if (!ROWS.some((r) => r.id === id)) throw new Error(`--only: no row ${id} (rows: ${ROWS.map((r) => r.id).join(", ")})`);
const selected = ROWS.filter((r) => (ONLY ? ONLY.includes(r.id) : TIER === "all" || r.tier === "test"));

// ---------------------------------------------------------------- run
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "sealpass-matrix-"));
const KEEP = process.env.SEALPASS_MATRIX_KEEP === "1";
const matrix = new Matrix({ root: ROOT, tarball: TARBALL, cli: CLI, deps: DEPS, tmp: TMP, keep: KEEP });
const outcome = new Map(); // id -> { status: "pass" | "fail" | "cannot", reason }
// Ctrl-C / SIGTERM: stop at once, servers and builds included (their process groups).
for (const sig of ["SIGINT", "SIGTERM"])
  process.on(sig, () => {
    console.log(`\n${sig}: stopping the consumer matrix`);
    killAll();
    if (!KEEP) fs.rmSync(TMP, { recursive: true, force: true });
    process.exit(130);
  });

for (const row of selected) {
  const t = new RowContext(matrix, row);
  const t0 = Date.now();
  console.log(`---- ${row.id}: ${row.title}`);
  try {
    await row.run(t);
    if (row.needs === "browser" && t.browsersChecked.size < 2)
      throw new Error(`a browser row must check Chromium and Firefox; checked: ${[...t.browsersChecked].join(", ") || "none"}`);
    outcome.set(row.id, { status: "pass", browsers: [...t.browsersChecked] });
    console.log(`ok   ${row.id}: ${row.title} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    if (e instanceof CannotRun) {
      outcome.set(row.id, { status: "cannot", reason: e.message });
      console.log(`SKIP ${row.id}: ${row.title}: cannot run here: ${e.message}`);
    } else {
      outcome.set(row.id, { status: "fail", reason: String(e?.message ?? e).split("\n")[0] });
      console.log(`FAIL ${row.id}: ${row.title} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n     ${String(e?.stack ?? e).split("\n").join("\n     ")}`);
    }
  } finally {
    await t.cleanup();
  }
}
await matrix.close();

// ---------------------------------------------------------------- README table
const BEGIN = "<!-- matrix:begin (generated by ./build.sh test-matrix from tests/matrix/rows; do not edit) -->";
const END = "<!-- matrix:end -->";
const cell = (s) => String(s).replaceAll("|", "\\|").replaceAll("\n", " ");
const BROWSER_NAMES = { chromium: "Chromium", firefox: "Firefox" };
function line(row, o) {
  const browsers = (o.browsers ?? []).map((b) => BROWSER_NAMES[b] ?? b).sort();
  const result =
    o.status === "pass"
      ? row.needs === "browser"
        ? `passes (${browsers.join(", ") || "no browser checked"})`
        : "passes"
      : o.status === "cannot"
        ? `cannot run here: ${o.reason}`
        : "FAILS";
  const by = row.tier === "test" ? "`./build.sh test`" : "`./build.sh test-matrix`";
  return `| ${cell(row.title)} | ${cell(row.config ?? "nothing")} | ${by} | ${cell(result)} |`;
}
const HEADER = ["| Setup | What it needs | Checked by | Result when last run |", "|---|---|---|---|"];
const readme = fs.readFileSync(README, "utf8");
const b = readme.indexOf(BEGIN);
const e = readme.indexOf(END);
const tableProblems = [];
if (b < 0 || e < b) tableProblems.push(`${path.relative(ROOT, README)} has no matrix block (${BEGIN} … ${END})`);
const current = b >= 0 && e > b ? readme.slice(b + BEGIN.length, e).trim().split("\n").slice(HEADER.length) : [];
const titleOf = (l) => l.split(" | ")[0].replace(/^\| /, "");
const byTitle = new Map(current.map((l) => [titleOf(l), l]));
if (b >= 0 && e > b) {
  const head = readme.slice(b + BEGIN.length, e).trim().split("\n").slice(0, HEADER.length);
  if (head.join("\n") !== HEADER.join("\n")) tableProblems.push(`the matrix table's header is not\n       ${HEADER.join("\n       ")}`);
  if (byTitle.size !== current.length) tableProblems.push(`the matrix table has a row twice: ${current.map(titleOf).filter((x, i, a) => a.indexOf(x) !== i).join(", ")}`);
}
const wanted = ROWS.map((row) => (outcome.has(row.id) ? line(row, outcome.get(row.id)) : (byTitle.get(cell(row.title)) ?? line(row, { status: "cannot", reason: "not run yet" }))));
if (WRITE && b >= 0 && e > b) {
  fs.writeFileSync(README, readme.slice(0, b + BEGIN.length) + "\n" + [...HEADER, ...wanted].join("\n") + "\n" + readme.slice(e));
  console.log(`wrote the matrix table of ${path.relative(ROOT, README)} (${outcome.size} rows from this run)`);
} else if (b >= 0 && e > b) {
  for (const row of ROWS) {
    const have = byTitle.get(cell(row.title));
    const want = outcome.has(row.id) ? line(row, outcome.get(row.id)) : undefined;
    if (!have) tableProblems.push(`README lacks the row "${row.title}"`);
    else if (want && have !== want) tableProblems.push(`README says\n       ${have}\n     this run says\n       ${want}`);
  }
  for (const t of byTitle.keys()) if (!ROWS.some((r) => cell(r.title) === t)) tableProblems.push(`README has a row no test defines: "${t}"`);
}

// ---------------------------------------------------------------- summary
const count = (s) => [...outcome.values()].filter((o) => o.status === s).length;
console.log("\n==== consumer matrix ====");
for (const row of selected) {
  const o = outcome.get(row.id) ?? { status: "not run" };
  console.log(`  ${o.status.padEnd(8)} ${row.id.padEnd(16)} ${row.title}${o.reason ? ` — ${o.reason}` : ""}`);
}
let failed = count("fail");
if (!WRITE) {
  if (tableProblems.length) {
    failed++;
    console.log(`FAIL README matrix table matches this run (run ./build.sh test-matrix to regenerate it):\n     ${tableProblems.join("\n     ")}`);
  } else console.log("ok   README matrix table matches this run");
}
if (KEEP) console.log(`kept the consumer projects in ${TMP}`);
else fs.rmSync(TMP, { recursive: true, force: true });
const passed = count("pass") + (!WRITE && !tableProblems.length ? 1 : 0);
console.log(`${passed} passed, ${failed} failed, ${count("cannot")} cannot run here`);
process.exit(failed ? 1 : 0);
