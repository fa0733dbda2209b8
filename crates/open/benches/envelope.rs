//! Native ceiling for the bench/ comparison: sealpass seal and Opener::open (the same
//! Rust code the wasm build runs) at 64 B, 1 KiB and 16368 B (16 KiB of
//! ciphertext). Run with `cargo bench -p sealpass-open --bench envelope`;
//! bench/run.sh reads criterion's estimates from target/criterion.

use criterion::{black_box, criterion_main, BenchmarkId, Criterion, Throughput};
use sealpass::{seal, Context, SecretKey};
use sealpass_open::Opener;

const SIZES: [usize; 3] = [64, 1024, 16368];

fn context() -> sealpass::Result<Context> {
    Context::new(
        "node-7",
        "pend-42",
        "stripe-key",
        "header",
        Some("Authorization"),
        None,
    )
}

fn plaintext(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 131 + 7) as u8).collect()
}

/// Criterion's group signature returns `()`: a failed setup ends the run
/// with the error and a non-zero status instead of timing nothing.
fn bench_envelope(c: &mut Criterion) {
    if let Err(e) = run(c) {
        eprintln!("envelope bench: {e}");
        std::process::exit(1);
    }
}

/// Each input is sealed (and opened) once before it is timed, so the timed
/// closures can hand their `Result` to criterion unchecked: the work
/// measured is the same as with an `expect`, minus the branch.
fn run(c: &mut Criterion) -> sealpass::Result<()> {
    let ctx = context()?;
    let sk = SecretKey::from_bytes([0xa5; 32]);
    let pk = sk.public_key();
    let mut g = c.benchmark_group("seal");
    for n in SIZES {
        let pt = plaintext(n);
        seal(&pk, &pt, &ctx)?;
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(BenchmarkId::from_parameter(n), &pt, |b, pt| {
            b.iter(|| seal(black_box(&pk), black_box(pt), black_box(&ctx)))
        });
    }
    g.finish();
    // A node holds its key pair (Opener: npk derived once), as the Wasm
    // benches and every peer do.
    let opener = Opener::new(sk.clone());
    let mut g = c.benchmark_group("open");
    for n in SIZES {
        let env = seal(&pk, &plaintext(n), &ctx)?;
        opener.open(&env, &ctx)?;
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(BenchmarkId::from_parameter(n), &env, |b, env| {
            b.iter(|| opener.open(black_box(env), black_box(&ctx)))
        });
    }
    g.finish();
    Ok(())
}

/// In a private module: `criterion_group!` defines an undocumented `pub fn`.
mod group {
    criterion::criterion_group!(benches, super::bench_envelope);
}
criterion_main!(group::benches);
