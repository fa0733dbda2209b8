// Throughput and cold start in headless Chromium and Firefox (puppeteer-core,
// system browsers). Throughput: one page per peer running core.mjs, sampled
// round-robin across the peers.
// Cold start: per sample a fresh browser context and page that imports the
// peer's seal-only bundle, initialises it and seals once; an empty page is the
// baseline.
import puppeteer from 'puppeteer-core';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH, PEER_IDS, BROWSER_IDS, SIZES, CTX, NSK, NPK, ISK, IPK, writeResult, median } from './lib.mjs';
import { serve } from './server.mjs';
import { interleave } from './core.mjs';

const cfg = JSON.parse(process.env.BENCH_CFG || '{"samples":5,"sampleMs":300,"warmupMs":200}');
const coldRuns = Number(process.env.BENCH_COLD_RUNS || 7);
const only = (process.env.BENCH_BROWSERS || 'chromium,firefox').split(',');
const WWW = join(BENCH, '.build', 'www');
mkdirSync(WWW, { recursive: true });
writeFileSync(join(WWW, 'blank.html'), '<!doctype html><meta charset="utf-8"><title>bench</title>\n');
const wasmUrl = { tp: '/.build/web-open/sealpass_bg.wasm', seal: '/.build/web/sealpass_bg.wasm' };
const tpWasm = (id) => (id === 'sealpass-fast' ? '/.build/web-fast/sealpass_bg.wasm' : wasmUrl.tp);

// The cold-start page: everything counted from navigation start (performance.now()).
// 'sealpass-preload' is sealpass with the page announcing its .wasm up front
// (<link rel=preload as=fetch>), so its fetch overlaps the bundle's.
const COLD_IDS = ['empty', ...PEER_IDS, 'sealpass-preload'];
function coldPage(id) {
  const head = id === 'sealpass-preload' ? `<link rel="preload" href="${wasmUrl.seal}" as="fetch" type="application/wasm" crossorigin>\n` : '';
  const bundle = id === 'sealpass-preload' ? 'sealpass' : id;
  const body = id === 'empty' ? 'window.__cold = { t: performance.now() };' :
    `import { init, seal } from '/.build/www/seal-${bundle}.js';
const t0 = performance.now();
await init(${JSON.stringify(wasmUrl.seal)});
const t1 = performance.now();
const env = await seal(Uint8Array.from(${JSON.stringify([...NPK])}), new TextEncoder().encode('sk_live_0123456789abcdef'), ${JSON.stringify(CTX)});
const t2 = performance.now();
window.__cold = { t: t2, importDone: t0, init: t1 - t0, seal: t2 - t1, ok: typeof env.ct === 'string' };`;
  return `<!doctype html><meta charset="utf-8"><title>cold ${id}</title>\n${head}<script type="module">\n${body}\n</script>\n`;
}
for (const id of COLD_IDS) writeFileSync(join(WWW, `cold-${id}.html`), coldPage(id));

const LAUNCH = {
  chromium: { browser: 'chrome', executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run'] },
  firefox: { browser: 'firefox', executablePath: '/usr/bin/firefox-esr', headless: true },
};

const { server, origin } = await serve(BENCH);
const out = { cfg, coldRuns, browsers: {} };
try {
  for (const name of only) {
    const browser = await puppeteer.launch({ ...LAUNCH[name], protocolTimeout: 600000 });
    const r = (out.browsers[name] = { version: await browser.version(), peers: {}, cold: {} });
    console.log(`${name}: ${r.version}`);
    try {
      // Throughput: one page per peer, all open for the whole run, sampled
      // round-robin (core.mjs interleave) so drifting load hits all alike.
      const remote = {};
      let cells = null;
      for (const id of BROWSER_IDS) {
        const page = await browser.newPage();
        try {
          await page.goto(`${origin}/.build/www/blank.html`);
          const c = await page.evaluate(async (url, cf) => (await import(url)).prepare(cf),
            `/.build/www/tp-${id}.js`, { ...cfg, sizes: SIZES, ctx: CTX, npk: [...NPK], nsk: [...NSK], isk: [...ISK], ipk: [...IPK], wasmUrl: tpWasm(id) });
          for (const x of c) if (!(cells ??= []).some((y) => y.size === x.size && y.op === x.op)) cells.push(x);
          const front = () => page.bringToFront().catch(() => {});
          remote[id] = {
            page, cells: c,
            warm: async (ms) => { await front(); return page.evaluate((m) => globalThis.__tp.warm(m), ms); },
            sample: async (i, ms, rw) => { await front(); return page.evaluate((a, b, c2) => globalThis.__tp.sample(a, b, c2), i, ms, rw); },
          };
        } catch (e) {
          r.peers[id] = { error: String(e.message || e).slice(0, 300) };
          console.log(`${name} ${id}: ERROR ${r.peers[id].error}`);
          await page.close();
        }
      }
      try {
        const { results, errors } = await interleave(remote, cells, cfg, (k) => console.log(`${name}: round ${k}/${cfg.samples}`));
        for (const [id, e] of Object.entries(errors)) { r.peers[id] = { error: e }; console.log(`${name} ${id}: ERROR ${e}`); }
        for (const id of Object.keys(results)) {
          r.peers[id] = { results: results[id] };
          const r1k = results[id].filter((x) => x.size === 1024).map((x) => `${x.op} ${Math.round(median(x.samples))}`);
          console.log(`${name} ${id}: 1 KiB ${r1k.join(', ')} ops/s`);
        }
      } finally { for (const x of Object.values(remote)) await x.page.close().catch(() => {}); }
      // Cold start, interleaved across peers so that drifting load hits all alike.
      const samples = {};
      for (let k = 0; k < coldRuns; k++) {
        for (const id of COLD_IDS) {
          const ctx = await browser.createBrowserContext();
          try {
            const w0 = performance.now();
            const page = await ctx.newPage();
            await page.goto(`${origin}/.build/www/cold-${id}.html`);
            const c = await page.waitForFunction(() => window.__cold, { timeout: 60000 }).then((h) => h.jsonValue());
            const wall = performance.now() - w0;
            (samples[id] ??= []).push({ ...c, wall });
          } catch (e) {
            (samples[id] ??= []).push({ error: String(e.message || e).slice(0, 200) });
          } finally { await ctx.close(); }
        }
      }
      r.cold = samples;
      for (const id of Object.keys(samples)) {
        const ok = samples[id].filter((s) => !s.error);
        console.log(`${name} cold ${id}: in-page ${median(ok.map((s) => s.t)).toFixed(1)} ms, wall ${median(ok.map((s) => s.wall)).toFixed(1)} ms (${ok.length}/${samples[id].length} ok)`);
      }
    } finally { await browser.close(); }
  }
} finally { server.close(); }
writeResult('browser.json', out);
