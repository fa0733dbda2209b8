//! The relay process: arguments, the store and admin token it opens, the
//! listener and its HTTP server (timeouts, connection cap), signals and
//! graceful shutdown, and the expiry sweep.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use zeroize::Zeroizing;

use sealpass::error::{Code, Error, Result};
use sealpass_native::keystore::KekConfig;
use sealpass_native::signing::unix_now;
use sealpass_native::wire::{NodeDeleted, PreviousRevoked};

use super::admin_token;
use super::args::{Args, Command, NodeCommand};
use super::cors::AllowedOrigins;
use super::head;
use super::router::router;
use super::state::{AppState, HttpLimits};
use super::store::{self, Limits, Store, StoreUrl};

fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .map(|d| d.join("sealpass-relay"))
        .unwrap_or_else(|| PathBuf::from("sealpass-relay-data"))
}

/// The store `--store` names (default: SQLite in the data dir).
fn store_url(a: &Args, data_dir: &std::path::Path) -> Result<StoreUrl> {
    match a.store.as_deref() {
        Some(s) => StoreUrl::parse(s),
        None => Ok(StoreUrl::default_sqlite(data_dir)),
    }
}

async fn open_store(a: &Args) -> Result<Store> {
    let data_dir = a.data_dir.clone().unwrap_or_else(default_data_dir);
    let url = store_url(a, &data_dir)?;
    let kek = KekConfig::from_env(a.dev_insecure_kek)?;
    let mut limits = Limits::default();
    if let Some(v) = a.test_min_expiry_secs {
        limits.min_expiry_secs = v.max(1);
    }
    if let Some(v) = a.test_offline_after_secs {
        limits.offline_after_secs = v.max(0);
    }
    Store::open(&url, &data_dir, &kek, limits).await
}

fn print_secret(s: store::IssuedSecret) -> Result<()> {
    let out = serde_json::json!({
        "node_id": s.node_id,
        "key_version": s.key_version,
        "secret": Zeroizing::new(sealpass::b64::encode(&s.secret)).as_str(),
    });
    println!("{out}");
    Ok(())
}

/// One JSON line on stdout, the admin API's answer for the same action.
fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    let out = serde_json::to_string(v).map_err(|_| Error::new(Code::Internal, "cannot encode"))?;
    println!("{out}");
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|_| Error::new(Code::Internal, "cannot start the async runtime"))
}

fn run(a: Args) -> Result<()> {
    match &a.command {
        Some(Command::Node(cmd)) => runtime()?.block_on(node_command(&a, cmd)),
        Some(Command::Reseal) => runtime()?.block_on(async {
            let store = open_store(&a).await?;
            let (secrets, admin_token) = store.reseal().await?;
            print_json(&serde_json::json!({
                "resealed_node_secrets": secrets,
                "resealed_admin_token": admin_token,
            }))
        }),
        None => serve(a),
    }
}

/// `sealpass-relay node …`: one action on the store, its JSON on stdout.
async fn node_command(a: &Args, cmd: &NodeCommand) -> Result<()> {
    let store = open_store(a).await?;
    match cmd {
        NodeCommand::Add { node_id } => {
            print_secret(store.add_node(node_id.clone(), unix_now()).await?)
        }
        NodeCommand::RotateSecret { node_id } => {
            print_secret(store.rotate_secret(node_id.clone(), unix_now()).await?)
        }
        NodeCommand::RevokePrevious { node_id } => {
            let (key_version, revoked) = store.revoke_previous(node_id.clone(), unix_now()).await?;
            print_json(&PreviousRevoked {
                node_id: node_id.clone(),
                key_version,
                revoked,
            })
        }
        NodeCommand::Delete { node_id } => {
            let pendings_ended = store.delete_node(node_id.clone(), unix_now()).await?;
            print_json(&NodeDeleted {
                node_id: node_id.clone(),
                pendings_ended,
            })
        }
    }
}

