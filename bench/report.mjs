// Writes bench/RESULTS.md from the JSON figures of this run (bench/.build/results).
// Nothing in RESULTS.md is typed by hand: every number below comes from a file
// the run just wrote.
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import os from 'node:os';
import { BENCH, ROOT, OUT, PEER_IDS, BROWSER_IDS, NODE_IDS, SIZES, readResult, median } from './lib.mjs';

const R = (f) => readResult(f);
const txt = (f) => { try { return readFileSync(join(OUT, f), 'utf8').trim(); } catch { return null; } };
const sh = (c) => { try { return execSync(c, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n')[0]; } catch { return 'n/a'; } };
const fmt = (x, d = 0) => (x == null || Number.isNaN(x) ? 'n/a' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const kb = (b) => (b == null ? 'n/a' : `${fmt(b / 1000, 1)} KB`);
const LABEL = {
  sealpass: '**sealpass** (Rust → wasm)', 'sealpass-small': '**sealpass small build** (`web-open`, opt-level "s", in Node via initSync)', 'sealpass-fast': '**sealpass fast build** (`web-fast`)', sodium: 'libsodium-wrappers-sumo', noble: '@noble curves+hashes+ciphers',
  webcrypto: 'WebCrypto X25519+HKDF+AES-GCM (ref.)', hpke: 'hpke-js X25519/HKDF/ChaCha20-Poly1305 (ref.)', boxseal: 'libsodium crypto_box_seal (ref.)',
  nodecrypto: 'node:crypto, sealpass v1 (what-if: native X25519, Node only)',
  'sealpass-preload': 'sealpass, page preloads the .wasm (`<link rel=preload as=fetch>`)',
};
const SAME = ['sealpass', 'sealpass-fast', 'sodium', 'noble'];
/** Row label: 'sealpass' is the fast build (node-open) in Node and the small build (web-open) in the browsers. */
const label = (id, envKey) => {
  if (envKey === 'size' && id === 'sealpass') return '**sealpass small build** (`web`, seal-only)';
  if (envKey === 'size' && id === 'sealpass-fast') return '**sealpass fast build** (`web-fast-seal`, seal-only)';
  return id === 'sealpass' ? (envKey === 'node' ? '**sealpass fast build** (`node-open`)' : '**sealpass small build** (`web-open`)') : LABEL[id] || id;
};
// Build variants (bench/variants.sh): all seal-only web builds, measured in Node.
const VDESC = {
  s: 'opt-level "s", fiat backend, `wasm-min`, nightly with core rebuilt under `-Cpanic=immediate-abort` (**shipped browser build**)',
  's-stable': 'as `s` but built by stable Rust (its precompiled core: formatting and panic messages stay)',
  's-serial': 'opt-level "s", portable 32-bit backend (serial) instead of fiat',
  o3: 'opt-level 3',
  'o3-serial': 'opt-level 3, serial backend',
  'o3-table': 'opt-level 3 + `wasm-base-table`',
  'o3-fast': 'opt-level 3 + `wasm-base-table` + `wasm-x25519x2` + `wasm-chacha20x4` with Wasm SIMD (the fast builds\' settings, but on nightly like every variant but `s-stable`)',
  'o3-table-x2': 'opt-level 3 + `wasm-base-table` + `wasm-x25519x2` with Wasm SIMD (the fast builds\' settings without `wasm-chacha20x4`, but on nightly like every variant but `s-stable`)',
  's-table': 'opt-level "s" + `wasm-base-table`',
  's-x2': 'opt-level "s" + `wasm-x25519x2` without SIMD (the two lanes as plain integers)',
  's-x2-simd': 'opt-level "s" + `wasm-x25519x2` with Wasm SIMD',
  z: 'opt-level "z"',
  'o3-bits64': 'opt-level 3, serial backend with curve25519_dalek_bits="64"',
  's-nofeat': 'opt-level "s" without `wasm-min` (std: built by stable, compare with `s-stable`)',
};
const sizeName = (n) => (n === 16368 ? '16 KiB' : n === 1024 ? '1 KiB' : `${n} B`);
const stat = (xs) => { const m = median(xs); return { med: m, spread: (Math.max(...xs) - Math.min(...xs)) / m, n: xs.length }; };

const L = [];
const p = (...a) => L.push(...a);
const started = txt('started.txt') || 'n/a';

// ---------------------------------------------------------------- data
const check = R('check.json');
const nodeTp = R('node-throughput.json');
const br = R('browser.json');
const nodeCold = R('node-cold.json');
const sizes = R('sizes.json');
const variants = R('variants.json');
const anatomy = R('anatomy.json');
const envs = [];
if (nodeTp) envs.push({ key: 'node', name: `Node ${nodeTp.node}`, peers: nodeTp.peers, cfg: nodeTp.cfg });
for (const [b, d] of Object.entries(br?.browsers || {})) envs.push({ key: b, name: `${b === 'chromium' ? 'Chromium' : 'Firefox'} (${d.version}, headless)`, peers: d.peers, cfg: br.cfg });

function tp(env, id, size, op) {
  const r = env?.peers?.[id]?.results?.find((x) => x.size === size && x.op === op);
  return r ? stat(r.samples) : null;
}
const envBy = (k) => envs.find((e) => e.key === k);

// criterion
function criterion() {
  const dir = join(BENCH, '.build', 'target-native', 'criterion');
  const out = {};
  for (const op of ['seal', 'open']) for (const n of SIZES) {
    const f = join(dir, op, String(n), 'new', 'estimates.json');
    if (!existsSync(f)) continue;
    const e = JSON.parse(readFileSync(f, 'utf8'));
    out[`${op}/${n}`] = { median: e.median.point_estimate, lo: e.median.confidence_interval.lower_bound, hi: e.median.confidence_interval.upper_bound };
  }
  return Object.keys(out).length ? out : null;
}
const crit = criterion();

// ---------------------------------------------------------------- header
p('# sealpass benchmarks', '',
  `Generated by \`./build.sh bench\` (bench/run.sh → bench/report.mjs) on ${started}. Every figure is from that one run on one machine; do not edit by hand.`, '');
// src/, crates/open, crates/wasm, Cargo.toml, Cargo.lock and scripts/wasm-env.sh at the start and the end of the run (run.sh).
const srcBefore = txt('src-before.txt')?.split(' '), srcAfter = txt('src-after.txt')?.split(' ');
const srcName = (st) => (st[0].endsWith('+uncommitted') ? `commit ${st[0].replace('+uncommitted', '')} with uncommitted changes` : `commit ${st[0]}`);
if (srcBefore) p(`Built from ${srcName(srcBefore)} (src/, crates/open, crates/wasm, Cargo.toml, Cargo.lock, scripts/wasm-env.sh).`, '');
if (srcBefore && srcAfter && srcBefore[1] !== srcAfter[1]) {
  p(`**Warning: the sources changed during this run** (${srcName(srcBefore)} at the start, ${srcName(srcAfter)} at the end): the main builds were made at the start, the build variants near the end, so figures from the two may come from different code. Run again on a quiet tree.`, '');
}

// ---------------------------------------------------------------- goals
// Issue #18. The builds: in Node the fast build is 'sealpass' (node-open) and
// the small one 'sealpass-small' (web-open loaded with initSync); in the
// browsers the small build is 'sealpass' (web-open) and the fast one
// 'sealpass-fast' (web-fast).
const fastId = (k) => (k === 'node' ? 'sealpass' : 'sealpass-fast');
const smallId = (k) => (k === 'node' ? 'sealpass-small' : 'sealpass');
const envShort = (e) => e.name.split(' (')[0].replace(/^Node v.*/, 'Node');
const goals = [];
const why = []; // measured reasons for the goals not met
const goal = (group, text, measured, met, reason) => { goals.push({ group, goal: text, measured, met }); if (!met && reason) why.push(`- **${text}** — ${reason}`); };
const sizeOf = (id) => sizes?.peers?.[id]?.total ?? null;
// What the accept page loads (the list tests/e2e/budget.sh sums); releases.json
// and the admin console (admin/, added by ./build.sh serve) are served beside it.
const PAGE_FILES = ['index.html', 'app.js', 'app.css', 'sealpass_bg.wasm', 'favicon.svg'];
const isPageFile = (f) => PAGE_FILES.includes(f.file);
const pageLoaded = sizes?.wwwDist ? sizes.wwwDist.files.filter(isPageFile) : null;
const pageGz = pageLoaded ? pageLoaded.reduce((a, f) => a + f.gzip, 0) : null;
const usOf = (s) => (s ? 1e6 / s.med : null);
// twiggy groups of the shipped small build (size profile); filled by sizeProfile().
const prof = sizeProfile();
// 1. small build
{
  const sp = sizeOf('sealpass'), nb = sizeOf('noble');
  if (sp) {
    const room = 16000 - sizes.peers.sealpass.js.gzip;
    const over = prof ? prof.groups.filter((g) => g.key !== 'glue').sort((a, b) => b.gz - a.gz).slice(0, 4).map((g) => `${g.label} ≈${fmt(g.gz)} B`).join(', ') : null;
    goal('small build', 'small build: wasm + glue ≤ 16,000 B gzip', `${fmt(sp.gzip)} B (wasm ${fmt(sizes.peers.sealpass.wasm.gzip)} + glue ${fmt(sizes.peers.sealpass.js.gzip)})`, sp.gzip <= 16000,
      `${fmt(sp.gzip - 16000)} B gzip over; the glue's ${fmt(sizes.peers.sealpass.js.gzip)} B leaves ${fmt(room)} B for the wasm, which is ${fmt(sizes.peers.sealpass.wasm.gzip)} B` + (over ? `. Largest groups of the size profile (estimated gzip share): ${over}` + (prof.crypto > room ? `; the cryptography alone (X25519, ChaCha20-Poly1305, SHA-256/HMAC/HKDF) is ≈${fmt(prof.crypto)} B, more than the whole room` : `; the cryptography (X25519, ChaCha20-Poly1305, SHA-256/HMAC/HKDF) is ≈${fmt(prof.crypto)} B, so the other groups (≈${fmt(prof.rest)} B) must shrink to ≈${fmt(room - prof.crypto)} B`) + '.' : ' (no twiggy profile in this run).'));
    if (nb) goal('small build', 'small build smaller than @noble\'s seal-only bundle (gzip)', `${fmt(sp.gzip)} vs ${fmt(nb.gzip)} B → ${fmt(sp.gzip / nb.gzip, 2)}×`, sp.gzip < nb.gzip,
      `${fmt(sp.gzip - nb.gzip)} B gzip larger than @noble's bundle (see the size profile for where the bytes are).`);
  }
  for (const e of envs) for (const op of ['seal', 'open']) {
    const me = tp(e, smallId(e.key), 1024, op), nbT = tp(e, 'noble', 1024, op);
    if (!me || !nbT) continue;
    const r = me.med / nbT.med;
    goal('small build', `small build faster than @noble, ${op} 1 KiB, ${envShort(e)}`, `${fmt(me.med)} vs ${fmt(nbT.med)} ops/s → ${fmt(r, 2)}×`, r > 1,
      `${fmt(usOf(me), 1)} µs against @noble's ${fmt(usOf(nbT), 1)} µs per ${op}.` + (e.key === 'node' && an('spOpen1') ? ` In Node the fast build's Opener.open of 1 B is ${fmt(an('spOpen1'), 1)} µs (anatomy), nearly all X25519; the small build is opt-level "s" without the fixed-base table, so its seal does two Montgomery ladders.` : ''));
  }
  if (pageGz != null) {
    const big = [...pageLoaded].sort((a, b) => b.gzip - a.gzip).slice(0, 3).map((f) => `${f.file} ${fmt(f.gzip)} B`).join(', ');
    goal('small build', 'accept page total transfer ≤ 20 KB gzip (20,480 B)', `${fmt(pageGz)} B gzip (the ${pageLoaded.length} files the page loads)`, pageGz <= 20480, `${fmt(pageGz - 20480)} B over; largest files: ${big}.`);
  } else goals.push({ group: 'small build', goal: 'accept page total transfer ≤ 20 KB gzip (20,480 B)', measured: 'not measured: target/www-dist was not built before this run', met: null });
}
// 2. fast build vs libsodium, and 3. open 16 KiB
for (const e of envs) for (const op of ['seal', 'open']) {
  const rs = SIZES.map((n) => { const me = tp(e, fastId(e.key), n, op), so = tp(e, 'sodium', n, op); return me && so ? { n, r: me.med / so.med, me, so } : null; }).filter(Boolean);
  if (!rs.length) continue;
  const lo = rs.reduce((a, b) => (b.r < a.r ? b : a));
  goal('fast build', `fast build ≥ libsodium-wrappers-sumo, ${op} at 64 B / 1 KiB / 16 KiB, ${envShort(e)}`, `lowest ${fmt(lo.r, 2)}× at ${sizeName(lo.n)} (${rs.map((x) => `${sizeName(x.n)} ${fmt(x.r, 2)}×`).join(', ')})`, lo.r >= 1,
    `at ${sizeName(lo.n)} ${fmt(usOf(lo.me), 1)} µs against libsodium's ${fmt(usOf(lo.so), 1)} µs.` + dataPathWhy(e, op));
}
{
  const f = sizeOf('sealpass-fast'), so = sizeOf('sodium');
  if (f && so) goal('fast build', 'fast build size (seal-only wasm + glue, gzip) a fraction (< 1.0×) of libsodium\'s bundle', `${fmt(f.gzip)} vs ${fmt(so.gzip)} B → ${fmt(f.gzip / so.gzip, 2)}×`, f.gzip < so.gzip, `${fmt(f.gzip)} B gzip.`);
}
for (const e of envs) {
  // Goal 3 asks for bytes in where the caller has bytes: sealpass opens the
  // envelope's JSON bytes (openb), libsodium its object; the object row is shown too.
  const mb = tp(e, fastId(e.key), 16368, 'openb'), mo = tp(e, fastId(e.key), 16368, 'open'), so = tp(e, 'sodium', 16368, 'open');
  const me = mb || mo;
  if (!me || !so) continue;
  const r = me.med / so.med;
  const obj = mb && mo ? `; with the envelope object ${fmt(mo.med)} ops/s → ${fmt(mo.med / so.med, 2)}×` : '';
  goal('open 16 KiB', `open 16 KiB ≥ 1.0× libsodium (fast build, ${mb ? 'JSON bytes in' : 'envelope object in'}), ${envShort(e)}`, `${fmt(me.med)} vs ${fmt(so.med)} ops/s → ${fmt(r, 2)}×${obj}`, r >= 1, `${fmt(usOf(me), 1)} µs against ${fmt(usOf(so), 1)} µs.` + dataPathWhy(e, 'open'));
}
// 4. v2 within 1.4× of v1
for (const e of envs) for (const [build, id] of [['fast', fastId(e.key)], ['small', smallId(e.key)]]) {
  if (build === 'small' && e.key === 'node' && !e.peers?.[id]) continue;
  for (const op of ['seal', 'open']) {
    const rs = SIZES.map((n) => { const a = tp(e, id, n, op), b = tp(e, id, n, `${op}2`); return a && b ? { n, r: a.med / b.med, a, b } : null; }).filter(Boolean);
    if (!rs.length) continue;
    const hi = rs.reduce((x, y) => (y.r > x.r ? y : x));
    const dh = e.key === 'node' && an('sodiumVar') ? ` (libsodium's crypto_scalarmult alone: ${fmt(an('sodiumVar'), 1)} µs in the anatomy table)` : '';
    goal('v2', `v2 ${op} time ≤ 1.4× v1, ${build} build, ${envShort(e)}`, `highest ${fmt(hi.r, 2)}× at ${sizeName(hi.n)} (${rs.map((x) => `${sizeName(x.n)} ${fmt(x.r, 2)}×`).join(', ')})`, hi.r <= 1.4,
      `at ${sizeName(hi.n)} v2 takes ${fmt(usOf(hi.b), 1)} µs against v1's ${fmt(usOf(hi.a), 1)} µs: the extra ${fmt(usOf(hi.b) - usOf(hi.a), 1)} µs is ${build === 'fast' ? 'what the two-lane SIMD ladder (`wasm-x25519x2`: both X25519s at once, 9 two-lane field operations per ladder step) costs beyond v1\'s one X25519 (one ladder over both lanes, 5 per step)' : 'the second variable-base X25519 (this build has no SIMD: two curve25519-dalek ladders)'} (and the longer salt/info)${dh}` + (() => { const a = tp(e, 'sodium', hi.n, op), b = tp(e, 'sodium', hi.n, `${op}2`); return a && b ? `; libsodium's own v2 ${op} takes ${fmt(a.med / b.med, 2)}× its v1 time at ${sizeName(hi.n)} in this run.` : '.'; })());
  }
}
// 5. cold start: sealpass against every same-construction peer and the hpke / box_seal refs.
const COLD_CMP = ['sodium', 'noble', 'hpke', 'boxseal'];
const coldMed = (samples) => { const ok = (samples || []).filter((s) => !s.error); return ok.length ? { t: median(ok.map((s) => s.t)), wall: median(ok.map((s) => s.wall)), n: ok.length, of: samples.length, ok } : null; };
if (nodeCold) {
  const part = (id) => { const c = coldMed(nodeCold.samples[id]); return c ? median(c.ok.map((x) => x.import + x.init + x.seal)) : null; };
  const parts = (id) => { const c = coldMed(nodeCold.samples[id]); return c ? { import: median(c.ok.map((x) => x.import)), init: median(c.ok.map((x) => x.init)), seal: median(c.ok.map((x) => x.seal)) } : null; };
  coldGoal('Node', part('sealpass'), (id) => part(id), part('webcrypto'), part('sealpass-small'), parts);
}
for (const [b, d] of Object.entries(br?.browsers || {})) {
  if (!d.cold) continue;
  const t = (id) => coldMed(d.cold[id])?.t ?? null;
  const parts = (id) => { const c = coldMed(d.cold[id]); if (!c) return null; const init = median(c.ok.map((x) => x.init)), seal = median(c.ok.map((x) => x.seal)); return { 'page + bundle load': c.t - init - seal, init, seal }; };
  coldGoal(b === 'chromium' ? 'Chromium' : 'Firefox', t('sealpass'), t, t('webcrypto'), null, parts);
}
function coldGoal(name, me, tOf, wc, small, parts) {
  if (me == null) return;
  const others = COLD_CMP.map((id) => [id, tOf(id)]).filter(([, v]) => v != null);
  if (!others.length) return;
  const [bid, bt] = others.reduce((a, b) => (b[1] < a[1] ? b : a));
  goal('cold start', `cold start to first seal fastest of all peers, ${name} (vs libsodium, @noble, hpke-js, crypto_box_seal)`, `sealpass ${fmt(me, 1)} ms vs fastest peer ${bid} ${fmt(bt, 1)} ms` + (small != null ? `; small build in Node ${fmt(small, 1)} ms` : '') + (wc != null ? `; WebCrypto (ref., not compared) ${fmt(wc, 1)} ms` : ''), me <= bt,
    `${fmt(me - bt, 1)} ms slower than ${bid}` + (() => {
      const a = parts('sealpass'), b = parts(bid);
      return a && b ? ` (medians, sealpass vs ${bid}: ${Object.keys(a).map((k) => `${k} ${fmt(a[k], 1)} vs ${fmt(b[k], 1)} ms`).join(', ')}; the cold-start tables have every peer).` : ' (cold-start tables).';
    })());
}
p('## Goals (issue #18)', '', 'Small build = the seal-only browser build (`web`, scripts/wasm-env.sh "size"; timed with `web-open`, also in Node via initSync); fast build = the "speed" kind (`node-open` in Node, `web-fast` / `web-fast-seal` in the browsers). Ratios are sealpass ÷ peer in ops/s (v2 rows: v1 ops/s ÷ v2 ops/s = v2 time ÷ v1 time). Cold start compares sealpass with libsodium-wrappers-sumo, @noble, hpke-js and crypto_box_seal; WebCrypto (and node:crypto in Node) are reference points, shown but not compared.', '',
  '| group | goal | measured in this run | met? |', '|---|---|---|---|');
for (const g of goals) p(`| ${g.group} | ${g.goal} | ${g.measured} | ${g.met == null ? 'not measured' : g.met ? '**yes**' : '**no**'} |`);
p('');
if (why.length) p('### Why the goals not met are not met (measured)', '', ...why, '');

/** Per-byte data-path cost (64 B → 16 KiB) of the fast build and libsodium, from the throughput rows. */
function dataPathWhy(e, op) {
  const a64 = tp(e, fastId(e.key), 64, op), a16 = tp(e, fastId(e.key), 16368, op), s64 = tp(e, 'sodium', 64, op), s16 = tp(e, 'sodium', 16368, op);
  if (!a64 || !a16 || !s64 || !s16) return '';
  const per = (x, y) => (usOf(y) - usOf(x)) * 1000 / (16368 - 64);
  const fixedMe = usOf(a64), fixedSo = usOf(s64);
  return ` Split from the throughput rows: fixed part (the 64 B ${op}) ${fmt(fixedMe, 1)} µs vs libsodium's ${fmt(fixedSo, 1)} µs; per-byte part (64 B → 16 KiB) ${fmt(per(a64, a16), 2)} ns/B vs ${fmt(per(s64, s16), 2)} ns/B` +
    (e.key === 'node' && an('spOpen1') && an('sodiumVar') ? `; anatomy: sealpass Opener.open of 1 B ${fmt(an('spOpen1'), 1)} µs, libsodium's crypto_scalarmult alone ${fmt(an('sodiumVar'), 1)} µs.` : '.');
}

/** Size profile of the shipped small build: twiggy groups of the name-keeping copy. */
function sizeProfile() {
  const rows = twiggyRows();
  if (!rows || !sizes?.peers?.sealpass) return null;
  const G = [
    ['x25519', 'field arithmetic / X25519 (curve25519_dalek, fiat_crypto)', /curve25519_dalek|x25519_dalek|fiat_crypto|fiat_25519|suite::dh/],
    ['aead', 'ChaCha20-Poly1305 (chacha20, poly1305, cipher, aead)', /chacha20|poly1305|cipher::|aead::|universal_hash/i],
    ['sha', 'SHA-256 / HMAC / HKDF', /sha2::|hmac::|hkdf|digest::|sha256|block_buffer/i],
    ['context', 'context validation (sealpass::context, context_from_js, read::)', /sealpass::context|context_from_js|read::/],
    ['envelope', 'envelope serialization + base64 (sealpass::envelope, b64, json)', /sealpass::envelope|b64|base64|json/i],
    ['error', 'error tables (sealpass::error)', /sealpass::error|sealpass_wasm::error/],
    ['fmt', '`core::fmt`', /core(\[[0-9a-f]+\])?::fmt|count_chars|panic_fmt/],
    ['shims', 'wasm-bindgen shims and bindings (sealpass code inlined into a shim counts here)', /shim|wasm_bindgen|js_sys|__wbg|__wbindgen|__externref|sealpass_wasm::bindings/],
    ['alloc', 'allocator', /lol_alloc|dlmalloc|alloc::alloc|__rust_alloc|__rust_dealloc|__rust_realloc|alloc::raw_vec/],
    ['data', 'data segments', /^data segment|^data\[/],
  ];
  const total = rows.reduce((a, r) => a + r.bytes, 0);
  const wgz = sizes.peers.sealpass.wasm.gzip;
  const by = Object.fromEntries([...G.map(([k]) => [k, 0]), ['other', 0]]);
  for (const r of rows) { const g = G.find(([, , re]) => re.test(r.name)); by[g ? g[0] : 'other'] += r.bytes; }
  const groups = [...G.map(([k, label]) => ({ key: k, label, raw: by[k] })), { key: 'other', label: 'other', raw: by.other }]
    .map((g) => ({ ...g, gz: (g.raw * wgz) / total }));
  groups.push({ key: 'glue', label: 'JS glue (minified, gzip measured)', raw: sizes.peers.sealpass.js.raw, gz: sizes.peers.sealpass.js.gzip, measured: true });
  const crypto = groups.filter((g) => ['x25519', 'aead', 'sha'].includes(g.key)).reduce((a, g) => a + g.gz, 0);
  const rest = groups.filter((g) => !['x25519', 'aead', 'sha', 'glue'].includes(g.key)).reduce((a, g) => a + g.gz, 0);
  return { groups, total, wgz, crypto, rest };
}

// ---------------------------------------------------------------- correctness
p('## Correctness gate (run before any timing)', '');
if (check) {
  p(`Pinned vectors: ${check.vectors} from \`tests/vectors/envelope_v1.json\`. Every same-construction peer must reproduce each envelope byte for byte from the vector's fixed esk/nonce and open it; at every benchmark size sealpass must open the peer's envelope, the peer must open sealpass's, and sealpass must refuse the peer's envelope under a changed context (8006). sealpass opens every vector both with the \`Opener\` the timings use (whose derived \`publicKey\` must equal the vector's npk) and with the one-shot \`open(secretKey, …)\`. v2 (PROTOCOL.md §15)${check.vectorsV2 ? `, ${check.vectorsV2} vectors from \`tests/vectors/envelope_v2.json\`` : ''}: both sealpass builds in Node (fast \`node-open\`, small \`web-open\`) open every v2 vector with the v2 \`Opener\` and each other's v2 seals, and refuse them without the identity key; every same-construction peer with v2 reproduces each v2 envelope byte for byte, opens it, cross-opens with sealpass at every size, and sealpass refuses its v2 envelope under a changed context. The small build in Node must round-trip at every size. Reference points must round-trip. Result: **${check.ok ? 'all passed' : 'FAILURES'}**.`, '',
    '| peer | checks passed | failed |', '|---|---:|---|');
  for (const [id, r] of Object.entries(check.peers)) p(`| ${LABEL[id] || id} | ${r.passed} | ${r.failed.length ? r.failed.join('; ') : '0'} |`);
  p('');
}

// ---------------------------------------------------------------- throughput
p('## Throughput (ops/s, higher is better)', '',
  `Each cell: median of ${envs[0]?.cfg?.samples ?? '?'} samples of ≥ ${envs[0]?.cfg?.sampleMs ?? '?'} ms (after a ${envs[0]?.cfg?.warmupMs ?? '?'} ms warm-up), ± half the spread (max − min) as a percentage of the median, and the ratio to the fastest row of that column. *seal* = fresh ephemeral key and nonce, one fixed-base X25519 (epk = X25519(esk, 9)) and one variable-base X25519 (the shared secret), HKDF, AEAD, base64url envelope object; *open* = envelope object in, one variable-base X25519, HKDF, AEAD, plaintext out. The node key pair is fixed for the run and every peer's open is handed npk, as a node keeps its public key; sealpass holds the secret key in an \`Opener\` (public key derived once, one per key) and times \`Opener.open\`. Two sealpass builds: the **fast build** (scripts/wasm-env.sh "speed": opt-level 3, \`wasm-base-table\`, epk from curve25519-dalek's fixed-base table, \`wasm-x25519x2\` with Wasm SIMD, the two X25519s of a v2 envelope as one two-lane ladder, the one variable-base X25519 of a v1 envelope as one ladder over both lanes, and \`wasm-chacha20x4\`, XChaCha20 four blocks at a time in SIMD) — \`node-open\` in Node, \`web-fast\` in the browsers — and the **small build** ("size": opt-level "s", no table, epk by a second Montgomery ladder) — \`web-open\` in the browsers and, loaded from bytes with \`initSync\`, in Node. Both with \`open\`. 16 KiB = 16,368 B of plaintext (16 KiB of ciphertext, the protocol maximum).`, '');
for (const e of envs) {
  for (const op of ['seal', 'open']) {
    p(`### ${op} — ${e.name}`, '', `| peer | ${SIZES.map(sizeName).join(' | ')} |`, `|---|${SIZES.map(() => '---:').join('|')}|`);
    const ids = (e.key === 'node' ? NODE_IDS : BROWSER_IDS).filter((i) => e.peers?.[i]);
    const best = Object.fromEntries(SIZES.map((n) => [n, Math.max(...ids.map((id) => tp(e, id, n, op)?.med || 0))]));
    for (const id of ids) {
      if (e.peers?.[id]?.error) { p(`| ${label(id, e.key)} | error: ${e.peers[id].error.slice(0, 80)} ||| `); continue; }
      const cells = SIZES.map((n) => { const s = tp(e, id, n, op); return s ? `${fmt(s.med)} ±${fmt(s.spread * 50, 0)}% (${fmt(s.med / best[n], 2)}×)` : 'n/a'; });
      p(`| ${label(id, e.key)} | ${cells.join(' | ')} |`);
    }
    p('');
    // v2 (identity-bound) next to v1, for every row that has v2 cells.
    const v2ids = ids.filter((id) => tp(e, id, 1024, `${op}2`));
    if (v2ids.length) {
      p(`#### ${op} v2 (identity-bound, PROTOCOL.md §15) — ${e.name}`, '', `v2 ${op} = ${op === 'seal' ? '`seal(pk, pt, ctx, {identity})`' : '`Opener(sk, {identityKey}).open`'}; each cell: ops/s ± half the spread, and the v2 time as a multiple of the same row's v1 time (goal ≤ 1.4×). Peers without v2 are absent.`, '',
        `| peer | ${SIZES.map(sizeName).join(' | ')} |`, `|---|${SIZES.map(() => '---:').join('|')}|`);
      for (const id of v2ids) {
        const cells = SIZES.map((n) => { const a = tp(e, id, n, op), b = tp(e, id, n, `${op}2`); return a && b ? `${fmt(b.med)} ±${fmt(b.spread * 50, 0)}% (${fmt(a.med / b.med, 2)}× v1 time)` : 'n/a'; });
        p(`| ${label(id, e.key)} v2 | ${cells.join(' | ')} |`);
      }
      p('');
    }
    // open with the envelope as its JSON bytes (sealpass rows only).
    const bids = op === 'open' ? ids.filter((id) => tp(e, id, 1024, 'openb')) : [];
    if (bids.length) {
      p(`#### open, envelope as its JSON bytes — ${e.name}`, '', '`Opener.open(Uint8Array)`: the envelope\'s JSON bytes as a node receives them (no `JSON.stringify`, no string to encode); each cell: ops/s ± half the spread, and the ratio to libsodium\'s open of the envelope object above.', '',
        `| peer | ${SIZES.map(sizeName).join(' | ')} |`, `|---|${SIZES.map(() => '---:').join('|')}|`);
      for (const id of bids) {
        const cells = SIZES.map((n) => { const b = tp(e, id, n, 'openb'), so = tp(e, 'sodium', n, 'open'); return b ? `${fmt(b.med)} ±${fmt(b.spread * 50, 0)}%` + (so ? ` (${fmt(b.med / so.med, 2)}× libsodium)` : '') : 'n/a'; });
        p(`| ${label(id, e.key)}, JSON bytes in | ${cells.join(' | ')} |`);
      }
      p('');
    }
  }
}
if (crit) {
  p('### Native ceiling (criterion, same Rust code compiled for the host)', '', '| op | ' + SIZES.map(sizeName).join(' | ') + ' |', '|---|' + SIZES.map(() => '---:').join('|') + '|');
  for (const op of ['seal', 'open']) {
    p(`| ${op} | ${SIZES.map((n) => { const c = crit[`${op}/${n}`]; return c ? `${fmt(1e9 / c.median)} ops/s (${fmt(c.median / 1000, 1)} µs)` : 'n/a'; }).join(' | ')} |`);
  }
  let critSrc = '';
  try { critSrc = readFileSync(join(ROOT, 'benches', 'envelope.rs'), 'utf8'); } catch { /* absent */ }
  p('', /Opener/.test(critSrc)
    ? 'The native open row opens with an `Opener`, like the wasm rows.'
    : 'The native open row is benches/envelope.rs\'s one-shot `open(&sk, …)`, which derives npk on every call (natively with the static base-point table); the wasm rows use `Opener.open`.');
  const n1 = envBy('node') && tp(envBy('node'), 'sealpass', 1024, 'seal');
  if (n1 && crit['seal/1024']) p('', `sealpass in Node (wasm) reaches ${fmt(100 * n1.med / (1e9 / crit['seal/1024'].median), 0)}% of the native seal rate at 1 KiB. Native x86-64 uses curve25519-dalek's 64-bit field arithmetic (128-bit products) and its static base-point table; the Node wasm build uses the fiat field backend with 32-bit limbs and a fixed-base table (feature \`wasm-base-table\`; see the build variants).`);
  p('');
}

// ---------------------------------------------------------------- cold start
p('## Cold start (ms, lower is better)', '');
if (nodeCold) {
  p(`### Node — a fresh \`node\` process per sample, median of ${nodeCold.runs}`, '',
    'peer part = import + init + first seal, timed inside the process; process = performance.now() at the end (ms since the process time origin, Node\'s own start-up included; an empty process for comparison).', '',
    '| peer | peer part (ms) | import | init | first seal | process (ms) | ratio to fastest (peer part) |', '|---|---:|---:|---:|---:|---:|---:|');
  const em = coldMed(nodeCold.samples.empty);
  const rows = NODE_IDS.map((id) => [id, coldMed(nodeCold.samples[id])]).filter(([, c]) => c)
    .map(([id, c]) => [id, c, median(c.ok.map((x) => x.import + x.init + x.seal))]);
  const best = Math.min(...rows.map((r) => r[2]));
  p(`| (empty process) | – | – | – | – | ${fmt(em?.t, 1)} | – |`);
  for (const [id, c, part] of rows) {
    const m = (k) => fmt(median(c.ok.map((x) => x[k])), 1);
    p(`| ${label(id, 'node')} | ${fmt(part, 1)} | ${m('import')} | ${m('init')} | ${m('seal')} | ${fmt(c.t, 1)} | ${fmt(part / best, 2)}× |`);
  }
  p('');
}
for (const [b, d] of Object.entries(br?.browsers || {})) {
  if (!d.cold) continue;
  p(`### ${b === 'chromium' ? 'Chromium' : 'Firefox'} — a fresh browser context and page per sample, median of ${br.coldRuns}`, '',
    'in-page = performance.now() when the first seal returned (from navigation start: page load, bundle and wasm fetch, compile, init, seal), seal-only bundles served from 127.0.0.1; wall = from creating the context to that moment, as seen by the driver.', '',
    '| peer | in-page (ms) | − empty page | init | first seal | wall (ms) | ratio to fastest (in-page) |', '|---|---:|---:|---:|---:|---:|---:|');
  const em = coldMed(d.cold.empty);
  const rows = [...PEER_IDS, 'sealpass-preload'].map((id) => [id, coldMed(d.cold[id])]).filter(([, c]) => c);
  const bestT = Math.min(...rows.map(([, c]) => c.t));
  p(`| (empty page) | ${fmt(em?.t, 1)} | – | – | – | ${fmt(em?.wall, 1)} | – |`);
  for (const [id, c] of rows) {
    const m = (k) => fmt(median(c.ok.map((s) => s[k])), 1);
    p(`| ${label(id, b)} | ${fmt(c.t, 1)} | ${fmt(c.t - (em?.t || 0), 1)} | ${m('init')} | ${m('seal')} | ${fmt(c.wall, 1)} | ${fmt(c.t / bestT, 2)}× |`);
  }
  p('');
}

// ---------------------------------------------------------------- size
if (sizes) {
  p('## Size of a seal-only browser bundle (bytes, lower is better)', '',
    'esbuild --bundle --minify, ESM, each peer importing only what seal needs (its bundle includes the same ~1 KB canon/base64url helper as every JS peer). sealpass = its wasm-bindgen glue bundled the same way plus `sealpass_bg.wasm` from the seal-only `--target web` build made as the shipped one (see Method). gzip = `gzip -9 -n`, brotli = quality 11; sealpass\'s two files are compressed separately and added. libsodium embeds its wasm as base64 in the JS.', '',
    '| peer | raw | gzip -9 | brotli | ratio to smallest (gzip) |', '|---|---:|---:|---:|---:|');
  const rows = BROWSER_IDS.map((id) => [id, sizes.peers[id]]).filter(([, s]) => s);
  const small = Math.min(...rows.map(([, s]) => s.total.gzip));
  const smallSame = Math.min(...rows.filter(([id]) => SAME.includes(id)).map(([, s]) => s.total.gzip));
  for (const [id, s] of rows) p(`| ${label(id, 'size')} | ${fmt(s.total.raw)} | ${fmt(s.total.gzip)} | ${fmt(s.total.brotli)} | ${fmt(s.total.gzip / small, 2)}× |`);
  const sp = sizes.peers.sealpass;
  p('', `sealpass split: wasm ${fmt(sp.wasm.raw)} raw / ${fmt(sp.wasm.gzip)} gzip / ${fmt(sp.wasm.brotli)} brotli; glue (minified) ${fmt(sp.js.raw)} / ${fmt(sp.js.gzip)} / ${fmt(sp.js.brotli)} (unminified wasm-bindgen output: ${fmt(sp.glueUnminified.raw)} / ${fmt(sp.glueUnminified.gzip)} / ${fmt(sp.glueUnminified.brotli)}). Among same-construction peers the smallest is ${fmt(smallSame)} B gzip.`, '');
  const fs = sizes.peers['sealpass-fast'];
  if (fs) p(`Fast build (seal-only \`web-fast-seal\`, "speed" kind) split: wasm ${fmt(fs.wasm.raw)} raw / ${fmt(fs.wasm.gzip)} gzip / ${fmt(fs.wasm.brotli)} brotli; glue (minified) ${fmt(fs.js.raw)} / ${fmt(fs.js.gzip)} / ${fmt(fs.js.brotli)}.`, '');
  if (prof) {
    p('### Size profile of the small build (twiggy)', '',
      `twiggy top on the name-keeping copy of the shipped small build (bench/variants.sh, same features and opt-level as \`web\`, names kept): ${fmt(prof.total)} B of code and data without the name section. Each item is counted once, in the first group (top to bottom) its name matches; code inlined into a caller counts for the caller. gzip share = raw × (the shipped wasm's ${fmt(prof.wgz)} B gzip ÷ the copy's ${fmt(prof.total)} B), an estimate at the file's average compression; the glue row is measured.`, '',
      '| group | raw bytes | share | est. gzip bytes |', '|---|---:|---:|---:|');
    for (const g of prof.groups) p(`| ${g.label} | ${fmt(g.raw)} | ${g.measured ? '–' : `${fmt(100 * g.raw / prof.total, 1)}%`} | ${g.measured ? `${fmt(g.gz)} (measured)` : fmt(g.gz)} |`);
    const room = 16000 - sizes.peers.sealpass.js.gzip;
    p('', `Room for the wasm under the 16,000 B goal: ${fmt(room)} B gzip (16,000 − glue); the wasm is ${fmt(prof.wgz)} B. Groups by estimated gzip, largest first: ${prof.groups.filter((g) => g.key !== 'glue').sort((a, b) => b.gz - a.gz).map((g) => `${g.label.split(' (')[0]} ${fmt(g.gz)}`).join(', ')}.`, '');
  } else p('(No twiggy figures in this run — bench/variants.sh did not run or twiggy is missing — so there is no size profile table.)', '');
  if (sizes.wwwDist) {
    const w = sizes.wwwDist;
    p(`### Accept page (\`${w.dir}\`, built by \`./build.sh\`), total transfer`, '', '| file | raw | gzip -9 | brotli |', '|---|---:|---:|---:|');
    // releases.json is served beside the page but never loaded by it (only
    // `sealpass release verify` fetches it), so it is not page transfer.
    const loaded = w.files.filter(isPageFile);
    for (const f of loaded) p(`| ${f.file} | ${fmt(f.raw)} | ${fmt(f.gzip)} | ${fmt(f.brotli)} |`);
    const sum = (k) => loaded.reduce((a, f) => a + f[k], 0);
    p(`| **page total (HTML + JS + Wasm + CSS)** | **${fmt(sum('raw'))}** | **${fmt(sum('gzip'))}** | **${fmt(sum('brotli'))}** |`);
    for (const f of w.files.filter((f) => !isPageFile(f))) p(`| ${f.file} (not loaded by the page) | ${fmt(f.raw)} | ${fmt(f.gzip)} | ${fmt(f.brotli)} |`);
    p('', `Goal (issue #18): the page total at or under 20 KB gzip (20,480 B); this run: ${fmt(sum('gzip'))} B. Asserted budget (tests/e2e/budget.sh): 28,160 B.`, '');
  } else p('(The accept page, target/www-dist, was not built when this ran; no transfer size for it.)', '');
}

// ---------------------------------------------------------------- anatomy + variants
p('## What limits sealpass', '');
if (anatomy) {
  p('### Where a seal spends its time (Node, µs per call, median)', '', '| operation | µs |', '|---|---:|');
  for (const [k, v] of Object.entries(anatomy.us)) p(`| ${k} | ${fmt(v, 1)} |`);
  p('');
}
if (variants) {
  p('### Build variants (seal-only web builds; seal 1 KiB measured in Node, rounds interleaved)', '',
    'Each variant is the shipped browser build (scripts/wasm-env.sh "size": opt-level "s", curve25519-dalek\'s fiat field backend, feature `wasm-min`, wasm-opt flags from crates/wasm/Cargo.toml) with what its row names changed; `o3-table-x2` has the Node builds\' settings (without `open`, web target). v2 = `seal(…, { identity })`, two variable-base X25519s. Speed: median of all rounds (rounds interleaved across the variants, in several fresh Node processes), ± half the spread (max − min) as a percentage of the median; a difference within that spread is reported as about the same speed.', '',
    '| variant | build | wasm raw | wasm gzip | wasm brotli | seal 1 KiB ops/s | vs shipped browser build | v2 seal 1 KiB ops/s | v2 vs shipped |', '|---|---|---:|---:|---:|---:|---:|---:|---:|');
  const base = variants.s ? median(variants.s.seal1k) : null;
  const base2 = variants.s?.seal2_1k ? median(variants.s.seal2_1k) : null;
  for (const [k, v] of Object.entries(variants)) {
    const st = stat(v.seal1k), st2 = v.seal2_1k ? stat(v.seal2_1k) : null;
    p(`| \`${k}\` | ${VDESC[k] || k} | ${fmt(v.size.raw)} | ${fmt(v.size.gzip)} | ${fmt(v.size.brotli)} | ${fmt(st.med)} ±${fmt(st.spread * 50, 0)}% | ${base ? fmt(st.med / base, 2) + '×' : 'n/a'} | ${st2 ? `${fmt(st2.med)} ±${fmt(st2.spread * 50, 0)}%` : 'n/a'} | ${st2 && base2 ? fmt(st2.med / base2, 2) + '×' : 'n/a'} |`);
  }
  p('');
}
const tw = txt('twiggy.txt');
if (!tw && variants) p('(twiggy is not installed on this machine, so there is no size profile table: `cargo install twiggy`.)', '');
if (tw) p('### Largest items in the shipped seal-only browser wasm (twiggy top; a copy of variant `s` with names kept)', '', '```', ...tw.split('\n').slice(0, 22), '```', '');
p(...readAnalysis(), '');

// ---------------------------------------------------------------- serve
const serve = txt('serve.txt');
if (serve) {
  const figs = serve.split('\n').filter((l) => l.startsWith('serve: '));
  p('## `./build.sh serve`, second run (bench/serve/run.sh)', '', 'Goal (issue #15): the accept URL within 20 s of starting a second `./build.sh serve` (everything already built). Each run is stopped with SIGTERM once the URL is printed.', '', '```', ...(figs.length ? figs : serve.split('\n').slice(-20)), '```', '');
}

// ---------------------------------------------------------------- relay load
// bench/load/run.sh prints one `load:` line per configuration (store ×
// instances): figures, "not run: …" (SQLite × several, impossible by
// design) or "FAILED …". A row per configuration, the lines themselves below.
const load = txt('load.txt');
if (load) {
  const lines = load.split('\n');
  const figs = [...new Set(lines.map((l) => (l.match(/\bload: .*/) || [])[0]).filter(Boolean))];
  const FIG = /^load: store (\w+), (\d+) instances?(?: round-robin)?, (\d+) pendings, (\d+) workers \((\d+) clients\), (\d+) requests in ([\d.]+) s = (\d+) req\/s, ([\d.]+) pendings\/s; latency p50 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms; lost (\d+), duplicated (\d+) \(verified\)(?:; (.*))?$/;
  const OTHER = /^load: store (\w+), (\d+) instances?(?:\(s\))?: (.*)$/;
  const rows = new Map();
  const key = (store, inst) => `${store}×${inst}`;
  for (const [store, inst] of [['sqlite', 1], ['sqlite', 3], ['postgres', 1], ['postgres', 3]]) rows.set(key(store, inst), { store, inst, note: 'no figures in this run (see bench/.build/results/load.txt)' });
  let relay = null, shape = null;
  for (const l of figs) {
    let m = l.match(FIG);
    if (m) {
      const [, store, inst, n, workers, clients, reqs, wall, rps, pps, p50, p99, max, lost, dup, rel] = m;
      rows.set(key(store, inst), { store, inst: +inst, fig: { n: +n, workers: +workers, clients: +clients, reqs: +reqs, wall: +wall, rps: +rps, pps: +pps, p50: +p50, p99: +p99, max: +max, lost: +lost, dup: +dup } });
      relay = rel || relay;
      shape = shape || `${workers} workers, ${clients} clients`;
    } else if ((m = l.match(OTHER))) {
      const prev = rows.get(key(m[1], m[2]));
      const note = m[3].startsWith('FAILED') ? `${m[3]}: its output is in bench/.build/results/load.txt` : m[3];
      if (!prev?.fig) rows.set(key(m[1], m[2]), { store: m[1], inst: +m[2], note });
    }
  }
  p('## Relay load test (bench/load/run.sh, owned by the relay engineer)', '',
    'Each pending credential goes through the whole flow on loopback (admin creates it, the node posts a one-time key, the sealer reads it and seals, posts the envelope, the node pulls and acks `consumed`): 6 requests per pending, each a new HTTP/1.1 connection; several instances = relays on one PostgreSQL database, each request sent to the next instance in turn. ' +
    'Latency is per request as the client sees it (the read + seal step counts as one). "lost / duplicated" is what the test asserted before printing: every pending posted once and delivered exactly once, byte-identical, every target `consumed`, no envelope left stored. ' +
    `${shape ? `${shape}; ` : ''}${relay || 'relay build n/a'}; the test client is a debug build. 2 cores shared by the relay(s), PostgreSQL and the client: see bench/load/README.md.`, '',
    '| store | instances | pendings | wall s | requests/s | pendings/s | p50 ms | p99 ms | max ms | lost / duplicated |',
    '|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows.values()) {
    const f = r.fig;
    if (f) p(`| ${r.store} | ${r.inst} | ${fmt(f.n)} | ${fmt(f.wall, 2)} | ${fmt(f.rps)} | ${fmt(f.pps, 1)} | ${fmt(f.p50, 2)} | ${fmt(f.p99, 2)} | ${fmt(f.max, 2)} | ${f.lost} / ${f.dup} (verified) |`);
    else p(`| ${r.store} | ${r.inst} | ${r.note} | | | | | | | |`);
  }
  p('', 'The lines the test printed in this run:', '', '```', ...(figs.length ? figs : lines.slice(-30)), '```', '');
}

// ---------------------------------------------------------------- machine, versions, method
p('## Machine', '');
const cpu = os.cpus();
p(`- CPU: ${cpu[0]?.model || 'n/a'}, nproc ${sh('nproc')} (${cpu.length} logical CPUs visible)`,
  `- Memory: ${fmt(os.totalmem() / 2 ** 30, 1)} GiB; OS: ${os.type()} ${os.release()} (${sh('. /etc/os-release && echo $PRETTY_NAME')})`,
  `- Load before the run: \`${txt('load-before.txt') || 'n/a'}\``,
  `- Load after the run: \`${txt('load-after.txt') || 'n/a'}\``,
  '- The machine is shared (2 cores); other builds may have been running during the run: compare rows within one table, which were measured minutes apart under the same conditions, rather than absolute figures across runs.', '');
p('## Versions', '');
const pkg = (n) => { try { return JSON.parse(readFileSync(join(BENCH, 'node_modules', n, 'package.json'), 'utf8')).version; } catch { return 'n/a'; } };
p(`- sealpass ${sh(`grep -m1 '^version' ${ROOT}/Cargo.toml | cut -d'"' -f2`)}; ${sh('rustc --version')}; wasm-pack ${sh('wasm-pack --version').replace('wasm-pack ', '')}; ${sh('wasm-bindgen --version')}; ${sh('wasm-opt --version')}`,
  `- Node ${process.version}; ${envs.filter((e) => e.key !== 'node').map((e) => e.name).join('; ')}`,
  `- npm: ${['@noble/curves', '@noble/hashes', '@noble/ciphers', 'libsodium-wrappers-sumo', 'libsodium-sumo', '@hpke/core', '@hpke/dhkem-x25519', '@hpke/chacha20poly1305', 'esbuild', 'puppeteer-core'].map((n) => `${n} ${pkg(n)}`).join(', ')}`, '');
const builds = txt('builds.txt');
const variantsBuilds = variants ? txt('variants-builds.txt') : null;
p('## Method', '',
  '- One script (`./build.sh bench` → `bench/run.sh`) builds sealpass with wasm-pack into `bench/.build/` (its own cargo target dir) with the settings of the shipped builds from scripts/wasm-env.sh (shared with scripts/pack.sh and scripts/build-www.sh), `[profile.release]` and the wasm-opt flags in crates/wasm/Cargo.toml. Node rows use the fast Node build (`node-open`) and the small build (`web-open`, loaded with `initSync`); the size table uses the seal-only builds (`web` small, `web-fast-seal` fast); browser cold start uses `web`; browser throughput uses `web-open` (small) and `web-fast` (fast), the seal-only settings plus `open`. This run:',
  ...(builds ? builds.split('\n').map((l) => `  - \`${l}\``) : ['  - (no build log)']),
  '- Peers (bench/peers/): `noble.mjs` and `sodium.mjs` implement the exact sealpass v1 construction (PROTOCOL.md §4–§5: X25519, HKDF-SHA256 with salt = epk‖npk and the canonical info, XChaCha20-Poly1305 with the canonical AAD, base64url envelope) and v2 (§15: a second X25519 with the identity key, salt = epk‖npk‖nik, ikm = ss1‖ss2, v2 info/AAD; the node\'s nik derived once per identity key, as sealpass\'s `Opener` does); libsodium\'s HKDF is RFC 5869 built on crypto_auth_hmacsha256_init/update/final, and its esk/nonce come from crypto.getRandomValues (libsodium.js\'s own randombytes_buf is far slower per call: anatomy table), so it is the strongest libsodium baseline. Reference points do comparable but different work: WebCrypto (native X25519 + HKDF + AES-256-GCM, same info/AAD), hpke-js (RFC 9180 base mode, same info/AAD), crypto_box_seal (no AAD, context not bound).',
  '- Correctness gate (bench/check.mjs) runs first and fails the run on any mismatch.',
  '- Throughput (bench/core.mjs, the same loop in Node and in the pages): each peer in its own long-lived Node process or browser page (JITs and wasm instances do not interfere); after a warm-up of every size and op, the samples are taken round-robin — one sample of one size and op per peer in turn, the order rotated each time — so load that drifts during the run hits every peer alike; each sample re-warms for 50 ms, then counts calls for at least T ms; ops/s = iterations / elapsed wall time. Async APIs (WebCrypto, hpke-js) are awaited one call at a time.',
  '- Browsers: puppeteer-core driving the system Chromium and Firefox ESR, headless, pages served from a local static server on 127.0.0.1.',
  '- Cold start: fresh process / fresh browser context per sample, peers interleaved within each round so drifting load hits all alike.',
  '- Native: criterion (crates/open/benches/envelope.rs), `cargo bench -p sealpass-open --bench envelope`; median of criterion\'s estimate.',
  '- Profile: bench/variants.sh rebuilds the seal-only web build with the named settings changed (field backend through scripts/wasm-env.sh\'s `SEALPASS_WASM_BACKEND`, opt-level, features, cfg), in separate target dirs, and measures size and seal 1 KiB speed in Node (rounds interleaved across the variants, in several fresh processes); twiggy lists the largest items of a name-keeping copy of the shipped browser build. bench/anatomy.mjs times primitives and whole sealpass calls with the Node build (rows interleaved in each round).' +
    (variantsBuilds ? ' Variant builds of this run:' : ''),
  ...(variantsBuilds ? variantsBuilds.split('\n').map((l) => `  - \`${l}\``) : []),
  '- Ratios: throughput cells are relative to the fastest row of the same column; sizes to the smallest bundle; cold start to the fastest peer. Goals compare medians.', '');

writeFileSync(join(BENCH, 'RESULTS.md'), L.join('\n') + '\n');
console.log(`RESULTS.md written (${L.length} lines)`);

// ---------------------------------------------------------------- analysis
// "What limits sealpass": every claim below is computed from this run's
// figures, and where a sentence states a direction (faster, larger, over a
// budget) the wording follows the measured one. readAnalysis() runs above,
// before this point of the module, so everything here is a function
// declaration (hoisted), not a const.
function an(id) { return anatomy?.us?.[anatomy?.id?.[id]] ?? null; }
function x2(r) { return r == null ? 'n/a' : `${fmt(r, 2)}×`; }
/** a/b of two ops/s figures, in words; `than` names b ("… as fast as b"). */
function speedRel(r, than = '') {
  if (r == null) return 'n/a';
  if (Math.abs(r - 1) < 0.05) return `about the same speed${than ? ` as ${than}` : ''} (${x2(r)})`;
  return r > 1 ? `${x2(r)} as fast${than ? ` as ${than}` : ''}` : `${x2(r)} the speed${than ? ` of ${than}` : ''}`;
}
function gzipDelta(d) {
  if (d == null) return 'n/a';
  return d === 0 ? 'no change in gzip size' : d > 0 ? `${fmt(d)} B more gzip` : `${fmt(-d)} B less gzip`;
}
function vSeal(k, key = 'seal1k') { return variants?.[k]?.[key] ? median(variants[k][key]) : null; }
/** Variant a's v2 seal speed against b's in words (as vCmp, for the v2 samples). */
function vCmp2(a, b) {
  const x = vSeal(a, 'seal2_1k'), y = vSeal(b, 'seal2_1k');
  if (!x || !y) return 'n/a';
  const nz = Math.max(stat(variants[a].seal2_1k).spread, stat(variants[b].seal2_1k).spread) / 2;
  const r = x / y;
  if (Math.abs(r - 1) <= Math.max(0.05, nz)) return `about the same speed (${x2(r)}, within the ±${fmt(100 * Math.max(0.05, nz), 0)}% spread of the samples)`;
  return speedRel(r, '');
}
/** Half the larger spread (max − min, relative to the median) of two variants' seal samples. */
function vNoise(a, b) { return variants?.[a] && variants?.[b] ? Math.max(stat(variants[a].seal1k).spread, stat(variants[b].seal1k).spread) / 2 : null; }
/** Variant a's seal speed against b's in words; within the samples' spread it says so. */
function vCmp(a, b, than = '') {
  const r = vRel(a, b), nz = vNoise(a, b);
  if (r == null) return 'n/a';
  if (Math.abs(r - 1) <= Math.max(0.05, nz)) return `about the same speed${than ? ` as ${than}` : ''} (${x2(r)}, within the ±${fmt(100 * Math.max(0.05, nz), 0)}% spread of the samples)`;
  return speedRel(r, than);
}
/** Is a's seal clearly faster (beyond the spread) than b's? */
function vFaster(a, b) { const r = vRel(a, b), nz = vNoise(a, b); return r != null && r - 1 > Math.max(0.05, nz); }
function vSlower(a, b) { const r = vRel(a, b), nz = vNoise(a, b); return r != null && 1 - r > Math.max(0.05, nz); }
function vRel(a, b) { return vSeal(a) && vSeal(b) ? vSeal(a) / vSeal(b) : null; }
function vGz(a, b) { return variants?.[a] && variants?.[b] ? variants[a].size.gzip - variants[b].size.gzip : null; }
/** The accept page's gzip total with another wasm in place of its own (its other files from target/www-dist). */
function pageWith(wasmGzip) {
  const w = sizes?.wwwDist;
  if (!w || !w.files.some((f) => f.file.endsWith('.wasm'))) return null;
  return w.files.filter((f) => isPageFile(f) && !f.file.endsWith('.wasm')).reduce((a, f) => a + f.gzip, 0) + wasmGzip;
}

function readAnalysis() {
  return [...srcChanges(), '', ...speedText(), '', ...sizeText()];
}

function srcChanges() {
  const out = ['### What src/ does for speed now (measured in this run)', ''];
  const o1 = an('spOpen1'), od1 = an('spOpenDerive1'), fb = an('sodiumFixed');
  out.push('- **`Opener`** (builds with `open`): the node\'s secret key is held with its public key derived once, so an open is one X25519 (the variable-base one, with the envelope\'s epk) instead of two; the open rows above use `Opener.open`.' +
    (o1 && od1 ? ` Anatomy (Node build): \`Opener.open\` of a 1-byte envelope ${fmt(o1, 1)} µs, the one-shot \`open(secretKey, …)\`, which derives npk each time, ${fmt(od1, 1)} µs (${x2(od1 / o1)} the time).` : ''));
  if (variants) {
    let t = `- **\`wasm-base-table\`** (fast builds only: \`node-open\`, \`web-fast\`): X25519(k, 9) — epk in every seal, npk when an \`Opener\` is made — from curve25519-dalek's fixed-base Edwards table instead of a Montgomery ladder. Build variants: seal ${vCmp('o3-table', 'o3')} at opt-level 3 for ${gzipDelta(vGz('o3-table', 'o3'))} (\`o3-table\` vs \`o3\`), ${vCmp('s-table', 's')} at "s" for ${gzipDelta(vGz('s-table', 's'))} (\`s-table\` vs \`s\`).`;
    if (o1 && od1 && fb && od1 > o1) t += ` Anatomy: in the Node build the fixed-base step costs about ${fmt(od1 - o1, 1)} µs (one-shot open minus \`Opener.open\`); libsodium's table-based crypto_scalarmult_base ${fmt(fb, 1)} µs.`;
    const pg0 = variants.s ? pageWith(variants.s.size.gzip) : null, pg1 = variants['s-table'] ? pageWith(variants['s-table'].size.gzip) : null;
    if (pg0 != null && pg1 != null) {
      t += pg1 > 20480
        ? ` The small build leaves it out (the fast builds, \`node-open\` and \`web-fast\`, have it): with the \`s-table\` wasm the accept page (its other files in target/www-dist) would be ${fmt(pg1)} B gzip, over the ${fmt(20480)} B goal (${fmt(pg0)} B with the \`s\` wasm).`
        : ` The small build leaves it out, a size choice (the fast builds, \`node-open\` and \`web-fast\`, have it): with the \`s-table\` wasm the accept page (its other files in target/www-dist) would be ${fmt(pg1)} B gzip, within the ${fmt(20480)} B goal (${fmt(pg0)} B with the \`s\` wasm).`;
    } else t += ' The small build leaves it out (bundle size; the accept page was not built in this run, so its budget is not checked here).';
    out.push(t);
    if (variants['o3-table-x2'] && variants['o3-table']) {
      out.push(`- **\`wasm-x25519x2\`** (fast builds only, with Wasm SIMD): the two X25519s of a v2 envelope — esk with npk and with nik to seal, nsk and isk with epk to open — as one two-lane ladder (crates/x25519x2: ref10's arithmetic, a v128 lane per ladder, each limb product one \`i64x2.extmul\` for both) instead of two curve25519-dalek ladders, and the v1 seal's and open's one variable-base X25519 as one ladder over both lanes (its independent multiplications two at a time: 5 two-lane operations per step instead of 9 single ones). Build variants: v2 seal ${vCmp2('o3-table-x2', 'o3-table')} (\`o3-table-x2\` vs \`o3-table\`), v1 seal ${vCmp('o3-table-x2', 'o3-table')}, for ${gzipDelta(vGz('o3-table-x2', 'o3-table'))}.` +
        (variants['s-x2'] && variants['s-x2-simd'] ? ` The small build leaves it out: without SIMD (\`s-x2\` vs \`s\`) the pair gives v2 seal ${vCmp2('s-x2', 's')} for ${gzipDelta(vGz('s-x2', 's'))}; with SIMD (\`s-x2-simd\` vs \`s\`) ${vCmp2('s-x2-simd', 's')} for ${gzipDelta(vGz('s-x2-simd', 's'))}` + (() => { const pg = pageWith(variants['s-x2-simd'].size.gzip); return pg != null ? ` (the accept page would be ${fmt(pg)} B gzip)` : ''; })() + `, and a wasm with SIMD does not load in engines without Wasm SIMD (Safari before 16.4), which the accept page and the default browser entry must.` : ''));
    }
    if (variants['o3-fast'] && variants['o3-table-x2']) {
      out.push(`- **\`wasm-chacha20x4\`** (fast builds only, with Wasm SIMD): XChaCha20's keystream four blocks at a time (crates/chacha20x4: a v128 per state word of four blocks) instead of chacha20's scalar block function. Build variants: seal of 1 KiB ${vCmp('o3-fast', 'o3-table-x2')} (\`o3-fast\` vs \`o3-table-x2\`), for ${gzipDelta(vGz('o3-fast', 'o3-table-x2'))}; it shows most at 16 KiB (the per-byte figures of the goal rows).`);
    }
    out.push(`- **fiat-crypto field backend** in all shipped Wasm builds (\`--cfg curve25519_dalek_backend="fiat"\` from scripts/wasm-env.sh): against the portable 32-bit serial backend, seal ${vCmp('s', 's-serial')} at opt-level "s" for ${gzipDelta(vGz('s', 's-serial'))} (\`s\` vs \`s-serial\`) and ${vCmp('o3', 'o3-serial')} at opt-level 3 for ${gzipDelta(vGz('o3', 'o3-serial'))} (\`o3\` vs \`o3-serial\`).`);
  } else out.push('- `wasm-base-table` (Node builds) and the fiat field backend (all Wasm builds): the build-variant step did not run, so this run has no figures for them.');
  return out;
}

function speedText() {
  const out = ['### Speed', ''];
  const n = envBy('node'), c = envBy('chromium');
  const med = (e, id, size, op) => (e ? tp(e, id, size, op)?.med ?? null : null);
  const me = (op, size = 1024) => med(n, 'sealpass', size, op), so = (op) => med(n, 'sodium', 1024, op);
  const lad = an('sodiumVar'), fb = an('sodiumFixed'), o1 = an('spOpen1'), s1 = an('spSeal1'), val = an('spValidate'), ncDh = an('ncDh');

  let t = 'With the node\'s key held in an `Opener`, a seal does one fixed-base X25519 (epk) and one variable-base X25519 (the shared secret), an open one variable-base X25519; the peers do the same work (libsodium computes epk with crypto_scalarmult_base, its fixed-base table). The fast builds (Node `node-open`, browser `web-fast`) do the fixed-base multiplication with the fixed-base table (`wasm-base-table`), the small build with a second Montgomery ladder.';
  const m64 = me('seal', 64), m1k = me('seal'), m16 = me('seal', 16368);
  if (m64 && m1k && m16) t += (m1k / m64 >= 0.85 ? ' Up to 1 KiB the multiplications, not the data, set the rate:' : '') + ` in Node sealpass seals 1 KiB at ${fmt(100 * m1k / m64, 0)}% of its 64 B rate and 16 KiB at ${fmt(100 * m16 / m64, 0)}%.`;
  out.push(t, '');

  if (o1 && lad) {
    let a = `Per multiplication (anatomy table, Node build): an \`Opener.open\` of a 1-byte envelope — one variable-base X25519 plus HKDF, a 1-byte AEAD and the crossings into Wasm (\`validateContext\`, the context crossing alone, costs ${fmt(val, 1)} µs) — takes ${fmt(o1, 1)} µs, ${x2(o1 / lad)} the ${fmt(lad, 1)} µs of libsodium's crypto_scalarmult (libsodium's own Wasm X25519) alone.`;
    if (s1 && fb && s1 > o1) a += ` A 1-byte seal takes ${fmt(s1, 1)} µs, ${fmt(s1 - o1, 1)} µs more than that open: the fixed-base multiplication plus the seal's randomness and envelope, against ${fmt(fb, 1)} µs for libsodium's crypto_scalarmult_base.`;
    out.push(a, '');
  }
  const ms = me('seal'), mo = me('open'), ss = so('seal'), sO = so('open');
  if (ms && mo && ss && sO) {
    const need = (x, mine) => (mine >= x ? `already ${x2(mine / x)} libsodium's rate` : `${x2(x / mine)} as fast as now`);
    let g = `The fast-build goal (≥ 1.0× libsodium) at 1 KiB in Node asks for a seal in ${fmt(1e6 / ss, 0)} µs (the fast build takes ${fmt(1e6 / ms, 0)} µs: ${need(ss, ms)}) and an open in ${fmt(1e6 / sO, 0)} µs (${fmt(1e6 / mo, 0)} µs: ${need(sO, mo)}).`;
    if (lad && fb) {
      const shS = (lad + fb) / (1e6 / ss), shO = lad / (1e6 / sO);
      const mostly = shS >= 0.7 && shO >= 0.7;
      g += ` libsodium's own seal and open are ${mostly ? 'mostly' : 'in part'} its X25519 work (its two multiplications, ${fmt(lad + fb, 0)} µs in the anatomy table, against ${fmt(1e6 / ss, 0)} µs per libsodium seal in the throughput table; one, ${fmt(lad, 0)} µs, against ${fmt(1e6 / sO, 0)} µs per open)` +
        (mostly ? ', so matching it needs a Wasm X25519 as fast as libsodium\'s own Wasm X25519' : '') +
        (o1 ? `; sealpass's variable-base X25519 costs at most ${x2(o1 / lad)} libsodium's (the \`Opener.open\` figure above, which includes the rest of an open).` : '.');
    }
    out.push(g, '');
  }
  out.push(variantsText(), '');

  const wcS = med(c, 'webcrypto', 1024, 'seal'), wcO = med(c, 'webcrypto', 1024, 'open'), cS = med(c, 'sealpass', 1024, 'seal'), cO = med(c, 'sealpass', 1024, 'open');
  const ncS = med(n, 'nodecrypto', 1024, 'seal'), ncO = med(n, 'nodecrypto', 1024, 'open');
  let pl = 'What is left is the cost of X25519 itself in Wasm. Where an envelope needs two X25519s at once (v2), the fast build runs them as one two-lane SIMD ladder (above); a v1 seal or open has a single variable-base X25519, whose ladder the fast build spreads over the two lanes (each step\'s 9 field operations as 5 two-lane ones; the v2 rows of the fast build compare v2\'s pair of ladders with that faster v1 ladder). The one route past a single ladder\'s cost is a platform X25519: WebCrypto in browsers, native but asynchronous' +
    (wcS && cS && wcO && cO ? ` (the Chromium WebCrypto reference row, native X25519, HKDF and AES-256-GCM, runs at ${x2(wcS / cS)} sealpass's seal rate and ${x2(wcO / cO)} its open rate at 1 KiB)` : '') + '.';
  if (ncS && ncO && ms && mo) {
    pl += ` In Node, the node:crypto what-if row measures what such a path gives for the exact construction (X25519 and HKDF from OpenSSL, vectors checked): ${x2(ncS / ms)} sealpass's seal rate and ${x2(ncO / mo)} its open rate at 1 KiB` + (ncDh && lad ? `; OpenSSL's X25519 alone costs ${fmt(ncDh, 1)} µs (anatomy), against ${fmt(lad, 1)} µs for libsodium's in Wasm` : '');
    pl += ncS < ms && ncO < mo ? ', but the row creates OpenSSL key objects on every call (a fresh ephemeral pair per seal, the envelope\'s epk and the node key per open), and as measured that costs more than the native arithmetic saves.' : '.';
  }
  pl += ' Taking X25519 from the platform would mean the browser no longer runs the same Rust X25519 as the node, and the product\'s rule is that the browser runs exactly the same Rust code as the node: so sealpass does not take that route unless the product owner decides to trade that rule for speed. That is a product decision';
  const unmet = goals.filter((g) => g.group === 'fast build' && /≥ libsodium/.test(g.goal) && g.met === false);
  pl += unmet.length ? `, and with it the ${unmet.length} speed goal${unmet.length > 1 ? 's' : ''} not met above stay${unmet.length > 1 ? '' : 's'} bounded by the cost of X25519 in Wasm.` : '.';
  out.push(pl);
  return out;
}

function twiggyRows() {
  const twa = txt('twiggy-all.txt');
  if (!twa) return null;
  return twa.split('\n').map((l) => l.match(/^\s*(\d+)\s*┊[^┊]*┊\s*(.*)$/)).filter(Boolean)
    // Builds with core rebuilt (-Zbuild-std) name crates as `crate[hash]::`.
    .map(([, b, name]) => ({ bytes: Number(b), name: name.trim().replace(/\[[0-9a-f]{8,}\]/g, '') }))
    .filter((r) => !/"function names" subsection|custom section|^"name"|producers|target_features|^\.\.\. and \d+ more|Total Rows|^Σ/.test(r.name));
}
function fmtRe() { return /core(\[[0-9a-f]+\])?::fmt|as core(\[[0-9a-f]+\])?::fmt::|as core::fmt::|count_chars|panic_fmt/; }
function cats() {
  return [
  ['fmt', '`core::fmt` (panic messages)', fmtRe()],
  ['x25519', 'X25519 (curve25519-dalek, fiat field arithmetic)', /curve25519_dalek|x25519_dalek|fiat_crypto|fiat_25519/],
  ['sha', 'SHA-256 / HMAC / HKDF', /sha2::|hmac::|hkdf::|digest::|sha256/i],
  ['aead', 'ChaCha20 / Poly1305', /chacha20|poly1305|cipher::|aead::|universal_hash/i],
  ['shims', 'wasm-bindgen shims (with the sealpass code inlined into them)', /shim|wasm_bindgen|js_sys|__wbg|__wbindgen/],
  ['sealpass', 'other named sealpass functions', /sealpass::/],
  ['alloc', 'allocator', /lol_alloc|dlmalloc|alloc::alloc|__rust_alloc|__rust_dealloc|__rust_realloc/],
  ['data', 'data segments (constants, tables, strings)', /^data segment/],
  ];
}

function sizeText() {
  if (!sizes) return [];
  const CATS = cats();
  const out = ['### Size', ''];
  const sp = sizes.peers.sealpass;
  const wasmRoom = 16000 - sp.js.gzip, cut = sp.wasm.gzip - wasmRoom;
  const vmin = variants ? Object.entries(variants).sort((a, b) => a[1].size.gzip - b[1].size.gzip)[0] : null;
  out.push(`The shipped seal-only wasm is ${fmt(sp.wasm.gzip)} B gzip and its glue ${fmt(sp.js.gzip)} B: ${fmt(sp.total.gzip)} B against the 16,000 B goal, which leaves ${fmt(wasmRoom)} B for the wasm, ${fmt(100 * wasmRoom / sp.wasm.gzip, 0)}% of its size now` +
    (cut > 0 ? ` (${fmt(cut)} B gzip would have to go).` : '.') +
    (vmin && vmin[1].size.gzip > wasmRoom ? ` The smallest build measured (variants table) is \`${vmin[0]}\` at ${fmt(vmin[1].size.gzip)} B gzip, so no build setting gets there.` : ''));
  const rows = twiggyRows();
  if (rows && rows.length) {
    // The groups of the size-profile table (sizeProfile()), so the prose and the table agree.
    const total = prof ? prof.total : rows.reduce((a, r) => a + r.bytes, 0);
    const by = Object.fromEntries((prof?.groups || []).map((g) => [g.key, g.raw]));
    const gz = (b) => (b * sp.wasm.gzip) / total; // share of the bytes × the shipped wasm's gzip size
    out.push('', 'Where the bytes are: see the size profile table (twiggy groups, with estimated gzip shares).', '');
    const vs = variants?.['s-stable'] ?? variants?.s, vn = variants?.['s-nofeat'];
    if (vs && vn) out.push('', `- \`wasm-min\` (shipped) takes the wasm from ${fmt(vn.size.gzip)} to ${fmt(vs.size.gzip)} B gzip at opt-level "s" (\`s-nofeat\` vs \`${variants?.['s-stable'] ? 's-stable' : 's'}\`, both stable)` + (variants?.['s-stable'] && variants?.s ? `; the nightly core rebuild then takes it to ${fmt(variants.s.size.gzip)} B (\`s\`).` : '.'));
    const fmtRows = rows.filter((r) => fmtRe().test(r.name));
    const fmtBytes = fmtRows.reduce((a, r) => a + r.bytes, 0);
    if (fmtBytes > 0) {
      const impls = [...new Set(fmtRows.map((r) => (r.name.match(/^<(?:&)?([^<>]+?) as core(?:\[[0-9a-f]+\])?::fmt::(?:Debug|Display)>/) || [])[1]).filter(Boolean)
        .map((t) => t.replace(/\[[0-9a-f]+\]/g, '').split('::').slice(-2).join('::')).filter((t) => !/^(u32|usize|str|T|dyn|Arguments)$/.test(t.split('::').pop()) && !/fmt::/.test(t)))].slice(0, 8);
      out.push(`- \`core::fmt\` is still linked: ${fmt(fmtBytes)} B in ${fmtRows.length} functions (twiggy), kept alive through the \`Debug\`/\`Display\` impls that panic messages reference (in the indirect-call table: ${impls.map((x) => `\`${x}\``).join(', ') || 'see twiggy'}). These panics sit inside the dependencies (chacha20poly1305's \`apply_keystream\`, hkdf's \`expect\`, \`RefCell\`) and in every slice bounds check (\`panic_bounds_check\` formats the index); on stable Rust the precompiled \`core\` keeps them (nightly's \`panic_immediate_abort\` with \`-Zbuild-std\` would drop them). It is about ${fmt(gz(fmtBytes), 0)} B gzip at the file's average compression${cut > 0 ? `, ${fmt(100 * gz(fmtBytes) / cut, 0)}% of the ${fmt(cut)} B the 16,000 B goal needs` : ''}; \`twiggy paths\` on bench/.build/variants/names/named.wasm shows each path.`);
    }
    if (cut > 0) {
      const xs = by.x25519 + by.sha, all = xs + by.aead, rest = total - all;
      let t12 = `- The 16,000 B goal leaves ${fmt(wasmRoom)} B gzip for the wasm. The cryptography the node's Rust code brings to the browser — X25519, SHA-256/HMAC/HKDF and ChaCha20/Poly1305 — is by name about ${fmt(gz(all), 0)} B gzip at the file's average compression (${fmt(100 * gz(all) / wasmRoom, 0)}% of that room; X25519 and SHA-256/HMAC/HKDF alone about ${fmt(gz(xs), 0)} B), everything else (the seal API's shims with the sealpass code inlined into them, context handling, error tables, allocator, data, \`core::fmt\`) about ${fmt(gz(rest), 0)} B. `;
      t12 += gz(xs) >= cut
        ? 'Only taking X25519 and SHA-256 out of the Wasm — the platform route of the speed section, which the product rules out — would free enough.'
        : `Taking X25519 and SHA-256 from the platform (the route of the speed section, which the product rules out) would free about ${fmt(100 * gz(xs) / cut, 0)}% of the ${fmt(cut)} B cut by these figures; reaching 16,000 B would also need everything else cut from about ${fmt(gz(rest), 0)} B to about ${fmt(Math.max(0, wasmRoom - gz(by.aead)), 0)} B (the room left beside ChaCha20/Poly1305).`;
      out.push(t12);
    }
  } else out.push('', '(No twiggy figures in this run, so the bytes are not broken down.)');
  return out;
}

function variantsText() {
  if (!variants || !variants.s) return 'The build-variant step did not run, so there are no build-setting figures in this run.';
  const out = ['Build settings (variants table, seal 1 KiB in Node):'];
  if (variants.o3) out.push(`opt-level 3 seals ${vCmp('o3', 's', 'the shipped browser build at "s"')} for ${gzipDelta(vGz('o3', 's'))}` + (vFaster('o3', 's') && vGz('o3', 's') > 0 ? ', so the browser build trades speed for size and the browser rows above are those of opt-level "s".' : '.'));
  if (variants['o3-fast']) out.push(`The Node builds' settings (\`o3-fast\`) seal ${vCmp('o3-fast', 's', 'the shipped browser build')} for ${gzipDelta(vGz('o3-fast', 's'))}.`);
  if (variants.z) { const gz = vGz('z', 's'); out.push(`opt-level "z" seals ${vCmp('z', 's', '"s"')} for ${gzipDelta(gz)}` + (gz >= 0 && vSlower('z', 's') ? ': "s" is both smaller and faster here.' : '.')); }
  if (variants['o3-bits64'] && variants['o3-serial']) out.push(`The serial backend with 64-bit limbs seals ${vCmp('o3-bits64', 'o3-serial', 'its 32-bit limbs')} at opt-level 3` + (vSlower('o3-bits64', 'o3-serial') ? ' (Wasm has no 64×64→128-bit multiply, so each u128 product is emulated).' : '.'));
  if (variants['s-nofeat']) { const base = variants['s-stable'] ? 's-stable' : 's'; out.push(`Without \`wasm-min\` (built by stable, as it needs std; compared with \`${base}\`) the wasm has ${gzipDelta(vGz('s-nofeat', base))} and seals ${vCmp('s-nofeat', base, 'with it')}.`); }
  if (variants['s-stable']) out.push(`Built by stable Rust (\`s-stable\`: the precompiled core keeps its formatting machinery, panic messages and source paths alive through every bounds check) the wasm has ${gzipDelta(vGz('s-stable', 's'))} than the shipped nightly build with core rebuilt under \`-Cpanic=immediate-abort\`, and seals ${vCmp('s-stable', 's', 'it')}.`);
  out.push('`[profile.release]` (opt-level 3, fat LTO, codegen-units 1, panic abort) is left as it is; the per-build opt-level, features and field backend come from scripts/wasm-env.sh.');
  return out.join(' ');
}
