// sealpass — Node.js ESM entry (wraps the CommonJS build so both share one instance).
import m from "./index.cjs";

export const {
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
