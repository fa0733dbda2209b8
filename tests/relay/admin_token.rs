//! The admin token file must be private to the relay's user: a token file
//! readable or writable by group or others (group read only with
//! `--admin-token-file-group-readable`), owned by another user, not a
//! regular file (a FIFO must not hang the start), or reached through a
//! directory others could change, is refused at start with a typed error
//! (8403 Usage) — also when a symlink leads there (as secret mounts use
//! them). A private one, also behind a symlink, is served.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use sealpass_tests::proc::Proc;
use sealpass_tests::relay::store_for;
use sealpass_tests::{bins, pg};

/// A relay started here, and its PostgreSQL database when relays run on
/// PostgreSQL (dropped with it).
struct Started {
    proc: Proc,
    db: Option<Arc<pg::Database>>,
}

fn start(data: &Path, token_file: &Path, extra: &[&str]) -> Started {
    let mut cmd = Command::new(bins::relay());
    let db = store_for(&mut cmd);
    cmd.args([
        "--listen",
        "127.0.0.1:0",
        "--dev-insecure-kek",
        "--data-dir",
    ])
    .arg(data)
    .arg("--admin-token-file")
    .arg(token_file)
    .args(extra)
    .env_remove("SEALPASS_ADMIN_TOKEN")
    .env_remove("SEALPASS_KEK")
    .env_remove("SEALPASS_KEK_FILE");
    Started {
        proc: Proc::spawn(cmd),
        db,
    }
}

/// The relay refuses to start with this token file; returns its output.
fn refused_with(data: &Path, token_file: &Path, extra: &[&str]) -> String {
    let mut s = start(data, token_file, extra);
    let st = s.proc.wait_exit(Duration::from_secs(30));
    assert!(!st.success(), "relay started: {}", s.proc.out.all());
    let out = s.proc.out.all();
    assert!(out.contains("8403"), "{out}");
    assert!(!out.contains("listening on"), "{out}");
    out
}

fn refused(data: &Path, token_file: &Path) -> String {
    refused_with(data, token_file, &[])
}

fn served_with(data: &Path, token_file: &Path, extra: &[&str]) {
    let mut s = start(data, token_file, extra);
    s.proc
        .out
        .wait_for("listening on http://", Duration::from_secs(30));
    if let Some(db) = &s.db {
        assert_eq!(
            db.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'sealpass'"),
            "1",
            "served, but not on PostgreSQL: {}",
            s.proc.out.all()
        );
    }
    s.proc.kill();
}

fn served(data: &Path, token_file: &Path) {
    served_with(data, token_file, &[]);
}

#[cfg(unix)]
fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
fn euid() -> u32 {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// A private directory (0700) to hold the token files.
#[cfg(unix)]
fn private_dir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    chmod(tmp.path(), 0o700);
    tmp
}

const TOKEN: &str = "0123456789abcdef0123456789abcdef\n";

#[cfg(unix)]
#[test]
fn token_files_others_could_read_or_rewrite_are_refused() {
    use std::os::unix::fs::{chown, symlink};
    let tmp = private_dir();
    let data = tmp.path().join("relay");
    let token = tmp.path().join("admin.token");
    std::fs::write(&token, TOKEN).unwrap();
    for mode in [
        0o666, 0o620, 0o602, 0o777, 0o644, 0o640, 0o604, 0o444, 0o440,
    ] {
        chmod(&token, mode);
        let out = refused(&data, &token);
        assert!(out.contains(&format!("{mode:03o}")), "{out}");
        assert!(out.contains("chmod 600"), "{out}");
    }
    // A link to a file others can read or write: the file it leads to is
    // checked.
    let link = tmp.path().join("token.link");
    symlink(&token, &link).unwrap();
    for mode in [0o666, 0o644] {
        chmod(&token, mode);
        refused(&data, &link);
    }
    for mode in [0o600, 0o400] {
        chmod(&token, mode);
        served(&data, &token);
        served(&data, &link);
    }
    // Group read only when asked for (a secret mount with defaultMode
    // 0440 and fsGroup); never other-read or any write.
    let group = ["--admin-token-file-group-readable"];
    for mode in [0o640, 0o440, 0o600] {
        chmod(&token, mode);
        served_with(&data, &link, &group);
    }
    for mode in [0o644, 0o660, 0o604, 0o620] {
        chmod(&token, mode);
        let out = refused_with(&data, &link, &group);
        assert!(out.contains(&format!("{mode:03o}")), "{out}");
    }
    // Owned by someone else (who could chmod it back): refused. Only
    // root can hand a file to another user.
    if euid() == 0 {
        chmod(&token, 0o600);
        chown(&token, Some(65534), None).unwrap();
        let out = refused(&data, &token);
        assert!(out.contains("owned by uid 65534"), "{out}");
    }
}

