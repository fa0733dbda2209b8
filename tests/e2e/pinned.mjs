// The accept page hosted apart from the relay (docs/PINNING.md §4, §5), in
// one real browser: the page from a plain static server on one loopback
// origin, the relay (with --allow-origin for that origin) and a real node
// agent on another, all started by run.sh. Pinned links deliver with no
// checkbox, unpinned links show the identity fingerprint and say so, bad
// links and wrong pins are refused before anything is sealed, the meta CSP
// blocks any other connection. With E2E_PROXY_* set, the same page built for
// a hostile-relay proxy (sealpass-tests) must refuse or fail safely.
// Usage: node pinned.mjs chrome|firefox   (environment from run.sh)
// Prints one line per check and ends with `N passed, N failed`.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { checker, env, sleep } from './harness.mjs';

const BROWSER = process.argv[2];
const RELAY = env('E2E_RELAY');              // the relay's origin (allows the page origin)
const PAGE = env('E2E_PAGE_URL');            // directory URL of the page built for RELAY (ends in /)
const OTHER = env('E2E_OTHER_ORIGIN');       // a live server of a third origin (must be blocked)
const TOKEN = readFileSync(env('E2E_ADMIN_TOKEN_FILE'), 'utf8').trim();
const SEALPASS = env('E2E_SEALPASS');
const NODE_DIR = env('E2E_NODE_DIR');
const NODE_LOG = env('E2E_NODE_LOG');
const SECRETS_FILE = env('E2E_SECRETS_FILE');
const SHOTS = process.env.E2E_SCREENSHOTS || '';
const NODE_ID = 'web-1';

const { check, finish } = checker(BROWSER);

async function newPending(slug, nodes = [NODE_ID]) {
  const r = await fetch(RELAY + '/api/v1/admin/pending', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + TOKEN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ node_ids: nodes, slug, injection_method: 'env', field_name: 'E2E_TOKEN' }),
  });
  const j = await r.json();
  if (r.status !== 201) throw new Error(`admin pending: HTTP ${r.status} ${JSON.stringify(j)}`);
  return j;
}
const state = async (id) => (await (await fetch(RELAY + '/api/v1/pending/' + id + '/status')).json()).state;
async function keyPosted(id) {
  for (let i = 0; i < 100; i++) {
    if ((await state(id)) === 'pubkey_posted') return true;
    await sleep(200);
  }
  return false;
}

// The node's identity, from the line the agent prints at start.
const idm = readFileSync(NODE_LOG, 'utf8').match(/node web-1: identity fingerprint (\S+) \(public key ([A-Za-z0-9_-]{43})\)/);
if (!idm) throw new Error('node log has no identity line');
const [, NODE_IFP, NIK] = idm;
const otherKey = () => execFileSync(SEALPASS, ['keygen', '--out', join(mkdtempSync(join(tmpdir(), 'e2e-k-')), 'k')]).toString().trim();
const WRONG_NIK = otherKey();

const launchOpts = BROWSER === 'firefox'
  ? { browser: 'firefox', executablePath: process.env.FIREFOX_BIN || '/usr/bin/firefox-esr', headless: true }
  : {
      browser: 'chrome', executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--no-first-run'],
    };
const browser = await puppeteer.launch(launchOpts);
const posted = [];   // request bodies the page POSTed (Chromium only: BiDi does not expose them)

function probe() {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push({ directive: e.effectiveDirective || e.violatedDirective, blocked: e.blockedURI });
  });
}

