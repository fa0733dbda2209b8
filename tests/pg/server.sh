#!/usr/bin/env bash
# tests/pg/server.sh — a private, throw-away PostgreSQL server for the tests
# (Debian's postgresql, /usr/lib/postgresql/<major>/bin).
#
#   server.sh start DIR   initdb into DIR/data and start it (DIR must not
#                         exist or be empty; made owned by the server's user)
#   server.sh stop DIR    stop it (pg_ctl stop -m fast, then SIGKILL by PID)
#                         and remove DIR
#   server.sh down DIR    stop it, keep DIR (a restart test)
#   server.sh up DIR      start it again on the same port
#   server.sh env DIR     print `export` lines for the tests; use as
#                         eval "$(bash tests/pg/server.sh env DIR)"
#
# Layout of DIR: data/ (the cluster), sock/ (its unix socket, 0700), log,
# port, relay.password (0600), tls/ (throw-away CA and server certificate).
#
# Access: the superuser `postgres` only over the unix socket (trust: the
# socket dir is 0700, reachable by the server's user and root alone); the
# login role `sealpass_relay` (no superuser, createdb, createrole,
# bypassrls, replication) only over TCP on 127.0.0.1 with scram-sha-256
# and a random password made at start. TLS is on (sslmode=disable works
# too): the CA is SEALPASS_TEST_PG_CA.
#
# Postgres refuses to run as root: as root the server runs as the OS user
# SEALPASS_TEST_PG_OS_USER (default postgres) via runuser; otherwise as the
# caller. The port is picked at random in 20000-32767 (below Linux's
# ephemeral range, so no client socket or port-0 listener takes it) and a
# start that cannot bind it retries on another one.
set -euo pipefail

RELAY_ROLE=sealpass_relay
START_TIMEOUT=${SEALPASS_TEST_PG_START_TIMEOUT:-60}
PORT_TRIES=8

die() {
    echo "pg/server.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

# The newest Debian postgresql bin dir (or SEALPASS_TEST_PG_BIN).
pg_bin() {
    if [[ -n ${SEALPASS_TEST_PG_BIN:-} ]]; then
        [[ -x $SEALPASS_TEST_PG_BIN/initdb ]] || die "SEALPASS_TEST_PG_BIN=$SEALPASS_TEST_PG_BIN has no initdb"
        echo "$SEALPASS_TEST_PG_BIN"
        return
    fi
    local d best="" bestv=0 v
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] || continue
        v=${d#/usr/lib/postgresql/}
        v=${v%%/*}
        [[ $v =~ ^[0-9]+$ ]] || continue
        ((v > bestv)) && { best=$d; bestv=$v; }
    done
    [[ -n $best ]] || die "no PostgreSQL server found (/usr/lib/postgresql/*/bin/initdb): run ./build.sh setup (apt-get install postgresql)"
    echo "$best"
}

# The OS user the server runs as ("" = the caller).
os_user() {
    if [[ $(id -u) -eq 0 ]]; then
        local u=${SEALPASS_TEST_PG_OS_USER:-postgres}
        id -u "$u" >/dev/null 2>&1 || die "running as root needs an unprivileged OS user '$u' for the server (SEALPASS_TEST_PG_OS_USER)"
        [[ $(id -u "$u") -ne 0 ]] || die "SEALPASS_TEST_PG_OS_USER=$u is root"
        echo "$u"
    fi
}

# as_server CMD...: run as the server's user, from / (its cwd may be a dir
# it cannot enter).
as_server() {
    if [[ -n $OS_USER ]]; then
        (cd / && runuser -u "$OS_USER" -- "$@")
    else
        (cd / && "$@")
    fi
}

rand_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

log_tail() {
    echo "---- last lines of $DIR/log ----" >&2
    tail -n 40 "$DIR/log" >&2 2>/dev/null || echo "(no log)" >&2
    echo "----" >&2
}

# Is something listening on 127.0.0.1:$1?
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
    local p i
    for ((i = 0; i < 50; i++)); do
        p=$((20000 + RANDOM % 12768))
        port_busy "$p" || { echo "$p"; return; }
    done
    die "no free port found in 20000-32767 after 50 tries"
}

postmaster_pid() {
    local f=$DIR/data/postmaster.pid
    [[ -r $f ]] && head -n1 "$f" | tr -cd '0-9'
}

# pg_start: start the cluster on the port in DIR/port (also written to
# data/sealpass_port.conf, so a plain `pg_ctl -D data start` uses it too);
# 0 when it is up.
pg_start() {
    local port
    port=$(cat "$DIR/port")
    echo "port = $port" | as_server tee "$DIR/data/sealpass_port.conf" >/dev/null
    as_server "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -t "$START_TIMEOUT" start >/dev/null 2>&1
}

