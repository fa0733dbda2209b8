// Prototype of the proposed src/ changes (bench/proto): checked against the
// pinned vectors and sealpass, then timed in Node against sealpass as built,
// rounds interleaved. Shows what the changes would buy; it is not sealpass.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { BENCH, ROOT, CTX, NPK, NSK, hex, eq, plaintext, loadNodePeer, writeResult, median } from './lib.mjs';
import { canonCtx, envelope, parseEnvelope } from './peers/common.mjs';

const dir = join(BENCH, '.build', 'proto');
writeFileSync(join(dir, 'package.json'), '{"type":"commonjs"}');
const w = createRequire(import.meta.url)(join(dir, 'sealpass_bench_proto.js'));
const sp = await loadNodePeer('sealpass');
const E = new Uint8Array(0);
const split = (o) => envelope(o.subarray(0, 32), o.subarray(32, 56), o.subarray(56));
const mk = (table) => ({
  seal: (npk, pt, ctx) => { const { info, aad } = canonCtx(ctx); return split(w.seal_raw(npk, pt, info, aad, table, E)); },
  open: (nsk, env, ctx, npk) => { const { epk, nonce, ct } = parseEnvelope(env); const { info, aad } = canonCtx(ctx); return w.open_raw(nsk, npk, epk, nonce, ct, info, aad); },
});
const P = { table: mk(true), ladder: mk(false) };

// Gate: byte-for-byte vectors (both base-point paths), and sealpass interop.
const vec = JSON.parse(readFileSync(join(ROOT, 'tests/vectors/envelope_v1.json'), 'utf8'));
let bad = 0;
for (const v of vec.vectors) {
  const { info, aad } = canonCtx(v.context);
  for (const table of [true, false]) {
    const o = w.seal_raw(hex(v.npk), hex(v.plaintext), info, aad, table, new Uint8Array([...hex(v.esk), ...hex(v.nonce)]));
    if (JSON.stringify(split(o)) !== v.envelope) { bad++; console.error(`proto: vector ${v.name} mismatch (table=${table})`); }
  }
  if (!eq(P.table.open(hex(v.nsk), v.envelope, v.context, hex(v.npk)), hex(v.plaintext))) bad++;
}
const pt = plaintext(1024);
if (!eq(sp.open(NSK, P.table.seal(NPK, pt, CTX), CTX), pt)) bad++;
if (!eq(P.table.open(NSK, sp.seal(NPK, pt, CTX), CTX, NPK), pt)) bad++;
if (bad) { console.error(`proto: ${bad} check(s) failed`); process.exit(1); }

const rows = {
  'sealpass seal (as built)': () => sp.seal(NPK, pt, CTX),
  'prototype seal, X25519(esk, 9) with run-time table': () => P.table.seal(NPK, pt, CTX),
  'prototype seal, both X25519 by ladder (isolates the table)': () => P.ladder.seal(NPK, pt, CTX),
  'sealpass open (as built)': () => sp.open(NSK, env0, CTX),
  'prototype open, npk given (one X25519)': () => P.table.open(NSK, env1, CTX, NPK),
};
const env0 = sp.seal(NPK, pt, CTX), env1 = P.table.seal(NPK, pt, CTX);
const rounds = Number(process.env.BENCH_VARIANT_ROUNDS || 7);
const xs = Object.fromEntries(Object.keys(rows).map((k) => [k, []]));
for (const f of Object.values(rows)) for (let i = 0; i < 30; i++) f();
for (let r = 0; r < rounds; r++) for (const [k, f] of Object.entries(rows)) {
  let n = 0; const t0 = performance.now(); let t;
  do { f(); n++; t = performance.now(); } while (t - t0 < 300);
  xs[k].push((n * 1000) / (t - t0));
}
writeResult('proto.json', { vectorsChecked: vec.vectors.length, rounds, ops: xs });
for (const [k, v] of Object.entries(xs)) console.log(`proto ${Math.round(median(v))} ops/s  ${k}`);
