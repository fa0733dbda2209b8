// sealpass itself, Node build (wasm-pack --target nodejs --features open, plus
// the speed builds' features from scripts/wasm-env.sh).
// open() holds the node key in an `Opener` (public key derived once, as a node
// keeps it), created again only when a different secret key comes in; the key
// is fixed for a timing run. The npk argument every peer gets is not needed:
// the Opener derived it itself.
import { createRequire } from 'node:module';
import { sealpassApi } from './sealpass-api.mjs';
const require = createRequire(import.meta.url);

export const meta = { id: 'sealpass', label: 'sealpass (wasm)', kind: 'self' };
let m;
export async function init() { m = require('../.build/node-open/sealpass.js'); }
export const { opener, seal, open, openBytes, seal2, open2 } = sealpassApi(() => m);
/** The one-shot `open(secretKey, envelope, context)`, which derives npk on every call. */
export function openDeriving(nsk, env, ctx) { return m.open(nsk, env, ctx); }
export const validateContext = (c) => m.validateContext(c);
export const fingerprint = (k) => m.fingerprint(k);
