//! An inject that stops early leaves no dead end.
//!
//! Once its pending credential exists at the relay, an inject that stops
//! before every node consumed — the identity not confirmed at the prompt,
//! Ctrl-C, SIGTERM, SIGHUP, `--timeout`, an unreadable secret, the relay
//! gone — leaves that pending open (until it expires). [`finish`] is the
//! one place that deals with it, for an error and for a signal alike: it
//! prints on stderr, escaped, the exact command that resumes it with
//! `--pending` (or says why no command is printed).
//!
//! The signal side runs on its own thread (a `sigwait` loop, so it knows
//! which signal came: the exit status is 128 + its number). It never
//! panics and always reaches `exit`: every write to stderr ignores its
//! error (after a terminal hangup stderr answers EIO; a closed pipe EPIPE),
//! and everything it prints was worked out before (the local expiry time
//! is formatted when it becomes known, not in the handler).
//!
//! A pending that an admin cancelled (`POST /api/v1/admin/pendings/{id}/cancel`,
//! 8613) is never offered for resuming. inject does not cancel on abort: it
//! does not keep the admin token for that, and `--pending` resumes it.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sealpass::error::{Code, Error};

/// Where the envelopes stand.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Posting {
    /// Nothing was posted.
    No,
    /// The POST of the envelopes was started: it may have reached the relay.
    Sending,
    /// Envelopes were posted: only the result is left.
    Done,
}

/// What is known about the pending this run works on.
struct Open {
    pending_id: String,
    /// ` until <local time>`, or empty: formatted when the expiry became
    /// known (never in the signal handler).
    until: String,
    /// The resume command line, already quoted and escaped; `None` with
    /// the reason none is printed.
    command: std::result::Result<String, String>,
    posting: Posting,
    /// The accept link was printed (`--browser`): the browser seals.
    link: bool,
}

static OPEN: Mutex<Option<Open>> = Mutex::new(None);
/// Set by whoever ends the run first: the main thread with an error, or
/// the signal handler. The other one then prints nothing.
static FINISHED: AtomicBool = AtomicBool::new(false);
/// The signal that ended the run (0: none yet).
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// A no-echo secret prompt is on the terminal (a signal must restore it).
static SECRET_PROMPT: AtomicBool = AtomicBool::new(false);

/// How long the main thread waits for a signal handler that is ending the
/// process before it exits itself.
const HANDLER_GRACE: Duration = Duration::from_secs(5);

fn open() -> MutexGuard<'static, Option<Open>> {
    OPEN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Write to stderr, ignoring errors (no panic when stderr is gone).
pub fn say(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
    let _ = e.flush();
}

/// The exit status for `signo` (128 + signal number, as shells report it).
pub fn signal_status(signo: i32) -> i32 {
    128 + signo
}

/// Wire SIGINT, SIGTERM and SIGHUP to [`on_signal`] (once per process,
/// before any other thread exists: the signals are blocked in every thread
/// and taken by one `sigwait` loop). inject runs no child process, so the
/// blocked mask is inherited by none.
#[cfg(unix)]
pub fn install() {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(s);
    }
    if set.thread_block().is_err() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || loop {
            if let Ok(sig) = set.wait() {
                on_signal(sig as i32);
            }
        });
    if spawned.is_err() {
        // No thread to take them: let them act as they would.
        let _ = set.thread_unblock();
    }
}

#[cfg(not(unix))]
pub fn install() {
    let _ = ctrlc::set_handler(|| on_signal(2));
}

/// The pending exists (created now, or given with `--pending`).
pub fn opened(
    pending_id: &str,
    expires_at: Option<i64>,
    command: std::result::Result<String, String>,
) {
    *open() = Some(Open {
        pending_id: pending_id.to_owned(),
        until: until(expires_at),
        command,
        posting: Posting::No,
        link: false,
    });
}

fn until(expires_at: Option<i64>) -> String {
    expires_at
        .map(|t| format!(" until {}", crate::text::local_time(t)))
        .unwrap_or_default()
}

