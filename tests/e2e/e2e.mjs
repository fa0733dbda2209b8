// End-to-end tests of the accept page in one real browser (system Chromium or
// Firefox via puppeteer-core) against a real relay and node agent started by
// run.sh. Usage: node e2e.mjs chrome|firefox   (environment from run.sh)
// Prints one line per check and ends with `N passed, N failed`.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { checker, env, sleep } from './harness.mjs';

const BROWSER = process.argv[2];
const RELAY = env('E2E_RELAY');            // main relay (real www-dist)
const TAMPER = env('E2E_TAMPER_RELAY');    // relay serving E2E_TAMPER_WWW
const TAMPER_WWW = env('E2E_TAMPER_WWW');
const DIST = env('E2E_DIST');
const TOKEN = readFileSync(env('E2E_ADMIN_TOKEN_FILE'), 'utf8').trim();
const SEALPASS = env('E2E_SEALPASS');
const NODE_DIR = env('E2E_NODE_DIR');
const NODE_LOG = env('E2E_NODE_LOG');
const SHOTS = process.env.E2E_SCREENSHOTS || '';
const SECRETS_FILE = env('E2E_SECRETS_FILE');
const NODE_ID = 'web-1';
const IDLE_NODE = 'idle-1';  // registered, no agent: its key never comes

const { check, finish } = checker(BROWSER);

async function admin(path, body) {
  const r = await fetch(RELAY + '/api/v1/admin' + path, {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + TOKEN, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const j = await r.json();
  if (r.status !== 201) throw new Error(`admin ${path}: HTTP ${r.status} ${JSON.stringify(j)}`);
  return j;
}
const newPending = (slug, nodes = [NODE_ID], extra = {}) =>
  admin('/pending', { node_ids: nodes, slug, injection_method: 'env', field_name: 'E2E_TOKEN', ...extra });

// The fingerprint the node agent printed on its console for this pending id.
async function nodeFingerprint(id, timeoutMs = 20000) {
  const re = new RegExp('pending ' + id + ': one-time key fingerprint ([0-9a-f-]+)');
  for (const t0 = Date.now(); Date.now() - t0 < timeoutMs; await sleep(200)) {
    const m = readFileSync(NODE_LOG, 'utf8').match(re);
    if (m) return m[1];
  }
  return null;
}

/** Poll the public GET until every target's key is in (200 instead of 409/8009). */
async function keysPosted(id, timeoutMs = 20000) {
  for (const t0 = Date.now(); Date.now() - t0 < timeoutMs; await sleep(200)) {
    if ((await fetch(RELAY + '/api/v1/pending/' + id)).status === 200) return true;
  }
  return false;
}

const launchOpts = BROWSER === 'firefox'
  ? { browser: 'firefox', executablePath: process.env.FIREFOX_BIN || '/usr/bin/firefox-esr', headless: true }
  : {
      browser: 'chrome', executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--no-first-run'],
    };

const browser = await puppeteer.launch(launchOpts);
const apiBodies = [];   // every relay API response body and request body seen
const consoleLines = [];

// Runs before any page script (outside the page's CSP): records CSP
// violations and failed <script>/<link> loads (the SRI failure signal).
function probe() {
  window.__csp = [];
  window.__loadErrors = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push({ directive: e.effectiveDirective || e.violatedDirective, blocked: e.blockedURI, sample: e.sample || '' });
  });
  window.addEventListener('error', (e) => {
    const t = e.target;
    if (t && (t.tagName === 'SCRIPT' || t.tagName === 'LINK')) window.__loadErrors.push(t.src || t.href);
  }, true);
}

