#!/usr/bin/env python3
"""The doping experiment of issue 3 (Thakker et al., MLSys 2021, on brown-ptb): a dense baseline, then every
compression method at 10x and 25x of the LSTM layers, each fine-tuned from the dense model with the same budget.
With --suite structured, issue 7's experiment instead: doped KP with S pruned in blocks of each shape (16x1, 8x1,
4x4, 1x8 and 1x1, unstructured), at 25x and 50x, into runs/structured/ and docs/results/structured-doping.jsonl;
--measure then times every finished model against the dense one (`dopant bench infer`, 1 and 2 threads, run with
nothing else on the machine) and adds the figures to its result line.

  python3 scripts/doping_experiment.py [--suite doping|structured] [--preset small] [--epochs 6] [--factors 25 10]
                                       [--jobs 2] [--only dkp25 ...] [--dense-from runs/quality/dopant-small.json]
                                       [--doping-share 0.9] [--cmr 0] [--blocks 16x1 16x1/28 ...] [--dense-epochs 3]
                                       [--dropout 0.5 --dense-control] [--distill 0.5 [--teacher dense-p50]] [--matrices REGEX] [--matrix-factor P=F] [--matrix-method P=M[:SHARE]] [--scaled-low-rank] [--tied]
                                       [--measure|--score-only [--precisions int8 fp16]] [--retrain --only NAME]
                                       [--storage URL [--study NAME] [--collect]] [--dry-run]

Resumable: each run checkpoints every epoch in runs/doping/; rerun the script after an interruption and it skips
finished runs (their result lines in docs/results/doping.jsonl) and resumes the one in progress. On a fresh clone
(runs/ is not committed) a recorded dense model is trained again with its recorded command. --preset medium keeps its
own runs/structured-medium/ and docs/results/structured-doping-medium.jsonl; runs/ may be a symbolic link to a folder
outside the clone. --retrain --only NAME trains a finished run again (its model lost with another machine's runs/)
and replaces its result line. Every finished run appends one JSON object to docs/results/doping.jsonl; scripts/doping_report.py turns that file into the table and the
SVG charts of docs/RESULTS.md.

With --storage (a PostgreSQL URL or a folder), the runs are queued as one sweep (`dopant sweep --plan`) for `dopant
worker` processes on any machines instead of running here; rerunning with --collect records the finished ones
(`dopant sweep --export`) as result lines. The workers need the data and dense model at the same paths.
"""
import argparse
import concurrent.futures
import datetime
import shutil
import threading
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUITES = {"doping": ("doping", "doping.jsonl"), "structured": ("structured", "structured-doping.jsonl")}
RUNS = os.path.join(ROOT, "runs", "doping")
RESULTS = os.path.join(ROOT, "docs", "results", "doping.jsonl")
BUILT = os.path.join(ROOT, "src", "Dopant.Cli", "bin", "Release", "net10.0")
# The runs use a snapshot of the build, so that rebuilding the repository while they train cannot touch them.
CLI = ["dotnet", os.path.join(RUNS, "cli", "Dopant.Cli.dll")]
# S's block shapes with a quantized kernel (QuantizedColumnBlockStepMatrix), N:M patterns included.
# Blocks with loose entries (16x1+10%) quantize their whole blocks; the loose entries stay fp32.
COLUMN_BLOCKS = r"(8|16|32)x1(/\d+|\+\d+%)?$"
# Single entries (windowed ELL, AVX-512) have an int8 kernel only.
SINGLE_ENTRIES = r"(1x1(/\d+|@\d+x\d+)?)?$"


