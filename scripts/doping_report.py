#!/usr/bin/env python3
"""Turns docs/results/doping.jsonl (written by scripts/doping_experiment.py) into a Markdown table and two SVG charts.

  python3 scripts/doping_report.py [--results docs/results/doping.jsonl] [--out docs/results]

Charts (hand-written SVG, no plotting package): doping-ppl-vs-factor.svg (test perplexity against the compression
factor of the LSTM layers, one line per method, the dense baseline dashed) and doping-cma.svg (validation perplexity
per epoch of doped KP with and without co-matrix dropout, with S on and switched off: the co-matrix adaptation gap).
"""
import argparse
import json
import math
import os
import re

COLORS = {"dkp": "#d62728", "dkp-nocmr": "#ff9896", "dkp-s90": "#ff7f0e", "dkp-s90-nocmr": "#ffbb78", "kp": "#1f77b4", "lmf": "#2ca02c", "dlmf": "#98df8a",
          "hmd": "#9467bd", "dhmd": "#c5b0d5", "prune": "#7f7f7f"}


def series_key(row):
    """The run's name without its factor: dkp25-s90-nocmr is series dkp-s90-nocmr."""
    return re.sub(r"\d+", "", row["name"], count=1)


def round_ticks(lo, hi):
    """About five ticks at round values (1, 2 or 5 times a power of ten apart) between lo and hi."""
    raw = (hi - lo) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    v = math.ceil(lo / step) * step
    ticks = []
    while v <= hi + 1e-9 * step:
        ticks.append(round(v / step) * step + 0.0)
        v += step
    return ticks


def log_ticks(lo, hi):
    """1, 2 and 5 times the powers of ten between lo and hi, or round linear ticks where fewer than three fall there."""
    ticks = [m * 10 ** e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1) for m in (1, 2, 5)
             if lo <= m * 10 ** e <= hi]
    return ticks if len(ticks) >= 3 else round_ticks(lo, hi)