async function open(url) {
  const page = await browser.newPage();
  await page.setViewport({ width: 720, height: 640 });
  await page.evaluateOnNewDocument(probe);
  page.on('console', (m) => consoleLines.push(m.type() + ': ' + m.text() + ' @' + ((m.location() && m.location().url) || '')));
  page.on('pageerror', (e) => consoleLines.push('pageerror: ' + e.message));
  page.statuses = {};
  page.bad = [];   // every request that failed or got a 4xx/5xx (a favicon 404 included)
  page.on('requestfailed', (r) => page.bad.push('failed ' + r.url()));
  page.on('response', async (r) => {
    const u = new URL(r.url());
    page.statuses[u.pathname] = r.status();
    if (r.status() >= 400) page.bad.push(r.status() + ' ' + u.pathname);
    if (u.pathname.startsWith('/api/')) {
      try { apiBodies.push(await r.text()); } catch { /* body gone (navigation) */ }
      let post;
      try { post = r.request().postData(); } catch { /* not exposed over WebDriver BiDi */ }
      if (post) apiBodies.push(post);
    }
  });
  await page.goto(url, { waitUntil: 'load' });
  return page;
}

const text = (page, sel) => page.$eval(sel, (e) => e.textContent).catch(() => '');
const visible = (page, sel) => page.$eval(sel, (e) => !e.hidden && getComputedStyle(e).visibility !== 'hidden' && e.offsetParent !== null).catch(() => false);

async function waitTitle(page, want, timeoutMs = 30000) {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    last = await text(page, '#status-title');
    if (last === want && await visible(page, '#status')) return true;
    await sleep(150);
  }
  console.log(`     (waited for "${want}", last status "${last}" / "${await text(page, '#status-text')}")`);
  return false;
}

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  // Just the page's content column: small PNGs for the README.
  const main = await page.$('main');
  await main.screenshot({ path: join(SHOTS, name + '.png') });
}

