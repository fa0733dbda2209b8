// The accept page on every screen, in one real browser (system Chromium or
// Firefox via puppeteer-core) against the relay and node agent run.sh
// started: each state at 320, 390 and 1280 px wide, in light and dark mode
// (prefers-color-scheme: emulated in Chromium, a content preference in
// Firefox), screenshotted, and for each one asserted:
//   - the fingerprint is whole: its box is not clipped (scrollWidth equals
//     clientWidth), it is all there, on one line or on two lines of four
//     groups; the node id and the pinned/unpinned line are on screen too;
//   - the page never scrolls sideways;
//   - contrast from the computed styles: text against its background
//     >= 4.5:1, borders against what is around them >= 3:1, and (on the
//     form) the keyboard focus ring against its background >= 3:1;
//   - "compare first" shows between the check box and the button, on screen.
// Usage: node layout.mjs chrome|firefox   (environment from run.sh)
// Prints one line per check and ends with `N passed, N failed`.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { checker, env, sleep } from './harness.mjs';

const BROWSER = process.argv[2];
const RELAY = env('E2E_RELAY');
const TOKEN = readFileSync(env('E2E_ADMIN_TOKEN_FILE'), 'utf8').trim();
const NODE_LOG = env('E2E_NODE_LOG');
const SHOTS = env('E2E_SCREENSHOTS');
const SECRETS_FILE = env('E2E_SECRETS_FILE');
const NODE_ID = 'web-1';
const IDLE_NODE = 'idle-1';
const WIDTHS = [[320, 568], [390, 844], [1280, 800]];
const FP = /^[0-9a-f]{4}(-[0-9a-f]{4}){7}$/;

const { check, finish } = checker(BROWSER);

async function newPending(slug, nodes, extra = {}) {
  const r = await fetch(RELAY + '/api/v1/admin/pending', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + TOKEN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ node_ids: nodes, slug, injection_method: 'env', field_name: 'E2E_TOKEN', ...extra }),
  });
  const j = await r.json();
  if (r.status !== 201) throw new Error(`admin pending: HTTP ${r.status} ${JSON.stringify(j)}`);
  return j;
}
async function keyPosted(id) {
  for (let i = 0; i < 100; i++) {
    const s = await (await fetch(RELAY + '/api/v1/pending/' + id + '/status')).json();
    if (s.state === 'pubkey_posted') return true;
    await sleep(200);
  }
  return false;
}
const nik = (readFileSync(NODE_LOG, 'utf8').match(/node web-1: identity fingerprint \S+ \(public key ([A-Za-z0-9_-]{43})\)/) || [])[1];
if (!nik) throw new Error('node log has no identity line');

function launch(scheme) {
  if (BROWSER === 'firefox') {
    // 0 dark, 1 light: what pages see as prefers-color-scheme.
    return puppeteer.launch({
      browser: 'firefox', executablePath: process.env.FIREFOX_BIN || '/usr/bin/firefox-esr', headless: true,
      extraPrefsFirefox: { 'layout.css.prefers-color-scheme.content-override': scheme === 'dark' ? 0 : 1 },
    });
  }
  return puppeteer.launch({
    browser: 'chrome', executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--hide-scrollbars'],
  });
}

async function open(browser, scheme, url) {
  const page = await browser.newPage();
  await page.setViewport({ width: WIDTHS[0][0], height: WIDTHS[0][1] });
  if (BROWSER === 'chrome') await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
  await page.goto(url, { waitUntil: 'load' });
  return page;
}
const text = (page, sel) => page.$eval(sel, (e) => e.textContent).catch(() => '');
const visible = (page, sel) => page.$eval(sel, (e) => !e.hidden && e.getClientRects().length > 0).catch(() => false);
async function waitTitle(page, want, timeoutMs = 30000) {
  let last = '';
  for (const t0 = Date.now(); Date.now() - t0 < timeoutMs; await sleep(150)) {
    last = await text(page, '#status-title');
    if (last === want && await visible(page, '#status')) return true;
  }
  console.log(`     (waited for "${want}", last status "${last}" / "${await text(page, '#status-text')}")`);
  return false;
}

