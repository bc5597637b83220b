#!/usr/bin/env bash
# Proves the `dotnet new releasekit-service` template works the way a user meets it: packs every package under src/ into
# artifacts/packages (eng/pack.sh), installs the template package into a private template hive, creates a service from it
# in a temporary folder outside the repository, adds artifacts/packages as a package source there (a folder, next to the
# machine's configured source), builds it, applies its Expand migration, and expects `releasekit check` to exit 0 with
# the template's release.json and 2 with a broken manifest. Exits non-zero with a message naming the failed step.
# usage: eng/template-test.sh            (KEEP=1 keeps the temporary folder; RK_ARTIFACTS=<dir> builds out of tree)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
started=$SECONDS

fail() { echo "eng/template-test.sh: $*" >&2; exit 1; }
say() { echo "eng/template-test.sh: [$((SECONDS - started))s] $*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/releasekit-template.XXXXXX")
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "eng/template-test.sh: kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
trap "exit 130" INT TERM
case "$work/" in "$root"/*) fail "the temporary folder $work is inside the repository; set TMPDIR to a folder outside $root" ;; esac
dir=$work
while [ "$dir" != / ]; do
  dir=$(dirname "$dir")
  for props in Directory.Build.props Directory.Build.targets Directory.Packages.props; do
    [ -e "$dir/$props" ] && fail "$dir/$props would be imported by the generated project; set TMPDIR to a folder without one above it"
  done
done

say "packing src/ into artifacts/packages"
bash eng/pack.sh ${RK_ARTIFACTS:+--artifacts-path "$RK_ARTIFACTS"} >"$work/pack.log" 2>&1 \
  || { cat "$work/pack.log" >&2; fail "eng/pack.sh failed (output above)"; }
template=$(ls artifacts/packages/ReleaseKit.Templates.*.nupkg 2>/dev/null | head -n 1)
[ -n "$template" ] || fail "eng/pack.sh produced no ReleaseKit.Templates package in artifacts/packages"

say "installing $(basename "$template") into a private template hive"
hive="$work/hive"
dotnet new install "$template" --debug:custom-hive "$hive" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; fail "dotnet new install $template failed"; }

app="$work/Acme.Billing"
dotnet new releasekit-service -n Acme.Billing -o "$app" --debug:custom-hive "$hive" >"$work/new.log" 2>&1 \
  || { cat "$work/new.log" >&2; fail "dotnet new releasekit-service failed"; }
[ -f "$app/Acme.Billing.csproj" ] || fail "the template did not rename its project to Acme.Billing.csproj (sourceName): $(ls "$app")"

# Adds the freshly packed packages as one more source: a folder path, no <clear/>, the machine's source stays.
cat > "$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="releasekit-local" value="$root/artifacts/packages" />
  </packageSources>
</configuration>
XML
# A private packages folder: the same version packed again must not be served from the global cache.
export NUGET_PACKAGES="$work/packages"

say "building the generated service"
dotnet build "$app" -nologo -clp:ErrorsOnly >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; fail "the generated service does not build"; }

expect() {
  local expected=$1 step=$2; shift 2
  set +e
  (cd "$app" && dotnet run --no-build -- "$@") >"$work/run.log" 2>&1
  local actual=$?
  set -e
  if [ "$actual" -ne "$expected" ]; then
    cat "$work/run.log" >&2
    fail "$step: 'dotnet run -- $*' exited $actual, expected $expected (output above)"
  fi
  say "$step: exit $actual as expected"
}

expect 0 "migrations" releasekit migrations apply --phase expand
expect 0 "check with the template's release.json" releasekit check
# The same release with one approver: the approvals gate (SchemaMigration needs two) blocks it.
sed 's/"approvers": \["ana", "ben"\]/"approvers": ["ana"]/' "$app/release.json" > "$app/release.one-approver.json"
grep -q '"approvers": \["ana"\]' "$app/release.one-approver.json" || fail "could not derive a one-approver manifest from the template's release.json"
expect 1 "check with one approver for a schema migration" releasekit check --manifest release.one-approver.json
printf '{ "schemaVersion": 1, "releaseId": ' > "$app/release.broken.json"
expect 2 "check with a broken manifest" releasekit check --manifest release.broken.json

say "the releasekit-service template works"