/// The relay told us when the pending expires.
pub fn expires_at(t: i64) {
    let text = until(Some(t));
    if let Some(o) = open().as_mut() {
        o.until = text;
    }
}

/// The flags do not fit the pending (`--pending` with another slug, other
/// nodes): the resume command would repeat them, so none is printed.
pub fn flags_do_not_fit() {
    *open() = None;
}

/// The envelope POST starts: from now on they may be at the relay.
pub fn sending() {
    if let Some(o) = open().as_mut() {
        o.posting = Posting::Sending;
    }
}

/// Envelopes were posted.
pub fn sent() {
    if let Some(o) = open().as_mut() {
        o.posting = Posting::Done;
    }
}

/// The accept link was printed (`--browser`).
pub fn link_printed() {
    if let Some(o) = open().as_mut() {
        o.link = true;
    }
}

/// A no-echo prompt starts (`true`: the terminal's state is saved first,
/// to be put back exactly by a signal) or ends (`false`).
pub fn secret_prompt(active: bool) {
    if active {
        tty::save();
    }
    SECRET_PROMPT.store(active, Ordering::SeqCst);
    if !active {
        tty::forget();
    }
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
/// `None`: it cannot (it expired, was cancelled or is gone) or should not
/// be resumed as it is (a pinned identity that differs, a relay view that
/// is wrong).
pub fn why(e: &Error, timed_out: bool) -> Option<Why> {
    match e.code() {
        Code::Expired if timed_out => Some(Why::Timeout),
        Code::Expired | Code::Cancelled | Code::NotFound | Code::AlreadyUsed => None,
        Code::IdentityMismatch | Code::RelayProtocol | Code::KnownNodesMalformed => None,
        Code::IdentityNotPinned => Some(Why::NotConfirmed),
        Code::Interrupted => Some(Why::Signal),
        _ => Some(Why::Error),
    }
}

/// The main thread stops with `e`: print the resume hint (before the
/// error line `main` prints). If a signal handler is already ending the
/// process, give it [`HANDLER_GRACE`] to do so, then exit here (with the
/// signal's status): never a process only SIGKILL ends.
pub fn finish(e: &Error, timed_out: bool) {
    if FINISHED.swap(true, Ordering::SeqCst) {
        let end = Instant::now() + HANDLER_GRACE;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            std::thread::park_timeout(left);
        }
        let sig = SIGNAL.load(Ordering::SeqCst);
        std::process::exit(if sig > 0 { signal_status(sig) } else { 1 });
    }
    if let Some(why) = why(e, timed_out) {
        abandon(why);
    }
}

/// SIGINT/SIGTERM/SIGHUP: on the signal thread, end the run now (a prompt
/// or a request in progress cannot be woken up), with the same hint. No
/// step here can panic or block on stderr's state.
fn on_signal(signo: i32) {
    SIGNAL.store(signo, Ordering::SeqCst);
    if FINISHED.swap(true, Ordering::SeqCst) {
        return;
    }
    if SECRET_PROMPT.load(Ordering::SeqCst) {
        tty::restore();
        say("\n");
    }
    abandon(Why::Signal);
    say(&format!(
        "{}\n",
        Error::new(
            Code::Interrupted,
            "inject stopped by a signal before it finished"
        )
    ));
    std::process::exit(signal_status(signo));
}

/// The one place an abandoned pending is handled: say how to resume.
fn abandon(why: Why) {
    let guard = open();
    let Some(o) = guard.as_ref() else {
        if why == Why::Signal {
            say("inject: stopped before the relay named a pending credential; nothing was sent (one it may have made expires unused)\n");
        }
        return;
    };
    say(&hint(o, why));
}

