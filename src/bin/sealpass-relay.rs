//! The relay server binary, built without the `open` feature.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    sealpass::relay::main()
}
