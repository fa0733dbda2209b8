//! Iteration counts, the seeded random source and the run report.
//!
//! Every choice a run makes (victim, kill delay) comes from one seeded
//! generator, printed at the start, so a failing run can be repeated with
//! `SEALPASS_FAULT_SEED`.

use std::io::Write;

/// Environment knobs (defaults are the short pass of `./build.sh test`).
pub struct Config {
    /// `SEALPASS_FAULT_FLOW`: whole-flow iterations, each with one kill.
    pub flow: usize,
    /// `SEALPASS_FAULT_ROTATIONS`: interrupted rotations.
    pub rotations: usize,
    /// `SEALPASS_FAULT_DISK`: rounds of the keystore running out of space.
    pub disk: usize,
    /// `SEALPASS_FAULT_SEED`: seed of the random choices.
    pub seed: u64,
}

fn count(var: &str, default: usize) -> usize {
    match std::env::var(var) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{var}={v:?} is not a count")),
        Err(_) => default,
    }
}

impl Config {
    pub fn from_env(test: &str) -> (Config, Rng) {
        let seed = match std::env::var("SEALPASS_FAULT_SEED") {
            Ok(v) => v
                .parse()
                .unwrap_or_else(|_| panic!("SEALPASS_FAULT_SEED={v:?} is not a u64")),
            Err(_) => {
                let mut b = [0u8; 8];
                getrandom::getrandom(&mut b).expect("rng");
                u64::from_le_bytes(b)
            }
        };
        println!("{test}: SEALPASS_FAULT_SEED={seed}");
        let cfg = Config {
            flow: count("SEALPASS_FAULT_FLOW", 12),
            rotations: count("SEALPASS_FAULT_ROTATIONS", 12),
            disk: count("SEALPASS_FAULT_DISK", 2),
            seed,
        };
        (cfg, Rng(seed))
    }
}

/// splitmix64: small, seedable, good enough to spread kill points.
pub struct Rng(u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-enough in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Print one result line and, when `SEALPASS_FAULT_REPORT` names a file,
/// append it there as JSON (`./build.sh faults` turns those into
/// bench/FAULTS.md).
pub fn report(test: &str, cfg: &Config, counts: serde_json::Value) {
    let line = serde_json::json!({"test": test, "seed": cfg.seed, "counts": counts});
    println!("fault report: {line}");
    if let Ok(path) = std::env::var("SEALPASS_FAULT_REPORT") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
        writeln!(f, "{line}").expect("write report");
    }
}
