//! The envelopes this agent has answered, kept apart from the per-listing
//! notes ([`super::notes`]) so that a relay which lists an id, leaves it
//! out, and lists it again cannot make the agent forget it answered: the
//! same envelope is only acknowledged again (at most once a minute), never
//! opened again (each open is an audit row). Bounded: the
//! [`MAX_HANDLED`] most recent ids, the oldest forgotten first.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use sealpass_native::wire::AckResult;

/// Most ids remembered: the most envelopes an honest relay lists at once.
pub const MAX_HANDLED: usize = 4096;

/// The last answer given for one pending id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    /// A digest of the envelope's bytes.
    pub hash: u64,
    /// The acknowledgement sent.
    pub ack: AckResult,
    /// When it was sent.
    pub at: Instant,
}

/// Pending ids and their last answers, the most recent [`MAX_HANDLED`].
#[derive(Debug, Default)]
pub struct Handled {
    map: HashMap<String, Answer>,
    order: VecDeque<String>,
}

impl Handled {
    /// The last answer for `id`, if remembered.
    pub fn get(&self, id: &str) -> Option<Answer> {
        self.map.get(id).copied()
    }

    /// Remember `answer` for `id` (the oldest id is forgotten when full).
    pub fn put(&mut self, id: &str, answer: Answer) {
        if self.map.insert(id.to_owned(), answer).is_none() {
            self.order.push_back(id.to_owned());
            while self.order.len() > MAX_HANDLED {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
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
    fn answers_are_remembered_and_bounded() {
        let mut h = Handled::default();
        let a = Answer {
            hash: 1,
            ack: AckResult::Consumed,
            at: Instant::now(),
        };
        h.put("p0", a);
        h.put("p0", Answer { hash: 2, ..a });
        assert_eq!(h.get("p0").map(|a| a.hash), Some(2));
        for i in 1..=MAX_HANDLED {
            h.put(&format!("p{i}"), a);
        }
        assert_eq!(h.len(), MAX_HANDLED);
        assert!(h.get("p0").is_none());
        assert!(h.get("p1").is_some());
    }
}
