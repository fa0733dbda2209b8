// Measures the variants built by variants.sh: wasm size (raw/gzip/brotli) and
// seal 1 KiB throughput in Node, rounds interleaved across variants.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH, CTX, NPK, plaintext, writeResult, median } from './lib.mjs';
import { measure } from './sizes-lib.mjs';

const names = process.argv.slice(2);
const V = join(BENCH, '.build', 'variants');
const mods = [];
for (const n of names) {
  const m = await import(join(V, n, 'sealpass.js'));
  m.initSync({ module: readFileSync(join(V, n, 'sealpass_bg.wasm')) });
  mods.push(m);
}
const pt = plaintext(1024);
const rounds = Number(process.env.BENCH_VARIANT_ROUNDS || 7);
const seal = Object.fromEntries(names.map((n) => [n, []]));
for (const m of mods) for (let i = 0; i < 50; i++) m.seal(NPK, pt, CTX);
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < mods.length; i++) {
    let k = 0; const t0 = performance.now(); let t;
    do { mods[i].seal(NPK, pt, CTX); k++; t = performance.now(); } while (t - t0 < 300);
    seal[names[i]].push((k * 1000) / (t - t0));
  }
}
const out = {};
for (const n of names) {
  out[n] = { size: measure(join(V, n, 'sealpass_bg.wasm')), seal1k: seal[n] };
  console.log(`variant ${n}: wasm gzip ${out[n].size.gzip} B, seal 1 KiB ${Math.round(median(seal[n]))} ops/s`);
}
writeResult('variants.json', out);
