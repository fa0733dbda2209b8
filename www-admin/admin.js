// sealpass admin console: the relay's admin API in a browser (docs/API.md
// "Admin console endpoints"). Signs in with the admin token (memory, or
// sessionStorage if asked), lists nodes and pins their identities (this
// origin's localStorage, accept-new like the CLI's known-nodes), creates
// pending credentials and either gives the pinned accept link
// (docs/PINNING.md §4) or seals the secret right here with the same
// seal-only Wasm as the accept page, watches target states, cancels, and
// shows the audit trail and keystore status. Every text from the relay goes
// through textContent only.

import init, { seal, fingerprint, identityFingerprint } from './sealpass.js';

/* global WASM_SRI, WASM_URL, RELAY */
// RELAY: the relay origin this console was built for ('' when the relay
// serves it: same origin). The accept page it links to: the relay's own
// /accept, or the separately hosted page one directory up.
const ORIGIN = RELAY || location.origin;
const API = ORIGIN + '/api/v1';
const PAGE_URL = RELAY ? new URL('../', location.href).href : location.origin + '/accept';
const PINS_KEY = 'sealpass-known-nodes';
const TOKEN_KEY = 'sealpass-admin-token';
const ACCEPTS = new Set(['pubkey_posted', 'decrypt_failed']);
const ENDED = new Set(['consumed', 'expired', 'cancelled']);
const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const NIK = /^[A-Za-z0-9_-]{43}$/;
const PID = /^[A-Za-z0-9_-]{22}$/;
// The context fields a pending's contexts may carry (docs/API.md).
const CTX_KEYS = new Set(['node_id', 'pending_id', 'slug', 'injection_method', 'field_name', 'target_url']);

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let token = '';
let nodes = [];
let wasmReady = null;
let session = 0;           // +1 at every sign-out: loops of an old session stop
const cards = new Set();   // the pending cards on screen

// Relay text as shown (as the accept page, www/app.js): control and format
// characters (bidi overrides, zero-width) as \u{..} and a backslash doubled,
// so it cannot reorder or hide what is around it.
const esc = (s) => String(s).replace(/[\\\p{Cc}\p{Cf}\u2028\u2029]/gu, (c) => c == '\\' ? '\\\\' : '\\u{' + c.codePointAt(0).toString(16) + '}');
// A URL as the browser will use it: the host in ASCII (xn-- punycode).
const href = (s) => { try { return new URL(s).href; } catch { return s; } };
// Letters of two of these scripts in one word are how look-alike names are made.
const SCRIPTS = 'Latn Cyrl Grek Armn Geor Cher'.split(' ').map((n) => RegExp('\\p{sc=' + n + '}', 'u'));
const MIXED = 'a name here mixes scripts (e.g. Latin and Cyrillic) in one word; it may imitate another';
const mixed = (s) => s.split(/[^\p{L}\p{M}\p{N}]/u).some((w) => SCRIPTS.filter((r) => r.test(w)).length > 1);
const relayError = (message) => ({ code: 8612, name: 'RelayProtocol', message });
// A fingerprint as typed or pasted: lower case, no spaces.
const normFp = (s) => String(s).trim().toLowerCase().replace(/\s+/g, '');

