#!/usr/bin/env python3
"""Issue 7's report: doped KP with S in blocks of each shape against the other forms at the same factor, accuracy
against streaming speed.

  python3 scripts/structured_report.py [--factor 25] [--preset small|medium] [--out docs/results]

Reads docs/results/structured-doping.jsonl and docs/results/doping.jsonl (written, and timed with --measure, by
scripts/doping_experiment.py; for --preset medium, structured-doping-medium.jsonl alone), prints a Markdown table
and one of validation perplexity by epoch, and writes structured-doping-pareto-1t.svg and -2t.svg (-medium-1t.svg
...): test perplexity change against the recurrent part's speed-up over dense (batch 1, one and two threads), one
point per model, the Pareto front drawn through the points no other model beats on both axes. The SVG is written by
hand (no plotting package).

A run whose schedule has a dense control (the dense model fine-tuned with the same epochs and dropout, named
dense-eEdD-pNN[-from-RUN] as the run's own suffixes say) is measured against that control, the same training budget; other runs
against the dense model they started from. A model also measured with S's values at int8 or fp16 (--measure
--precisions) gets a row of its own for each precision.
"""
import argparse
import json
import math
import os
import re


def load(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def label(row):
    """Doped KP runs of the doping suite hold S at a quarter of the budget (the structured suite's: 90%); a run name's
    suffixes -sNN (S's share), -eEdD (schedule), -pNN (dropout while fine-tuning), -kdNN[-tRUN] (distillation weight
    [and teacher]) and -from-RUN (the dense run compressed) are spelt out."""
    if "precision" in row:
        return label({k: v for k, v in row.items() if k != "precision"}) + f", S {row['precision']}"
    name = row["name"]
    if row["method"] == "dkp" and name.startswith(f"dkp{row['factor']}") and "-" not in name:
        return name + " S 25% CMR 0.5"
    tail = ""
    start = re.search(r"-from-(.+)$", name)
    if start:
        name, tail = name[:start.start()], f" from {start.group(1)}"
    distill = re.search(r"-kd(\d+)(?:-t(.+))?$", name)
    if distill:
        teacher = f", teacher {distill.group(2)}" if distill.group(2) else ""
        name, tail = name[:distill.start()], f" distilled {int(distill.group(1)) / 100:g}{teacher}" + tail
    dropout = re.search(r"-p(\d+)$", name)
    if dropout:
        name, tail = name[:dropout.start()], f" dropout {int(dropout.group(1)) / 100:g}" + tail
    share = re.search(r"-s(\d+)$", name)
    if share:
        name = name[:share.start()] + f" S {share.group(1)}%"
    return name.replace("-nocmr", " S 25%") + tail


def block_of(row, structured):
    """The S block shape of a structured-suite run (1x1: unstructured); '-' for the other forms."""
    if not structured:
        return "-"
    return (row["options"].get("compression") or {}).get("block") or "1x1"


def against_control(row, controls):
    """The row with its perplexity change measured against the dense control of its schedule, when there is one (an
    annealing window, -w0.5-6, is the compressed run's own: the control has none)."""
    parts = re.search(r"((?:-e\d+d\d+)?)(?:-w[\d.]+-[\d.]+)?((?:-p\d+)?)(?:-kd\d+(?:-t.+?)?)?((?:-from-.+)?)$", row["name"])
    schedule = parts.group(1) + parts.group(2)
    control = controls.get("dense" + schedule + parts.group(3)) if schedule else None
    if control is None:
        return row
    return dict(row, dense_valid_ppl=control["valid_ppl"], dense_test_ppl=control["test_ppl"],
                test_ppl_change=row["test_ppl"] / control["test_ppl"] - 1, reference=control["name"])


def quantized_rows(row):
    """A row for each precision its S was also measured at (--measure --precisions): the speed at that precision, and
    the test perplexity scaled by the ratio the streaming scorer measured between that precision and fp32."""
    for precision, q in (row.get("quantized") or {}).items():
        ratio = q["streaming_test_ppl"] / q["streaming_test_ppl_fp32"]
        fp32_bytes = row["speed"]["threads_1"]["recurrent_weight_bytes"]
        test = row["test_ppl"] * ratio
        yield dict(row, precision=precision, valid_ppl=None, test_ppl=test,
                   test_ppl_change=test / row["dense_test_ppl"] - 1,
                   lstm_byte_factor=row["lstm_byte_factor"] * fp32_bytes / q["threads_1"]["recurrent_weight_bytes"],
                   speed={k: v for k, v in q.items() if not k.startswith("streaming")})


def timed(speed):
    """When and with which kernels a row's speed was measured (rows timed before bench recorded the kernel ran on AVX2
    machines)."""
    kernel = speed["threads_1"].get("sgemm_kernel")
    return f"{speed['date']}, {kernel or 'AVX2 machine'}, {speed['commit']}"


def pareto(points):
    """Points (speed-up, change) that no other point beats on both: faster and at most as much perplexity lost."""
    front = [p for p in points if not any(q[0] >= p[0] and q[1] <= p[1] and q != p for q in points)]
    return sorted(front)


def scatter(points, threads, factor, width=720, height=440, cap=16):
    """points: (speed-up, change %, label, color); changes above cap % are drawn on the top edge, their value in the label.
    A setting every label names (" dropout 0.5") is said once, in the title."""
    common = set.intersection(*(set(re.findall(r" dropout [\d.]+", p[2])) for p in points))
    common = next(iter(common)) if len(common) == 1 else ""
    points = [(x, y, name.replace(common, ""), color) for x, y, name, color in points]
    xs, ys = [p[0] for p in points], [min(p[1], cap) for p in points]
    x0, x1 = math.log2(min(xs) / 1.15), math.log2(max(xs) * 1.15)
    y0, y1 = min(0, min(ys)) - 1, max(ys) + 1
    L, R, T, B = 70, 30, 40, 50
    px = lambda v: L + (math.log2(v) - x0) / (x1 - x0) * (width - L - R)
    py = lambda v: T + (y1 - v) / (y1 - y0) * (height - T - B)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">LSTM layers at {factor}x: perplexity change against speed-up ({threads} thread{"s" if threads > 1 else ""}, batch 1{"," + common if common else ""})</text>',
           f'<line x1="{L}" y1="{height - B}" x2="{width - R}" y2="{height - B}" stroke="black"/>',
           f'<line x1="{L}" y1="{T}" x2="{L}" y2="{height - B}" stroke="black"/>',
           f'<text x="{(L + width - R) / 2}" y="{height - 12}" text-anchor="middle">recurrent-part speed-up over dense (log scale)</text>',
           f'<text x="16" y="{(T + height - B) / 2}" text-anchor="middle" transform="rotate(-90 16 {(T + height - B) / 2})">test perplexity change vs dense (%)</text>']
    tick = 1.0
    while tick <= 2 ** x1:
        if tick >= 2 ** x0:
            out.append(f'<line x1="{px(tick):.1f}" y1="{height - B}" x2="{px(tick):.1f}" y2="{height - B + 5}" stroke="black"/>')
            out.append(f'<text x="{px(tick):.1f}" y="{height - B + 18}" text-anchor="middle">{tick:g}x</text>')
        tick *= 2
    step = 5 if y1 - y0 > 20 else 2
    v = math.ceil(y0 / step) * step
    while v <= y1:
        out.append(f'<line x1="{L - 5}" y1="{py(v):.1f}" x2="{L}" y2="{py(v):.1f}" stroke="black"/>')
        out.append(f'<text x="{L - 8}" y="{py(v) + 4:.1f}" text-anchor="end">{v:+g}</text>')
        v += step
    out.append(f'<line x1="{L}" y1="{py(0):.1f}" x2="{width - R}" y2="{py(0):.1f}" stroke="#999" stroke-dasharray="6 4"/>')
    out.append(f'<line x1="{L}" y1="{py(2):.1f}" x2="{width - R}" y2="{py(2):.1f}" stroke="#d62728" stroke-dasharray="2 3"/>')
    out.append(f'<text x="{width - R - 4}" y="{py(2) - 4:.1f}" text-anchor="end" fill="#d62728">goal: within 2%</text>')
    if x0 < math.log2(15) < x1:
        out.append(f'<line x1="{px(15):.1f}" y1="{T}" x2="{px(15):.1f}" y2="{height - B}" stroke="#d62728" stroke-dasharray="2 3"/>')
        out.append(f'<text x="{px(15) + 4:.1f}" y="{height - B - 6}" fill="#d62728">goal: 15x</text>')
    front = pareto([(p[0], p[1]) for p in points])
    path = " ".join(f"{'M' if i == 0 else 'L'}{px(x):.1f},{py(min(y, cap)):.1f}" for i, (x, y) in enumerate(front))
    out.append(f'<path d="{path}" fill="none" stroke="#555" stroke-width="1.5"/>')
    placed = []
    for x, y, name, color in sorted(points):
        if y > cap:
            name, y = f"{name} ({y:+.0f}%, off scale)", cap
        out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" fill="{color}"/>')
        # Each label takes the first place beside its point that no earlier label covers (7 px a character, 14 high).
        right = px(x) > L + 0.6 * (width - L - R)
        w = 7 * len(name)
        left_edge = px(x) - 5 - w if right else px(x) + 5
        for dy in (-7, 16, -21, 30, -35, 44, -49, 58):
            box = (left_edge, py(y) + dy - 11, left_edge + w, py(y) + dy + 3)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                break
        placed.append(box)
        anchor = f'x="{px(x) - 5:.1f}" text-anchor="end"' if right else f'x="{px(x) + 5:.1f}"'
        out.append(f'<text {anchor} y="{py(y) + dy:.1f}" fill="{color}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def epoch_table(runs):
    """Validation perplexity after each epoch of every run, the controls first; '-' after a shorter schedule ends."""
    longest = max(len(r["epochs"]) for r in runs)
    print("| run | " + " | ".join(str(e + 1) for e in range(longest)) + " |")
    print("| --- " * (longest + 1) + "|")
    for r in runs:
        cells = [f"{e['valid_perplexity']:.1f}" for e in r["epochs"]] + ["-"] * (longest - len(r["epochs"]))
        print(f"| {r['name']} | " + " | ".join(cells) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--factor", type=int, default=25)
    ap.add_argument("--preset", default="small", help="the experiment's preset (another preset has its own result file)")
    ap.add_argument("--out", default=os.path.join("docs", "results"))
    args = ap.parse_args()
    suffix = "" if args.preset == "small" else "-" + args.preset
    everything = load(os.path.join(args.out, f"structured-doping{suffix}.jsonl"))
    controls = {r["name"]: r for r in everything if r["method"] == "dense" and r["name"] != "dense"}
    structured = [against_control(r, controls) for r in everything if r["method"] != "dense"]
    names = {r["name"] for r in structured}
    others = [] if suffix else [r for r in load(os.path.join(args.out, "doping.jsonl"))
                                if r["method"] != "dense" and r["name"] not in names and r["name"] != "dkp25-s90-nocmr"]
    rows = [r for r in structured + others if r["factor"] == args.factor and "speed" in r]
    rows += [q for r in rows for q in quantized_rows(r)]

    print("| model | S blocks | LSTM factor (params / bytes) | valid ppl | test ppl | dense test ppl | change vs dense | µs/token, 1 thread | speed-up | µs/token, 2 threads | speed-up | timed |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in sorted(rows, key=lambda r: r["test_ppl"]):
        s1, s2 = r["speed"]["threads_1"], r["speed"]["threads_2"]
        block = block_of(r, r in structured or "precision" in r)
        valid = f"{r['valid_ppl']:.2f}" if r["valid_ppl"] is not None else "-"
        print(f"| {label(r)} | {block} | {r['lstm_parameter_factor']:.1f} / {r['lstm_byte_factor']:.1f} | {valid} | "
              f"{r['test_ppl']:.2f} | {r['dense_test_ppl']:.2f} | {100 * r['test_ppl_change']:+.1f}% | {s1['recurrent_us_per_token']:.1f} | {s1['recurrent_speedup']:.2f}x | "
              f"{s2['recurrent_us_per_token']:.1f} | {s2['recurrent_speedup']:.2f}x | {timed(r['speed'])} |")
    for threads in (1, 2):
        points = [(r["speed"][f"threads_{threads}"]["recurrent_speedup"], 100 * r["test_ppl_change"], label(r),
                   "#d62728" if r in structured or "precision" in r else "#1f77b4") for r in rows]
        if points:
            infix = suffix.lstrip("-") + "-" if suffix else ""
            infix += "" if args.factor == 25 else f"{args.factor}x-"
            path = os.path.join(args.out, f"structured-doping-pareto-{infix}{threads}t.svg")
            with open(path + ".tmp", "w") as f:
                f.write(scatter(points, threads, args.factor))
            os.replace(path + ".tmp", path)
            front = pareto([(p[0], p[1]) for p in points])
            print(f"\nPareto front ({threads} thread{'s' if threads > 1 else ''}): " +
                  ", ".join(next(p[2] for p in points if (p[0], p[1]) == q) for q in front))
    trained = list(controls.values()) + [r for r in structured if r["factor"] == args.factor]
    if trained:
        print("\nValidation perplexity by epoch:\n")
        epoch_table(trained)


if __name__ == "__main__":
    main()
