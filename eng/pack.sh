#!/usr/bin/env bash
# Packs every package under src/ (.nupkg and .snupkg) into artifacts/packages.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rm -rf artifacts/packages
for project in src/*/*.csproj; do
  dotnet pack "$project" -c Release -o artifacts/packages -nologo "$@"
done
ls -1 artifacts/packages
