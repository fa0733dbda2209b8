//! A small blocking HTTP client for the relay.
//!
//! Everything the relay sends is untrusted: every response body is read with
//! a hard byte limit, relay error bodies are reduced to a known code plus a
//! short, printable message, and nothing here ever panics on what comes back.
//! Redirects are refused, so a signed request or a bearer token is never
//! replayed to another origin.

use std::io::Read;
use std::time::Duration;

use sealpass::error::{Code, Error, Result};
use sealpass_native::wire::ErrorBody;

/// Limit for small JSON answers (heartbeat, acks, creation, status).
pub const SMALL_LIMIT: usize = 64 * 1024;
/// Limit for answers that carry contexts or envelopes.
pub const LARGE_LIMIT: usize = 4 * 1024 * 1024;
/// Longest relay error message we echo (it is untrusted text).
const MAX_MESSAGE_CHARS: usize = 200;

/// A successful (2xx) answer.
pub struct Reply {
    /// Body, at most the limit the caller asked for.
    pub body: Vec<u8>,
}

/// A relay base URL plus a configured HTTP agent.
pub struct Relay {
    base: String,
    agent: ureq::Agent,
    /// `https://` only: whether the relay answers plain HTTP, probed on the
    /// first failed request and kept for the run (a poll loop does not
    /// probe again on every failure).
    plain_http: std::sync::OnceLock<bool>,
}

impl Relay {
    /// Accept `https://host[:port]`, or `http://` to a loopback host (an
    /// optional trailing `/`, no path, query or fragment): request paths are
    /// signed exactly as sent, so the base must not add a prefix the relay
    /// would not see. Plain HTTP to another host would expose the admin
    /// token and let anyone on the path swap the node key, so it needs
    /// `SEALPASS_INSECURE_HTTP=1` (e.g. behind an SSH tunnel endpoint).
    pub fn new(url: &str) -> Result<Relay> {
        Self::with_insecure_http(
            url,
            std::env::var_os("SEALPASS_INSECURE_HTTP").is_some_and(|v| v == "1"),
        )
    }