def plan(factors):
    """(name, method, factor, extra options): the paper's comparison, plus doped KP without co-matrix dropout and with
    S holding most of the budget."""
    runs = []
    for f in factors:
        # Co-matrix dropout is explicit: its default was 0.5 when the first runs started and is 0 since dkp25-nocmr.
        runs += [(f"kp{f}", "kp", f, []), (f"dkp{f}", "dkp", f, ["--cmr", "0.5"]), (f"dkp{f}-nocmr", "dkp", f, ["--cmr", "0"]),
                 (f"lmf{f}", "lmf", f, []), (f"prune{f}", "prune", f, []),
                 # The papers' split: a nearly rank-1 Kronecker part and S holding 90% of the budget.
                 (f"dkp{f}-s90-nocmr", "dkp", f, ["--doping-share", "0.9", "--cmr", "0"]),
                 (f"hmd{f}", "hmd", f, []), (f"dlmf{f}", "dlmf", f, []), (f"dhmd{f}", "dhmd", f, []),
                 (f"dkp{f}-s90", "dkp", f, ["--doping-share", "0.9", "--cmr", "0.5"])]
    return runs


def structured_plan(factors, blocks, share, cmr, schedule="", method="dkp"):
    """Doped KP (or another doped form) with S in blocks of each shape (1x1: unstructured), the same split and
    co-matrix dropout for all; names carry the split when it is not the papers' 90%, and the schedule when it is not
    the default one; an N:M pattern 16x1/32 is named 16x1-nm32, blocks with 10% loose entries 4x4+10% 4x4-u10, single
    entries balanced in tiles 1x1@16x64 1x1-t16x64."""
    suffix = ("" if share == 0.9 else f"-s{round(100 * share)}") + schedule
    return [(f"{method}{f}-{b.replace('/', '-nm').replace('+', '-u').replace('@', '-t').rstrip('%')}{suffix}", method, f, ["--doping-share", str(share), "--cmr", str(cmr)] + ([] if b == "1x1" else ["--block", b]))
            for f in factors for b in blocks]


def bench(cli, model, dense_model, data, threads, precision="fp32"):
    """The recurrent part of model and of the fp32 dense model timed side by side (`dopant bench infer`), as a speed
    entry of a result line."""
    out = subprocess.run(cli + ["bench", "infer", "--model", model, "--against", dense_model, "--data", data, "--json",
                                "--threads", str(threads), "--score-tokens", "0", "--precision", precision],
                         check=True, capture_output=True, text=True).stdout
    ours, dense = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    return {"recurrent_us_per_token": ours["recurrent_us_per_token"], "dense_recurrent_us_per_token": dense["recurrent_us_per_token"],
            "recurrent_speedup": ours["recurrent_speedup"], "total_speedup": ours["total_speedup"],
            "recurrent_weight_bytes": ours["recurrent_weight_bytes"], "dense_recurrent_weight_bytes": dense["recurrent_weight_bytes"],
            "sgemm_kernel": ours.get("sgemm_kernel")}


def streaming_test_ppl(cli, model, data, precision):
    """The test text's perplexity on the streaming runtime with S at precision. Scoring takes minutes and does not need
    a quiet machine, so it is kept beside the model (NAME.scores.json, for this model file's size and time) and can run
    while other models train (--score-only); a later --measure reuses it."""
    cache = os.path.splitext(model)[0] + ".scores.json"
    stamp = f"{os.path.getsize(model)}:{os.path.getmtime(model)}"
    scores = {}
    if os.path.exists(cache):
        with open(cache) as f:
            scores = json.load(f)
        if scores.get("model") != stamp:
            scores = {}
    if precision not in scores:
        # One thread: a worker pool that has to share the cores with training spends its time waiting for its other thread.
        out = subprocess.run(cli + ["score", "--model", model, "--text", os.path.join(data, "test.txt"), "--precision", precision, "--json",
                                    "--threads", "1"],
                             check=True, capture_output=True, text=True).stdout
        scores = dict(scores, model=stamp, **{precision: json.loads([l for l in out.splitlines() if l.startswith("{")][-1])["perplexity"]})
        with open(cache + ".tmp", "w") as f:
            json.dump(scores, f)
        os.replace(cache + ".tmp", cache)
    return scores[precision]


