//! Child processes for tests: output collected line by line by reader
//! threads, SIGKILL and reap on drop (even when a test fails), SIGTERM via
//! kill(1) (no unsafe code), and the small helpers the harnesses share.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Random bytes as lowercase hex, from the OS CSPRNG.
pub fn rand_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::getrandom(&mut b).expect("rng");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A fresh KEK for a keystore (B64U of 32 bytes), and its bytes.
pub fn new_kek_bytes() -> (String, [u8; 32]) {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).expect("rng");
    (sealpass::b64::encode(&b), b)
}

/// A fresh KEK for a keystore (B64U of 32 bytes).
pub fn new_kek() -> String {
    new_kek_bytes().0
}

/// Output lines of a child, collected by reader threads; also the raw
/// text as it arrives (a prompt that waits without a newline).
#[derive(Clone, Default)]
pub struct Lines(
    Arc<Mutex<Vec<String>>>,
    Arc<AtomicUsize>,
    Arc<Mutex<Vec<u8>>>,
);

impl Lines {
    fn spawn_reader(&self, mut r: impl Read + Send + 'static) {
        let lines = self.0.clone();
        let open = self.1.clone();
        let raw = self.2.clone();
        open.fetch_add(1, Ordering::SeqCst);
        thread::spawn(move || {
            let mut line = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                match r.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let got = &chunk[..n];
                        raw.lock().unwrap().extend_from_slice(got);
                        for &b in got {
                            line.push(b);
                            if b == b'\n' {
                                let s = String::from_utf8_lossy(&line).trim_end().to_string();
                                lines.lock().unwrap().push(s);
                                line.clear();
                            }
                        }
                    }
                }
            }
            if !line.is_empty() {
                let s = String::from_utf8_lossy(&line).trim_end().to_string();
                lines.lock().unwrap().push(s);
            }
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }

    /// Wait (at most `timeout`) until `needle` appears in the output as it
    /// arrived, a line not finished yet included (a prompt).
    pub fn wait_for_text(&self, needle: &str, timeout: Duration) {
        let end = Instant::now() + timeout;
        loop {
            if String::from_utf8_lossy(&self.2.lock().unwrap()).contains(needle) {
                return;
            }
            if Instant::now() > end {
                panic!(
                    "no {needle:?} within {timeout:?}; output so far:\n{}",
                    String::from_utf8_lossy(&self.2.lock().unwrap())
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait (at most `timeout`) until the readers saw end of file, so that
    /// after an exit every line the child wrote is here (a process that
    /// passed its pipes on to a child of its own may keep them open).
    fn drain(&self, timeout: Duration) {
        let end = Instant::now() + timeout;
        while self.1.load(Ordering::SeqCst) > 0 && Instant::now() < end {
            thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn all(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }

    /// First line containing `needle`, waiting up to `timeout`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        let end = Instant::now() + timeout;
        loop {
            if let Some(l) = self.0.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return l.clone();
            }
            if Instant::now() > end {
                panic!(
                    "no line containing {needle:?} within {timeout:?}; output so far:\n{}",
                    self.all()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn count(&self, needle: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }
}

/// A child process killed (SIGKILL) and reaped on drop.
pub struct Proc {
    child: Option<Child>,
    stdin: Option<std::process::ChildStdin>,
    pub out: Lines,
}

impl Proc {
    pub fn spawn(cmd: Command) -> Proc {
        Proc::spawn_io(cmd, false)
    }

    pub fn spawn_io(mut cmd: Command, with_stdin: bool) -> Proc {
        cmd.stdin(if with_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn child process");
        let out = Lines::default();
        out.spawn_reader(child.stdout.take().unwrap());
        out.spawn_reader(child.stderr.take().unwrap());
        let stdin = child.stdin.take();
        Proc {
            child: Some(child),
            stdin,
            out,
        }
    }

    /// Write to the child's stdin (spawned with [`spawn_with_stdin`]).
    pub fn write_stdin(&mut self, s: &str) {
        use std::io::Write;
        let w = self.stdin.as_mut().expect("stdin not piped");
        w.write_all(s.as_bytes()).unwrap();
        w.flush().unwrap();
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Has the process not exited yet?
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// SIGKILL, like a crash or power loss.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM (via kill(1): no unsafe code) and wait for the exit status.
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        let mut c = self.child.take().expect("process already gone");
        let ok = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .expect("run kill(1)")
            .success();
        assert!(ok, "kill -TERM failed");
        let end = Instant::now() + timeout;
        loop {
            if let Some(st) = c.try_wait().expect("wait") {
                self.out.drain(Duration::from_secs(5));
                return st;
            }
            if Instant::now() > end {
                let _ = c.kill();
                let _ = c.wait();
                panic!("process did not exit within {timeout:?} after SIGTERM");
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let end = Instant::now() + timeout;
        loop {
            let c = self.child.as_mut().expect("process already gone");
            if let Some(st) = c.try_wait().expect("wait") {
                self.child = None;
                self.out.drain(Duration::from_secs(5));
                return st;
            }
            if Instant::now() > end {
                self.kill();
                panic!(
                    "process did not exit within {timeout:?}; output:\n{}",
                    self.out.all()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Start a process with piped stdout/stderr collected into lines.
pub fn spawn(cmd: Command) -> Proc {
    Proc::spawn(cmd)
}

/// Like [`spawn`], with stdin piped for answering prompts.
pub fn spawn_with_stdin(cmd: Command) -> Proc {
    Proc::spawn_io(cmd, true)
}

/// Run a command to completion with `stdin` fed in.
pub fn run_with_stdin(mut cmd: Command, stdin: &str) -> Output {
    use std::io::Write;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().expect("wait")
}

/// Every file under `dir` (recursively) as (path, bytes).
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                out.push((p, b));
            }
        }
    }
    out
}

/// Does `needle` occur in `hay`? (An empty needle never does.)
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Assert `secret` is nowhere under `dir` (db, WAL, SHM, anything).
pub fn assert_not_in_files(dir: &Path, secret: &str) {
    assert!(
        !secret.is_empty(),
        "an empty secret is in every file: nothing to check"
    );
    let files = files_under(dir);
    assert!(!files.is_empty(), "no files under {}", dir.display());
    for (p, b) in files {
        assert!(
            !contains(&b, secret.as_bytes()),
            "secret found in {}",
            p.display()
        );
    }
}

/// A temp dir kept for inspection when the test fails (cleaned otherwise).
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("sealpass-flow-")
        .tempdir()
        .unwrap()
}

/// Wait for a condition.
pub fn eventually(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < end, "timed out: {what}");
        thread::sleep(Duration::from_millis(100));
    }
}
