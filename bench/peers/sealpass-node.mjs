// sealpass itself, Node build (wasm-pack --target nodejs --features open, plus
// the speed builds' features from scripts/wasm-env.sh).
// open() holds the node key in an `Opener` (public key derived once, as a node
// keeps it), created again only when a different secret key comes in; the key
// is fixed for a timing run. The npk argument every peer gets is not needed:
// the Opener derived it itself.
import { createRequire } from 'node:module';
import { sameKey } from './common.mjs';
const require = createRequire(import.meta.url);

export const meta = { id: 'sealpass', label: 'sealpass (wasm)', kind: 'self' };
let m;
let held = null; // { nsk, op }
export async function init() { m = require('../.build/node-open/sealpass.js'); }
export function opener(nsk) {
  if (!held || !sameKey(held.nsk, nsk)) {
    held?.op.free();
    held = { nsk: Uint8Array.from(nsk), op: new m.Opener(nsk) };
  }
  return held.op;
}
export function seal(npk, pt, ctx) { return m.seal(npk, pt, ctx); }
export function open(nsk, env, ctx, _npk) { return opener(nsk).open(env, ctx); }
/** The envelope as its JSON bytes, as a node receives it (no JSON.stringify, no string). */
export function openBytes(nsk, bytes, ctx) { return opener(nsk).open(bytes, ctx); }
/** The one-shot `open(secretKey, envelope, context)`, which derives npk on every call. */
export function openDeriving(nsk, env, ctx) { return m.open(nsk, env, ctx); }
export const validateContext = (c) => m.validateContext(c);
export const fingerprint = (k) => m.fingerprint(k);

// v2 (identity-bound, PROTOCOL.md §15): seal(pk, pt, ctx, {identity}); an Opener
// holding both the one-time key and the identity key ({identityKey}), kept like
// the v1 one.
let held2 = null; // { nsk, isk, op }
export function seal2(npk, pt, ctx, ipk) { return m.seal(npk, pt, ctx, { identity: ipk }); }
export function open2(nsk, env, ctx, _npk, isk) {
  if (!held2 || !sameKey(held2.nsk, nsk) || !sameKey(held2.isk, isk)) {
    held2?.op.free();
    held2 = { nsk: Uint8Array.from(nsk), isk: Uint8Array.from(isk), op: new m.Opener(nsk, { identityKey: isk }) };
  }
  return held2.op.open(env, ctx);
}
