// The README's browser example (`sendSecret`) as written, against a real
// relay and a real node agent on loopback: the page (a static origin apart
// from the relay, which allows it by --allow-origin) fetches the pending,
// checks the node list, the context and the pinned identity key, seals v2
// and posts {"envelopes":[…]}; the agent pulls, opens and stores the secret,
// and `sealpass node secret get` must print exactly what the browser sent.
// With the README's placeholder pin, a node list the relay does not match or
// another slug, the example must refuse and post nothing.
import fs from "node:fs";
import path from "node:path";
import { assert, eq, freePort, runOk, write } from "../lib.mjs";

/** The js block after `<!-- example:NAME -->` in the installed package's README. */
function readmeBlock(readme, name) {
  const at = readme.indexOf(`<!-- example:${name} -->`);
  assert(at >= 0, `README has no example:${name} block`);
  const m = readme.slice(at).match(/```js\n([\s\S]*?)```/);
  assert(m, `README example:${name} has no js block`);
  return m[1];
}

export default {
  id: "readme-relay",
  title: "The README's browser example against a real relay and node agent",
  tier: "test",
  needs: "browser",
  config: "the relay started with `--allow-origin <your page's origin>` when the page is hosted apart from it",
  async run(t) {
    const relayBin = path.join(t.m.root, "target/debug/sealpass-relay");
    assert(fs.existsSync(relayBin), `${relayBin} missing (cargo build --workspace --bins)`);
    const cli = t.m.cli;
    const site = t.project("site", { type: "module" });
    const readme = fs.readFileSync(path.join(site, "node_modules/sealpass/README.md"), "utf8");
    const example = readmeBlock(readme, "browser");
    assert(!/^await /m.test(example), "the README example has a top-level await");
    const placeholder = example.match(/const PINS = new Map\(\[\["web-1", "([A-Za-z0-9_-]{43})"\]\]\);/);
    assert(placeholder, "the README example has no PINS line for web-1");

    // Relay data dir with node web-1 registered, the node's keystore with its identity.
    const work = path.join(t.tmp, "readme-relay");
    const relayDir = path.join(work, "relay");
    const nodeDir = path.join(work, "node");
    const reg = write(path.join(work, "web-1.json"), runOk(relayBin, ["--data-dir", relayDir, "--dev-insecure-kek", "node", "add", "web-1"]).stdout);
    const ident = JSON.parse(runOk(cli, ["node", "identity", "--data-dir", nodeDir, "--dev-insecure-kek", "--json"]).stdout);

    // The page: the README module with the node's pin, and a driver calling sendSecret.
    write(path.join(site, "readme.js"), example.replace(placeholder[0], placeholder[0].replace(placeholder[1], ident.identity)));
    write(path.join(site, "unpinned.js"), example);
    write(
      path.join(site, "driver.js"),
      `const q = new URLSearchParams(location.search);
const mod = await import(q.get("module"));
mod.sendSecret(q.get("relay"), q.get("pid"), q.get("secret"), JSON.parse(q.get("expect"))).then(
  (posted) => { window.__result = { posted }; },
  (e) => { window.__result = { refused: String(e) }; },
);
`,
    );
    write(
      path.join(site, "index.html"),
      `<!doctype html><html><head><meta charset="utf-8">
<script type="importmap">{"imports":{"sealpass":"/node_modules/sealpass/index.js"}}</script>
<script type="module" src="/driver.js"></script></head><body></body></html>`,
    );
    const pageOrigin = await t.serveStatic(site);

    const port = await freePort();
    const relay = `http://127.0.0.1:${port}`;
    await t.spawnServer(relayBin, ["--data-dir", relayDir, "--dev-insecure-kek", "--listen", `127.0.0.1:${port}`, "--allow-origin", pageOrigin], {
      readyUrl: `${relay}/api/v1/pending/none`,
    });
    await t.spawnServer(
      cli,
      ["node", "run", "--relay", relay, "--node-id", "web-1", "--data-dir", nodeDir, "--dev-insecure-kek", "--register-secret-file", reg, "--poll-interval", "0.3"],
      { ready: (out) => out.includes("agent started") },
    );
    const token = fs.readFileSync(path.join(relayDir, "admin.token"), "utf8").trim();
    const newPending = async (slug) => {
      const r = await fetch(`${relay}/api/v1/admin/pending`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ node_ids: ["web-1"], slug, injection_method: "env" }),
      });
      eq(r.status, 201, "admin: create pending");
      return (await r.json()).pending_id;
    };
    const status = async (pid) => (await (await fetch(`${relay}/api/v1/pending/${pid}/status`)).json()).targets[0].state;
    const nodeSecret = (slug) => runOk(cli, ["node", "secret", "get", "--data-dir", nodeDir, "--dev-insecure-kek", slug]).stdout;
    const url = (module, pid, secret, slug, nodes = ["web-1"]) =>
      `${pageOrigin}/index.html?${new URLSearchParams({ module, relay, pid, secret, expect: JSON.stringify({ nodes, slug, injection_method: "env" }) })}`;
    /** sendSecret must refuse with `why` and post nothing. */
    const refused = async (browser, pageUrl, pid, why, label) => {
      const r = await t.pageResult(browser, pageUrl, 90_000);
      assert(why.test(r.result.refused ?? ""), `${browser}: ${label}: ${JSON.stringify(r.result)}`);
      eq(await status(pid), "pubkey_posted", `${browser}: ${label}: nothing posted`);
      t.log(`${browser}: ${label}: refused, nothing posted`);
    };

    for (const browser of ["chromium", "firefox"]) {
      const slug = `api-key-${browser}`;
      const secret = `sk_live ${browser} sécret ✓`;
      const pid = await newPending(slug);
      const { result, logs } = await t.pageResult(browser, url("/readme.js", pid, secret, slug), 90_000);
      assert(result.posted, `${browser}: sendSecret failed: ${result.refused}; console: ${logs.join(" | ")}`);
      eq(result.posted.targets.map((x) => x.node_id), ["web-1"], `${browser}: posted targets`);
      let state = "";
      for (let i = 0; i < 150 && state !== "consumed"; i++) {
        state = await status(pid);
        if (state !== "consumed") await new Promise((r) => setTimeout(r, 200));
      }
      eq(state, "consumed", `${browser}: target state after the post`);
      eq(nodeSecret(slug), secret, `${browser}: the node holds exactly the secret (sealpass node secret get)`);
      t.browsersChecked.add(browser);
      t.log(`${browser}: sendSecret sealed v2 to the pinned node; the agent stored the secret`);

      // Refused before anything is posted: the README's placeholder pin, a
      // node list other than the relay's, a context other than the one asked for.
      const p2 = await newPending(`other-${browser}`);
      await refused(browser, url("/unpinned.js", p2, "never sent", `other-${browser}`), p2, /identity not pinned or changed/, "the placeholder pin");
      await refused(browser, url("/readme.js", p2, "never sent", `other-${browser}`, ["web-1", "db-1"]), p2, /other nodes than the ones you chose/, "a node the relay does not list");
      await refused(browser, url("/readme.js", p2, "never sent", `not-${browser}`), p2, /context is not what you asked for/, "another slug than asked for");
    }
  },
};
