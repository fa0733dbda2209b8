"use strict";
// sealpass/node-open — Node.js only: seal AND open (the `open` cargo feature).
// Never bundle this into a web page; the browser entry has no open().
const wasm = require("./sealpass.cjs");
const errors = require("../node/errors.cjs");

module.exports = {
  open: wasm.open,
  Opener: wasm.Opener,
  generateKeyPair: wasm.generateKeyPair,
  seal: wasm.seal,
  fingerprint: wasm.fingerprint,
  validateContext: wasm.validateContext,
  init: errors.init,
  initSync: errors.initSync,
  isSealpassError: errors.isSealpassError,
  SealpassError: errors.SealpassError,
};
