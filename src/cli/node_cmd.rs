//! `sealpass node ...` (owned by the keystore work; stub).

use clap::Subcommand;

use crate::error::{Code, Error, Result};

#[derive(Subcommand, Debug)]
pub enum NodeCommand {
    /// Run the node agent against a relay.
    Run(crate::agent::RunArgs),
}

pub fn run(c: NodeCommand) -> Result<()> {
    match c {
        NodeCommand::Run(a) => crate::agent::run(a),
    }
}

#[allow(dead_code)]
fn _unused() -> Error {
    Error::new(Code::Usage, "")
}
