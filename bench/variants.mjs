// Measures the variants built by variants.sh: wasm size (raw/gzip/brotli) and
// seal 1 KiB throughput in Node, v1 and v2 (to the identity key IPK). Speed is sampled in several fresh processes
// (BENCH_VARIANT_PROCS, default 3), each loading every variant and taking its
// rounds interleaved across them (BENCH_VARIANT_ROUNDS per process, default
// 3): drifting load hits all variants alike, and per-process effects (V8's
// tier-up timing, code placement) show up in the spread instead of biasing one
// variant for the whole run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BENCH, CTX, NPK, IPK, plaintext, writeResult, median } from './lib.mjs';
import { measure } from './sizes-lib.mjs';

const V = join(BENCH, '.build', 'variants');
const child = process.argv[2] === '--child';
const names = process.argv.slice(child ? 3 : 2);

if (child) {
  const mods = [];
  for (const n of names) {
    const m = await import(join(V, n, 'sealpass.js'));
    m.initSync({ module: readFileSync(join(V, n, 'sealpass_bg.wasm')) });
    mods.push(m);
  }
  const pt = plaintext(1024);
  const rounds = Number(process.env.BENCH_VARIANT_ROUNDS || 3);
  const seal = Object.fromEntries(names.map((n) => [n, { v1: [], v2: [] }]));
  const v2 = { identity: IPK };
  const ops = { v1: (m) => m.seal(NPK, pt, CTX), v2: (m) => m.seal(NPK, pt, CTX, v2) };
  // Warm-up: every variant for >= 300 ms, so that hot code has tiered up.
  for (const m of mods) for (const op of Object.values(ops)) { const t0 = performance.now(); do op(m); while (performance.now() - t0 < 300); }
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < mods.length; i++) {
      for (const [v, op] of Object.entries(ops)) {
        let k = 0; const t0 = performance.now(); let t;
        do { op(mods[i]); k++; t = performance.now(); } while (t - t0 < 300);
        seal[names[i]][v].push((k * 1000) / (t - t0));
      }
    }
  }
  process.stdout.write(JSON.stringify(seal));
} else {
  const procs = Number(process.env.BENCH_VARIANT_PROCS || 3);
  const seal = Object.fromEntries(names.map((n) => [n, { v1: [], v2: [] }]));
  for (let p = 0; p < procs; p++) {
    // Each process gets the variants in a different order (rotated).
    const order = names.map((_, i) => names[(i + p) % names.length]);
    const c = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', ...order], { encoding: 'utf8', env: process.env, maxBuffer: 1 << 24 });
    if (c.status !== 0) { console.error(c.stderr); process.exit(1); }
    for (const [n, xs] of Object.entries(JSON.parse(c.stdout))) { seal[n].v1.push(...xs.v1); seal[n].v2.push(...xs.v2); }
  }
  const out = {};
  for (const n of names) {
    out[n] = { size: measure(join(V, n, 'sealpass_bg.wasm')), seal1k: seal[n].v1, seal2_1k: seal[n].v2 };
    console.log(`variant ${n}: wasm gzip ${out[n].size.gzip} B, seal 1 KiB ${Math.round(median(seal[n].v1))} ops/s, v2 ${Math.round(median(seal[n].v2))} ops/s`);
  }
  writeResult('variants.json', { ...out });
}
