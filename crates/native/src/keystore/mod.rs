//! Node keystore: one-time private keys, delivered secrets and HMAC secrets
//! sealed at rest in one SQLite file.
//!
//! Hierarchy: the operator's KEK (env, never stored) wraps random 32-byte
//! DEKs (XChaCha20-Poly1305, stored wrapped); the active DEK seals records
//! with a per-purpose HKDF subkey. Every blob carries its format version and
//! the id of the key that sealed it, and every AAD binds them (see
//! [`aad`]). Start-up fails closed on a missing or wrong KEK. docs/KEYSTORE.md
//! has the byte layouts and the operator's rotation procedure.

pub mod aad;
mod accept;
mod audit;
mod blob;
mod db;
mod identity;
mod kek;
mod pending;
mod records;
mod rotate;
mod secrets;
pub mod shared;
mod upgrade;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

pub use audit::AuditEvent;
pub use db::DB_FILE;
pub use identity::{IdentityInfo, IdentityRotation};
pub use kek::{
    KekConfig, DEV_INSECURE_KEK, ENV_KEK, ENV_KEK_FILE, ENV_KEK_PREVIOUS, ENV_KEK_PREVIOUS_FILE,
};
pub use pending::KeyStatus;

use audit::Entry;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use blob::fuzz_decode;
use blob::Dek;
use db::{immediate, now, row_err, sql_err};

use sealpass::error::{Code, Error, Result};
use sealpass::keys::PublicKey;

/// Env var overriding the data directory.
pub const ENV_DATA_DIR: &str = "SEALPASS_DATA_DIR";
/// Largest record plaintext (a pending key plus its context, or a secret).
pub const MAX_RECORD_PLAINTEXT: usize = 64 * 1024;
/// Largest record id in bytes (same bound as context ids).
pub const MAX_RECORD_ID: usize = sealpass::context::MAX_ID_LEN;

/// What a record is for. Each purpose has its own HKDF subkey and AAD label,
/// so a blob moved between purposes never opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    /// A one-time X25519 private key and its context, until consumed.
    PendingKey,
    /// A secret delivered through an envelope, keyed by slug.
    DeliveredSecret,
    /// The relay's per-node HMAC secrets.
    RelayHmacSecret,
    /// The node's own HMAC secret for talking to the relay.
    NodeHmacSecret,
    /// The node's long-term identity key (envelope v2).
    NodeIdentityKey,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 5] = [
        Purpose::PendingKey,
        Purpose::DeliveredSecret,
        Purpose::RelayHmacSecret,
        Purpose::NodeHmacSecret,
        Purpose::NodeIdentityKey,
    ];

    /// Stable name, bound into the subkey derivation and the AAD.
    pub const fn name(self) -> &'static str {
        match self {
            Purpose::PendingKey => "pending-key",
            Purpose::DeliveredSecret => "delivered-secret",
            Purpose::RelayHmacSecret => "relay-hmac-secret",
            Purpose::NodeHmacSecret => "node-hmac-secret",
            Purpose::NodeIdentityKey => "node-identity-key",
        }
    }

    /// Inverse of [`Purpose::name`].
    pub fn from_name(name: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// One DEK as shown by `status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DekStatus {
    /// Public DEK id (16 hex digits).
    pub dek_id: String,
    /// Id of the KEK it is wrapped under.
    pub kek_id: String,
    /// `active` or `retired`.
    pub state: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, when retired.
    pub retired_at: Option<i64>,
    /// Records sealed under it.
    pub records: u64,
}

/// Keystore status: ids and counts only, never key material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Database file.
    pub db_path: String,
    /// Storage format version.
    pub format_version: u8,
    /// Current KEK id.
    pub kek_id: String,
    /// Previous KEK id, when configured.
    pub previous_kek_id: Option<String>,
    /// True with `--dev-insecure-kek`.
    pub dev_insecure: bool,
    /// All DEKs.
    pub deks: Vec<DekStatus>,
    /// Records per purpose name.
    pub records_by_purpose: Vec<(String, u64)>,
    /// Pending keys not yet consumed.
    pub pending: u64,
    /// Delivered secrets.
    pub secrets: u64,
}

