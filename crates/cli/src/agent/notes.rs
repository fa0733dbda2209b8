//! What the agent remembers between polls, bounded: one small note per
//! pending id the relay currently lists (validated ids only), and one flag
//! per kind of relay misbehaviour so that it is logged once per episode
//! instead of once per item or poll.
//!
//! Notes of ids the relay stopped listing are dropped at the end of a cycle
//! (their ids handed back, so the keys behind them can be pruned); a map
//! that is full takes no new ids. Memory therefore stays below
//! [`MAX_NOTES`] notes of at most 64-byte ids, however long the agent runs.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use sealpass_native::wire::AckResult;

/// Most ids remembered at once: above what an honest relay lists (1,000
/// pendings plus up to 4,096 envelopes), far below anything that matters.
pub const MAX_NOTES: usize = 8192;

/// Per-id warnings, each printed once for as long as the id is listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Warn {
    /// Its context failed the checks (it never gets a key; logged per
    /// episode, [`Episode::BadContext`], not per id).
    BadContext = 1,
    /// Its key was consumed here already.
    Consumed = 2,
    /// The keystore holds a key for it with another context.
    Conflict = 4,
    /// The relay did not take our public key.
    NotTaken = 8,
    /// An envelope stayed at the relay after a local failure.
    Kept = 16,
}

/// A new episode of the same kind is logged at most this often: a relay
/// that alternates floods with quiet polls cannot turn each poll into a
/// log line.
pub const EPISODE_LOG_EVERY: Duration = Duration::from_secs(600);

/// Relay misbehaviour logged once per episode (until a cycle without it),
/// and at most every [`EPISODE_LOG_EVERY`] per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Episode {
    /// Items whose pending id is not a valid id.
    InvalidId = 1,
    /// Items the agent could not read.
    Unreadable = 2,
    /// The new-key budget is spent.
    KeyBudget = 4,
    /// The new-slug budget is spent.
    SlugBudget = 8,
    /// The keystore holds the most one-time keys it may.
    KeyCap = 16,
    /// The keystore holds the most delivered secrets it may.
    SecretCap = 32,
    /// The re-open budget is spent.
    ReopenBudget = 64,
    /// [`MAX_NOTES`] reached.
    NotesFull = 128,
    /// The identity key could not be read.
    Identity = 256,
    /// Items whose context fails the checks.
    BadContext = 512,
}

/// What is remembered about one listed pending id.
#[derive(Debug, Default)]
pub struct Note {
    /// Its fingerprint line was printed.
    pub announced: bool,
    warned: u8,
    /// When our public key was last posted (or refused for good).
    pub posted_at: Option<Instant>,
    /// A digest of the context it was made for and the body of that post,
    /// re-sent as is if the relay asks again with the same context (the
    /// keystore is not touched, and no audit row written, for a re-post).
    pub post_body: Option<(u64, Vec<u8>)>,
    /// An envelope for it was opened (or tried) in this process.
    pub opened: bool,
    /// The last envelope acknowledged: a hash of its bytes, the answer
    /// given, and when.
    pub acked: Option<(u64, AckResult, Instant)>,
}

impl Note {
    /// True the first time `w` is raised for this id.
    pub fn first(&mut self, w: Warn) -> bool {
        let bit = w as u8;
        let first = self.warned & bit == 0;
        self.warned |= bit;
        first
    }

    /// Whether `w` was raised.
    pub fn has(&self, w: Warn) -> bool {
        self.warned & (w as u8) != 0
    }
}

/// What [`Notes::end_cycle`] hands back.
#[derive(Debug, Default)]
pub struct Ended {
    /// Ids noted before and not listed in the cycle (their notes dropped).
    pub gone: Vec<String>,
    /// Ids listed in the cycle.
    pub listed: HashSet<String>,
}

/// The bounded memory of the agent.
#[derive(Debug, Default)]
pub struct Notes {
    map: HashMap<String, Note>,
    /// Ids whose fingerprint the start-up listing printed (only shrinks).
    announced_at_start: HashSet<String>,
    episodes: u16,
    this_cycle: u16,
    /// When each kind (by bit position) was last logged.
    logged_at: [Option<Instant>; 16],
    listed: HashSet<String>,
}

