//! Waiting on the relay for `sealpass inject`: first for the nodes' one-time
//! keys (8009 means "not yet": back off 1 s doubling to 30 s), then for the
//! nodes' verdicts. Both tolerate a relay that is briefly down or restarting,
//! within the overall deadline.

use std::thread::sleep;
use std::time::{Duration, Instant};

use super::http::{self, printable, Relay, LARGE_LIMIT};
use super::pace::Backoff;
use sealpass::error::{Code, Error, Result};
use sealpass_native::wire::{PendingState, PendingView, StatusView, TargetState};

/// How often a long wait for the node keys says it is still waiting.
const PROGRESS_EVERY: Duration = Duration::from_secs(60);

/// Poll until every node has posted its key (8009 → back off 1 s .. 30 s).
/// Progress goes to stderr: one line when the wait starts (what it waits
/// for, since when, that a node may be offline), then one when the set of
/// nodes still awaited changes, and at most one a minute otherwise.
pub fn wait_keys(
    relay: &Relay,
    id: &str,
    nodes: &[String],
    deadline: Instant,
) -> Result<PendingView> {
    let path = format!("/api/v1/pending/{id}");
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
    let mut progress: Option<Progress> = None;
    loop {
        match relay.call("GET", &path, &[], None, LARGE_LIMIT) {
            Ok(r) => return http::parse(&r.body, "pending"),
            Err(e) if matches!(e.code(), Code::PubkeyAwaiting | Code::RelayUnreachable) => {
                let awaited = awaited_nodes(relay, id, nodes)
                    .filter(|a| !a.is_empty())
                    .unwrap_or_else(|| nodes.to_vec());
                match progress.as_mut() {
                    None => {
                        let p = Progress::start(awaited, e.code());
                        note!("pending {id}: {}", p.first_line());
                        progress = Some(p);
                    }
                    Some(p) => {
                        if let Some(line) = p.update(awaited, e.code()) {
                            note!("pending {id}: {line}");
                        }
                    }
                }
                pause(&mut backoff, deadline, "waiting for the node keys")?;
            }
            Err(e) if e.code() == Code::Cancelled => return Err(cancelled()),
            Err(e) => return Err(e),
        }
    }
}

/// 8613: an admin cancelled the pending (`POST /api/v1/admin/pendings/{id}/cancel`).
pub fn cancelled() -> Error {
    Error::new(
        Code::Cancelled,
        "the pending was cancelled by an admin; nothing more will be delivered for it",
    )
}

/// The requested nodes whose target still awaits its key, from the public
/// status (`None` when the status cannot be read: the caller falls back to
/// all). Only ids of `nodes` are named: the relay's text is not echoed.
fn awaited_nodes(relay: &Relay, id: &str, nodes: &[String]) -> Option<Vec<String>> {
    let r = relay
        .call(
            "GET",
            &format!("/api/v1/pending/{id}/status"),
            &[],
            None,
            LARGE_LIMIT,
        )
        .ok()?;
    let st: StatusView = serde_json::from_slice(&r.body).ok()?;
    Some(
        st.targets
            .iter()
            .filter(|t| t.state == TargetState::AwaitingPubkey && nodes.contains(&t.node_id))
            .map(|t| t.node_id.clone())
            .collect(),
    )
}

/// What the key wait told so far.
struct Progress {
    since: Instant,
    since_unix: i64,
    awaited: Vec<String>,
    last_told: Instant,
    /// What the last poll answered: 8009 (not yet) or 8611 (no answer).
    last_code: Code,
}

impl Progress {
    fn start(awaited: Vec<String>, code: Code) -> Progress {
        let now = Instant::now();
        Progress {
            since: now,
            since_unix: sealpass_native::signing::unix_now(),
            awaited,
            last_told: now,
            last_code: code,
        }
    }

    /// The line that starts the wait: what it waits for and since when
    /// (a relay that does not answer is not a node that has not posted).
    fn first_line(&self) -> String {
        let who = printable(&self.awaited.join(", "));
        let since = crate::text::local_time(self.since_unix);
        if self.last_code == Code::RelayUnreachable {
            format!("the relay does not answer (since {since}); waiting for it, then for node(s) {who} to post a one-time key")
        } else {
            format!("waiting for node(s) {who} to post a one-time key (since {since}); a node that is offline posts it when it is back")
        }
    }

    /// The line to print now, if any: on a change of the awaited nodes,
    /// else once per [`PROGRESS_EVERY`].
    fn update(&mut self, awaited: Vec<String>, code: Code) -> Option<String> {
        let now = Instant::now();
        let changed = awaited != self.awaited || code != self.last_code;
        if !changed && now.duration_since(self.last_told) < PROGRESS_EVERY {
            return None;
        }
        self.awaited = awaited;
        self.last_told = now;
        self.last_code = code;
        let waited = crate::text::duration(now.duration_since(self.since).as_secs());
        let since = crate::text::local_time(self.since_unix);
        if code == Code::RelayUnreachable {
            return Some(format!(
                "the relay does not answer; still waiting ({waited}, since {since})"
            ));
        }
        let who = printable(&self.awaited.join(", "));
        Some(format!(
            "still waiting for node(s) {who} to post a one-time key ({waited}, since {since}); {} may be offline or not running `sealpass node run`",
            if self.awaited.len() == 1 { "it" } else { "they" }
        ))
    }
}

