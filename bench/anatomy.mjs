// Where the time goes, in Node (µs per call, median of 9 samples of >= 120 ms,
// rows interleaved in each round, so that bursts of load on a shared machine
// hit every row alike and the median drops them):
// the X25519 building blocks of each implementation next to whole sealpass
// calls (Node build: opt-level 3, fiat field backend, `wasm-base-table`).
// anatomy.json: { us: { row label: µs }, id: { short id: row label } } so that
// report.mjs finds rows by id, not by their wording.
import crypto from 'node:crypto';
import sodium from 'libsodium-wrappers-sumo';
import { x25519 } from '@noble/curves/ed25519.js';
import { CTX, NPK, NSK, loadNodePeer, writeResult, median, plaintext } from './lib.mjs';
import { b64u } from './peers/common.mjs';

await sodium.ready;
const sp = await loadNodePeer('sealpass');
const esk = sodium.randombytes_buf(32);
const priv = crypto.createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64u(NSK), x: b64u(NPK) }, format: 'jwk' });
const pub = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64u(NPK) }, format: 'jwk' });
const pt1 = plaintext(1), pt16 = plaintext(16368);
const env1 = sp.seal(NPK, pt1, CTX);
const op = sp.opener(NSK);
// One sample = calls for >= 120 ms; rows interleaved within each of 9 rounds.
function sample(f) {
  let k = 0; const t0 = performance.now(); let t;
  do { f(); k++; t = performance.now(); } while (t - t0 < 120);
  return ((t - t0) * 1000) / k;
}
const rows = [
  ['sodiumVar', 'sodium crypto_scalarmult (variable base)', () => sodium.crypto_scalarmult(esk, NPK)],
  ['sodiumFixed', 'sodium crypto_scalarmult_base (fixed base, table)', () => sodium.crypto_scalarmult_base(esk)],
  ['noble', 'noble x25519.getSharedSecret (pure JS)', () => x25519.getSharedSecret(esk, NPK)],
  ['ncGen', 'node:crypto X25519 generateKeyPairSync + diffieHellman (native, sync)', () => { const k = crypto.generateKeyPairSync('x25519'); crypto.diffieHellman({ privateKey: k.privateKey, publicKey: pub }); }],
  ['ncDh', 'node:crypto X25519 diffieHellman only (native)', () => crypto.diffieHellman({ privateKey: priv, publicKey: pub })],
  ['spOpen1', 'sealpass Opener.open, 1 B envelope (1 variable-base X25519 in wasm + HKDF + AEAD)', () => op.open(env1, CTX)],
  ['spOpenDerive1', 'sealpass open(nsk, …), 1 B envelope (also derives npk: + 1 fixed-base X25519)', () => sp.openDeriving(NSK, env1, CTX)],
  ['spSeal1', 'sealpass seal 1 B (1 fixed-base + 1 variable-base X25519 in wasm + HKDF + AEAD)', () => sp.seal(NPK, pt1, CTX)],
  ['spSeal16k', 'sealpass seal 16,368 B', () => sp.seal(NPK, pt16, CTX)],
  ['sodiumAead16k', 'sodium XChaCha20-Poly1305 encrypt 16,368 B', () => sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(pt16, null, null, esk.subarray(0, 24), esk)],
  ['sodiumRnd', 'sodium randombytes_buf(32) (why the sodium peer uses getRandomValues)', () => sodium.randombytes_buf(32)],
  ['getRandom', 'crypto.getRandomValues(32 B)', () => crypto.getRandomValues(new Uint8Array(32))],
  ['spValidate', 'sealpass validateContext (context object → wasm, validated)', () => sp.validateContext(CTX)],
  ['spFingerprint', 'sealpass fingerprint (key → wasm, SHA-256, string back)', () => sp.fingerprint(NPK)],
];
for (const [, , f] of rows) for (let i = 0; i < 20; i++) f();
const xs = rows.map(() => []);
for (let r = 0; r < 9; r++) rows.forEach(([, , f], i) => xs[i].push(sample(f)));
const m = {}, id = {};
rows.forEach(([k, label], i) => { m[label] = median(xs[i]); id[k] = label; });
writeResult('anatomy.json', { us: m, id });
for (const [k, v] of Object.entries(m)) console.log(`${v.toFixed(1).padStart(8)} µs  ${k}`);
