#!/usr/bin/env bash
# A throw-away PostgreSQL cluster on 127.0.0.1, for the tests and benchmarks.
#
#   eval "$(scripts/postgres.sh start)"   # installs PostgreSQL if missing, starts a cluster in
#                                         # a new temporary directory, prints the exports:
#                                         # TOKENWARD_POSTGRES_URL (a superuser with a password),
#                                         # TOKENWARD_POSTGRES_CA (the CA of its TLS certificate),
#                                         # TOKENWARD_POSTGRES_DIR, TOKENWARD_POSTGRES_BIN
#   scripts/postgres.sh stop              # stops it and removes the directory
#   scripts/postgres.sh halt              # stops the server, keeping the cluster (fault tests)
#   scripts/postgres.sh resume            # starts the halted cluster again
#   scripts/postgres.sh freeze            # stops the server's processes (SIGSTOP): connections
#                                         # stay open and nothing answers (fault tests)
#   scripts/postgres.sh thaw              # lets them run again (SIGCONT)
#
# The cluster listens on a free TCP port of 127.0.0.1 only, accepts password (SCRAM) logins
# only, with or without TLS (a certificate for 127.0.0.1 and localhost from a CA made here),
# and runs with fsync off: it is thrown away with the directory.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# Runs a PostgreSQL program as the owner of the cluster (initdb and postgres refuse root).
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

ctl() {
  as_owner "$TOKENWARD_POSTGRES_BIN/pg_ctl" -D "$TOKENWARD_POSTGRES_DIR/data" "$@"
}

start() {
  if [ -z "$(pg_bin)" ]; then
    log "installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
  fi
  local bin dir port password
  bin="$(pg_bin)"
  [ -n "$bin" ] || { log "no PostgreSQL binaries after installing"; exit 1; }
  dir="$(mktemp -d /tmp/tokenward-postgres.XXXXXX)"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  password="tw-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  printf '%s\n' "$password" > "$dir/password"
  # A throw-away certificate authority and a server certificate for 127.0.0.1 and localhost,
  # so the tests can connect with sslmode=verify-full&sslrootcert=$dir/ca.crt.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=tokenward test CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$dir/san.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 2 -extfile "$dir/san.ext" -out "$dir/server.crt" >/dev/null 2>&1
  chmod 600 "$dir/server.key"
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres "$dir"
  fi
  export TOKENWARD_POSTGRES_BIN="$bin" TOKENWARD_POSTGRES_DIR="$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U tokenward --pwfile="$dir/password" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
EOF
  ctl -l "$dir/server.log" -w -t 60 start >&2 || { cat "$dir/server.log" >&2; exit 1; }
  echo "export TOKENWARD_POSTGRES_BIN='$bin'"
  echo "export TOKENWARD_POSTGRES_DIR='$dir'"
  echo "export TOKENWARD_POSTGRES_URL='postgres://tokenward:$password@127.0.0.1:$port/postgres'"
  echo "export TOKENWARD_POSTGRES_CA='$dir/ca.crt'"
  log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
}

stop() {
  [ -n "${TOKENWARD_POSTGRES_DIR:-}" ] && [ -d "$TOKENWARD_POSTGRES_DIR" ] || return 0
  thaw >/dev/null 2>&1 || true # a frozen server would not hear the stop
  ctl -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$TOKENWARD_POSTGRES_DIR"
}

halt() {
  ctl -m fast -w stop >&2
}

resume() {
  ctl -l "$TOKENWARD_POSTGRES_DIR/server.log" -w -t 60 start >&2
}

# The postmaster's process id (postmaster.pid's first line).
postmaster() {
  head -n 1 "$TOKENWARD_POSTGRES_DIR/data/postmaster.pid"
}

freeze() {
  # The postmaster first, so that it starts no process after its children are listed.
  local main
  main=$(postmaster)
  kill -STOP "$main"
  for pid in $(pgrep -P "$main"); do kill -STOP "$pid"; done
}

thaw() {
  local main
  main=$(postmaster)
  for pid in $(pgrep -P "$main"); do kill -CONT "$pid"; done
  kill -CONT "$main"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  halt) halt ;;
  resume) resume ;;
  freeze) freeze ;;
  thaw) thaw ;;
  *) echo "usage: $0 start|stop|halt|resume|freeze|thaw" >&2; exit 2 ;;
esac
