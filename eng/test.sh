#!/usr/bin/env bash
# The README's test command: builds the solution in Release and runs every test project against real
# databases (SQLite files in temp folders, and a throwaway PostgreSQL server this script starts unless
# RELEASEKIT_POSTGRES already names one). Ends with one line: "N passed, N failed, N skipped".
# usage: eng/test.sh [extra arguments for the test run, e.g. --filter-class 'ReleaseKit.Gates.Tests.*']
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
results="$root/artifacts/test-results"
rm -rf "$results" && mkdir -p "$results"

pg_dir=""
pg_bin=""
as_postgres() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
stop_postgres() {
  if [ -n "$pg_dir" ] && [ -d "$pg_dir/data" ]; then
    as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
}
trap stop_postgres EXIT INT TERM

find_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

if [ -z "${RELEASEKIT_POSTGRES:-}" ]; then
  pg_bin=$(find_pg_bin)
  if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "eng/test.sh: installing the Debian package postgresql"
      export DEBIAN_FRONTEND=noninteractive
      apt-get install -y -q postgresql >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1; apt-get install -y -q postgresql >/dev/null; }
      pg_bin=$(find_pg_bin)
    fi
  fi
  if [ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ]; then
    pg_dir=$(mktemp -d /tmp/releasekit-pg.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres "$pg_dir"
    port=""
    for _ in $(seq 1 50); do
      candidate=$(( 20000 + RANDOM % 30000 ))
      if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
    done
    [ -n "$port" ] || { echo "eng/test.sh: no free port found for PostgreSQL" >&2; exit 1; }
    as_postgres "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres -E UTF8 --no-sync >"$pg_dir/initdb.log" 2>&1 \
      || { cat "$pg_dir/initdb.log" >&2; echo "eng/test.sh: initdb failed" >&2; exit 1; }
    as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
      -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null \
      || { cat "$pg_dir/server.log" >&2; echo "eng/test.sh: PostgreSQL did not start" >&2; exit 1; }
    export RELEASEKIT_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Timeout=30;Command Timeout=120"
    echo "eng/test.sh: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
  else
    echo "eng/test.sh: PostgreSQL is not installed and cannot be installed here; PostgreSQL tests will be skipped" >&2
  fi
else
  echo "eng/test.sh: using the PostgreSQL server in RELEASEKIT_POSTGRES"
fi

# The HTML report test renders the page in headless Chromium (Debian package chromium); without it that test is skipped.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "eng/test.sh: installing the Debian package chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1; apt-get install -y -q chromium >/dev/null; } \
      || echo "eng/test.sh: chromium could not be installed; the HTML report browser test will be skipped" >&2
  else
    echo "eng/test.sh: /usr/bin/chromium is missing; the HTML report browser test will be skipped" >&2
  fi
fi

if ! dotnet build ReleaseKit.sln -c Release -nologo -clp:ErrorsOnly; then
  echo "eng/test.sh: the build failed" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

dotnet test --solution ReleaseKit.sln -c Release --no-build --report-trx --results-directory "$results" "$@"
status=$?

# One plain summary line from the TRX reports of every test project.
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  p=$(grep -o '<UnitTestResult [^>]*outcome="Passed"' "$trx" | wc -l)
  f=$(grep -oE '<UnitTestResult [^>]*outcome="(Failed|Error|Timeout|Aborted)"' "$trx" | wc -l)
  s=$(grep -o '<UnitTestResult [^>]*outcome="NotExecuted"' "$trx" | wc -l)
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
