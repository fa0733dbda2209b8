//! Whether a pending the relay lists may get a *new* one-time key: the
//! keystore caps (keys held, distinct slugs) and the per-relay budgets for
//! new keys and new slugs. A pending whose key the node already holds is
//! always served; only growth is limited.

use std::collections::HashSet;

use sealpass::context::Context;
use sealpass::error::Result;
use sealpass_native::keystore::Keystore;

use super::budget::{Bucket, BudgetArgs};
use super::notes::Episode;

/// Most one-time keys this node holds at once: a relay cannot make it fill
/// its disk by listing endless pending credentials.
pub const MAX_LOCAL_KEYS: usize = 4096;
/// Most distinct slugs (delivered or awaited) a relay can make the node
/// keep: every new slug may end up as a stored secret of up to 64 KiB.
pub const MAX_SLUGS: usize = 4096;

/// What the keystore holds, read once per cycle when a key may be needed.
pub struct Local {
    /// Pending (unconsumed) key ids, of every node id in the keystore.
    ids: HashSet<String>,
    /// Slugs of delivered secrets and of pending keys.
    slugs: HashSet<String>,
}

impl Local {
    /// Read it from the keystore (metadata only, no record is opened).
    pub fn read(store: &Keystore) -> Result<Local> {
        let pending = store.list_pending()?;
        let mut slugs: HashSet<String> = store.secret_list()?.into_iter().map(|m| m.slug).collect();
        let mut ids = HashSet::with_capacity(pending.len());
        for m in pending {
            slugs.insert(m.slug);
            ids.insert(m.pending_id);
        }
        Ok(Local { ids, slugs })
    }

    /// Whether a key for `id` is held.
    pub fn holds(&self, id: &str) -> bool {
        self.ids.contains(id)
    }
}

/// The verdict for one context.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A key is held already: re-use it.
    Held,
    /// A new key may be made (`new_slug`: its slug is new too).
    New {
        /// The slug is neither stored nor awaited yet.
        new_slug: bool,
    },
    /// Not now; the episode to log.
    Refused(Episode),
}

/// The caps and budgets of one agent (one relay).
pub struct Admission {
    keys: Bucket,
    slugs: Bucket,
}

impl Admission {
    /// Budgets from the flags, full.
    pub fn new(b: BudgetArgs) -> Admission {
        Admission {
            keys: Bucket::per_hour(b.max_new_keys_per_hour),
            slugs: Bucket::per_hour(b.max_new_slugs_per_hour),
        }
    }

    /// May `ctx` get a key now? Takes nothing (see [`Admission::made`]).
    pub fn check(&mut self, local: &Local, ctx: &Context) -> Verdict {
        if local.holds(ctx.pending_id()) {
            return Verdict::Held;
        }
        if local.ids.len() >= MAX_LOCAL_KEYS {
            return Verdict::Refused(Episode::KeyCap);
        }
        let new_slug = !local.slugs.contains(ctx.slug());
        if new_slug && local.slugs.len() >= MAX_SLUGS {
            return Verdict::Refused(Episode::SecretCap);
        }
        if !self.keys.ready() {
            return Verdict::Refused(Episode::KeyBudget);
        }
        if new_slug && !self.slugs.ready() {
            return Verdict::Refused(Episode::SlugBudget);
        }
        Verdict::New { new_slug }
    }

    /// A new key was made for `ctx`: spend the budgets and note it.
    pub fn made(&mut self, local: &mut Local, ctx: &Context, new_slug: bool) {
        self.keys.take();
        if new_slug {
            self.slugs.take();
        }
        local.ids.insert(ctx.pending_id().to_owned());
        local.slugs.insert(ctx.slug().to_owned());
    }

    /// The configured rates, for log lines: (keys, slugs) per hour.
    pub fn rates(&self) -> (u32, u32) {
        (self.keys.rate(), self.slugs.rate())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(id: &str, slug: &str) -> Context {
        Context::new("n1", id, slug, "env", None, None).unwrap()
    }

    #[test]
    fn only_growth_is_limited() {
        let mut local = Local {
            ids: ["held".to_string()].into(),
            slugs: ["db".to_string()].into(),
        };
        let mut a = Admission::new(BudgetArgs {
            max_new_keys_per_hour: 2,
            max_new_slugs_per_hour: 1,
        });
        assert_eq!(a.check(&local, &ctx("held", "x")), Verdict::Held);
        let c = ctx("p1", "new-1");
        assert_eq!(a.check(&local, &c), Verdict::New { new_slug: true });
        a.made(&mut local, &c, true);
        // Slug budget spent: a new slug waits, a known one does not.
        assert_eq!(
            a.check(&local, &ctx("p2", "new-2")),
            Verdict::Refused(Episode::SlugBudget)
        );
        let c = ctx("p2", "db");
        assert_eq!(a.check(&local, &c), Verdict::New { new_slug: false });
        a.made(&mut local, &c, false);
        assert_eq!(
            a.check(&local, &ctx("p3", "db")),
            Verdict::Refused(Episode::KeyBudget)
        );
        // Still served: every key already held.
        assert_eq!(a.check(&local, &ctx("p1", "new-1")), Verdict::Held);
        // The caps come first.
        local.ids = (0..MAX_LOCAL_KEYS).map(|i| format!("k{i}")).collect();
        assert_eq!(
            a.check(&local, &ctx("p4", "db")),
            Verdict::Refused(Episode::KeyCap)
        );
        local.ids.clear();
        local.slugs = (0..MAX_SLUGS).map(|i| format!("s{i}")).collect();
        assert_eq!(
            a.check(&local, &ctx("p4", "another")),
            Verdict::Refused(Episode::SecretCap)
        );
    }
}
