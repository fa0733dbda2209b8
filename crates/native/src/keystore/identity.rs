//! The node's long-term identity key (docs/PROTOCOL.md §15): one X25519
//! secret key, sealed like every record (purpose `node-identity-key`), made
//! the first time it is asked for and kept through restarts and both
//! rotations. Senders pin its public key once per node; v2 envelopes open
//! only with it.

use sealpass::error::{Code, Error, Result};
use sealpass::SecretKey;

use super::audit::{self, Entry};
use super::db::{immediate, sql_err};
use super::records;
use super::{active_dek, Keystore, Purpose};

/// The one record id of the identity key.
const RECORD_ID: &str = "identity";

impl Keystore {
    /// The node's identity key, made (from the OS CSPRNG) and sealed on first
    /// use. Read and, if absent, written in one transaction, so two processes
    /// starting together agree on one identity.
    pub fn node_identity(&self) -> Result<SecretKey> {
        let mut conn = self.conn()?;
        let tx = immediate(&mut conn)?;
        match records::read(&tx, &self.kek, Purpose::NodeIdentityKey, RECORD_ID) {
            Ok((bytes, _dek)) => return from_record(&bytes),
            Err(e) if e.code() == Code::RecordNotFound => {}
            Err(e) => return Err(e),
        }
        let sk = SecretKey::generate()?;
        let dek = active_dek(&tx, &self.kek)?;
        records::write(
            &tx,
            &dek,
            Purpose::NodeIdentityKey,
            RECORD_ID,
            sk.as_bytes(),
        )?;
        audit::ok(
            &tx,
            Entry::new("identity-create")
                .record(Purpose::NodeIdentityKey, RECORD_ID)
                .kek(self.kek.kek_id())
                .dek(&dek.id)
                .detail(format!(
                    "identity fingerprint {}",
                    sk.public_key().identity_fingerprint()
                )),
        )?;
        tx.commit().map_err(sql_err)?;
        Ok(sk)
    }

    /// The identity key if one was made, without making one.
    pub fn existing_node_identity(&self) -> Result<Option<SecretKey>> {
        match self.get_record(Purpose::NodeIdentityKey, RECORD_ID) {
            Ok(bytes) => from_record(&bytes).map(Some),
            Err(e) if e.code() == Code::RecordNotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn from_record(bytes: &[u8]) -> Result<SecretKey> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| Error::new(Code::RecordTampered, "stored identity key is malformed"))?;
    Ok(SecretKey::from_bytes(arr))
}
