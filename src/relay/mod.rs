//! The relay server (feature `relay`; stub).

use crate::error::{Code, Error, Result};

/// Run the relay with command-line arguments.
pub fn main() -> std::process::ExitCode {
    let e: Result<()> = Err(Error::new(Code::Usage, "not implemented yet"));
    if let Err(e) = e {
        eprintln!("{e}");
    }
    std::process::ExitCode::FAILURE
}
