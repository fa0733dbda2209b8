//! `sealpass inject`: the admin side without a browser.
//!
//! Create the pending credential, wait for every node's one-time key, show
//! the fingerprints for an out-of-band comparison, read the secret (no echo,
//! or from an environment variable), seal it locally to each node's key with
//! the exact requested context, post the envelopes and wait for the nodes'
//! verdicts. The secret is only ever in a `Zeroizing` buffer: never on argv,
//! in output or in an error.

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use zeroize::Zeroizing;

use super::http::{self, check_id, printable, Relay, SMALL_LIMIT};
use super::targets::{self, Checked, Request};
use super::waiting;
use sealpass::context::Context;
use sealpass::error::{Code, Error, Result};
use sealpass::suite::MAX_PLAINTEXT_SIZE;
use sealpass_native::io::read_file_limited;
use sealpass_native::wire::{
    raw_from_json, request_body, CreatePending, PendingCreated, PostEnvelopes, PostedEnvelope,
};

/// Env var holding the admin token when no file is given.
pub const ENV_ADMIN_TOKEN: &str = "SEALPASS_ADMIN_TOKEN";

/// `sealpass inject` arguments.
#[derive(Args, Debug)]
#[command(after_help = "\
Modes: interactive (default; the secret is typed twice without echo), --secret-env VAR,
or --browser (prints the accept-page URL; the secret is typed in the browser).
Before sealing, each node's one-time key fingerprint is shown: compare it with what
`sealpass node run` printed on that node. --yes skips the question only together
with --expect-fingerprint for every node.
To retry after a partial failure, run again with --pending ID and the same context
flags: only the nodes that failed get a new envelope.")]
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
    /// Print the browser accept-page URL and wait for the result.
    #[arg(long)]
    browser: bool,
    /// Skip the fingerprint question (only with --expect-fingerprint for every node).
    #[arg(long, requires = "expect_fingerprint", conflicts_with = "browser")]
    yes: bool,
    /// Expected fingerprint, `NODE=FP` (or just `FP` with one node); a mismatch aborts.
    #[arg(long, value_name = "[NODE=]FP")]
    expect_fingerprint: Vec<String>,
    /// Give up after this many seconds overall.
    #[arg(long, value_name = "SECS", default_value_t = 900)]
    timeout: u64,
}

/// Run inject.
pub fn run(a: InjectArgs) -> Result<()> {
    let relay = Relay::new(&a.relay)?;
    check_request(&a)?;
    let expect = expectations(&a)?;
    // A missing or unusable env var fails before anything is created; a
    // typed secret is asked for only after the fingerprints were confirmed.
    let mut secret = match a.secret_env {
        Some(_) => Some(read_secret(&a)?),
        None => None,
    };
    let deadline = Instant::now() + Duration::from_secs(a.timeout);
    let pending_id = match &a.pending {
        Some(p) => {
            check_id(p, "--pending")
                .map_err(|_| Error::new(Code::Usage, "--pending is not a pending id"))?;
            p.clone()
        }
        None => create(&relay, &a)?,
    };
    if a.browser {
        println!("open {}/accept#{pending_id}", relay.base());
        flush();
        eprintln!("waiting for the browser to seal and the nodes to open it...");
        return waiting::wait_result(&relay, &pending_id, deadline);
    }
    let view = waiting::wait_keys(&relay, &pending_id, deadline)?;
    let req = Request {
        nodes: &a.nodes,
        slug: &a.slug,
        method: &a.method,
        field_name: a.field_name.as_deref(),
        target_url: a.target_url.as_deref(),
    };
    let checked = targets::check(&view, &pending_id, &req)?;
    let todo: Vec<&Checked> = checked.iter().filter(|t| t.wants_envelope()).collect();
    if todo.is_empty() {
        eprintln!(
            "pending {pending_id}: no node is waiting for an envelope (state {})",
            view.state.as_str()
        );
    } else {
        confirm(&todo, &expect, a.yes)?;
        let secret = match secret.take() {
            Some(s) => s,
            None => read_secret(&a)?,
        };
        post_envelopes(&relay, &pending_id, &todo, &secret)?;
    }
    waiting::wait_result(&relay, &pending_id, deadline)
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
    if a.yes && a.nodes.iter().any(|n| !out.contains_key(n)) {
        return Err(Error::new(
            Code::Usage,
            "--yes needs --expect-fingerprint for every --node",
        ));
    }
    Ok(out)
}

