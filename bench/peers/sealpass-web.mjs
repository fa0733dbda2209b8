// sealpass itself, browser build (wasm-pack --target web). The bundle for the
// size table is made from the seal-only build; the throughput page uses the
// build with `open`. init() takes the URL of the .wasm file.
import initWasm, * as m from 'sealpass-glue';

export const meta = { id: 'sealpass', label: 'sealpass (wasm)', kind: 'self' };
export async function init(wasmUrl) { await initWasm({ module_or_path: wasmUrl }); }
export function seal(npk, pt, ctx) { return m.seal(npk, pt, ctx); }
export function open(nsk, env, ctx) { return m.open(nsk, env, ctx); }