// Everything measured inside the page from its computed styles.
function measure() {
  const rgba = (s) => {
    const m = String(s).match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const v = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
  };
  const lum = (c) => c.slice(0, 3).map((v) => {
    v /= 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }).reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => {
    const x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  const over = (top, under) => {   // top (with alpha) composited on an opaque colour
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat(1);
  };
  // The opaque colour behind an element: its own and its ancestors'
  // background colours composited from the first opaque one down.
  const bgOf = (el) => {
    const stack = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) stack.push(c);
      if (c && c[3] === 1) break;
    }
    let base = [255, 255, 255, 1];
    if (stack.length && stack[stack.length - 1][3] === 1) base = stack.pop();
    while (stack.length) base = over(stack.pop(), base);
    return base;
  };
  const shown = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility === 'visible';
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '');
  const out = { text: [], border: [], fp: [], lines: [], vw: innerWidth, docW: document.documentElement.scrollWidth,
    dark: matchMedia('(prefers-color-scheme: dark)').matches };
  for (const e of [document.body, ...document.body.querySelectorAll('*')]) {
    if (!shown(e) || e.closest('noscript')) continue;
    const cs = getComputedStyle(e);
    const hasText = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (hasText && !e.disabled) {
      const fg = rgba(cs.color), bg = bgOf(e);
      out.text.push({ el: name(e), ratio: ratio(over(fg, bg), bg), sample: e.textContent.trim().slice(0, 30) });
    }
    for (const side of ['Top', 'Right', 'Bottom', 'Left']) {
      const w = parseFloat(cs['border' + side + 'Width']);
      const c = rgba(cs['border' + side + 'Color']);
      if (!w || cs['border' + side + 'Style'] === 'none' || !c || c[3] === 0) continue;
      const bg = bgOf(e.parentElement || e);
      out.border.push({ el: name(e) + ':' + side, ratio: ratio(over(c, bg), bg) });
    }
  }
  // The node id and its pinned/unpinned line: on screen, not cut off.
  for (const e of document.querySelectorAll('#target-list .node, #target-list .pin, #target-list .meta.warn')) {
    const r = e.getBoundingClientRect();
    out.lines.push({ el: name(e), ok: shown(e) && r.left >= 0 && r.right <= innerWidth + 0.5 && e.scrollWidth <= e.clientWidth, text: e.textContent.slice(0, 40) });
  }
  for (const e of document.querySelectorAll('.fp')) {
    if (!shown(e)) continue;
    const halves = [...e.children].map((s) => s.getBoundingClientRect());
    const r = e.getBoundingClientRect();
    // Line boxes of a half's text: 1 unless a group is split across lines
    // (which overflow-wrap would do without overflowing anything).
    const rows = (s) => { const g = document.createRange(); g.selectNodeContents(s); return new Set([...g.getClientRects()].map((x) => Math.round(x.top))).size; };
    out.fp.push({ scrollWidth: e.scrollWidth, clientWidth: e.clientWidth, text: e.textContent,
      inside: r.left >= 0 && r.right <= innerWidth + 0.5, halvesWhole: e.children.length === 2 && [...e.children].every((c) => rows(c) === 1),
      lines: halves.length === 2 ? (Math.abs(halves[0].top - halves[1].top) < 2 ? 1 : 2) : 0 });
  }
  return out;
}