// ------------------------------------------------------------- DOM helpers

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function button(text, onClick, cls) {
  const b = el('button', text, cls);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

function when(t) {
  return t ? new Date(t * 1000).toLocaleString() : '—';
}

function flash(kind, text) {
  const f = $('flash');
  f.className = 'box' + (kind ? ' ' + kind : '');
  f.textContent = text;
  f.hidden = !text;
}

class ApiError extends Error {
  constructor(status, code, name, message) {
    super(message || 'HTTP ' + status);
    this.status = status;
    this.code = code;
    this.codeName = name;
  }
}

// Relay wording is the relay's: escaped, capped, and marked as what it
// says (a hostile relay must not be able to write instructions that look
// like the console's own, e.g. "re-pin with this fingerprint").
const relaySays = (t) => { const x = esc(t); return 'the relay says: “' + (x.length > 160 ? x.slice(0, 160) + '…' : x) + '”'; };

function describe(e) {
  if (e instanceof ApiError && !e.status) return 'Could not reach the relay at ' + ORIGIN + '.';
  if (e instanceof ApiError) return (e.code ? e.code + ' ' + esc(e.codeName || '') + ': ' : '') + relaySays(e.message) + ' (HTTP ' + e.status + ')';
  if (e && Number.isInteger(e.code)) return e.code + ' ' + (e.name || '') + ': ' + (e.message || '');
  return 'Could not reach the relay at ' + ORIGIN + '.';
}

// ------------------------------------------------------------------- API

async function call(method, path, body, admin = true) {
  const headers = {};
  if (admin) headers.Authorization = 'Bearer ' + token;
  const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(API + path, init);
  } catch {
    throw new ApiError(0, 0, '', 'relay unreachable');
  }
  let j = null;
  try {
    j = await r.json();
  } catch {
    j = null;
  }
  if (!r.ok) {
    throw new ApiError(r.status, j && Number.isInteger(j.code) ? j.code : 0, j && typeof j.name === 'string' ? j.name : '',
      j && typeof j.message === 'string' ? j.message : 'HTTP ' + r.status);
  }
  return j;
}

const admin = (method, path, body) => call(method, '/admin' + path, body, true);

// ------------------------------------------------------------------ pins

function loadPins() {
  try {
    const o = JSON.parse(localStorage.getItem(PINS_KEY) || '{}');
    const m = new Map();
    for (const [k, v] of Object.entries(o)) if (NODE_ID.test(k) && typeof v === 'string' && NIK.test(v)) m.set(k, v);
    return m;
  } catch {
    return new Map();
  }
}

function savePins(m) {
  localStorage.setItem(PINS_KEY, JSON.stringify(Object.fromEntries(m)));
  for (const c of cards) renderLink(c);
}

// Accept-new: the first identity seen is stored; the same one again is a
// no-op; a different one is refused (returns false) until forgotten.
function pin(nodeId, nik) {
  if (!NODE_ID.test(nodeId) || !NIK.test(nik)) return false;
  const m = loadPins();
  const old = m.get(nodeId);
  if (old !== undefined) return old === nik;
  identityFingerprint(nik); // throws unless a valid key
  m.set(nodeId, nik);
  savePins(m);
  return true;
}

function forget(nodeId) {
  const m = loadPins();
  m.delete(nodeId);
  savePins(m);
}

// The identity fingerprint of a node, computed here from the key the relay
// reports (never the relay's text): '' when none is reported, null when the
// key is invalid or the relay's identity_fingerprint text differs from it
// (a relay that shows one node's fingerprint for another key: 8612).
function nodeFp(n) {
  if (!n.identity_key) return n.identity_fingerprint ? null : '';
  let fp;
  try {
    fp = identityFingerprint(n.identity_key);
  } catch {
    return null;
  }
  return n.identity_fingerprint === fp ? fp : null;
}

// pinned | unpinned | mismatch | unknown (no identity reported, not pinned)
// | contradicts (8612: the relay's fingerprint text is not its key's)
function pinState(n) {
  if (nodeFp(n) === null) return 'contradicts';
  const p = loadPins().get(n.node_id);
  if (p === undefined) return n.identity_key ? 'unpinned' : 'unknown';
  if (n.identity_key && n.identity_key !== p) return 'mismatch';
  return 'pinned';
}

// ------------------------------------------------------------------ wasm

function wasm() {
  if (!wasmReady) {
    wasmReady = (async () => {
      const r = await fetch(WASM_URL, { integrity: WASM_SRI });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      await init({ module_or_path: await r.arrayBuffer() });
    })();
    wasmReady.catch(() => {
      flash('error', 'The console’s WebAssembly did not match its pinned SHA-384 hash (or could not be loaded): sealing and fingerprints are off. Do not use this console; tell the relay administrator.');
    });
  }
  return wasmReady;
}

// --------------------------------------------------------------- sign in

async function signIn(t, remember) {
  token = t;
  try {
    await admin('GET', '/nodes?limit=1');
  } catch (e) {
    token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    if (e instanceof ApiError && e.status === 401) flash('error', 'The relay rejected this admin token.');
    else flash('error', describe(e));
    return false;
  }
  if (remember) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
  $('signin').hidden = true;
  $('console').hidden = false;
  flash('', '');
  await wasm().catch(() => {});
  showTab('nodes');
  return true;
}

