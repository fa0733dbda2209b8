//! The `sealpass` command line (feature `cli`). One file per command group;
//! every command returns `sealpass::Result` and writes to stdout only after
//! it has fully succeeded.

use std::io::{self, Write as _};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use sealpass::error::{Code, Error, Result};

pub mod agent;
mod core_cmds;
mod keystore_cmd;
mod node_cmd;
mod nodes_cmd;
mod relay_cmd;
mod release_cmd;
mod sign_cmd;
pub mod text;

/// Hand a secret to one machine through a relay that cannot read it.
///
/// Secrets are sealed (X25519 + HKDF-SHA256 + XChaCha20-Poly1305) to a node's
/// one-time public key and its long-term identity key (envelope v2); only
/// that node can open them. Pin each node's identity once after comparing
/// its fingerprint out of band (`sealpass nodes pin`): the pin is the
/// defence against a relay that swaps the node's keys.
#[derive(Parser, Debug)]
#[command(
    name = "sealpass",
    version,
    propagate_version = true,
    after_help = "Quick start (one machine):\n  sealpass keygen --out node.key            # prints the public key\n  sealpass fingerprint <PUBKEY>             # compare out of band\n  printf %s \"$TOKEN\" | sealpass seal --to <PUBKEY> --context ctx.json > env.json\n  sealpass open --key node.key --context ctx.json < env.json\n\nErrors: one stderr line `error <code> <Name>: <detail>` (codes: docs/PROTOCOL.md §13).\nRelay, node agent and inject: docs/OPERATIONS.md."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate a secret key file (mode 0600) and print its public key (one-time or identity key).
    Keygen(core_cmds::KeygenArgs),
    /// Print the public key (B64U) of a secret key file.
    Pubkey(core_cmds::PubkeyArgs),
    /// Print the fingerprint of a public key, or (--identity) of a node identity key.
    Fingerprint(core_cmds::FingerprintArgs),
    /// Seal plaintext from stdin to a public key (v1), or to it and a node identity (v2).
    Seal(core_cmds::SealArgs),
    /// Open an envelope from stdin with a secret key; plaintext on stdout.
    Open(core_cmds::OpenArgs),
    /// Manage the node's sealed keystore (status, rotation, audit).
    #[command(subcommand)]
    Keystore(keystore_cmd::KeystoreCommand),
    /// Node-side commands: one-time keys, accepting envelopes, secrets, the agent.
    #[command(subcommand)]
    Node(node_cmd::NodeCommand),
    /// Sender side: pin, list and forget node identity keys (the known-nodes file).
    #[command(subcommand)]
    Nodes(nodes_cmd::NodesCommand),
    /// Run the relay server (runs the separate `sealpass-relay` binary, which
    /// is built without decryption: $SEALPASS_RELAY_BIN, else the one next
    /// to `sealpass`).
    Relay(relay_cmd::RelayArgs),
    /// Admin side: create a pending credential, check the node's pinned identity, seal and send.
    Inject(crate::agent::inject::InjectArgs),
    /// Sign an HTTP request by hand (HMAC-SHA256), printing the headers.
    Sign(sign_cmd::SignArgs),
    /// Verify an HMAC-signed HTTP request by hand.
    Verify(sign_cmd::VerifyArgs),
    /// Sign or verify a release manifest (SHA-384 of every served file).
    #[command(subcommand)]
    Release(release_cmd::ReleaseCommand),
}

/// Parse arguments, run, print `error CODE NAME: detail` on failure.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                let _ = e.print();
                return ExitCode::from(2);
            }
            let msg = e.to_string();
            let first: Vec<&str> = msg
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let first = first.join(" ");
            let first = first.trim_start_matches("error: ");
            eprintln!(
                "{}",
                Error::with_detail(Code::Usage, format!("{first} (see 'sealpass --help')"))
            );
            return ExitCode::from(2);
        }
    };
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // No panic when stderr is gone (a hung-up terminal, a closed pipe).
            let _ = writeln!(io::stderr(), "{e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Keygen(a) => core_cmds::keygen(a),
        Command::Pubkey(a) => core_cmds::pubkey(a),
        Command::Fingerprint(a) => core_cmds::fingerprint(a),
        Command::Seal(a) => core_cmds::seal(a),
        Command::Open(a) => core_cmds::open(a),
        Command::Keystore(c) => keystore_cmd::run(c),
        Command::Node(c) => node_cmd::run(c),
        Command::Nodes(c) => nodes_cmd::run(c),
        Command::Relay(a) => relay_cmd::run(a),
        Command::Inject(a) => crate::agent::inject::run(a),
        Command::Sign(a) => sign_cmd::sign(a),
        Command::Verify(a) => sign_cmd::verify(a),
        Command::Release(c) => release_cmd::run(c),
    }
}

/// Read all of stdin, refusing (without reading it all) more than `limit` bytes.
pub fn read_stdin_limited(limit: usize, too_large: Error) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    sealpass_native::io::read_limited(io::stdin().lock(), limit, too_large)
}
