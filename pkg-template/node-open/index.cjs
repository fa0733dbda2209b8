"use strict";
// sealpass/node-open — Node.js only: seal AND open (the `open` cargo feature).
// Never bundle this into a web page; the browser entry has no open().
// open(sk, env, ctx, { identityKey }) and new Opener(sk, { identityKey }) also
// open v2 envelopes (sealed to the node identity); without it only v1.
const wasm = require("./sealpass.cjs");
const errors = require("../node/errors.cjs");

module.exports = {
  open: wasm.open,
  Opener: wasm.Opener,
  generateKeyPair: wasm.generateKeyPair,
  seal: wasm.seal,
  fingerprint: wasm.fingerprint,
  identityFingerprint: wasm.identityFingerprint,
  validateContext: wasm.validateContext,
  init: errors.init,
  initSync: errors.initSync,
  isSealpassError: errors.isSealpassError,
  SealpassError: errors.SealpassError,
};