function signOut() {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  $('token').value = '';
  $('console').hidden = true;
  $('signin').hidden = false;
  $('secret-box').hidden = true;
  $('secret-json').textContent = '';
  $('pending-list').replaceChildren();
  // Nothing of the session stays on screen or keeps polling.
  session++;
  for (const c of cards) {
    c.stop = true;
    if (c.kick) c.kick();
  }
  cards.clear();
  nodes = [];
  auditBefore = null;
  for (const i of ['nodes-body', 'create-nodes', 'audit-body', 'keystore-cards', 'keystore-rotations', 'dek-body']) $(i).replaceChildren();
  $('keystore-warn').hidden = true;
  $('keystore-warn').textContent = '';
  $('audit-more').hidden = true;
  flash('', 'Signed out.');
}

// ------------------------------------------------------------------- tabs

function showTab(name) {
  flash('', '');
  for (const b of document.querySelectorAll('[data-tab]')) b.setAttribute('aria-pressed', String(b.dataset.tab === name));
  for (const s of ['nodes', 'pendings', 'audit', 'keystore']) $('tab-' + s).hidden = s !== name;
  if (name === 'nodes' || name === 'pendings') refreshNodes();
  if (name === 'pendings') for (const c of cards) renderLink(c);
  if (name === 'audit') refreshAudit(true);
  if (name === 'keystore') refreshKeystore();
}

// ------------------------------------------------------------------ nodes

async function fetchAllNodes() {
  const out = [];
  let after = '';
  for (let i = 0; i < 50; i++) {
    const j = await admin('GET', '/nodes?limit=200' + (after ? '&after=' + encodeURIComponent(after) : ''));
    if (!j || !Array.isArray(j.nodes) || !j.nodes.every((n) => n && typeof n.node_id === 'string' && NODE_ID.test(n.node_id) &&
        Array.isArray(n.key_versions) && (n.identity_key === undefined || typeof n.identity_key === 'string'))) {
      throw relayError('the relay’s node list has a malformed entry (node id, key versions or identity)');
    }
    out.push(...j.nodes);
    if (!j.next_after) break;
    if (typeof j.next_after !== 'string' || !NODE_ID.test(j.next_after)) throw relayError('the relay’s node list has a malformed next_after');
    after = j.next_after;
  }
  return out;
}

async function refreshNodes() {
  try {
    nodes = await fetchAllNodes();
  } catch (e) {
    flash('error', describe(e));
    return;
  }
  renderNodes();
  renderNodeChoice();
}

function renderNodes() {
  const body = $('nodes-body');
  body.replaceChildren();
  $('nodes-empty').hidden = nodes.length > 0;
  const pins = loadPins();
  for (const n of nodes) {
    const tr = el('tr');
    tr.dataset.node = n.node_id;
    tr.append(el('td', n.node_id, 'mono'));
    const st = el('td', n.online ? 'online' : 'offline', n.online ? 'ok' : 'muted');
    st.title = 'last seen ' + when(n.last_seen);
    st.dataset.field = 'online';
    tr.append(st);
    const nfp = nodeFp(n);
    const fp = el('td', nfp === null ? '(not shown: see 8612)' : nfp || '(no identity reported yet)', 'mono fp');
    fp.dataset.field = 'fingerprint';
    tr.append(fp);
    const ps = pinState(n);
    const pinCell = el('td', null);
    pinCell.dataset.field = 'pin';
    const words = {
      pinned: 'pinned', unpinned: 'unpinned', unknown: 'unpinned (no identity reported yet)', mismatch: 'IDENTITY CHANGED — refused',
      contradicts: '8612 RelayProtocol: the relay’s identity fingerprint is not that of the key it reports — refused, do not pin',
    };
    pinCell.append(el('span', words[ps], ps === 'mismatch' || ps === 'contradicts' ? 'bad' : ps === 'pinned' ? 'ok' : 'muted'));
    if (ps === 'mismatch') {
      const was = pins.get(n.node_id);
      let wasFp = '';
      try { wasFp = identityFingerprint(was); } catch { wasFp = '?'; }
      pinCell.append(el('div', 'pinned: ' + wasFp, 'mono small'));
    }
    tr.append(pinCell);
    tr.append(el('td', 'v' + n.key_version + (n.key_versions.filter((v) => v.valid).length > 1 ? ' (previous still valid)' : '')));
    const act = el('td', null, 'actions');
    if (ps === 'unpinned') act.append(button('Pin', () => pinForm(act, n, nfp)));
    if (ps === 'pinned' || ps === 'mismatch') {
      act.append(button('Forget pin', () => {
        forget(n.node_id);
        flash('warn', 'Forgot the pinned identity of ' + n.node_id + '. Check the new fingerprint with the node operator before pinning again.');
        renderNodes();
        renderNodeChoice();
      }, 'secondary'));
    }
    act.append(button('Rotate secret', () => rotate(n.node_id), 'secondary'));
    tr.append(act);
    body.append(tr);
  }
}