function nodeSecret(slug) {
  return execFileSync(SEALPASS, ['node', 'secret', 'get', '--data-dir', NODE_DIR, '--dev-insecure-kek', slug],
    { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
}

// 0. Strict headers on the page and its assets.
{
  const need = ["default-src 'none'", "script-src 'self' 'wasm-unsafe-eval'", "connect-src 'self'", "style-src 'self'",
    "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"];
  for (const [path, cache] of [['/accept', 'no-store'], ['/static/app.js', null], ['/static/sealpass_bg.wasm', null]]) {
    const r = await fetch(RELAY + path);
    const h = (k) => r.headers.get(k) || '';
    const csp = h('content-security-policy');
    const missing = need.filter((d) => !csp.includes(d));
    check(`headers ${path}: strict CSP, nosniff, no-referrer, COOP, CORP${cache ? ', ' + cache : ''}`,
      r.status === 200 && missing.length === 0 && h('x-content-type-options') === 'nosniff' &&
      h('referrer-policy') === 'no-referrer' && h('cross-origin-opener-policy') === 'same-origin' &&
      h('cross-origin-resource-policy') === 'same-origin' && (!cache || h('cache-control').includes(cache)),
      JSON.stringify({ status: r.status, missing, cache: h('cache-control') }));
  }
}

const tag = BROWSER + '-' + randomBytes(3).toString('hex');
const secret = 'e2e-secret-' + randomBytes(12).toString('hex');
writeFileSync(SECRETS_FILE, secret + '\n', { flag: 'a' });

// 1. The whole flow, keyboard only, until the node holds the secret.
{
  const slug = 'e2e-' + tag;
  const p = await newPending(slug);
  // The happy path: the node's key is in before the page asks (on a busy
  // machine the page would otherwise meet 409/8009 first, the waiting path).
  await nodeFingerprint(p.pending_id);
  check('the node posted its key (the pending answers 200)', await keysPosted(p.pending_id));
  const page = await open(RELAY + '/accept#' + p.pending_id);
  await page.waitForSelector('#form:not([hidden])', { timeout: 30000 }).catch(() => {});
  // A legacy `#ID` link pins nothing: the node's identity fingerprint is
  // shown (the agent posts its identity), with a plain "not pinned".
  const shown = await text(page, '.fp');
  const idm = readFileSync(NODE_LOG, 'utf8').match(/node web-1: identity fingerprint (\S+) /);
  check('identity fingerprint shown equals the one the node printed', idm && shown === idm[1], `page "${shown}" node "${idm && idm[1]}"`);
  const pub = await (await fetch(RELAY + '/api/v1/pending/' + p.pending_id)).json();
  const cliFp = execFileSync(SEALPASS, ['fingerprint', '--identity', pub.targets[0].identity_key]).toString().trim();
  check('fingerprint shown equals `sealpass fingerprint --identity` of the reported identity', shown === cliFp, cliFp);
  check('legacy link: says plainly it was not pinned', /^Not pinned/.test(await text(page, '.meta.warn')));
  check('secret field is a password field with a label', await page.$eval('#secret', (e) => e.type === 'password' && e.labels.length === 1));
  // Each hint is tied to its field: the secret's to the secret field, the
  // "ask the operator" hint to the check box (aria-describedby).
  const described = await page.evaluate(() => ['secret', 'confirm'].map((id) =>
    (document.getElementById(id).getAttribute('aria-describedby') || '').split(/\s+/).map((r) => {
      const e = document.getElementById(r);
      return e ? e.textContent : '?' + r;
    }).join(' | ')));
  check('hints tied to their fields (aria-describedby)', /^Never stored/.test(described[0]) && /^Ask the node operator/.test(described[1]),
    JSON.stringify(described));
  check('boot/integrity warning is gone once the script runs', !(await page.$('#boot')));
  await shot(page, 'ready');
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  check('secret field has focus on load', focused === 'secret', focused);
  await page.keyboard.type(secret);
  await page.keyboard.press('Tab');
  await page.keyboard.press(' ');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  check('shows "Delivered" when the node consumed it', await waitTitle(page, 'Delivered'));
  check('secret field is cleared after sending', (await page.$eval('#secret', (e) => e.value)) === '');
  await shot(page, 'delivered');
  let got = '';
  try { got = nodeSecret(slug); } catch (e) { got = 'error: ' + e.message.split('\n')[0]; }
  check('node holds the exact secret (sealpass node secret get)', got === secret, got === secret ? '' : 'mismatch');
  const log = readFileSync(NODE_LOG, 'utf8');
  check('node console reports the delivery (slug, where stored)', log.includes(`delivered slug=${slug} pending=${p.pending_id} stored in`));
  check('node console never shows the secret', !log.includes(secret));
  check('no console errors on the happy path (a favicon included)', !consoleLines.some((l) => /^(error|pageerror)/.test(l)),
    consoleLines.filter((l) => /^(error|pageerror)/.test(l)).join(' | '));
  // Both browsers ask for an icon even headless (/favicon.ico, a 404,
  // without the page's <link rel=icon>).
  check('no request failed or got an error status on the happy path; the browser fetched the icon (200), no favicon 404',
    page.bad.length === 0 && page.statuses['/accept'] === 200 && page.statuses['/static/favicon.svg'] === 200,
    page.bad.join(' | ') + ' icon ' + page.statuses['/static/favicon.svg']);
  // The page names its icon, and it loads as an image under the page's CSP
  // (img-src 'self'); no CSP violation at all on the happy path.
  const icon = await page.evaluate(() => new Promise((res) => {
    const l = document.querySelector('link[rel=icon]');
    if (!l) return res('no <link rel=icon>');
    const i = new Image();
    i.onload = () => res(i.naturalWidth > 0 ? 'ok ' + new URL(l.href).pathname : 'empty');
    i.onerror = () => res('error ' + l.href);
    i.src = l.href;
  }));
  const csp = await page.evaluate(() => window.__csp);
  check('favicon: <link rel=icon> loads as an image under the CSP (no request for a missing /favicon.ico)',
    icon === 'ok /static/favicon.svg' && csp.length === 0, icon + ' ' + JSON.stringify(csp));
  // 2. The same link again: a calm "Already delivered", saying where it is
  // stored (the slug and field the relay knows), nothing to tick.
  await page.reload({ waitUntil: 'load' });
  // The text is read once the title says so (read before, a slow load
  // still showed the loading text).
  const delivered = await waitTitle(page, 'Already delivered');
  const st = await text(page, '#status-text');
  check('a used link says "Already delivered" (stored as the slug and field), not an error', delivered &&
    await page.$eval('#status', (e) => e.classList.contains('ok')) && st.includes('stored as “' + slug + '” (env E2E_TOKEN)') &&
    (await text(page, '#status-code')) === '', st);
  check('already delivered: no check box, no form, no fingerprint to compare', !(await visible(page, '#check')) &&
    !(await visible(page, '#form')) && !(await visible(page, '#targets')));
  await shot(page, 'already-delivered');
  // 2b. The same link in another tab, which sent nothing: still "Already
  // delivered", but as a warning asking whoever did not send it to speak up
  // (a relay or a link holder can deliver a value of its own).
  const other = await open(page.url());
  const seen = await waitTitle(other, 'Already delivered');
  const ost = await text(other, '#status-text');
  check('a used link in a tab that did not send it: "Already delivered" as a warning (not sent from this tab?)', seen &&
    await other.$eval('#status', (e) => e.classList.contains('warn')) && ost.includes('Not sent from this tab'), ost);
  await other.close();
  await page.close();
}

// 2a. A new link pasted into the same tab (only the fragment changes): the
// new request loads, nothing of the old one stays (secret, check box), and
// the old request is untouched.
{
  const a = await newPending('e2e-hash-a-' + tag);
  const b = await newPending('e2e-hash-b-' + tag);
  await nodeFingerprint(a.pending_id);
  await nodeFingerprint(b.pending_id);
  const page = await open(RELAY + '/accept#' + a.pending_id);
  await page.waitForSelector('#form:not([hidden])', { timeout: 30000 }).catch(() => {});
  const before = await text(page, '#target-list');
  await page.type('#secret', 'not-this-one');
  await page.click('#confirm');
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load', timeout: 15000 }).catch(() => {}),
    page.evaluate((id) => { location.hash = id; }, b.pending_id),
  ]);
  await page.waitForSelector('#form:not([hidden])', { timeout: 30000 }).catch(() => {});
  const after = await text(page, '#target-list');
  check('new fragment: the new request is shown, not the old one', before.includes('e2e-hash-a-') &&
    after.includes('“e2e-hash-b-' + tag + '”') && !after.includes('e2e-hash-a-'), after.slice(0, 120));
  check('new fragment: secret field empty, check box not ticked',
    (await page.$eval('#secret', (e) => e.value)) === '' && !(await page.$eval('#confirm', (e) => e.checked)));
  await page.type('#secret', secret);
  await page.click('#confirm');
  await page.click('#send');
  const deliveredB = await waitTitle(page, 'Delivered');
  let gotB = '';
  try { gotB = nodeSecret('e2e-hash-b-' + tag); } catch { gotB = ''; }
  check('new fragment: delivered for the new request', deliveredB && gotB === secret);
  const sa = await (await fetch(RELAY + '/api/v1/pending/' + a.pending_id + '/status')).json();
  check('new fragment: the old request is untouched (still waiting for a secret)', sa.state === 'pubkey_posted', sa.state);
  await page.close();
}

