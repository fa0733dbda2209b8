//! `sealpass inject`: the admin side.
//!
//! Create the pending credential, wait for every node's one-time key, check
//! each node's reported identity against the sender's pin (docs/PINNING.md
//! §3) before anything is sealed or printed, read the secret (no echo, or
//! from an environment variable), seal it locally (envelope v2, to the
//! pinned identity) with the exact requested context, post the envelopes
//! and wait for the nodes' verdicts. With `--browser` the pinned accept link
//! is printed instead and the page seals. The secret is only ever in a
//! `Zeroizing` buffer: never on argv, in output or in an error.

use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use zeroize::Zeroizing;

use super::abort;
use super::http::{self, check_id, printable, Relay, SMALL_LIMIT};
use super::targets::{self, Checked, Identities, Request};
use super::waiting;
use sealpass::context::Context;
use sealpass::error::{Code, Error, Result};
use sealpass::suite::MAX_PLAINTEXT_SIZE;
use sealpass_native::io::read_file_limited;
use sealpass_native::known_nodes::{self, KnownNodes};
use sealpass_native::wire::{
    raw_from_json, request_body, CreatePending, PendingCreated, PostEnvelopes, PostedEnvelope,
};

/// Env var holding the admin token when no file is given.
pub const ENV_ADMIN_TOKEN: &str = "SEALPASS_ADMIN_TOKEN";

/// `sealpass inject` arguments.
#[derive(Args, Debug)]
#[command(after_help = "\
Modes: interactive (default; the secret is typed twice without echo), --secret-env VAR,
or --browser (prints the accept-page link with the pins; the secret is typed in the browser).
Every envelope is v2, sealed to the node's pinned identity key (the known-nodes file,
see `sealpass nodes --help`). Before anything is sealed or printed:
  pinned node: the identity the relay reports must equal the pin, else 8901 and nothing is sent;
  unpinned node: --pin FINGERPRINT (compared out of band with `sealpass node identity` on the
  node) pins it; without --pin, on a terminal you are shown the fingerprint and asked to pin it;
  otherwise (no terminal, or --yes) it is 8902 and nothing is sent.
Unattended (cron, CI): pin each node once, then --secret-env VAR asks nothing and needs
no terminal; the pin is the check (no per-request fingerprint is needed).
Stopped early (Ctrl-C, SIGTERM, --timeout, identity not confirmed, relay gone), inject
prints on stderr the exact command that resumes the same pending with --pending ID;
after a partial failure the same command sends new envelopes to the nodes that failed.
Environment: SEALPASS_ADMIN_TOKEN (without --admin-token-file), SEALPASS_INSECURE_HTTP=1
(plain http:// to a relay that is not on loopback), the variable named by --secret-env.")]
pub struct InjectArgs {
    /// Relay base URL, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    relay: String,
    /// File holding the admin token (default: $SEALPASS_ADMIN_TOKEN).
    #[arg(long, value_name = "FILE")]
    admin_token_file: Option<PathBuf>,
    /// Target node id (repeat for a fan-out, at most 16).
    #[arg(
        long = "node",
        value_name = "NODE_ID",
        required = true,
        allow_hyphen_values = true
    )]
    nodes: Vec<String>,
    /// Name the secret is stored under on the node.
    #[arg(long, allow_hyphen_values = true)]
    slug: String,
    /// Injection method, kebab-case (e.g. env, header).
    #[arg(long, value_name = "METHOD")]
    method: String,
    /// Header / variable / field name.
    #[arg(long, value_name = "NAME")]
    field_name: Option<String>,
    /// URL the secret is for.
    #[arg(long, value_name = "URL")]
    target_url: Option<String>,
    /// Lifetime of the pending credential (60..=86400 s; relay default 3600).
    #[arg(long, value_name = "SECS")]
    expires_in: Option<u32>,
    /// Re-use an existing pending credential (e.g. retry the failed nodes).
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    pending: Option<String>,
    /// Read the secret from this environment variable (its name, not its value).
    #[arg(long, value_name = "VAR", conflicts_with = "browser")]
    secret_env: Option<String>,
    /// Print the accept-page link (with the pins) and wait for the result.
    #[arg(long)]
    browser: bool,
    /// Accept-page URL for --browser (default: <relay>/accept).
    #[arg(long, value_name = "URL", requires = "browser")]
    page_url: Option<String>,
    /// Known-nodes file (default: $XDG_CONFIG_HOME/sealpass/known_nodes or ~/.config/sealpass/known_nodes).
    #[arg(long, value_name = "FILE")]
    known_nodes: Option<PathBuf>,
    /// Pin an unpinned node whose identity fingerprint is FINGERPRINT (compared out of
    /// band); repeat for several nodes. A node matching none of them is 8901.
    #[arg(long = "pin", value_name = "FINGERPRINT")]
    pins: Vec<String>,
    /// Never ask: an unpinned node without a matching --pin is 8902.
    #[arg(long)]
    yes: bool,
    /// Also check the one-time key fingerprint, `NODE=FP` (or just `FP` with one node); a mismatch aborts (8612).
    #[arg(long, value_name = "[NODE=]FP")]
    expect_fingerprint: Vec<String>,
    /// Give up after this many seconds overall (1..=604800).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT,
          value_parser = clap::value_parser!(u64).range(1..=604_800))]
    timeout: u64,
}

