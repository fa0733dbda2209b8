// sealpass envelope v1 with @noble/curves + @noble/hashes + @noble/ciphers (pure JS).
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from '@noble/ciphers/utils.js';
import { canonCtx, canonCtx2, concat, concat3, isZero, envelope, envelope2, parseEnvelope, parseEnvelope2, sameKey } from './common.mjs';

export const meta = { id: 'noble', label: '@noble (curves+hashes+ciphers)', kind: 'same' };
export async function init() {}

export function sealWith(esk, nonce, npk, pt, ctx) {
  const { info, aad } = canonCtx(ctx);
  const epk = x25519.getPublicKey(esk);
  const ss = x25519.getSharedSecret(esk, npk); // throws on an all-zero result
  if (isZero(ss)) throw new Error('LowOrderPublicKey');
  const key = hkdf(sha256, ss, concat(epk, npk), info, 32);
  const ct = xchacha20poly1305(key, nonce, aad).encrypt(pt);
  return envelope(epk, nonce, ct);
}

export function seal(npk, pt, ctx) {
  return sealWith(randomBytes(32), randomBytes(24), npk, pt, ctx);
}

// npk is handed in, as a node keeps its public key: one X25519 per open.
export function open(nsk, env, ctx, npk) {
  const { epk, nonce, ct } = parseEnvelope(env);
  const { info, aad } = canonCtx(ctx);
  const ss = x25519.getSharedSecret(nsk, epk);
  if (isZero(ss)) throw new Error('DecryptFailed');
  const key = hkdf(sha256, ss, concat(epk, npk), info, 32);
  return xchacha20poly1305(key, nonce, aad).decrypt(ct);
}

// Envelope v2 (PROTOCOL.md §15.3/§15.4): a second X25519 with the node's
// identity key; salt = epk || npk || nik, ikm = ss1 || ss2, "v2" info/AAD.
export function sealWith2(esk, nonce, npk, nik, pt, ctx) {
  const { info, aad } = canonCtx2(ctx);
  const epk = x25519.getPublicKey(esk);
  const ss1 = x25519.getSharedSecret(esk, npk), ss2 = x25519.getSharedSecret(esk, nik);
  if (isZero(ss1) || isZero(ss2)) throw new Error('LowOrderPublicKey');
  const key = hkdf(sha256, concat(ss1, ss2), concat3(epk, npk, nik), info, 32);
  const ct = xchacha20poly1305(key, nonce, aad).encrypt(pt);
  return envelope2(epk, nonce, ct);
}
export function seal2(npk, pt, ctx, nik) { return sealWith2(randomBytes(32), randomBytes(24), npk, nik, pt, ctx); }
// The node keeps its identity public key like npk: derived once per isk.
let heldId = null; // { isk, nik }
export function open2(nsk, env, ctx, npk, isk) {
  if (!heldId || !sameKey(heldId.isk, isk)) heldId = { isk: Uint8Array.from(isk), nik: x25519.getPublicKey(isk) };
  const { epk, nonce, ct } = parseEnvelope2(env);
  const { info, aad } = canonCtx2(ctx);
  const ss1 = x25519.getSharedSecret(nsk, epk), ss2 = x25519.getSharedSecret(isk, epk);
  if (isZero(ss1) || isZero(ss2)) throw new Error('DecryptFailed');
  const key = hkdf(sha256, concat(ss1, ss2), concat3(epk, npk, heldId.nik), info, 32);
  return xchacha20poly1305(key, nonce, aad).decrypt(ct);
}
