#!/usr/bin/env python3
"""Training throughput of Dopant against PyTorch 1.13 (Debian's python3-torch), side by side in one run.

For each preset, runs `dopant bench train` and `bench/pytorch/word_lm.py --bench-batches` alternately
(`--rounds` times each, so that machine noise hits both alike), and reports the median tokens/s of each and
their ratio. Appends one JSON object per preset to docs/results/training-throughput.jsonl and prints a
Markdown table for docs/BENCHMARKS.md.

  python3 bench/compare_training.py [--data DIR] [--threads 2] [--presets small medium] [--windows 30] [--rounds 3]
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_PYTHON = "/usr/bin/python3"


def last_json_line(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("no JSON line in output:\n" + text[-2000:])


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.expanduser("~/.cache/dopant/brown-ptb"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--presets", nargs="+", default=["small", "medium"])
    ap.add_argument("--windows", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "results", "training-throughput.jsonl"))
    args = ap.parse_args()

    run(["dotnet", "build", "-c", "Release", os.path.join(ROOT, "src", "Dopant.Cli"), "-v", "quiet", "-nologo"])
    dopant = ["dotnet", os.path.join(ROOT, "src", "Dopant.Cli", "bin", "Release", "net10.0", "Dopant.Cli.dll")]
    torch_script = os.path.join(ROOT, "bench", "pytorch", "word_lm.py")
    rows = []
    for preset in args.presets:
        ours, theirs = [], []
        for r in range(args.rounds):
            out = run(dopant + ["bench", "train", "--data", args.data, "--preset", preset, "--windows", str(args.windows),
                                "--repeats", "1", "--threads", str(args.threads), "--json"])
            ours.append(last_json_line(out)["tokens_per_s"])
            out = run([TORCH_PYTHON, torch_script, "--data", args.data, "--preset", preset,
                       "--bench-batches", str(args.windows), "--threads", str(args.threads)])
            t = last_json_line(out)
            theirs.append(t["tokens_per_s"])
            print(f"{preset} round {r + 1}: dopant {ours[-1]:,.0f} tok/s, pytorch {theirs[-1]:,.0f} tok/s", file=sys.stderr)
        row = {
            "bench": "train_throughput", "preset": preset, "threads": args.threads, "windows": args.windows,
            "rounds": args.rounds, "dopant_tokens_per_s": statistics.median(ours),
            "pytorch_tokens_per_s": statistics.median(theirs), "dopant_samples": ours, "pytorch_samples": theirs,
            "pytorch_version": t.get("torch_version"), "date": datetime.date.today().isoformat(),
            "command": "python3 bench/compare_training.py " + " ".join(sys.argv[1:]),
        }
        row["speedup"] = row["dopant_tokens_per_s"] / row["pytorch_tokens_per_s"]
        rows.append(row)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "a") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print("| preset | threads | Dopant tokens/s | PyTorch 1.13 tokens/s | speed-up |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['preset']} | {row['threads']} | {row['dopant_tokens_per_s']:,.0f} | {row['pytorch_tokens_per_s']:,.0f} | {row['speedup']:.2f}x |")


if __name__ == "__main__":
    main()