/// World-readable system files behind a symlink are refused: whoever can
/// write the directory must not be able to make the token a value anyone
/// can read (the boot id, the machine id).
#[cfg(target_os = "linux")]
#[test]
fn links_to_world_readable_system_files_are_refused() {
    use std::os::unix::fs::symlink;
    let tmp = private_dir();
    let data = tmp.path().join("relay");
    for (i, target) in ["/proc/sys/kernel/random/boot_id", "/etc/machine-id"]
        .into_iter()
        .enumerate()
    {
        if !Path::new(target).exists() {
            continue;
        }
        let link = tmp.path().join(format!("link{i}"));
        symlink(target, &link).unwrap();
        let out = refused(&data, &link);
        assert!(out.contains("must not be readable"), "{out}");
    }
}

/// Every directory on the path — to the file and to each symlink — must
/// be owned by the relay's user or root and not writable by group or
/// others unless sticky: else someone else could swap the file or a link.
#[cfg(unix)]
#[test]
fn directories_others_could_change_are_refused() {
    use std::os::unix::fs::{chown, symlink};
    let tmp = private_dir();
    let data = tmp.path().join("relay");
    let open_dir = tmp.path().join("open");
    std::fs::create_dir(&open_dir).unwrap();
    let token = open_dir.join("admin.token");
    std::fs::write(&token, TOKEN).unwrap();
    chmod(&token, 0o600);
    for mode in [0o777, 0o775, 0o757] {
        chmod(&open_dir, mode);
        let out = refused(&data, &token);
        assert!(out.contains("directory"), "{out}");
        assert!(out.contains(&format!("{mode:03o}")), "{out}");
    }
    // Sticky (as /tmp): others cannot rename or delete the relay's files.
    chmod(&open_dir, 0o1777);
    served(&data, &token);
    // A private file reached through a link that sits in a non-sticky
    // world-writable directory: the link could be swapped.
    chmod(&open_dir, 0o777);
    let safe = tmp.path().join("safe");
    std::fs::create_dir(&safe).unwrap();
    chmod(&safe, 0o700);
    let private = safe.join("admin.token");
    std::fs::write(&private, TOKEN).unwrap();
    chmod(&private, 0o600);
    let link = open_dir.join("token.link");
    symlink(&private, &link).unwrap();
    refused(&data, &link);
    // A link in a private directory to a file in a world-writable one.
    let link2 = safe.join("token2.link");
    symlink(&token, &link2).unwrap();
    refused(&data, &link2);
    chmod(&open_dir, 0o755);
    served(&data, &link);
    served(&data, &link2);
    // A directory owned by another user.
    if euid() == 0 {
        chown(&safe, Some(65534), None).unwrap();
        let out = refused(&data, &private);
        assert!(out.contains("owned by uid 65534"), "{out}");
    }
}

