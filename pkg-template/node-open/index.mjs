// sealpass/node-open — Node.js ESM entry: seal AND open.
import m from "./index.cjs";

export const {
  open,
  generateKeyPair,
  seal,
  fingerprint,
  validateContext,
  init,
  initSync,
  isSealpassError,
  SealpassError,
} = m;
export default init;