def quantized_precisions(row, precisions):
    """The precisions among these that S of this run has a quantized kernel for."""
    block = (row["options"].get("compression") or {}).get("block") or ""
    if row["method"] == "dense":
        return []
    if re.match(COLUMN_BLOCKS, block):
        return list(precisions)
    return [p for p in precisions if p == "int8"] if re.match(SINGLE_ENTRIES, block) else []


def score_only(cli, data, precisions, only):
    """Scores the models with a quantized kernel at fp32 and at each precision (cached for --measure), without timing
    anything."""
    for row in finished().values():
        model = os.path.join(RUNS, row["name"] + ".safetensors")
        if (only and row["name"] not in only) or not quantized_precisions(row, precisions) or not os.path.exists(model):
            continue
        for precision in ["fp32"] + quantized_precisions(row, precisions):
            print(f"{row['name']} {precision}: streaming test ppl {streaming_test_ppl(cli, model, data, precision):.2f}", flush=True)


def measure(cli, data, dense_model, commit, precisions=(), only=None):
    """Adds streaming speed (1 and 2 threads, against the dense model in the same run) to every finished result line,
    replacing an earlier measurement. With precisions (int8, fp16), models whose S is in column blocks (8, 16 or 32x1)
    or, at int8, in single entries (the forms with a quantized kernel) are also timed with S's values at that
    precision, and the test text is scored on the streaming runtime at fp32 and at that precision, so that the
    quantization's cost in perplexity is measured by the same scorer."""
    with open(RESULTS) as f:
        rows = [json.loads(l) for l in f if l.strip()]
    for row in rows:
        if row["method"] == "dense" or (only and row["name"] not in only):
            continue
        model = os.path.join(RUNS, row["name"] + ".safetensors")
        if not os.path.exists(model):
            # runs/ is not committed: on another machine only the models trained there can be timed.
            print(f"{row['name']}: no model file here; its earlier measurement is kept", flush=True)
            continue
        speed = {}
        for threads in (1, 2):
            speed[f"threads_{threads}"] = t = bench(cli, model, dense_model, data, threads)
            print(f"{row['name']}: {threads} threads {t['recurrent_us_per_token']:.1f} µs, {t['recurrent_speedup']:.2f}x dense", flush=True)
        speed["commit"] = commit
        speed["date"] = datetime.date.today().isoformat()
        row["speed"] = speed
        if quantized_precisions(row, precisions):
            fp32 = streaming_test_ppl(cli, model, data, "fp32")
            quantized = {}
            for precision in quantized_precisions(row, precisions):
                q = {"streaming_test_ppl": streaming_test_ppl(cli, model, data, precision), "streaming_test_ppl_fp32": fp32,
                     "commit": commit, "date": datetime.date.today().isoformat()}
                for threads in (1, 2):
                    q[f"threads_{threads}"] = t = bench(cli, model, dense_model, data, threads, precision)
                    print(f"{row['name']} {precision}: {threads} threads {t['recurrent_us_per_token']:.1f} µs, {t['recurrent_speedup']:.2f}x dense",
                          flush=True)
                print(f"{row['name']} {precision}: streaming test ppl {q['streaming_test_ppl']:.2f} (fp32 {fp32:.2f})", flush=True)
                quantized[precision] = q
            row["quantized"] = quantized
    with open(RESULTS + ".tmp", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    os.replace(RESULTS + ".tmp", RESULTS)


def schedule_suffix(args, compressed=True):
    """'-e10d6' for --epochs 10 --decay-after 6, '-w0.5-6' for --prune-end 6 (the annealing window, epochs 0.5 to 6),
    '-p30' for --dropout 0.3, '-kd50' for --distill 0.5 ('-kd50-tdense-p50' with --teacher dense-p50): another schedule
    or regularization is another run, not a repeat of the default one. The dense control (compressed False) has no
    annealing window and no distillation."""
    suffix = "" if (args.epochs, args.decay_after) == (6, 3) else f"-e{args.epochs}d{args.decay_after}"
    suffix += "" if not compressed or (args.prune_start, args.prune_end) == (0.5, 3.5) else f"-w{args.prune_start:g}-{args.prune_end:g}"
    return (suffix + (f"-p{round(100 * args.dropout)}" if args.dropout else "")
            + (f"-kd{round(100 * args.distill)}" if compressed and args.distill else "")
            + (f"-t{args.teacher}" if compressed and args.distill and args.teacher else ""))


def finished():
    if not os.path.exists(RESULTS):
        return {}
    with open(RESULTS) as f:
        return {r["name"]: r for r in map(json.loads, filter(str.strip, f))}


LOCK = threading.Lock()


def run_json(cmd, log):
    print("$ " + " ".join(cmd), flush=True)
    with open(log, "a") as err:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"failed ({p.returncode}); see {log}")
    return json.loads([l for l in p.stdout.splitlines() if l.startswith("{")][-1])


