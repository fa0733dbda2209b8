// What-if reference, Node only: the exact sealpass v1 construction on node:crypto
// (OpenSSL, native and synchronous): X25519 via KeyObjects, hkdfSync, and
// XChaCha20-Poly1305 as HChaCha20 (a few lines of JS) + OpenSSL's
// chacha20-poly1305. Not a library people install; it shows what a sealpass
// build that takes X25519 from the platform could reach in Node.
import crypto from 'node:crypto';
import { canonCtx, concat, isZero, envelope, parseEnvelope } from './common.mjs';

export const meta = { id: 'nodecrypto', label: 'node:crypto (native) sealpass v1', kind: 'same' };
export async function init() {}

const SPKI = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const pubKey = (raw) => crypto.createPublicKey({ key: Buffer.concat([SPKI, raw]), format: 'der', type: 'spki' });
const privKey = (raw) => crypto.createPrivateKey({ key: Buffer.concat([PKCS8, raw]), format: 'der', type: 'pkcs8' });
const rawPub = (k) => new Uint8Array(k.export({ format: 'der', type: 'spki' }).subarray(12));

const rotl = (x, n) => (x << n) | (x >>> (32 - n));
function hchacha20(key, n16) {
  const dv = (b) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const k = dv(key), n = dv(n16);
  const s = new Uint32Array(16);
  s[0] = 0x61707865; s[1] = 0x3320646e; s[2] = 0x79622d32; s[3] = 0x6b206574;
  for (let i = 0; i < 8; i++) s[4 + i] = k.getUint32(4 * i, true);
  for (let i = 0; i < 4; i++) s[12 + i] = n.getUint32(4 * i, true);
  const qr = (a, b, c, d) => {
    s[a] += s[b]; s[d] = rotl(s[d] ^ s[a], 16); s[c] += s[d]; s[b] = rotl(s[b] ^ s[c], 12);
    s[a] += s[b]; s[d] = rotl(s[d] ^ s[a], 8); s[c] += s[d]; s[b] = rotl(s[b] ^ s[c], 7);
  };
  for (let i = 0; i < 10; i++) {
    qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15);
    qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14);
  }
  const out = new Uint8Array(32), o = dv(out);
  for (let i = 0; i < 4; i++) { o.setUint32(4 * i, s[i], true); o.setUint32(16 + 4 * i, s[12 + i], true); }
  return out;
}
function xcpIV(nonce) { const iv = new Uint8Array(12); iv.set(nonce.subarray(16), 4); return iv; }

function core(priv, epk, npk, peerPub, info) {
  const ss = crypto.diffieHellman({ privateKey: priv, publicKey: peerPub });
  if (isZero(ss)) throw new Error('low order');
  return new Uint8Array(crypto.hkdfSync('sha256', ss, concat(epk, npk), info, 32));
}

function sealInner(priv, epk, nonce, npk, pt, ctx) {
  const { info, aad } = canonCtx(ctx);
  const key = core(priv, epk, npk, pubKey(npk), info);
  const c = crypto.createCipheriv('chacha20-poly1305', hchacha20(key, nonce.subarray(0, 16)), xcpIV(nonce), { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: pt.length });
  const ct = Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
  return envelope(epk, nonce, ct);
}

export function sealWith(esk, nonce, npk, pt, ctx) {
  const priv = privKey(esk);
  return sealInner(priv, rawPub(crypto.createPublicKey(priv)), nonce, npk, pt, ctx);
}

export function seal(npk, pt, ctx) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('x25519');
  return sealInner(privateKey, rawPub(publicKey), crypto.randomBytes(24), npk, pt, ctx);
}

// npk is handed in, as for every peer; the private KeyObject is imported per
// call, as WebCrypto's reference row imports its key per call.
export function open(nsk, env, ctx, npk) {
  const { epk, nonce, ct } = parseEnvelope(env);
  const { info, aad } = canonCtx(ctx);
  const priv = privKey(nsk);
  const key = core(priv, epk, npk, pubKey(epk), info);
  const d = crypto.createDecipheriv('chacha20-poly1305', hchacha20(key, nonce.subarray(0, 16)), xcpIV(nonce), { authTagLength: 16 });
  d.setAAD(aad, { plaintextLength: ct.length - 16 });
  d.setAuthTag(ct.subarray(ct.length - 16));
  return new Uint8Array(Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]));
}
