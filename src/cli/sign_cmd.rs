//! `sealpass sign` / `sealpass verify` (owned by the request-signing work; stub).

use clap::Args;

use crate::error::{Code, Error, Result};

#[derive(Args, Debug)]
pub struct SignArgs {}

#[derive(Args, Debug)]
pub struct VerifyArgs {}

pub fn sign(_a: SignArgs) -> Result<()> {
    Err(Error::new(Code::Usage, "not implemented yet"))
}

pub fn verify(_a: VerifyArgs) -> Result<()> {
    Err(Error::new(Code::Usage, "not implemented yet"))
}
