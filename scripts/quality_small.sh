#!/usr/bin/env bash
# Quality check of issue 2: Zaremba's `small` configuration trained on brown-ptb by Dopant and by PyTorch 1.13
# (bench/pytorch/word_lm.py), side by side, one thread each; then each model is evaluated by the other framework.
# Resumable: rerun the script after an interruption and both runs continue from their last epoch checkpoint.
# Writes docs/results/quality-small.json and prints a Markdown table for docs/RESULTS.md. About 80 minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/runs/quality"
mkdir -p "$out"
cd "$root"
dotnet build -c Release src/Dopant.Cli -v quiet -nologo
dopant() { dotnet "$root/src/Dopant.Cli/bin/Release/net10.0/Dopant.Cli.dll" "$@"; }
data="${DOPANT_CACHE:-$HOME/.cache/dopant}/brown-ptb"
[ -f "$data/train.txt" ] || dopant data brown
python=/usr/bin/python3

resume=""; [ -f "$out/torch-small.pt" ] && resume="--resume"
$python bench/pytorch/word_lm.py --data "$data" --preset small --threads 1 --checkpoint "$out/torch-small.pt" $resume \
    > "$out/torch-small.out" 2>> "$out/torch-small.log" &
torch_pid=$!
resume=""; [ -f "$out/dopant-small.safetensors" ] && resume="--resume"
dopant train --data "$data" --preset small --threads 1 --out "$out/dopant-small.safetensors" $resume --json \
    > "$out/dopant-small.json" 2>> "$out/dopant-small.log" &
dopant_pid=$!
wait $torch_pid
wait $dopant_pid

# Cross-loading: the PyTorch model evaluated by Dopant, the Dopant model evaluated by PyTorch.
$python bench/pytorch/export_torch.py "$out/torch-small.pt" "$out/torch-small.safetensors"
dopant eval --model "$out/torch-small.safetensors" --data "$data" --bptt 20 --batch-size 10 --json > "$out/torch-in-dopant.json"
$python bench/pytorch/load_dopant.py "$out/dopant-small.safetensors" --data "$data" --bptt 20 --batch-size 10 > "$out/dopant-in-torch.out"
tail -n 1 "$out/dopant-in-torch.out" > "$out/dopant-in-torch.json"
python3 "$root/scripts/summarize_quality.py" "$out" "$root/docs/results/quality-small.json"
