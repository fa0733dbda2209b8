/// <reference lib="dom" />
// sealpass — browser / bundler entry (seal-only WebAssembly build; no open()).

/*@@SHARED@@*/

/** Thrown when seal(), fingerprint(), identityFingerprint() or validateContext() run before init() resolved. */
export interface NotInitializedError extends Error {
  readonly name: "NotInitialized";
}

/**
 * init()/initSync() reject with this when the page's (or the worker script's)
 * Content-Security-Policy does not allow WebAssembly: add 'wasm-unsafe-eval' to
 * script-src. `cause` is the browser's own CompileError.
 */
export interface WasmBlockedError extends Error {
  readonly name: "WasmBlocked";
  readonly cause: unknown;
}

/** Where init() can load the WebAssembly module from. */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/**
 * Load the WebAssembly module; await it once before anything else. Without an
 * argument the .wasm is fetched from next to the package's JS; pass a URL
 * (CDN path, bundler asset), a Response, bytes or a Module to load it from
 * elsewhere. Safe to call more than once.
 */
export declare function init(wasm?: InitInput | Promise<InitInput>): Promise<void>;
export default init;

/** Synchronous init for workers that already hold the bytes or a compiled Module. */
export declare function initSync(wasm: BufferSource | WebAssembly.Module): void;

/*@@FUNCTIONS@@*/
