//! Per-relay budgets: how fast the relay may make this node create new
//! one-time keys, take new slugs, and re-open envelopes.
//!
//! Each is a token bucket holding at most one hour's worth (N), refilled at
//! N per hour. A relay that spends it waits for the refill; keys the node
//! already holds are served whatever the budget, so a flood only delays new
//! pendings, by at most 3600/N seconds once it stops (unless it filled a
//! cap: see docs/OPERATIONS.md). The buckets live in the process: a
//! restart starts with them full.

use std::time::Instant;

use clap::Args;

/// Default for `--max-new-keys-per-hour`.
pub const DEFAULT_KEYS_PER_HOUR: u32 = 600;
/// Default for `--max-new-slugs-per-hour`.
pub const DEFAULT_SLUGS_PER_HOUR: u32 = 100;
/// Envelope opens after the first one per pending id (each writes an audit
/// row): an honest relay only re-sends after a sender retries.
pub const REOPENS_PER_HOUR: u32 = 600;
/// Acknowledgements of envelopes the node does not open (no key for them
/// here, or the key already consumed): each is a signed request, and an
/// honest relay only lists such an envelope after a lost ack or a restore.
/// Beyond it they are left unanswered for now (the relay lists them again).
pub const ANSWERS_PER_HOUR: u32 = 120;

/// The `sealpass node run` flags that set the budgets.
#[derive(Args, Debug, Clone, Copy)]
pub struct BudgetArgs {
    /// New one-time keys the relay may make this node create per hour
    /// (1..=100000; also the burst). Keys already held are always served.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_KEYS_PER_HOUR,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_new_keys_per_hour: u32,
    /// New slugs (a slug neither stored nor awaited yet) the relay may make
    /// this node accept per hour (1..=10000; also the burst).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SLUGS_PER_HOUR,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_new_slugs_per_hour: u32,
}

impl Default for BudgetArgs {
    fn default() -> Self {
        BudgetArgs {
            max_new_keys_per_hour: DEFAULT_KEYS_PER_HOUR,
            max_new_slugs_per_hour: DEFAULT_SLUGS_PER_HOUR,
        }
    }
}

/// A token bucket of `per_hour` tokens, refilled continuously.
#[derive(Debug)]
pub struct Bucket {
    per_hour: u32,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn per_hour(per_hour: u32) -> Bucket {
        Bucket {
            per_hour,
            tokens: f64::from(per_hour),
            last: Instant::now(),
        }
    }

    /// The rate it was made with.
    pub fn rate(&self) -> u32 {
        self.per_hour
    }

    fn refill(&mut self, now: Instant) {
        let cap = f64::from(self.per_hour);
        let gained = now.saturating_duration_since(self.last).as_secs_f64() * cap / 3600.0;
        self.tokens = (self.tokens + gained).min(cap);
        self.last = now;
    }

    /// Whether one token is available now (nothing is taken).
    pub fn ready(&mut self) -> bool {
        self.refill(Instant::now());
        self.tokens >= 1.0
    }

    /// Take one token (call after [`Bucket::ready`] said yes).
    pub fn take(&mut self) {
        self.refill(Instant::now());
        self.tokens = (self.tokens - 1.0).max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_holds_its_rate_and_refills() {
        let mut b = Bucket::per_hour(3);
        for _ in 0..3 {
            assert!(b.ready());
            b.take();
        }
        assert!(!b.ready());
        // 20 minutes later one token (3 per hour) is back, never more than 3.
        let start = b.last;
        b.refill(start + Duration::from_secs(1200));
        assert!((b.tokens - 1.0).abs() < 1e-6);
        b.refill(start + Duration::from_secs(10 * 3600));
        assert!((b.tokens - 3.0).abs() < 1e-9);
    }
}