/// `--timeout`'s default (seconds).
const DEFAULT_TIMEOUT: u64 = 900;

/// Run inject. Once the pending exists, every way this run can stop early
/// (an error, the timeout, a signal) goes through [`abort`], which says how
/// to resume it.
pub fn run(a: InjectArgs) -> Result<()> {
    abort::install();
    let deadline = Instant::now() + Duration::from_secs(a.timeout);
    // Any answer that says the pending was cancelled (the key wait, the
    // envelope post, the status) ends the run the same way, never resumable.
    let r = run_inner(&a, deadline).map_err(|e| {
        if e.code() == Code::Cancelled {
            waiting::cancelled()
        } else {
            e
        }
    });
    if let Err(e) = &r {
        abort::finish(e, Instant::now() >= deadline);
    }
    r
}

fn run_inner(a: &InjectArgs, deadline: Instant) -> Result<()> {
    let relay = Relay::new(&a.relay)?;
    check_request(a)?;
    let expect = expectations(a)?;
    let page = match &a.page_url {
        Some(u) => check_page_url(u)?,
        None => format!("{}/accept", relay.base()),
    };
    // A malformed known-nodes file fails before anything is created.
    let known_path = known_nodes::resolve(a.known_nodes.as_deref())?;
    let known = KnownNodes::load(&known_path)?;
    // A missing or unusable env var fails before anything is created; a
    // typed secret is asked for only after the identities were checked.
    let mut secret = match a.secret_env {
        Some(_) => Some(read_secret(a)?),
        None => None,
    };
    let pending_id = match &a.pending {
        Some(p) => {
            check_id(p, "--pending")
                .map_err(|_| Error::new(Code::Usage, "--pending is not a pending id"))?;
            abort::opened(p, None, resume_command(a, p));
            p.clone()
        }
        None => {
            let (id, expires_at) = create(&relay, a)?;
            abort::opened(&id, Some(expires_at), resume_command(a, &id));
            id
        }
    };
    let view = waiting::wait_keys(&relay, &pending_id, &a.nodes, deadline)?;
    abort::expires_at(view.expires_at);
    let req = Request {
        nodes: &a.nodes,
        slug: &a.slug,
        method: &a.method,
        field_name: a.field_name.as_deref(),
        target_url: a.target_url.as_deref(),
        given_pending: a.pending.is_some(),
    };
    let checked = targets::check(&view, &pending_id, &req).inspect_err(|e| {
        if e.code() == Code::Usage {
            abort::flags_do_not_fit();
        }
    })?;
    let todo: Vec<&Checked> = checked.iter().filter(|t| t.wants_envelope()).collect();
    if todo.is_empty() {
        abort::sent();
        note!(
            "pending {pending_id}: no node is waiting for an envelope (state {})",
            view.state.as_str()
        );
        return waiting::wait_result(&relay, &pending_id, deadline);
    }
    check_expectations(&todo, &expect)?;
    let ids = resolve_identities(a, &todo, &known, &known_path)?;
    if a.browser {
        let link = accept_link(&page, &pending_id, &relay_origin(relay.base()), &todo, &ids);
        sealpass_native::io::write_stdout(format!("open {link}\n").as_bytes())?;
        abort::link_printed();
        note!("waiting for the browser to seal and the nodes to open it...");
        return waiting::wait_result(&relay, &pending_id, deadline);
    }
    let secret = match secret.take() {
        Some(s) => s,
        None => read_secret(a)?,
    };
    post_envelopes(&relay, &pending_id, &todo, &ids.seal_to, &secret)?;
    abort::sent();
    waiting::wait_result(&relay, &pending_id, deadline)
}

