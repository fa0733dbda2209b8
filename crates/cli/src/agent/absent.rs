//! Which one-time keys the relay has stopped asking about, and for how
//! long: a key is pruned only after its pending has been missing from the
//! relay's listings for a long grace — at least [`UNLISTED_GRACE`] *and*
//! [`UNLISTED_POLLS`] complete listings — never because one listing left
//! it out. An honest relay can omit a live pending for a while (a database
//! restore or failover, a migration, a flaky proxy); a key deleted then is
//! lost for good (the relay keeps the target `pubkey_posted` and takes no
//! other key), so the pending would be dead.
//!
//! Even then a key is pruned only under pressure: while this node holds
//! more than [`PRUNE_ABOVE_KEYS`] keys, the longest-missing first, down to
//! that many. Below it a missing key costs little, and keeping it is what
//! saves a pending an honest relay only lost for a while; the 48 h rule
//! removes it in the end.
//!
//! Only ids this node holds a key for are tracked, so the map stays below
//! the key cap.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use clap::Args;

/// Default for the (hidden) `--unlisted-grace-secs`.
pub const UNLISTED_GRACE: Duration = Duration::from_secs(15 * 60);
/// Complete listings an id must be missing from before its key is pruned.
pub const UNLISTED_POLLS: u32 = 10;
/// Default for the (hidden) `--prune-above-keys`: half the key cap.
pub const PRUNE_ABOVE_KEYS: u64 = super::admit::MAX_LOCAL_KEYS as u64 / 2;

/// The `sealpass node run` flag for the grace (hidden: for tests).
#[derive(Args, Debug, Clone, Copy)]
pub struct GraceArgs {
    /// Seconds a pending must be missing from the relay's listings before
    /// its one-time key is pruned (also at least 10 complete listings).
    #[arg(long, value_name = "SECS", default_value_t = UNLISTED_GRACE.as_secs(), hide = true,
          value_parser = clap::value_parser!(u64).range(1..=172_800))]
    pub unlisted_grace_secs: u64,
    /// Missing keys are pruned only while this node holds more keys than
    /// this (longest-missing first, down to it).
    #[arg(long, value_name = "N", default_value_t = PRUNE_ABOVE_KEYS, hide = true,
          value_parser = clap::value_parser!(u64).range(0..=4096))]
    pub prune_above_keys: u64,
}

/// Keys whose pending is missing from the listings: since when, and in how
/// many complete listings.
#[derive(Debug)]
pub struct Absent {
    grace: Duration,
    map: HashMap<String, (Instant, u32)>,
}

impl Absent {
    /// Nothing missing yet.
    pub fn new(grace: Duration) -> Absent {
        Absent {
            grace,
            map: HashMap::new(),
        }
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The grace, for the log ("15 min", "2 s").
    pub fn grace_text(&self) -> String {
        let secs = self.grace.as_secs();
        if secs >= 60 && secs % 60 == 0 {
            format!("{} min", secs / 60)
        } else {
            format!("{secs} s")
        }
    }

    /// End of a cycle: ids `listed` in it are present again; ids in `gone`
    /// (listed before, not in this cycle) start being missing if `held`
    /// has a key for them; ids whose key is gone are forgotten. A
    /// `complete` listing counts as one more listing they were missing
    /// from. Returns the ids whose key may now be pruned, longest missing
    /// first (still tracked: see [`Absent::forget`]).
    pub fn end_cycle(
        &mut self,
        listed: &HashSet<String>,
        gone: Vec<String>,
        held: Option<&HashSet<String>>,
        complete: bool,
    ) -> Vec<String> {
        self.map.retain(|id, _| !listed.contains(id));
        if let Some(held) = held {
            self.map.retain(|id, _| held.contains(id));
            let now = Instant::now();
            for id in gone {
                if held.contains(&id) && !listed.contains(&id) {
                    self.map.entry(id).or_insert((now, 0));
                }
            }
        }
        if complete {
            for (_, polls) in self.map.values_mut() {
                *polls = polls.saturating_add(1);
            }
        }
        let mut due: Vec<(Instant, String)> = self
            .map
            .iter()
            .filter(|(_, (since, polls))| *polls >= UNLISTED_POLLS && since.elapsed() >= self.grace)
            .map(|(id, (since, _))| (*since, id.clone()))
            .collect();
        due.sort();
        due.into_iter().map(|(_, id)| id).collect()
    }

    /// Stop tracking `ids` (their keys were pruned).
    pub fn forget(&mut self, ids: &[String]) {
        for id in ids {
            self.map.remove(id);
        }
    }
}

/// Which of the `due` keys (longest missing first) to prune while `held`
/// keys are held: only above `above`, and down to it.
pub fn under_pressure(due: &[String], held: usize, above: usize) -> &[String] {
    let n = held.saturating_sub(above).min(due.len());
    due.get(..n).unwrap_or(due)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> HashSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_key_is_due_only_after_the_grace_and_enough_complete_listings() {
        let held = set(&["k1", "k2"]);
        let none = HashSet::new();
        let mut a = Absent::new(Duration::ZERO);
        // One omission, then listed again: never due, and forgotten.
        assert!(a
            .end_cycle(&none, vec!["k1".into(), "junk".into()], Some(&held), true)
            .is_empty());
        assert!(!a.is_empty());
        assert!(a
            .end_cycle(&set(&["k1"]), vec![], Some(&held), true)
            .is_empty());
        assert!(a.is_empty());
        // Missing from UNLISTED_POLLS complete listings: due on the last.
        a.end_cycle(&none, vec!["k1".into()], Some(&held), true);
        for _ in 1..UNLISTED_POLLS - 1 {
            assert!(a.end_cycle(&none, vec![], None, true).is_empty());
            // Incomplete listings do not count.
            assert!(a.end_cycle(&none, vec![], None, false).is_empty());
        }
        assert_eq!(a.end_cycle(&none, vec![], None, true), ["k1"]);
        assert!(!a.is_empty());
        a.forget(&["k1".to_string()]);
        assert!(a.is_empty());
        // The time matters too.
        let mut a = Absent::new(Duration::from_secs(3600));
        a.end_cycle(&none, vec!["k2".into()], Some(&held), true);
        for _ in 0..3 * UNLISTED_POLLS {
            assert!(a.end_cycle(&none, vec![], None, true).is_empty());
        }
        // Pruned only above the threshold, longest missing first.
        let due = ["a".to_string(), "b".to_string(), "c".to_string()];
        assert!(under_pressure(&due, 2048, 2048).is_empty());
        assert_eq!(under_pressure(&due, 2050, 2048), ["a", "b"]);
        assert_eq!(under_pressure(&due, 4096, 2048).len(), 3);
        assert_eq!(under_pressure(&due, 1, 0), ["a"]);
        // A key consumed meanwhile is forgotten.
        a.end_cycle(&none, vec![], Some(&set(&["k1"])), true);
        assert!(a.is_empty());
    }
}
