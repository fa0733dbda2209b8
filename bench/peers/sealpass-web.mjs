// sealpass itself, browser build (wasm-pack --target web). The bundle for the
// size table is made from the seal-only build; the throughput page uses the
// build with `open`. init() takes the URL of the .wasm file.
// open() holds the node key in an `Opener` (public key derived once), created
// again only when a different secret key comes in; the key is fixed per run.
import initWasm, * as m from 'sealpass-glue';
import { sameKey } from './common.mjs';

export const meta = { id: 'sealpass', label: 'sealpass (wasm)', kind: 'self' };
let held = null; // { nsk, op }
export async function init(wasmUrl) { await initWasm({ module_or_path: wasmUrl }); }
export function seal(npk, pt, ctx) { return m.seal(npk, pt, ctx); }
export function open(nsk, env, ctx, _npk) {
  if (!held || !sameKey(held.nsk, nsk)) {
    held?.op.free();
    held = { nsk: Uint8Array.from(nsk), op: new m.Opener(nsk) };
  }
  return held.op.open(env, ctx);
}