async function open(url) {
  const page = await browser.newPage();
  await page.setViewport({ width: 720, height: 760 });
  await page.evaluateOnNewDocument(probe);
  page.api = [];
  page.bad = [];   // requests that failed or got a 4xx/5xx (a favicon 404 included)
  page.on('requestfailed', (r) => page.bad.push('failed ' + r.url()));
  page.on('response', (r) => { if (r.status() >= 400) page.bad.push(r.status() + ' ' + r.url()); });
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/api/')) page.api.push(r.method() + ' ' + u.origin + u.pathname);
    if (r.method() === 'POST') {
      let b;
      try { b = r.postData(); } catch { /* not over BiDi */ }
      if (b) posted.push(b);
    }
  });
  await page.goto(url, { waitUntil: 'load' });
  return page;
}
const text = (page, sel) => page.$eval(sel, (e) => e.textContent).catch(() => '');
const visible = (page, sel) => page.$eval(sel, (e) => !e.hidden && e.offsetParent !== null).catch(() => false);
async function waitTitle(page, want, timeoutMs = 30000) {
  let last = '';
  for (const t0 = Date.now(); Date.now() - t0 < timeoutMs; await sleep(150)) {
    last = await text(page, '#status-title');
    if (last === want && await visible(page, '#status')) return true;
  }
  console.log(`     (waited for "${want}", last status "${last}" / "${await text(page, '#status-text')}")`);
  return false;
}
const code = (page) => text(page, '#status-code');
async function shot(page, name) {
  if (!SHOTS) return;
  await (await page.$('main')).screenshot({ path: join(SHOTS, name + '.png') });
}
function nodeSecret(slug) {
  try {
    return execFileSync(SEALPASS, ['node', 'secret', 'get', '--data-dir', NODE_DIR, '--dev-insecure-kek', slug],
      { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  } catch { return ''; }
}
const tag = BROWSER + '-' + randomBytes(3).toString('hex');
const secret = 'pin-secret-' + randomBytes(12).toString('hex');
writeFileSync(SECRETS_FILE, secret + '\n', { flag: 'a' });
const link = (base, id, extra = '') => base + '#p=' + id + '&r=' + encodeURIComponent(RELAY) + extra;

// 1. Pinned link, page on another origin: delivered with no checkbox at all.
{
  const slug = 'pin-' + tag;
  const p = await newPending(slug);
  await keyPosted(p.pending_id);
  const page = await open(link(PAGE, p.pending_id, '&n=' + NODE_ID + ':' + NIK));
  await page.waitForSelector('#form:not([hidden])', { timeout: 30000 }).catch(() => {});
  check('pinned: form shown, the comparison checkbox is not', await visible(page, '#form') && !(await visible(page, '#check')) && !(await visible(page, '#hint')));
  check('pinned: the target says its identity is pinned and shows the identity fingerprint',
    (await text(page, '.pin')).includes('pinned') && (await text(page, '.fp')) === NODE_IFP, await text(page, '.fp'));
  await shot(page, 'pinned-ready');
  // Its icon comes from the page's own directory (img-src 'self'), no 404.
  const icon = await page.evaluate(() => new Promise((res) => {
    const l = document.querySelector('link[rel=icon]');
    const i = new Image();
    i.onload = () => res(i.naturalWidth > 0 ? 'ok ' + l.href : 'empty');
    i.onerror = () => res('error ' + (l && l.href));
    i.src = l ? l.href : '';
  }));
  check('pinned: the favicon loads from the page\'s directory, no request failed', icon === 'ok ' + PAGE + 'favicon.svg' && page.bad.length === 0,
    icon + ' ' + page.bad.join(' | '));
  await page.type('#secret', secret).catch(() => {});
  await page.keyboard.press('Enter');
  check('pinned: delivered across origins (page origin != relay origin)', await waitTitle(page, 'Delivered'));
  check('pinned: the node holds the exact secret', nodeSecret(slug) === secret);
  check('pinned: the page talked to the relay origin only', page.api.length > 0 && page.api.every((a) => a.includes(' ' + RELAY + '/')), page.api.join(' '));
  if (BROWSER === 'chrome') {
    const env = posted.map((b) => { try { return JSON.parse(b).envelopes[0].envelope; } catch { return null; } }).filter(Boolean).pop();
    check('pinned: the posted envelope is v2', env && env.v === 2, JSON.stringify(env || null).slice(0, 80));
  }
  // The meta CSP: the relay and the page's own Wasm only.
  const blocked = await page.evaluate(async (urls) => {
    const out = [];
    for (const u of urls) out.push(await fetch(u, { cache: 'no-store' }).then(() => 'allowed', () => 'blocked'));
    return out;
  }, [OTHER + '/', new URL('index.html', PAGE).href, new URL('sealpass_bg.wasm', PAGE).href, RELAY + '/api/v1/pending/' + p.pending_id + '/status']);
  const csp = await page.evaluate(() => window.__csp);
  check('CSP: fetch to a third origin is blocked (connect-src)', blocked[0] === 'blocked' && csp.some((v) => /^connect-src/.test(v.directive) && v.blocked.startsWith(OTHER)), JSON.stringify({ blocked, csp }));
  check('CSP: fetch of the page\'s own index.html is blocked (only its Wasm is allowed)', blocked[1] === 'blocked', blocked.join());
  check('CSP: the page\'s Wasm and the relay are allowed', blocked[2] === 'allowed' && blocked[3] === 'allowed', blocked.join());
  await page.close();
}

// 2. Unpinned link: the identity fingerprint, a plain "not pinned", the checkbox.
{
  const slug = 'unpin-' + tag;
  const p = await newPending(slug);
  await keyPosted(p.pending_id);
  const page = await open(link(PAGE, p.pending_id));
  await page.waitForSelector('#form:not([hidden])', { timeout: 30000 }).catch(() => {});
  check('unpinned: shows the identity fingerprint the node printed', (await text(page, '.fp')) === NODE_IFP, `${await text(page, '.fp')} vs ${NODE_IFP}`);
  check('unpinned: says plainly the link was not pinned', /^Not pinned/.test(await text(page, '.meta.warn')), await text(page, '.meta.warn'));
  check('unpinned: the comparison checkbox is required', await visible(page, '#check'));
  await shot(page, 'unpinned-ready');
  await page.type('#secret', secret).catch(() => {});
  await page.click('#send').catch(() => {});
  await sleep(300);
  check('unpinned: sending without ticking the box is refused, the warning next to the box', await visible(page, '#warn') &&
    /^Compare the fingerprint first/.test(await text(page, '#warn')) && (await state(p.pending_id)) === 'pubkey_posted');
  await page.click('#confirm').catch(() => {});
  await page.click('#send').catch(() => {});
  check('unpinned: delivered after the comparison', await waitTitle(page, 'Delivered') && nodeSecret(slug) === secret);
  await page.close();
}

// 3. Refused before anything is sealed: wrong pin, pin for an absent node (8901).
for (const [name, extra, want, title] of [
  ['a pin that differs from the identity the relay reports', '&n=' + NODE_ID + ':' + WRONG_NIK, '8901', 'Identity mismatch'],
  ['a pin for a node id that is not in the request', '&n=' + NODE_ID + ':' + NIK + '&n=ghost-9:' + WRONG_NIK, '8901', 'Identity mismatch'],
]) {
  const p = await newPending('bad-' + tag + '-' + randomBytes(2).toString('hex'));
  await keyPosted(p.pending_id);
  const page = await open(link(PAGE, p.pending_id, extra));
  const ok = await waitTitle(page, title);
  check(`refused (${want}): ${name}`, ok && (await code(page)).includes(want) && !(await visible(page, '#form')), await code(page));
  check(`refused (${want}): ${name}: nothing posted`, (await state(p.pending_id)) === 'pubkey_posted' && !page.api.some((a) => a.startsWith('POST')));
  if (name.startsWith('a pin that')) await shot(page, 'identity-mismatch');
  await page.close();
}

// 4. Bad link fragments (8903), refused before the relay is even asked.
{
  const p = await newPending('frag-' + tag);
  const id = p.pending_id;
  const nonCanon = NIK.slice(0, 42) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(NIK[42]) | 1)];
  const r = '&r=' + encodeURIComponent(RELAY);
  const cases = [
    ['legacy #ID on a page hosted apart (its own origin is not the relay)', id],
    ['r names another relay', 'p=' + id + '&r=' + encodeURIComponent(OTHER)],
    ['r with a path', 'p=' + id + '&r=' + encodeURIComponent(RELAY + '/')],
    ['p repeated', 'p=' + id + '&p=' + id + r],
    ['r repeated', 'p=' + id + r + r],
    ['an unknown key', 'p=' + id + r + '&x=1'],
    ['p too short', 'p=' + id.slice(1) + r],
    ['no p', r.slice(1)],
    ['empty fragment', ''],
    ['n without a key', 'p=' + id + r + '&n=' + NODE_ID],
    ['n with a short key', 'p=' + id + r + '&n=' + NODE_ID + ':' + NIK.slice(1)],
    ['n with a bad node id', 'p=' + id + r + '&n=bad%20id:' + NIK],
    ['n with a non-canonical key', 'p=' + id + r + '&n=' + NODE_ID + ':' + nonCanon],
    ['the same node pinned twice', 'p=' + id + r + '&n=' + NODE_ID + ':' + NIK + '&n=' + NODE_ID + ':' + NIK],
    ['17 pins', 'p=' + id + r + Array.from({ length: 17 }, (_, i) => '&n=n' + i + ':' + NIK).join('')],
  ];
  const bad = [];
  for (const [name, frag] of cases) {
    const page = await open(PAGE + '#' + frag);
    const ok = await waitTitle(page, 'Bad link', 10000);
    const c = await code(page);
    if (!ok || !c.includes('8903') || page.api.length || await visible(page, '#form')) bad.push(`${name} (${c}; ${page.api.join(' ')})`);
    if (name === 'r names another relay') await shot(page, 'bad-link');
    await page.close();
  }
  check(`bad fragments: all ${cases.length} refused with 8903, relay never asked`, bad.length === 0, bad.join(' | '));
  // 16 pins is the most a link may carry: valid, then 8901 (15 of them absent).
  const page = await open(link(PAGE, id, Array.from({ length: 16 }, (_, i) => '&n=' + (i ? 'n' + i : NODE_ID) + ':' + NIK).join('')));
  check('16 pins parse (then 8901 for the absent nodes)', await waitTitle(page, 'Identity mismatch') && (await code(page)).includes('8901'));
  await page.close();
}