// 2b. Hostile text from the relay: a slug with a bidi override (U+202E) and a
// target URL whose host is a Cyrillic look-alike of "paypal" are shown as
// \u{202e}, the xn-- host and a mixed-script warning; what is sealed (and
// stored by the node) is still the exact context.
{
  const slug = 'e2e-bidi-' + tag + '-\u202egnp.exe';
  const p = await newPending(slug, [NODE_ID], { target_url: 'https://\u0440\u0430\u0443\u0440\u0430l.com/login' });
  const page = await open(RELAY + '/accept#' + p.pending_id);
  await page.waitForSelector('#form:not([hidden])', { timeout: 30000 }).catch(() => {});
  const list = await text(page, '#target-list');
  const meta = await page.$$eval('#target-list .meta', (es) => es.map((e) => e.textContent).join(' | ')).catch(() => '');
  check('bidi override in the slug is shown as the escape \\u{202e}, never raw',
    meta.includes('-\\u{202e}gnp.exe') && !/[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/.test(list), meta);
  check('homoglyph target host is shown in ASCII (xn--l-7sba6dbr.com), not in Cyrillic',
    meta.includes('https://xn--l-7sba6dbr.com/login') && !/\u0440/.test(list), meta);
  const warn = await text(page, '#target-list .mixed');
  check('mixed-script warning is visible', await visible(page, '#target-list .mixed') && /mixes scripts/.test(warn), warn);
  await shot(page, 'hostile-text');
  await page.type('#secret', secret);
  await page.click('#confirm');
  await page.click('#send');
  check('hostile text: still delivered, the slug escaped in "Delivered"', await waitTitle(page, 'Delivered') &&
    (await text(page, '#status-text')).includes('\\u{202e}gnp.exe') && !(await text(page, '#status-text')).includes('\u202e'));
  let got = '';
  try { got = nodeSecret(slug); } catch (e) { got = 'error: ' + e.message.split('\n')[0]; }
  check('hostile text: the node stored it under the exact slug', got === secret, got === secret ? '' : 'mismatch');
  await page.close();
}

// 2c. A plain ASCII slug and URL: no escapes, no warning.
{
  const p = await newPending('e2e-plain-' + tag, [NODE_ID], { target_url: 'https://api.example.com/v1' });
  const page = await open(RELAY + '/accept#' + p.pending_id);
  await page.waitForSelector('#form:not([hidden])', { timeout: 30000 }).catch(() => {});
  const list = await text(page, '#target-list');
  check('plain slug and URL: shown as they are, no mixed-script warning',
    list.includes('“e2e-plain-' + tag + '”') && list.includes('for https://api.example.com/v1') && !(await page.$('#target-list .mixed')), list);
  await page.close();
}

// 3. Oversize: refused in the browser before anything is posted (8008).
{
  const p = await newPending('e2e-big-' + tag);
  const page = await open(RELAY + '/accept#' + p.pending_id);
  await page.waitForSelector('#form:not([hidden])', { timeout: 30000 }).catch(() => {});
  await page.$eval('#secret', (e) => { e.value = 'x'.repeat(17000); });
  await page.click('#confirm');
  await page.click('#send');
  check('oversize secret says "Too large" with code 8008', await waitTitle(page, 'Too large') && (await text(page, '#status-code')).includes('8008'));
  await shot(page, 'too-large');
  const st = await (await fetch(RELAY + '/api/v1/pending/' + p.pending_id + '/status')).json();
  check('oversize: nothing was posted', st.state === 'pubkey_posted', st.state);
  await page.close();
}

// 4. Key awaiting: a node with no agent never posts its key (409/8009, polling).
{
  const p = await newPending('e2e-wait-' + tag, [IDLE_NODE]);
  const page = await open(RELAY + '/accept#' + p.pending_id);
  check('waiting for the node key (8009) is shown', await waitTitle(page, 'Waiting for the node key', 10000) && (await text(page, '#status-code')).includes('8009'));
  check('no secret field while the key is missing', !(await visible(page, '#form')));
  await shot(page, 'waiting-for-key');
  await page.close();
}

// 4a. Cancelled by an admin (410/8613): said in plain words.
{
  const p = await newPending('e2e-cancel-' + tag, [IDLE_NODE]);
  const r = await fetch(RELAY + '/api/v1/admin/pendings/' + p.pending_id + '/cancel', { method: 'POST', headers: { Authorization: 'Bearer ' + TOKEN } });
  const page = await open(RELAY + '/accept#' + p.pending_id);
  check('a cancelled link says "Cancelled" with code 8613', r.ok && await waitTitle(page, 'Cancelled', 10000) &&
    (await text(page, '#status-code')).includes('8613') && !(await visible(page, '#form')), r.status + ' ' + await text(page, '#status-code'));
  await page.close();
}

// 5. Expired (410/8603).
{
  const p = await newPending('e2e-exp-' + tag, [NODE_ID], { expires_in_secs: Number(process.env.E2E_MIN_EXPIRY || 2) });
  await sleep((Number(process.env.E2E_MIN_EXPIRY || 2) + 1.5) * 1000);
  const page = await open(RELAY + '/accept#' + p.pending_id);
  check('an expired link says "Expired" with code 8603', await waitTitle(page, 'Expired') && (await text(page, '#status-code')).includes('8603'));
  await shot(page, 'expired');
  await page.close();
}

// 5b. Decrypt failed, then a retry from the page succeeds: an envelope sealed
// (with the CLI) to a key that is not the node's is posted first.
{
  const slug = 'e2e-retry-' + tag;
  const p = await newPending(slug);
  await nodeFingerprint(p.pending_id);
  const pend = await (await fetch(RELAY + '/api/v1/pending/' + p.pending_id)).json();
  const dir = mkdtempSync(join(tmpdir(), 'e2e-'));
  const ctxFile = join(dir, 'ctx.json');
  writeFileSync(ctxFile, JSON.stringify(pend.targets[0].context));
  const wrongPub = execFileSync(SEALPASS, ['keygen', '--out', join(dir, 'wrong.key')]).toString().trim();
  const env = JSON.parse(execFileSync(SEALPASS, ['seal', '--to', wrongPub, '--context', ctxFile], { input: 'decoy' }).toString());
  const r = await fetch(RELAY + '/api/v1/pending/' + p.pending_id + '/envelopes', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ envelopes: [{ node_id: NODE_ID, envelope: env }] }),
  });
  let state = '';
  for (let i = 0; i < 100 && state !== 'decrypt_failed'; i++) {
    await sleep(200);
    state = (await (await fetch(RELAY + '/api/v1/pending/' + p.pending_id + '/status')).json()).state;
  }
  check('wrong-key envelope: node reports decrypt_failed', r.status === 202 && state === 'decrypt_failed', `${r.status} ${state}`);
  const page = await open(RELAY + '/accept#' + p.pending_id);
  await page.waitForSelector('#form:not([hidden])', { timeout: 30000 }).catch(() => {});
  check('page says "Decrypt failed" (8006) and offers a retry', await waitTitle(page, 'Decrypt failed') && (await text(page, '#status-code')).includes('8006') && await visible(page, '#form'));
  await shot(page, 'decrypt-failed');
  await page.type('#secret', secret);
  await page.click('#confirm');
  await page.click('#send');
  check('retry after decrypt_failed is delivered', await waitTitle(page, 'Delivered'));
  let got = '';
  try { got = nodeSecret(slug); } catch { got = ''; }
  check('node holds the retried secret', got === secret);
  await page.close();
}

