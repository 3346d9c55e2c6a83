#!/usr/bin/env python3
"""Issue 10's experiment: doped structured matrices on four applications of the Brown corpus. For each application, a
dense model (its preset), its same-budget dense control (the dense model trained on for the compressed runs' epochs),
and every compression method at each factor of the recurrent matrices, each fine-tuned from the dense model with the
same budget; then each finished model's metric against the control, its compression (recurrent matrices and whole
model) and, for streaming models, its speed-up end to end against the dense model (`dopant bench infer`, batch 1, one
thread, side by side in one run).

  python3 scripts/applications_experiment.py [--app tag tag-uni classify charlm lm] [--methods dkp kp ...] [--factors 25 10]
                                             [--threads 2] [--jobs 1] [--measure] [--dry-run]

Applications (data from `dopant data NAME`):
  tag       brown-pos, the tagger preset (2x128 bidirectional LSTM); accuracy on all tokens and on unknown words
  tag-uni   brown-pos, the same tagger unidirectional (streamed token by token, so timed end to end)
  classify  brown-genre, the classifier preset (2x128 LSTM) with mean pooling (final states reach 17-21% on valid, the
            mean 23-25%); accuracy and macro-F1
  charlm    brown-chars, the charlm preset (2x256 LSTM); bits per character
  lm        brown-ptb, the medium preset (2x650 LSTM); perplexity. Its dense model, control and doped KP runs are issue 7's
            (docs/results/structured-doping-medium.jsonl, RESULTS.md), with the same schedule: 12 epochs, dropout 0.5
            (run it with --factors 25); trained by SGD at a learning rate of 1, its low-rank methods (lmf, dlmf, hmd,
            dhmd) take scaled gradients (compress --scaled-low-rank: unscaled, LMF 25x on small lost 44% of perplexity)

Resumable: every run checkpoints each epoch in runs/applications/APP/; rerun after an interruption and finished runs
(their lines in docs/results/applications.jsonl) are skipped, the one in progress resumes. The script copies the
build it runs into runs/applications/cli, so rebuilding does not disturb a running experiment. --measure times the
finished streaming models against their dense model (run it with nothing else on the machine) and adds the figures
to their lines. scripts/applications_report.py turns the file into RESULTS.md's tables and charts.
"""
import argparse
import concurrent.futures
import datetime
import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doping_experiment import run_json  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = os.path.join(ROOT, "runs", "applications")
RESULTS = os.path.join(ROOT, "docs", "results", "applications.jsonl")
BUILT = os.path.join(ROOT, "src", "Dopant.Cli", "bin", "Release", "net10.0")
CLI = [os.path.join(RUNS, "cli", "Dopant.Cli")]
CACHE = os.environ.get("DOPANT_CACHE", os.path.expanduser("~/.cache/dopant"))
METHODS = ["dkp", "kp", "lmf", "dlmf", "hmd", "dhmd", "prune"]
SHAPE = "1x1@16x64"  # issue 7's best structured-doping shape: S in 16x64 tiles, values unstructured inside

# Per application: its data set, task, dense training arguments (its preset), the compressed runs' and the control's
# fine-tuning (epochs and schedule), its metric, and whether it streams (timed end to end).
APPS = {
    "tag": dict(data="brown-pos", task="tag", dense=[], tune=["--epochs", "4", "--decay-after", "2"],
                prune=["--prune-start", "0.25", "--prune-end", "2.5"], metric="accuracy", streams=False),
    "tag-uni": dict(data="brown-pos", task="tag", dense=["--bidirectional", "false"], tune=["--epochs", "4", "--decay-after", "2"],
                    prune=["--prune-start", "0.25", "--prune-end", "2.5"], metric="accuracy", streams=True),
    "classify": dict(data="brown-genre", task="classify", dense=["--pooling", "mean"], tune=["--epochs", "4", "--decay-after", "2"],
                     prune=["--prune-start", "0.25", "--prune-end", "2.5"], metric="accuracy", streams=True),
    "charlm": dict(data="brown-chars", task="charlm", dense=["--preset", "charlm"], tune=["--preset", "charlm", "--epochs", "3", "--decay-after", "1"],
                   prune=["--prune-start", "0.25", "--prune-end", "2"], metric="bpc", streams=True),
    "lm": dict(data="brown-ptb", task="lm", dense=["--preset", "medium", "--epochs", "3"],
               tune=["--preset", "medium", "--epochs", "12", "--decay-after", "6", "--dropout", "0.5"],
               prune=["--prune-start", "0.5", "--prune-end", "3.5"], doped=["--doping-share", "0.9", "--cmr", "0"],
               lowrank=["--scaled-low-rank"], metric="ppl", streams=True),
}
# The word LM's dense model, control and doped KP runs are RESULTS.md's medium runs (issue 7): their lines are taken
# from that experiment, by name here, and its dense model is the one the other methods start from.
MEDIUM = os.path.join(ROOT, "docs", "results", "structured-doping-medium.jsonl")
MEDIUM_RUNS = os.path.join(ROOT, "runs", "structured-medium")
ADOPTED = {"dense": "dense", "control": "dense-e12d6-p50", "dkp25": "dkp25-1x1-e12d6-p50", "dkp25-tiles": "dkp25-1x1-t16x64-e12d6-p50"}
LOCK = threading.Lock()


