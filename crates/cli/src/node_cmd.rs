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

use crate::text::{escape, local_time, shell_word};

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
    /// Print the node's current identity public key and identity fingerprint
    /// (made and sealed on first use, as `node run` does on first start), and
    /// the retired identities pending keys are still bound to.
    #[command(after_help = "\
Senders compare the identity fingerprint once per node (out of band) and pin
the public key; envelopes sealed to it (`sealpass seal --identity`, v2) open
only on this node, whatever one-time key a relay hands out.
`sealpass node identity rotate` makes a new identity.")]
    Identity(IdentityArgs),
    /// Run the node agent against a relay.
    Run(crate::agent::RunArgs),
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct IdentityArgs {
    #[command(subcommand)]
    cmd: Option<IdentityCommand>,
    #[command(flatten)]
    list: ListArgs,
}

#[derive(Subcommand, Debug)]
pub enum IdentityCommand {
    /// Make a new current identity; the old one is retired.
    #[command(after_help = "\
What rotation means:
  * One-time keys made from now on are bound to the NEW identity, and the
    node posts the new identity with them.
  * Keys made before stay bound to the OLD identity: envelopes sealed to it
    for those keys still open; nothing else does. The old identity's secret
    is deleted once no pending key is bound to it.
  * Senders who pinned the old identity get 8901 IdentityMismatch for new
    requests. Give them the new fingerprint over a channel you trust; they
    check it and re-pin (`sealpass nodes pin NODE_ID --identity NIK
    --fingerprint FP --replace`; docs/PINNING.md §6). Never re-pin on the
    relay's word alone.
A running agent notices the rotation and prints the new fingerprint.")]
    Rotate(ListArgs),
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
    /// Delete one delivered secret (audited as `record-delete`); its slug
    /// no longer counts toward the agent's 4096-slug cap.
    Delete(SecretGetArgs),
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
            let ks = a.store.open_existing()?;
            let secret = ks.secret_get(&a.slug)?;
            write_stdout(&secret)
        }
        NodeCommand::Secret(SecretCommand::List(a)) => secret_list(a),
        NodeCommand::Secret(SecretCommand::Delete(a)) => secret_delete(a),
        NodeCommand::Identity(IdentityArgs {
            cmd: Some(IdentityCommand::Rotate(a)),
            ..
        }) => identity_rotate(a),
        NodeCommand::Identity(a) => identity(a.list),
        NodeCommand::Run(a) => crate::agent::run(a),
    }
}

fn secret_delete(a: SecretGetArgs) -> Result<()> {
    let ks = a.store.open_existing()?;
    if !ks.delete_record(sealpass_native::keystore::Purpose::DeliveredSecret, &a.slug)? {
        return Err(Error::with_detail(
            Code::RecordNotFound,
            format!("no delivered secret {}", escape(&a.slug)),
        ));
    }
    println!("deleted secret {}", escape(&a.slug));
    Ok(())
}

fn pending_new(a: PendingNewArgs) -> Result<()> {
    let ctx = load_context(&a.context)?;
    let ks = a.store.open()?;
    let keys = ks.create_pending(&ctx)?;
    let pk = &keys.public_key;
    let nik = keys.identity_key.as_ref();
    let out = if a.json {
        let mut v = serde_json::Map::new();
        v.insert("pending_id".into(), ctx.pending_id().into());
        v.insert("node_id".into(), ctx.node_id().into());
        v.insert("slug".into(), ctx.slug().into());
        v.insert("public_key".into(), pk.to_b64u().into());
        v.insert("fingerprint".into(), pk.fingerprint().into());
        if let Some(nik) = nik {
            v.insert("identity_key".into(), nik.to_b64u().into());
            v.insert(
                "identity_fingerprint".into(),
                nik.identity_fingerprint().into(),
            );
        }
        format!("{}\n", to_json(&v)?)
    } else {
        let mut s = format!(
            "pending_id: {}\npublic_key: {}\nfingerprint: {}\n",
            ctx.pending_id(),
            pk.to_b64u(),
            pk.fingerprint()
        );
        if let Some(nik) = nik {
            s.push_str(&format!(
                "identity_key: {}\nidentity_fingerprint: {}\n",
                nik.to_b64u(),
                nik.identity_fingerprint()
            ));
        }
        s
    };
    write_stdout(out.as_bytes())
}

