#!/usr/bin/env python3
"""Turns docs/results/applications.jsonl (scripts/applications_experiment.py) into RESULTS.md's tables, one per
application, and an SVG chart per application: the metric's change against the same-budget dense control by
compression factor of the recurrent matrices, one line per method.

  python3 scripts/applications_report.py [--results docs/results/applications.jsonl] [--charts docs/results]

Prints the tables (Markdown) on standard output; writes docs/results/applications-APP.svg.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from applications_experiment import change  # noqa: E402
from doping_report import svg_chart, write  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TITLES = {"tag": "Tagging (brown-pos, 2x128 bidirectional LSTM)", "tag-uni": "Tagging, unidirectional (brown-pos, 2x128 LSTM)",
          "classify": "Genre classification (brown-genre, 2x128 LSTM)", "charlm": "Character LM (brown-chars, 2x256 LSTM)",
          "lm": "Word LM (brown-ptb, medium 2x650 LSTM)"}
COLORS = {"dkp": "#d62728", "kp": "#ff9896", "dlmf": "#1f77b4", "lmf": "#aec7e8", "dhmd": "#2ca02c", "hmd": "#98df8a", "prune": "#7f7f7f"}
ORDER = ["dense", "dkp", "kp", "dlmf", "lmf", "dhmd", "hmd", "prune"]


def metric_columns(app):
    if app in ("tag", "tag-uni"):
        return [("test acc", "test_accuracy", 100, "{:.2f}"), ("unknown-word acc", "test_unknown_word_accuracy", 100, "{:.2f}"),
                ("macro-F1", "test_macro_f1", 1, "{:.4f}")], "accuracy points lost"
    if app == "classify":
        return [("test acc", "test_accuracy", 100, "{:.2f}"), ("macro-F1", "test_macro_f1", 1, "{:.4f}")], "accuracy points lost"
    if app == "charlm":
        return [("test bpc", "test_bpc", 1, "{:.4f}")], "bits per character, % change"
    return [("test ppl", "test_ppl", 1, "{:.2f}")], "perplexity, % change"


def table(app, rows):
    columns, change_label = metric_columns(app)
    head = ["run", *[c[0] for c in columns], f"vs control ({change_label})", "recurrent params", "whole model params", "µs/token, 1 thread", "speed-up end to end"]
    out = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    key = lambda r: (ORDER.index(r["method"]) if r["method"] in ORDER else 99, -r["factor"], r["name"])
    for r in sorted(rows, key=key):
        if "failed" in r:
            out.append("| " + " | ".join([r["name"], f"failed: {r['failed'].removeprefix('dopant: error: ')}"] + [""] * (len(head) - 2)) + " |")
            continue
        cells = [r["name"]] + [fmt.format(r[k] * scale) if k in r else "" for _, k, scale, fmt in columns]
        cells.append(f"{r['change_vs_control']:+.2f}" if "change_vs_control" in r else ("0 (reference)" if r["name"] == "control" else ""))
        cells.append(f"{r['recurrent_parameter_factor']:.1f}x")
        cells.append(f"{r['model_parameter_factor']:.2f}x" if r.get("model_parameter_factor") else "")
        cells.append(f"{r['us_per_token']:.1f} (dense {r['dense_us_per_token']:.1f})" if "us_per_token" in r else "")
        cells.append(f"{r['speedup']:.1f}x" if "speedup" in r else "")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def chart(app, rows):
    _, change_label = metric_columns(app)
    series = []
    for method in ORDER[1:]:
        points = [(r["recurrent_parameter_factor"], r["change_vs_control"]) for r in rows if "failed" not in r and
                  r["method"] == method and "change_vs_control" in r and not r["name"].endswith("-tiles")]
        if points:
            series.append((method, COLORS[method], points, not method.startswith("d") and method != "prune"))
    tiles = [(r["recurrent_parameter_factor"], r["change_vs_control"]) for r in rows if r["name"].endswith("-tiles") and "change_vs_control" in r]
    if tiles:
        series.append(("dkp, S in tiles", "#9467bd", tiles, False))
    return svg_chart(f"{TITLES.get(app, app)}: change against the dense control", "recurrent-matrix compression (x, parameters)",
                     change_label, series, hline=None, logx=True, legend=170)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=os.path.join(ROOT, "docs", "results", "applications.jsonl"))
    ap.add_argument("--charts", default=os.path.join(ROOT, "docs", "results"))
    args = ap.parse_args()
    with open(args.results) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    for app in [a for a in TITLES if any(r["app"] == a for r in rows)]:
        mine = [r for r in rows if r["app"] == app]
        control = next((r for r in mine if r["name"] == "control"), None)
        for r in mine:
            if control is not None and r["method"] != "dense" and "failed" not in r and "change_vs_control" not in r:
                r["change_vs_control"] = change(app, r, control)
        print(f"### {TITLES[app]}\n")
        print(table(app, mine) + "\n")
        svg = chart(app, mine)
        if svg:
            path = os.path.join(args.charts, f"applications-{app}.svg")
            write(path, svg)
            print(f"![{TITLES[app]}](results/{os.path.basename(path)})\n")


if __name__ == "__main__":
    main()
