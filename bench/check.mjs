// Correctness gate, run before any timing: every same-construction peer must
// reproduce the pinned vectors byte for byte (fixed esk/nonce), open them, and
// interoperate with sealpass both ways at every benchmark size; the reference
// points must round-trip. Exits non-zero on any failure.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, NODE_IDS as PEER_IDS, SIZES, CTX, NSK, NPK, ISK_HEX, IPK_HEX, hex, eq, loadNodePeer, plaintext, writeResult } from './lib.mjs';
import { b64u } from './peers/common.mjs';

const vec = JSON.parse(readFileSync(join(ROOT, 'tests/vectors/envelope_v1.json'), 'utf8'));
const peers = {};
for (const id of PEER_IDS) peers[id] = await loadNodePeer(id);
const sp = peers.sealpass;
const report = { vectors: vec.vectors.length, peers: {} };
let failures = 0;
function ok(id, what, cond, detail = '') {
  const r = (report.peers[id] ??= { passed: 0, failed: [] });
  if (cond) r.passed++; else { r.failed.push(what + (detail ? `: ${detail}` : '')); failures++; console.error(`FAIL ${id}: ${what} ${detail}`); }
}
async function attempt(fn) { try { return [await fn(), null]; } catch (e) { return [null, e]; } }

// sealpass itself opens every pinned vector, with the Opener the timings use
// (whose derived public key must be the vector's npk) and with the one-shot
// open() that derives npk itself.
for (const v of vec.vectors) {
  const [op, e0] = await attempt(() => sp.opener(hex(v.nsk)));
  ok('sealpass', `Opener(nsk).publicKey of vector ${v.name}`, !e0 && op.publicKey === b64u(hex(v.npk)), e0?.message ?? op?.publicKey);
  const [pt, e] = await attempt(() => sp.open(hex(v.nsk), v.envelope, v.context, hex(v.npk)));
  ok('sealpass', `Opener.open vector ${v.name}`, !e && eq(pt, hex(v.plaintext)), e?.message);
  const [pt2, e2] = await attempt(() => sp.openDeriving(hex(v.nsk), v.envelope, v.context));
  ok('sealpass', `open(nsk, …) vector ${v.name}`, !e2 && eq(pt2, hex(v.plaintext)), e2?.message);
}
for (const id of PEER_IDS.filter((i) => peers[i].meta.kind === 'same')) {
  const p = peers[id];
  for (const v of vec.vectors) {
    const [env, e] = await attempt(() => p.sealWith(hex(v.esk), hex(v.nonce), hex(v.npk), hex(v.plaintext), v.context));
    ok(id, `vector ${v.name} byte-for-byte`, !e && JSON.stringify(env) === v.envelope, e?.message);
    const [pt, e2] = await attempt(() => p.open(hex(v.nsk), v.envelope, v.context, hex(v.npk)));
    ok(id, `opens vector ${v.name}`, !e2 && eq(pt, hex(v.plaintext)), e2?.message);
  }
  for (const n of SIZES) {
    const pt = plaintext(n);
    const [env, e] = await attempt(() => p.seal(NPK, pt, CTX));
    const [back, e2] = await attempt(() => sp.open(NSK, env, CTX, NPK));
    ok(id, `sealpass opens ${id} seal at ${n} B`, !e && !e2 && eq(back, pt), (e || e2)?.message);
    const [env2, e3] = await attempt(() => sp.seal(NPK, pt, CTX));
    const [back2, e4] = await attempt(() => p.open(NSK, env2, CTX, NPK));
    ok(id, `${id} opens sealpass seal at ${n} B`, !e3 && !e4 && eq(back2, pt), (e3 || e4)?.message);
    // A changed context must not open (the AAD really is bound).
    const [, e5] = await attempt(() => sp.open(NSK, env, { ...CTX, slug: 'other' }, NPK));
    ok(id, `wrong context rejected at ${n} B`, e5 && e5.code === 8006, e5 ? String(e5.code) : 'opened');
  }
}
for (const id of PEER_IDS.filter((i) => peers[i].meta.kind !== 'same')) {
  for (const n of SIZES) {
    const pt = plaintext(n);
    const [back, e] = await attempt(async () => peers[id].open(NSK, await peers[id].seal(NPK, pt, CTX), CTX, NPK));
    ok(id, `round trip at ${n} B`, !e && eq(back, pt), e?.message);
  }
}
// v2 (PROTOCOL.md §15): both sealpass builds in Node open every vector of
// envelope_v2.json with the Opener the v2 timings use, and open each other's v2
// seals. Same-construction peers with v2 (seal2/open2, written from §15)
// reproduce every v2 vector byte for byte, open it, and cross-open with sealpass.
const vec2 = JSON.parse(readFileSync(join(ROOT, 'tests/vectors/envelope_v2.json'), 'utf8'));
report.vectorsV2 = vec2.vectors.length;
const ISK = hex(ISK_HEX), IPK = hex(IPK_HEX);
for (const id of ['sealpass', 'sealpass-small'].filter((i) => peers[i])) {
  const p = peers[id];
  for (const v of vec2.vectors) {
    const [pt, e] = await attempt(() => p.open2(hex(v.nsk), v.envelope, v.context, hex(v.npk), hex(v.isk)));
    ok(id, `v2 Opener.open vector ${v.name}`, !e && eq(pt, hex(v.plaintext)), e?.message);
  }
  const other = peers[id === 'sealpass' ? 'sealpass-small' : 'sealpass'];
  for (const n of SIZES) {
    const pt = plaintext(n);
    const [env, e] = await attempt(() => p.seal2(NPK, pt, CTX, IPK));
    const [back, e2] = await attempt(() => other.open2(NSK, env, CTX, NPK, ISK));
    ok(id, `v2 seal opened by the other build at ${n} B`, !e && !e2 && eq(back, pt), (e || e2)?.message);
    const [, e3] = await attempt(() => other.open(NSK, env, CTX, NPK));
    ok(id, `v2 seal refused without the identity key at ${n} B`, !!e3, e3 ? String(e3.code) : 'opened');
  }
}
for (const id of PEER_IDS.filter((i) => peers[i].meta.kind === 'same' && typeof peers[i].sealWith2 === 'function')) {
  const p = peers[id];
  for (const v of vec2.vectors) {
    const [env, e] = await attempt(() => p.sealWith2(hex(v.esk), hex(v.nonce), hex(v.npk), hex(v.nik), hex(v.plaintext), v.context));
    ok(id, `v2 vector ${v.name} byte-for-byte`, !e && JSON.stringify(env) === v.envelope, e?.message);
    const [pt, e2] = await attempt(() => p.open2(hex(v.nsk), v.envelope, v.context, hex(v.npk), hex(v.isk)));
    ok(id, `v2 opens vector ${v.name}`, !e2 && eq(pt, hex(v.plaintext)), e2?.message);
  }
  for (const n of SIZES) {
    const pt = plaintext(n);
    const [env, e] = await attempt(() => p.seal2(NPK, pt, CTX, IPK));
    const [back, e2] = await attempt(() => sp.open2(NSK, env, CTX, NPK, ISK));
    ok(id, `sealpass opens ${id} v2 seal at ${n} B`, !e && !e2 && eq(back, pt), (e || e2)?.message);
    const [env2, e3] = await attempt(() => sp.seal2(NPK, pt, CTX, IPK));
    const [back2, e4] = await attempt(() => p.open2(NSK, env2, CTX, NPK, ISK));
    ok(id, `${id} opens sealpass v2 seal at ${n} B`, !e3 && !e4 && eq(back2, pt), (e3 || e4)?.message);
    const [, e5] = await attempt(() => sp.open2(NSK, env, { ...CTX, slug: 'other' }, NPK, ISK));
    ok(id, `v2 wrong context rejected at ${n} B`, e5 && e5.code === 8006, e5 ? String(e5.code) : 'opened');
  }
}
report.ok = failures === 0;
writeResult('check.json', report);
for (const [id, r] of Object.entries(report.peers)) console.log(`check ${id}: ${r.passed} passed, ${r.failed.length} failed`);
process.exit(failures ? 1 : 0);