// The focus ring of every control of the form, reached with Tab as a person
// would: its colour against what is around it (the parent's background).
async function focusRings(page) {
  const want = await page.$$eval('#form input:not([type=hidden]), #form button', (es) => es.filter((e) => e.getClientRects().length > 0).map((e) => e.id));
  // A click on the heading (nothing focusable) sets where Tab starts from.
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.click('h1');
  const seen = {};
  for (let i = 0; i < 12 && Object.keys(seen).length < want.length; i++) {
    await page.keyboard.press('Tab');
    const r = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || !e.id || !e.closest('#form')) return null;
      const cs = getComputedStyle(e);
      return { id: e.id, fv: e.matches(':focus-visible'), color: cs.outlineColor, style: cs.outlineStyle, width: parseFloat(cs.outlineWidth),
        bg: (() => { for (let p = e.parentElement; p; p = p.parentElement) { const b = getComputedStyle(p).backgroundColor; if (!/rgba\(0, 0, 0, 0\)|transparent/.test(b)) return b; } return 'rgb(255, 255, 255)'; })() };
    });
    if (r && want.includes(r.id)) seen[r.id] = r;
  }
  const rgb = (s) => (String(s).match(/\d+(\.\d+)?/g) || []).slice(0, 3).map(Number);
  const lum = (c) => c.map((v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }).reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => { const x = lum(rgb(a)), y = lum(rgb(b)); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  return want.map((id) => {
    const r = seen[id];
    if (!r) return { id, ok: false, why: 'never focused by Tab' };
    const cr = ratio(r.color, r.bg);
    return { id, ok: r.fv && r.style !== 'none' && r.width >= 2 && cr >= 3, why: `${r.style} ${r.width}px ${r.color} on ${r.bg}: ${cr.toFixed(2)}:1${r.fv ? '' : ' (not :focus-visible)'}` };
  });
}

