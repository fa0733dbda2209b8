//! The envelopes this agent has answered and the public keys it has
//! posted, kept apart from the per-listing notes ([`super::notes`]) so that
//! a relay which lists an id, leaves it out, and lists it again cannot make
//! the agent forget: the same envelope is only acknowledged again, and the
//! same key post re-sent as is (each at most once a minute), never opened
//! or read from the keystore again (each is an audit row). Bounded: the
//! [`MAX_HANDLED`] most recent ids of each, the oldest forgotten first.

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

/// The public key posted for one pending id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posted {
    /// A digest of the (canonical) context the key was made for.
    pub ctx_digest: u64,
    /// The body of the post, re-sent as is.
    pub body: Vec<u8>,
    /// When it was last sent (or refused for good).
    pub at: Option<Instant>,
}

/// Pending ids and the last answer (or post) for each, the most recent
/// [`MAX_HANDLED`].
#[derive(Debug)]
pub struct Recent<V> {
    map: HashMap<String, V>,
    order: VecDeque<String>,
}

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Recent {
            map: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

/// The answers given, per pending id.
pub type Handled = Recent<Answer>;

impl<V: Clone> Recent<V> {
    /// The value for `id`, if remembered.
    pub fn get(&self, id: &str) -> Option<V> {
        self.map.get(id).cloned()
    }

    /// The value for `id`, to change in place.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut V> {
        self.map.get_mut(id)
    }

    /// Remember `answer` for `id` (the oldest id is forgotten when full).
    pub fn put(&mut self, id: &str, answer: V) {
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
