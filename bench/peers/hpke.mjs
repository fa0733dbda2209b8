// Reference point: hpke-js, RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256) from
// @hpke/dhkem-x25519 (pure JS X25519), HKDF-SHA256 from @hpke/core (WebCrypto
// HMAC) and ChaCha20-Poly1305 from @hpke/chacha20poly1305. info and aad are the
// sealpass canonical encodings, so the context is bound as in sealpass, but the
// key schedule and the wire format are HPKE's.
import { CipherSuite, HkdfSha256 } from '@hpke/core';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { canonCtx, b64u, unb64u } from './common.mjs';

export const meta = { id: 'hpke', label: 'hpke-js (X25519, HKDF-SHA256, ChaCha20-Poly1305)', kind: 'ref' };
let suite;
export async function init() {
  suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });
}

export async function seal(npk, pt, ctx) {
  const { info, aad } = canonCtx(ctx);
  const recipientPublicKey = await suite.kem.deserializePublicKey(npk);
  const { ct, enc } = await suite.seal({ recipientPublicKey, info }, pt, aad);
  return { v: 1, suite: 'hpke-base-x25519-sha256-chacha20poly1305', epk: b64u(new Uint8Array(enc)), ct: b64u(new Uint8Array(ct)) };
}

// npk is handed in: given a key pair, hpke-js's decap does not derive pkR.
export async function open(nsk, env, ctx, npk) {
  if (typeof env === 'string') env = JSON.parse(env);
  const { info, aad } = canonCtx(ctx);
  const [privateKey, publicKey] = await Promise.all([suite.kem.deserializePrivateKey(nsk), suite.kem.deserializePublicKey(npk)]);
  const recipientKey = { privateKey, publicKey };
  const pt = await suite.open({ recipientKey, enc: unb64u(env.epk), info }, unb64u(env.ct), aad);
  return new Uint8Array(pt);
}
