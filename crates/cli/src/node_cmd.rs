//! `sealpass node ...`: one-time keys, accepting envelopes, delivered
//! secrets (all in the sealed keystore), and the node agent.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::core_cmds::load_context;
use super::keystore_cmd::{to_json, StoreArgs};
use super::read_stdin_limited;
use sealpass::envelope::MAX_ENVELOPE_JSON;
use sealpass::error::{Code, Error, Result};
use sealpass_native::io::write_stdout;

#[derive(Subcommand, Debug)]
pub enum NodeCommand {
    /// One-time keypairs awaiting an envelope.
    #[command(subcommand)]
    Pending(PendingCommand),
    /// Open an envelope (stdin) with a pending key and keep the secret sealed.
    #[command(after_help = "\
Reads the envelope JSON (at most 64 KiB) from stdin. The envelope is opened with the
sealed one-time key and the context stored when the key was made; the secret is sealed
under its slug and the one-time key deleted, in one transaction. A second envelope for
the same pending id is refused (8507). If decryption fails (8006) the key is kept.
Example: sealpass node accept --pending p-123 < envelope.json")]
    Accept(AcceptArgs),
    /// Delivered secrets.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Print the node's identity public key and identity fingerprint (the key
    /// is made and sealed on first use, as `node run` does on first start).
    #[command(after_help = "\
Senders compare the identity fingerprint once per node (out of band) and pin
the public key; envelopes sealed to it (`sealpass seal --identity`, v2) open
only on this node, whatever one-time key a relay hands out.")]
    Identity(ListArgs),
    /// Run the node agent against a relay.
    Run(crate::agent::RunArgs),
}

#[derive(Subcommand, Debug)]
pub enum PendingCommand {
    /// Make a one-time keypair for a context, seal its private key, print the
    /// public key and its fingerprint.
    #[command(after_help = "\
Example:
  echo '{\"node_id\":\"n1\",\"pending_id\":\"p-123\",\"slug\":\"gh\",\"injection_method\":\"env\"}' > ctx.json
  sealpass node pending new --context ctx.json
Running it again with the same context prints the same key (idempotent).
Give the public key to the sealing side and compare the fingerprint out of band.")]
    New(PendingNewArgs),
    /// List pending keys that are not consumed yet.
    List(ListArgs),
}

#[derive(Subcommand, Debug)]
pub enum SecretCommand {
    /// Print one delivered secret, byte-exact, to stdout.
    #[command(
        after_help = "Example: GH_TOKEN=\"$(sealpass node secret get github-token)\" some-command"
    )]
    Get(SecretGetArgs),
    /// List delivered secrets: metadata only, never values.
    List(ListArgs),
}

#[derive(Args, Debug)]
pub struct PendingNewArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Context JSON file: {"node_id","pending_id","slug","injection_method","field_name"?,"target_url"?}
    #[arg(long, value_name = "CTX.json")]
    context: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Print JSON lines instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct AcceptArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Pending id whose one-time key opens the envelope.
    #[arg(long = "pending", value_name = "ID", allow_hyphen_values = true)]
    pending: String,
}

#[derive(Args, Debug)]
pub struct SecretGetArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Slug of the secret.
    #[arg(value_name = "SLUG", allow_hyphen_values = true)]
    slug: String,
}

pub fn run(c: NodeCommand) -> Result<()> {
    match c {
        NodeCommand::Pending(PendingCommand::New(a)) => pending_new(a),
        NodeCommand::Pending(PendingCommand::List(a)) => pending_list(a),
        NodeCommand::Accept(a) => accept(a),
        NodeCommand::Secret(SecretCommand::Get(a)) => {
            let ks = a.store.open()?;
            let secret = ks.secret_get(&a.slug)?;
            write_stdout(&secret)
        }
        NodeCommand::Secret(SecretCommand::List(a)) => secret_list(a),
        NodeCommand::Identity(a) => identity(a),
        NodeCommand::Run(a) => crate::agent::run(a),
    }
}

