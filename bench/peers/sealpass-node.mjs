// sealpass itself, Node build (wasm-pack --target nodejs --features open).
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);

export const meta = { id: 'sealpass', label: 'sealpass (wasm)', kind: 'self' };
let m;
export async function init() { m = require('../.build/node-open/sealpass.js'); }
export function seal(npk, pt, ctx) { return m.seal(npk, pt, ctx); }
export function open(nsk, env, ctx) { return m.open(nsk, env, ctx); }
export const validateContext = (c) => m.validateContext(c);
export const fingerprint = (k) => m.fingerprint(k);
