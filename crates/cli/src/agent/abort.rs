//! An inject that stops early leaves no dead end.
//!
//! Once its pending credential exists at the relay, an inject that stops
//! before every node consumed — the identity not confirmed at the prompt,
//! Ctrl-C, SIGTERM, `--timeout`, an unreadable secret, the relay gone —
//! leaves that pending open (until it expires). [`finish`] is the one place
//! that deals with it, for an error and for a signal alike: it prints on
//! stderr, escaped, the exact command that resumes it with `--pending`.
//!
//! The relay has no endpoint to cancel a pending yet. When it has one
//! (`POST /api/v1/admin/pendings/{id}/cancel`), a cancel call goes in
//! [`abandon`], the single place every abort passes through (it would need
//! the admin token, which inject then has to keep for it).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use sealpass::error::{Code, Error};

/// What is known about the pending this run works on.
struct Open {
    pending_id: String,
    expires_at: Option<i64>,
    /// The resume command line, already quoted and escaped.
    command: String,
    /// Envelopes were posted: only the result is left.
    sent: bool,
    /// The accept link was printed (`--browser`): the browser seals.
    link: bool,
}

static OPEN: Mutex<Option<Open>> = Mutex::new(None);
/// Set by whoever ends the run first: the main thread with an error, or
/// the signal handler. The other one then prints nothing.
static FINISHED: AtomicBool = AtomicBool::new(false);
/// A no-echo secret prompt is on the terminal (a signal must turn echo back on).
static SECRET_PROMPT: AtomicBool = AtomicBool::new(false);

fn open() -> MutexGuard<'static, Option<Open>> {
    OPEN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Wire SIGINT, SIGTERM and SIGHUP to [`on_signal`] (once per process).
pub fn install() {
    let _ = ctrlc::set_handler(on_signal);
}

/// The pending exists (created now, or given with `--pending`).
pub fn opened(pending_id: &str, expires_at: Option<i64>, command: String) {
    *open() = Some(Open {
        pending_id: pending_id.to_owned(),
        expires_at,
        command,
        sent: false,
        link: false,
    });
}

/// The relay told us when the pending expires.
pub fn expires_at(t: i64) {
    if let Some(o) = open().as_mut() {
        o.expires_at = Some(t);
    }
}

/// The flags do not fit the pending (`--pending` with another slug, other
/// nodes): the resume command would repeat them, so none is printed.
pub fn flags_do_not_fit() {
    *open() = None;
}

/// Envelopes were posted.
pub fn sent() {
    if let Some(o) = open().as_mut() {
        o.sent = true;
    }
}

/// The accept link was printed (`--browser`).
pub fn link_printed() {
    if let Some(o) = open().as_mut() {
        o.link = true;
    }
}

/// A no-echo prompt starts (`true`) or ends (`false`).
pub fn secret_prompt(active: bool) {
    SECRET_PROMPT.store(active, Ordering::SeqCst);
}

/// Why the run stopped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Why {
    /// A signal.
    Signal,
    /// `--timeout` ran out.
    Timeout,
    /// An unpinned node's identity was not confirmed.
    NotConfirmed,
    /// Any other error after which the same pending can go on.
    Error,
}

/// Whether the pending can go on after `e`, and why the run stopped.
/// `None`: it cannot (it expired or is gone) or should not be resumed as
/// it is (a pinned identity that differs, a relay view that is wrong).
pub fn why(e: &Error, timed_out: bool) -> Option<Why> {
    match e.code() {
        Code::Expired if timed_out => Some(Why::Timeout),
        Code::Expired | Code::NotFound | Code::AlreadyUsed => None,
        Code::IdentityMismatch | Code::RelayProtocol | Code::KnownNodesMalformed => None,
        Code::IdentityNotPinned => Some(Why::NotConfirmed),
        Code::Interrupted => Some(Why::Signal),
        _ => Some(Why::Error),
    }
}

