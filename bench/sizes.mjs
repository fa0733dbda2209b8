// Sizes: raw, gzip -9 and brotli (q11) of each peer's seal-only browser bundle
// (esbuild --minify, ESM) and, for sealpass, of its .wasm (seal-only web build).
// Also the accept page (target/www-dist) when another build has made it.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BENCH, ROOT, BROWSER_IDS, writeResult } from './lib.mjs';
import { measure, add } from './sizes-lib.mjs';

const out = { peers: {} };
for (const id of BROWSER_IDS) {
  const js = measure(join(BENCH, '.build', 'www', `seal-${id}.js`));
  const r = { js };
  if (id.startsWith('sealpass')) {
    const dir = id === 'sealpass' ? 'web' : 'web-fast-seal';
    r.wasm = measure(join(BENCH, '.build', dir, 'sealpass_bg.wasm'));
    r.glueUnminified = measure(join(BENCH, '.build', dir, 'sealpass.js'));
  }
  r.total = r.wasm ? add(js, r.wasm) : js;
  out.peers[id] = r;
}
const dist = join(ROOT, 'target', 'www-dist');
if (existsSync(dist)) {
  const files = [];
  const walk = (d) => { for (const f of readdirSync(d)) { const p = join(d, f); statSync(p).isDirectory() ? walk(p) : files.push(p); } };
  walk(dist);
  const rows = files.sort().map((f) => ({ file: relative(dist, f), ...measure(f) }));
  out.wwwDist = { dir: 'target/www-dist', files: rows, total: rows.reduce((a, b) => add(a, b), { raw: 0, gzip: 0, brotli: 0 }) };
}
writeResult('sizes.json', out);
for (const [id, r] of Object.entries(out.peers)) console.log(`size ${id}: raw ${r.total.raw}, gzip ${r.total.gzip}, brotli ${r.total.brotli}`);
if (out.wwwDist) console.log(`size www-dist: ${out.wwwDist.files.length} files, gzip ${out.wwwDist.total.gzip}`);
