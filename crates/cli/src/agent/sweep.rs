//! Deleting this node's one-time keys that are presumed unusable, so junk a
//! relay made the node create does not hold the key cap for ever: keys
//! older than 48 h (the relay caps expiry at 24 h, so these can never
//! receive an envelope), and keys of pendings the relay listed earlier in
//! this run and has not listed since for a long grace, while the key cap
//! is under pressure ([`super::absent`]: 15 min and 10 complete listings,
//! above 2,048 keys, by default; an
//! honest relay drops a pending for good only once it is consumed or
//! expired). Keys of other node ids, and keys the relay never listed in
//! this run, are left to the 48 h rule.

use std::collections::HashSet;

use sealpass_native::keystore::{Keystore, Purpose};
use sealpass_native::signing::unix_now;

use super::absent::UNLISTED_POLLS;
use super::http::printable;

/// A one-time key older than this can never receive its envelope.
pub const STALE_KEY_SECS: i64 = 48 * 3600;

/// Delete this node's keys older than [`STALE_KEY_SECS`].
pub fn stale(store: &Keystore, node_id: &str) {
    let cutoff = unix_now() - STALE_KEY_SECS;
    delete_where(
        store,
        node_id,
        "older than 48 h; it can no longer receive an envelope",
        |m| m.created_at < cutoff,
    );
}

/// Delete this node's keys for the pending ids in `due` (listed earlier,
/// missing from the listings for the grace, `grace` long).
pub fn unlisted(store: &Keystore, node_id: &str, due: &[String], grace: &str) {
    if due.is_empty() {
        return;
    }
    let due: HashSet<&str> = due.iter().map(String::as_str).collect();
    let why = format!(
        "the relay has not listed its pending for {grace} and {UNLISTED_POLLS} complete listings or more; presumed consumed or expired"
    );
    delete_where(store, node_id, &why, |m| {
        due.contains(m.pending_id.as_str())
    });
}

/// The ids of this node's one-time keys (metadata only).
pub fn held(store: &Keystore, node_id: &str) -> Option<HashSet<String>> {
    match store.list_pending() {
        Ok(l) => Some(
            l.into_iter()
                .filter(|m| m.node_id == node_id)
                .map(|m| m.pending_id)
                .collect(),
        ),
        Err(e) => {
            eprintln!("node {node_id}: cannot list one-time keys to prune: {e}");
            None
        }
    }
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
                "pending {}: one-time key deleted ({why})",
                printable(&m.pending_id)
            ),
            Err(e) => eprintln!(
                "pending {}: cannot delete its one-time key: {e}",
                printable(&m.pending_id)
            ),
        }
    }
}
