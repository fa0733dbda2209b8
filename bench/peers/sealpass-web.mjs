// sealpass itself, browser build (wasm-pack --target web). The bundle for the
// size table is made from the seal-only build; the throughput page uses the
// build with `open`. init() takes the URL of the .wasm file.
// open() holds the node key in an `Opener` (public key derived once), created
// again only when a different secret key comes in; the key is fixed per run.
// Written out rather than taken from sealpass-api.mjs (as the Node peers do):
// the seal-only bundle of the size table exports this file's init and seal,
// and plain function exports let esbuild drop the rest (the shared object
// would keep all of the glue: +544 B gzip measured).
import initWasm, * as m from 'sealpass-glue';
import { sameKey } from './common.mjs';

export const meta = { id: 'sealpass', label: 'sealpass (wasm)', kind: 'self' };
let held = null; // { nsk, op }
export async function init(wasmUrl) { await initWasm({ module_or_path: wasmUrl }); }
export function seal(npk, pt, ctx) { return m.seal(npk, pt, ctx); }
function opener(nsk) {
  if (!held || !sameKey(held.nsk, nsk)) {
    held?.op.free();
    held = { nsk: Uint8Array.from(nsk), op: new m.Opener(nsk) };
  }
  return held.op;
}
export function open(nsk, env, ctx, _npk) { return opener(nsk).open(env, ctx); }
/** The envelope as its JSON bytes, as a node receives it (no JSON.stringify, no string). */
export function openBytes(nsk, bytes, ctx) { return opener(nsk).open(bytes, ctx); }

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