# Did the last start fail because the port was taken?
bind_failed() { grep -qE 'could not bind|Address already in use|could not create any TCP/IP sockets' "$DIR/log" 2>/dev/null; }

cmd_start() {
    [[ -e $DIR && -n $(ls -A "$DIR" 2>/dev/null) ]] && die "$DIR exists and is not empty"
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd -P)
    # The server's user must reach DIR: every parent must be searchable.
    if [[ -n $OS_USER ]]; then
        chown "$OS_USER:" "$DIR"
        as_server test -x "$DIR" || die "$DIR is not reachable by user $OS_USER (a parent dir is not searchable; use TMPDIR=/tmp)"
    fi
    chmod 0700 "$DIR"
    as_server mkdir -m 0700 "$DIR/sock" "$DIR/tls"
    as_server touch "$DIR/log"

    as_server "$BIN/initdb" -D "$DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=reject --no-sync --no-instructions \
        >"$DIR/initdb.log" 2>&1 || {
        cat "$DIR/initdb.log" >&2
        die "initdb failed"
    }

    # Throw-away TLS: a CA and a server certificate for 127.0.0.1/localhost.
    local tls=$DIR/tls
    if command -v openssl >/dev/null 2>&1; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
            -subj "/CN=sealpass test CA" -keyout "$tls/ca.key" -out "$tls/ca.crt" \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
            >/dev/null 2>&1 || die "openssl: making the test CA failed"
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -subj "/CN=127.0.0.1" -keyout "$tls/server.key" -out "$tls/server.csr" \
            >/dev/null 2>&1 || die "openssl: making the server key failed"
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$tls/ext.cnf"
        openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
            -CAcreateserial -days 2 -extfile "$tls/ext.cnf" -out "$tls/server.crt" \
            >/dev/null 2>&1 || die "openssl: signing the server certificate failed"
        rm -f "$tls/ca.key" "$tls/server.csr" "$tls/ext.cnf" "$tls/ca.srl"
        [[ -n $OS_USER ]] && chown -R "$OS_USER:" "$tls"
        chmod 0600 "$tls/server.key"
        chmod 0644 "$tls/ca.crt" "$tls/server.crt"
    fi

    local conf=$DIR/data/postgresql.conf
    {
        echo
        echo "# ---- sealpass test server (tests/pg/server.sh)"
        echo "listen_addresses = '127.0.0.1'"
        echo "include_if_exists = 'sealpass_port.conf'"
        echo "unix_socket_directories = '$DIR/sock'"
        echo "unix_socket_permissions = 0700"
        echo "max_connections = 300"
        echo "shared_buffers = 32MB"
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
        echo "password_encryption = 'scram-sha-256'"
        echo "log_line_prefix = '%m [%p] %q%u@%d '"
        echo "log_min_messages = warning"
        if [[ -f $tls/server.crt ]]; then
            echo "ssl = on"
            echo "ssl_cert_file = '$tls/server.crt'"
            echo "ssl_key_file = '$tls/server.key'"
            echo "ssl_min_protocol_version = 'TLSv1.2'"
        fi
    } | as_server tee -a "$conf" >/dev/null
    # Superuser over the socket only; the relay role over TCP loopback only.
    printf '%s\n' \
        "# TYPE  DATABASE  USER            ADDRESS        METHOD" \
        "local   all       postgres                       trust" \
        "host    all       $RELAY_ROLE  127.0.0.1/32   scram-sha-256" |
        as_server tee "$DIR/data/pg_hba.conf" >/dev/null

    local try port
    for ((try = 1; try <= PORT_TRIES; try++)); do
        # SEALPASS_TEST_PG_TRY_PORT: the first try's port, unchecked (to
        # prove the retry on a taken port).
        if ((try == 1)) && [[ -n ${SEALPASS_TEST_PG_TRY_PORT:-} ]]; then
            port=$SEALPASS_TEST_PG_TRY_PORT
        else
            port=$(pick_port)
        fi
        echo "$port" | as_server tee "$DIR/port" >/dev/null
        : | as_server tee "$DIR/log" >/dev/null
        if pg_start; then
            break
        fi
        if bind_failed && ((try < PORT_TRIES)); then
            echo "pg/server.sh: port $port taken, retrying on another" >&2
            continue
        fi
        log_tail
        kill_server
        die "PostgreSQL did not start in $DIR (port $port, try $try)"
    done

    # The relay role and its random password (fed on stdin: not in argv).
    local pw
    pw=$(rand_hex 24)
    (umask 077 && printf '%s\n' "$pw" >"$DIR/relay.password")
    [[ -n $OS_USER ]] && chown "$OS_USER:" "$DIR/relay.password"
    psql_admin postgres <<SQL >/dev/null || { log_tail; die "creating role $RELAY_ROLE failed"; }
