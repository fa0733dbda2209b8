//! Command-line arguments of `sealpass-relay`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The sealpass relay: stores and forwards sealed envelopes; it cannot
/// decrypt them (built without the `open` feature).
#[derive(Parser, Debug)]
#[command(
    name = "sealpass-relay",
    version,
    about,
    long_about = None,
    after_help = "\
Environment (every variable sealpass-relay reads):
  SEALPASS_KEK                 the KEK sealing the relay's keystore (the nodes' HMAC
                               secrets): base64url (no padding) of 32 random bytes
  SEALPASS_KEK_FILE            a file holding it instead (set one of the two, and
                               neither with --dev-insecure-kek)
  SEALPASS_KEK_PREVIOUS        the previous KEK, while the keystore still has keys
  SEALPASS_KEK_PREVIOUS_FILE   wrapped under it (or a file holding it)
  SEALPASS_ADMIN_TOKEN         the admin bearer token, when --admin-token-file is not given
                               (else <data-dir>/admin.token, made on first start)
  SEALPASS_RELAY_DATA_DIR      the data directory when --data-dir is not given
                               (else $XDG_DATA_HOME/sealpass-relay, or
                               ~/.local/share/sealpass-relay)
  SEALPASS_RELAY_STORE         the store when --store is not given (sqlite:PATH or
                               postgres://…; it may hold a password: prefer it to the flag)"
)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port; the bound address is
    /// printed as the first stdout line `listening on http://ADDR`).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Relay data directory (database, sealed node secrets, admin token).
    #[arg(long, env = "SEALPASS_RELAY_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Where the relay keeps its state: `sqlite:PATH` (one relay process;
    /// the default is sqlite:<data-dir>/relay.db) or
    /// `postgres://USER:PASSWORD@HOST:PORT/DB` (several relay instances
    /// sharing one database; sslmode=require by default: TLS with the
    /// server certificate and host name verified, against
    /// `sslrootcert=FILE` if given, else the system roots; `sslmode=disable`
    /// for plain TCP or a Unix socket). Every instance on one database must
    /// be given the same KEK. docs/OPERATIONS.md, "Several relay instances".
    // hide_env_values: --help must not print the URL (it may hold a password).
    #[arg(
        long,
        env = "SEALPASS_RELAY_STORE",
        hide_env_values = true,
        value_name = "URL",
        global = true
    )]
    pub store: Option<String>,
    /// Directory of the built accept page (`/accept` → index.html,
    /// `/static/*`, `/releases.json`), as written by scripts/build-www.sh; a
    /// relative path is relative to the working directory. The page sources
    /// in www/ are refused: their SRI hashes are placeholders.
    #[arg(long, default_value = "target/www-dist")]
    pub www: PathBuf,
    /// File holding the admin bearer token (default: `SEALPASS_ADMIN_TOKEN`,
    /// else `<data-dir>/admin.token`, created on first start).
    #[arg(long, value_name = "FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// Accept an admin token file its group may read (mode 0640/0440, as
    /// a Kubernetes secret mounted with `defaultMode: 0440` and `fsGroup`).
    /// Without it the file must be 0600/0400. Write or other-read bits are
    /// refused either way.
    #[arg(long)]
    pub admin_token_file_group_readable: bool,
    /// Let an accept page hosted on ORIGIN (exactly `scheme://host[:port]`,
    /// as browsers send it; repeatable; `*` is refused) call the sender
    /// endpoints across origins (CORS). Not the admin routes (see
    /// --allow-admin-origin); node routes never answer CORS.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origin: Vec<String>,
    /// Let the admin console hosted on ORIGIN (as --allow-origin;
    /// repeatable) call the admin routes across origins (CORS, GET and POST,
    /// with the bearer token the admin types in). Name only an origin that
    /// serves nothing but sealpass: the console keeps its pins in that
    /// origin's localStorage.
    #[arg(long = "allow-admin-origin", value_name = "ORIGIN")]
    pub allow_admin_origin: Vec<String>,
    /// Use the well-known development KEK for the keystore (NOT for production).
    #[arg(long, global = true)]
    pub dev_insecure_kek: bool,
    /// Seconds between expiry sweeps.
    #[arg(long, default_value_t = 10, hide = true)]
    pub sweep_interval_secs: u64,
    /// Test hook: smallest allowed expires_in_secs (default 60).
    #[arg(long, hide = true)]
    pub test_min_expiry_secs: Option<i64>,
    /// Test hook: seconds without a signed request before a node is offline (default 30).
    #[arg(long, hide = true)]
    pub test_offline_after_secs: Option<i64>,
    /// Test hook: requests served at once, over all routes (default 256).
    #[arg(long, hide = true)]
    pub test_max_requests: Option<usize>,
    /// Test hook: seconds a request body may take to arrive (default 15).
    #[arg(long, hide = true)]
    pub test_body_timeout_secs: Option<u64>,
    /// Test hook: node-route bodies read at once before authentication (default 32).
    #[arg(long, hide = true)]
    pub test_node_body_slots: Option<usize>,
    /// Test hook: seconds a node-route body may take to arrive (default 3).
    #[arg(long, hide = true)]
    pub test_node_body_timeout_secs: Option<u64>,
    /// Test hook: open connections at once (default 512).
    #[arg(long, hide = true)]
    pub test_max_connections: Option<usize>,
    /// Test hook: seconds for a request head, and for an idle connection
    /// before it is closed (default 10).
    #[arg(long, hide = true)]
    pub test_header_timeout_secs: Option<u64>,
    /// Operator commands (instead of serving).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Operator commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Manage registered nodes.
    #[command(subcommand)]
    Node(NodeCommand),
    /// PostgreSQL store, KEK rotation: re-seal every node secret and the
    /// shared admin token still sealed under SEALPASS_KEK_PREVIOUS under
    /// SEALPASS_KEK (JSON: how many). Run it once, with the new KEK as
    /// SEALPASS_KEK and the old as SEALPASS_KEK_PREVIOUS, after every
    /// instance runs so (docs/OPERATIONS.md, "Rotating the KEK").
    Reseal,
}

/// `sealpass-relay node …`
#[derive(Subcommand, Debug)]
pub enum NodeCommand {
    /// Register a node; prints its HMAC secret once (JSON, like the admin API).
    Add {
        /// Node id: 1..=64 chars of [A-Za-z0-9._-].
        node_id: String,
    },
    /// Issue a new secret version; the previous one stays valid for 24 h.
    RotateSecret {
        /// Node id.
        node_id: String,
    },
    /// End the rotation grace now: only the newest secret version stays
    /// valid (JSON, like the admin API).
    RevokePrevious {
        /// Node id.
        node_id: String,
    },
    /// Unregister a node: its secrets stop at once and every live pending
    /// credential naming it ends (JSON, like the admin API).
    Delete {
        /// Node id.
        node_id: String,
    },
}
