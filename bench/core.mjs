// The timing loop, identical in Node and in the browser pages.
// prepareThroughput checks a round trip per size and returns the (size, op)
// cells and a sampler; the driver (node-bench.mjs, browser-bench.mjs) takes the
// samples round-robin across peers, so drifting machine load hits all peers
// alike instead of whichever peer happened to run during a slow minute.
// A sample's figure is ops / elapsed seconds over >= `ms` of calls, after a
// short re-warm (caches and branch predictors were last used by another peer).
export async function prepareThroughput(peer, opts) {
  const { sizes, ctx, npk, nsk, isk, ipk } = opts;
  // v2 (identity-bound, PROTOCOL.md §15) cells for peers that implement it.
  const v2 = typeof peer.seal2 === 'function' && isk && ipk;
  // 'openb': open with the envelope as its JSON bytes (what came off the
  // wire), for peers that take bytes (sealpass's Opener.open(Uint8Array)).
  const bytes = typeof peer.openBytes === 'function';
  const ops = opts.ops || [...(v2 ? ['seal', 'open', 'seal2', 'open2'] : ['seal', 'open']), ...(bytes ? ['openb'] : [])];
  const now = () => performance.now();
  const cells = [];
  for (const n of sizes) {
    const pt = new Uint8Array(n);
    for (let i = 0; i < n; i++) pt[i] = (i * 131 + 7) & 255;
    const env = await peer.seal(npk, pt, ctx);
    const back = await peer.open(nsk, env, ctx, npk);
    if (back.length !== n || back[n - 1] !== pt[n - 1]) throw new Error(`${peer.meta.id}: round trip failed at ${n}`);
    let env2 = null;
    if (v2) {
      env2 = await peer.seal2(npk, pt, ctx, ipk);
      const b2 = await peer.open2(nsk, env2, ctx, npk, isk);
      if (b2.length !== n || b2[n - 1] !== pt[n - 1]) throw new Error(`${peer.meta.id}: v2 round trip failed at ${n}`);
    }
    const envBytes = bytes ? new TextEncoder().encode(JSON.stringify(env)) : null;
    if (bytes) {
      const bb = await peer.openBytes(nsk, envBytes, ctx);
      if (bb.length !== n || bb[n - 1] !== pt[n - 1]) throw new Error(`${peer.meta.id}: bytes round trip failed at ${n}`);
    }
    for (const op of ops) {
      const once = {
        openb: () => peer.openBytes(nsk, envBytes, ctx),
        seal: () => peer.seal(npk, pt, ctx), open: () => peer.open(nsk, env, ctx, npk),
        seal2: () => peer.seal2(npk, pt, ctx, ipk), open2: () => peer.open2(nsk, env2, ctx, npk, isk),
      }[op];
      cells.push({ size: n, op, once, isAsync: once() instanceof Promise });
    }
  }
  const run = async (c, ms) => {
    let k = 0; const t0 = now(); let t = t0;
    if (c.isAsync) { do { await c.once(); k++; t = now(); } while (t - t0 < ms); }
    else { do { c.once(); k++; t = now(); } while (t - t0 < ms); }
    return (k * 1000) / (t - t0);
  };
  return {
    cells: cells.map(({ size, op }) => ({ size, op })),
    /** Warm every cell once (JIT tiers, wasm compilation). */
    async warm(ms) { for (const c of cells) await run(c, ms); },
    /** One sample of cell i: re-warm for `rewarmMs`, then time `ms`. */
    async sample(i, ms, rewarmMs) { await run(cells[i], rewarmMs); return run(cells[i], ms); },
  };
}

/** Round-robin driver over peers that expose warm/sample (possibly remote).
 *  `cells` is the union of all peers' cells; a peer may have only some of
 *  them (v2 cells only where the peer has v2): peers[id].cells lists its own,
 *  in its own order, and a cell it lacks is skipped for it.
 *  Returns { results: {id: its cells with samples}, errors: {id: message} }; a
 *  peer that throws is dropped from the rest of the run. */
export async function interleave(peers, cells, cfg, log = () => {}) {
  const { samples, sampleMs, warmupMs } = cfg;
  const rewarmMs = Math.min(50, warmupMs);
  let ids = Object.keys(peers);
  const own = Object.fromEntries(ids.map((id) => [id, peers[id].cells || cells]));
  const idx = Object.fromEntries(ids.map((id) => [id, cells.map((c) => own[id].findIndex((x) => x.size === c.size && x.op === c.op))]));
  const results = Object.fromEntries(ids.map((id) => [id, own[id].map((c) => ({ ...c, samples: [] }))]));
  const errors = {};
  const fail = (id, e) => { errors[id] = String(e?.message || e).slice(0, 300); ids = ids.filter((x) => x !== id); delete results[id]; };
  for (const id of [...ids]) { try { await peers[id].warm(warmupMs); } catch (e) { fail(id, e); } }
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < cells.length; i++) {
      // Rotate the order each round and cell so no peer always follows the same one.
      const order = ids.map((_, k) => ids[(k + s + i) % ids.length]);
      for (const id of order) {
        const j = idx[id][i];
        if (!results[id] || j < 0) continue;
        try { results[id][j].samples.push(await peers[id].sample(j, sampleMs, rewarmMs)); } catch (e) { fail(id, e); }
      }
    }
    log(s + 1);
  }
  return { results, errors };
}
