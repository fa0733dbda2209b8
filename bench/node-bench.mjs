// Throughput in Node: one fresh process per peer (so JITs and wasm instances
// do not interfere), same loop as the browser pages (core.mjs).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_IDS as PEER_IDS, SIZES, CTX, NSK, NPK, loadNodePeer, writeResult } from './lib.mjs';
import { runThroughput } from './core.mjs';

const [,, mode, peerId] = process.argv;
const cfg = JSON.parse(process.env.BENCH_CFG || '{"samples":5,"sampleMs":300,"warmupMs":200}');
if (mode === 'child') {
  const p = await loadNodePeer(peerId);
  const r = await runThroughput(p, { sizes: SIZES, ctx: CTX, npk: NPK, nsk: NSK, ...cfg });
  process.stdout.write(JSON.stringify(r));
} else {
  const res = { env: 'node', node: process.version, cfg, peers: {} };
  for (const id of PEER_IDS) {
    const c = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'child', id], { encoding: 'utf8', env: process.env, maxBuffer: 1 << 24 });
    if (c.status !== 0) { console.error(c.stderr); res.peers[id] = { error: (c.stderr || '').split('\n').slice(0, 5).join(' ') }; continue; }
    res.peers[id] = { results: JSON.parse(c.stdout) };
    const r1k = res.peers[id].results.filter((r) => r.size === 1024).map((r) => `${r.op} ${Math.round(r.samples.sort((a, b) => a - b)[r.samples.length >> 1])}`);
    console.log(`node ${id}: 1 KiB ${r1k.join(', ')} ops/s`);
  }
  writeResult('node-throughput.json', res);
}
