//! `sealpass inject` (stub).

use clap::Args;

use crate::error::{Code, Error, Result};

/// `sealpass inject` arguments.
#[derive(Args, Debug)]
pub struct InjectArgs {}

/// Run inject.
pub fn run(_a: InjectArgs) -> Result<()> {
    Err(Error::new(Code::Usage, "not implemented yet"))
}