/// What a rotation did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RotationReport {
    /// `rotate-kek` or `rotate-dek`.
    pub kind: String,
    /// KEK id everything is wrapped under afterwards.
    pub kek_id: String,
    /// DEKs re-wrapped (rotate-kek).
    pub deks_rewrapped: usize,
    /// Records re-sealed (rotate-dek).
    pub records_resealed: usize,
    /// The new active DEK (rotate-dek).
    pub new_dek_id: Option<String>,
    /// DEKs retired by this rotation.
    pub retired_dek_ids: Vec<String>,
    /// Retired DEKs deleted because no record uses them any more.
    pub dropped_dek_ids: Vec<String>,
}

/// A one-time key awaiting its envelope (metadata only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingMeta {
    /// Pending credential id.
    pub pending_id: String,
    /// Node this key belongs to.
    pub node_id: String,
    /// Slug the secret will be stored under.
    pub slug: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The one-time public key.
    pub public_key: PublicKey,
    /// Its fingerprint (compare out of band).
    pub fingerprint: String,
    /// The identity it is bound to (`None`: a key made before binding).
    pub identity_key: Option<PublicKey>,
}

/// What [`Keystore::create_pending`] returns: the keys to post to the relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPendingKey {
    /// The one-time public key.
    pub public_key: PublicKey,
    /// The identity public key it is bound to (always set for keys made
    /// now; `None` only for a legacy key made before binding).
    pub identity_key: Option<PublicKey>,
}

/// A delivered secret's metadata (never its value).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecretMeta {
    /// Name of the secret.
    pub slug: String,
    /// Pending credential it arrived through.
    pub pending_id: String,
    /// Node it was sealed to.
    pub node_id: String,
    /// How it is to be injected.
    pub injection_method: String,
    /// Field/header/variable name, or "".
    pub field_name: String,
    /// Target URL, or "".
    pub target_url: String,
    /// Unix seconds.
    pub stored_at: i64,
    /// Plaintext length in bytes.
    pub size: u64,
}

/// Result of [`Keystore::accept`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// Slug the secret is stored under.
    pub slug: String,
    /// Pending id that was consumed.
    pub pending_id: String,
    /// Node id from the stored context.
    pub node_id: String,
    /// Plaintext length in bytes.
    pub size: usize,
    /// Database file holding it.
    pub db_path: PathBuf,
}

/// An open keystore. One SQLite connection behind a mutex, so the handle is
/// `Send + Sync`; other processes are serialised by SQLite's locks.
pub struct Keystore {
    conn: Mutex<Connection>,
    kek: KekConfig,
    db_path: PathBuf,
}

impl core::fmt::Debug for Keystore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Keystore")
            .field("db_path", &self.db_path)
            .field("kek", &self.kek)
            .finish()
    }
}

impl Keystore {
    /// `<user data dir>/sealpass` (e.g. `~/.local/share/sealpass`), or
    /// `./sealpass-data` when the platform has no data dir.
    pub fn default_data_dir() -> PathBuf {
        dirs::data_dir()
            .map(|d| d.join("sealpass"))
            .unwrap_or_else(|| PathBuf::from("sealpass-data"))
    }

    /// Open the store in `data_dir`, creating it (dir 0700, file 0600) on
    /// first use. Fails closed: unless every DEK is wrapped under the
    /// configured current or previous KEK and authenticates, nothing is
    /// written but an audit row, and the error names the expected KEK id.
    ///
    /// The file's schema must be exactly the one this build makes (8504
    /// otherwise: an edit could drop a uniqueness constraint or add a
    /// trigger). A store of an older format is migrated here, in the same
    /// transaction (docs/KEYSTORE.md, "Format versions"): every record is
    /// re-sealed under a fresh DEK so that its AAD binds its delivered
    /// context. A record that does not open, or a format-2 record in a store
    /// that says format 1 (its `format_version` was set back), stops it with
    /// 8504 and nothing changes.
    pub fn open(data_dir: &Path, kek: &KekConfig) -> Result<Keystore> {
        Self::open_inner(data_dir, kek, None)
    }