fn hint(o: &Open, why: Why) -> String {
    let until = &o.until;
    let id = &o.pending_id;
    let mut s = match (o.posting, why) {
        (Posting::No, _) if o.link => format!(
            "pending {id}: the accept link was printed; the pending stays open at the relay{until} for the browser to seal.\nTo print the link again and follow the result, run:\n"
        ),
        (Posting::Done, _) => format!(
            "pending {id}: the envelope(s) were posted and stay at the relay{until}; the node(s) may still open them.\nTo follow the result (a node that failed gets a new envelope), run:\n"
        ),
        (Posting::Sending, _) => format!(
            "pending {id}: stopped while posting the envelope(s): they may have been posted, and then stay at the relay{until}.\nTo follow the result (a node still without an envelope gets one), run:\n"
        ),
        (Posting::No, Why::NotConfirmed) => format!(
            "pending {id}: still open at the relay{until}; nothing was sealed or sent.\nCompare the identity fingerprint above with `sealpass node identity` on the node; if it is the same, pin it (`sealpass nodes pin NODE_ID --identity NIK`, or add `--pin FINGERPRINT` below) and resume with:\n"
        ),
        (Posting::No, _) => format!(
            "pending {id}: still open at the relay{until}; nothing was sealed or sent.\nTo resume it (the node keeps its one-time key), run:\n"
        ),
    };
    match &o.command {
        Ok(c) => {
            s.push_str("  ");
            s.push_str(c);
            s.push('\n');
        }
        Err(why_not) => {
            s.push_str(&format!(
                "  (no command is printed: {why_not}; run this inject again with --pending {id})\n"
            ));
        }
    }
    s
}

/// The terminal's state before a no-echo prompt, put back by a signal
/// (the prompt's own guard does not run when the process exits there).
#[cfg(unix)]
mod tty {
    use nix::sys::termios::{tcgetattr, tcsetattr, SetArg, Termios};
    use std::sync::{Mutex, PoisonError};

    static SAVED: Mutex<Option<(std::fs::File, Termios)>> = Mutex::new(None);

    fn saved() -> std::sync::MutexGuard<'static, Option<(std::fs::File, Termios)>> {
        SAVED.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Save the whole state of the controlling terminal (if there is one).
    pub fn save() {
        let Ok(tty) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
        else {
            return;
        };
        if let Ok(t) = tcgetattr(&tty) {
            *saved() = Some((tty, t));
        }
    }

    pub fn forget() {
        *saved() = None;
    }

    /// Put back exactly the saved state.
    pub fn restore() {
        if let Some((tty, t)) = saved().as_ref() {
            let _ = tcsetattr(tty, SetArg::TCSANOW, t);
        }
    }
}

#[cfg(not(unix))]
mod tty {
    pub fn save() {}
    pub fn forget() {}
    pub fn restore() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_names_the_pending_the_command_and_what_was_sent() {
        let o = Open {
            pending_id: "P1".into(),
            until: String::new(),
            command: Ok("sealpass inject --pending P1".into()),
            posting: Posting::No,
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
        let o = Open {
            posting: Posting::Sending,
            link: false,
            ..o
        };
        let h = hint(&o, Why::Timeout);
        assert!(h.contains("they may have been posted"), "{h}");
        assert!(!h.contains("nothing was"), "{h}");
        let o = Open {
            posting: Posting::Done,
            ..o
        };
        let h = hint(&o, Why::Signal);
        assert!(h.contains("were posted"), "{h}");
        assert!(!h.contains("nothing was"), "{h}");
        let o = Open {
            command: Err("the slug holds a backslash".into()),
            ..o
        };
        let h = hint(&o, Why::Signal);
        assert!(
            h.ends_with("  (no command is printed: the slug holds a backslash; run this inject again with --pending P1)\n"),
            "{h}"
        );
    }

    #[test]
    fn only_resumable_stops_get_a_hint() {
        let e = |c| Error::new(c, "");
        assert_eq!(why(&e(Code::Expired), true), Some(Why::Timeout));
        assert_eq!(why(&e(Code::Expired), false), None);
        assert_eq!(why(&e(Code::Cancelled), false), None);
        assert_eq!(why(&e(Code::Cancelled), true), None);
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