    fn with_insecure_http(url: &str, insecure_http: bool) -> Result<Relay> {
        let base = url.strip_suffix('/').unwrap_or(url);
        let (rest, tls) = match (base.strip_prefix("https://"), base.strip_prefix("http://")) {
            (Some(r), _) => (r, true),
            (None, Some(r)) => (r, false),
            _ => {
                return Err(Error::new(
                    Code::Usage,
                    "--relay must start with https:// (or http:// for a loopback relay)",
                ))
            }
        };
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
            return Err(Error::new(
                Code::Usage,
                "--relay must be https://host[:port] without a path",
            ));
        }
        if !tls && !insecure_http && !is_loopback_authority(rest) {
            return Err(Error::new(
                Code::Usage,
                "plain http:// is only allowed to a loopback relay; use https:// (or set SEALPASS_INSECURE_HTTP=1 for a trusted tunnel)",
            ));
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .redirects(0)
            .user_agent(concat!("sealpass/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Relay {
            base: base.to_owned(),
            agent,
            plain_http: std::sync::OnceLock::new(),
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Send one request. `body` is sent as JSON when present. Non-2xx answers
    /// become the relay's error code (when it is one we know).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
        limit: usize,
    ) -> Result<Reply> {
        let url = format!("{}{}", self.base, path);
        let mut req = self.agent.request(method, &url);
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let res = match body {
            Some(b) => req.set("Content-Type", "application/json").send_bytes(b),
            None => req.call(),
        };
        match res {
            Ok(resp) if (200..300).contains(&resp.status()) => {
                let body = read_bounded(resp, limit)?;
                Ok(Reply { body })
            }
            // ureq hands back what it does not follow (redirects: 0) or
            // count as an error (1xx, 3xx) as an `Ok`: never a success.
            Ok(resp) => Err(not_success(resp.status())),
            Err(ureq::Error::Status(status, resp)) => {
                let body = read_bounded(resp, SMALL_LIMIT).unwrap_or_default();
                Err(relay_error(status, &body))
            }
            Err(ureq::Error::Transport(t)) => Err(self.transport_error(&t)),
        }
    }
}

impl Relay {
    /// A request that got no HTTP answer. For an `https://` relay that
    /// answers plain HTTP on the same port (the sealpass relay itself
    /// speaks plain HTTP), say so instead of a bare "connection failed"
    /// (probed once per run).
    fn transport_error(&self, t: &ureq::Transport) -> Error {
        if let Some(authority) = self.base.strip_prefix("https://") {
            let plain = t.kind() != ureq::ErrorKind::Dns
                && *self.plain_http.get_or_init(|| speaks_plain_http(authority));
            if plain {
                return Error::with_detail(
                    Code::RelayUnreachable,
                    plain_http_hint(&self.base, authority),
                );
            }
        }
        Error::with_detail(
            Code::RelayUnreachable,
            format!("cannot reach the relay at {}: {}", self.base, t.kind()),
        )
    }
}

/// What to do about an `https://` relay that answers plain HTTP: plain
/// `http://` is only suggested for a loopback host (elsewhere it would
/// expose the admin token and the keys on the way).
fn plain_http_hint(base: &str, authority: &str) -> String {
    if is_loopback_authority(authority) {
        format!(
            "cannot reach the relay at {base} over TLS: it answers plain HTTP. Is the relay serving plain HTTP? Try --relay http://{authority} (loopback), or put a TLS proxy in front of it"
        )
    } else {
        format!(
            "cannot reach the relay at {base} over TLS: it speaks plain HTTP: put TLS in front of it (a TLS proxy) and use that https URL"
        )
    }
}

/// Whether `authority` (`host[:port]`, 443 by default) answers a plain
/// HTTP request with an HTTP status line (2 s bounds; only on an error path).
fn speaks_plain_http(authority: &str) -> bool {
    use std::io::Write;
    use std::net::{TcpStream, ToSocketAddrs};
    let has_port = match authority.rsplit_once(':') {
        Some((host, port)) => {
            !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !host.ends_with('[')
        }
        None => false,
    } && !authority.ends_with(']');
    let target = if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:443")
    };
    let Some(addr) = target.to_socket_addrs().ok().and_then(|mut a| a.next()) else {
        return false;
    };
    let limit = Duration::from_secs(2);
    let Ok(mut s) = TcpStream::connect_timeout(&addr, limit) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(limit));
    let _ = s.set_write_timeout(Some(limit));
    if s.write_all(b"HEAD / HTTP/1.1\r\nHost: sealpass\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 5];
    s.read_exact(&mut head).is_ok() && &head == b"HTTP/"
}

/// A non-2xx answer that is not an error status: a redirect is refused
/// (never followed: the request was signed for this relay, and a bearer
/// token must not travel elsewhere), anything else is not a success either.
/// Its body and `Location` are not read.
fn not_success(status: u16) -> Error {
    let what = if (300..400).contains(&status) {
        "a redirect, which is never followed"
    } else {
        "not a success"
    };
    Error::with_detail(
        Code::RelayProtocol,
        format!("relay answered HTTP {status}, {what}"),
    )
}

/// Read at most `limit` bytes; more is an error, never a truncated success.
fn read_bounded(resp: ureq::Response, limit: usize) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    resp.into_reader()
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|_| Error::new(Code::RelayUnreachable, "relay connection broke mid-answer"))?;
    if buf.len() > limit {
        return Err(Error::with_detail(
            Code::RelayProtocol,
            format!("relay answer larger than {limit} bytes"),
        ));
    }
    Ok(buf)
}

/// Map `{"code","name","message"}` to our error; unknown shapes keep the status.
fn relay_error(status: u16, body: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => {
            let code = Code::from_number(b.code).unwrap_or(Code::RelayProtocol);
            Error::with_detail(
                code,
                format!("relay answered HTTP {status}: {}", printable(&b.message)),
            )
        }
        Err(_) => Error::with_detail(
            if status >= 500 {
                Code::Internal
            } else {
                Code::RelayProtocol
            },
            format!("relay answered HTTP {status} without an error body"),
        ),
    }
}

