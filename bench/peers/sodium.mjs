// sealpass envelope v1 with libsodium-wrappers-sumo (libsodium compiled to wasm by
// emscripten): crypto_scalarmult(_base), HKDF-SHA256 built from
// crypto_auth_hmacsha256_* (RFC 5869, one output block), and
// crypto_aead_xchacha20poly1305_ietf.
import sodium from 'libsodium-wrappers-sumo';
import { canonCtx, canonCtx2, concat, concat3, isZero, envelope, envelope2, parseEnvelope, parseEnvelope2, sameKey } from './common.mjs';

export const meta = { id: 'sodium', label: 'libsodium-wrappers-sumo', kind: 'same' };
let S;
export async function init() { await sodium.ready; S = sodium; }

const ONE = new Uint8Array([1]);
function hkdf32(salt1, salt2, ikm, info) { return hkdfSalt(concat2(salt1, salt2), ikm, info); }
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

// HKDF-SHA256 with one output block (RFC 5869) from libsodium's HMAC.
// v2 (PROTOCOL.md §15.3/§15.4) adds a second X25519 with the node's identity
// key: salt = epk || npk || nik, ikm = ss1 || ss2, the "v2" info.
function hkdfSalt(salt, ikm, info) {
  let st = S.crypto_auth_hmacsha256_init(salt);
  S.crypto_auth_hmacsha256_update(st, ikm);
  const prk = S.crypto_auth_hmacsha256_final(st);
  st = S.crypto_auth_hmacsha256_init(prk);
  S.crypto_auth_hmacsha256_update(st, info);
  S.crypto_auth_hmacsha256_update(st, ONE);
  return S.crypto_auth_hmacsha256_final(st);
}
export function sealWith2(esk, nonce, npk, nik, pt, ctx) {
  const { info, aad } = canonCtx2(ctx);
  const epk = S.crypto_scalarmult_base(esk);
  const ss1 = S.crypto_scalarmult(esk, npk), ss2 = S.crypto_scalarmult(esk, nik);
  if (isZero(ss1) || isZero(ss2)) throw new Error('LowOrderPublicKey');
  const key = hkdfSalt(concat3(epk, npk, nik), concat(ss1, ss2), info);
  const ct = S.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, aad, null, nonce, key);
  return envelope2(epk, nonce, ct);
}
export function seal2(npk, pt, ctx, nik) { return sealWith2(rnd(32), rnd(24), npk, nik, pt, ctx); }
// The node keeps its identity public key like npk: derived once per isk.
let heldId = null; // { isk, nik }
export function open2(nsk, env, ctx, npk, isk) {
  if (!heldId || !sameKey(heldId.isk, isk)) heldId = { isk: Uint8Array.from(isk), nik: S.crypto_scalarmult_base(isk) };
  const { epk, nonce, ct } = parseEnvelope2(env);
  const { info, aad } = canonCtx2(ctx);
  const ss1 = S.crypto_scalarmult(nsk, epk), ss2 = S.crypto_scalarmult(isk, epk);
  if (isZero(ss1) || isZero(ss2)) throw new Error('DecryptFailed');
  const key = hkdfSalt(concat3(epk, npk, heldId.nik), concat(ss1, ss2), info);
  return S.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ct, aad, nonce, key);
}
