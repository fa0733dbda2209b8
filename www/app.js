// sealpass accept page: fetch the node's one-time key(s) from the relay,
// check them against the identities pinned in the link (docs/PINNING.md §4)
// or show the fingerprint to compare out of band, seal the secret in this
// browser with the Rust/Wasm seal(), post only the envelope(s).
// DOM is built with textContent only (Trusted Types are enforced).
import { initSync, seal, fingerprint, identityFingerprint } from './sealpass.js';

/* global WASM_SRI, WASM_URL, RELAY */
// RELAY: the relay origin this page was built for (PINNING §5), '' for the
// page the relay serves itself (same origin). A link naming another relay
// is refused.
let API = '';
const $ = (id) => document.getElementById(id);
const ui = {
  targets: $('targets'), list: $('target-list'), form: $('form'), secret: $('secret'),
  confirm: $('confirm'), check: $('check'), hint: $('hint'), warn: $('warn'), send: $('send'), status: $('status'),
  title: $('status-title'), text: $('status-text'), code: $('status-code'),
};

// Plain words for every code the relay or seal() may give us.
const WORDS = {
  8006: ['Decrypt failed', 'The node could not decrypt what was sent. Check the fingerprint again, then send once more.'],
  8008: ['Too large', 'The secret is too large: at most 16,368 bytes.'],
  8009: ['Waiting for the node key', 'The node has not posted its one-time key yet; this page checks again by itself.'],
  8011: ['Node queue full', 'The node has too many undelivered secrets. Try again later.'],
  8304: ['Empty', 'Type the secret first.'],
  8602: ['Unknown link', 'The relay does not know this link. Check that you copied all of it.'],
  8603: ['Expired', 'This request has expired. Ask for a new link.'],
  8604: ['Already used', 'A secret was already sent for this request; each link works once.'],
  8605: ['Rate limited', 'Too many failed attempts. Wait a few minutes, then try again.'],
  8607: ['Too large', 'The request is too large for the relay.'],
  8901: ['Identity mismatch', 'The relay does not report the node identity pinned in this link. Nothing was sent. Do not retry; tell the administrator.'],
  8903: ['Bad link', 'This link is malformed or names another relay. Check that you copied all of it.'],
  8613: ['Cancelled', 'An administrator cancelled this request. Ask for a new link.'],
  8612: ['Key check failed', 'The relay sent a key that does not match what it claims. Do not send; tell the administrator.'],
};
const ACCEPTS = new Set(['pubkey_posted', 'decrypt_failed']);

let pendingId = '';
let targets = [];
let shown = 0;   // 1 once renderTargets showed every target (fingerprints, pins)
// Whether this tab sent the secret for this link (a reload keeps it).
const SENT = () => 'sent:' + pendingId;
const sentHere = () => { try { return sessionStorage.getItem(SENT()) === '1'; } catch { return false; } };
const pins = new Map();   // node id -> pinned identity key (B64U), from the link

// Relay text as shown: control and format characters (bidi overrides,
// zero-width) as \u{..} and a backslash doubled, like the CLI's escape()
// (crates/cli/src/text.rs), so it cannot reorder or hide what is around it.
const esc = (s) => String(s).replace(/[\\\p{Cc}\p{Cf}\u2028\u2029]/gu, (c) => c == '\\' ? '\\\\' : '\\u{' + c.codePointAt(0).toString(16) + '}');
// A URL as the browser will use it: the host in ASCII (xn-- punycode), so a
// homoglyph host cannot pass for the real one.
const href = (s) => { try { return new URL(s).href; } catch { return s; } };
// Letters of two of these scripts in one word (a label between dots,
// hyphens, ...) are how look-alike names are made, e.g. Cyrillic "а" in "pаypal".
const SCRIPTS = 'Latn Cyrl Grek Armn Geor Cher'.split(' ').map((n) => RegExp('\\p{sc=' + n + '}', 'u'));
const MIXED = 'a name here mixes scripts (e.g. Latin and Cyrillic) in one word; it may imitate another';
const mixed = (s) => s.split(/[^\p{L}\p{M}\p{N}]/u).some((w) => SCRIPTS.filter((r) => r.test(w)).length > 1);

function show(kind, title, text, code) {
  ui.status.className = 'box ' + kind;
  ui.title.textContent = title;
  ui.text.textContent = text;
  ui.code.textContent = code ? esc('Code ' + code) : '';
  ui.status.hidden = false;
}

