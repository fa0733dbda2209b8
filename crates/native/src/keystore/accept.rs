//! Consume a pending key: open the envelope with it and keep the secret,
//! all in one transaction. The opening step is the caller's (the CLI passes
//! `sealpass_open::open_json`): this crate links no decryption, so the relay,
//! which uses the keystore too, cannot open an envelope through it.

use rusqlite::params;

use super::audit::{self, Entry};
use super::db::{self, immediate, now, sql_err};
use super::pending::{consumed, not_found, open_key, typed_row, PendingKeyState};
use super::{active_dek, identity, records, secrets, Accepted, Keystore, Purpose, SecretMeta};
use sealpass::envelope::{Envelope, Version, MAX_ENVELOPE_JSON};
use sealpass::error::{Code, Error, Result};
use sealpass::{Context, SecretKey};
use zeroize::Zeroizing;

impl Keystore {
    /// Open `envelope_json` with the sealed key of `pending_id` and the
    /// context stored with it (never one supplied now), seal the plaintext
    /// as a DeliveredSecret under the context's slug (its AAD binding that
    /// context, as written to the `secrets` row), and delete the private
    /// key, in one transaction. Consume once: a second call is 8507. A
    /// failed open (8006 and other envelope errors) keeps the key for a retry.
    ///
    /// The key opens with the identity it is bound to (in its sealed
    /// record), never with whichever identity is current now; a v1 envelope
    /// for a bound key is refused before opening (8308 VersionDowngrade,
    /// audited, key kept): a relay must not be able to strip the identity
    /// DH. A legacy (unbound) key opens v1, and v2 with generation 1.
    ///
    /// `open` is the decryption step: called with the pending's secret key,
    /// the identity secret to use (`None`: none exists), the envelope JSON
    /// and the stored context. Pass `sealpass_open::open_json_with_identity`
    /// when an identity is given, `sealpass_open::open_json` otherwise.
    pub fn accept(
        &self,
        pending_id: &str,
        envelope_json: &[u8],
        open: impl FnOnce(&SecretKey, Option<&SecretKey>, &[u8], &Context) -> Result<Zeroizing<Vec<u8>>>,
    ) -> Result<Accepted> {
        if envelope_json.len() > MAX_ENVELOPE_JSON {
            return Err(Error::new(
                Code::CiphertextTooLarge,
                "envelope larger than 64 KiB",
            ));
        }
        let mut conn = self.conn()?;
        let tx = immediate(&mut conn)?;
        let entry = || {
            Entry::new("accept")
                .record(Purpose::PendingKey, pending_id)
                .kek(self.kek.kek_id())
        };
        match typed_row(&tx, pending_id)? {
            None => return Err(not_found(pending_id)),
            Some((PendingKeyState::Consumed, _, _)) => {
                let e = consumed(pending_id);
                audit::fail(&tx, entry(), &e)?;
                tx.commit().map_err(sql_err)?;
                return Err(e);
            }
            Some(_) => {}
        }
        let opened = open_key(&tx, &self.kek, "accept-key", pending_id).and_then(|k| {
            let isk = match &k.identity {
                Some(nik) => {
                    if Envelope::from_json(envelope_json)?.version == Version::V1 {
                        return Err(Error::with_detail(
                            Code::VersionDowngrade,
                            format!(
                                "a v1 envelope for a one-time key bound to identity {}: refused as a downgrade",
                                nik.identity_fingerprint()
                            ),
                        ));
                    }
                    Some(identity::secret_for(&tx, &self.kek, nik)?)
                }
                None => identity::legacy_identity(&tx, &self.kek)?,
            };
            open(&k.sk, isk.as_ref(), envelope_json, &k.ctx).map(|pt| (pt, k.ctx))
        });
        let (pt, ctx) = match opened {
            Ok(v) => v,
            Err(e) => {
                audit::fail(&tx, entry(), &e)?;
                tx.commit().map_err(sql_err)?;
                return Err(e);
            }
        };
        // A trigger added to the file since the open could rewrite the row
        // between writing and sealing it: the schema is checked again.
        db::check_schema(&tx)?;
        // The row first: sealing the record binds it as stored.
        secrets::upsert(
            &tx,
            &SecretMeta {
                slug: ctx.slug().to_owned(),
                pending_id: pending_id.to_owned(),
                node_id: ctx.node_id().to_owned(),
                injection_method: ctx.injection_method().to_owned(),
                field_name: ctx.field_name().to_owned(),
                target_url: ctx.target_url().to_owned(),
                stored_at: now(),
                size: pt.len() as u64,
            },
        )?;
        let dek = active_dek(&tx, &self.kek)?;
        records::write(&tx, &dek, Purpose::DeliveredSecret, ctx.slug(), &pt)?;
        records::delete(&tx, Purpose::PendingKey, pending_id)?;
        tx.execute(
            "UPDATE pending SET state = ?3, consumed_at = ?2 WHERE pending_id = ?1",
            params![pending_id, now(), PendingKeyState::Consumed],
        )
        .map_err(sql_err)?;
        let detail = format!(
            "stored as delivered-secret {:?} ({} bytes)",
            ctx.slug(),
            pt.len()
        );
        audit::ok(&tx, entry().dek(&dek.id).detail(detail))?;
        identity::prune_retired(&tx, &self.kek)?;
        tx.commit().map_err(sql_err)?;
        Ok(Accepted {
            slug: ctx.slug().to_owned(),
            pending_id: pending_id.to_owned(),
            node_id: ctx.node_id().to_owned(),
            size: pt.len(),
            db_path: self.db_path.clone(),
        })
    }
}
