// sealpass envelope v1 with libsodium-wrappers-sumo (libsodium compiled to wasm by
// emscripten): crypto_scalarmult(_base), HKDF-SHA256 built from
// crypto_auth_hmacsha256_* (RFC 5869, one output block), and
// crypto_aead_xchacha20poly1305_ietf.
import sodium from 'libsodium-wrappers-sumo';
import { canonCtx, isZero, envelope, parseEnvelope } from './common.mjs';

export const meta = { id: 'sodium', label: 'libsodium-wrappers-sumo', kind: 'same' };
let S;
export async function init() { await sodium.ready; S = sodium; }

const ONE = new Uint8Array([1]);
function hkdf32(salt1, salt2, ikm, info) {
  let st = S.crypto_auth_hmacsha256_init(concat2(salt1, salt2));
  S.crypto_auth_hmacsha256_update(st, ikm);
  const prk = S.crypto_auth_hmacsha256_final(st);
  st = S.crypto_auth_hmacsha256_init(prk);
  S.crypto_auth_hmacsha256_update(st, info);
  S.crypto_auth_hmacsha256_update(st, ONE);
  return S.crypto_auth_hmacsha256_final(st);
}
function concat2(a, b) { const o = new Uint8Array(64); o.set(a); o.set(b, 32); return o; }

export function sealWith(esk, nonce, npk, pt, ctx) {
  const { info, aad } = canonCtx(ctx);
  const epk = S.crypto_scalarmult_base(esk);
  const ss = S.crypto_scalarmult(esk, npk); // libsodium refuses an all-zero result
  if (isZero(ss)) throw new Error('LowOrderPublicKey');
  const key = hkdf32(epk, npk, ss, info);
  const ct = S.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, aad, null, nonce, key);
  return envelope(epk, nonce, ct);
}

// Randomness from crypto.getRandomValues, not S.randombytes_buf: in
// libsodium.js 0.8.4 randombytes_buf(32) costs ~150 µs per call (measured in
// Node), more than a scalar multiplication, and would make this baseline
// look slower than libsodium is.
const rnd = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n));
export function seal(npk, pt, ctx) {
  return sealWith(rnd(32), rnd(24), npk, pt, ctx);
}

// npk is handed in, as a node keeps its public key: one X25519 per open.
export function open(nsk, env, ctx, npk) {
  const { epk, nonce, ct } = parseEnvelope(env);
  const { info, aad } = canonCtx(ctx);
  const ss = S.crypto_scalarmult(nsk, epk);
  if (isZero(ss)) throw new Error('DecryptFailed');
  const key = hkdf32(epk, npk, ss, info);
  return S.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ct, aad, nonce, key);
}
