//! What the agent remembers between polls, bounded: one small note per
//! pending id the relay currently lists (validated ids only), and one flag
//! per kind of relay misbehaviour so that it is logged once per episode
//! instead of once per item or poll.
//!
//! Notes of ids the relay did not list in a cycle are dropped at its end,
//! whether the listing was complete or not (their ids handed back, so
//! [`super::absent`] can tell which keys went missing: a note is not needed
//! for that). A map that fills up within a cycle first drops the notes of
//! ids not listed in it yet; the capped listings (1,000 pendings and 4,096
//! envelopes) always fit. Memory therefore stays below [`MAX_NOTES`] notes
//! of at most 64-byte ids, however long the agent runs, and a flood of
//! ever-new ids cannot keep the map full once it stops.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

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
    /// Envelopes for pendings this node holds no key for.
    UnknownKey = 1024,
    /// Envelopes for keys consumed here already.
    Consumed = 2048,
    /// The budget for answering envelopes not opened is spent.
    AnswerBudget = 4096,
}

/// What is remembered about one listed pending id.
#[derive(Debug, Default)]
pub struct Note {
    /// Its fingerprint line was printed.
    pub announced: bool,
    warned: u8,
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
    /// Ids whose notes a full map dropped in this cycle.
    evicted: Vec<String>,
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
                self.evict_unlisted();
            }
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

    /// A full map: drop the notes of ids not listed in this cycle (they
    /// would be dropped at its end anyway); their ids are handed back then.
    fn evict_unlisted(&mut self) {
        let listed = &self.listed;
        let evicted = &mut self.evicted;
        self.map.retain(|id, _| {
            let keep = listed.contains(id);
            if !keep {
                evicted.push(id.clone());
            }
            keep
        });
    }

    /// End a cycle: episodes not seen in it are over; notes of ids not
    /// listed in it are dropped and their ids returned, also after an
    /// incomplete listing (truncated, or items the agent could not read):
    /// whether absence from it counts is for [`super::absent`] to decide.
    pub fn end_cycle(&mut self) -> Ended {
        self.episodes &= self.this_cycle;
        self.this_cycle = 0;
        let listed = std::mem::take(&mut self.listed);
        let mut gone = std::mem::take(&mut self.evicted);
        gone.extend(self.map.keys().filter(|id| !listed.contains(*id)).cloned());
        self.map.retain(|id, _| listed.contains(id));
        Ended { gone, listed }
    }

    /// Forget a cycle that failed half-way (nothing more is dropped; ids
    /// a full map dropped are handed back by the next cycle).
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
        assert!(n.end_cycle().gone.is_empty());
        n.note("p1");
        let ended = n.end_cycle();
        assert_eq!(ended.gone, ["old"]);
        assert_eq!(ended.listed, ["p1".to_string()].into());
        assert_eq!(n.len(), 1);
        assert_eq!(n.end_cycle().gone, ["p1"]);
        for i in 0..MAX_NOTES {
            assert!(n.note(&format!("p{i}")).is_some());
        }
        // Full with ids all listed in this cycle: no room.
        assert!(n.note("one-more").is_none());
        assert!(n.note("p7").is_some());
        n.abandon_cycle();
        assert_eq!(n.len(), MAX_NOTES);
        // Full with ids not listed in this cycle: they make room.
        assert!(n.note("one-more").is_some());
        assert_eq!(n.len(), 1);
        let ended = n.end_cycle();
        assert_eq!(ended.gone.len(), MAX_NOTES);
        assert_eq!(n.len(), 1);
    }

    #[test]
    fn a_full_map_drains_after_a_flood_of_ever_new_ids() {
        let mut n = Notes::default();
        // A flood: each cycle lists 1,000 new ids, more than the map holds
        // over the cycles.
        for cycle in 0..20 {
            for i in 0..1000 {
                assert!(n.note(&format!("f{cycle}-{i}")).is_some());
            }
            n.end_cycle();
            assert!(n.len() <= 1000);
        }
        // Then one real id: noted, and the flood's notes are gone.
        assert!(n.note("real").is_some());
        assert_eq!(n.end_cycle().gone.len(), 1000);
        assert_eq!(n.len(), 1);
    }

    #[test]
    fn episodes_log_once_until_a_cycle_without_them() {
        let mut n = Notes::default();
        assert!(n.episode(Episode::KeyBudget));
        assert!(!n.episode(Episode::KeyBudget));
        n.end_cycle();
        assert!(!n.episode(Episode::KeyBudget));
        n.end_cycle();
        n.end_cycle();
        // A new episode right after: not logged again within 10 minutes...
        assert!(!n.episode(Episode::KeyBudget));
        n.end_cycle();
        n.end_cycle();
        // ...but after them, and other kinds have their own clock.
        n.logged_at[2] = Instant::now().checked_sub(EPISODE_LOG_EVERY);
        assert!(n.episode(Episode::KeyBudget));
        assert!(n.episode(Episode::SlugBudget));
    }
}
