//! The admin token file must be private to the relay's user: a token file
//! writable by group or others, or owned by another user, is refused at
//! start with a typed error (8403 Usage); a private one, also behind a
//! symlink (as secret mounts do), is served.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use sealpass_tests::bins;
use sealpass_tests::proc::Proc;

fn start(data: &Path, token_file: &Path) -> Proc {
    let mut cmd = Command::new(bins::relay());
    cmd.args([
        "--listen",
        "127.0.0.1:0",
        "--dev-insecure-kek",
        "--data-dir",
    ])
    .arg(data)
    .arg("--admin-token-file")
    .arg(token_file)
    .env_remove("SEALPASS_ADMIN_TOKEN")
    .env_remove("SEALPASS_KEK")
    .env_remove("SEALPASS_KEK_FILE");
    Proc::spawn(cmd)
}

/// The relay refuses to start with this token file; returns its output.
fn refused(data: &Path, token_file: &Path) -> String {
    let mut p = start(data, token_file);
    let st = p.wait_exit(Duration::from_secs(30));
    assert!(!st.success(), "relay started: {}", p.out.all());
    let out = p.out.all();
    assert!(out.contains("8403"), "{out}");
    assert!(!out.contains("listening on"), "{out}");
    out
}

fn served(data: &Path, token_file: &Path) {
    let mut p = start(data, token_file);
    p.out
        .wait_for("listening on http://", Duration::from_secs(30));
    p.kill();
}

#[cfg(unix)]
#[test]
fn token_files_others_could_rewrite_are_refused() {
    use std::os::unix::fs::{chown, symlink, PermissionsExt};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("relay");
    let token = tmp.path().join("admin.token");
    std::fs::write(&token, "0123456789abcdef0123456789abcdef\n").unwrap();
    let chmod = |mode: u32| {
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    for mode in [0o666, 0o620, 0o602, 0o777] {
        chmod(mode);
        let out = refused(&data, &token);
        assert!(out.contains(&format!("{mode:03o}")), "{out}");
        assert!(out.contains("chmod 600"), "{out}");
    }
    // A link to a world-writable file: the file it leads to is checked.
    let link = tmp.path().join("token.link");
    symlink(&token, &link).unwrap();
    chmod(0o666);
    refused(&data, &link);
    chmod(0o600);
    served(&data, &token);
    served(&data, &link);
    chmod(0o644);
    served(&data, &token);
    // Owned by someone else (who could chmod it back): refused. Only
    // root can hand a file to another user.
    let me = std::fs::metadata("/proc/self").map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid()
    });
    if me.ok() == Some(0) {
        chmod(0o600);
        chown(&token, Some(65534), None).unwrap();
        let out = refused(&data, &token);
        assert!(out.contains("owned by uid 65534"), "{out}");
    }
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
