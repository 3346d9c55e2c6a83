#!/usr/bin/env python3
"""Training throughput of Dopant against PyTorch 1.13 (Debian's python3-torch), side by side in one run.

For each preset, runs `dopant bench train` and `bench/pytorch/word_lm.py --bench-batches` alternately
(`--rounds` times each, so that machine noise hits both alike), and reports the median tokens/s of each and
their ratio. PyTorch is timed with the same thread count as Dopant and, with `--torch-also-threads 1`, also
single-threaded: Debian's build runs slower on 2 threads than on 1 (its OpenMP pool and OpenBLAS pools
contend), so its best configuration is reported next to the like-for-like one. Appends one JSON object per preset to docs/results/training-throughput.jsonl and prints a
Markdown table for docs/BENCHMARKS.md.

  python3 bench/compare_training.py [--data DIR] [--threads 2] [--torch-also-threads 1] [--presets small medium]
                                   [--windows 30] [--rounds 3]
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
    ap.add_argument("--torch-also-threads", type=int, nargs="*", default=[1],
                    help="further PyTorch thread counts timed in the same rounds (none: pass the flag alone)")
    ap.add_argument("--presets", nargs="+", default=["small", "medium"])
    ap.add_argument("--windows", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "results", "training-throughput.jsonl"))
    args = ap.parse_args()

    run(["dotnet", "build", "-c", "Release", os.path.join(ROOT, "src", "Dopant.Cli"), "-v", "quiet", "-nologo"])
    dopant = ["dotnet", os.path.join(ROOT, "src", "Dopant.Cli", "bin", "Release", "net10.0", "Dopant.Cli.dll")]
    torch_script = os.path.join(ROOT, "bench", "pytorch", "word_lm.py")
    rows = []
    torch_threads = [args.threads] + [t for t in args.torch_also_threads if t != args.threads]
    for preset in args.presets:
        ours, theirs = [], {t: [] for t in torch_threads}
        for r in range(args.rounds):
            out = run(dopant + ["bench", "train", "--data", args.data, "--preset", preset, "--windows", str(args.windows),
                                "--repeats", "1", "--threads", str(args.threads), "--json"])
            ours.append(last_json_line(out)["tokens_per_s"])
            for t in torch_threads:
                out = run([TORCH_PYTHON, torch_script, "--data", args.data, "--preset", preset,
                           "--bench-batches", str(args.windows), "--threads", str(t)])
                torch_result = last_json_line(out)
                theirs[t].append(torch_result["tokens_per_s"])
            print(f"{preset} round {r + 1}: dopant {ours[-1]:,.0f} tok/s, pytorch "
                  + ", ".join(f"{theirs[t][-1]:,.0f} tok/s ({t} thr)" for t in torch_threads), file=sys.stderr)
        row = {
            "bench": "train_throughput", "preset": preset, "threads": args.threads, "windows": args.windows,
            "rounds": args.rounds, "dopant_tokens_per_s": statistics.median(ours),
            "pytorch_tokens_per_s": statistics.median(theirs[args.threads]), "dopant_samples": ours,
            "pytorch_samples": theirs[args.threads],
            "pytorch_by_threads": {str(t): statistics.median(v) for t, v in theirs.items()},
            "pytorch_samples_by_threads": {str(t): v for t, v in theirs.items()},
            "pytorch_version": torch_result.get("torch_version"), "date": datetime.date.today().isoformat(),
            "command": "python3 bench/compare_training.py " + " ".join(sys.argv[1:]),
        }
        row["speedup"] = row["dopant_tokens_per_s"] / row["pytorch_tokens_per_s"]
        row["speedup_vs_best_pytorch"] = row["dopant_tokens_per_s"] / max(row["pytorch_by_threads"].values())
        rows.append(row)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "a") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print("| preset | Dopant threads | Dopant tokens/s | PyTorch 1.13 tokens/s (threads) | speed-up, same threads | speed-up vs PyTorch's best |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        torch_cells = ", ".join(f"{v:,.0f} ({t})" for t, v in row["pytorch_by_threads"].items())
        print(f"| {row['preset']} | {row['threads']} | {row['dopant_tokens_per_s']:,.0f} | {torch_cells} | "
              f"{row['speedup']:.2f}x | {row['speedup_vs_best_pytorch']:.2f}x |")

if __name__ == "__main__":
    main()