// Pin is a confirm step (as `sealpass nodes pin --fingerprint FP`): the
// admin enters the fingerprint the node operator read out (from the
// agent's start line) and it must equal the one computed from the key.
function pinForm(act, n, fp) {
  const key = n.identity_key;
  const f = el('form', null, 'pin-confirm');
  f.noValidate = true;
  const lab = el('label', 'Identity fingerprint the operator of ' + n.node_id + ' read out:');
  const inp = el('input');
  inp.id = 'pin-fp-' + n.node_id;
  inp.autocomplete = 'off';
  inp.spellcheck = false;
  inp.dataset.field = 'pin-fp';
  lab.htmlFor = inp.id;
  const ok = el('button', 'Confirm pin');
  ok.type = 'submit';
  f.append(lab, inp, ok, button('Cancel', () => renderNodes(), 'secondary'));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    let now = '';
    try { now = identityFingerprint(key); } catch { now = ''; }
    if (!now || now !== fp || normFp(inp.value) !== normFp(fp)) {
      flash('error', 'Not pinned: the fingerprint entered is not that of the identity the relay reports for ' + n.node_id +
        '. Ask the node operator for the fingerprint the agent printed at start (“identity fingerprint …”).');
      return;
    }
    if (pin(n.node_id, key)) flash('ok', 'Pinned ' + n.node_id + ' to identity ' + fp + '.');
    else flash('error', 'Not pinned: ' + n.node_id + ' already has another pinned identity.');
    renderNodes();
    renderNodeChoice();
  });
  act.replaceChildren(f);
  inp.focus();
}

function showSecret(title, s) {
  $('secret-title').textContent = title;
  $('secret-json').textContent = JSON.stringify({ node_id: s.node_id, key_version: s.key_version, secret: s.secret });
  $('secret-box').hidden = false;
}

async function rotate(nodeId) {
  if (!confirm('Issue a new secret for ' + nodeId + '? The current one stays valid for 24 h.')) return;
  try {
    const s = await admin('POST', '/nodes/' + encodeURIComponent(nodeId) + '/rotate-secret');
    showSecret('New secret of ' + s.node_id + ' (v' + s.key_version + ', shown once)', s);
    flash('ok', 'Rotated the secret of ' + s.node_id + '.');
  } catch (e) {
    flash('error', describe(e));
  }
  refreshNodes();
}

async function addNode(ev) {
  ev.preventDefault();
  const id = $('new-node-id').value.trim();
  if (!NODE_ID.test(id)) {
    flash('error', 'A node id is 1–64 characters of A–Z a–z 0–9 . _ -');
    return;
  }
  try {
    const s = await admin('POST', '/nodes', { node_id: id });
    $('new-node-id').value = '';
    showSecret('Secret of ' + s.node_id + ' (v' + s.key_version + ', shown once)', s);
    flash('ok', 'Registered ' + s.node_id + '.');
  } catch (e) {
    flash('error', describe(e));
  }
  refreshNodes();
}

// --------------------------------------------------------------- pendings