/// Relay text may hold anything: keep it short and escaped
/// ([`crate::text::escape`]) before it reaches a terminal.
pub fn printable(s: &str) -> String {
    let short: String = s.chars().take(MAX_MESSAGE_CHARS).collect();
    crate::text::escape(&short)
}

/// Parse a JSON answer into `T`; any mismatch is the relay's fault.
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(body).map_err(|_| {
        Error::with_detail(
            Code::RelayProtocol,
            format!("relay sent a malformed {what} answer"),
        )
    })
}

/// Ids the relay hands us go into URL paths and logs: allow only a safe,
/// short alphabet (`[A-Za-z0-9._-]`, 1..=64) so nothing can smuggle a path.
pub fn check_id(id: &str, what: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && id != "."
        && id != "..";
    if ok {
        Ok(())
    } else {
        Err(Error::with_detail(
            Code::RelayProtocol,
            format!("{what} is not 1..=64 chars of [A-Za-z0-9._-]"),
        ))
    }
}

/// `localhost`, `127.x.y.z` or `[::1]`, with an optional port.
fn is_loopback_authority(authority: &str) -> bool {
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_suggested_only_for_loopback() {
        let h = plain_http_hint("https://127.0.0.1:8080", "127.0.0.1:8080");
        assert!(h.contains("--relay http://127.0.0.1:8080"), "{h}");
        for remote in ["relay.example:8443", "10.0.0.5", "[2001:db8::1]:443"] {
            let h = plain_http_hint(&format!("https://{remote}"), remote);
            assert!(!h.contains("http://"), "{h}");
            assert!(
                h.contains("it speaks plain HTTP: put TLS in front of it"),
                "{h}"
            );
        }
    }

    #[test]
    fn base_urls() {
        assert_eq!(
            Relay::new("http://127.0.0.1:8080/").unwrap().base(),
            "http://127.0.0.1:8080"
        );
        for ok in [
            "https://relay.example",
            "https://relay.example:8443/",
            "http://localhost:8080",
            "http://127.0.0.2",
            "http://[::1]:8080",
        ] {
            assert!(Relay::with_insecure_http(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "127.0.0.1:8080",
            "http://",
            "http://h/x",
            "http://h?a",
            "ftp://h",
            "https://h/x",
            "http://u@h",
            "http://relay.example",
            "http://10.0.0.1:8080",
            "http://localhost.evil.example",
        ] {
            assert!(Relay::with_insecure_http(bad, false).is_err(), "{bad}");
        }
        assert!(Relay::with_insecure_http("http://relay.example", true).is_ok());
    }

    #[test]
    fn relay_errors_are_mapped_and_sanitized() {
        let e = relay_error(
            409,
            br#"{"code":8009,"name":"PubkeyAwaiting","message":"wait\nplease"}"#,
        );
        assert_eq!(e.code(), Code::PubkeyAwaiting);
        assert!(e.detail().contains("wait\\u{a}please"), "{}", e.detail());
        assert_eq!(relay_error(502, b"<html>").code(), Code::Internal);
        assert_eq!(
            relay_error(400, br#"{"code":1,"message":""}"#).code(),
            Code::RelayProtocol
        );
    }

    #[test]
    fn a_redirect_is_a_protocol_error() {
        for status in [301, 302, 303, 307, 308] {
            let e = not_success(status);
            assert_eq!(e.code(), Code::RelayProtocol);
            assert!(e.detail().contains("redirect"), "{}", e.detail());
        }
        assert!(!not_success(101).detail().contains("redirect"));
    }

    #[test]
    fn ids() {
        assert!(check_id("AbC-_.9", "id").is_ok());
        for bad in ["", "..", "a/b", "a b", "é", &"a".repeat(65)] {
            assert!(check_id(bad, "id").is_err(), "{bad}");
        }
    }
}
