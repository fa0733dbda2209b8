// The sealpass peer functions every sealpass build shares (Node fast build,
// browser builds, the small build in Node): seal, and open through an
// `Opener` held per secret key (public key derived once, as a node keeps it),
// v1 and v2 (PROTOCOL.md §15), envelope object or JSON bytes.
// `mod()` returns the loaded wasm-bindgen module (Node loads it in init()).
import { sameKey } from './common.mjs';

export function sealpassApi(mod) {
  let held = null; // { nsk, op }
  let held2 = null; // { nsk, isk, op }
  const opener = (nsk) => {
    if (!held || !sameKey(held.nsk, nsk)) {
      held?.op.free();
      held = { nsk: Uint8Array.from(nsk), op: new (mod().Opener)(nsk) };
    }
    return held.op;
  };
  const opener2 = (nsk, isk) => {
    if (!held2 || !sameKey(held2.nsk, nsk) || !sameKey(held2.isk, isk)) {
      held2?.op.free();
      held2 = { nsk: Uint8Array.from(nsk), isk: Uint8Array.from(isk), op: new (mod().Opener)(nsk, { identityKey: isk }) };
    }
    return held2.op;
  };
  return {
    opener,
    seal: (npk, pt, ctx) => mod().seal(npk, pt, ctx),
    open: (nsk, env, ctx, _npk) => opener(nsk).open(env, ctx),
    /** The envelope as its JSON bytes, as a node receives it (no JSON.stringify, no string). */
    openBytes: (nsk, bytes, ctx) => opener(nsk).open(bytes, ctx),
    seal2: (npk, pt, ctx, ipk) => mod().seal(npk, pt, ctx, { identity: ipk }),
    open2: (nsk, env, ctx, _npk, isk) => opener2(nsk, isk).open(env, ctx),
  };
}