function renderNodeChoice() {
  const box = $('create-nodes');
  const checked = new Set([...box.querySelectorAll('input:checked')].map((i) => i.value));
  box.replaceChildren();
  for (const n of nodes) {
    const l = el('label', null, 'check');
    const i = el('input');
    i.type = 'checkbox';
    i.value = n.node_id;
    i.checked = checked.has(n.node_id);
    l.append(i, document.createTextNode(' ' + n.node_id + ' (' + (n.online ? 'online' : 'offline') + ', ' + pinState(n) + ')'));
    box.append(l);
  }
  if (!nodes.length) box.append(el('p', 'Register a node first.', 'muted'));
}

async function createPending(ev) {
  ev.preventDefault();
  const ids = [...$('create-nodes').querySelectorAll('input:checked')].map((i) => i.value);
  if (ids.length < 1 || ids.length > 16) {
    flash('error', 'Choose 1 to 16 nodes.');
    return;
  }
  const body = { node_ids: ids, slug: $('slug').value.trim(), injection_method: $('method').value.trim() };
  const field = $('field').value.trim();
  const url = $('target-url').value.trim();
  if (field) body.field_name = field;
  if (url) body.target_url = url;
  const exp = Number($('expiry').value);
  if (Number.isInteger(exp) && exp > 0) body.expires_in_secs = exp;
  // What was submitted, kept with the card: every view is checked against it.
  const submitted = { slug: body.slug, injection_method: body.injection_method, field_name: field, target_url: url };
  try {
    const p = await admin('POST', '/pending', body);
    if (!p || typeof p.pending_id !== 'string' || !PID.test(p.pending_id)) throw relayError('the relay answered with a malformed pending id');
    flash('ok', 'Created pending credential ' + p.pending_id + '.');
    addPendingCard(p.pending_id, ids, submitted);
  } catch (e) {
    flash('error', describe(e));
  }
}

// The accept link (PINNING §4): with every node's pin, or none.
function acceptLink(id, ids) {
  const pins = loadPins();
  const q = new URLSearchParams();
  q.append('p', id);
  q.append('r', ORIGIN);
  const all = ids.every((n) => pins.has(n));
  if (all) for (const n of ids) q.append('n', n + ':' + pins.get(n));
  return { url: PAGE_URL + '#' + q.toString(), pinned: all };
}

function addPendingCard(id, ids, submitted) {
  const card = el('article', null, 'card pending');
  card.dataset.pending = id;
  card.append(el('h3', 'Pending ' + id, 'mono'));
  const c = submitted;
  const ctxLine = el('p', esc('For ' + ids.join(', ') + ': stores it as “' + c.slug + '” (' + c.injection_method +
    (c.field_name ? ' ' + c.field_name : '') + ')' + (c.target_url ? ' for ' + href(c.target_url) : '')), 'context');
  card.append(ctxLine);
  if (mixed([...ids, c.slug, c.field_name, c.target_url].join(' '))) card.append(el('p', 'Warning: ' + MIXED + '.', 'warn mixed'));
  const state = el('p', 'state: awaiting_pubkey', 'state');
  const list = el('ul', null, 'targets');
  const linkBox = el('p', null, 'link');
  const form = el('form', null, 'seal');
  form.noValidate = true;
  const lab = el('label', 'Or enter the secret here (sealed in this browser to the pinned identities; every target node must be pinned)');
  const inp = el('input');
  inp.type = 'password';
  inp.autocomplete = 'off';
  inp.spellcheck = false;
  inp.id = 'secret-' + id;
  lab.htmlFor = inp.id;
  const send = el('button', 'Seal and send');
  send.type = 'submit';
  form.append(lab, inp, send);
  const msg = el('p', '', 'msg');
  msg.setAttribute('role', 'status');
  const cancel = button('Cancel pending', () => cancelPending(id, ctl), 'danger');
  card.append(state, list, linkBox, form, msg, cancel);
  $('pending-list').prepend(card);
  const ctl = { id, ids, submitted, card, state, list, form, inp, send, msg, cancel, linkBox, stop: false, kick: null, session };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    sealAndSend(ctl);
  });
  cards.add(ctl);
  renderLink(ctl);
  watch(ctl);
  return ctl;
}

