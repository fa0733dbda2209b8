// Throughput in Node: one long-lived child process per peer (so JITs and wasm
// instances do not interfere), driven round-robin by this process (core.mjs:
// one sample of one cell at a time, peers rotated), so all peers see the same
// machine load. Same loop as the browser pages.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_IDS as PEER_IDS, SIZES, CTX, NSK, NPK, ISK, IPK, loadNodePeer, writeResult, median } from './lib.mjs';
import { prepareThroughput, interleave } from './core.mjs';

const [,, mode, peerId] = process.argv;
const cfg = JSON.parse(process.env.BENCH_CFG || '{"samples":5,"sampleMs":300,"warmupMs":200}');
if (mode === 'child') {
  const t = await prepareThroughput(await loadNodePeer(peerId), { sizes: SIZES, ctx: CTX, npk: NPK, nsk: NSK, isk: ISK, ipk: IPK });
  process.on('message', async ({ id, cmd, args }) => {
    try { process.send({ id, value: cmd === 'cells' ? t.cells : await t[cmd](...args) }); }
    catch (e) { process.send({ id, error: String(e?.stack || e) }); }
  });
  process.send({ ready: true });
} else {
  const res = { env: 'node', node: process.version, cfg, peers: {} };
  const remote = {};
  let cells = null;
  for (const id of PEER_IDS) {
    const child = fork(fileURLToPath(import.meta.url), ['child', id], { env: process.env, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const pending = new Map();
    let seq = 0;
    const ready = new Promise((resolve, reject) => {
      child.on('message', (m) => {
        if (m.ready) return resolve();
        const p = pending.get(m.id); pending.delete(m.id);
        if (m.error) p.reject(new Error(m.error)); else p.resolve(m.value);
      });
      child.on('exit', (code) => { const e = new Error(`${id} exited ${code}: ${stderr.split('\n').slice(0, 5).join(' ')}`); reject(e); for (const p of pending.values()) p.reject(e); });
    });
    const call = (cmd, ...args) => new Promise((resolve, reject) => { const k = ++seq; pending.set(k, { resolve, reject }); child.send({ id: k, cmd, args }); });
    try {
      await ready;
      const c = await call('cells');
      for (const x of c) if (!(cells ??= []).some((y) => y.size === x.size && y.op === x.op)) cells.push(x);
      remote[id] = { child, cells: c, warm: (ms) => call('warm', ms), sample: (i, ms, rw) => call('sample', i, ms, rw) };
    } catch (e) {
      console.error(String(e.message || e));
      res.peers[id] = { error: String(e.message || e).slice(0, 300) };
      child.kill();
    }
  }
  try {
    const { results, errors } = await interleave(remote, cells, cfg, (s) => console.log(`node: round ${s}/${cfg.samples}`));
    for (const [id, e] of Object.entries(errors)) { res.peers[id] = { error: e }; console.log(`node ${id}: ERROR ${e}`); }
    for (const id of Object.keys(results)) {
      res.peers[id] = { results: results[id] };
      const r1k = results[id].filter((r) => r.size === 1024).map((r) => `${r.op} ${Math.round(median(r.samples))}`);
      console.log(`node ${id}: 1 KiB ${r1k.join(', ')} ops/s`);
    }
  } finally { for (const r of Object.values(remote)) r.child.kill(); }
  writeResult('node-throughput.json', res);
}