def per_matrix_rules(runs, option, prefix, rules):
    """The compressed runs with per-matrix rules (--matrix-factor or --matrix-method PATTERN=VALUE) passed on, each run
    named -PREFIX- and the rules without their '.weight' (e.g. -mf-encoder-20, -mm-encoder-dlmf-0.5)."""
    label = prefix + "-" + "-".join(re.sub(r"[^a-z0-9.]+", "-", f.lower().replace("\\.weight", "").replace(".weight", "")).strip("-") for f in rules)
    return [(f"{name}-{label}", method, factor, extra + [a for f in rules for a in (option, f)])
            if method != "dense" else (name, method, factor, extra) for name, method, factor, extra in runs]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(os.environ.get("DOPANT_CACHE", os.path.expanduser("~/.cache/dopant")), "brown-ptb"))
    ap.add_argument("--preset", default="small")
    ap.add_argument("--epochs", type=int, default=6, help="fine-tuning epochs of every compressed run")
    ap.add_argument("--decay-after", type=int, default=3)
    ap.add_argument("--prune-start", type=float, default=0.5)
    ap.add_argument("--prune-end", type=float, default=3.5)
    ap.add_argument("--factors", type=int, nargs="+", default=[25, 10])
    ap.add_argument("--only", nargs="*", help="run (or with --measure, time) only these names (e.g. dkp25)")
    ap.add_argument("--threads", type=int, default=1, help="threads of each run")
    ap.add_argument("--jobs", type=int, default=2, help="runs at a time (jobs x threads should not exceed the cores)")
    ap.add_argument("--dense-epochs", type=int, help="epochs of the dense baseline when the script trains it (default: the preset's)")
    ap.add_argument("--dense-from", help="the --json output of a finished 'dopant train' run to use as the dense baseline "
                                         "(its model file beside it, same name with .safetensors) instead of training one")
    ap.add_argument("--suite", choices=sorted(SUITES), default="doping")
    ap.add_argument("--blocks", nargs="+", default=["16x1", "8x1", "4x4", "1x8", "1x1"], help="structured suite: block shapes")
    ap.add_argument("--doping-share", type=float, default=0.9, help="structured suite: S's share of the budget")
    ap.add_argument("--cmr", type=float, default=0, help="structured suite: co-matrix dropout on S")
    ap.add_argument("--method", choices=["dkp", "dhmd", "dlmf"], default="dkp", help="structured suite: the doped form")
    ap.add_argument("--matrices", help="structured suite: compress the weight matrices this regular expression selects (compress --matrices), "
                                       "e.g. '.*' for the whole model (named -whole); default the recurrent ones")
    ap.add_argument("--matrix-factor", nargs="+", default=[], metavar="PATTERN=FACTOR",
                    help="structured suite: factors for the matrices a pattern selects (compress --matrix-factor), e.g. "
                         "'encoder\\.weight|decoder\\.weight=4' (named -mf-encoder-decoder-4)")
    ap.add_argument("--matrix-method", nargs="+", default=[], metavar="PATTERN=METHOD[:SHARE]",
                    help="structured suite: methods for the matrices a pattern selects (compress --matrix-method), e.g. "
                         "'encoder\\.weight=dlmf:0.5' (named -mm-encoder-dlmf-0.5)")
    ap.add_argument("--scaled-low-rank", action="store_true",
                    help="structured suite: scaled gradients for low-rank factors (compress --scaled-low-rank; named -slr)")
    ap.add_argument("--tied", action="store_true", help="structured suite: tie the decoder to the embedding (named -tied; the shared "
                                                         "matrix starts from the dense model's decoder)")
    ap.add_argument("--dropout", type=float, default=0, help="dropout on non-recurrent connections while fine-tuning")
    ap.add_argument("--distill", type=float, default=0,
                    help="structured suite: knowledge distillation, the teacher's share of the targets")
    ap.add_argument("--teacher", help="structured suite: with --distill, a finished dense run (e.g. the control dense-p50) "
                                      "as the teacher instead of the starting dense model")
    ap.add_argument("--dense-control", action="store_true",
                    help="structured suite: also fine-tune the dense model itself with the same schedule and dropout "
                         "(the reference for a regularized fine-tuning)")
    ap.add_argument("--start-from", help="structured suite: a finished run (e.g. dense-p30) to compress instead of the dense "
                                         "baseline; it is also the reference of the perplexity change, and names end in -from-<run>")
    ap.add_argument("--measure", action="store_true", help="time the finished models instead of training")
    ap.add_argument("--precisions", nargs="*", default=[], choices=["int8", "fp16"],
                    help="with --measure: also time and score the models with a quantized S kernel (column blocks; "
                         "single entries at int8) at these precisions of S")
    ap.add_argument("--score-only", action="store_true",
                    help="score the models with a quantized S kernel at fp32 and --precisions on the streaming runtime, for a later --measure, "
                         "and time nothing (it may run beside training)")
    ap.add_argument("--retrain", action="store_true",
                    help="with --only: train those runs again although they have result lines (as on a new machine whose runs/ "
                         "lost their models); each new line replaces the old one")
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--storage", help="queue the runs as a sweep in this trial storage (postgresql://user@host:port/db, or a "
                    "folder) for `dopant worker`s on any machines, instead of running them here; workers need the same data "
                    "and dense model paths")
    ap.add_argument("--study", help="with --storage: the sweep's study name (default: the results file's name)")
    ap.add_argument("--collect", action="store_true",
                    help="with --storage: record the sweep's finished runs (dopant sweep --export) as result lines")
    args = ap.parse_args()
    global RUNS, RESULTS, CLI
    # Another preset is another experiment: its own runs folder, dense baseline and result file.
    suffix = "" if args.preset == "small" else "-" + args.preset
    RUNS = os.path.join(ROOT, "runs", SUITES[args.suite][0] + suffix)
    CLI = ["dotnet", os.path.join(RUNS, "cli", "Dopant.Cli.dll")]
    stem, ext = os.path.splitext(SUITES[args.suite][1])
    RESULTS = os.path.join(ROOT, "docs", "results", stem + suffix + ext)
    if args.suite == "structured" and args.factors == [25, 10]:
        args.factors = [25, 50]

    os.makedirs(RUNS, exist_ok=True)
    if not args.dry_run:
        # A copy of the build, so that rebuilding does not disturb the runs; a dry run leaves a running experiment's copy alone.
        subprocess.run(["dotnet", "build", "-c", "Release", os.path.join(ROOT, "src", "Dopant.Cli"), "-v", "quiet", "-nologo"], check=True)
        shutil.rmtree(os.path.join(RUNS, "cli.tmp"), ignore_errors=True)
        shutil.copytree(BUILT, os.path.join(RUNS, "cli.tmp"))
        shutil.rmtree(os.path.join(RUNS, "cli"), ignore_errors=True)
        os.replace(os.path.join(RUNS, "cli.tmp"), os.path.join(RUNS, "cli"))
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    if not os.path.exists(os.path.join(args.data, "train.txt")):
        subprocess.run(CLI + ["data", "brown"], check=True)

    done = finished()
    dense_model = os.path.join(RUNS, "dense.safetensors")
    dense = done.get("dense")
    if args.dense_from and not os.path.exists(dense_model) and not args.dry_run:
        # Also on a fresh clone, where the result lines are committed but runs/ is not.
        shutil.copyfile(os.path.splitext(args.dense_from)[0] + ".safetensors", dense_model + ".tmp")
        os.replace(dense_model + ".tmp", dense_model)
    if dense is None and args.dense_from and not args.dry_run:
        with open(args.dense_from) as f:
            r = json.loads([l for l in f if l.startswith("{")][-1])
        dense = record("dense", "dense", 1, r, None, ["train", "--data", args.data, "--preset", r["options"]["preset"],
                                                        "--threads", str(r["threads"]), "--out", dense_model], commit)
    if dense is None and not args.dry_run:
        resume = ["--resume"] if os.path.exists(dense_model) else []
        epochs = ["--epochs", str(args.dense_epochs)] if args.dense_epochs else []
        r = run_json(CLI + ["train", "--data", args.data, "--preset", args.preset, "--out", dense_model,
                            "--threads", str(args.threads), "--json"] + (resume or epochs), os.path.join(RUNS, "dense.log"))
        dense = record("dense", "dense", 1, r, None, ["train", "--data", args.data, "--preset", args.preset, "--out", dense_model,
                                                        "--threads", str(args.threads)] + epochs, commit)
    elif not os.path.exists(dense_model) and not args.dense_from and not args.dry_run:
        # A fresh clone holds the dense result line but not runs/: train the model again with the line's command (same
        # threads, so the same bits) and check that it is the model the line describes.
        command = dense["command"].split()
        threads = command[command.index("--threads") + 1] if "--threads" in command else str(args.threads)
        epochs = ["--epochs", command[command.index("--epochs") + 1]] if "--epochs" in command else []
        r = run_json(CLI + ["train", "--data", args.data, "--preset", args.preset, "--out", dense_model, "--threads", threads, "--json"] + epochs,
                     os.path.join(RUNS, "dense.log"))
        if r["test_ppl"] != dense["test_ppl"]:
            sys.exit(f"the dense model trained again has test perplexity {r['test_ppl']}, not the recorded {dense['test_ppl']}: "
                     f"give the --threads it was trained with")

    if args.score_only:
        score_only(CLI, args.data, args.precisions, args.only)
        return
    if args.measure:
        measure(CLI, args.data, dense_model, commit, args.precisions, args.only)
        return
    runs = plan(args.factors) if args.suite == "doping" else structured_plan(args.factors, args.blocks, args.doping_share, args.cmr, schedule_suffix(args),
                                                                                 args.method)
    if args.suite == "structured" and args.dense_control:
        # Distillation is the compressed model's; its control is the dense model fine-tuned with the same schedule.
        runs = [("dense" + schedule_suffix(args, compressed=False), "dense", 1, [])] + runs
    if args.start_from:
        # A better-trained starting model is another experiment, measured against that model rather than the baseline.
        if args.start_from not in done or done[args.start_from]["method"] != "dense":
            sys.exit(f"--start-from {args.start_from}: no finished dense run of that name in {os.path.relpath(RESULTS, ROOT)}")
        dense_model = os.path.join(RUNS, args.start_from + ".safetensors")
        if not os.path.exists(dense_model):
            sys.exit(f"--start-from {args.start_from}: its model file {os.path.relpath(dense_model, ROOT)} is missing")
        dense = done[args.start_from]
        runs = [(f"{name}-from-{args.start_from}", method, factor, extra) for name, method, factor, extra in runs]
    if args.matrices:
        if args.suite != "structured":
            sys.exit("--matrices belongs to the structured suite")
        label = "whole" if args.matrices == ".*" else "m-" + re.sub(r"[^a-z0-9]+", "-", args.matrices.lower()).strip("-")
        runs = [(f"{name}-{label}", method, factor, extra + ["--matrices", args.matrices]) if method != "dense" else (name, method, factor, extra)
                for name, method, factor, extra in runs]
    for option, prefix, rules in (("--matrix-factor", "mf", args.matrix_factor), ("--matrix-method", "mm", args.matrix_method)):
        if rules:
            if args.suite != "structured":
                sys.exit(f"{option} belongs to the structured suite")
            runs = per_matrix_rules(runs, option, prefix, rules)
    if args.scaled_low_rank:
        if args.suite != "structured":
            sys.exit("--scaled-low-rank belongs to the structured suite")
        runs = [(f"{name}-slr", method, factor, extra + ["--scaled-low-rank"]) if method != "dense" else (name, method, factor, extra)
                for name, method, factor, extra in runs]
    if args.tied:
        if args.suite != "structured":
            sys.exit("--tied belongs to the structured suite")
        runs = [(f"{name}-tied", method, factor, extra + ["--tied"]) for name, method, factor, extra in runs]
    teacher = None
    if args.teacher:
        if not args.distill:
            sys.exit("--teacher names the model of --distill; give --distill too")
        teacher = os.path.join(RUNS, args.teacher + ".safetensors")
        if args.teacher not in done or done[args.teacher]["method"] != "dense" or not os.path.exists(teacher):
            sys.exit(f"--teacher {args.teacher}: no finished dense run of that name with its model file in {os.path.relpath(RUNS, ROOT)}")
    if args.retrain and not args.only:
        sys.exit("--retrain trains again the runs --only names; give --only")
    todo = [p for p in runs if (p[0] not in done or args.retrain) and (not args.only or p[0] in args.only)]

    if args.storage:
        distributed(args, todo, dense_model, dense, teacher, commit)
        return

    def one(name, method, factor, extra):
        out = os.path.join(RUNS, name + ".safetensors")
        cmd = CLI + ["--data", args.data, "--out", out, "--threads", str(args.threads), "--json"]
        cmd[2:2] = ["--resume"] if os.path.exists(out) else []
        cmd[2:2] = run_arguments(args, method, factor, extra, dense_model, teacher, resume=os.path.exists(out))
        if args.dry_run:
            print(" ".join(cmd))
            return
        r = run_json(cmd, os.path.join(RUNS, name + ".log"))
        record(name, method, factor, r, dense, cmd[2:], commit)

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        failures = [f.exception() for f in [pool.submit(one, *p) for p in todo] if f.exception()]
    if failures:
        sys.exit("; ".join(map(str, failures)))