fn admin_token(a: &InjectArgs) -> Result<Zeroizing<String>> {
    let raw = match &a.admin_token_file {
        Some(p) => read_file_limited(
            p,
            4096,
            Error::new(Code::Usage, "admin token file larger than 4 KiB"),
        )?,
        None => match std::env::var(ENV_ADMIN_TOKEN) {
            Ok(v) => Zeroizing::new(v.into_bytes()),
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
        return Err(Error::new(
            Code::Usage,
            "admin token is empty or not printable ASCII",
        ));
    }
    Ok(Zeroizing::new(text.to_owned()))
}

fn create(relay: &Relay, a: &InjectArgs) -> Result<String> {
    let token = admin_token(a)?;
    let body = request_body(&CreatePending {
        node_ids: a.nodes.clone(),
        slug: a.slug.clone(),
        injection_method: a.method.clone(),
        field_name: a.field_name.clone().filter(|f| !f.is_empty()),
        target_url: a.target_url.clone().filter(|u| !u.is_empty()),
        expires_in_secs: a.expires_in.map(i64::from),
    })?;
    let auth = Zeroizing::new(format!("Bearer {}", token.as_str()));
    let reply = relay.call(
        "POST",
        "/api/v1/admin/pending",
        &[("Authorization", auth.to_string())],
        Some(&body),
        SMALL_LIMIT,
    )?;
    let c: PendingCreated = http::parse(&reply.body, "create")?;
    check_id(&c.pending_id, "pending_id")?;
    eprintln!(
        "pending {}: created for {} node(s), expires at unix {}",
        c.pending_id,
        a.nodes.len(),
        c.expires_at
    );
    Ok(c.pending_id)
}

/// Show each fingerprint; check expectations; ask unless `--yes`.
fn confirm(todo: &[&Checked], expect: &HashMap<String, String>, yes: bool) -> Result<()> {
    for t in todo {
        let fp = t.public_key.fingerprint();
        eprintln!("node {}: one-time key fingerprint {fp}", t.node_id);
        if let Some(want) = expect.get(&t.node_id) {
            if *want != fp {
                return Err(Error::with_detail(
                    Code::RelayProtocol,
                    format!("node {}: fingerprint does not match --expect-fingerprint; nothing was sent", t.node_id),
                ));
            }
        }
        if !yes {
            eprint!("Does it match what node {} printed? [y/N] ", t.node_id);
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .take(256)
                .read_line(&mut line)
                .map_err(|_| Error::new(Code::Io, "cannot read the answer"))?;
            if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                eprintln!(); // a piped answer is not echoed
            }
            if !matches!(line.trim(), "y" | "Y" | "yes") {
                return Err(Error::new(
                    Code::Usage,
                    "fingerprint not confirmed; nothing was sent",
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
            let first = Zeroizing::new(
                rpassword::prompt_password(format!("Secret for slug {} (not echoed): ", printable(&a.slug)))
                    .map_err(|_| Error::new(Code::Io, "cannot read the secret from the terminal (use --secret-env VAR without a terminal)"))?,
            );
            let again =
                Zeroizing::new(rpassword::prompt_password("Again: ").map_err(|_| {
                    Error::new(Code::Io, "cannot read the secret from the terminal")
                })?);
            if first.as_bytes() != again.as_bytes() {
                return Err(Error::new(
                    Code::Usage,
                    "the two entries differ; nothing was sent",
                ));
            }
            Zeroizing::new(first.as_bytes().to_vec())
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

#[cfg(unix)]
fn os_bytes(v: std::ffi::OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStringExt;
    v.into_vec()
}

#[cfg(not(unix))]
fn os_bytes(v: std::ffi::OsString) -> Vec<u8> {
    v.to_string_lossy().into_owned().into_bytes()
}

fn post_envelopes(relay: &Relay, id: &str, todo: &[&Checked], secret: &[u8]) -> Result<()> {
    let mut envelopes = Vec::with_capacity(todo.len());
    for t in todo {
        let env = sealpass::seal(&t.public_key, secret, &t.context)?;
        envelopes.push(PostedEnvelope {
            node_id: t.node_id.clone(),
            envelope: raw_from_json(env.to_json())?,
        });
    }
    let body = request_body(&PostEnvelopes { envelopes })?;
    let path = format!("/api/v1/pending/{id}/envelopes");
    relay.call("POST", &path, &[], Some(&body), SMALL_LIMIT)?;
    eprintln!("pending {id}: sealed and posted {} envelope(s)", todo.len());
    Ok(())
}

fn flush() {
    let _ = std::io::stdout().flush();
}
