//! TLS to PostgreSQL through rustls (ring provider): the server's
//! certificate chain and host name are always verified, against
//! `sslrootcert=FILE` when given, else the system's roots.

use std::sync::Arc;

use rustls::RootCertStore;
use tokio_postgres_rustls::MakeRustlsConnect;

use sealpass::error::{Code, Error, Result};

use super::super::url::{PgTls, PgUrl};

/// The connector the pool makes connections with (with `sslmode=disable`
/// it is never asked to wrap one).
pub(crate) fn connector(url: &PgUrl) -> Result<MakeRustlsConnect> {
    let mut roots = RootCertStore::empty();
    if url.tls == PgTls::Require {
        match &url.root_cert {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    Error::with_detail(
                        Code::Usage,
                        format!(
                            "--store: cannot read sslrootcert {}: {}",
                            path.display(),
                            e.kind()
                        ),
                    )
                })?;
                for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                    let cert = cert.map_err(|_| {
                        Error::with_detail(
                            Code::Usage,
                            format!(
                                "--store: sslrootcert {} is not PEM certificates",
                                path.display()
                            ),
                        )
                    })?;
                    roots.add(cert).map_err(|_| {
                        Error::with_detail(
                            Code::Usage,
                            format!("--store: a certificate in {} is not usable", path.display()),
                        )
                    })?;
                }
                if roots.is_empty() {
                    return Err(Error::with_detail(
                        Code::Usage,
                        format!(
                            "--store: sslrootcert {} holds no certificate",
                            path.display()
                        ),
                    ));
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                for cert in found.certs {
                    let _ = roots.add(cert);
                }
                if roots.is_empty() {
                    return Err(Error::new(
                        Code::Usage,
                        "--store: no system CA certificates to verify the database's certificate with: add sslrootcert=FILE to the URL",
                    ));
                }
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| Error::new(Code::Internal, "TLS configuration"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
