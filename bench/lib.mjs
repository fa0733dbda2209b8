// Shared helpers for the Node-side scripts.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(BENCH, '..');
export const OUT = process.env.BENCH_RESULTS || join(BENCH, '.build', 'results');
export const PEER_IDS = ['sealpass', 'sodium', 'noble', 'webcrypto', 'hpke', 'boxseal'];
// Browser rows: 'sealpass' = the small build (web-open), 'sealpass-fast' = the fast
// browser build (web-fast). Node rows: 'sealpass' = the fast build (node-open),
// 'sealpass-small' = the small build (web-open) loaded in Node with initSync.
export const BROWSER_IDS = ['sealpass', 'sealpass-fast', ...PEER_IDS.slice(1)];
// Node-only what-if row (no browser build): the construction on node:crypto.
export const NODE_IDS = ['sealpass', 'sealpass-small', ...PEER_IDS.slice(1), 'nodecrypto'];
// The fixed identity key pair of the v2 rows (vector a-minimal-ascii of tests/vectors/envelope_v2.json).
export const ISK_HEX = 'c3b060544acc992ad75a2213634c106e602c726fa031a5990135004a71eedb6f';
export const IPK_HEX = '4a1feb698770eea9848e078101365e642dfcb4bf8d088a7c658300331cb85f04';
export const SIZES = [64, 1024, 16368];
export const SIZE_LABEL = { 64: '64 B', 1024: '1 KiB', 16368: '16 KiB*' };
// The PROTOCOL.md §12 worked-example context.
export const CTX = { node_id: 'node-7', pending_id: 'pend-42', slug: 'stripe-key', injection_method: 'header', field_name: 'Authorization' };

export const hex = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16));
export const eq = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

export function writeResult(name, obj) {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, name), JSON.stringify(obj, null, 1));
}
export function readResult(name) {
  try { return JSON.parse(readFileSync(join(OUT, name), 'utf8')); } catch { return null; }
}

export async function loadNodePeer(id) {
  const file = id === 'sealpass' ? 'sealpass-node.mjs' : id === 'sealpass-small' ? 'sealpass-small-node.mjs' : `${id}.mjs`;
  const p = await import(`./peers/${file}`);
  await p.init();
  return p;
}

/** A fixed node key pair for the run (nsk from the §12 example). */
export const NSK = hex('a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf');
export const NPK = hex('605a725d2a4adfeeb1a29e17edd621c1b7593ee8cdbc44ac6c4ab6e2f805d23c');
export const ISK = hex(ISK_HEX);
export const IPK = hex(IPK_HEX);

export function plaintext(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + 7) & 255;
  return b;
}

export const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
