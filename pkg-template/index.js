// sealpass — browser / bundler entry (seal-only WebAssembly build).
// Call `await init()` once, then seal(), fingerprint(), identityFingerprint()
// and validateContext() are synchronous. seal(pk, pt, ctx) makes a v1
// envelope; seal(pk, pt, ctx, { identity }) a v2 envelope bound to the node's
// pinned identity key (protocol §15). There is deliberately no open() here.
import initWasm, {
  initSync as initWasmSync,
  seal as wasmSeal,
  fingerprint as wasmFingerprint,
  identityFingerprint as wasmIdentityFingerprint,
  validateContext as wasmValidateContext,
} from "./web/sealpass.js";

let ready = false;
let pending;

/** Plain objects are wasm-bindgen's `{ module_or_path }` / `{ module }` form. */
const isOptions = (v) => v != null && Object.getPrototypeOf(v) === Object.prototype;

/**
 * Load the WebAssembly module. Without an argument the .wasm is fetched from
 * next to web/sealpass.js; pass a URL (CDN path, bundler asset URL), a
 * Response, bytes or a WebAssembly.Module to load it from elsewhere.
 * Safe to call more than once; concurrent calls share one load.
 */
export default function init(wasm) {
  if (ready) return Promise.resolve();
  if (pending === undefined) {
    const arg = wasm === undefined || isOptions(wasm) ? wasm : { module_or_path: wasm };
    pending = initWasm(arg).then(
      () => {
        ready = true;
      },
      (e) => {
        pending = undefined;
        throw blocked(e);
      },
    );
  }
  return pending;
}

/** A CSP without 'wasm-unsafe-eval': say what to add (browsers name 'unsafe-eval' or nothing). */
function blocked(e) {
  if (!/Content Security|\bCSP\b/i.test(e?.message)) return e;
  const b = new Error("the Content-Security-Policy blocks sealpass's WebAssembly: add 'wasm-unsafe-eval' to script-src", { cause: e });
  b.name = "WasmBlocked";
  return b;
}
export { init };

/** Synchronous variant for workers that already hold the bytes or a Module. */
export function initSync(wasm) {
  if (ready) return;
  try {
    initWasmSync(isOptions(wasm) ? wasm : { module: wasm });
  } catch (e) {
    throw blocked(e);
  }
  ready = true;
}

function check() {
  if (!ready) {
    const e = new Error(
      "sealpass is not initialised: call `await init()` before seal(), fingerprint(), identityFingerprint() or validateContext()",
    );
    e.name = "NotInitialized";
    throw e;
  }
}

/**
 * Seal to the node's one-time key (v1), or with `options.identity` also to its
 * pinned identity key (v2). `options` is passed through unchanged: unknown
 * keys and non-object values are refused by the Wasm side (InvalidArgument).
 */
export function seal(publicKey, plaintext, context, options) {
  check();
  return wasmSeal(publicKey, plaintext, context, options);
}

export function fingerprint(publicKey) {
  check();
  return wasmFingerprint(publicKey);
}

/** The identity fingerprint of a node identity key: compare it once, then pin the key. */
export function identityFingerprint(identity) {
  check();
  return wasmIdentityFingerprint(identity);
}

export function validateContext(context) {
  check();
  wasmValidateContext(context);
}

/** True for errors thrown by sealpass (numeric `code` 8000..8999, stable `name`). */
export function isSealpassError(e) {
  return e instanceof Error && typeof e.code === "number" && e.code >= 8000 && e.code < 9000;
}

/** Not constructible; use `err instanceof SealpassError` to recognise sealpass errors. */
export class SealpassError extends Error {
  constructor() {
    throw new TypeError("SealpassError is not constructible");
  }
  static [Symbol.hasInstance](e) {
    return isSealpassError(e);
  }
}
