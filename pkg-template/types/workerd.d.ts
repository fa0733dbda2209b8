// sealpass — Cloudflare Workers / workerd entry (seal-only WebAssembly build; no open()).
// The module is instantiated on import (from the .wasm imported as a compiled
// WebAssembly.Module), so seal() and the rest work without init(). No DOM lib needed.

/*@@SHARED@@*/

/** Does nothing here (the module is ready on import); lets code shared with the browser entry `await init()`. */
export declare function init(wasm?: unknown): Promise<void>;
export default init;

/** Does nothing here (the module is ready on import). */
export declare function initSync(wasm?: unknown): void;

/*@@FUNCTIONS@@*/
