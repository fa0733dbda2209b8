//! Node agent (`sealpass node run`) and admin-side inject client
//! (`sealpass inject`) — feature `cli`.
//!
//! The agent is a polling loop against the relay's signed node API: every
//! step is idempotent (re-posting the same public key, re-acking, re-reading
//! an envelope whose key was already consumed), so killing the agent or the
//! relay at any point loses nothing. docs/OPERATIONS.md walks through it.

/// `eprintln!` for inject's progress lines, without the panic when
/// stderr is gone (a terminal hung up, a closed pipe): the run goes on.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::agent::abort::say(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// [`note!`] without the newline (a question that waits on the same line).
macro_rules! note_part {
    ($($arg:tt)*) => {
        $crate::agent::abort::say(&format!($($arg)*))
    };
}

mod abort;
mod absent;
mod admit;
mod budget;
mod handled;
mod http;
pub mod inject;
mod list;
mod node;
mod notes;
mod pace;
mod register;
mod sweep;
mod targets;
mod waiting;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use sealpass::error::{Code, Error, Result};
use sealpass_native::keystore::{Keystore, ENV_DATA_DIR};

pub use register::RegisterArgs;

/// `sealpass node run` arguments.
#[derive(Args, Debug)]
#[command(after_help = "\
The node's HMAC secret (from the relay admin's POST /api/v1/admin/nodes) must be stored once:
pass --register-secret-file with the relay's JSON answer or the bare base64url secret
(`-` reads stdin). It is sealed in the keystore; delete the file afterwards.
Stop with Ctrl-C or SIGTERM; restarting resumes where it stopped.
The relay is not trusted: it cannot make the node hold more than 4096 one-time keys or
4096 distinct slugs, nor create new keys or slugs faster than the --max-new-* budgets;
docs/OPERATIONS.md (\"What a hostile relay can still cost a node\") has every bound.

Environment (every variable `node run` reads):
  SEALPASS_KEK                 the keystore's KEK: base64url (no padding) of 32 random bytes
  SEALPASS_KEK_FILE            a file holding it instead (set one of the two, and
                               neither with --dev-insecure-kek)
  SEALPASS_KEK_PREVIOUS        the previous KEK while a rotation is under way (or
  SEALPASS_KEK_PREVIOUS_FILE   a file holding it); see `sealpass keystore rotate-kek --help`
  SEALPASS_DATA_DIR            the keystore directory when --data-dir is not given
                               (else $XDG_DATA_HOME/sealpass or ~/.local/share/sealpass)
  SEALPASS_INSECURE_HTTP=1     allow plain http:// to a relay that is not on loopback
                               (a trusted tunnel only: the relay could swap keys on the way)")]
pub struct RunArgs {
    /// Relay base URL, e.g. http://127.0.0.1:8080 (no path).
    #[arg(long, value_name = "URL")]
    relay: String,
    /// This node's id as registered at the relay ([A-Za-z0-9._-], 1..=64).
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    node_id: String,
    /// Keystore directory (default: $SEALPASS_DATA_DIR or the user data dir).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Use the well-known development KEK instead of SEALPASS_KEK (never in production).
    #[arg(long)]
    dev_insecure_kek: bool,
    /// Seconds between polls of the relay (fractions allowed, 0.05..=3600).
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    poll_interval: f64,
    /// Run one poll cycle and exit (non-zero if it failed).
    #[arg(long)]
    once: bool,
    #[command(flatten)]
    register: RegisterArgs,
    #[command(flatten)]
    budget: budget::BudgetArgs,
    #[command(flatten)]
    grace: absent::GraceArgs,
}

/// Run the node agent.
pub fn run(a: RunArgs) -> Result<()> {
    if !(0.05..=3600.0).contains(&a.poll_interval) {
        return Err(Error::new(
            Code::Usage,
            "--poll-interval must be between 0.05 and 3600 seconds",
        ));
    }
    if !sealpass_native::signing::is_valid_caller(&a.node_id) {
        return Err(Error::new(
            Code::Usage,
            "--node-id must be 1..=64 chars of [A-Za-z0-9._-]",
        ));
    }
    let relay = http::Relay::new(&a.relay)?;
    let store = open_store(a.data_dir.as_deref(), a.dev_insecure_kek)?;
    if a.register.is_given() {
        let v = register::store_secret(&store, &a.node_id, &a.register)?;
        println!(
            "node {}: HMAC secret (key version {v}) sealed in {}; delete the secret file now",
            a.node_id,
            store.db_path().display()
        );
    }
    let opts = node::Options {
        node_id: a.node_id,
        poll: Duration::from_secs_f64(a.poll_interval),
        once: a.once,
        budget: a.budget,
        grace: a.grace,
    };
    node::Agent::new(relay, store, opts)?.run()
}

/// Store the node's HMAC secret without starting the agent (for a
/// `sealpass node register` subcommand).
pub fn register(
    node_id: &str,
    data_dir: Option<&std::path::Path>,
    dev_insecure_kek: bool,
    a: &RegisterArgs,
) -> Result<()> {
    if !sealpass_native::signing::is_valid_caller(node_id) {
        return Err(Error::new(
            Code::Usage,
            "--node-id must be 1..=64 chars of [A-Za-z0-9._-]",
        ));
    }
    if !a.is_given() {
        return Err(Error::new(
            Code::Usage,
            "--register-secret-file is required",
        ));
    }
    let store = open_store(data_dir, dev_insecure_kek)?;
    let v = register::store_secret(&store, node_id, a)?;
    println!(
        "node {node_id}: HMAC secret (key version {v}) sealed in {}",
        store.db_path().display()
    );
    Ok(())
}

fn open_store(data_dir: Option<&std::path::Path>, dev_insecure: bool) -> Result<Keystore> {
    let dir = match data_dir {
        Some(d) => d.to_path_buf(),
        None => std::env::var_os(ENV_DATA_DIR)
            .map(PathBuf::from)
            .unwrap_or_else(Keystore::default_data_dir),
    };
    Keystore::open_from_env(&dir, dev_insecure)
}
