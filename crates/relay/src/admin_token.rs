//! Where the admin bearer token comes from, and the rule that a token file
//! must be private to the relay: whoever can write it (or replace it, or a
//! directory on its path) can make themselves admin at the next start, and
//! whoever can read it is admin now.

use std::io::Read;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use sealpass::error::{Code, Error, Result};

/// Largest admin token file read (a token is a line of printable ASCII).
const MAX_TOKEN_FILE: u64 = 4096;

/// Symlinks followed at most while resolving a token file path (as the
/// kernel's ELOOP limit).
const MAX_LINKS: usize = 40;

/// How private the token file must be.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenFilePolicy {
    /// Also accept a file readable by its group (mode 0640/0440, e.g. a
    /// Kubernetes secret mounted with `defaultMode: 0440` and `fsGroup`):
    /// `--admin-token-file-group-readable`. Never write or other-read.
    pub group_readable: bool,
}

/// Admin token: `file`, else `SEALPASS_ADMIN_TOKEN`, else
/// `<data-dir>/admin.token`: created 0600 with 32 random bytes — or, with a
/// shared store, holding the `shared` token every instance uses (written
/// there for the operator to read; a file that holds another token is
/// refused, so two instances never answer to different tokens unasked).
pub fn load(
    file: Option<&Path>,
    data_dir: &Path,
    policy: TokenFilePolicy,
    shared: Option<Zeroizing<String>>,
) -> Result<Zeroizing<String>> {
    let token = if let Some(p) = file {
        read_token_file(p, policy)?
    } else if let Ok(t) = std::env::var("SEALPASS_ADMIN_TOKEN") {
        Zeroizing::new(t.trim().to_owned())
    } else {
        let p = data_dir.join("admin.token");
        if std::fs::symlink_metadata(&p).is_err() {
            let t = match &shared {
                Some(t) => t.clone(),
                None => {
                    let mut b = Zeroizing::new([0u8; 32]);
                    sealpass::rng::os_fill(&mut b[..])?;
                    Zeroizing::new(sealpass::b64::encode(&b[..]))
                }
            };
            // With a shared store nothing else made the data dir: make it
            // private (0700), as the SQLite store does.
            let mut dir = std::fs::DirBuilder::new();
            dir.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                dir.mode(0o700);
            }
            dir.create(data_dir).map_err(|e| {
                Error::with_detail(
                    Code::Io,
                    format!("cannot create {}: {}", data_dir.display(), e.kind()),
                )
            })?;
            write_private(&p, t.as_bytes())?;
            let whose = if shared.is_some() {
                "the shared admin token"
            } else {
                "admin token"
            };
            eprintln!("sealpass-relay: wrote {whose} to {}", p.display());
        }
        let t = read_token_file(&p, policy)?;
        if let Some(s) = &shared {
            if !super::auth::token_matches(t.as_bytes(), s.as_bytes()) {
                return Err(usage(format!(
                    "{} holds another token than the one the shared database holds for every relay instance: \
                     remove the file (the relay writes the shared one there) or give the token with --admin-token-file",
                    p.display()
                )));
            }
        }
        t
    };
    if token.len() < 16 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::new(
            Code::Usage,
            "admin token must be at least 16 printable ASCII characters",
        ));
    }
    Ok(token)
}

fn usage(msg: String) -> Error {
    Error::with_detail(Code::Usage, msg)
}

/// Read a token file after checking, without opening anything first, every
/// directory on its path (symlinks resolved one by one, as the kernel does,
/// so the links' own directories are checked too) and the file it finally
/// names; then open that file (non-blocking, not following a link) and
/// check the opened file is the one checked (same device and inode).
fn read_token_file(p: &Path, policy: TokenFilePolicy) -> Result<Zeroizing<String>> {
    let io = |what: &str, e: std::io::Error| {
        Error::with_detail(
            Code::Io,
            format!("cannot {what} {}: {}", p.display(), e.kind()),
        )
    };
    let me = own_uid()?;
    let real = resolve_checked(p, me)?;
    let md = std::fs::symlink_metadata(&real).map_err(|e| io("stat", e))?;
    check_private(p, &md, me, policy)?;
    let f = open_no_follow(&real).map_err(|e| io("read", e))?;
    let opened = f.metadata().map_err(|e| io("stat", e))?;
    if !same_file(&md, &opened) {
        return Err(usage(format!(
            "admin token file {} changed while it was being opened",
            p.display()
        )));
    }
    check_private(p, &opened, me, policy)?;
    let mut raw = Zeroizing::new(Vec::new());
    f.take(MAX_TOKEN_FILE + 1)
        .read_to_end(&mut raw)
        .map_err(|e| io("read", e))?;
    if u64::try_from(raw.len()).unwrap_or(u64::MAX) > MAX_TOKEN_FILE {
        return Err(Error::new(Code::Usage, "admin token file is too large"));
    }
    let text = std::str::from_utf8(&raw)
        .map_err(|_| Error::new(Code::Usage, "admin token file is not UTF-8"))?;
    Ok(Zeroizing::new(text.trim().to_owned()))
}

/// Resolve `p` component by component (following symlinks, at most
/// [`MAX_LINKS`]), checking every directory entered with [`check_dir`]:
/// the directory holding each symlink and the one holding the final file
/// are among them. Returns the resolved path (no symlinks left in it).
/// (Unix only: elsewhere the path is used as given.)
fn resolve_checked(p: &Path, me: Option<u32>) -> Result<PathBuf> {
    #[cfg(not(unix))]
    {
        let _ = me;
        return Ok(p.to_path_buf());
    }
    #[cfg(unix)]
    resolve_checked_unix(p, me)
}

