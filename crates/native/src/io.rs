//! Bounded reads and careful file writes shared by every command and both
//! binaries; stdout is written only through [`write_stdout`].

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use zeroize::Zeroizing;

use sealpass::error::{Code, Error, Result};

/// Read everything from `r`, but stop with `too_large` as soon as more than
/// `limit` bytes arrive: hostile input is never read in full.
/// The buffer is allocated once (input is often a secret: no reallocation
/// leaves stray copies) and wiped when dropped.
pub fn read_limited(r: impl Read, limit: usize, too_large: Error) -> Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(Vec::with_capacity(limit + 1));
    r.take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|_| Error::new(Code::Io, "could not read input"))?;
    if buf.len() > limit {
        return Err(too_large);
    }
    Ok(buf)
}

/// Read a small file with a size cap (checked from metadata and while reading).
pub fn read_file_limited(
    path: &Path,
    limit: usize,
    too_large: Error,
) -> Result<Zeroizing<Vec<u8>>> {
    let f = fs::File::open(path).map_err(|e| {
        Error::with_detail(
            Code::Io,
            format!("cannot open {}: {}", path.display(), e.kind()),
        )
    })?;
    read_limited(f, limit, too_large)
}

/// Create `path` with mode 0600, refusing to overwrite, and write `contents`.
pub fn write_new_private_file(path: &Path, contents: &[u8]) -> Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::with_detail(
                Code::FileExists,
                format!("{} already exists; refusing to overwrite", path.display()),
            )
        } else {
            Error::with_detail(
                Code::Io,
                format!("cannot create {}: {}", path.display(), e.kind()),
            )
        }
    })?;
    f.write_all(contents)
        .and_then(|_| f.sync_all())
        .map_err(|e| {
            Error::with_detail(
                Code::Io,
                format!("cannot write {}: {}", path.display(), e.kind()),
            )
        })
}

/// Write bytes to stdout and flush; the only way commands print results.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|_| out.flush())
        .map_err(|_| Error::new(Code::Io, "could not write to stdout"))
}
