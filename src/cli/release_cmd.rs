//! `sealpass release sign|verify` (owned by the accept-page work; stub).

use clap::Subcommand;

use crate::error::{Code, Error, Result};

#[derive(Subcommand, Debug)]
pub enum ReleaseCommand {
    /// Verify served files against a signed manifest.
    Verify,
}

pub fn run(_c: ReleaseCommand) -> Result<()> {
    Err(Error::new(Code::Usage, "not implemented yet"))
}