#[cfg(unix)]
fn resolve_checked_unix(p: &Path, me: Option<u32>) -> Result<PathBuf> {
    use std::collections::VecDeque;
    use std::path::Component;
    let io = |what: &Path, e: std::io::Error| {
        Error::with_detail(
            Code::Io,
            format!("cannot stat {}: {}", what.display(), e.kind()),
        )
    };
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| io(Path::new("."), e))?
            .join(p)
    };
    let mut done = PathBuf::from("/");
    check_dir(p, &done, me)?;
    let mut links = 0usize;
    let mut queue: VecDeque<PathBuf> = abs
        .components()
        .map(|c| PathBuf::from(c.as_os_str()))
        .collect();
    while let Some(c) = queue.pop_front() {
        let comp = c.components().next();
        match comp {
            None | Some(Component::CurDir) => {}
            Some(Component::RootDir) | Some(Component::Prefix(_)) => {
                done = PathBuf::from("/");
            }
            Some(Component::ParentDir) => {
                done.pop();
            }
            Some(Component::Normal(name)) => {
                let cand = done.join(name);
                let md = std::fs::symlink_metadata(&cand).map_err(|e| io(&cand, e))?;
                if md.file_type().is_symlink() {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(usage(format!(
                            "admin token file {}: too many symlinks",
                            p.display()
                        )));
                    }
                    let target = std::fs::read_link(&cand).map_err(|e| io(&cand, e))?;
                    // A relative target is read from the link's directory
                    // (`done`); an absolute one starts again at the root.
                    for t in target.components().rev() {
                        queue.push_front(PathBuf::from(t.as_os_str()));
                    }
                } else if queue
                    .iter()
                    .any(|c| !matches!(c.components().next(), None | Some(Component::CurDir)))
                {
                    // Something follows: this must be a directory.
                    if !md.is_dir() {
                        return Err(usage(format!(
                            "admin token file {}: {} is not a directory",
                            p.display(),
                            cand.display()
                        )));
                    }
                    check_dir(p, &cand, me)?;
                    done = cand;
                } else {
                    done = cand;
                }
            }
        }
    }
    Ok(done)
}

/// A directory on the token file's path must not let anyone but the
/// relay's user or root swap the file or a link on the way: owned by one of
/// them, and not writable by group or others unless sticky (as /tmp is,
/// where others cannot rename or delete what they do not own).
fn check_dir(p: &Path, dir: &Path, me: Option<u32>) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let md = std::fs::metadata(dir).map_err(|e| {
            Error::with_detail(
                Code::Io,
                format!("cannot stat {}: {}", dir.display(), e.kind()),
            )
        })?;
        let mode = md.mode() & 0o7777;
        if Some(md.uid()) != me && md.uid() != 0 {
            return Err(usage(format!(
                "admin token file {}: directory {} is owned by uid {}; every directory on the path must belong to the relay's user or root",
                p.display(),
                dir.display(),
                md.uid()
            )));
        }
        if mode & 0o022 != 0 && mode & 0o1000 == 0 {
            return Err(usage(format!(
                "admin token file {}: directory {} has mode {:03o}; a directory on the path must not be writable by group or others (unless sticky)",
                p.display(),
                dir.display(),
                mode & 0o777
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = (p, dir, me);
    Ok(())
}

/// Refuse a token file that is not a regular file, that group or others
/// can read or write (group read allowed only by the policy), or that
/// belongs to another user (who could chmod it back).
fn check_private(
    p: &Path,
    md: &std::fs::Metadata,
    me: Option<u32>,
    policy: TokenFilePolicy,
) -> Result<()> {
    if !md.is_file() {
        return Err(usage(format!(
            "admin token file {} is not a regular file",
            p.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = md.mode() & 0o777;
        let allowed = if policy.group_readable { 0o040 } else { 0 };
        if mode & 0o077 & !allowed != 0 {
            let hint = if policy.group_readable {
                "it must not be writable by group or readable or writable by others (chmod 640 or 600 it)"
            } else {
                "it must not be readable or writable by group or others (chmod 600 it; a group-readable secret mount needs --admin-token-file-group-readable)"
            };
            return Err(usage(format!(
                "admin token file {} has mode {mode:03o}; {hint}",
                p.display()
            )));
        }
        if Some(md.uid()) != me && md.uid() != 0 {
            return Err(usage(format!(
                "admin token file {} is owned by uid {}; it must belong to the relay's user ({}) or root",
                p.display(),
                md.uid(),
                me.unwrap_or(0)
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = (me, policy);
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    a.len() == b.len() && a.is_file() == b.is_file()
}

/// Open for reading without following a final symlink and without blocking
/// (a FIFO swapped in after the checks would otherwise hang the start).
fn open_no_follow(p: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        let flags = (OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY).bits();
        o.custom_flags(i32::try_from(flags).unwrap_or(0));
    }
    o.open(p)
}

/// The relay's effective uid (`geteuid`). Always known on Unix; elsewhere
/// file ownership is not checked (`None`).
#[cfg(unix)]
fn own_uid() -> Result<Option<u32>> {
    Ok(Some(rustix::process::geteuid().as_raw()))
}

#[cfg(not(unix))]
fn own_uid() -> Result<Option<u32>> {
    Ok(None)
}

fn write_private(p: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(p).map_err(|e| {
        Error::with_detail(
            Code::Io,
            format!("cannot create {}: {}", p.display(), e.kind()),
        )
    })?;
    f.write_all(bytes)
        .map_err(|_| Error::new(Code::Io, "cannot write the admin token"))
}