// 5c. Rate limit: after 3 failed posts the pending id is locked (429/8605).
{
  const p = await newPending('e2e-rl-' + tag);
  await nodeFingerprint(p.pending_id);
  const page = await open(RELAY + '/accept#' + p.pending_id);
  await page.waitForSelector('#form:not([hidden])', { timeout: 30000 }).catch(() => {});
  for (let i = 0; i < 3; i++) {
    await fetch(RELAY + '/api/v1/pending/' + p.pending_id + '/envelopes', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"envelopes":[{"node_id":"web-1","envelope":{}}]}',
    });
  }
  await page.type('#secret', secret);
  await page.click('#confirm');
  await page.click('#send');
  check('after 3 failed posts the page says "Rate limited" (8605)', await waitTitle(page, 'Rate limited') && (await text(page, '#status-code')).includes('8605'));
  await shot(page, 'rate-limited');
  await page.close();
}

// 6. CSP: an injected inline script is blocked (and reported).
const fakeId = 'AAAAAAAAAAAAAAAAAAAAAA';
function tamperReset() {
  for (const f of ['index.html', 'app.js', 'app.css', 'sealpass_bg.wasm']) copyFileSync(join(DIST, f), join(TAMPER_WWW, f));
}
{
  tamperReset();
  const html = readFileSync(join(DIST, 'index.html'), 'utf8')
    .replace('<head>', '<head><script>window.__pwned = 1; document.title = "PWNED";</script>');
  writeFileSync(join(TAMPER_WWW, 'index.html'), html);
  const page = await open(TAMPER + '/accept#' + fakeId);
  await sleep(1500);
  const pwned = await page.evaluate(() => window.__pwned === 1 || document.title === 'PWNED');
  const csp = await page.evaluate(() => window.__csp);
  check('injected inline script did not run', !pwned);
  check('CSP reported the inline script (script-src)', csp.some((v) => /^script-src/.test(v.directive) && v.blocked === 'inline'), JSON.stringify(csp));
  check('page itself still ran under CSP', !(await page.$('#boot')));
  await page.close();
}

