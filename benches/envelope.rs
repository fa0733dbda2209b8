//! Native ceiling for the bench/ comparison: sealpass seal and Opener::open (the same
//! Rust code the wasm build runs) at 64 B, 1 KiB and 16368 B (16 KiB of
//! ciphertext). Run with `cargo bench --features open --bench envelope`;
//! bench/run.sh reads criterion's estimates from target/criterion.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sealpass::{seal, Context, Opener, SecretKey};

const SIZES: [usize; 3] = [64, 1024, 16368];

fn context() -> Context {
    Context::new(
        "node-7",
        "pend-42",
        "stripe-key",
        "header",
        Some("Authorization"),
        None,
    )
    .expect("valid context")
}

fn plaintext(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 131 + 7) as u8).collect()
}

fn bench_envelope(c: &mut Criterion) {
    let ctx = context();
    let sk = SecretKey::from_bytes([0xa5; 32]);
    let pk = sk.public_key();
    let mut g = c.benchmark_group("seal");
    for n in SIZES {
        let pt = plaintext(n);
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(BenchmarkId::from_parameter(n), &pt, |b, pt| {
            b.iter(|| seal(black_box(&pk), black_box(pt), black_box(&ctx)).expect("seal"))
        });
    }
    g.finish();
    // A node holds its key pair (Opener: npk derived once), as the Wasm
    // benches and every peer do.
    let opener = Opener::new(sk.clone());
    let mut g = c.benchmark_group("open");
    for n in SIZES {
        let env = seal(&pk, &plaintext(n), &ctx).expect("seal");
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(BenchmarkId::from_parameter(n), &env, |b, env| {
            b.iter(|| opener.open(black_box(env), black_box(&ctx)).expect("open"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_envelope);
criterion_main!(benches);
