// esbuild bundles for the browser: per peer a seal-only bundle (the size table
// and the cold-start page) and a throughput bundle (peer + core.mjs, with open).
import * as esbuild from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH, BROWSER_IDS } from './lib.mjs';

const WWW = join(BENCH, '.build', 'www');
const ENTRY = join(BENCH, '.build', 'entries');
mkdirSync(WWW, { recursive: true });
mkdirSync(ENTRY, { recursive: true });
const peerFile = (id) => join(BENCH, 'peers', id.startsWith('sealpass') ? 'sealpass-web.mjs' : `${id}.mjs`);
// sealpass's glue per bundle kind: the small build (web, web-open) and the fast one (web-fast-seal, web-fast).
const GLUE = { sealpass: { seal: 'web', tp: 'web-open' }, 'sealpass-fast': { seal: 'web-fast-seal', tp: 'web-fast' } };

for (const id of BROWSER_IDS) {
  writeFileSync(join(ENTRY, `seal-${id}.mjs`), `export { init, seal } from ${JSON.stringify(peerFile(id))};\n`);
  writeFileSync(join(ENTRY, `tp-${id}.mjs`),
    `import * as peer from ${JSON.stringify(peerFile(id))};\nimport { prepareThroughput } from ${JSON.stringify(join(BENCH, 'core.mjs'))};\n` +
    `export async function prepare(cfg) { await peer.init(cfg.wasmUrl); const u = (a) => Uint8Array.from(a);\n` +
    `  const t = await prepareThroughput(peer, { ...cfg, npk: u(cfg.npk), nsk: u(cfg.nsk), isk: u(cfg.isk), ipk: u(cfg.ipk) });\n` +
    `  globalThis.__tp = t; return t.cells; }\n`);
  for (const kind of ['seal', 'tp']) {
    const glue = (GLUE[id] || GLUE.sealpass)[kind];
    await esbuild.build({
      entryPoints: [join(ENTRY, `${kind}-${id}.mjs`)],
      outfile: join(WWW, `${kind}-${id}.js`),
      bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022',
      alias: { 'sealpass-glue': join(BENCH, '.build', glue, 'sealpass.js') },
      // libsodium's emscripten loader names Node built-ins it never loads in a browser.
      external: ['fs', 'path', 'crypto', 'url', 'module', 'worker_threads'],
      logLevel: 'error', legalComments: 'none',
    });
  }
}
console.log(`bundles written to ${WWW}`);
