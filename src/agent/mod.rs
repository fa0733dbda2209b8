//! Node agent and admin-side inject client (feature `cli`; stub).

pub mod inject;

use clap::Args;

use crate::error::{Code, Error, Result};

/// `sealpass node run` arguments.
#[derive(Args, Debug)]
pub struct RunArgs {}

/// Run the node agent.
pub fn run(_a: RunArgs) -> Result<()> {
    Err(Error::new(Code::Usage, "not implemented yet"))
}
