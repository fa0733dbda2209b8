//! `sealpass relay`: runs the sibling `sealpass-relay` binary.
//!
//! The relay is a separate executable built in its own cargo invocation
//! without the `open` feature, so the process that stores envelopes cannot
//! decrypt them even if its code were changed to try.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

use sealpass::error::{Code, Error, Result};

#[derive(Args, Debug)]
#[command(disable_help_flag = true)]
pub struct RelayArgs {
    /// Arguments passed to `sealpass-relay` (try `sealpass relay --help`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<OsString>,
}

fn relay_binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("SEALPASS_RELAY_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()
        .map_err(|_| Error::new(Code::Io, "cannot locate the sealpass binary"))?;
    let sibling = exe.with_file_name("sealpass-relay");
    if sibling.is_file() {
        Ok(sibling)
    } else {
        Err(Error::with_detail(
            Code::Io,
            format!(
                "{} not found; build it with `cargo build --release -p sealpass-relay`",
                sibling.display()
            ),
        ))
    }
}

/// What `sealpass relay --help` says before the relay's own help.
pub const HELP_NOTE: &str = "\
sealpass relay runs the sealpass-relay binary with these arguments: the file named by
SEALPASS_RELAY_BIN when that is set, else sealpass-relay next to this sealpass binary.
The help of sealpass-relay follows.
";

pub fn run(a: RelayArgs) -> Result<()> {
    if a.args.iter().any(|x| x == "--help" || x == "-h") {
        let _ = sealpass_native::io::write_stdout(format!("{HELP_NOTE}\n").as_bytes());
    }
    let bin = relay_binary()?;
    let mut cmd = std::process::Command::new(&bin);
    cmd.args(&a.args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        Err(Error::with_detail(
            Code::Io,
            format!("cannot run {}: {}", bin.display(), err.kind()),
        ))
    }
    #[cfg(not(unix))]
    {
        let status = cmd
            .status()
            .map_err(|_| Error::new(Code::Io, "cannot run sealpass-relay"))?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::new(
                Code::Internal,
                "sealpass-relay exited with an error",
            ))
        }
    }
}