/// Refuse to serve the page *sources* (www/): their SRI attributes are
/// placeholders, which browsers treat as "no integrity" — the built page
/// (scripts/build-www.sh → target/www-dist) is the only servable form.
fn check_www(dir: &std::path::Path) -> Result<()> {
    let page = std::fs::read(dir.join("index.html")).unwrap_or_default();
    if page.windows(5).any(|w| w == b"_SRI%") {
        return Err(Error::with_detail(
            Code::Usage,
            format!(
                "{} holds the unbuilt accept page; run scripts/build-www.sh and pass --www target/www-dist",
                dir.display()
            ),
        ));
    }
    Ok(())
}

/// The start-up warning for a `--www` without a built page (None: both
/// pages are there). The relay still starts: the API works without them.
pub(crate) fn www_warning(dir: &std::path::Path) -> Option<String> {
    use super::static_files::{ACCEPT_PAGE, ADMIN_PAGE};
    let has = |p: &str| dir.join(p).is_file();
    if !has(ACCEPT_PAGE) {
        Some(format!(
            "sealpass-relay: warning: no built accept page in --www {} ({ACCEPT_PAGE} missing): \
             /accept and /admin answer 503 with build instructions until it is built; \
             build it with `./build.sh serve` or `scripts/build-www.sh` (then `scripts/build-admin.sh` for /admin)",
            dir.display()
        ))
    } else if !has(ADMIN_PAGE) {
        Some(format!(
            "sealpass-relay: note: no admin console in --www {} ({ADMIN_PAGE} missing): \
             /admin answers 503 until `scripts/build-admin.sh` builds it",
            dir.display()
        ))
    } else {
        None
    }
}

fn serve(a: Args) -> Result<()> {
    check_www(&a.www)?;
    // Before anything is opened: a bad origin is an operator's typo.
    let origins = AllowedOrigins::parse(&a.allow_origin)?;
    let admin_origins = AllowedOrigins::parse_flag(&a.allow_admin_origin, "--allow-admin-origin")?;
    let data_dir = a.data_dir.clone().unwrap_or_else(default_data_dir);
    let rt = runtime()?;
    let store = rt.block_on(open_store(&a))?;
    // Every valid node secret is opened now, so no request ever reads the
    // keystore (store/sqlite/nodes.rs, `refresh_secrets`).
    let r = rt.block_on(store.refresh_secrets(unix_now(), usize::MAX))?;
    if r.failed > 0 {
        eprintln!(
            "sealpass-relay: {} node secret(s) could not be opened; those nodes cannot authenticate",
            r.failed
        );
    }
    // A shared store (PostgreSQL) holds one admin token for every instance,
    // used when none is given by file or environment. It is opened either
    // way: an instance whose KEK cannot open it (a KEK the others do not
    // use) must not start and seal secrets nobody else can open.
    let shared = rt.block_on(store.shared_admin_token())?;
    let shared =
        if a.admin_token_file.is_none() && std::env::var_os("SEALPASS_ADMIN_TOKEN").is_none() {
            shared
        } else {
            None
        };
    let token = admin_token::load(
        a.admin_token_file.as_deref(),
        &data_dir,
        admin_token::TokenFilePolicy {
            group_readable: a.admin_token_file_group_readable,
        },
        shared,
    )?;
    // Once everything else is known good: a start that fails says only why.
    if let Some(w) = www_warning(&a.www) {
        eprintln!("{w}");
    }
    let http = http_limits(&a);
    let state = AppState::new(store.clone(), token, a.www.clone())
        .with_allowed_origins(origins)
        .with_admin_origins(admin_origins)
        .with_http_limits(http);
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .map_err(|e| {
                Error::with_detail(
                    Code::Io,
                    format!("cannot listen on {}: {}", a.listen, e.kind()),
                )
            })?;
        let addr: SocketAddr = listener
            .local_addr()
            .map_err(|_| Error::new(Code::Io, "no local address"))?;
        let shutdown = shutdown_signal()?;
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on http://{addr}");
            let _ = out.flush();
        }
        tokio::spawn(sweep_loop(store, a.sweep_interval_secs.max(1)));
        serve_http(listener, router(state), http, shutdown).await;
        Ok::<(), Error>(())
    })?;
    eprintln!("sealpass-relay: stopped");
    Ok(())
}

