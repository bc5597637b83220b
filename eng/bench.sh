#!/usr/bin/env bash
# Runs the BenchmarkDotNet benchmarks. usage: eng/bench.sh [filter] [BenchmarkDotNet arguments...]
#   eng/bench.sh '*GateRunner*'      full run; the GitHub-markdown results are copied to benchmarks/results/
#   eng/bench.sh '*' --job dry       what CI runs: every benchmark once, to keep them compiling and running
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
filter=${1:-*}
shift || true
out="$root/artifacts/bench"
rm -rf "$out"
# In-process: BenchmarkDotNet runs the benchmarks in this build instead of generating and building a project per
# job, which takes minutes on a small machine and fails when several checkouts of the repository exist side by side.
dotnet run -c Release --project benchmarks/ReleaseKit.Benchmarks -- --filter "$filter" --artifacts "$out" --inProcess "$@"
case " $* " in
  *" dry "*|*"--job dry"*) ;;
  *) mkdir -p benchmarks/results && cp "$out"/results/*-report-github.md benchmarks/results/ && echo "results copied to benchmarks/results/" ;;
esac