    /// [`Keystore::open`] whose format migration fails after `fail_after`
    /// records, inside its transaction (tests: an interrupted migration must
    /// change nothing).
    #[doc(hidden)]
    pub fn open_with_upgrade_fault(
        data_dir: &Path,
        kek: &KekConfig,
        fail_after: usize,
    ) -> Result<Keystore> {
        Self::open_inner(data_dir, kek, Some(fail_after))
    }

    fn open_inner(data_dir: &Path, kek: &KekConfig, fail_after: Option<usize>) -> Result<Keystore> {
        if kek.is_dev_insecure() {
            eprintln!("{}", kek::DEV_WARNING);
        }
        let (conn, db_path) = db::open(data_dir)?;
        Self::finish_open(conn, db_path, kek, fail_after)
    }

    /// Open the store in `data_dir` only if it exists: `Ok(None)` when the
    /// directory or `keystore.db` is missing, and then nothing is created
    /// (no directory, no file: SQLite opens without `SQLITE_OPEN_CREATE`).
    /// Any other failure to look (EACCES, ...) is an error naming it; an
    /// existing store is checked as [`Keystore::open`] checks it (and an
    /// older format migrated).
    pub fn open_existing(data_dir: &Path, kek: &KekConfig) -> Result<Option<Keystore>> {
        let Some((conn, db_path)) = db::open_existing(data_dir)? else {
            return Ok(None);
        };
        if kek.is_dev_insecure() {
            eprintln!("{}", kek::DEV_WARNING);
        }
        Self::finish_open(conn, db_path, kek, None).map(Some)
    }

    /// [`Keystore::open_existing`] with [`KekConfig::from_env`] (a missing
    /// KEK named as [`Keystore::open_from_env`] names it).
    pub fn open_existing_from_env(data_dir: &Path, dev_insecure: bool) -> Result<Option<Keystore>> {
        let kek = Self::kek_from_env(data_dir, dev_insecure)?;
        Keystore::open_existing(data_dir, &kek)
    }

    fn finish_open(
        mut conn: Connection,
        db_path: PathBuf,
        kek: &KekConfig,
        fail_after: Option<usize>,
    ) -> Result<Keystore> {
        let outcome = Self::check_or_init(&mut conn, kek, &db_path, fail_after);
        if let Err(e) = &outcome {
            if matches!(e.code(), Code::KekMismatch | Code::RecordTampered) {
                let event = if e.code() == Code::KekMismatch {
                    "kek-mismatch"
                } else {
                    "open"
                };
                let _ = audit::fail(&conn, Entry::new(event).kek(kek.kek_id()), e);
            }
        }
        outcome?;
        Ok(Keystore {
            conn: Mutex::new(conn),
            kek: kek.clone(),
            db_path,
        })
    }

    /// Like [`Keystore::open`] with [`KekConfig::from_env`]; a missing KEK
    /// error names the KEK id an existing store expects.
    pub fn open_from_env(data_dir: &Path, dev_insecure: bool) -> Result<Keystore> {
        let kek = Self::kek_from_env(data_dir, dev_insecure)?;
        Keystore::open(data_dir, &kek)
    }

    /// [`KekConfig::from_env`]; a missing KEK error names the KEK id the
    /// store in `data_dir` expects, if there is one.
    fn kek_from_env(data_dir: &Path, dev_insecure: bool) -> Result<KekConfig> {
        match KekConfig::from_env(dev_insecure) {
            Ok(k) => Ok(k),
            Err(e) if e.code() == Code::KekMissing => Err(match Self::expected_kek_ids(data_dir) {
                Some(ids) if !ids.is_empty() => Error::with_detail(
                    Code::KekMissing,
                    format!(
                        "{}; the keystore in {} expects KEK id {}",
                        e.detail(),
                        data_dir.display(),
                        ids.join(", ")
                    ),
                ),
                _ => e,
            }),
            Err(e) => Err(e),
        }
    }