fn pending_list(a: ListArgs) -> Result<()> {
    let ks = a.store.open_existing()?;
    let mut out = String::new();
    for p in ks.list_pending()? {
        if a.json {
            let v = serde_json::json!({
                "pending_id": p.pending_id, "node_id": p.node_id, "slug": p.slug,
                "created_at": p.created_at, "public_key": p.public_key.to_b64u(),
                "fingerprint": p.fingerprint,
                "identity_fingerprint": p.identity_key.as_ref().map(|k| k.identity_fingerprint()),
            });
            out.push_str(&to_json(&v)?);
        } else {
            out.push_str(&format!(
                "{}  node {}  slug {}  created {}  fingerprint {}  public_key {}",
                escape(&p.pending_id),
                escape(&p.node_id),
                escape(&p.slug),
                local_time(p.created_at),
                p.fingerprint,
                p.public_key.to_b64u()
            ));
            if let Some(k) = &p.identity_key {
                out.push_str(&format!("  identity {}", k.identity_fingerprint()));
            }
        }
        out.push('\n');
    }
    write_stdout(out.as_bytes())
}

fn identity(a: ListArgs) -> Result<()> {
    // The one showing command that makes what it shows on first use (so a
    // node's identity can be pinned before its agent first runs): it says
    // so, naming the path, so a mistyped --data-dir is not a silent new store.
    let ks = a.store.open_or_make("this node's identity")?;
    let nik = ks.node_identity()?.public_key();
    let all = ks.node_identities()?;
    let pending_keys = all.iter().find(|i| i.current).map_or(0, |i| i.pending_keys);
    let retired: Vec<_> = all.iter().filter(|i| !i.current).collect();
    let out = if a.json {
        let v = serde_json::json!({
            "identity": nik.to_b64u(),
            "identity_fingerprint": nik.identity_fingerprint(),
            "pending_keys": pending_keys,
            "retired": retired.iter().map(|i| serde_json::json!({
                "identity": i.public_key.to_b64u(),
                "identity_fingerprint": i.public_key.identity_fingerprint(),
                "pending_keys": i.pending_keys,
            })).collect::<Vec<_>>(),
        });
        format!("{}\n", to_json(&v)?)
    } else {
        let mut s = identity_lines(&nik);
        for i in retired {
            s.push_str(&format!(
                "retired: {}  identity_fingerprint {}  still used by {} pending key(s)\n",
                i.public_key.to_b64u(),
                i.public_key.identity_fingerprint(),
                i.pending_keys
            ));
        }
        s
    };
    write_stdout(out.as_bytes())
}

/// The human form of an identity: its public key and identity fingerprint.
fn identity_lines(nik: &sealpass::PublicKey) -> String {
    format!(
        "identity: {}\nidentity_fingerprint: {}\n",
        nik.to_b64u(),
        nik.identity_fingerprint()
    )
}

fn identity_rotate(a: ListArgs) -> Result<()> {
    let ks = a.store.open_existing()?;
    let r = ks.rotate_node_identity()?;
    let nik = &r.new.public_key;
    let out = if a.json {
        let v = serde_json::json!({
            "identity": nik.to_b64u(),
            "identity_fingerprint": nik.identity_fingerprint(),
            "previous_identity": r.previous.as_ref().map(|p| p.to_b64u()),
            "previous_identity_fingerprint": r.previous.as_ref().map(|p| p.identity_fingerprint()),
            "previous_pending_keys": r.previous_pending_keys,
            "deleted": r.deleted.iter().map(|p| p.identity_fingerprint()).collect::<Vec<_>>(),
        });
        format!("{}\n", to_json(&v)?)
    } else {
        let mut s = identity_lines(nik);
        if let Some(p) = &r.previous {
            s.push_str(&format!(
                "previous identity {}: still used by {} pending key(s){}\n",
                p.identity_fingerprint(),
                r.previous_pending_keys,
                if r.previous_pending_keys == 0 {
                    "; its secret was deleted"
                } else {
                    "; its secret is deleted once they are consumed"
                }
            ));
        }
        s.push_str("senders who pinned the previous identity must check this fingerprint out of band and re-pin\n");
        s
    };
    write_stdout(out.as_bytes())
}

