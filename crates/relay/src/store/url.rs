//! `--store URL`: which store, parsed before anything is opened so a typo
//! is a usage error, never a half-started relay.

use std::path::{Path, PathBuf};

use sealpass::error::{Code, Error, Result};

/// How the PostgreSQL connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PgTls {
    /// TLS required, the server's certificate chain and host name verified
    /// (against `sslrootcert=FILE`, else the system roots). The default.
    Require,
    /// Plain TCP or a Unix socket: only with an explicit `sslmode=disable`.
    Disable,
}

/// A parsed `postgres://` URL. Never printed whole: it may hold a password.
#[derive(Clone)]
pub struct PgUrl {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) tls: PgTls,
    /// `sslrootcert=FILE`: the CA(s) the server certificate must chain to.
    pub(crate) root_cert: Option<PathBuf>,
    /// `host:port/db` for messages (no user, no password).
    pub(crate) display: String,
}

impl PgUrl {
    /// Loopback or a Unix socket: where plain text is acceptable.
    pub(crate) fn is_local(&self) -> bool {
        self.config.get_hosts().iter().all(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => {
                h == "localhost"
                    || h.parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(_) => true,
        })
    }
}

impl std::fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgUrl({})", self.display)
    }
}

/// The store a relay uses.
#[derive(Clone, Debug)]
pub enum StoreUrl {
    /// `sqlite:PATH`: the database file.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`.
    Postgres(Box<PgUrl>),
}

fn usage(msg: impl Into<String>) -> Error {
    Error::with_detail(Code::Usage, msg.into())
}

impl StoreUrl {
    /// The default: `sqlite:<data-dir>/relay.db`.
    pub fn default_sqlite(data_dir: &Path) -> StoreUrl {
        StoreUrl::Sqlite(data_dir.join(super::DB_FILE))
    }

    /// Parse `sqlite:PATH` (a relative PATH is relative to the working
    /// directory) or `postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=…`.
    /// `sslmode` is `require` (the default: TLS with the certificate and
    /// host name verified) or `disable`; `prefer` is refused, since a
    /// network attacker can strip it down to plain text. `sslrootcert=FILE`
    /// names the CA file.
    pub fn parse(s: &str) -> Result<StoreUrl> {
        if let Some(path) = s.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(usage("--store sqlite:PATH needs a path"));
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return parse_pg(s).map(|p| StoreUrl::Postgres(Box::new(p)));
        }
        Err(usage(
            "--store must be sqlite:PATH or postgres://USER@HOST:PORT/DB (see --help)",
        ))
    }

    /// What to say in logs: the kind and where (never the password).
    pub fn describe(&self) -> String {
        match self {
            StoreUrl::Sqlite(p) => format!("sqlite:{}", p.display()),
            StoreUrl::Postgres(pg) => format!("postgres://{}", pg.display),
        }
    }
}

fn parse_pg(s: &str) -> Result<PgUrl> {
    // Take out the parameters tokio-postgres does not know (sslrootcert)
    // or that we decide ourselves (sslmode), keep the rest.
    let (base, query) = match s.split_once('?') {
        Some((b, q)) => (b, q),
        None => (s, ""),
    };
    let mut tls = PgTls::Require;
    let mut root_cert = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "sslmode" => {
                tls = match v {
                    "require" | "verify-full" | "verify-ca" => PgTls::Require,
                    "disable" => PgTls::Disable,
                    _ => {
                        return Err(usage(format!(
                    "--store: sslmode={} is not supported: use require (TLS, verified) or disable",
                    escape(v)
                )))
                    }
                }
            }
            "sslrootcert" => root_cert = Some(PathBuf::from(percent_decode(v)?)),
            _ => rest.push(pair),
        }
    }
    let mut url = base.to_owned();
    if !rest.is_empty() {
        url.push('?');
        url.push_str(&rest.join("&"));
    }
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|_| usage("--store: not a valid postgres:// URL (user, host, port, database)"))?;
    config.ssl_mode(match tls {
        PgTls::Require => tokio_postgres::config::SslMode::Require,
        PgTls::Disable => tokio_postgres::config::SslMode::Disable,
    });
    if config.get_dbname().is_none() {
        return Err(usage("--store: the postgres:// URL must name a database"));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(5));
    }
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let display = format!(
        "{}:{}/{}",
        escape(&host),
        port,
        escape(config.get_dbname().unwrap_or(""))
    );
    Ok(PgUrl {
        config,
        tls,
        root_cert,
        display,
    })
}

/// `%XX` escapes of a URL query value.
fn percent_decode(v: &str) -> Result<String> {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| usage("--store: bad %-escape in the URL"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| usage("--store: the URL is not UTF-8"))
}

/// Printable ASCII only (operator input echoed in messages).
fn escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_ascii_graphic() {
                vec![c]
            } else {
                format!("\\u{{{:x}}}", c as u32).chars().collect()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_and_postgres_urls_parse_and_bad_ones_are_usage_errors() {
        match StoreUrl::parse("sqlite:/tmp/x.db").unwrap() {
            StoreUrl::Sqlite(p) => assert_eq!(p, PathBuf::from("/tmp/x.db")),
            StoreUrl::Postgres(_) => panic!("sqlite expected"),
        }
        let pg = match StoreUrl::parse(
            "postgres://relay:s3cret@127.0.0.1:5433/sp?sslmode=disable&application_name=r",
        )
        .unwrap()
        {
            StoreUrl::Postgres(pg) => pg,
            StoreUrl::Sqlite(_) => panic!("postgres expected"),
        };
        assert_eq!(pg.tls, PgTls::Disable);
        assert_eq!(pg.display, "127.0.0.1:5433/sp");
        assert!(!format!("{pg:?}").contains("s3cret"));
        let d = StoreUrl::parse("postgresql://u@db.example/sp").unwrap();
        match &d {
            StoreUrl::Postgres(pg) => assert_eq!(pg.tls, PgTls::Require),
            StoreUrl::Sqlite(_) => panic!("postgres expected"),
        }
        assert!(!d.describe().contains('@'));
        for bad in [
            "",
            "sqlite:",
            "mysql://x/y",
            "postgres://u@h/db?sslmode=prefer",
            "postgres://u@h",
            "postgres://u@h/db?sslrootcert=%zz",
        ] {
            let e = StoreUrl::parse(bad).unwrap_err();
            assert_eq!(e.code(), Code::Usage, "{bad}");
        }
    }
}