def run_arguments(args, method, factor, extra, dense_model, teacher, resume=False):
    """The dopant command line of one run (without where its data, output and threads go): a compressed run, or the
    control, the dense model fine-tuned like the compressed ones, nothing compressed; a resumed run takes its options
    from its checkpoint."""
    command = ["train" if method == "dense" else "compress"]
    if resume:
        return command
    if method == "dense":
        return command + ["--model", dense_model, "--preset", args.preset, "--epochs", str(args.epochs), "--decay-after", str(args.decay_after),
                          "--dropout", str(args.dropout)]
    command += ["--method", method, "--factor", str(factor), "--model", dense_model, "--preset", args.preset,
                "--epochs", str(args.epochs), "--decay-after", str(args.decay_after),
                "--prune-start", str(args.prune_start), "--prune-end", str(args.prune_end)] + extra
    if args.dropout:
        command += ["--dropout", str(args.dropout)]
    if args.distill:
        command += ["--distill", str(args.distill)] + (["--teacher", teacher] if teacher else [])
    return command


def distributed(args, todo, dense_model, dense, teacher, commit):
    """--storage: queue the runs as one sweep (`dopant sweep --plan`) for workers on any machines, or with --collect
    record the finished ones (`dopant sweep --export`) as result lines, as a local run would."""
    study = args.study or os.path.splitext(os.path.basename(RESULTS))[0]
    if args.collect:
        exported = os.path.join(RUNS, study + ".export.jsonl")
        os.makedirs(RUNS, exist_ok=True)
        subprocess.run(CLI + ["sweep", "--storage", args.storage, "--study", study, "--export", exported], check=True)
        planned = {name: (method, factor) for name, method, factor, _ in todo}
        for line in open(exported):
            entry = json.loads(line)
            if entry["name"] in planned and entry.get("result"):
                method, factor = planned[entry["name"]]
                record(entry["name"], method, factor, entry["result"], dense, entry["command"].split()[1:], commit)
        return
    plan = {"runs": [{"name": name, "command": run_arguments(args, method, factor, extra, dense_model, teacher) + ["--data", args.data]}
                     for name, method, factor, extra in todo]}
    if args.dry_run:
        print(json.dumps(plan, indent=2))
        return
    os.makedirs(RUNS, exist_ok=True)
    path = os.path.join(RUNS, study + ".plan.json")
    with open(path + ".tmp", "w") as f:
        json.dump(plan, f, indent=2)
    os.replace(path + ".tmp", path)
    subprocess.run(CLI + ["sweep", "--plan", path, "--storage", args.storage, "--study", study], check=True)
    print(f"{len(todo)} run(s) queued in study '{study}'; start `dopant worker --storage URL --study {study}` on any machines, "
          f"then rerun this command with --collect", flush=True)


