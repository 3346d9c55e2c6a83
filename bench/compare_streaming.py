#!/usr/bin/env python3
"""Streaming (batch 1) inference cost per token as the hidden size grows, Dopant against PyTorch 1.13, side by side.

For each preset (small 2x200, medium 2x650, large 2x1500; untrained dense weights, since dense timing does not depend
on them) runs `dopant bench infer --preset P` and `bench/pytorch/stream_lm.py --preset P` alternately (--rounds
times), appends one JSON object per preset to docs/results/runtime.jsonl, prints a Markdown table and writes the SVG
chart docs/results/runtime-hidden-size.svg (µs per token of the recurrent part against the hidden size, log scale).

  python3 bench/compare_streaming.py [--presets small medium large] [--threads 2] [--tokens 1000] [--repeats 5] [--rounds 2]
"""
import argparse
import datetime
import json
import math
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from doping_report import svg_chart  # noqa: E402

HIDDEN = {"small": 200, "medium": 650, "large": 1500}


def last_json(cmd, cwd=None):
    out = subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout
    return json.loads([l for l in out.splitlines() if l.startswith("{")][-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(os.environ.get("DOPANT_CACHE", os.path.expanduser("~/.cache/dopant")), "brown-ptb"))
    ap.add_argument("--presets", nargs="+", default=["small", "medium", "large"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    subprocess.run(["dotnet", "build", "-c", "Release", os.path.join(ROOT, "src", "Dopant.Cli"), "-v", "quiet", "-nologo"], check=True)
    cli = ["dotnet", os.path.join(ROOT, "src", "Dopant.Cli", "bin", "Release", "net10.0", "Dopant.Cli.dll")]
    common = ["--threads", str(args.threads), "--tokens", str(args.tokens), "--repeats", str(args.repeats)]
    rows = []
    for preset in args.presets:
        ours, theirs, ours_total, theirs_total, weight_bytes = [], [], [], [], None
        for r in range(args.rounds):
            d = last_json(cli + ["bench", "infer", "--preset", preset, "--data", args.data, "--json"] + common)
            t = last_json(["/usr/bin/python3", "stream_lm.py", "--data", args.data, "--preset", preset] + common,
                          cwd=os.path.join(ROOT, "bench", "pytorch"))
            ours.append(d["recurrent_us_per_token"]); ours_total.append(d["total_us_per_token"])
            theirs.append(t["recurrent_us_per_token"]); theirs_total.append(t["total_us_per_token"])
            weight_bytes = d["recurrent_weight_bytes"]
            print(f"{preset} round {r + 1}: dopant {d['recurrent_us_per_token']:.1f} µs, pytorch {t['recurrent_us_per_token']:.1f} µs", file=sys.stderr, flush=True)
        row = {"model": f"{preset} 2x{HIDDEN[preset]} dense (untrained weights)", "form": "dense", "factor": 1, "mode": "streaming",
               "hidden": HIDDEN[preset], "threads": args.threads, "recurrent_us_per_token": statistics.median(ours),
               "total_us_per_token": statistics.median(ours_total), "recurrent_weight_bytes": weight_bytes,
               "peer": f"pytorch (Debian python3-torch), {args.threads} threads", "peer_recurrent_us_per_token": statistics.median(theirs),
               "peer_total_us_per_token": statistics.median(theirs_total), "dopant_samples": ours, "peer_samples": theirs,
               "date": datetime.date.today().isoformat(), "command": "python3 bench/compare_streaming.py " + " ".join(sys.argv[1:])}
        row["speedup_vs_peer"] = row["peer_recurrent_us_per_token"] / row["recurrent_us_per_token"]
        rows.append(row)
        with open(os.path.join(ROOT, "docs", "results", "runtime.jsonl"), "a") as f:
            f.write(json.dumps(row) + "\n")
    print("| hidden | LSTM weight bytes | Dopant recurrent µs/token | PyTorch recurrent µs/token | speed-up | Dopant with decoder | PyTorch with decoder |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['hidden']} | {r['recurrent_weight_bytes']:,} | {r['recurrent_us_per_token']:,.1f} | {r['peer_recurrent_us_per_token']:,.1f} | "
              f"{r['speedup_vs_peer']:.2f}x | {r['total_us_per_token']:,.1f} | {r['peer_total_us_per_token']:,.1f} |")
    svg = svg_chart(f"Streaming LSTM step (batch 1, {args.threads} threads): µs per token", "hidden size",
                    "log10 µs per token (recurrent part)",
                    [("Dopant", "#d62728", [(r["hidden"], math.log10(r["recurrent_us_per_token"])) for r in rows], False),
                     ("PyTorch 1.13", "#1f77b4", [(r["hidden"], math.log10(r["peer_recurrent_us_per_token"])) for r in rows], False)],
                    logx=True)
    if svg:
        path = os.path.join(ROOT, "docs", "results", "runtime-hidden-size.svg")
        with open(path + ".tmp", "w") as f:
            f.write(svg)
        os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
