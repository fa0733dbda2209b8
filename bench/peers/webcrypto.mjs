// Reference point: WebCrypto only (native code in the browser / Node):
// X25519 + HKDF-SHA256 (same salt and info as sealpass) + AES-256-GCM with the
// sealpass AAD. Not the sealpass format (AES-GCM, 12-byte nonce), so it is a
// reference, not a peer. open() is given npk, like every peer's (WebCrypto
// could not derive it from a raw private key without a JWK export round trip).
import { canonCtx, concat, b64u, unb64u } from './common.mjs';

export const meta = { id: 'webcrypto', label: 'WebCrypto X25519+HKDF+AES-256-GCM', kind: 'ref' };
const subtle = globalThis.crypto.subtle;
const X = { name: 'X25519' };
const PKCS8 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);

export async function init() {}

async function aesKey(ss, epk, npk, info, usage) {
  const ikm = await subtle.importKey('raw', ss, 'HKDF', false, ['deriveKey']);
  return subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: concat(epk, npk), info },
    ikm, { name: 'AES-GCM', length: 256 }, false, [usage]);
}

export async function seal(npk, pt, ctx) {
  const { info, aad } = canonCtx(ctx);
  const eph = await subtle.generateKey(X, true, ['deriveBits']);
  const [epkBuf, pub] = await Promise.all([
    subtle.exportKey('raw', eph.publicKey),
    subtle.importKey('raw', npk, X, false, []),
  ]);
  const epk = new Uint8Array(epkBuf);
  const ss = await subtle.deriveBits({ name: 'X25519', public: pub }, eph.privateKey, 256); // rejects all-zero
  const key = await aesKey(ss, epk, npk, info, 'encrypt');
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, pt));
  return { v: 1, suite: 'webcrypto-x25519-hkdf-sha256-aes256gcm', epk: b64u(epk), nonce: b64u(iv), ct: b64u(ct) };
}

export async function open(nsk, env, ctx, npk) {
  if (typeof env === 'string') env = JSON.parse(env);
  const epk = unb64u(env.epk), iv = unb64u(env.nonce), ct = unb64u(env.ct);
  const { info, aad } = canonCtx(ctx);
  const [priv, pub] = await Promise.all([
    subtle.importKey('pkcs8', concat(PKCS8, nsk), X, false, ['deriveBits']),
    subtle.importKey('raw', epk, X, false, []),
  ]);
  const ss = await subtle.deriveBits({ name: 'X25519', public: pub }, priv, 256);
  const key = await aesKey(ss, epk, npk, info, 'decrypt');
  return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, ct));
}