impl Notes {
    /// Notes that know which keys were announced at start.
    pub fn new(announced_at_start: HashSet<String>) -> Notes {
        Notes {
            announced_at_start,
            ..Notes::default()
        }
    }

    /// The note of a validated id the relay lists now; `None` when full.
    pub fn note(&mut self, id: &str) -> Option<&mut Note> {
        if !self.map.contains_key(id) {
            if self.map.len() >= MAX_NOTES {
                return None;
            }
            let announced = self.announced_at_start.remove(id);
            self.map.insert(
                id.to_owned(),
                Note {
                    announced,
                    ..Note::default()
                },
            );
        }
        if !self.listed.contains(id) {
            self.listed.insert(id.to_owned());
        }
        self.map.get_mut(id)
    }

    /// True when `e` is to be logged: the first time it happens in an
    /// episode, unless the same kind was logged less than
    /// [`EPISODE_LOG_EVERY`] ago.
    pub fn episode(&mut self, e: Episode) -> bool {
        let bit = e as u16;
        self.this_cycle |= bit;
        let first = self.episodes & bit == 0;
        self.episodes |= bit;
        let slot = self.logged_at.get_mut(bit.trailing_zeros() as usize);
        match slot {
            Some(at) if first && at.map_or(true, |t| t.elapsed() >= EPISODE_LOG_EVERY) => {
                *at = Some(Instant::now());
                true
            }
            _ => false,
        }
    }

    /// End a cycle: episodes not seen in it are over; notes of ids not
    /// listed in it are dropped and their ids returned. With an
    /// `incomplete` listing (truncated, or items the agent could not read)
    /// nothing is dropped: absence from it proves nothing.
    pub fn end_cycle(&mut self, incomplete: bool) -> Ended {
        self.episodes &= self.this_cycle;
        self.this_cycle = 0;
        let listed = std::mem::take(&mut self.listed);
        if incomplete {
            return Ended {
                gone: Vec::new(),
                listed,
            };
        }
        let gone: Vec<String> = self
            .map
            .keys()
            .filter(|id| !listed.contains(*id))
            .cloned()
            .collect();
        for id in &gone {
            self.map.remove(id);
        }
        Ended { gone, listed }
    }

    /// Forget a cycle that failed half-way (nothing is dropped).
    pub fn abandon_cycle(&mut self) {
        self.listed.clear();
        self.this_cycle = 0;
    }

    /// How many ids are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_follow_the_listing_and_stay_bounded() {
        let mut n = Notes::new(["old".to_string()].into());
        assert!(n.note("old").unwrap().announced);
        assert!(!n.note("p1").unwrap().announced);
        assert!(n.note("p1").unwrap().first(Warn::NotTaken));
        assert!(!n.note("p1").unwrap().first(Warn::NotTaken));
        assert!(n.end_cycle(false).gone.is_empty());
        n.note("p1");
        assert_eq!(n.end_cycle(false).gone, ["old"]);
        // Incomplete: absence proves nothing.
        assert!(n.end_cycle(true).gone.is_empty());
        assert_eq!(n.len(), 1);
        assert_eq!(n.end_cycle(false).gone, ["p1"]);
        for i in 0..MAX_NOTES {
            assert!(n.note(&format!("p{i}")).is_some());
        }
        assert!(n.note("one-more").is_none());
        assert!(n.note("p7").is_some());
        n.abandon_cycle();
        assert_eq!(n.len(), MAX_NOTES);
        assert_eq!(n.end_cycle(false).gone.len(), MAX_NOTES);
        assert_eq!(n.len(), 0);
    }

    #[test]
    fn episodes_log_once_until_a_cycle_without_them() {
        let mut n = Notes::default();
        assert!(n.episode(Episode::KeyBudget));
        assert!(!n.episode(Episode::KeyBudget));
        n.end_cycle(false);
        assert!(!n.episode(Episode::KeyBudget));
        n.end_cycle(false);
        n.end_cycle(false);
        // A new episode right after: not logged again within 10 minutes...
        assert!(!n.episode(Episode::KeyBudget));
        n.end_cycle(false);
        n.end_cycle(false);
        // ...but after them, and other kinds have their own clock.
        n.logged_at[2] = Instant::now().checked_sub(EPISODE_LOG_EVERY);
        assert!(n.episode(Episode::KeyBudget));
        assert!(n.episode(Episode::SlugBudget));
    }
}