// The link with the pins as they are now (pinning after creating counts).
function renderLink(ctl) {
  const link = acceptLink(ctl.id, ctl.ids);
  const a = el('a', link.url, 'mono');
  a.href = link.url;
  a.rel = 'noreferrer noopener';
  a.target = '_blank';
  ctl.linkBox.replaceChildren(el('span', link.pinned ? 'Pinned accept link: ' : 'Accept link (NOT pinned: pin every target node first for a pinned link): '), a);
}

function renderStatus(ctl, s) {
  renderLink(ctl);
  ctl.state.textContent = 'state: ' + s.state + ' · expires ' + when(s.expires_at);
  ctl.state.dataset.state = s.state;
  ctl.list.replaceChildren();
  for (const t of s.targets) {
    const li = el('li', esc(t.node_id + ': ' + t.state + (t.code ? ' (' + t.code + ')' : '') +
      (ctl.maybe && ctl.maybe.has(t.node_id) ? ' — may already be delivered: a cancel cannot recall an envelope the node pulled' : '')));
    li.dataset.node = t.node_id;
    li.dataset.state = t.state;
    ctl.list.append(li);
  }
  const ended = ENDED.has(s.state);
  const failed = s.targets.some((t) => t.state === 'decrypt_failed');
  ctl.form.hidden = ended || !s.targets.some((t) => ACCEPTS.has(t.state) || t.state === 'awaiting_pubkey');
  ctl.send.textContent = failed ? 'Retry failed targets' : 'Seal and send';
  ctl.cancel.hidden = ended;
}

// Poll the status with backoff (1 s, ×1.5, at most 10 s; back to 1 s on a
// change or after an action) until the pending has ended.
async function watch(ctl) {
  let wait = 1000, last = '';
  while (!ctl.stop && token && ctl.session === session) {
    try {
      const s = await call('GET', '/pending/' + ctl.id + '/status', undefined, false);
      if (ctl.stop || ctl.session !== session) return;
      if (!s || !Array.isArray(s.targets) || typeof s.state !== 'string') throw relayError('malformed status');
      const key = JSON.stringify(s);
      if (key !== last) {
        wait = 1000;
        last = key;
        renderStatus(ctl, s);
      }
      if (ENDED.has(s.state)) return;
    } catch (e) {
      ctl.msg.textContent = describe(e);
    }
    await new Promise((r) => {
      const t = setTimeout(r, wait);
      ctl.kick = () => { clearTimeout(t); wait = 1000; r(); };
    });
    wait = Math.min(wait * 1.5, 10000);
  }
}

async function cancelPending(id, ctl) {
  if (!confirm('Cancel pending ' + id + '? Nodes that have not pulled it will no longer receive it. A cancel cannot recall an envelope a node has already pulled: a target whose secret is already sent (ciphertext_received or queued) may already be delivered.')) return;
  try {
    const s = await admin('POST', '/pendings/' + encodeURIComponent(id) + '/cancel');
    const maybe = Array.isArray(s.may_be_delivered) ? s.may_be_delivered.filter((n) => typeof n === 'string' && NODE_ID.test(n)) : [];
    ctl.maybe = new Set(maybe);
    renderStatus(ctl, s);
    ctl.msg.textContent = maybe.length
      ? esc('Cancelled. May already be delivered (the secret was sent before the cancel; a cancel cannot recall it): ' + maybe.join(', ') + '.')
      : 'Cancelled.';
  } catch (e) {
    ctl.msg.textContent = describe(e);
  }
  if (ctl.kick) ctl.kick();
}

