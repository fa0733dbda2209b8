// sealpass/node-open — Node.js ESM entry: seal AND open.
import m from "./index.cjs";

export const {
  open,
  Opener,
  generateKeyPair,
  seal,
  fingerprint,
  identityFingerprint,
  validateContext,
  init,
  initSync,
  isSealpassError,
  SealpassError,
} = m;
export default init;
