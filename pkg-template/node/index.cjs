"use strict";
// sealpass — Node.js entry (seal-only; the WebAssembly module loads synchronously
// on first require, no init needed). seal(pk, pt, ctx) makes v1 envelopes;
// seal(pk, pt, ctx, { identity }) v2 envelopes bound to the node identity.
const wasm = require("./sealpass.cjs");
const errors = require("./errors.cjs");

module.exports = {
  seal: wasm.seal,
  fingerprint: wasm.fingerprint,
  identityFingerprint: wasm.identityFingerprint,
  validateContext: wasm.validateContext,
  init: errors.init,
  initSync: errors.initSync,
  isSealpassError: errors.isSealpassError,
  SealpassError: errors.SealpassError,
};
