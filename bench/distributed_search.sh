#!/usr/bin/env bash
# Wall-clock of a level search of at most 8 trials queued in a private PostgreSQL server (issue 11): 2 workers of 1
# thread each against 1 worker of 2 threads, alternating, ROUNDS rounds. Each trial is a `compress --scheme` run (a
# pruning scheme, 2 L-C iterations of 300 windows, no fine-tuning) of a 1x128 LSTM trained here for 6 epochs on the
# first 60,000 tokens of brown-ptb; the search stops when it has converged, so a round may run fewer than 8 trials. Prints one JSON line
# per configuration and round (append them to docs/results/distributed-search.jsonl).
#
#   bash bench/distributed_search.sh [ROUNDS]      # needs a Release build of src/Dopant.Cli
set -euo pipefail
rounds=${1:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
cli=(dotnet "$root/src/Dopant.Cli/bin/Release/net10.0/Dopant.Cli.dll")
work=$(mktemp -d /tmp/dopant-distributed-search.XXXXXX)
chmod 755 "$work"
cleanup() { bash "$root/scripts/postgres_server.sh" stop "$work/cluster" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

url=$(bash "$root/scripts/postgres_server.sh" start "$work/cluster")
export PGPASSWORD=dopant
source=${DOPANT_CACHE:-$HOME/.cache/dopant}/brown-ptb
mkdir -p "$work/data"
head -c 330000 "$source/train.txt" | head -n -1 > "$work/data/train.txt"
head -c 40000 "$source/valid.txt" | head -n -1 > "$work/data/valid.txt"
head -c 40000 "$source/test.txt" | head -n -1 > "$work/data/test.txt"
"${cli[@]}" train --data "$work/data" --out "$work/dense.safetensors" --layers 1 --hidden 128 --epochs 6 --threads 2 >/dev/null 2>&1
echo '{ "rules": [ { "select": { "kinds": ["lstm"] }, "operators": [ { "op": "prune", "factor": "$level" } ] } ] }' > "$work/prune.json"

study=0
for round in $(seq 1 "$rounds"); do
  for config in "2x1" "1x2"; do
    study=$((study + 1))
    name="s$study-$config"
    "${cli[@]}" search --data "$work/data" --model "$work/dense.safetensors" --scheme "$work/prune.json" --levels 2:200 \
      --max-ppl-increase 1 --budget 8 --lc-iterations 2 --l-step-windows 300 --fine-tune-epochs 0 \
      --storage "$url" --study "$name" >/dev/null 2>&1
    workers=${config%x*} threads=${config#*x}
    start=$(date +%s.%N)
    pids=()
    for w in $(seq 1 "$workers"); do
      "${cli[@]}" worker --storage "$url" --study "$name" --data "$work/data" --threads "$threads" >"$work/$name.$w.log" 2>&1 &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    end=$(date +%s.%N)
    trials=$("${cli[@]}" search --storage "$url" --study "$name" --fetch-best "$work/$name.best.safetensors" 2>&1 | sed -n 's/.* of \([0-9]*\) finished trials.*/\1/p')
    printf '{"bench": "distributed_search", "date": "%s", "commit": "%s", "round": %d, "workers": %d, "threads_per_worker": %d, "trials": "%s", "seconds": %.1f, "command": "bash bench/distributed_search.sh %s"}\n' \
      "$(date +%F)" "$(git -C "$root" rev-parse --short HEAD)" "$round" "$workers" "$threads" "$trials" "$(awk -v a="$start" -v b="$end" "BEGIN { print b - a }")" "$rounds"
  done
done
