"use strict";
// sealpass — Node.js entry (seal-only; the WebAssembly module loads synchronously
// on first require, no init needed).
const wasm = require("./sealpass.cjs");
const errors = require("./errors.cjs");

module.exports = {
  seal: wasm.seal,
  fingerprint: wasm.fingerprint,
  validateContext: wasm.validateContext,
  init: errors.init,
  initSync: errors.initSync,
  isSealpassError: errors.isSealpassError,
  SealpassError: errors.SealpassError,
};
