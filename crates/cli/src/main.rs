//! The `sealpass` command line. All logic lives in the `sealpass_cli` library.

fn main() -> std::process::ExitCode {
    sealpass_cli::main()
}