/// The command that goes on with `pending` as this run would have: the
/// same relay, nodes, context flags and mode, plus `--pending` (no admin
/// token is needed for that; `--timeout` is left at its default, as the
/// old one may be what ran out). Each flag as `--flag=VALUE`, the value
/// quoted and escaped; `Err` with the reason when a value cannot be pasted
/// back as itself (a backslash, a control or format character).
fn resume_command(a: &InjectArgs, pending: &str) -> std::result::Result<String, String> {
    use crate::text::shell_flag;
    let mut w: Vec<String> = vec!["sealpass".into(), "inject".into()];
    w.push(shell_flag("--relay", &a.relay)?);
    for n in &a.nodes {
        w.push(shell_flag("--node", n)?);
    }
    w.push(shell_flag("--slug", &a.slug)?);
    w.push(shell_flag("--method", &a.method)?);
    if let Some(f) = &a.field_name {
        w.push(shell_flag("--field-name", f)?);
    }
    if let Some(u) = &a.target_url {
        w.push(shell_flag("--target-url", u)?);
    }
    w.push(shell_flag("--pending", pending)?);
    if let Some(v) = &a.secret_env {
        w.push(shell_flag("--secret-env", v)?);
    }
    if let Some(p) = &a.page_url {
        w.push(shell_flag("--page-url", p)?);
    }
    if let Some(k) = &a.known_nodes {
        let k = k.to_str().ok_or(
            "the --known-nodes path is not UTF-8, which a pasted command would not reproduce",
        )?;
        w.push(shell_flag("--known-nodes", k)?);
    }
    for p in &a.pins {
        w.push(shell_flag("--pin", p)?);
    }
    for e in &a.expect_fingerprint {
        w.push(shell_flag("--expect-fingerprint", e)?);
    }
    if a.browser {
        w.push("--browser".into());
    }
    if a.yes {
        w.push("--yes".into());
    }
    Ok(w.join(" "))
}

