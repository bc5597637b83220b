#!/usr/bin/env bash
# Adds every public symbol the PublicApiAnalyzers report as undeclared (RS0016) to the project's
# PublicAPI.Unshipped.txt, then sorts it. Review the diff: it is the change to the public surface.
# usage: eng/update-public-api.sh src/ReleaseKit.Gates [more projects...]
set -euo pipefail
cd "$(dirname "$0")/.."
for project in "$@"; do
  file="$project/PublicAPI.Unshipped.txt"
  [ -f "$file" ] || echo '#nullable enable' > "$file"
  # RK_ARTIFACTS=/tmp/some-dir builds outside the tree (lets several builds run side by side).
  out=$(dotnet build "$project" -c Debug --no-incremental ${RK_ARTIFACTS:+--artifacts-path "$RK_ARTIFACTS"} 2>&1 || true)
  printf '%s\n' "$out" | grep -oP "(error|warning) RS0016: Symbol '\K.*(?=' is not part of the declared public API)" | sort -u > /tmp/rs0016.$$ || true
  # RS0017: declared but no longer public -> remove
  printf '%s\n' "$out" | grep -oP "(error|warning) RS0017: Symbol '\K.*(?=' is part of the declared API, but is either not public or could not be found)" | sort -u > /tmp/rs0017.$$ || true
  { grep -v '^#nullable enable' "$file" | grep -vxF -f /tmp/rs0017.$$ || true; cat /tmp/rs0016.$$; } | grep -v '^$' | LC_ALL=C sort -u > /tmp/api.$$ || true
  { echo '#nullable enable'; cat /tmp/api.$$; } > "$file"
  echo "$file: +$(wc -l < /tmp/rs0016.$$) -$(wc -l < /tmp/rs0017.$$)"
  rm -f /tmp/rs0016.$$ /tmp/rs0017.$$ /tmp/api.$$
done