/// The main thread stops with `e`: print the resume hint (before the
/// error line `main` prints). If a signal handler is already ending the
/// process, wait for it instead of printing a second story.
pub fn finish(e: &Error, timed_out: bool) {
    if FINISHED.swap(true, Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
    if let Some(why) = why(e, timed_out) {
        abandon(why);
    }
}

/// SIGINT/SIGTERM/SIGHUP: on the handler's thread, end the run now (a
/// prompt or a request in progress cannot be woken up), with the same hint.
fn on_signal() {
    if FINISHED.swap(true, Ordering::SeqCst) {
        return;
    }
    if SECRET_PROMPT.load(Ordering::SeqCst) {
        restore_echo();
        eprintln!();
    }
    abandon(Why::Signal);
    eprintln!(
        "{}",
        Error::new(
            Code::Interrupted,
            "inject stopped by a signal before it finished"
        )
    );
    std::process::exit(130);
}

/// The one place an abandoned pending is handled: today, say how to resume.
fn abandon(why: Why) {
    let guard = open();
    let Some(o) = guard.as_ref() else {
        if why == Why::Signal {
            eprintln!("inject: stopped before the relay named a pending credential; nothing was sent (one it may have made expires unused)");
        }
        return;
    };
    eprint!("{}", hint(o, why));
}

fn hint(o: &Open, why: Why) -> String {
    let until = o
        .expires_at
        .map(|t| format!(" until {}", crate::text::local_time(t)))
        .unwrap_or_default();
    let id = &o.pending_id;
    let mut s = match (o.sent, why) {
        (false, _) if o.link => format!(
            "pending {id}: the accept link was printed; the pending stays open at the relay{until} for the browser to seal.\nTo print the link again and follow the result, run:\n"
        ),
        (true, _) => format!(
            "pending {id}: the envelope(s) were posted and stay at the relay{until}; the node(s) may still open them.\nTo follow the result (a node that failed gets a new envelope), run:\n"
        ),
        (false, Why::NotConfirmed) => format!(
            "pending {id}: still open at the relay{until}; nothing was sealed or sent.\nCompare the identity fingerprint above with `sealpass node identity` on the node; if it is the same, pin it (`sealpass nodes pin NODE_ID --identity NIK`, or add `--pin FINGERPRINT` below) and resume with:\n"
        ),
        (false, _) => format!(
            "pending {id}: still open at the relay{until}; nothing was sealed or sent.\nTo resume it (the node keeps its one-time key), run:\n"
        ),
    };
    s.push_str("  ");
    s.push_str(&o.command);
    s.push('\n');
    s
}

/// Turn terminal echo back on after a signal during a no-echo prompt
/// (the prompt's own guard does not run when the process exits here).
fn restore_echo() {
    #[cfg(unix)]
    if let Ok(tty) = std::fs::File::open("/dev/tty") {
        let _ = std::process::Command::new("stty")
            .arg("echo")
            .stdin(tty)
            .status();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_names_the_pending_the_command_and_what_was_sent() {
        let o = Open {
            pending_id: "P1".into(),
            expires_at: None,
            command: "sealpass inject --pending P1".into(),
            sent: false,
            link: false,
        };
        let h = hint(&o, Why::Timeout);
        assert!(h.contains("pending P1: still open"), "{h}");
        assert!(h.contains("nothing was sealed or sent"), "{h}");
        assert!(h.ends_with("  sealpass inject --pending P1\n"), "{h}");
        let h = hint(&o, Why::NotConfirmed);
        assert!(h.contains("--pin FINGERPRINT"), "{h}");
        let o = Open { link: true, ..o };
        let h = hint(&o, Why::Signal);
        assert!(h.contains("the accept link was printed"), "{h}");
        assert!(!h.contains("nothing was"), "{h}");
        let o = Open { sent: true, ..o };
        let h = hint(&o, Why::Signal);
        assert!(h.contains("were posted"), "{h}");
        assert!(!h.contains("nothing was"), "{h}");
    }

    #[test]
    fn only_resumable_stops_get_a_hint() {
        let e = |c| Error::new(c, "");
        assert_eq!(why(&e(Code::Expired), true), Some(Why::Timeout));
        assert_eq!(why(&e(Code::Expired), false), None);
        assert_eq!(why(&e(Code::IdentityMismatch), false), None);
        assert_eq!(why(&e(Code::RelayProtocol), false), None);
        assert_eq!(
            why(&e(Code::IdentityNotPinned), false),
            Some(Why::NotConfirmed)
        );
        assert_eq!(why(&e(Code::RelayUnreachable), false), Some(Why::Error));
        assert_eq!(why(&e(Code::DecryptFailed), false), Some(Why::Error));
    }
}