fn pending_new(a: PendingNewArgs) -> Result<()> {
    let ctx = load_context(&a.context)?;
    let ks = a.store.open()?;
    let pk = ks.create_pending(&ctx)?;
    let out = if a.json {
        let v = serde_json::json!({
            "pending_id": ctx.pending_id(),
            "node_id": ctx.node_id(),
            "slug": ctx.slug(),
            "public_key": pk.to_b64u(),
            "fingerprint": pk.fingerprint(),
        });
        format!("{}\n", to_json(&v)?)
    } else {
        format!(
            "pending_id: {}\npublic_key: {}\nfingerprint: {}\n",
            ctx.pending_id(),
            pk.to_b64u(),
            pk.fingerprint()
        )
    };
    write_stdout(out.as_bytes())
}

fn pending_list(a: ListArgs) -> Result<()> {
    let ks = a.store.open()?;
    let mut out = String::new();
    for p in ks.list_pending()? {
        if a.json {
            let v = serde_json::json!({
                "pending_id": p.pending_id, "node_id": p.node_id, "slug": p.slug,
                "created_at": p.created_at, "public_key": p.public_key.to_b64u(),
                "fingerprint": p.fingerprint,
            });
            out.push_str(&to_json(&v)?);
        } else {
            out.push_str(&format!(
                "{}  node {}  slug {}  created {}  fingerprint {}  public_key {}",
                p.pending_id,
                p.node_id,
                p.slug,
                p.created_at,
                p.fingerprint,
                p.public_key.to_b64u()
            ));
        }
        out.push('\n');
    }
    write_stdout(out.as_bytes())
}

fn identity(a: ListArgs) -> Result<()> {
    let ks = a.store.open()?;
    let nik = ks.node_identity()?.public_key();
    let out = if a.json {
        let v = serde_json::json!({
            "identity": nik.to_b64u(),
            "identity_fingerprint": nik.identity_fingerprint(),
        });
        format!("{}\n", to_json(&v)?)
    } else {
        format!(
            "identity: {}\nidentity_fingerprint: {}\n",
            nik.to_b64u(),
            nik.identity_fingerprint()
        )
    };
    write_stdout(out.as_bytes())
}

fn accept(a: AcceptArgs) -> Result<()> {
    let envelope = read_stdin_limited(
        MAX_ENVELOPE_JSON,
        Error::new(Code::CiphertextTooLarge, "envelope larger than 64 KiB"),
    )?;
    let ks = a.store.open()?;
    // v1 envelopes open with the one-time key alone; v2 also need the
    // node's identity key, when it has one (else 8307).
    let r = match ks.existing_node_identity()? {
        Some(isk) => ks.accept(&a.pending, &envelope, |sk, env, ctx| {
            sealpass_open::open_json_with_identity(sk, &isk, env, ctx)
        })?,
        None => ks.accept(&a.pending, &envelope, sealpass_open::open_json)?,
    };
    write_stdout(
        format!(
            "accepted: pending {} -> secret {:?} ({} bytes), sealed in {}\nread it with: sealpass node secret get {}\n",
            r.pending_id,
            r.slug,
            r.size,
            r.db_path.display(),
            r.slug
        )
        .as_bytes(),
    )
}

fn secret_list(a: ListArgs) -> Result<()> {
    let ks = a.store.open()?;
    let mut out = String::new();
    for s in ks.secret_list()? {
        if a.json {
            out.push_str(&to_json(&s)?);
        } else {
            out.push_str(&format!(
                "{}  {} bytes  node {}  via {}  field {:?}  target {:?}  pending {}  stored {}",
                s.slug,
                s.size,
                s.node_id,
                s.injection_method,
                s.field_name,
                s.target_url,
                s.pending_id,
                s.stored_at
            ));
        }
        out.push('\n');
    }
    write_stdout(out.as_bytes())
}