fn http_limits(a: &Args) -> HttpLimits {
    let mut l = HttpLimits::default();
    if let Some(v) = a.test_max_requests {
        l.max_requests = v.max(1);
    }
    if let Some(v) = a.test_body_timeout_secs {
        l.body_timeout = Duration::from_secs(v.max(1));
    }
    if let Some(v) = a.test_node_body_slots {
        l.node_body_slots = v.max(1);
    }
    if let Some(v) = a.test_node_body_timeout_secs {
        l.node_body_timeout = Duration::from_secs(v.max(1));
    }
    if let Some(v) = a.test_max_connections {
        l.max_connections = v.max(1);
    }
    if let Some(v) = a.test_header_timeout_secs {
        l.header_timeout = Duration::from_secs(v.max(1));
    }
    l
}

/// How long a graceful stop waits for requests in flight.
const DRAIN_SECS: u64 = 10;

/// The HTTP/1.1 server: hyper with a timer, so a request head must arrive
/// within `header_timeout` of the connection opening or of the previous
/// response (that is also the keep-alive idle timeout: an idle connection is
/// closed then), and at most `max_connections` connections at once — the
/// next one is accepted only when one closes, so excess clients wait in the
/// kernel's listen backlog (bounded) instead of costing file descriptors.
/// On `shutdown`: stop accepting, close idle connections, let requests in
/// flight finish (at most [`DRAIN_SECS`]).
async fn serve_http(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    limits: HttpLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        // Above the router's own head limits (head.rs), which answer in
        // the JSON error shape; hyper's bare 431 is only the backstop.
        .max_headers(head::HYPER_MAX_HEADERS)
        .max_header_size(head::HYPER_MAX_HEAD)
        .max_buf_size(head::HYPER_MAX_BUF)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => match s {
                Ok(s) => s,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of file descriptors or a connection reset before
                    // accept: back off briefly rather than spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let conn =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(DRAIN_SECS), graceful.shutdown()).await;
}

/// Node secrets a sweep opens at most (those the ops CLI added or rotated
/// beside the running relay); the rest wait for the next sweep.
const SECRET_LOADS_PER_SWEEP: usize = 64;

async fn sweep_loop(store: Store, every: u64) {
    let mut tick = tokio::time::interval(Duration::from_secs(every));
    loop {
        tick.tick().await;
        if let Err(e) = store.sweep(unix_now()).await {
            eprintln!("sealpass-relay: sweep failed: {e}");
        }
        if let Err(e) = store
            .refresh_secrets(unix_now(), SECRET_LOADS_PER_SWEEP)
            .await
        {
            eprintln!("sealpass-relay: refreshing node secrets failed: {e}");
        }
    }
}

/// SIGINT/SIGTERM as a future, with the handlers registered *now*: the caller
/// does this before announcing its address, so a signal sent right after the
/// "listening on" line always means a graceful stop (registering lazily, on
/// the future's first poll, left a window where SIGINT killed the process).
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let failed = |_| Error::new(Code::Internal, "cannot install signal handlers");
        let mut int = signal(SignalKind::interrupt()).map_err(failed)?;
        let mut term = signal(SignalKind::terminate()).map_err(failed)?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => {},
                _ = term.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Run the relay with command-line arguments.
pub fn main() -> ExitCode {
    let a = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod www_tests {
    use super::check_www;

    #[test]
    fn unbuilt_page_sources_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            check_www(dir.path()).is_ok(),
            "no page at all: API-only relay"
        );
        let page = dir.path().join("index.html");
        std::fs::write(
            &page,
            r#"<script src="/static/app.js" integrity="sha384-abc">"#,
        )
        .unwrap();
        assert!(check_www(dir.path()).is_ok());
        std::fs::write(
            &page,
            r#"<script src="/static/app.js" integrity="%JS_SRI%">"#,
        )
        .unwrap();
        let e = check_www(dir.path()).unwrap_err();
        assert_eq!(e.code(), sealpass::Code::Usage);
        // The shipped sources (www/ at the workspace root) are exactly such a page.
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www");
        assert!(check_www(std::path::Path::new(src)).is_err());
    }
}