// The view the relay gives for sealing, checked whole: its targets are
// exactly the nodes chosen (8901), then pins (8901), then every target
// against itself and against what was submitted (8612).
function checkView(v, ctl) {
  const id = ctl.id;
  const pins = loadPins();
  if (!v || !Array.isArray(v.targets)) throw relayError('malformed view');
  const seen = new Set();
  for (const t of v.targets) {
    if (!t || typeof t.node_id !== 'string' || !NODE_ID.test(t.node_id)) throw relayError('a target with a malformed node id');
    if (seen.has(t.node_id)) throw relayError('repeated target');
    seen.add(t.node_id);
  }
  const chosen = new Set(ctl.ids);
  if (seen.size !== chosen.size || [...seen].some((n) => !chosen.has(n))) {
    throw { code: 8901, name: 'IdentityMismatch', message: 'the relay lists other targets (' + esc([...seen].join(', ')) + ') than the nodes you chose (' + ctl.ids.join(', ') + '): nothing was sealed' };
  }
  for (const t of v.targets) {
    const p = pins.get(t.node_id);
    if (p !== undefined && t.identity_key !== p) {
      throw { code: 8901, name: 'IdentityMismatch', message: 'node ' + t.node_id + ' reports another identity than its pin: nothing was sealed' };
    }
    if (p === undefined) {
      // Sealing needs every target pinned: the admin pins a node in the
      // Nodes tab after comparing its fingerprint (as inject without a
      // terminal refuses an unpinned node).
      if (!t.identity_key) throw { code: 8904, name: 'IdentityUnavailable', message: 'node ' + t.node_id + ' reports no identity to pin' };
      throw { code: 8902, name: 'IdentityNotPinned', message: 'node ' + t.node_id + ' is not pinned: compare its identity fingerprint with the node operator and pin it in the Nodes tab first' };
    }
    const c = t.context;
    if (fingerprint(t.public_key) !== t.fingerprint || identityFingerprint(t.identity_key) !== t.identity_fingerprint ||
        !c || typeof c !== 'object' || c.pending_id !== id || c.node_id !== t.node_id) {
      throw relayError('the relay’s view contradicts itself');
    }
    const sub = ctl.submitted;
    if (Object.keys(c).some((k) => !CTX_KEYS.has(k)) || c.slug !== sub.slug || c.injection_method !== sub.injection_method ||
        (c.field_name ?? '') !== sub.field_name || (c.target_url ?? '') !== sub.target_url) {
      throw relayError('the context the relay gives for ' + t.node_id + ' is not what you submitted (' +
        esc('slug “' + c.slug + '”, ' + c.injection_method + (c.field_name ? ' ' + c.field_name : '') + (c.target_url ? ' for ' + c.target_url : '')) + '): nothing was sealed');
    }
  }
}

async function sealAndSend(ctl) {
  const secret = ctl.inp.value;
  if (!secret) {
    ctl.msg.textContent = 'Enter the secret first.';
    return;
  }
  ctl.send.disabled = true;
  try {
    await wasm();
    let v;
    for (let wait = 1000; ; wait = Math.min(wait * 2, 10000)) {
      if (ctl.stop || ctl.session !== session) return;
      try {
        v = await call('GET', '/pending/' + ctl.id, undefined, false);
        break;
      } catch (e) {
        if (!(e instanceof ApiError) || e.code !== 8009) throw e;
        ctl.msg.textContent = 'Waiting for the node(s) to post their one-time key…';
        await sleep(wait);
      }
    }
    if (ctl.stop || ctl.session !== session) return;
    checkView(v, ctl);
    const pins = loadPins();
    const bytes = new TextEncoder().encode(secret);
    let envelopes;
    try {
      envelopes = v.targets.filter((t) => ACCEPTS.has(t.state)).map((t) => ({
        node_id: t.node_id,
        envelope: seal(t.public_key, bytes, t.context, { identity: pins.get(t.node_id) }),
      }));
    } finally {
      bytes.fill(0);
    }
    if (!envelopes.length) throw { code: 8604, name: 'AlreadyUsed', message: 'no target takes an envelope now' };
    ctl.inp.value = '';
    const s = await call('POST', '/pending/' + ctl.id + '/envelopes', { envelopes }, false);
    ctl.msg.textContent = 'Sealed in this browser and sent (' + envelopes.length + ' envelope' + (envelopes.length > 1 ? 's' : '') + ').';
    renderStatus(ctl, s);
  } catch (e) {
    ctl.msg.textContent = describe(e);
  } finally {
    ctl.send.disabled = false;
    if (ctl.kick) ctl.kick();
  }
}

// ------------------------------------------------------------------ audit

let auditBefore = null;

