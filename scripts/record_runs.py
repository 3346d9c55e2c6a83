#!/usr/bin/env python3
"""Appends finished `dopant compress --json` runs to a results file, one JSON object each with its name, the command
that ran it and the commit, replacing an earlier line of the same name.

  python3 scripts/record_runs.py docs/results/low-rank-scaling.jsonl RUN.json [RUN.json ...]

Each RUN.json is the run's standard output (its last line is the JSON object); RUN.log beside it is its standard error,
whose first line is not needed. The command is read from RUN.cmd (one line) beside it.
"""
import datetime
import json
import os
import subprocess
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, runs = sys.argv[1], sys.argv[2:]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    kept = []
    if os.path.exists(out):
        with open(out) as f:
            kept = [json.loads(line) for line in f if line.strip()]
    for path in runs:
        stem = os.path.splitext(path)[0]
        with open(path) as f:
            lines = [line for line in f if line.startswith("{")]
        if not lines:
            sys.exit(f"{path}: no JSON line (the run has not finished)")
        result = json.loads(lines[-1])
        with open(stem + ".cmd") as f:
            command = f.read().strip()
        row = {"name": os.path.basename(stem), "valid_ppl": result.get("valid_ppl"), "test_ppl": result.get("test_ppl"),
               "lstm_parameter_factor": result.get("lstm_parameter_factor"), "train_seconds": result.get("train_seconds"),
               "epochs": [{k: e.get(k) for k in ("epoch", "valid_perplexity", "train_perplexity")} for e in result.get("epochs") or []],
               "command": command, "commit": commit, "date": datetime.date.today().isoformat()}
        kept = [r for r in kept if r["name"] != row["name"]] + [row]
    with open(out + ".tmp", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in kept)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
