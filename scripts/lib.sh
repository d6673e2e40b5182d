# Shared by scripts/run, scripts/test and scripts/bench. Sourced, not run.

# The Debian packages the gateway builds and runs with.
GATEWAY_PACKAGES=(libcurl4-openssl-dev libhiredis-dev libssl-dev redis-server redis-tools pkg-config tzdata)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs whichever of the given Debian packages are missing.
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Selenium from PyPI in a virtualenv under .build/ (Debian's chromium and chromium-driver come
# from ensure_packages), for the browser tests in Tests/browser.
BROWSER_VENV=.build/browser-venv
ensure_browser_venv() {
  [ -x "$BROWSER_VENV/bin/python" ] || python3 -m venv "$BROWSER_VENV"
  "$BROWSER_VENV/bin/python" -c 'import selenium' 2>/dev/null || "$BROWSER_VENV/bin/pip" install -q 'selenium>=4.20,<5'
}

# Host and port from a redis:// URL (defaults 127.0.0.1 and 6379).
redis_host_port() {
  local rest="${1#redis://}"
  rest="${rest#*@}"
  rest="${rest%%/*}"
  local host="${rest%%:*}" port="6379"
  [ "$rest" != "$host" ] && port="${rest##*:}"
  echo "${host:-127.0.0.1} ${port}"
}

# Starts a loopback redis-server on PORT with its files under DIR, unless one already answers.
start_redis() {
  local port="$1" dir="$2"
  if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then return 0; fi
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly no >/dev/null
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "redis-server did not start on port $port; see $dir/redis.log" >&2
  return 1
}

stop_redis() {
  local dir="$1"
  [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
}

# A loopback TCP port nothing listens on (bash's /dev/tcp connect fails there).
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$(( 20000 + RANDOM % 12000 ))  # below the ephemeral range (32768-60999), where clients bind
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free loopback port found" >&2
  return 1
}

# PostgreSQL 15's programs (Debian keeps them out of PATH).
pg_bin() { echo "/usr/lib/postgresql/15/bin"; }

# Starts a throwaway PostgreSQL cluster on loopback PORT with its files under DIR, and creates
# database `gateway` owned by role `gateway` (password `gateway`, allowed to create the
# throwaway databases the store tests use). initdb refuses to run as root, so
# as root the cluster belongs to the `postgres` user.
start_postgres() {
  local port="$1" dir="$2"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  local run=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$dir"
    chmod 700 "$dir"
    run=(su postgres -s /bin/sh -c)
  else
    run=(sh -c)
  fi
  "${run[@]}" "$(pg_bin)/initdb -D '$dir/data' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >'$dir/initdb.log' 2>&1" || {
    echo "initdb failed; see $dir/initdb.log" >&2; cat "$dir/initdb.log" >&2; return 1; }
  "${run[@]}" "$(pg_bin)/pg_ctl -D '$dir/data' -l '$dir/postgres.log' -w -t 30 -o \"-c listen_addresses=127.0.0.1 -p $port -k '$dir' -c fsync=off -c max_connections=200\" start >/dev/null" || {
    echo "postgres did not start on port $port; see $dir/postgres.log" >&2; cat "$dir/postgres.log" >&2; return 1; }
  "$(pg_bin)/psql" -h 127.0.0.1 -p "$port" -U postgres -q -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE gateway LOGIN CREATEDB PASSWORD 'gateway'" -c "CREATE DATABASE gateway OWNER gateway" >/dev/null
}

stop_postgres() {
  local dir="$1"
  [ -d "$dir/data" ] || return 0
  if [ "$(id -u)" -eq 0 ]; then
    su postgres -s /bin/sh -c "$(pg_bin)/pg_ctl -D '$dir/data' -m immediate stop" >/dev/null 2>&1 || true
  else
    "$(pg_bin)/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  fi
}
