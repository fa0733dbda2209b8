//! `sealpass keystore status|rotate-kek|rotate-dek|audit`: operate the node's
//! sealed keystore. Output never contains key material.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use sealpass::error::{Code, Error, Result};
use sealpass_native::io::write_stdout;
use sealpass_native::keystore::{Keystore, RotationReport, Status};

const KEK_HELP: &str = "\
KEK: set SEALPASS_KEK to base64url (no padding) of 32 random bytes, or
SEALPASS_KEK_FILE to a file holding it, e.g.
  head -c 32 /dev/urandom | basenc --base64url | tr -d '=\\n' > /etc/sealpass/kek && chmod 600 /etc/sealpass/kek
  export SEALPASS_KEK_FILE=/etc/sealpass/kek
A wrong or missing KEK stops every command with 8501/8502, naming the KEK id the store expects.";

/// Where the keystore lives and which KEK opens it (shared by `keystore` and `node`).
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Keystore directory (created mode 0700 on first use; holds keystore.db).
    /// Default: the user's data dir + /sealpass.
    #[arg(long, value_name = "DIR", env = "SEALPASS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Use a FIXED, PUBLICLY KNOWN development KEK instead of SEALPASS_KEK.
    /// Insecure: anyone can read the store. Prints a warning on every start.
    #[arg(long)]
    pub dev_insecure_kek: bool,
}

impl StoreArgs {
    fn dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(Keystore::default_data_dir)
    }

    /// Resolve the data dir and open the store (creating it on first use),
    /// failing closed on the KEK. Only for commands that make keys.
    pub fn open(&self) -> Result<Keystore> {
        Keystore::open_from_env(&self.dir(), self.dev_insecure_kek)
    }

    /// [`StoreArgs::open`], saying on stderr when it made a new store (and
    /// with it `what`), naming the path.
    pub fn open_or_make(&self, what: &str) -> Result<Keystore> {
        let db = self.dir().join(sealpass_native::keystore::DB_FILE);
        let existed = std::fs::symlink_metadata(&db).is_ok();
        let ks = self.open()?;
        if !existed {
            eprintln!(
                "no keystore at {} yet: made a new one, and {what} in it",
                crate::text::escape(&db.to_string_lossy())
            );
        }
        Ok(ks)
    }

    /// Open a store that must exist already: commands that read (or change
    /// what is there) never create one. A missing store (only a missing
    /// directory or file: `NotFound`) is 8506 naming the path looked at;
    /// nothing is created, not even the directory, also when the file goes
    /// away meanwhile ([`Keystore::open_existing`] opens without creating).
    /// Any other reason it cannot be looked at (EACCES, ...) is reported as
    /// it is, naming the path.
    pub fn open_existing(&self) -> Result<Keystore> {
        let dir = self.dir();
        let db = dir.join(sealpass_native::keystore::DB_FILE);
        // Before the KEK is read: "no store here" is the clearer message.
        match std::fs::symlink_metadata(&db) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(self.missing(&db)),
            Err(e) => {
                return Err(Error::with_detail(
                    Code::StoreUnavailable,
                    format!(
                        "cannot look at the keystore {}: {}",
                        crate::text::escape(&db.to_string_lossy()),
                        std::io::Error::from(e.kind())
                    ),
                ))
            }
            Ok(_) => {}
        }
        Keystore::open_existing_from_env(&dir, self.dev_insecure_kek)?
            .ok_or_else(|| self.missing(&db))
    }

    fn missing(&self, db: &std::path::Path) -> Error {
        let how = if self.data_dir.is_some() {
            "--data-dir or SEALPASS_DATA_DIR"
        } else {
            "the default; give --data-dir DIR or set SEALPASS_DATA_DIR"
        };
        Error::with_detail(
            Code::StoreUnavailable,
            format!(
                "no keystore at {} ({how}); nothing was created. A node's keystore is made by `sealpass node run` (or `sealpass node pending new`)",
                crate::text::escape(&db.to_string_lossy())
            ),
        )
    }
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct StoreOnly {
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Subcommand, Debug)]
pub enum KeystoreCommand {
    /// Show the KEK id, DEKs with state and record counts, format version
    /// (never key material).
    #[command(after_help = KEK_HELP)]
    Status(StatusArgs),
    /// Re-wrap every DEK under the new KEK, in one transaction.
    #[command(after_help = "\
Procedure:
  1. keep the old KEK:     export SEALPASS_KEK_PREVIOUS=\"$SEALPASS_KEK\"
  2. set the new one:      export SEALPASS_KEK=\"$(head -c 32 /dev/urandom | basenc --base64url | tr -d '=\\n')\"
  3. run:                  sealpass keystore rotate-kek
  4. check:                sealpass keystore status   (every DEK shows the new KEK id)
  5. unset SEALPASS_KEK_PREVIOUS and destroy the old KEK.
If step 3 fails nothing has changed; fix the cause and run it again.")]
    RotateKek(StoreOnly),
    /// Make a new active DEK and re-seal every record under it, in one
    /// transaction; retired DEKs no record uses are deleted.
    #[command(after_help = "Example: sealpass keystore rotate-dek && sealpass keystore status")]
    RotateDek(StoreOnly),
    /// Open every sealed record to prove the store is intact (prints the count).
    #[command(
        after_help = "Exit status is non-zero (8504 RecordTampered) if any record fails authentication."
    )]
    Verify(StoreOnly),
    /// Print the append-only audit trail as JSON lines (metadata only).
    #[command(after_help = "Example: sealpass keystore audit | grep '\"outcome\":\"error\"'")]
    Audit(StoreOnly),
}

