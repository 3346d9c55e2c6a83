#!/usr/bin/env python3
"""Issue 9's end-to-end figures: each trained medium model's test perplexity against the same-budget dense control,
beside what its shapes cost end to end (batch 1, softmax head included) and the bytes its weights hold, against dense
fp32 and ONNX Runtime running the dense model, measured side by side in one run; then a table and two Pareto charts
(perplexity change against the speed-up, and against the bytes).

  python3 scripts/end_to_end.py --measure [--threads 1 2]     # times the shapes (run it with nothing else on the machine)
  python3 scripts/end_to_end.py                                # the table and docs/results/end-to-end-pareto-*.svg

The perplexities are the lines of docs/results/structured-doping-medium.jsonl (issue 7 and 9's 12-epoch medium runs);
the timings go to docs/results/end-to-end.jsonl. Timing depends on the shapes and nonzero counts, not on the values, so
`dopant bench infer --preset medium` times untrained models of each trained run's configuration.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doping_report import svg_chart, write  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "docs", "results")
TIMINGS = os.path.join(RESULTS, "end-to-end.jsonl")
RUNS = os.path.join(RESULTS, "structured-doping-medium.jsonl")
CONTROL = "dense-e12d6-p50"
CLI = [os.path.join(ROOT, "src", "Dopant.Cli", "bin", "Release", "net10.0", "Dopant.Cli")]
COMMON = ["--preset", "medium", "--onnx", "--tokens", "500", "--repeats", "5", "--score-tokens", "0", "--json"]

# Each trained run and the `bench infer` arguments that time its configuration, with the precision its perplexity was
# measured at (the whole model's at int8: its exported file scores the same as fp32).
MODELS = [
    ("dkp25-1x1-e12d6-p50", "LSTM layers dkp 25x, fp32 head", ["--method", "dkp", "--doping-share", "0.9", "--precision", "fp32"]),
    ("dkp25-1x1-t16x64-e12d6-p50", "LSTM layers dkp 25x, S in 16x64 tiles, fp32 head",
     ["--method", "dkp", "--doping-share", "0.9", "--block", "1x1@16x64", "--precision", "fp32"]),
    ("dkp25-1x1-t16x64-e12d6-p50-whole", "whole model dkp 25x, S in 16x64 tiles, int8",
     ["--method", "dkp", "--doping-share", "0.9", "--block", "1x1@16x64", "--matrices", ".*", "--precision", "int8"]),
    ("dkp25-1x1-t16x64-e12d6-p50-whole-mf-encoder-20-tied", "whole model tied, LSTM dkp 25x, shared matrix 20x, int8",
     ["--method", "dkp", "--doping-share", "0.9", "--block", "1x1@16x64", "--matrices", ".*", "--tied",
      "--matrix-factor", "encoder\\.weight=20", "--precision", "int8"]),
]


def lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def measure(threads):
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    subprocess.run(["dotnet", "build", os.path.join(ROOT, "src", "Dopant.Cli"), "-c", "Release", "-v", "q", "-nologo"], check=True)
    found = []
    for t in threads:
        for run, label, args in MODELS:
            cmd = CLI + ["bench", "infer"] + COMMON + args + ["--threads", str(t)]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(f"bench infer failed: {' '.join(cmd)}\n{p.stderr.strip()[-2000:]}")
            for line in (json.loads(x) for x in p.stdout.splitlines() if x.startswith("{")):
                line.pop("recurrent_samples", None), line.pop("total_samples", None)
                if line.get("runtime") != "onnxruntime" and line["model"] != "medium dense":
                    line["for_run"], line["label"] = run, label
                line.update({"suite": "pareto", "group": f"{run} {t}", "date": datetime.date.today().isoformat(), "commit": commit,
                             "command": "dopant bench infer " + " ".join(COMMON + args + ["--threads", str(t)])})
                found.append(line)
                print(f"{t} thread(s) {line['model']}: {line['total_us_per_token']:.1f} µs/token with the head", flush=True)
    kept = [x for x in lines(TIMINGS) if x.get("suite") != "pareto"] if os.path.exists(TIMINGS) else []
    write(TIMINGS, "".join(json.dumps(x) + "\n" for x in kept + found))


def report():
    runs = {r["name"]: r for r in lines(RUNS)}
    timings = [x for x in lines(TIMINGS) if x.get("suite") == "pareto"]
    if not timings:
        sys.exit(f"no timings in {os.path.relpath(TIMINGS, ROOT)}: run with --measure first")
    control = runs[CONTROL]["test_ppl"]
    print("| model | test ppl | vs control | weight bytes | threads | µs/token with head | vs dense fp32 | vs ONNX Runtime dense |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    points = {}
    for t in sorted({x["threads"] for x in timings}):
        first = True
        for group in dict.fromkeys(x["group"] for x in timings if x["threads"] == t):
            # Each model against the dense model and ONNX Runtime timed in the same run.
            here = [x for x in timings if x["group"] == group]
            dense = next(x for x in here if x["model"] == "medium dense")
            onnx = next(x for x in here if x.get("runtime") == "onnxruntime")
            # A configuration whose run has not finished is timed but has no perplexity to show yet.
            rows = ([("dense control, fp32", control, dense)] if first else []) + [
                (x["label"], runs[x["for_run"]]["test_ppl"], x) for x in here if x.get("for_run") in runs and "test_ppl" in runs[x["for_run"]]]
            first = False
            for label, ppl, x in rows:
                change = 100 * (ppl / control - 1)
                vs_dense, vs_onnx = dense["total_us_per_token"] / x["total_us_per_token"], onnx["total_us_per_token"] / x["total_us_per_token"]
                points.setdefault(t, []).append((label, change, vs_onnx, dense["weight_bytes"] / x["weight_bytes"]))
                print(f"| {label} | {ppl:.2f} | {change:+.1f}% | {x['weight_bytes'] / 1e6:.2f} MB | {t} | {x['total_us_per_token']:,.0f} | "
                      f"{vs_dense:.1f}x | {vs_onnx:.1f}x |")
    colors = ["#000000", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]
    one = points[min(points)]
    for name, axis, index in (("speed", f"end-to-end speed-up against ONNX Runtime, dense fp32 ({min(points)} thread)", 2),
                              ("bytes", "fewer weight bytes than dense fp32 (x)", 3)):
        series = [(label, colors[k % len(colors)], [(round(p[index], 1), p[1])], False) for k, (label, *_) in enumerate(one) for p in [one[k]]]
        svg = svg_chart("Medium (2x650) on brown-ptb: perplexity against " + ("speed" if name == "speed" else "size"), axis,
                        "test perplexity change vs control (%)", series, logx=True, width=760, legend=330)
        path = os.path.join(RESULTS, f"end-to-end-pareto-{name}.svg")
        write(path, svg)
        print(f"wrote {os.path.relpath(path, ROOT)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--measure", action="store_true", help="time every model's configuration (then report)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    if args.measure:
        measure(args.threads)
    report()


if __name__ == "__main__":
    main()