// 5. The relay-served page takes pinned links too (r = its own origin, or absent).
{
  const slug = 'same-' + tag;
  const p = await newPending(slug);
  await keyPosted(p.pending_id);
  const page = await open(RELAY + '/accept#p=' + p.pending_id + '&n=' + NODE_ID + ':' + NIK);
  await page.waitForSelector('#form:not([hidden])', { timeout: 30000 }).catch(() => {});
  check('relay-served page, pinned link: no checkbox', await visible(page, '#form') && !(await visible(page, '#check')));
  await page.type('#secret', secret).catch(() => {});
  await page.keyboard.press('Enter');
  check('relay-served page, pinned link: delivered', await waitTitle(page, 'Delivered') && nodeSecret(slug) === secret);
  await page.close();
  const q = await newPending('same2-' + tag);
  const page2 = await open(RELAY + '/accept#p=' + q.pending_id + '&r=' + encodeURIComponent(PAGE.replace(/\/[^/]*\/$/, '')));
  check('relay-served page: a link naming another relay is refused (8903)', await waitTitle(page2, 'Bad link') && (await code(page2)).includes('8903'));
  await page2.close();
}

// 6. A link printed by `sealpass inject --browser --page-url` (E2E_INJECT=1):
// inject prints the link, then waits for the result, so it runs beside the
// browser. It pins the node's identity by its fingerprint (--pin), in a
// known-nodes file of its own.
if (process.env.E2E_INJECT) {
  const slug = 'inject-' + tag;
  const kn = join(mkdtempSync(join(tmpdir(), 'e2e-kn-')), 'known_nodes');
  const child = spawn(SEALPASS, ['inject', '--relay', RELAY, '--admin-token-file', env('E2E_ADMIN_TOKEN_FILE'),
    '--node', NODE_ID, '--slug', slug, '--method', 'env', '--field-name', 'E2E_TOKEN', '--browser',
    '--page-url', PAGE, '--known-nodes', kn, '--pin', NODE_IFP, '--timeout', '120'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const done = new Promise((res) => child.on('exit', (c) => res(c)));
  let url = '';
  for (const t0 = Date.now(); !url && Date.now() - t0 < 30000; await sleep(200)) url = (out.match(/https?:\/\/\S+#\S+/) || [''])[0];
  check('inject --browser printed a pinned link for this page', url.startsWith(PAGE + '#') && /[#&]n=web-1(%3A|:)/.test(url), out.trim().slice(0, 300));
  if (url) {
    const page = await open(url);
    await page.waitForSelector('#form:not([hidden])', { timeout: 30000 }).catch(() => {});
    check('inject link: no checkbox (pinned)', await visible(page, '#form') && !(await visible(page, '#check')));
    await page.type('#secret', secret).catch(() => {});
    await page.keyboard.press('Enter');
    check('inject link: delivered', await waitTitle(page, 'Delivered') && nodeSecret(slug) === secret);
    await page.close();
  }
  const rc = await Promise.race([done, sleep(30000).then(() => 'timeout')]);
  if (rc === 'timeout') child.kill();
  check('inject --browser exits 0 once delivered', rc === 0, `${rc}: ${out.trim().split('\n').slice(-2).join(' | ')}`);
  check('inject output never shows the secret', !out.includes(secret));
}

// 7. Through a hostile relay (E2E_PROXY_<MODE>=origin|statedir|pageurl).
for (const mode of ['swap-identity', 'swap-both', 'swap-view', 'add-target', 'swap-pubkey', 'fake-retry']) {
  const spec = process.env['E2E_PROXY_' + mode.toUpperCase().replace('-', '_')];
  if (!spec) continue;
  const [proxy, dir, ppage] = spec.split('|');
  const slug = 'hostile-' + mode + '-' + tag;
  const p = await newPending(slug);
  await keyPosted(p.pending_id);
  if (mode === 'fake-retry') {
    // An unpinned link: the relay says a secret is on its way (no target
    // open), then that it could not be opened. The retry form must never
    // appear with a key this page has not shown: loaded again, the view
    // still has no open target, so the page refuses (8612).
    const page = await open(ppage + '#p=' + p.pending_id + '&r=' + encodeURIComponent(proxy));
    const ok = await waitTitle(page, 'Key check failed', 30000);
    check(`${mode}: a retry the pending view contradicts is refused (8612), no form`, ok && (await code(page)).includes('8612') &&
      !(await visible(page, '#form')) && !(await visible(page, '#check')), await code(page));
    const envs = join(dir, 'envelopes.jsonl');
    check(`${mode}: nothing posted through the proxy`, !existsSync(envs) || readFileSync(envs, 'utf8').trim() === '');
    await page.close();
    continue;
  }
  const url = ppage + '#p=' + p.pending_id + '&r=' + encodeURIComponent(proxy) + '&n=' + NODE_ID + ':' + NIK;
  const page = await open(url);
  if (mode !== 'swap-pubkey') {
    const ok = await waitTitle(page, 'Identity mismatch');
    check(`${mode}: the page refuses with 8901`, ok && (await code(page)).includes('8901') && !(await visible(page, '#form')), await code(page));
    const envs = join(dir, 'envelopes.jsonl');
    check(`${mode}: nothing posted through the proxy`, !existsSync(envs) || readFileSync(envs, 'utf8').trim() === '');
  } else {
    await page.waitForSelector('#form:not([hidden])', { timeout: 30000 }).catch(() => {});
    await page.type('#secret', secret).catch(() => {});
    await page.keyboard.press('Enter');
    const ok = await waitTitle(page, 'Decrypt failed', 40000);
    check(`${mode}: the node could not open it, the page says 8006`, ok && (await code(page)).includes('8006'), await code(page));
    check(`${mode}: the node reports decrypt_failed`, (await state(p.pending_id)) === 'decrypt_failed');
    const lines = existsSync(join(dir, 'envelopes.jsonl')) ? readFileSync(join(dir, 'envelopes.jsonl'), 'utf8').trim().split('\n').filter(Boolean) : [];
    let opened = 'no envelope';
    if (lines.length) {
      const rec = JSON.parse(lines[lines.length - 1]);
      const envl = rec.envelope || (rec.envelopes && rec.envelopes[0] && rec.envelopes[0].envelope) || rec;
      const view = await (await fetch(RELAY + '/api/v1/pending/' + p.pending_id)).json();
      const tmp = mkdtempSync(join(tmpdir(), 'e2e-h-'));
      writeFileSync(join(tmp, 'ctx.json'), JSON.stringify(view.targets[0].context));
      try {
        execFileSync(SEALPASS, ['open', '--key', join(dir, 'attacker_otk.key'), '--identity-key', join(dir, 'attacker_identity.key'),
          '--context', join(tmp, 'ctx.json')], { input: JSON.stringify(envl), stdio: ['pipe', 'pipe', 'pipe'] });
        opened = 'OPENED';
      } catch (e) { opened = String(e.stderr || e.message); }
    }
    check(`${mode}: the captured envelope does not open with the attacker's keys (8006)`, /error 8006/.test(opened), opened.slice(0, 160));
  }
  await page.close();
}

await browser.close();
check('secret never appears in what the page posted', !posted.some((b) => b.includes(secret)), `${posted.length} bodies`);
finish();