// One state at one width: screenshot and every check above, as one line
// (its detail names each part that failed).
async function inspect(page, state, scheme, [w, h], opts = {}) {
  await page.setViewport({ width: w, height: h });
  await sleep(150);
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${state}-${w}-${scheme}.png`), fullPage: w < 1000 });
  const m = await page.evaluate(measure);
  const bad = [], said = [];
  const need = (ok, what, detail) => { said.push(what); if (!ok) bad.push(what + (detail ? ' ' + detail : '')); };
  need(m.dark === (scheme === 'dark'), scheme + ' mode');
  need(m.docW <= m.vw, 'no sideways scrolling', `(document ${m.docW}px, viewport ${m.vw}px)`);
  // Every fingerprint shown, in every state: whole. opts.fp: one must be.
  if (opts.fp || m.fp.length) {
    const cut = m.fp.filter((f) => !(f.scrollWidth === f.clientWidth && f.inside && f.halvesWhole && FP.test(f.text) && f.lines === (w < 1000 ? 2 : 1)));
    need(m.fp.length > 0 && cut.length === 0, `fingerprint whole (scrollWidth = clientWidth, ${w < 1000 ? 'two lines of four groups' : 'one line'})`, JSON.stringify(m.fp));
    const lines = m.lines.filter((l) => !l.ok);
    need(m.lines.length >= 2 && lines.length === 0, 'node id and pinned/unpinned state on screen', JSON.stringify(lines));
  }
  if (opts.noFp) need(m.fp.length === 0, 'no fingerprint to compare', JSON.stringify(m.fp));
  const low = (xs, min) => xs.filter((x) => x.ratio < min);
  const lowest = (xs) => Math.min(...xs.map((x) => x.ratio)).toFixed(2);
  need(m.text.length > 3 && low(m.text, 4.5).length === 0, `text >= 4.5:1 (${m.text.length}, lowest ${lowest(m.text)})`, JSON.stringify(low(m.text, 4.5)));
  need(m.border.length > 0 && low(m.border, 3).length === 0, `borders >= 3:1 (${m.border.length}, lowest ${lowest(m.border)})`, JSON.stringify(low(m.border, 3)));
  if (opts.form && w === WIDTHS[0][0]) {
    const rings = await focusRings(page);
    need(rings.length >= 2 && rings.every((r) => r.ok), `focus ring >= 3:1 (${rings.map((r) => r.id).join(', ')})`,
      rings.map((r) => r.id + ': ' + r.why).join('; '));
  }
  check(`${state} ${w}px ${scheme}: ${said.join(', ')}`, bad.length === 0, bad.join(' | '));
}

const tag = BROWSER + '-' + randomBytes(3).toString('hex');
const secret = 'layout-secret-' + randomBytes(12).toString('hex');
writeFileSync(SECRETS_FILE, secret + '\n', { flag: 'a' });

for (const scheme of ['light', 'dark']) {
  const browser = await launch(scheme);
  // A long target URL (no break opportunities) must wrap, not widen the page.
  const p1 = await newPending('layout-' + scheme + '-' + tag, [NODE_ID],
    { target_url: 'https://api.example.com/v1/credentials/' + 'x'.repeat(48) });
  const p2 = await newPending('layout-pin-' + scheme + '-' + tag, [NODE_ID]);
  const p3 = await newPending('layout-wait-' + scheme + '-' + tag, [IDLE_NODE]);
  await keyPosted(p1.pending_id);
  await keyPosted(p2.pending_id);

  // Unpinned: the fingerprint to compare, the check box.
  let page = await open(browser, scheme, RELAY + '/accept#' + p1.pending_id);
  await page.waitForSelector('#form:not([hidden])', { timeout: 30000 }).catch(() => {});
  for (const wh of WIDTHS) await inspect(page, 'unpinned-ready', scheme, wh, { fp: true, form: true });

  // "Compare first": next to the box and the button, on screen where the
  // person pressed it, at every width.
  for (const wh of WIDTHS) {
    await page.setViewport({ width: wh[0], height: wh[1] });
    await page.$eval('#confirm', (e) => { e.checked = false; e.dispatchEvent(new Event('change')); });
    await page.click('#send');
    await sleep(150);
    const g = await page.evaluate(() => {
      const r = (id) => document.getElementById(id).getBoundingClientRect();
      const w = r('warn'), b = r('send'), c = r('check');
      return { shown: !document.getElementById('warn').hidden && w.height > 0, inView: w.top >= 0 && w.bottom <= innerHeight,
        between: w.top >= c.bottom - 1 && w.bottom <= b.top + 1, status: document.getElementById('status').hidden,
        described: document.getElementById('confirm').getAttribute('aria-describedby') };
    });
    check(`compare-first ${wh[0]}px ${scheme}: warning on screen between the check box and the button, tied to the box`,
      g.shown && g.inView && g.between && /\bwarn\b/.test(g.described || ''), JSON.stringify(g));
    await inspect(page, 'compare-first', scheme, wh, { fp: true });
  }
  await page.type('#secret', secret);
  await page.click('#confirm');
  check(`compare-first ${scheme}: ticking the box clears the warning`, !(await visible(page, '#warn')));
  await page.click('#send');
  const delivered = await waitTitle(page, 'Delivered');
  check(`delivered ${scheme}`, delivered);
  for (const wh of WIDTHS) await inspect(page, 'delivered', scheme, wh);
  await page.reload({ waitUntil: 'load' });
  check(`already delivered ${scheme}: reload says "Already delivered", calm`, await waitTitle(page, 'Already delivered') &&
    await page.$eval('#status', (e) => e.classList.contains('ok')));
  for (const wh of WIDTHS) await inspect(page, 'already-delivered', scheme, wh, { noFp: true });
  await page.close();

  // Pinned: identity checked, no box.
  page = await open(browser, scheme, RELAY + '/accept#p=' + p2.pending_id + '&n=' + NODE_ID + ':' + nik);
  await page.waitForSelector('#form:not([hidden])', { timeout: 30000 }).catch(() => {});
  for (const wh of WIDTHS) await inspect(page, 'pinned-ready', scheme, wh, { fp: true, form: true });
  await page.close();

  // Waiting for the node key (warn), a bad link (error).
  page = await open(browser, scheme, RELAY + '/accept#' + p3.pending_id);
  check(`waiting ${scheme}`, await waitTitle(page, 'Waiting for the node key', 10000));
  for (const wh of WIDTHS) await inspect(page, 'waiting-for-key', scheme, wh);
  await page.close();
  page = await open(browser, scheme, RELAY + '/accept#not-a-link');
  check(`bad link ${scheme}`, await waitTitle(page, 'Bad link', 10000));
  for (const wh of WIDTHS) await inspect(page, 'bad-link', scheme, wh);
  await page.close();
  await browser.close();
}

finish();