    /// KEK ids the DEKs of an existing store are wrapped under (read-only;
    /// `None` if there is no readable store).
    pub fn expected_kek_ids(data_dir: &Path) -> Option<Vec<String>> {
        let c = db::open_read_only(data_dir)?;
        let mut st = c
            .prepare("SELECT DISTINCT kek_id FROM deks ORDER BY kek_id")
            .ok()?;
        let ids = st.query_map([], |r| r.get::<_, String>(0)).ok()?;
        ids.collect::<std::result::Result<Vec<_>, _>>().ok()
    }

    fn check_or_init(
        conn: &mut Connection,
        kek: &KekConfig,
        db_path: &Path,
        fail_after: Option<usize>,
    ) -> Result<()> {
        let tx = immediate(conn)?;
        tx.execute_batch(db::SCHEMA).map_err(sql_err)?;
        db::migrate(&tx)?;
        let version: Option<String> = tx
            .query_row(
                "SELECT value FROM meta WHERE key = 'format_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_err)?;
        let upgrade = match version.as_deref() {
            None => false,
            Some(v) if v == aad::FORMAT_VERSION.to_string() => false,
            Some(v) if v == aad::LEGACY_FORMAT_VERSION.to_string() => true,
            Some(v) => {
                return Err(Error::with_detail(
                    Code::FormatUnsupported,
                    format!(
                        "{} has format version {v}; this build reads {} and {}",
                        db_path.display(),
                        aad::LEGACY_FORMAT_VERSION,
                        aad::FORMAT_VERSION
                    ),
                ));
            }
        };
        // Before anything is read: the tables must be the ones sealpass makes.
        db::check_schema(&tx)?;
        let deks: Vec<(String, String, String, Vec<u8>)> = {
            let mut st = tx
                .prepare("SELECT dek_id, kek_id, state, wrapped FROM deks")
                .map_err(sql_err)?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .map_err(sql_err)?;
            rows.collect::<std::result::Result<_, _>>()
                .map_err(sql_err)?
        };
        if deks.is_empty() {
            let records: i64 = tx
                .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
                .map_err(sql_err)?;
            if records > 0 || version.is_some() {
                return Err(Error::new(
                    Code::RecordTampered,
                    "keystore has no DEKs but was initialised",
                ));
            }
            let dek = Dek::generate()?;
            let t = now();
            tx.execute(
                "INSERT INTO deks (dek_id, kek_id, state, wrapped, created_at) VALUES (?1, ?2, 'active', ?3, ?4)",
                params![dek.id, kek.kek_id(), dek.wrap(&kek.current)?, t],
            )
            .map_err(sql_err)?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('format_version', ?1), ('created_at', ?2)",
                params![aad::FORMAT_VERSION.to_string(), t.to_string()],
            )
            .map_err(sql_err)?;
            let detail = if kek.is_dev_insecure() {
                "dev-insecure KEK"
            } else {
                "operator KEK"
            };
            audit::ok(
                &tx,
                Entry::new("init")
                    .kek(kek.kek_id())
                    .dek(&dek.id)
                    .detail(detail),
            )?;
        } else {
            let mut expected: Vec<&str> = deks.iter().map(|d| d.1.as_str()).collect();
            expected.sort_unstable();
            expected.dedup();
            if expected.iter().any(|id| kek.by_id(id).is_none()) {
                let prev = kek
                    .previous_kek_id()
                    .map(|p| format!(", previous KEK id {p}"))
                    .unwrap_or_default();
                let from = kek
                    .source()
                    .map(|s| format!(" (from {s})"))
                    .unwrap_or_default();
                let wrong = if kek
                    .source()
                    .is_some_and(|s| s.starts_with(kek::ENV_KEK_FILE))
                {
                    "Wrong KEK file?"
                } else {
                    "Wrong KEK?"
                };
                return Err(Error::with_detail(
                    Code::KekMismatch,
                    format!(
                        "the keystore in {} expects KEK id {}; the configured KEK{from} has id {}{prev}. {wrong} Use the KEK this store was made with. Only to move the store to a new KEK: keep the old one in SEALPASS_KEK_PREVIOUS and run `sealpass keystore rotate-kek`",
                        db_path.display(),
                        expected.join(", "),
                        kek.kek_id()
                    ),
                ));
            }
            for (id, _, _, wrapped) in &deks {
                Dek::unwrap(kek, id, wrapped)?;
            }
            if deks.iter().filter(|d| d.2 == "active").count() != 1 {
                return Err(Error::new(
                    Code::StoreUnavailable,
                    "keystore has no active DEK",
                ));
            }
        }
        // Only now, with every DEK checked: the migration needs them.
        if upgrade {
            upgrade::run(&tx, kek, fail_after)?;
        }
        audit::ok(&tx, Entry::new("open").kek(kek.kek_id()))?;
        tx.commit().map_err(sql_err)
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| Error::new(Code::StoreUnavailable, "keystore lock poisoned"))
    }

    /// The database file.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// The current KEK id.
    pub fn kek_id(&self) -> &str {
        self.kek.kek_id()
    }

    /// The append-only audit trail, oldest first.
    pub fn audit(&self) -> Result<Vec<AuditEvent>> {
        audit::list(&*self.conn()?)
    }

    /// The newest successful audit row of `event` (e.g. `rotate-dek`), if
    /// any: one row, however long the trail (the relay's keystore status).
    pub fn last_audit_ok(&self, event: &str) -> Result<Option<AuditEvent>> {
        audit::last_ok(&*self.conn()?, event)
    }
}

