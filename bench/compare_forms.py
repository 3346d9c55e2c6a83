#!/usr/bin/env python3
"""Streaming (batch 1) cost per token of every compressed form against the dense model, side by side in one run.

For a preset (default medium, 2x650) runs `dopant bench infer --preset P --method ... --factor F` (untrained weights,
the pruned parts cut straight to their final sparsity: the timing depends on shapes and nonzero counts, not on the
values), for each thread count, in three groups, each timed against its own dense model in the same process:
  * kp, dkp, lmf, hmd, prune, dlmf, dhmd with S holding a quarter of the budget (the default, --doping-share 0.25);
  * the doped forms with S holding 90% of the budget (--doping-share 0.9, the papers' split);
  * the dense model in fp16 and in int8 (one scale per row);
  * doped KP (S 90%) and pruning with S or the pruned matrix in 16x1, 8x1, 4x4 and 1x8 blocks (issue 7's forms).
Appends one JSON object per (model, threads) to docs/results/runtime.jsonl and prints a Markdown table.

  python3 bench/compare_forms.py [--preset medium] [--factor 25] [--threads 1 2] [--tokens 500] [--repeats 5] [--groups "blocks 16x1" ...]
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "docs", "results", "runtime.jsonl")

GROUPS = [
    ("share 0.25", ["--method", "kp", "dkp", "lmf", "hmd", "prune", "dlmf", "dhmd"]),
    ("share 0.9", ["--method", "dkp", "dlmf", "dhmd", "--doping-share", "0.9"]),
    ("fp16", ["--precision", "fp16"]),
    ("int8", ["--precision", "int8"]),
] + [(f"blocks {b}", ["--method", "dkp", "prune", "--doping-share", "0.9", "--block", b]) for b in ["16x1", "8x1", "4x4", "1x8"]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(os.environ.get("DOPANT_CACHE", os.path.expanduser("~/.cache/dopant")), "brown-ptb"))
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--factor", type=float, default=25)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--tokens", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--groups", nargs="+", help="only these groups (default: all)")
    args = ap.parse_args()
    subprocess.run(["dotnet", "build", "-c", "Release", os.path.join(ROOT, "src", "Dopant.Cli"), "-v", "quiet", "-nologo"], check=True, stdout=sys.stderr)
    cli = ["dotnet", os.path.join(ROOT, "src", "Dopant.Cli", "bin", "Release", "net10.0", "Dopant.Cli.dll")]
    command = "python3 bench/compare_forms.py " + " ".join(sys.argv[1:])
    table = []
    for threads in args.threads:
        for group, extra in GROUPS:
            if args.groups and group not in args.groups:
                continue
            cmd = cli + ["bench", "infer", "--preset", args.preset, "--factor", str(args.factor), "--data", args.data, "--json", "--score-tokens", "0",
                         "--threads", str(threads), "--tokens", str(args.tokens), "--repeats", str(args.repeats)] + extra
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            rows = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
            dense = next(r for r in rows if r["against"] is None)
            with open(RESULTS, "a") as f:
                for r in rows:
                    r.update({"suite": "forms", "group": group, "factor": args.factor, "date": datetime.date.today().isoformat(),
                              "command": command})
                    f.write(json.dumps(r) + "\n")
            for r in rows:
                if r["against"] is not None:
                    table.append((threads, group, r["model"], r["recurrent_us_per_token"], dense["recurrent_us_per_token"],
                                  r["recurrent_speedup"], r["recurrent_weight_bytes"], r["total_speedup"]))
                    print(f"{threads} thr {group}: {r['model']} {r['recurrent_us_per_token']:.1f} µs vs dense "
                          f"{dense['recurrent_us_per_token']:.1f} µs = {r['recurrent_speedup']:.2f}x", file=sys.stderr, flush=True)
    print("| threads | group | model | recurrent µs/token | dense µs/token (same run) | speed-up | weight bytes | speed-up with decoder |")
    print("|---|---|---|---|---|---|---|---|")
    for t, g, m, us, d, s, b, ts in table:
        print(f"| {t} | {g} | {m} | {us:.1f} | {d:.1f} | {s:.2f}x | {b:,} | {ts:.2f}x |")


if __name__ == "__main__":
    main()