// 7. SRI: one changed byte in the JS: the module is refused and the page says so.
{
  tamperReset();
  const js = readFileSync(join(DIST, 'app.js'));
  js[js.length - 2] = js[js.length - 2] === 0x20 ? 0x0a : 0x20;   // whitespace-only change: still valid JS
  writeFileSync(join(TAMPER_WWW, 'app.js'), js);
  const page = await open(TAMPER + '/accept#' + fakeId);
  await sleep(3500);
  const errs = await page.evaluate(() => window.__loadErrors);
  check('tampered JS: served with 200 but the module load failed (SRI)', page.statuses['/static/app.js'] === 200 && errs.some((u) => u.endsWith('/static/app.js')), JSON.stringify({ st: page.statuses['/static/app.js'], errs }));
  check('tampered JS: the app never started', await page.$eval('#app', (e) => e.hidden));
  check('tampered JS: the page visibly says it did not start', await visible(page, '#boot') && (await text(page, '#boot h2')) === 'This page did not start');
  if (BROWSER === 'chrome') {
    check('tampered JS: Chromium logs the integrity failure', consoleLines.some((l) => /integrity/i.test(l) && /app\.js/.test(l)), consoleLines.slice(-5).join(' | '));
  }
  await shot(page, 'integrity-js-blocked');
  await page.close();
}

// 8. SRI: one changed byte in the Wasm: fetch(url, {integrity}) refuses it.
{
  tamperReset();
  const w = readFileSync(join(DIST, 'sealpass_bg.wasm'));
  w[w.length - 1] ^= 1;
  writeFileSync(join(TAMPER_WWW, 'sealpass_bg.wasm'), w);
  const page = await open(TAMPER + '/accept#' + fakeId);
  const shown = await waitTitle(page, 'Integrity check failed', 10000);
  check('tampered Wasm: the page says "Integrity check failed"', shown);
  check('tampered Wasm: it was served (200) and refused, not missing', page.statuses['/static/sealpass_bg.wasm'] === 200);
  check('tampered Wasm: no secret field offered', !(await visible(page, '#form')));
  check('tampered Wasm: the page never asked the relay for the key', !Object.keys(page.statuses).some((k) => k.startsWith('/api/')));
  await shot(page, 'integrity-wasm-blocked');
  await page.close();
  tamperReset();
}

await browser.close();
// The secret must not be in anything the relay answered or was sent in clear.
check('secret never appears in relay API traffic', apiBodies.length > 0 && !apiBodies.some((b) => b.includes(secret)), `${apiBodies.length} bodies`);
finish();