\set ON_ERROR_STOP on
CREATE ROLE $RELAY_ROLE LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION NOINHERIT PASSWORD '$pw';
REVOKE ALL ON DATABASE postgres FROM PUBLIC;
REVOKE ALL ON DATABASE template1 FROM PUBLIC;
SQL
    echo "pg/server.sh: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') up on 127.0.0.1:$port (dir $DIR, pid $(postmaster_pid))" >&2
}

# psql_admin DB: psql as the superuser over the socket, SQL on stdin.
psql_admin() {
    psql -X -q -v ON_ERROR_STOP=1 "postgresql://postgres@/$1?host=$DIR/sock&port=$(cat "$DIR/port")" -f -
}

# Stop the server by its postmaster PID: pg_ctl stop -m fast, then SIGKILL
# (the postmaster and its children), bounded.
kill_server() {
    local pid i kids
    pid=$(postmaster_pid || true)
    if [[ -d $DIR/data ]]; then
        as_server "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 20 stop >/dev/null 2>&1 || true
    fi
    [[ -n $pid ]] || return 0
    if alive "$pid"; then
        kids=$(pgrep -P "$pid" || true)
        echo "pg/server.sh: postmaster $pid still up after pg_ctl stop; SIGKILL" >&2
        kill -KILL "$pid" $kids 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
    fi
    # Give PID 1 a moment to reap it, so `pgrep -u postgres` is empty after.
    for ((i = 0; i < 50; i++)); do
        [[ -e /proc/$pid ]] || break
        sleep 0.1
    done
}

# alive PID: a postgres process that runs (a zombie that exited but is not
# reaped yet, e.g. by a container's PID 1, does not count).
alive() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $st && $st != Z && $(cat "/proc/$1/comm" 2>/dev/null) == postgres* ]]
}

cmd_stop() {
    [[ -d $DIR ]] || return 0
    kill_server
    rm -rf "$DIR"
}

cmd_down() {
    [[ -d $DIR/data ]] || die "$DIR has no server"
    as_server "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 || {
        log_tail
        die "pg_ctl stop failed"
    }
}

cmd_up() {
    [[ -d $DIR/data ]] || die "$DIR has no server"
    pg_start || {
        log_tail
        die "PostgreSQL did not start again in $DIR (port $(cat "$DIR/port"))"
    }
}

cmd_env() {
    [[ -f $DIR/port && -f $DIR/relay.password ]] || die "$DIR has no started server"
    local port
    port=$(cat "$DIR/port")
    e() { printf 'export %s=%q\n' "$1" "$2"; }
    e SEALPASS_TEST_PG_DIR "$DIR"
    e SEALPASS_TEST_PG_ADMIN_URL "postgresql://postgres@/postgres?host=$DIR/sock&port=$port"
    e SEALPASS_TEST_PG_SOCKET "$DIR/sock"
    e SEALPASS_TEST_PG_HOST 127.0.0.1
    e SEALPASS_TEST_PG_PORT "$port"
    e SEALPASS_TEST_PG_RELAY_USER "$RELAY_ROLE"
    e SEALPASS_TEST_PG_RELAY_PASSWORD "$(cat "$DIR/relay.password")"
    [[ -f $DIR/tls/ca.crt ]] && e SEALPASS_TEST_PG_CA "$DIR/tls/ca.crt"
    e SEALPASS_TEST_PG_CTL "$BIN/pg_ctl"
    e SEALPASS_TEST_PG_DATA "$DIR/data"
    e SEALPASS_TEST_PG_LOG "$DIR/log"
    e SEALPASS_TEST_PG_OS_USER "$OS_USER"
    e SEALPASS_TEST_PG_SERVER_SH "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/server.sh"
}

(($# == 2)) || usage
CMD=$1
DIR=$2
[[ -n $DIR && $DIR != / ]] || die "bad DIR '$DIR'"
BIN=$(pg_bin)
OS_USER=$(os_user)
[[ -d $DIR ]] && DIR=$(cd "$DIR" && pwd -P)
case $CMD in
start) cmd_start ;;
stop) cmd_stop ;;
down) cmd_down ;;
up) cmd_up ;;
env) cmd_env ;;
*) usage ;;
esac
