//! Stopping and pacing: the SIGINT/SIGTERM flag, sleeps that wake up for it,
//! and exponential backoff with jitter for relay errors.
//!
//! The signal handler only sets an atomic flag (the `ctrlc` crate runs it on
//! its own thread, so no unsafe code here); the loops poll the flag between
//! steps, so a step in progress — a keystore transaction, an ack — finishes
//! before the process exits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Set once SIGINT or SIGTERM arrived.
#[derive(Clone)]
pub struct Stop(Arc<AtomicBool>);

static GLOBAL: OnceLock<Stop> = OnceLock::new();

impl Stop {
    /// The process-wide flag, wired to SIGINT/SIGTERM on first use. If the
    /// handler cannot be installed, the default signal action (exit) remains,
    /// which is still safe: every step is idempotent.
    pub fn install() -> Stop {
        GLOBAL
            .get_or_init(|| {
                let stop = Stop(Arc::new(AtomicBool::new(false)));
                let flag = stop.0.clone();
                let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
                stop
            })
            .clone()
    }

    /// Whether the process should stop.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleep up to `d`, returning early (false) when a stop was requested.
    pub fn sleep(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        loop {
            if self.requested() {
                return false;
            }
            let now = Instant::now();
            if now >= end {
                return true;
            }
            std::thread::sleep((end - now).min(Duration::from_millis(50)));
        }
    }
}

/// Exponential backoff: `base` doubling up to `max`, each wait jittered
/// down by up to 25% so that many agents don't hammer a relay in lockstep.
pub struct Backoff {
    base: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// A new backoff starting at `base`.
    pub fn new(base: Duration, max: Duration) -> Backoff {
        Backoff {
            base,
            max,
            next: base,
        }
    }

    /// The next wait (jittered), doubling the one after it.
    pub fn next_wait(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        jitter(d)
    }

    /// Back to the first step after a success.
    pub fn reset(&mut self) {
        self.next = self.base;
    }
}

fn jitter(d: Duration) -> Duration {
    let mut b = [0u8; 2];
    if getrandom::getrandom(&mut b).is_err() {
        return d;
    }
    // 0..=25% off.
    let frac = f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX) * 0.25;
    d.mul_f64(1.0 - frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        let waits: Vec<Duration> = (0..7).map(|_| b.next_wait()).collect();
        for (w, nominal) in waits.iter().zip([1u64, 2, 4, 8, 16, 30, 30]) {
            let n = Duration::from_secs(nominal);
            assert!(*w <= n && *w >= n.mul_f64(0.75), "{w:?} vs {n:?}");
        }
        b.reset();
        assert!(b.next_wait() <= Duration::from_secs(1));
    }

    #[test]
    fn sleep_returns_early_on_stop() {
        let s = Stop(Arc::new(AtomicBool::new(true)));
        let t = Instant::now();
        assert!(!s.sleep(Duration::from_secs(5)));
        assert!(t.elapsed() < Duration::from_secs(1));
    }
}
