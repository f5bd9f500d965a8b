#!/usr/bin/env bash
# `make run`: serve contentd on this machine with a demo course loaded.
#
# Without DATABASE_URL it starts a throwaway PostgreSQL cluster in .data/pg (kept
# between runs; `make clean` removes it) on a free local port. With DATABASE_URL
# set (a Supabase connection string, say) it uses that database instead. Either
# way it migrates, seeds the demo course, serves, and prints how to call the API.
# Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

# On a terminal, run again as a job of its own (job control): it becomes the
# terminal's foreground process group, so that Ctrl-C reaches it and not make,
# which would otherwise die of the signal and exit non-zero. It ends well, and
# so does make.
if [ -t 0 ] && [ -z "${CONTENTD_RUN_JOB:-}" ]; then
  set -m
  CONTENTD_RUN_JOB=1 "$0" "$@" &
  fg %1 >/dev/null
  exit $?
fi
root=$PWD
bin=$root/bin/contentd
# Where the local cluster, the dev secret and the backups live (git-ignored).
data=${DATA_DIR:-$root/.data}

# Bold only on a terminal: a log or a pipe gets plain text.
if [ -t 2 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
log() { printf '%s==> %s%s\n' "$bold" "$*" "$plain" >&2; }
die() { printf 'make run: %s\n' "$*" >&2; exit 1; }

# port_free PORT: nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# free_port FIRST: the first free port from FIRST upwards.
free_port() {
  local p=$1
  while ! port_free "$p"; do p=$((p + 1)); done
  echo "$p"
}

pg_bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
  local d
  d=$(pg_config --bindir 2>/dev/null || true)
  if [ -x "$d/initdb" ]; then echo "$d"; return; fi
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -x "$d/initdb" ]; then echo "$d"; return; fi
  die "PostgreSQL server binaries not found: apt-get install postgresql-15, or set DATABASE_URL"
}

# as_pg CMD...: run a server binary as the postgres user when we are root
# (initdb and postgres refuse to run as root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pids=()
pg_started=""
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$pg_started" ]; then
    log "stopping the local PostgreSQL"
    as_pg "$pg_started/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null || true
  fi
}
# Ctrl-C and SIGTERM stop everything and end well; any other end cleans up too.
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

if [ -z "${DATABASE_URL:-}" ]; then
  bindir=$(pg_bindir)
  pgroot=$data/pg
  # The postgres user must reach the data folder; elsewhere fall back to /tmp.
  mkdir -p "$pgroot"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$pgroot"
    if ! runuser -u postgres -- test -w "$pgroot"; then
      pgroot=/tmp/contentd-dev-$(echo "$data" | md5sum | cut -c1-8)
      log "the postgres user cannot reach $data; using $pgroot"
      mkdir -p "$pgroot" && chown postgres: "$pgroot"
    fi
  fi
  pgdata=$pgroot/data
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    log "creating a local PostgreSQL cluster in $pgdata"
    as_pg "$bindir/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if as_pg "$bindir/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    as_pg "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null
  fi
  pgport=$(free_port 55432)
  log "starting PostgreSQL on 127.0.0.1:$pgport"
  as_pg "$bindir/pg_ctl" -D "$pgdata" -l "$pgroot/postgres.log" -w \
    -o "-p $pgport -k $pgroot -c listen_addresses=127.0.0.1" start >/dev/null \
    || die "PostgreSQL did not start; see $pgroot/postgres.log"
  pg_started=$bindir
  if ! "$bindir/psql" -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'contentd'" | grep -q 1; then
    "$bindir/createdb" -h 127.0.0.1 -p "$pgport" -U postgres contentd
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/contentd?sslmode=disable"
  db_label="local PostgreSQL on 127.0.0.1:$pgport (data in $pgdata)"
else
  db_label="DATABASE_URL from the environment"
fi

