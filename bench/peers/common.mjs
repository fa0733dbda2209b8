// Shared by every JS peer: the sealpass v1 canonical encodings (PROTOCOL.md §4)
// and strict-enough base64url without padding (§7). Each peer bundle carries
// its own copy, so every peer pays the same few hundred bytes for it.
export const SUITE = 'x25519-hkdf-sha256-xchacha20poly1305';
const te = new TextEncoder();

function canon(fields) {
  const enc = fields.map((f) => te.encode(f));
  let n = 0;
  for (const e of enc) n += 2 + e.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const e of enc) {
    out[o] = e.length >> 8;
    out[o + 1] = e.length & 255;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

export const SUITE2 = 'x25519-x25519-hkdf-sha256-xchacha20poly1305';
/** {info, aad} of envelope v2 (PROTOCOL.md §15.2): the v1 fields with "v2" labels and version "2". */
export function canonCtx2(c) {
  return {
    info: canon(['sealpass:v2:kdf', c.node_id, c.pending_id, c.slug, '2']),
    aad: canon(['sealpass:v2:aad', c.node_id, c.pending_id, c.slug, '2',
      c.injection_method, c.field_name || '', c.target_url || '']),
  };
}

/** {info, aad} for a context object (fields assumed already valid). */
export function canonCtx(c) {
  return {
    info: canon(['sealpass:v1:kdf', c.node_id, c.pending_id, c.slug, '1']),
    aad: canon(['sealpass:v1:aad', c.node_id, c.pending_id, c.slug, '1',
      c.injection_method, c.field_name || '', c.target_url || '']),
  };
}

const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const R = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) R[A.charCodeAt(i)] = i;

export function b64u(b) {
  let s = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const v = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    s += A[v >> 18] + A[(v >> 12) & 63] + A[(v >> 6) & 63] + A[v & 63];
  }
  const r = b.length - i;
  if (r === 1) { const v = b[i]; s += A[v >> 2] + A[(v & 3) << 4]; }
  else if (r === 2) { const v = (b[i] << 8) | b[i + 1]; s += A[v >> 10] + A[(v >> 4) & 63] + A[(v & 15) << 2]; }
  return s;
}

export function unb64u(s) {
  if (s.length % 4 === 1) throw new Error('bad base64url length');
  const out = new Uint8Array((s.length * 3) >> 2);
  let acc = 0, bits = 0, o = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? R[c] : -1;
    if (v < 0) throw new Error('bad base64url character');
    acc = (acc << 6) | v; bits += 6;
    if (bits >= 8) { bits -= 8; out[o++] = (acc >> bits) & 255; }
  }
  if (acc & ((1 << bits) - 1)) throw new Error('non-zero trailing bits');
  return out;
}

export function concat(a, b) {
  const o = new Uint8Array(a.length + b.length);
  o.set(a); o.set(b, a.length);
  return o;
}

/** Same 32 key bytes (used to keep one cached opener per secret key). */
export function sameKey(a, b) {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function isZero(b) {
  let x = 0;
  for (let i = 0; i < b.length; i++) x |= b[i];
  return x === 0;
}

/** The canonical envelope object (PROTOCOL.md §8.1 key order). */
export function envelope(epk, nonce, ct) {
  return { v: 1, suite: SUITE, epk: b64u(epk), nonce: b64u(nonce), ct: b64u(ct) };
}

/** The canonical v2 envelope object (PROTOCOL.md §15.5). */
export function envelope2(epk, nonce, ct) {
  return { v: 2, suite: SUITE2, epk: b64u(epk), nonce: b64u(nonce), ct: b64u(ct) };
}

export function parseEnvelope2(env) {
  if (typeof env === 'string') env = JSON.parse(env);
  if (env.v !== 2 || env.suite !== SUITE2) throw new Error('unsupported envelope');
  const epk = unb64u(env.epk), nonce = unb64u(env.nonce), ct = unb64u(env.ct);
  if (epk.length !== 32 || nonce.length !== 24 || ct.length < 17) throw new Error('bad lengths');
  return { epk, nonce, ct };
}

export function concat3(a, b, c) {
  const o = new Uint8Array(a.length + b.length + c.length);
  o.set(a); o.set(b, a.length); o.set(c, a.length + b.length);
  return o;
}

export function parseEnvelope(env) {
  if (typeof env === 'string') env = JSON.parse(env);
  if (env.v !== 1 || env.suite !== SUITE) throw new Error('unsupported envelope');
  const epk = unb64u(env.epk), nonce = unb64u(env.nonce), ct = unb64u(env.ct);
  if (epk.length !== 32 || nonce.length !== 24 || ct.length < 17) throw new Error('bad lengths');
  return { epk, nonce, ct };
}
