//! Deleting this node's one-time keys that can no longer receive an
//! envelope, so junk a relay made the node create cannot hold the key cap:
//! keys older than 48 h (the relay caps expiry at 24 h), and keys of
//! pendings the relay listed earlier in this run and no longer lists (an
//! honest relay drops a pending from the list only once it is consumed or
//! expired). Keys of other node ids, and keys made by hand that the relay
//! never listed, are left to the 48 h rule.

use std::collections::HashSet;

use sealpass_native::keystore::{Keystore, Purpose};
use sealpass_native::signing::unix_now;

use super::http::printable;

/// A one-time key older than this can never receive its envelope.
pub const STALE_KEY_SECS: i64 = 48 * 3600;

/// Delete this node's keys older than [`STALE_KEY_SECS`].
pub fn stale(store: &Keystore, node_id: &str) {
    let cutoff = unix_now() - STALE_KEY_SECS;
    delete_where(store, node_id, "older than 48 h", |m| m.created_at < cutoff);
}

/// Delete this node's keys for the pending ids in `gone` (listed earlier,
/// absent from a complete listing now).
pub fn unlisted(store: &Keystore, node_id: &str, gone: &[String]) {
    if gone.is_empty() {
        return;
    }
    let gone: HashSet<&str> = gone.iter().map(String::as_str).collect();
    delete_where(store, node_id, "no longer listed by the relay", |m| {
        gone.contains(m.pending_id.as_str())
    });
}

fn delete_where(
    store: &Keystore,
    node_id: &str,
    why: &str,
    pick: impl Fn(&sealpass_native::keystore::PendingMeta) -> bool,
) {
    let list = match store.list_pending() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("node {node_id}: cannot list one-time keys to prune: {e}");
            return;
        }
    };
    for m in list.iter().filter(|m| m.node_id == node_id && pick(m)) {
        match store.delete_record(Purpose::PendingKey, &m.pending_id) {
            Ok(_) => println!(
                "pending {}: one-time key deleted ({why}; it can no longer be used)",
                printable(&m.pending_id)
            ),
            Err(e) => eprintln!(
                "pending {}: cannot delete its one-time key: {e}",
                printable(&m.pending_id)
            ),
        }
    }
}
