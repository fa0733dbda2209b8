//! The relay server binary. Its crate graph has no decryption crate.

fn main() -> std::process::ExitCode {
    sealpass_relay::main()
}