def record(name, method, factor, r, dense, args, commit):
    c = r.get("compression") or {}
    row = {
        "name": name, "method": method, "factor": factor,
        "cmr": r["options"].get("co_matrix_dropout"),
        "lstm_parameters": c.get("lstm_parameters"), "lstm_bytes": c.get("lstm_bytes"),
        "lstm_parameter_factor": r.get("lstm_parameter_factor"), "lstm_byte_factor": r.get("lstm_byte_factor"),
        "model_parameters": c.get("model_parameters"), "model_bytes": c.get("model_bytes"),
        "model_parameter_factor": c.get("model_parameter_factor"), "model_byte_factor": c.get("model_byte_factor"),
        "valid_ppl": r["valid_ppl"], "test_ppl": r["test_ppl"],
        "train_seconds": r.get("train_seconds"), "tokens_per_s": r.get("tokens_per_s"),
        "dense_valid_ppl": dense["valid_ppl"] if dense else None, "dense_test_ppl": dense["test_ppl"] if dense else None,
        "test_ppl_change": r["test_ppl"] / dense["test_ppl"] - 1 if dense else 0.0,
        "epochs": [{k: e.get(k) for k in ("epoch", "valid_perplexity", "valid_perplexity_without_sparse", "sparsity", "train_perplexity")}
                   for e in r["epochs"]],
        "options": r["options"], "date": datetime.date.today().isoformat(), "commit": commit,
        "command": "dopant " + " ".join(os.path.relpath(a, ROOT) if a.startswith(ROOT) else a for a in args),
    }
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with LOCK:
        # A run trained again replaces its line, in place; the file is rewritten atomically.
        lines = open(RESULTS).read().splitlines() if os.path.exists(RESULTS) else []
        kept = [line if not line.strip() or json.loads(line)["name"] != name else json.dumps(row) for line in lines]
        if kept == lines:
            kept.append(json.dumps(row))
        with open(RESULTS + ".tmp", "w") as f:
            f.write("\n".join(kept) + "\n")
        os.replace(RESULTS + ".tmp", RESULTS)
    print(f"{name}: test ppl {r['test_ppl']:.2f}" + (f" ({100 * row['test_ppl_change']:+.1f}% vs dense)" if dense else ""), flush=True)
    return row


if __name__ == "__main__":
    main()