/// Reject empty or oversized record ids before any work.
fn check_record_id(record_id: &str) -> Result<()> {
    if record_id.is_empty() || record_id.len() > MAX_RECORD_ID {
        return Err(Error::with_detail(
            Code::InvalidArgument,
            format!("record id must be 1..={MAX_RECORD_ID} bytes"),
        ));
    }
    Ok(())
}

/// The active DEK, unwrapped.
fn active_dek(conn: &Connection, kek: &KekConfig) -> Result<Dek> {
    let (id, wrapped): (String, Vec<u8>) = conn
        .query_row(
            "SELECT dek_id, wrapped FROM deks WHERE state = 'active'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(row_err)?
        .ok_or_else(|| Error::new(Code::StoreUnavailable, "keystore has no active DEK"))?;
    Dek::unwrap(kek, &id, &wrapped)
}

/// A DEK by id; an id that names no DEK means the blob was edited.
fn dek_by_id(conn: &Connection, kek: &KekConfig, dek_id: &str) -> Result<Dek> {
    let wrapped: Vec<u8> = conn
        .query_row(
            "SELECT wrapped FROM deks WHERE dek_id = ?1",
            [dek_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(row_err)?
        .ok_or_else(|| {
            Error::new(
                Code::RecordTampered,
                "record names a DEK that does not exist",
            )
        })?;
    Dek::unwrap(kek, dek_id, &wrapped)
}

/// DEKs unwrapped once each during a pass over many records.
#[derive(Default)]
pub(crate) struct DekCache(HashMap<String, Dek>);

impl DekCache {
    /// The DEK `dek_id` ([`dek_by_id`] the first time).
    pub(crate) fn get(&mut self, conn: &Connection, kek: &KekConfig, dek_id: &str) -> Result<&Dek> {
        use std::collections::hash_map::Entry as Slot;
        match self.0.entry(dek_id.to_owned()) {
            Slot::Occupied(e) => Ok(e.into_mut()),
            Slot::Vacant(e) => Ok(e.insert(dek_by_id(conn, kek, dek_id)?)),
        }
    }
}
