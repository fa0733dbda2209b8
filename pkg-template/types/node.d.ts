// /*@@TITLE@@*/

/*@@SHARED@@*/

/** Does nothing in Node (the module loads synchronously); lets isomorphic code always `await init()`. */
export declare function init(wasm?: unknown): Promise<void>;

/** Does nothing in Node (the module loads synchronously). */
export declare function initSync(wasm?: unknown): void;

/*@@FUNCTIONS@@*/