fn pause(backoff: &mut Backoff, deadline: Instant, what: &str) -> Result<()> {
    let wait = backoff.next_wait();
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Error::with_detail(
            Code::Expired,
            format!("timed out {what} (--timeout)"),
        ));
    }
    sleep(wait.min(left));
    Ok(())
}

/// Poll the status until every target is consumed, failed or expired, or
/// an admin cancelled the pending (8613, a failure like an expiry).
pub fn wait_result(relay: &Relay, id: &str, deadline: Instant) -> Result<()> {
    let path = format!("/api/v1/pending/{id}/status");
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
    let mut last = None;
    let st = loop {
        match relay.call("GET", &path, &[], None, LARGE_LIMIT) {
            Ok(r) => {
                let st: StatusView = http::parse(&r.body, "status")?;
                let cancelled = st.state == PendingState::Cancelled
                    || st.targets.iter().any(|t| t.state == TargetState::Cancelled);
                let done = cancelled
                    || st.state == PendingState::Expired
                    || (!st.targets.is_empty() && st.targets.iter().all(|t| t.state.is_settled()));
                if done {
                    // The outcome is printed once, on stdout, below.
                    break st;
                }
                if last != Some(st.state) {
                    note!("pending {id}: {}", st.state.as_str());
                    last = Some(st.state);
                }
            }
            Err(e) if e.code() == Code::RelayUnreachable => {}
            Err(e) if e.code() == Code::Cancelled => return Err(cancelled()),
            Err(e) => return Err(e),
        }
        pause(&mut backoff, deadline, "waiting for the nodes")?;
    };
    let mut out = String::new();
    for t in &st.targets {
        out.push_str(&format!(
            "node {}: {}\n",
            printable(&t.node_id),
            t.state.as_str()
        ));
    }
    out.push_str(&format!("pending {id}: {}\n", st.state.as_str()));
    sealpass_native::io::write_stdout(out.as_bytes())?;
    let failed: Vec<&str> = st
        .targets
        .iter()
        .filter(|t| t.state == TargetState::DecryptFailed)
        .map(|t| t.node_id.as_str())
        .collect();
    if st.state == PendingState::Cancelled
        || st.targets.iter().any(|t| t.state == TargetState::Cancelled)
    {
        Err(cancelled())
    } else if st.state == PendingState::Expired {
        Err(Error::new(Code::Expired, "the pending credential expired"))
    } else if !failed.is_empty() {
        Err(Error::with_detail(
            Code::DecryptFailed,
            format!(
                "node(s) {} could not open their envelope; the command above sends them a new one",
                printable(&failed.join(","))
            ),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_speaks_on_a_change_and_once_a_minute_otherwise() {
        let nodes = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut p = Progress::start(nodes(&["a", "b"]), Code::PubkeyAwaiting);
        assert!(p
            .first_line()
            .starts_with("waiting for node(s) a, b to post"));
        // Nothing new, within the minute: quiet.
        assert_eq!(p.update(nodes(&["a", "b"]), Code::PubkeyAwaiting), None);
        // One posted its key: said at once, naming only the other.
        let line = p.update(nodes(&["b"]), Code::PubkeyAwaiting).unwrap();
        assert!(
            line.starts_with("still waiting for node(s) b to post"),
            "{line}"
        );
        assert!(line.contains("it may be offline"), "{line}");
        assert_eq!(p.update(nodes(&["b"]), Code::PubkeyAwaiting), None);
        // A minute later: said again, with how long and since when.
        let Some(earlier) = Instant::now().checked_sub(PROGRESS_EVERY) else {
            return;
        };
        p.last_told = earlier;
        p.since = earlier;
        let line = p.update(nodes(&["b"]), Code::PubkeyAwaiting).unwrap();
        assert!(line.contains("(1m 00s, since "), "{line}");
        p.last_told = earlier;
        let line = p.update(nodes(&["b"]), Code::RelayUnreachable).unwrap();
        assert!(line.starts_with("the relay does not answer"), "{line}");
        // Back: said at once, what it waits for now.
        let line = p.update(nodes(&["b"]), Code::PubkeyAwaiting).unwrap();
        assert!(line.starts_with("still waiting for node(s) b"), "{line}");
        // A relay down from the start is not a node that has not posted.
        let p = Progress::start(nodes(&["a"]), Code::RelayUnreachable);
        let line = p.first_line();
        assert!(
            line.starts_with("the relay does not answer (since "),
            "{line}"
        );
        assert!(!line.starts_with("waiting for node(s)"), "{line}");
    }
}
