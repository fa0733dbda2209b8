// The timing loop, identical in Node and in the browser pages.
// For each size and op: a warm-up, then `samples` samples of >= `sampleMs`
// each; a sample's figure is ops / elapsed seconds. Returns raw samples.
export async function runThroughput(peer, opts) {
  const { sizes, ctx, npk, nsk, samples, sampleMs, warmupMs, ops = ['seal', 'open'] } = opts;
  const now = () => performance.now();
  const out = [];
  for (const n of sizes) {
    const pt = new Uint8Array(n);
    for (let i = 0; i < n; i++) pt[i] = (i * 131 + 7) & 255;
    const env = await peer.seal(npk, pt, ctx);
    const back = await peer.open(nsk, env, ctx, npk);
    if (back.length !== n || back[n - 1] !== pt[n - 1]) throw new Error(`${peer.meta.id}: round trip failed at ${n}`);
    for (const op of ops) {
      const once = op === 'seal' ? () => peer.seal(npk, pt, ctx) : () => peer.open(nsk, env, ctx, npk);
      const isAsync = once() instanceof Promise;
      const sample = async (ms) => {
        let k = 0; const t0 = now(); let t = t0;
        if (isAsync) { do { await once(); k++; t = now(); } while (t - t0 < ms); }
        else { do { once(); k++; t = now(); } while (t - t0 < ms); }
        return (k * 1000) / (t - t0);
      };
      await sample(warmupMs);
      const xs = [];
      for (let s = 0; s < samples; s++) xs.push(await sample(sampleMs));
      out.push({ size: n, op, samples: xs });
    }
  }
  return out;
}
