// Cold start in Node: per sample a fresh `node` process that imports the peer,
// initialises it and seals 24 bytes once. `t` is performance.now() at the end
// (ms since the process's time origin, so it includes Node's own start-up);
// `empty` is a process that does nothing, the baseline.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_IDS as PEER_IDS, CTX, NPK, writeResult, median } from './lib.mjs';

const [,, mode, id] = process.argv;
if (mode === 'child') {
  const t0 = performance.now();
  let r = { t0 };
  if (id !== 'empty') {
    const file = id === 'sealpass' ? 'sealpass-node.mjs' : id === 'sealpass-small' ? 'sealpass-small-node.mjs' : `${id}.mjs`;
    const p = await import(`./peers/${file}`);
    const t1 = performance.now();
    await p.init();
    const t2 = performance.now();
    const env = await p.seal(NPK, new TextEncoder().encode('sk_live_0123456789abcdef'), CTX);
    const t3 = performance.now();
    r = { t0, import: t1 - t0, init: t2 - t1, seal: t3 - t2, ok: typeof env.ct === 'string' };
  }
  r.t = performance.now();
  process.stdout.write(JSON.stringify(r));
} else {
  const runs = Number(process.env.BENCH_COLD_RUNS || 7);
  const samples = {};
  for (let k = 0; k < runs; k++) {
    for (const p of ['empty', ...PEER_IDS]) {
      const w0 = performance.now();
      const c = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'child', p], { encoding: 'utf8' });
      const wall = performance.now() - w0;
      (samples[p] ??= []).push(c.status === 0 ? { ...JSON.parse(c.stdout), wall } : { error: c.stderr.slice(0, 300) });
    }
  }
  for (const p of Object.keys(samples)) {
    const ok = samples[p].filter((s) => !s.error);
    console.log(`node cold ${p}: t ${median(ok.map((s) => s.t)).toFixed(1)} ms, wall ${median(ok.map((s) => s.wall)).toFixed(1)} ms`);
  }
  writeResult('node-cold.json', { runs, node: process.version, samples });
}