def svg_chart(title, xlabel, ylabel, series, hline=None, logx=False, width=640, height=400, legend=150, logy=False):
    """series: list of (label, color, [(x, y)], dashed); logx, logy: logarithmic axes (positive values)."""
    pts = [p for _, _, s, _ in series for p in s] + ([(None, hline)] if hline else [])
    xs = [p[0] for p in pts if p[0] is not None]
    ys = [p[1] for p in pts]
    if not xs:
        return None
    fx = (lambda v: math.log10(v)) if logx else (lambda v: v)
    x0, x1 = fx(min(xs)), fx(max(xs))
    if x0 == x1:
        x0, x1 = x0 - 1, x1 + 1
    fy = (lambda v: math.log10(v)) if logy else (lambda v: v)
    y0, y1 = fy(min(ys)), fy(max(ys))
    pad = 0.08 * (y1 - y0 or 1)
    y0, y1 = y0 - pad, y1 + pad
    L, R, T, B = 70, legend, 40, 50
    px = lambda v: L + (fx(v) - x0) / (x1 - x0) * (width - L - R)
    py = lambda v: T + (y1 - fy(v)) / (y1 - y0) * (height - T - B)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
           f'<line x1="{L}" y1="{height - B}" x2="{width - R}" y2="{height - B}" stroke="black"/>',
           f'<line x1="{L}" y1="{T}" x2="{L}" y2="{height - B}" stroke="black"/>',
           f'<text x="{(L + width - R) / 2}" y="{height - 12}" text-anchor="middle">{xlabel}</text>',
           f'<text x="16" y="{(T + height - B) / 2}" text-anchor="middle" transform="rotate(-90 16 {(T + height - B) / 2})">{ylabel}</text>']
    for v in sorted(set(xs)):
        out.append(f'<line x1="{px(v):.1f}" y1="{height - B}" x2="{px(v):.1f}" y2="{height - B + 5}" stroke="black"/>')
        out.append(f'<text x="{px(v):.1f}" y="{height - B + 18}" text-anchor="middle">{v:g}</text>')
    for v in (log_ticks(10 ** y0, 10 ** y1) if logy else round_ticks(y0, y1)):
        out.append(f'<line x1="{L - 5}" y1="{py(v):.1f}" x2="{L}" y2="{py(v):.1f}" stroke="black"/>')
        out.append(f'<text x="{L - 8}" y="{py(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    if hline:
        out.append(f'<line x1="{L}" y1="{py(hline):.1f}" x2="{width - R}" y2="{py(hline):.1f}" stroke="black" stroke-dasharray="6 4"/>')
        out.append(f'<text x="{width - R + 6}" y="{py(hline) + 4:.1f}">dense</text>')
    for k, (label, color, s, dashed) in enumerate(series):
        s = sorted(s)
        path = " ".join(f"{'M' if i == 0 else 'L'}{px(x):.1f},{py(y):.1f}" for i, (x, y) in enumerate(s))
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        out.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        for x, y in s:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"/>')
        ly = T + 14 + 16 * k
        out.append(f'<line x1="{width - R + 8}" y1="{ly - 4}" x2="{width - R + 28}" y2="{ly - 4}" stroke="{color}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{width - R + 32}" y="{ly}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=os.path.join("docs", "results", "doping.jsonl"))
    ap.add_argument("--out", default=os.path.join("docs", "results"))
    args = ap.parse_args()
    with open(args.results) as f:
        rows = [json.loads(l) for l in f if l.strip()]
    dense = next((r for r in rows if r["method"] == "dense"), None)
    compressed = [r for r in rows if r["method"] != "dense"]

    print("| method | target factor | LSTM parameters | LSTM factor (params) | LSTM factor (bytes) | valid ppl | test ppl | change vs dense |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    if dense:
        print(f"| dense | 1 | {dense.get('lstm_parameters') or '-'} | 1.0 | 1.0 | {dense['valid_ppl']:.2f} | {dense['test_ppl']:.2f} | - |")
    for r in sorted(compressed, key=lambda r: (r["factor"], r["test_ppl"])):
        change = f"{100 * r['test_ppl_change']:+.1f}%" if r.get("dense_test_ppl") else "-"
        print(f"| {series_key(r)} | {r['factor']} | {r['lstm_parameters']:,} | {r['lstm_parameter_factor']:.1f} | "
              f"{r['lstm_byte_factor']:.1f} | {r['valid_ppl']:.2f} | {r['test_ppl']:.2f} | {change} |")

    groups = {}
    for r in compressed:
        groups.setdefault(series_key(r), []).append((r["factor"], r["test_ppl"]))
    chart = svg_chart("Test perplexity against LSTM compression (brown-ptb)", "compression factor of the LSTM layers",
                      "test perplexity", [(k, COLORS.get(k, "black"), v, k.endswith("nocmr")) for k, v in sorted(groups.items())],
                      hline=dense["test_ppl"] if dense else None, logx=True)
    if chart:
        write(os.path.join(args.out, "doping-ppl-vs-factor.svg"), chart)

    cma = []
    for r in compressed:
        if r["method"] != "dkp":
            continue
        label = f"{series_key(r)} {r['factor']}x" + (f" CMR {r['cmr']}" if r.get("cmr") else " no CMR")
        palette = ["#d62728", "#1f77b4", "#ff7f0e", "#17becf", "#2ca02c", "#9467bd"]
        color = palette[len(cma) // 2 % len(palette)]
        on = [(e["epoch"], e["valid_perplexity"]) for e in r["epochs"]]
        off = [(e["epoch"], e["valid_perplexity_without_sparse"]) for e in r["epochs"] if e.get("valid_perplexity_without_sparse")]
        cma += [(label + ", S on", color, on, False), (label + ", S off", color, off, True)]
    chart = svg_chart("Co-matrix adaptation: validation perplexity with S on and off", "epoch", "validation perplexity (log scale)", cma,
                      width=800, legend=210, logy=True)
    if chart:
        write(os.path.join(args.out, "doping-cma.svg"), chart)


if __name__ == "__main__":
    main()