def rows():
    if not os.path.exists(RESULTS):
        return []
    with open(RESULTS) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_rows(all_rows):
    with open(RESULTS + ".tmp", "w") as f:
        for row in all_rows:
            f.write(json.dumps(row) + "\n")
    os.replace(RESULTS + ".tmp", RESULTS)


def upsert(row):
    # Several processes (one per application) may record at once: the lock file serializes the rewrites.
    with LOCK, open(RESULTS + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        kept = [r for r in rows() if (r["app"], r["name"]) != (row["app"], row["name"])]
        write_rows(kept + [row])


def metrics(app, r):
    """The application's figures from a run's --json output: test and valid metric, and the secondary ones."""
    if APPS[app]["task"] in ("tag", "classify"):
        out = {"valid_accuracy": r["valid"]["accuracy"], "test_accuracy": r["test"]["accuracy"], "test_macro_f1": r["test"]["macro_f1"]}
        if APPS[app]["task"] == "tag":
            out["test_unknown_word_accuracy"] = r["test"]["unknown_word_accuracy"]
        return out
    if APPS[app]["task"] == "charlm":
        return {"valid_bpc": r["valid_bpc"], "test_bpc": r["test_bpc"]}
    return {"valid_ppl": r["valid_ppl"], "test_ppl": r["test_ppl"]}


def test_metric(app, row):
    return row["test_" + APPS[app]["metric"]]


def change(app, row, control):
    """The metric's change against the control: accuracy points lost (positive: worse), or the relative change of
    bits per character or perplexity in percent (positive: worse)."""
    if APPS[app]["metric"] == "accuracy":
        return round(100 * (test_metric(app, control) - test_metric(app, row)), 3)
    return round(100 * (test_metric(app, row) / test_metric(app, control) - 1), 3)


def plan(app, methods, factors, shape):
    runs = [("control", "dense", 1, [])]
    for factor in factors:
        runs += [(f"{m}{factor}", m, factor, []) for m in methods]
    if shape and "dkp" in methods:
        runs += [(f"dkp{f}-tiles", "dkp", f, ["--block", SHAPE]) for f in factors if f == max(factors)]
    return runs


def data_folder(name):
    folder = os.path.join(CACHE, name)
    if not os.path.exists(os.path.join(folder, "train.txt")):
        subprocess.run(CLI + ["data", "brown" if name == "brown-ptb" else name], check=True)
    return folder


def dense_command(app, folder, out, threads):
    spec = APPS[app]
    return CLI + ["train", "--task", spec["task"], "--data", folder, "--out", out, "--threads", str(threads), "--json"] + spec["dense"]


def run_command(app, name, method, factor, extra, folder, dense_model, out, threads):
    spec = APPS[app]
    cmd = CLI + ["train" if method == "dense" else "compress", "--data", folder, "--out", out, "--threads", str(threads), "--json"]
    if os.path.exists(out):
        return cmd + ["--resume"]
    cmd += ["--model", dense_model] + spec["tune"]
    if method != "dense":
        cmd += ["--method", method, "--factor", str(factor)] + spec["prune"] + (spec.get("doped", []) if method.startswith("d") else []) \
            + (spec.get("lowrank", []) if method in ("lmf", "dlmf", "hmd", "dhmd") else []) + extra
    return cmd


def record(app, name, method, factor, r, cmd, commit, dense):
    c = r.get("compression") or {}
    row = {"app": app, "name": name, "method": method, "factor": factor, "data": APPS[app]["data"], **metrics(app, r),
           "recurrent_parameter_factor": round(r.get("lstm_parameter_factor") or 1, 3),
           "recurrent_byte_factor": round(r.get("lstm_byte_factor") or 1, 3),
           "model_parameter_factor": round(c.get("model_parameter_factor") or 1, 3),
           "model_byte_factor": round(c.get("model_byte_factor") or 1, 3),
           "train_seconds": r.get("train_seconds") or round(sum(e.get("seconds", 0) for e in r.get("epochs") or []), 1),
           "epochs": len(r.get("epochs") or []),
           "command": "dopant " + " ".join(cmd[1:]).replace(ROOT + os.sep, "").replace(CACHE, "~/.cache/dopant"),
           "commit": commit, "date": datetime.date.today().isoformat()}
    if dense is not None:
        row["dense_" + "test_" + APPS[app]["metric"]] = test_metric(app, dense)
    upsert(row)
    return row


def adopt_medium(commit):
    """Records the word LM's runs that issue 7's medium experiment already made, and links its dense model."""
    with open(MEDIUM) as f:
        medium = {r["name"]: r for r in map(json.loads, filter(str.strip, f))}
    os.makedirs(os.path.join(RUNS, "lm"), exist_ok=True)
    dense_model = os.path.join(RUNS, "lm", "dense.safetensors")
    if not os.path.exists(dense_model) and os.path.exists(os.path.join(MEDIUM_RUNS, "dense.safetensors")):
        os.symlink(os.path.join(MEDIUM_RUNS, "dense.safetensors"), dense_model)
    control = medium[ADOPTED["control"]]
    for name, source in ADOPTED.items():
        r = medium[source]
        row = {"app": "lm", "name": name, "method": r["method"], "factor": r["factor"], "data": "brown-ptb",
               "valid_ppl": r["valid_ppl"], "test_ppl": r["test_ppl"],
               "recurrent_parameter_factor": round(r.get("lstm_parameter_factor") or 1, 3),
               "recurrent_byte_factor": round(r.get("lstm_byte_factor") or 1, 3),
               "model_parameter_factor": r.get("model_parameter_factor") or (1 if r["method"] == "dense" else None),
               "model_byte_factor": r.get("model_byte_factor") or (1 if r["method"] == "dense" else None),
               "command": r["command"], "commit": r.get("commit", commit), "date": r.get("date"),
               "from": f"{os.path.relpath(MEDIUM, ROOT)} {source}"}
        if name != "dense":
            row["dense_test_ppl"] = medium["dense"]["test_ppl"]
        if r["method"] != "dense":
            row["change_vs_control"] = round(100 * (r["test_ppl"] / control["test_ppl"] - 1), 3)
        upsert(row)


def measure(app, folder, commit, threads=1):
    """Times every finished model of a streaming application against its dense model, side by side in one run."""
    dense_model = os.path.join(RUNS, app, "dense.safetensors")
    for row in [r for r in rows() if r["app"] == app and r["method"] != "dense"]:
        model = os.path.join(RUNS, app, row["name"] + ".safetensors")
        if not os.path.exists(model):
            print(f"{app} {row['name']}: no model file to time, skipped", flush=True)
            continue
        p = subprocess.run(CLI + ["bench", "infer", "--model", model, "--against", dense_model, "--data", folder, "--threads", str(threads),
                                  "--tokens", "2000", "--repeats", "7", "--score-tokens", "0", "--json"], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"bench infer {model}: {p.stderr.strip()}")
        lines = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
        timed, reference = lines[0], lines[1]
        row.update({"us_per_token": round(timed["total_us_per_token"], 3), "dense_us_per_token": round(reference["total_us_per_token"], 3),
                    "speedup": round(timed["total_speedup"], 3), "recurrent_speedup": round(timed["recurrent_speedup"], 3),
                    "weight_bytes": timed["weight_bytes"], "dense_weight_bytes": reference["weight_bytes"], "timed_threads": threads,
                    "timed_commit": commit})
        upsert(row)
        print(f"{app} {row['name']}: {row['us_per_token']} µs/token against dense {row['dense_us_per_token']}: {row['speedup']}x", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", nargs="+", choices=list(APPS), default=["tag", "classify", "tag-uni", "charlm"])
    ap.add_argument("--methods", nargs="+", choices=METHODS, default=METHODS)
    ap.add_argument("--factors", type=int, nargs="+", default=[25, 10])
    ap.add_argument("--no-shape", action="store_true", help="skip the doped run with S in tiles")
    ap.add_argument("--only", nargs="*", help="run only these names (e.g. control dkp25)")
    ap.add_argument("--threads", type=int, default=2, help="threads of each run")
    ap.add_argument("--jobs", type=int, default=1, help="runs at a time (jobs x threads should not exceed the cores)")
    ap.add_argument("--measure", action="store_true", help="time the finished streaming models instead of training")
    ap.add_argument("--keep-cli", action="store_true", help="run the build already copied into runs/applications/cli")
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args()

    os.makedirs(RUNS, exist_ok=True)
    if not args.keep_cli or not os.path.exists(CLI[0]):
        subprocess.run(["dotnet", "build", os.path.join(ROOT, "src", "Dopant.Cli"), "-c", "Release", "-v", "q", "-nologo"], check=True)
        shutil.rmtree(os.path.join(RUNS, "cli.tmp"), ignore_errors=True)
        shutil.copytree(BUILT, os.path.join(RUNS, "cli.tmp"))
        shutil.rmtree(os.path.join(RUNS, "cli"), ignore_errors=True)
        os.replace(os.path.join(RUNS, "cli.tmp"), os.path.join(RUNS, "cli"))
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()

    for app in args.app:
        folder = data_folder(APPS[app]["data"])
        if args.measure:
            if APPS[app]["streams"]:
                measure(app, folder, commit)
            continue
        os.makedirs(os.path.join(RUNS, app), exist_ok=True)
        if app == "lm" and not any(r["app"] == "lm" for r in rows()) and not args.dry_run:
            adopt_medium(commit)
        done = {r["name"]: r for r in rows() if r["app"] == app}
        dense_model = os.path.join(RUNS, app, "dense.safetensors")
        dense = done.get("dense")
        cmd = dense_command(app, folder, dense_model, args.threads)
        if dense is None:
            if args.dry_run:
                print(" ".join(cmd + (["--resume"] if os.path.exists(dense_model) else [])))
            else:
                if os.path.exists(dense_model):
                    cmd = CLI + ["train", "--resume", "--data", folder, "--out", dense_model, "--threads", str(args.threads), "--json"]
                r = run_json(cmd, os.path.join(RUNS, app, "dense.log"))
                dense = record(app, "dense", "dense", 1, r, dense_command(app, folder, dense_model, args.threads), commit, None)
        elif not os.path.exists(dense_model) and not args.dry_run:
            sys.exit(f"{app}: the dense model {os.path.relpath(dense_model, ROOT)} is missing (recorded in {os.path.relpath(RESULTS, ROOT)}); "
                     f"train it again with: {dense['command']}")
        todo = [p for p in plan(app, args.methods, args.factors, not args.no_shape)
                if (p[0] not in done or "failed" in done[p[0]] and args.only and p[0] in args.only) and (not args.only or p[0] in args.only)]

        def one(name, method, factor, extra):
            out = os.path.join(RUNS, app, name + ".safetensors")
            cmd = run_command(app, name, method, factor, extra, folder, dense_model, out, args.threads)
            if args.dry_run:
                print(" ".join(cmd))
                return
            first = run_command(app, name, method, factor, extra, folder, dense_model, "/nonexistent", args.threads)
            first[first.index("--out") + 1] = out
            log = os.path.join(RUNS, app, name + ".log")
            try:
                r = run_json(cmd, log)
            except RuntimeError:
                # A run that fails for good (e.g. diverged past its roll-backs) is a result too: its line says why.
                with open(log) as f:
                    reason = [line.strip() for line in f if line.startswith("dopant: error:")][-1:] or ["see " + os.path.relpath(log, ROOT)]
                upsert({"app": app, "name": name, "method": method, "factor": factor, "data": APPS[app]["data"], "failed": reason[0],
                        "command": "dopant " + " ".join(first[1:]).replace(ROOT + os.sep, "").replace(CACHE, "~/.cache/dopant"),
                        "commit": commit, "date": datetime.date.today().isoformat()})
                raise
            record(app, name, method, factor, r, first, commit, dense)

        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            failures = [f.exception() for f in [pool.submit(one, *p) for p in todo] if f.exception()]
        if not args.dry_run:
            control = next((r for r in rows() if r["app"] == app and r["name"] == "control"), None)
            if control is not None:
                for row in [r for r in rows() if r["app"] == app and r["method"] != "dense" and "failed" not in r]:
                    row["change_vs_control"] = change(app, row, control)
                    upsert(row)
        if failures:
            sys.exit("; ".join(map(str, failures)))


if __name__ == "__main__":
    main()
