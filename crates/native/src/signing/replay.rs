//! Replay cache: a signature accepted once is refused again while its
//! timestamp is still inside the window.

use std::collections::HashMap;
use std::sync::Mutex;

use sealpass::error::{Code, Error, Result};

/// Where verified signatures are remembered until they expire.
pub trait ReplayCache {
    /// Record `signature` until `expires_at` (unix seconds). Returns `false`
    /// when it was already recorded and has not expired (a replay).
    fn check_and_insert(&self, signature: &[u8; 32], expires_at: i64, now: i64) -> Result<bool>;
}

/// In-process replay cache (the relay uses a SQLite-backed one so that a
/// restart does not reopen the window). Entries are only added after a MAC
/// verified, so only key holders can grow it; expired entries are pruned on
/// insert.
#[derive(Default)]
pub struct MemoryReplayCache {
    seen: Mutex<HashMap<[u8; 32], i64>>,
}

impl MemoryReplayCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }
}

impl ReplayCache for MemoryReplayCache {
    fn check_and_insert(&self, signature: &[u8; 32], expires_at: i64, now: i64) -> Result<bool> {
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| Error::new(Code::Internal, "replay cache poisoned"))?;
        seen.retain(|_, exp| *exp >= now);
        if seen.contains_key(signature) {
            return Ok(false);
        }
        seen.insert(*signature, expires_at);
        Ok(true)
    }
}