/// Check every identity against the pins, ask or use `--pin` for unpinned
/// ones, and write the new pins before anything is sealed or printed.
fn resolve_identities(
    a: &InjectArgs,
    todo: &[&Checked],
    known: &KnownNodes,
    known_path: &std::path::Path,
) -> Result<Identities> {
    let interactive = !a.yes
        && std::io::IsTerminal::is_terminal(&std::io::stdin())
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut ask = |node: &str, fp: &str| -> Result<bool> {
        note!("node {node}: identity fingerprint {fp} (NOT pinned yet)");
        note_part!(
            "Compare it with `sealpass node identity` on {node}. Pin it and continue? [y/N] "
        );
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .take(256)
            .read_line(&mut line)
            .map_err(|_| Error::new(Code::Io, "cannot read the answer"))?;
        Ok(matches!(line.trim(), "y" | "Y" | "yes"))
    };
    let ask: targets::Ask<'_> = if interactive { Some(&mut ask) } else { None };
    let ids = targets::identities(todo, known, &a.pins, ask)?;
    if !ids.new_pins.is_empty() {
        let mut updated = known.clone();
        for (node, nik) in &ids.new_pins {
            updated.pin(node, *nik, false)?;
        }
        updated.save(known_path)?;
        for (node, nik) in &ids.new_pins {
            note!(
                "node {node}: pinned identity {} in {}",
                nik.identity_fingerprint(),
                known_path.display()
            );
        }
    }
    // One line per node: a node pinned just now was named above.
    for (t, nik) in todo.iter().zip(&ids.seal_to) {
        if ids.new_pins.iter().any(|(n, _)| *n == t.node_id) {
            continue;
        }
        note!(
            "node {}: identity {} matches the pin",
            t.node_id,
            nik.identity_fingerprint()
        );
    }
    Ok(ids)
}

/// `--page-url`: an http(s) URL without a fragment or whitespace.
fn check_page_url(u: &str) -> Result<String> {
    let ok = (u.starts_with("https://") || u.starts_with("http://"))
        && u.len() <= 2048
        && !u.contains('#')
        && u.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(u.to_owned())
    } else {
        Err(Error::new(
            Code::Usage,
            "--page-url must be an http(s) URL without a fragment",
        ))
    }
}

/// The relay's origin as `URL.origin` gives it: lower case, no default port.
fn relay_origin(base: &str) -> String {
    let lower = base.to_ascii_lowercase();
    if let Some(h) = lower.strip_prefix("https://") {
        format!("https://{}", h.strip_suffix(":443").unwrap_or(h))
    } else if let Some(h) = lower.strip_prefix("http://") {
        format!("http://{}", h.strip_suffix(":80").unwrap_or(h))
    } else {
        lower
    }
}

/// `application/x-www-form-urlencoded` (as `URLSearchParams` writes it).
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `PAGE#p=ID&r=ORIGIN&n=NODE:NIK...` (docs/PINNING.md §4).
fn accept_link(
    page: &str,
    pending_id: &str,
    origin: &str,
    todo: &[&Checked],
    ids: &Identities,
) -> String {
    let mut link = format!(
        "{page}#p={}&r={}",
        form_encode(pending_id),
        form_encode(origin)
    );
    for (t, nik) in todo.iter().zip(&ids.seal_to) {
        link.push_str("&n=");
        link.push_str(&form_encode(&format!("{}:{}", t.node_id, nik.to_b64u())));
    }
    link
}

fn check_request(a: &InjectArgs) -> Result<()> {
    let first = match a.nodes.first() {
        Some(n) if a.nodes.len() <= 16 => n,
        _ => return Err(Error::new(Code::Usage, "give 1..=16 --node")),
    };
    for (i, n) in a.nodes.iter().enumerate() {
        if !sealpass_native::signing::is_valid_caller(n) {
            return Err(Error::new(
                Code::Usage,
                "--node must be 1..=64 chars of [A-Za-z0-9._-]",
            ));
        }
        if a.nodes.iter().take(i).any(|m| m == n) {
            return Err(Error::new(Code::Usage, "--node given twice"));
        }
    }
    // Same rules the node will apply, checked before anything is created.
    Context::new(
        first,
        "pending",
        &a.slug,
        &a.method,
        a.field_name.as_deref(),
        a.target_url.as_deref(),
    )?;
    if a.expires_in.is_some_and(|s| !(60..=86400).contains(&s)) {
        return Err(Error::new(Code::Usage, "--expires-in must be 60..=86400"));
    }
    Ok(())
}