async function refreshAudit(reset) {
  if (reset) {
    auditBefore = null;
    $('audit-body').replaceChildren();
  }
  let j;
  try {
    j = await admin('GET', '/audit?limit=50' + (auditBefore ? '&before=' + auditBefore : ''));
  } catch (e) {
    flash('error', describe(e));
    return;
  }
  for (const ev of j.events) {
    const tr = el('tr');
    tr.dataset.event = ev.event;
    for (const v of [ev.id, when(ev.at), ev.event, ev.actor, ev.route, ev.code || '']) tr.append(el('td', esc(v)));
    $('audit-body').append(tr);
  }
  auditBefore = j.next_before || null;
  $('audit-more').hidden = !auditBefore;
}

// --------------------------------------------------------------- keystore

function card(dl, term, value, cls) {
  const d = el('div', null, 'kv');
  d.append(el('dt', term), el('dd', value, cls));
  dl.append(d);
}

async function refreshKeystore() {
  let k;
  try {
    k = await admin('GET', '/keystore');
  } catch (e) {
    flash('error', describe(e));
    return;
  }
  const warn = $('keystore-warn');
  warn.hidden = !k.dev_insecure;
  warn.textContent = k.dev_insecure ? 'This relay uses --dev-insecure-kek: a fixed, publicly known KEK. Its node secrets are readable by anyone with its files.' : '';
  const cards = $('keystore-cards');
  cards.replaceChildren();
  card(cards, 'Active DEK', k.active_dek_id || 'none', 'mono');
  card(cards, 'KEK id', k.kek_id, 'mono');
  if (k.previous_kek_id) card(cards, 'Previous KEK id', k.previous_kek_id, 'mono');
  card(cards, 'Sealed node secrets', k.node_secret_records);
  card(cards, 'Records (all purposes)', k.records_total);
  card(cards, 'Storage format', 'v' + k.format_version);
  const rot = $('keystore-rotations');
  rot.replaceChildren();
  const r1 = k.last_dek_rotation;
  card(rot, 'Last DEK rotation', r1 ? when(r1.at) + ': re-encrypted ' + r1.count + ' record' + (r1.count === 1 ? '' : 's') + ' under ' + esc(r1.dek_id) + ' (' + esc(r1.detail) + ')' : 'never');
  const r2 = k.last_kek_rotation;
  card(rot, 'Last KEK rotation', r2 ? when(r2.at) + ': re-wrapped ' + r2.count + ' DEK' + (r2.count === 1 ? '' : 's') + ' under KEK ' + esc(r2.kek_id) + ' (' + esc(r2.detail) + ')' : 'never');
  const body = $('dek-body');
  body.replaceChildren();
  for (const d of k.deks) {
    const tr = el('tr');
    for (const v of [d.dek_id, d.state, d.kek_id, when(d.created_at), d.retired_at ? when(d.retired_at) : '—', d.records]) tr.append(el('td', v));
    body.append(tr);
  }
}

// ------------------------------------------------------------------- main

function main() {
  $('boot').remove();
  $('app').hidden = false;
  $('relay-line').textContent = 'Relay: ' + ORIGIN + (RELAY ? '' : ' — served by the relay itself: its pins and checks do not protect against this relay (it serves this code). Use the console hosted apart (./build.sh page) or the CLI for that.');
  $('signin').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = $('token').value.trim();
    $('token').value = '';
    if (t) signIn(t, $('remember').checked);
  });
  $('signout').addEventListener('click', signOut);
  for (const b of document.querySelectorAll('[data-tab]')) b.addEventListener('click', () => showTab(b.dataset.tab));
  $('nodes-refresh').addEventListener('click', refreshNodes);
  $('add-node').addEventListener('submit', addNode);
  $('secret-hide').addEventListener('click', () => {
    $('secret-box').hidden = true;
    $('secret-json').textContent = '';
  });
  $('create').addEventListener('submit', createPending);
  $('audit-refresh').addEventListener('click', () => refreshAudit(true));
  $('audit-more').addEventListener('click', () => refreshAudit(false));
  $('keystore-refresh').addEventListener('click', refreshKeystore);
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    $('remember').checked = true;
    signIn(saved, true);
  }
}

main();
