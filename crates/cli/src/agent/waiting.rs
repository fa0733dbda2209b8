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

/// Poll until every node has posted its key (8009 → back off 1 s .. 30 s).
pub fn wait_keys(relay: &Relay, id: &str, deadline: Instant) -> Result<PendingView> {
    let path = format!("/api/v1/pending/{id}");
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
    let mut told = false;
    loop {
        match relay.call("GET", &path, &[], None, LARGE_LIMIT) {
            Ok(r) => return http::parse(&r.body, "pending"),
            Err(e) if matches!(e.code(), Code::PubkeyAwaiting | Code::RelayUnreachable) => {
                if !told {
                    eprintln!(
                        "pending {id}: waiting for the node(s) to post their one-time keys..."
                    );
                    told = true;
                }
                pause(&mut backoff, deadline, "waiting for the node keys")?;
            }
            Err(e) => return Err(e),
        }
    }
}

fn pause(backoff: &mut Backoff, deadline: Instant, what: &str) -> Result<()> {
    let wait = backoff.next_wait();
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Error::with_detail(
            Code::Expired,
            format!("timed out {what}"),
        ));
    }
    sleep(wait.min(left));
    Ok(())
}

/// Poll the status until every target is consumed, failed or expired.
pub fn wait_result(relay: &Relay, id: &str, deadline: Instant) -> Result<()> {
    let path = format!("/api/v1/pending/{id}/status");
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
    let mut last = None;
    let st = loop {
        match relay.call("GET", &path, &[], None, LARGE_LIMIT) {
            Ok(r) => {
                let st: StatusView = http::parse(&r.body, "status")?;
                if last != Some(st.state) {
                    eprintln!("pending {id}: {}", st.state.as_str());
                    last = Some(st.state);
                }
                if st.state == PendingState::Expired
                    || (!st.targets.is_empty() && st.targets.iter().all(|t| t.state.is_settled()))
                {
                    break st;
                }
            }
            Err(e) if e.code() == Code::RelayUnreachable => {}
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
    if st.state == PendingState::Expired {
        Err(Error::new(Code::Expired, "the pending credential expired"))
    } else if !failed.is_empty() {
        Err(Error::with_detail(
            Code::DecryptFailed,
            format!(
                "node(s) {} could not open their envelope; retry them with --pending {id}",
                printable(&failed.join(","))
            ),
        ))
    } else {
        Ok(())
    }
}