fn accept(a: AcceptArgs) -> Result<()> {
    let envelope = read_stdin_limited(
        MAX_ENVELOPE_JSON,
        Error::new(Code::CiphertextTooLarge, "envelope larger than 64 KiB"),
    )?;
    let ks = a.store.open_existing()?;
    // The keystore picks the identity the key is bound to (and refuses a
    // v1 envelope for a bound key, 8308); without one only v1 opens.
    let r = ks.accept(&a.pending, &envelope, |sk, isk, env, ctx| match isk {
        Some(isk) => sealpass_open::open_json_with_identity(sk, isk, env, ctx),
        None => sealpass_open::open_json(sk, env, ctx),
    })?;
    write_stdout(
        format!(
            "accepted: pending {} -> secret \"{}\" ({} bytes), sealed in {}\n{}\n",
            escape(&r.pending_id),
            escape(&r.slug),
            r.size,
            escape(&r.db_path.to_string_lossy()),
            read_hint(&a.store, &r.slug)
        )
        .as_bytes(),
    )
}

/// `read it with: sealpass node secret get ...`: the command that finds
/// this store (its dir when it is not the default, `--dev-insecure-kek`
/// when that opened it), or why none is printed (a value a pasted command
/// would not reproduce).
fn read_hint(store: &StoreArgs, slug: &str) -> String {
    let mut w = vec!["sealpass node secret get".to_owned()];
    let dir = store
        .data_dir
        .as_ref()
        .map(|d| d.to_string_lossy().into_owned());
    let flags = dir
        .as_deref()
        .map(|d| crate::text::shell_flag("--data-dir", d))
        .transpose();
    match flags {
        Ok(Some(f)) => w.push(f),
        Ok(None) => {}
        Err(why) => {
            return format!(
                "read it with `sealpass node secret get` (no command is printed: {why})"
            )
        }
    }
    if store.dev_insecure_kek {
        w.push("--dev-insecure-kek".into());
    }
    if !crate::text::pastable(slug) {
        return "read it with `sealpass node secret get` (no command is printed: the slug holds a backslash or a control or format character, which a pasted command would not reproduce)".into();
    }
    if slug.starts_with('-') {
        w.push("--".into());
    }
    w.push(shell_word(slug));
    format!("read it with: {}", w.join(" "))
}

fn secret_list(a: ListArgs) -> Result<()> {
    let ks = a.store.open_existing()?;
    let mut out = String::new();
    for s in ks.secret_list()? {
        if a.json {
            out.push_str(&to_json(&s)?);
        } else {
            out.push_str(&secret_line(&s));
        }
        out.push('\n');
    }
    write_stdout(out.as_bytes())
}

/// One delivered secret in human output: empty fields (no field name, no
/// target URL) are left out; the time is local.
fn secret_line(s: &sealpass_native::keystore::SecretMeta) -> String {
    let mut line = format!(
        "{}  {} bytes  node {}  via {}",
        escape(&s.slug),
        s.size,
        escape(&s.node_id),
        escape(&s.injection_method)
    );
    if !s.field_name.is_empty() {
        line.push_str(&format!("  field \"{}\"", escape(&s.field_name)));
    }
    if !s.target_url.is_empty() {
        line.push_str(&format!("  target \"{}\"", escape(&s.target_url)));
    }
    line.push_str(&format!(
        "  pending {}  stored {}",
        escape(&s.pending_id),
        local_time(s.stored_at)
    ));
    line
}
