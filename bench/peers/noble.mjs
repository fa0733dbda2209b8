// sealpass envelope v1 with @noble/curves + @noble/hashes + @noble/ciphers (pure JS).
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from '@noble/ciphers/utils.js';
import { canonCtx, concat, isZero, envelope, parseEnvelope } from './common.mjs';

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
