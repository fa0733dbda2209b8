"use strict";
// Shared by sealpass (Node) and sealpass/node-open.

/** True for errors thrown by sealpass (numeric `code` 8000..8999, stable `name`). */
function isSealpassError(e) {
  return e instanceof Error && typeof e.code === "number" && e.code >= 8000 && e.code < 9000;
}

/** Not constructible; use `err instanceof SealpassError` to recognise sealpass errors. */
class SealpassError extends Error {
  constructor() {
    throw new TypeError("SealpassError is not constructible");
  }
  static [Symbol.hasInstance](e) {
    return isSealpassError(e);
  }
}

/** Node builds load synchronously; init() exists so isomorphic code can always await it. */
function init() {
  return Promise.resolve();
}
function initSync() {}

module.exports = { isSealpassError, SealpassError, init, initSync };