/// A FIFO (or anything but a regular file) is refused before it is
/// opened: opening a FIFO would block the start forever.
#[cfg(unix)]
#[test]
fn a_fifo_as_token_file_is_refused_without_hanging() {
    use std::os::unix::fs::symlink;
    let tmp = private_dir();
    let data = tmp.path().join("relay");
    let fifo = tmp.path().join("token.fifo");
    let st = Command::new("mkfifo")
        .arg("-m")
        .arg("600")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(st.success());
    let out = refused(&data, &fifo);
    assert!(out.contains("not a regular file"), "{out}");
    let link = tmp.path().join("fifo.link");
    symlink(&fifo, &link).unwrap();
    let out = refused(&data, &link);
    assert!(out.contains("not a regular file"), "{out}");
    let out = refused(&data, tmp.path());
    assert!(out.contains("not a regular file"), "{out}");
}

/// The owner check does not depend on /proc (the relay's uid comes from
/// geteuid): with /proc hidden, a token file owned by another user is
/// still refused. Needs root and util-linux `unshare` (to mount an empty
/// /proc in a private mount namespace); skipped otherwise.
#[cfg(target_os = "linux")]
#[test]
fn the_owner_check_does_not_need_proc() {
    use std::os::unix::fs::chown;
    if euid() != 0 {
        eprintln!("skipped: needs root");
        return;
    }
    let probe = Command::new("unshare")
        .args(["--mount", "sh", "-c", "mount -t tmpfs none /proc"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot unshare a mount namespace");
        return;
    }
    let tmp = private_dir();
    let data = tmp.path().join("relay");
    let token = tmp.path().join("admin.token");
    std::fs::write(&token, TOKEN).unwrap();
    chmod(&token, 0o600);
    chown(&token, Some(65534), None).unwrap();
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "sh",
        "-c",
        "mount -t tmpfs none /proc && exec \"$0\" \"$@\"",
    ])
    .arg(bins::relay())
    .args([
        "--listen",
        "127.0.0.1:0",
        "--dev-insecure-kek",
        "--data-dir",
    ])
    .arg(&data)
    .arg("--admin-token-file")
    .arg(&token)
    .env_remove("SEALPASS_ADMIN_TOKEN")
    .env_remove("SEALPASS_KEK")
    .env_remove("SEALPASS_KEK_FILE");
    let _db = store_for(&mut cmd);
    let mut p = Proc::spawn(cmd);
    let st = p.wait_exit(Duration::from_secs(30));
    let out = p.out.all();
    assert!(!st.success(), "relay started: {out}");
    assert!(out.contains("owned by uid 65534"), "{out}");
}

/// Wrong tokens of every length — shorter, a prefix, the right length,
/// longer — get one and the same answer (the comparison itself is over
/// fixed-length digests: auth.rs, `token_matches`; not timed here).
#[test]
fn wrong_tokens_of_any_length_get_the_same_answer() {
    let relay = sealpass_tests::relay::Relay::start();
    let t = relay.token.clone();
    let flipped: String = t
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                if c == 'A' {
                    'B'
                } else {
                    'A'
                }
            } else {
                c
            }
        })
        .collect();
    let wrong = [
        String::new(),
        "x".to_owned(),
        t[..t.len() - 1].to_owned(),
        flipped,
        format!("{t}x"),
        "y".repeat(4000),
    ];
    let answers: Vec<_> = wrong
        .iter()
        .map(|w| {
            let auth = format!("Bearer {w}");
            relay.req(
                "POST",
                "/api/v1/admin/nodes/n1/rotate-secret",
                &[("Authorization", &auth)],
                b"",
            )
        })
        .collect();
    answers[0].expect(401, 8609);
    for (w, r) in wrong.iter().zip(&answers) {
        assert_eq!((r.status, &r.body), (401, &answers[0].body), "{}", w.len());
    }
    let ok = relay.admin("POST", "/api/v1/admin/nodes", r#"{"node_id":"n1"}"#);
    assert_eq!(ok.status, 201);
}