pub fn run(c: KeystoreCommand) -> Result<()> {
    match c {
        KeystoreCommand::Status(a) => {
            let st = a.store.open_existing()?.status()?;
            if a.json {
                write_stdout(format!("{}\n", to_json(&st)?).as_bytes())
            } else {
                write_stdout(status_text(&st).as_bytes())
            }
        }
        KeystoreCommand::RotateKek(a) => {
            let r = a.store.open_existing()?.rotate_kek()?;
            write_stdout(report_text(&r).as_bytes())
        }
        KeystoreCommand::RotateDek(a) => {
            let r = a.store.open_existing()?.rotate_dek()?;
            write_stdout(report_text(&r).as_bytes())
        }
        KeystoreCommand::Verify(a) => {
            let n = a.store.open_existing()?.verify()?;
            write_stdout(format!("verify: {n} record(s) open\n").as_bytes())
        }
        KeystoreCommand::Audit(a) => {
            let mut out = String::new();
            for ev in a.store.open_existing()?.audit()? {
                out.push_str(&to_json(&ev)?);
                out.push('\n');
            }
            write_stdout(out.as_bytes())
        }
    }
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|_| Error::new(Code::Io, "could not encode JSON"))
}

fn status_text(st: &Status) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "keystore:        {}", st.db_path);
    let _ = writeln!(s, "format version:  {}", st.format_version);
    let _ = writeln!(s, "KEK id:          {}", st.kek_id);
    if let Some(p) = &st.previous_kek_id {
        let _ = writeln!(s, "previous KEK id: {p}");
    }
    if st.dev_insecure {
        let _ = writeln!(s, "KEK:             DEV-INSECURE (publicly known)");
    }
    let _ = writeln!(s, "DEKs:");
    for d in &st.deks {
        let _ = writeln!(
            s,
            "  {}  {:<7}  kek {}  records {}  created {}",
            d.dek_id,
            d.state,
            d.kek_id,
            d.records,
            crate::text::local_time(d.created_at)
        );
    }
    let _ = writeln!(s, "records:");
    for (p, n) in &st.records_by_purpose {
        let _ = writeln!(s, "  {p:<18} {n}");
    }
    let _ = writeln!(s, "pending keys:    {}", st.pending);
    let _ = writeln!(s, "secrets:         {}", st.secrets);
    s
}

fn report_text(r: &RotationReport) -> String {
    if r.kind == "rotate-kek" {
        format!(
            "rotate-kek: {} DEK(s) re-wrapped; every DEK is now under KEK id {}\n",
            r.deks_rewrapped, r.kek_id
        )
    } else {
        format!(
            "rotate-dek: {} record(s) re-sealed under new DEK {}; retired [{}]; dropped [{}]\n",
            r.records_resealed,
            r.new_dek_id.as_deref().unwrap_or("-"),
            r.retired_dek_ids.join(", "),
            r.dropped_dek_ids.join(", ")
        )
    }
}
