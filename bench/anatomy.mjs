// Where the time goes, in Node (µs per call, median of 5 samples of >= 200 ms):
// the X25519 building blocks of each implementation next to whole sealpass calls.
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
function us(f) {
  for (let i = 0; i < 20; i++) f();
  const xs = [];
  for (let r = 0; r < 5; r++) {
    let k = 0; const t0 = performance.now(); let t;
    do { f(); k++; t = performance.now(); } while (t - t0 < 200);
    xs.push(((t - t0) * 1000) / k);
  }
  return median(xs);
}
const m = {
  'sodium crypto_scalarmult (variable base)': us(() => sodium.crypto_scalarmult(esk, NPK)),
  'sodium crypto_scalarmult_base (fixed base, table)': us(() => sodium.crypto_scalarmult_base(esk)),
  'noble x25519.getSharedSecret (pure JS)': us(() => x25519.getSharedSecret(esk, NPK)),
  'node:crypto X25519 generateKeyPairSync + diffieHellman (native, sync)': us(() => { const k = crypto.generateKeyPairSync('x25519'); crypto.diffieHellman({ privateKey: k.privateKey, publicKey: pub }); }),
  'node:crypto X25519 diffieHellman only (native)': us(() => crypto.diffieHellman({ privateKey: priv, publicKey: pub })),
  'sealpass seal 1 B (2 × X25519 in wasm + HKDF + AEAD)': us(() => sp.seal(NPK, pt1, CTX)),
  'sealpass seal 16,368 B': us(() => sp.seal(NPK, pt16, CTX)),
  'sodium XChaCha20-Poly1305 encrypt 16,368 B': us(() => sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(pt16, null, null, esk.subarray(0, 24), esk)),
  'sodium randombytes_buf(32) (why the sodium peer uses getRandomValues)': us(() => sodium.randombytes_buf(32)),
  'crypto.getRandomValues(32 B)': us(() => crypto.getRandomValues(new Uint8Array(32))),
  'sealpass validateContext (context object → wasm, validated)': us(() => sp.validateContext?.(CTX)),
  'sealpass fingerprint (key → wasm, SHA-256, string back)': us(() => sp.fingerprint?.(NPK)),
};
writeResult('anatomy.json', { us: m });
for (const [k, v] of Object.entries(m)) console.log(`${v.toFixed(1).padStart(8)} µs  ${k}`);
