//! `sealpass nodes`: the sender's pinned node identities (docs/PINNING.md
//! §2–§3), kept in the known-nodes file.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use sealpass::error::{Code, Error, Result};
use sealpass_native::io::write_stdout;
use sealpass_native::known_nodes::{self, KnownNodes, PinOutcome};

const FILE_HELP: &str = "\
The known-nodes file is $XDG_CONFIG_HOME/sealpass/known_nodes, else
$HOME/.config/sealpass/known_nodes; --known-nodes FILE overrides it.
One line per pin: `NODE_ID IDENTITY_KEY`. Pins are global, not per relay.";

#[derive(Subcommand, Debug)]
#[command(after_help = FILE_HELP)]
pub enum NodesCommand {
    /// Pin a node's identity key (check its fingerprint out of band first).
    #[command(after_help = "\
Get the identity key and fingerprint on the node itself (`sealpass node identity`)
and compare the fingerprint over a channel the relay does not control.
Pinning the same key again changes nothing; a different key is refused with 8901
unless --replace is given (after the node rotated its identity).")]
    Pin(PinArgs),
    /// List the pinned nodes: `NODE_ID  FINGERPRINT  IDENTITY_KEY`.
    List(ListArgs),
    /// Remove a node's pin (8902 if it is not pinned).
    Forget(ForgetArgs),
}

#[derive(Args, Debug)]
pub struct FileArg {
    /// Known-nodes file (default: $XDG_CONFIG_HOME/sealpass/known_nodes or ~/.config/sealpass/known_nodes).
    #[arg(long, value_name = "FILE")]
    known_nodes: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PinArgs {
    /// The node id, as registered at the relay ([A-Za-z0-9._-], 1..=64).
    #[arg(value_name = "NODE_ID", allow_hyphen_values = true)]
    node_id: String,
    /// The node's identity public key (B64U, 43 characters).
    #[arg(long, value_name = "NIK_B64U", allow_hyphen_values = true)]
    identity: String,
    /// The identity fingerprint compared out of band; must match the key (else 8901).
    #[arg(long, value_name = "FP")]
    fingerprint: Option<String>,
    /// Replace a different identity already pinned for this node.
    #[arg(long)]
    replace: bool,
    #[command(flatten)]
    file: FileArg,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// JSON: {"nodes":[{"node_id","identity_key","identity_fingerprint"}]}.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    file: FileArg,
}

#[derive(Args, Debug)]
pub struct ForgetArgs {
    /// The node id whose pin is removed.
    #[arg(value_name = "NODE_ID", allow_hyphen_values = true)]
    node_id: String,
    #[command(flatten)]
    file: FileArg,
}

/// Normalise a fingerprint someone typed: trimmed, lower case.
pub fn normalise_fingerprint(fp: &str) -> String {
    fp.trim().to_ascii_lowercase()
}

pub fn run(c: NodesCommand) -> Result<()> {
    match c {
        NodesCommand::Pin(a) => pin(a),
        NodesCommand::List(a) => list(a),
        NodesCommand::Forget(a) => forget(a),
    }
}

fn check_node_id(id: &str) -> Result<()> {
    if sealpass_native::signing::is_valid_caller(id) {
        Ok(())
    } else {
        Err(Error::new(
            Code::Usage,
            "NODE_ID must be 1..=64 chars of [A-Za-z0-9._-]",
        ))
    }
}

fn pin(a: PinArgs) -> Result<()> {
    check_node_id(&a.node_id)?;
    let key = known_nodes::parse_identity(a.identity.trim())?;
    let fp = key.identity_fingerprint();
    if let Some(want) = &a.fingerprint {
        if normalise_fingerprint(want) != fp {
            return Err(Error::with_detail(
                Code::IdentityMismatch,
                format!(
                    "node {}: --fingerprint does not match the identity key (its fingerprint is {fp}); nothing was pinned",
                    a.node_id
                ),
            ));
        }
    }
    let path = known_nodes::resolve(a.file.known_nodes.as_deref())?;
    let mut kn = KnownNodes::load(&path)?;
    let outcome = kn.pin(&a.node_id, key, a.replace)?;
    if outcome != PinOutcome::Unchanged {
        kn.save(&path)?;
    }
    let what = match outcome {
        PinOutcome::Added => "pinned",
        PinOutcome::Unchanged => "already pinned",
        PinOutcome::Replaced => "re-pinned",
    };
    write_stdout(format!("node {}: {what} identity {fp}\n", a.node_id).as_bytes())
}

fn list(a: ListArgs) -> Result<()> {
    let path = known_nodes::resolve(a.file.known_nodes.as_deref())?;
    let kn = KnownNodes::load(&path)?;
    let out = if a.json {
        let nodes: Vec<serde_json::Value> = kn
            .entries()
            .iter()
            .map(|(id, k)| {
                serde_json::json!({
                    "node_id": id,
                    "identity_key": k.to_b64u(),
                    "identity_fingerprint": k.identity_fingerprint(),
                })
            })
            .collect();
        let v = serde_json::json!({ "nodes": nodes });
        let mut s = serde_json::to_string(&v)
            .map_err(|_| Error::new(Code::Internal, "cannot encode JSON"))?;
        s.push('\n');
        s
    } else {
        kn.entries()
            .iter()
            .map(|(id, k)| format!("{id}  {}  {}\n", k.identity_fingerprint(), k.to_b64u()))
            .collect()
    };
    write_stdout(out.as_bytes())
}

fn forget(a: ForgetArgs) -> Result<()> {
    check_node_id(&a.node_id)?;
    let path = known_nodes::resolve(a.file.known_nodes.as_deref())?;
    let mut kn = KnownNodes::load(&path)?;
    if !kn.forget(&a.node_id) {
        return Err(Error::with_detail(
            Code::IdentityNotPinned,
            format!("node {} is not pinned", a.node_id),
        ));
    }
    kn.save(&path)?;
    write_stdout(format!("node {}: pin removed\n", a.node_id).as_bytes())
}