/// `NODE=FP` pairs (a bare `FP` applies to the only node).
fn expectations(a: &InjectArgs) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for e in &a.expect_fingerprint {
        let (node, fp) = match (e.split_once('='), a.nodes.as_slice()) {
            (Some((n, f)), _) => (n.to_owned(), f),
            (None, [only]) => (only.clone(), e.as_str()),
            (None, _) => {
                return Err(Error::new(
                    Code::Usage,
                    "--expect-fingerprint needs NODE=FP with several nodes",
                ))
            }
        };
        if !a.nodes.contains(&node) {
            return Err(Error::new(
                Code::Usage,
                "--expect-fingerprint names a node not in --node",
            ));
        }
        out.insert(node, fp.trim().to_ascii_lowercase());
    }
    Ok(out)
}

/// The admin token, and where it came from (for messages; never the value).
fn admin_token(a: &InjectArgs) -> Result<(Zeroizing<String>, String)> {
    let (raw, source) = match &a.admin_token_file {
        Some(p) => (
            read_file_limited(
                p,
                4096,
                Error::new(Code::Usage, "admin token file larger than 4 KiB"),
            )?,
            format!("--admin-token-file {}", printable(&p.to_string_lossy())),
        ),
        None => match std::env::var(ENV_ADMIN_TOKEN) {
            Ok(v) => (Zeroizing::new(v.into_bytes()), ENV_ADMIN_TOKEN.to_owned()),
            Err(_) => {
                return Err(Error::new(
                    Code::Usage,
                    "no admin token: give --admin-token-file or set SEALPASS_ADMIN_TOKEN",
                ))
            }
        },
    };
    let text = core::str::from_utf8(&raw)
        .map_err(|_| Error::new(Code::Usage, "admin token is not UTF-8"))?
        .trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::with_detail(
            Code::Usage,
            format!("admin token from {source} is empty or not printable ASCII"),
        ));
    }
    Ok((Zeroizing::new(text.to_owned()), source))
}

/// Create the pending; its id and expiry.
fn create(relay: &Relay, a: &InjectArgs) -> Result<(String, i64)> {
    let (token, source) = admin_token(a)?;
    let body = request_body(&CreatePending {
        node_ids: a.nodes.clone(),
        slug: a.slug.clone(),
        injection_method: a.method.clone(),
        field_name: a.field_name.clone().filter(|f| !f.is_empty()),
        target_url: a.target_url.clone().filter(|u| !u.is_empty()),
        expires_in_secs: a.expires_in.map(i64::from),
    })?;
    let auth = Zeroizing::new(format!("Bearer {}", token.as_str()));
    let reply = relay
        .call(
            "POST",
            "/api/v1/admin/pending",
            &[("Authorization", auth.to_string())],
            Some(&body),
            SMALL_LIMIT,
        )
        .map_err(|e| rejected_token(e, &source))?;
    let c: PendingCreated = http::parse(&reply.body, "create")?;
    check_id(&c.pending_id, "pending_id")?;
    note!(
        "pending {}: created for node(s) {}; expires {}",
        c.pending_id,
        printable(&a.nodes.join(", ")),
        crate::text::local_time(c.expires_at)
    );
    Ok((c.pending_id, c.expires_at))
}

/// A 401 to the admin call: the token was sent and the relay refused it.
fn rejected_token(e: Error, source: &str) -> Error {
    if e.code() != Code::Unauthorized {
        return e;
    }
    Error::with_detail(
        Code::Unauthorized,
        format!(
            "the relay rejected the admin token from {source} (HTTP 401): it is not the relay's token (the relay's --admin-token-file, its SEALPASS_ADMIN_TOKEN, or <relay data dir>/admin.token)"
        ),
    )
}