# Tokens: without a Supabase secret or JWKS, a local secret (kept in .data) signs
# a ready gestor token. Authentication itself is never off.
if [ -z "${SUPABASE_JWT_SECRET:-}" ] && [ -z "${SUPABASE_JWKS_URL:-}" ]; then
  mkdir -p "$data"
  secret_file=$data/dev-jwt-secret
  if [ ! -s "$secret_file" ]; then
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret_file")
  fi
  export SUPABASE_JWT_SECRET
  SUPABASE_JWT_SECRET=$(cat "$secret_file")
  auth_label="local dev secret in $secret_file"
else
  auth_label="SUPABASE_JWT_SECRET / SUPABASE_JWKS_URL from the environment"
fi
token=""
if [ -n "${SUPABASE_JWT_SECRET:-}" ]; then
  token=$("$bin" dev-token -role gestor -ttl 8h) || die "dev-token failed"
fi

log "migrating"
"$bin" migrate 2>&1 | tail -n 1
log "seeding the demo course"
seed=$("$bin" seed-demo 2>&1) || die "seed-demo failed: $seed"
demo_id=$(sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p' <<<"$seed")

http_port=$(free_port "${HTTP_PORT:-8080}")
grpc_port=$(free_port "${GRPC_PORT:-9090}")
[ "$grpc_port" = "$http_port" ] && grpc_port=$(free_port $((http_port + 1)))
export HTTP_ADDR=127.0.0.1:$http_port GRPC_ADDR=127.0.0.1:$grpc_port
export ENVIRONMENT=${ENVIRONMENT:-local}
export BACKUP_DEST=${BACKUP_DEST:-$data/backups}
"$bin" serve &
pids+=($!)

for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$http_port") 2>/dev/null; then break; fi
  kill -0 "${pids[0]}" 2>/dev/null || die "contentd serve exited; see the log above"
  sleep 0.1
done

cat >&2 <<EOF

  contentd is running ($db_label)

  REST    http://$HTTP_ADDR       (OpenAPI: http://$HTTP_ADDR/openapi.json)
  gRPC    $GRPC_ADDR             (reflection and grpc.health.v1 on)
  Auth    $auth_label
  Demo course id: $demo_id

EOF
if [ -n "$token" ]; then
  cat >&2 <<EOF
  The manager's pages, signed in (the link carries a gestor token, valid 8 hours):

  http://$HTTP_ADDR/gestor/conteudo/exportar#token=$token
  http://$HTTP_ADDR/gestor/conteudo/importar    http://$HTTP_ADDR/gestor/sistema/backups

  The same token for curl and grpcurl:

  export TOKEN=$token

  curl -s -H "Authorization: Bearer \$TOKEN" http://$HTTP_ADDR/gestor/courses
  curl -sOJ -H "Authorization: Bearer \$TOKEN" http://$HTTP_ADDR/gestor/export/course/$demo_id
  curl -s -H "Authorization: Bearer \$TOKEN" --data-binary @FILE.json http://$HTTP_ADDR/gestor/import/analyze
  grpcurl -plaintext $GRPC_ADDR list
  grpcurl -plaintext -H "authorization: Bearer \$TOKEN" -d '{"courseId":"$demo_id"}' \\
    $GRPC_ADDR educacao.content.v1.ContentTransferService/ExportCourse

EOF
else
  printf '  Tokens are checked against SUPABASE_JWKS_URL: use a Supabase access token of a gestor.\n\n' >&2
fi
if [ -n "$pg_started" ]; then
  cat >&2 <<EOF
  Backups of the local database (docs/backup.md), from another terminal:

  export DATABASE_URL='$DATABASE_URL' BACKUP_DEST='$BACKUP_DEST'
  bin/contentd backup && bin/contentd backup list && bin/contentd integrity
  curl -s -H "Authorization: Bearer \$TOKEN" http://$HTTP_ADDR/gestor/backups

EOF
fi
printf '  Ctrl-C stops the server%s.\n\n' "$([ -n "$pg_started" ] && echo " and the local PostgreSQL")" >&2
wait "${pids[0]}"