function showCode(code, name, fallback) {
  const w = WORDS[code] || ['Error', fallback || 'Something went wrong.'];
  show(code === 8009 ? 'warn' : 'error', w[0], w[1], code ? code + (name ? ' ' + name : '') : '');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class ApiError extends Error {
  constructor(status, code, name) {
    super('HTTP ' + status);
    this.status = status;
    this.code = code;
    this.codeName = name;
  }
}

async function api(path, body) {
  const opts = { cache: 'no-store', credentials: 'omit', headers: {} };
  if (body) {
    opts.method = 'POST';
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(API + pendingId + path, opts);
  let j = null;
  try { j = await r.json(); } catch { /* non-JSON answer */ }
  if (!r.ok) {
    const e = new ApiError(r.status, j && Number.isInteger(j.code) ? j.code : 0, j && typeof j.name === 'string' ? j.name : '');
    e.retryAfter = Number(r.headers.get('Retry-After')) || 0;
    throw e;
  }
  return j;
}

// One element with a class and text (textContent only: Trusted Types).
function el(tag, cls, text) {
  const e = document.createElement(tag);
  e.className = cls;
  e.textContent = text;
  return e;
}

function renderTargets(pending) {
  ui.list.replaceChildren();
  for (const t of pending.targets) {
    const li = document.createElement('li');
    const c = t.context;
    // Two halves that each wrap as a unit: one line, or two lines of four
    // groups on a narrow screen (textContent is still the whole fingerprint).
    const fp = el('code', 'fp', '');
    const g = (t.ifp || t.fp).split('-'), h = Math.ceil(g.length / 2);
    fp.append(el('span', '', g.slice(0, h).join('-') + (h < g.length ? '-' : '')), el('span', '', g.slice(h).join('-')));
    fp.dataset.node = t.node_id;
    li.append(el('p', 'node', esc('Node ' + t.node_id)), fp,
      el('p', t.pinned ? 'meta pin' : 'meta warn', t.pinned ? 'Identity pinned in the link: checked.'
        : 'Not pinned: this link does not fix the node’s ' + (t.ifp ? 'identity' : 'key') + '. Compare this fingerprint with the node operator.'),
      el('p', 'meta', esc('Stores it as “' + c.slug + '” (' + c.injection_method +
        (c.field_name ? ' ' + c.field_name : '') + ')' + (c.target_url ? ' for ' + href(c.target_url) : ''))));
    if (mixed([t.node_id, c.slug, c.field_name, c.target_url].join(' '))) {
      li.append(el('p', 'meta warn mixed', 'Warning: ' + MIXED + '.'));
    }
    ui.list.append(li);
  }
  ui.list.append(el('p', 'meta', 'Link expires ' + new Date(pending.expires_at * 1000).toLocaleString()));
  // Every target pinned by the link: nothing is left to compare.
  ui.hint.hidden = ui.check.hidden = pending.targets.every((t) => t.pinned);
  ui.targets.hidden = false;
  shown = 1;
}

// Check what the relay says against the link's pins, then against itself,
// before anything is shown. A pinned link names every node the secret may go
// to: each must be a target exactly once, reporting exactly its pinned
// identity, and no other target may be there (8901, whatever else is
// wrong). Then the fingerprints are recomputed here, node ids must be
// distinct and each context must name this pending id and its own node (8612).
function checkPending(p) {
  const ts = p && Array.isArray(p.targets) && p.targets.length ? p.targets : [];
  if (pins.size) {
    const seen = new Set();
    for (const t of ts) {
      const id = t && t.node_id;
      if (!pins.has(id) || seen.has(id) || t.identity_key !== pins.get(id)) throw new ApiError(200, 8901, 'IdentityMismatch');
      seen.add(id);
    }
    if (seen.size !== pins.size) throw new ApiError(200, 8901, 'IdentityMismatch');
  }
  if (!ts.length) throw new ApiError(200, 8612, 'RelayProtocol');
  const ids = new Set();
  for (const t of ts) {
    const c = t.context;
    const nik = t.identity_key;
    t.fp = fingerprint(t.public_key);
    t.ifp = nik === undefined ? '' : identityFingerprint(nik);
    t.pinned = pins.has(t.node_id);
    // Sealed v2 to the pin, else to the reported identity; v1 only for an
    // unpinned target without one.
    t.opts = t.pinned ? { identity: pins.get(t.node_id) } : nik === undefined ? undefined : { identity: nik };
    if (ids.has(t.node_id) || t.fp !== t.fingerprint || t.ifp !== (t.identity_fingerprint || '') || !c || c.pending_id !== pendingId || c.node_id !== t.node_id) {
      throw new ApiError(200, 8612, 'RelayProtocol');
    }
    ids.add(t.node_id);
  }
  return p;
}

// GET the pending credential, polling with backoff (1 s doubling to 30 s)
// while the node has not posted its key.
async function load() {
  for (let wait = 1000; ; wait = Math.min(wait * 2, 30000)) {
    try {
      return checkPending(await api(''));
    } catch (e) {
      if (e.code !== 8009) throw e;
      showCode(8009, 'PubkeyAwaiting');
      ui.text.textContent += ' Next check in ' + Math.round(wait / 1000) + ' s.';
      await sleep(wait);
    }
  }
}

// `retry`: loaded again because the relay said an envelope could not be
// opened; then a target must be open again, or the relay contradicts itself.
function ready(p, retry) {
  targets = p.targets;
  // A secret was already sent for this link (a reload after sending, or a
  // second visit): say what became of it, nothing to compare or tick.
  const open = targets.filter((t) => ACCEPTS.has(t.state));
  if (!open.length) return retry ? failed(new ApiError(200, 8612, 'RelayProtocol')) : after(p, 1) || follow(1);
  renderTargets(p);
  // A retry after the node could not open an earlier envelope.
  if (open.some((t) => t.state === 'decrypt_failed')) showCode(8006, 'DecryptFailed');
  else ui.status.hidden = true;
  ui.form.hidden = false;
  ui.send.disabled = false;
  ui.secret.focus();
}

async function submit(ev) {
  ev.preventDefault();
  // Nothing is sealed to a key this page has not shown (fail closed).
  if (!shown) return;
  // The warning goes next to the box and the button, where the eye is.
  if (!ui.check.hidden && !ui.confirm.checked) {
    ui.warn.hidden = false;
    ui.confirm.setAttribute('aria-describedby', 'hint warn');
    ui.confirm.focus();
    return;
  }
  const bytes = new TextEncoder().encode(ui.secret.value);
  ui.send.disabled = true;
  let envelopes;
  try {
    envelopes = targets.filter((t) => ACCEPTS.has(t.state)).map((t) => ({
      node_id: t.node_id,
      envelope: seal(t.public_key, bytes, t.context, t.opts),
    }));
  } catch (e) {
    bytes.fill(0);
    showCode(e.code, e.name, 'Sealing failed.');
    ui.send.disabled = false;
    return;
  }
  bytes.fill(0);
  ui.secret.value = '';
  ui.confirm.checked = false;
  ui.form.hidden = true;
  show('', 'Sending…', 'Posting the sealed envelope to the relay.');
  try {
    await api('/envelopes', { envelopes });
  } catch (e) {
    return failed(e);
  }
  try { sessionStorage.setItem(SENT(), '1'); } catch { /* storage off: a reload says "not from this tab" */ }
  await follow();
}

// After posting: poll the status until the node opens it (or it expires).
async function follow(again) {
  for (let wait = 1000; ; wait = Math.min(wait * 1.5, 5000)) {
    let s;
    try {
      s = await api('/status');
    } catch (e) {
      return failed(e);
    }
    if (after(s, again)) return;
    await sleep(wait);
  }
}

// Show a pending's aggregate state (`again`: as found on loading the
// page, before this page sent anything); true when nothing more will happen.
function after(s, again) {
  const c = targets[0].context;
  // What the relay knows of where it went: the slug and how it is injected.
  const n = [c.slug, c.injection_method, c.field_name, ...targets.map((t) => t.node_id)];
  const as = esc('“' + c.slug + '” (' + c.injection_method + (c.field_name ? ' ' + c.field_name : '') + ')') +
    (mixed(n.join(' ')) ? ' (' + MIXED + ')' : '');
  // Found so on loading, and not sent from this tab: someone else sent it.
  const other = again && !sentHere() ? ' Not sent from this tab? Tell the administrator now.' : '';
  switch (s.state) {
    case 'consumed':
      if (again) show(other ? 'warn' : 'ok', 'Already delivered', 'The secret for this link was delivered: stored as ' + as + ' on ' + esc(targets.map((t) => t.node_id).join(', ')) + '. Each link works once.' + other);
      else show('ok', 'Delivered', 'The node opened the secret and stored it as ' + as + '. You can close this page.');
      return true;
    case 'ciphertext_received':
      show(other ? 'warn' : '', 'Sent', (other ? 'A secret for this link was' : 'Sealed in this browser and') + ' handed to the relay; waiting for the node to open it.' + other);
      return false;
    case 'ciphertext_queued':
      show('warn', 'Sent, node offline', (other ? 'A secret for this link is' : 'The sealed envelope is') + ' held by the relay until the node reconnects. This page keeps checking.' + other);
      return false;
    case 'decrypt_failed':
    case 'partial_decrypted':
      showCode(8006, 'DecryptFailed');
      // Before the form shows again, every target must have been shown
      // (fingerprints, pins): on a page that has not, load it all again.
      if (!shown) {
        load().then((p) => ready(p, 1), failed);
        return true;
      }
      for (const t of s.targets) {
        const mine = targets.find((x) => x.node_id === t.node_id);
        if (mine) mine.state = t.state;
      }
      ui.form.hidden = false;
      ui.send.disabled = false;
      return true;
    case 'expired':
      showCode(8603, 'Expired');
      return true;
    default:
      showCode(8604, 'AlreadyUsed');
      return true;
  }
}

function failed(e) {
  if (e instanceof ApiError) {
    showCode(e.code, e.codeName, 'The relay answered HTTP ' + e.status + '.');
    if (e.retryAfter && e.code === 8605) ui.text.textContent += ' Try again in ' + Math.ceil(e.retryAfter / 60) + ' min.';
  } else if (e && Number.isInteger(e.code)) {
    showCode(e.code, e.name);
  } else {
    show('error', 'Relay unreachable', 'Could not reach the relay. Check your connection and reload.');
  }
}

// The fragment (PINNING §4): `p=ID&r=ORIGIN&n=NODE:NIK&…` or the legacy
// `ID`. Sets pendingId, API and pins; false for anything else.
function parseLink(h) {
  const ID = /^[A-Za-z0-9_-]{22}$/;
  let p = ID.test(h) ? h : undefined, r;
  if (!p) {
    for (const [k, v] of new URLSearchParams(h)) {
      const m = /^([A-Za-z0-9._-]{1,64}):([A-Za-z0-9_-]{43})$/.exec(v);
      if (k === 'p' && p === undefined) p = v;
      else if (k === 'r' && r === undefined) r = v;
      else if (k === 'n' && m && !pins.has(m[1]) && pins.size < 16) pins.set(m[1], m[2]);
      else return false;
    }
  }
  r = r === undefined ? location.origin : r;
  // The one relay this page talks to (its CSP allows no other).
  if (!ID.test(p) || r !== (RELAY || location.origin)) return false;
  pendingId = p;
  API = r + '/api/v1/pending/';
  return true;
}

async function main() {
  $('boot').remove();
  $('app').hidden = false;
  ui.form.addEventListener('submit', submit);
  ui.confirm.addEventListener('change', () => {
    ui.warn.hidden = true;
    ui.confirm.setAttribute('aria-describedby', 'hint');
  });
  // A new link pasted into this tab (only the fragment changes): a fresh
  // start, so nothing of the old request stays (fields cleared first, so
  // the browser has no form state to restore).
  addEventListener('hashchange', () => {
    ui.secret.value = '';
    ui.confirm.checked = false;
    location.reload();
  });
  if (!parseLink(location.hash.slice(1))) return showCode(8903, 'KnownNodesMalformed');
  show('', 'Loading…', 'Checking the page code and asking the relay for the node key.');
  // The Wasm is pinned like the script: fetch() refuses bytes whose SHA-384
  // differs from WASM_SRI, and only verified bytes are instantiated.
  try {
    const r = await fetch(WASM_URL, { integrity: WASM_SRI });
    if (!r.ok) throw new Error('HTTP ' + r.status);
    // Compiled off the main thread, instantiated by the glue's initSync:
    // the async init() and its fetch/streaming fallbacks stay out of the
    // bundle (bytes under the page budget).
    initSync({ module: await WebAssembly.compile(await r.arrayBuffer()) });
  } catch {
    show('error', 'Integrity check failed', 'The page’s WebAssembly failed its SHA-384 check (or did not load), so this page will not run. Do not enter a secret here; tell the relay administrator.');
    return;
  }
  try {
    for (const nik of pins.values()) identityFingerprint(nik);   // canonical B64U of 32 bytes
  } catch {
    return showCode(8903, 'KnownNodesMalformed');
  }
  try {
    ready(await load());
  } catch (e) {
    failed(e);
  }
}

main();
