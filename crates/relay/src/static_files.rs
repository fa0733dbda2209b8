//! The accept page and its assets, with the page's security headers.
//!
//! Header policy lives in [`security_headers`] only, so the page's owner can
//! tighten it in one place.

use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::api_error::ApiError;
use super::state::AppState;
use sealpass::error::Code;

/// Largest static file served.
const MAX_FILE: u64 = 16 * 1024 * 1024;

/// Security headers for every page and asset response. `is_page` is true for
/// the HTML document itself (never cached).
pub fn security_headers(h: &mut HeaderMap, is_page: bool) {
    let set = |h: &mut HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; \
         style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    set(
        h,
        header::CACHE_CONTROL,
        if is_page { "no-store" } else { "no-cache" },
    );
}

/// Content type by extension; unknown extensions are not served.
fn content_type(path: &Path) -> Option<&'static str> {
    Some(match path.extension()?.to_str()? {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "map" => "application/json",
        "sig" | "asc" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

/// Only plain relative names: segments of `[A-Za-z0-9._-]`, none starting
/// with a dot (no `..`, no hidden files).
fn safe_relative(p: &str) -> Option<PathBuf> {
    if p.is_empty() || p.len() > 256 {
        return None;
    }
    let mut out = PathBuf::new();
    for seg in p.split('/') {
        if seg.is_empty()
            || seg.starts_with('.')
            || !seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return None;
        }
        out.push(seg);
    }
    Some(out)
}

/// `root/rel` with every symlink resolved, if it still lies inside the
/// resolved root: a link inside `--www` may point to another file of the
/// page, never out of the directory (the name rules of [`safe_relative`]
/// cannot see where a link leads).
fn resolve_inside(root: &Path, rel: &Path) -> Option<PathBuf> {
    let root = std::fs::canonicalize(root).ok()?;
    let full = std::fs::canonicalize(root.join(rel)).ok()?;
    full.starts_with(&root).then_some(full)
}

async fn serve_file(root: &Path, rel: &Path, is_page: bool) -> Response {
    let not_found = || ApiError::new(Code::NotFound, "no such file").into_response();
    let Some(ct) = content_type(rel) else {
        return not_found();
    };
    let (root, rel) = (root.to_owned(), rel.to_owned());
    let read = tokio::task::spawn_blocking(move || {
        let full = resolve_inside(&root, &rel)?;
        match std::fs::metadata(&full) {
            Ok(m) if m.is_file() && m.len() <= MAX_FILE => std::fs::read(&full).ok(),
            _ => None,
        }
    });
    let Ok(Some(bytes)) = read.await else {
        return not_found();
    };
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    security_headers(h, is_page);
    resp
}

/// The accept page's file inside `--www`.
pub const ACCEPT_PAGE: &str = "index.html";
/// The admin console's file inside `--www` (its assets are beside it, under
/// `/static/admin/`).
pub const ADMIN_PAGE: &str = "admin/index.html";

/// What `/accept` and `/admin` answer when `--www` holds no such page: how
/// to build it (plain text; the directory is not named, it is the
/// operator's business).
pub fn not_built_text(page: &str) -> String {
    let (what, how) = if page == ADMIN_PAGE {
        (
            "The admin console",
            "./build.sh serve (builds and starts everything), or scripts/build-www.sh then scripts/build-admin.sh",
        )
    } else {
        (
            "The accept page",
            "./build.sh serve (builds and starts everything), or scripts/build-www.sh",
        )
    };
    format!(
        "{what} is not built, so this relay has nothing to serve here.\n\n\
         Build it with: {how}\n\
         and run the relay with --www pointing at the output (default target/www-dist).\n\
         The relay reads the page on every request: no restart is needed.\n"
    )
}

/// A page: the file, or 503 with [`not_built_text`] when it is absent.
async fn serve_page(root: &Path, page: &'static str) -> Response {
    let present = {
        let full = root.join(page);
        tokio::task::spawn_blocking(move || full.is_file())
            .await
            .unwrap_or(false)
    };
    if !present {
        let mut resp = (StatusCode::SERVICE_UNAVAILABLE, not_built_text(page)).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        security_headers(h, true);
        return resp;
    }
    serve_file(root, Path::new(page), true).await
}

/// `GET /accept` → `<www>/index.html`.
pub async fn accept_page(State(s): State<AppState>) -> Response {
    serve_page(&s.www, ACCEPT_PAGE).await
}

/// `GET /admin` → `<www>/admin/index.html`.
pub async fn admin_page(State(s): State<AppState>) -> Response {
    serve_page(&s.www, ADMIN_PAGE).await
}

/// `GET /static/<path>` → `<www>/<path>`.
pub async fn static_file(State(s): State<AppState>, UrlPath(p): UrlPath<String>) -> Response {
    match safe_relative(&p) {
        Some(rel) => {
            let is_page = rel.extension().and_then(|e| e.to_str()) == Some("html");
            serve_file(&s.www, &rel, is_page).await
        }
        None => ApiError::new(Code::NotFound, "no such file").into_response(),
    }
}

/// `GET /releases.json` → `<www>/releases.json` (the signed manifest).
pub async fn releases(State(s): State<AppState>) -> Response {
    serve_file(&s.www, Path::new("releases.json"), false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_rules() {
        assert!(safe_relative("app.js").is_some());
        assert!(safe_relative("pkg/sealpass_bg.wasm").is_some());
        for bad in [
            "",
            "../x",
            "a/../b",
            ".env",
            "a//b",
            "a\\b",
            "/etc/passwd",
            "a b",
        ] {
            assert!(safe_relative(bad).is_none(), "{bad}");
        }
        assert_eq!(content_type(Path::new("a.wasm")), Some("application/wasm"));
        assert_eq!(content_type(Path::new("a.exe")), None);
    }
}
