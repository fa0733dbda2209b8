//! The `sealpass` command line. All logic lives in `sealpass::cli`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    sealpass::cli::main()
}
