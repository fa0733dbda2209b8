// Reference point: libsodium crypto_box_seal (X25519 + XSalsa20-Poly1305 with a
// BLAKE2b-derived nonce). No AAD and no KDF info: the context is NOT bound, so
// this row does less work than the sealpass construction.
import sodium from 'libsodium-wrappers-sumo';
import { b64u, unb64u } from './common.mjs';

export const meta = { id: 'boxseal', label: 'libsodium crypto_box_seal', kind: 'ref' };
let S;
export async function init() { await sodium.ready; S = sodium; }

export function seal(npk, pt, _ctx) {
  return { v: 1, suite: 'crypto_box_seal', ct: b64u(S.crypto_box_seal(pt, npk)) };
}

// npk is handed in (crypto_box_seal_open needs it for the nonce), as for every peer.
export function open(nsk, env, _ctx, npk) {
  const ct = unb64u((typeof env === 'string' ? JSON.parse(env) : env).ct);
  return S.crypto_box_seal_open(ct, npk, nsk);
}