/// `--expect-fingerprint`: an extra check of the one-time keys (8612).
fn check_expectations(todo: &[&Checked], expect: &HashMap<String, String>) -> Result<()> {
    for t in todo {
        if let Some(want) = expect.get(&t.node_id) {
            if *want != t.public_key.fingerprint() {
                return Err(Error::with_detail(
                    Code::RelayProtocol,
                    format!(
                        "node {}: one-time key fingerprint does not match --expect-fingerprint; nothing was sent",
                        t.node_id
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn read_secret(a: &InjectArgs) -> Result<Zeroizing<Vec<u8>>> {
    let secret = match &a.secret_env {
        Some(var) => {
            let v = std::env::var_os(var).ok_or_else(|| {
                Error::with_detail(
                    Code::Usage,
                    format!("environment variable {} is not set", printable(var)),
                )
            })?;
            Zeroizing::new(os_bytes(v))
        }
        None => {
            abort::secret_prompt(true);
            let entered = read_typed_secret(a);
            abort::secret_prompt(false);
            entered?
        }
    };
    if secret.is_empty() {
        return Err(Error::new(Code::PlaintextEmpty, "the secret is empty"));
    }
    if secret.len() > MAX_PLAINTEXT_SIZE {
        return Err(Error::new(
            Code::CiphertextTooLarge,
            "the secret is longer than 16368 bytes",
        ));
    }
    Ok(secret)
}

/// The secret typed twice without echo.
fn read_typed_secret(a: &InjectArgs) -> Result<Zeroizing<Vec<u8>>> {
    let first = Zeroizing::new(
        rpassword::prompt_password(format!("Secret for slug {} (not echoed): ", printable(&a.slug)))
            .map_err(|_| Error::new(Code::Io, "cannot read the secret from the terminal (use --secret-env VAR without a terminal)"))?,
    );
    let again = Zeroizing::new(
        rpassword::prompt_password("Again: ")
            .map_err(|_| Error::new(Code::Io, "cannot read the secret from the terminal"))?,
    );
    if first.as_bytes() != again.as_bytes() {
        return Err(Error::new(
            Code::Usage,
            "the two entries differ; nothing was sent",
        ));
    }
    Ok(Zeroizing::new(first.as_bytes().to_vec()))
}

#[cfg(unix)]
fn os_bytes(v: std::ffi::OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStringExt;
    v.into_vec()
}

#[cfg(not(unix))]
fn os_bytes(v: std::ffi::OsString) -> Vec<u8> {
    v.to_string_lossy().into_owned().into_bytes()
}

fn post_envelopes(
    relay: &Relay,
    id: &str,
    todo: &[&Checked],
    identities: &[sealpass::keys::PublicKey],
    secret: &[u8],
) -> Result<()> {
    let mut envelopes = Vec::with_capacity(todo.len());
    for (t, nik) in todo.iter().zip(identities) {
        let env = sealpass::seal_v2(&t.public_key, nik, secret, &t.context)?;
        envelopes.push(PostedEnvelope {
            node_id: t.node_id.clone(),
            envelope: raw_from_json(env.to_json())?,
        });
    }
    let body = request_body(&PostEnvelopes { envelopes })?;
    let path = format!("/api/v1/pending/{id}/envelopes");
    abort::sending();
    relay.call("POST", &path, &[], Some(&body), SMALL_LIMIT)?;
    note!(
        "pending {id}: sealed (v2, to the pinned identities) and posted {} envelope(s)",
        todo.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_and_form_encoding() {
        assert_eq!(
            relay_origin("HTTPS://Relay.Example:443"),
            "https://relay.example"
        );
        assert_eq!(relay_origin("http://127.0.0.1:80"), "http://127.0.0.1");
        assert_eq!(
            relay_origin("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(form_encode("http://a:1"), "http%3A%2F%2Fa%3A1");
        assert_eq!(form_encode("web-1:Ab_-9"), "web-1%3AAb_-9");
        assert!(check_page_url("https://x/accept").is_ok());
        for bad in ["ftp://x", "https://x/#a", "https://x/ y", "javascript:x"] {
            assert!(check_page_url(bad).is_err(), "{bad}");
        }
    }
}
