//! `sealpass keystore ...` (owned by the keystore work; stub).

use clap::Subcommand;

use crate::error::{Code, Error, Result};

#[derive(Subcommand, Debug)]
pub enum KeystoreCommand {
    /// Show KEK id, DEKs and record counts (never key material).
    Status,
}

pub fn run(_c: KeystoreCommand) -> Result<()> {
    Err(Error::new(Code::Usage, "not implemented yet"))
}
