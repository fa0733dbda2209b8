// sealpass — Cloudflare Workers / workerd entry (the "workerd" export
// condition, which wrangler and @cloudflare/vite-plugin resolve).
//
// workerd refuses to compile WebAssembly from bytes at run time ("Wasm code
// generation disallowed by embedder"), so the browser entry's init(), which
// fetches or is handed the bytes, cannot work there. Here the .wasm is an
// import: wrangler (and a workerd config's `wasm` module) hands it over as an
// already compiled WebAssembly.Module, which this module instantiates
// synchronously on import. seal() & co. are usable at once; `await init()`
// is a harmless no-op kept for code shared with the browser entry.
//
// This file initialises on import: package.json lists it in "sideEffects" so
// that a bundler never drops this body while keeping the re-exports below.
import wasm from "../web/sealpass_bg.wasm";
import { initSync } from "../index.js";

initSync({ module: wasm });

export {
  default,
  init,
  initSync,
  seal,
  fingerprint,
  identityFingerprint,
  validateContext,
  isSealpassError,
  SealpassError,
} from "../index.js";
