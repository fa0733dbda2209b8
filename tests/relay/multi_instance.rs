//! Several relay instances on one PostgreSQL database (issue #17), and the
//! harness under them: a real private server (tests/pg/run.sh), a fresh
//! database per cluster, the relay's role without privileges.
//!
//! Every test here needs the server: `#[ignore]`d, run by
//! `bash tests/pg/run.sh` (`-- --ignored multi_instance`), which also
//! checks that all of them ran and passed.

use sealpass_tests::pg::{self, Database, Server};

/// The relay's login role: no superuser, no bypassing row security, cannot
/// create roles or databases, and it is refused the same through its own
/// connection; it may create its schema in its database and nowhere else.
#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn relay_role_is_unprivileged() {
    let db = Database::create();
    let role = db.server().relay_user().to_owned();
    let flags = pg::admin_sql(
        "postgres",
        &format!(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication, rolcanlogin \
             FROM pg_roles WHERE rolname = '{role}'"
        ),
    );
    assert_eq!(flags, "f|f|f|f|f|t", "flags of role {role}");

    // What it may do in its own database: connect, create its schema.
    assert_eq!(
        db.try_relay_sql("SELECT current_user").as_deref(),
        Ok(role.as_str())
    );
    db.try_relay_sql("CREATE SCHEMA sealpass")
        .expect("the relay role creates its schema");
    assert_eq!(
        db.sql("SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'sealpass'"),
        role
    );

    // What it may not.
    for sql in [
        "CREATE ROLE sp_intruder LOGIN".to_owned(),
        "CREATE DATABASE sp_intruder".to_owned(),
        format!("ALTER ROLE {role} SUPERUSER"),
        "SET ROLE postgres".to_owned(),
        "COPY (SELECT 1) TO PROGRAM 'true'".to_owned(),
    ] {
        let err = db
            .try_relay_sql(&sql)
            .expect_err(&format!("the relay role may not: {sql}"));
        assert!(
            err.contains("permission denied") || err.contains("must be"),
            "{sql}: {err}"
        );
    }
    for other in ["postgres", "template1"] {
        let err = db
            .server()
            .try_relay_sql(other, "SELECT 1")
            .expect_err(&format!("no CONNECT on database {other}"));
        assert!(err.contains("permission denied"), "{other}: {err}");
    }

    // TLS to the server, its certificate checked against the test CA.
    let tls = db
        .server()
        .tls_verify_full()
        .expect("the test server has TLS");
    assert_eq!(
        db.server().try_relay_sql_with(
            db.name(),
            &tls,
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ),
        Ok("t".to_owned())
    );

    // The superuser is not reachable over TCP at all (socket only).
    let tcp = std::process::Command::new("psql")
        .args(["-X", "-At", "-c", "SELECT 1", "-d"])
        .arg(format!(
            "postgresql://postgres@{}:{}/postgres?sslmode=disable&connect_timeout=10",
            db.server().host(),
            db.server().port()
        ))
        .env_remove("PGPASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("psql");
    let err = String::from_utf8_lossy(&tcp.stderr);
    assert!(
        !tcp.status.success() && err.contains("no pg_hba.conf entry"),
        "superuser over TCP: {err}"
    );

    // The refused CREATE ROLE left nothing.
    assert_eq!(
        pg::admin_sql(
            "postgres",
            "SELECT count(*) FROM pg_roles WHERE rolname = 'sp_intruder'"
        ),
        "0"
    );
}

/// A database handle drops its database (WITH (FORCE)) with its last
/// holder, so runs leave no databases behind.
#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn database_is_dropped_with_its_last_handle() {
    let db = Database::create();
    let name = db.name().to_owned();
    let exists = format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'");
    assert_eq!(pg::admin_sql("postgres", &exists), "1");
    let second = db.clone();
    drop(db);
    assert_eq!(
        pg::admin_sql("postgres", &exists),
        "1",
        "dropped while held"
    );
    drop(second);
    assert_eq!(pg::admin_sql("postgres", &exists), "0", "left behind");
}

/// A private server stops (connections refused) and starts again on the
/// same port with its data: what a database-restart test builds on.
#[test]
#[ignore = "needs PostgreSQL: tests/pg/run.sh"]
fn private_server_stops_and_starts_with_its_data() {
    let server = Server::private();
    assert!(server.is_up());
    let db = server.database();
    db.try_relay_sql("CREATE SCHEMA sealpass; CREATE TABLE sealpass.t (v text); INSERT INTO sealpass.t VALUES ('kept')")
        .expect("relay role writes its schema");
    let port = server.port();

    server.stop();
    assert!(!server.is_up(), "still answering after stop");
    let err = db
        .try_relay_sql("SELECT 1")
        .expect_err("connect while down");
    assert!(
        err.contains("connection") || err.contains("refused"),
        "{err}"
    );

    server.start();
    assert!(server.is_up());
    assert_eq!(server.port(), port);
    assert_eq!(
        db.try_relay_sql("SELECT v FROM sealpass.t").as_deref(),
        Ok("kept")
    );
    assert!(
        server.log().contains("database system is ready"),
        "log: {}",
        server.log()
    );
}
