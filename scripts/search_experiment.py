#!/usr/bin/env python3
"""Issue 5's experiment on brown-ptb: `dopant search` infers the level of a memory scheme (LSTM matrices pruned by one
global threshold and stored in int8, embedding and decoder int8) and of a latency scheme (LSTM matrices pruned in
16x1 blocks) under a validation-perplexity constraint, then every chosen model is evaluated and timed against the
dense model in one run (`dopant bench infer --against`, batch 1). One JSON line per scheme goes to
docs/results/search.jsonl.

  python3 scripts/search_experiment.py --dense runs/doping/dense.safetensors [--only memory latency] [--budget 8]

Resumable: each search keeps its trials in runs/search/NAME/ and is continued with `--resume`; a scheme whose line is
in docs/results/search.jsonl is skipped.
"""
import argparse
import datetime
import json
import os
import shutil
import struct
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = os.path.join(ROOT, "runs", "search")
RESULTS = os.path.join(ROOT, "docs", "results", "search.jsonl")
BUILT = os.path.join(ROOT, "src", "Dopant.Cli", "bin", "Release", "net10.0")
# The runs use a snapshot of the build, so that rebuilding the repository while they run cannot touch them.
CLI = ["dotnet", os.path.join(RUNS, "cli", "Dopant.Cli.dll")]

# name: (scheme file, level range, objective)
SEARCHES = {
    "memory": ("docs/schemes/memory.json", "2:50", "memory"),
    "latency": ("docs/schemes/latency.json", "2:50", "latency"),
}


def last_json(text):
    return json.loads([line for line in text.splitlines() if line.startswith("{")][-1])


def metadata(path):
    """The __metadata__ of a safetensors file: 8-byte little-endian header length, then the JSON header."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(length)).get("__metadata__", {})


def run(cmd, log):
    with open(log, "a") as err:
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=err, text=True).stdout
    return out


def main():
    global RUNS, RESULTS, CLI
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dense", required=True, help="the trained dense model")
    ap.add_argument("--data", default=os.path.join(os.environ.get("DOPANT_CACHE", os.path.expanduser("~/.cache/dopant")), "brown-ptb"))
    ap.add_argument("--only", nargs="*", choices=sorted(SEARCHES))
    ap.add_argument("--budget", type=int, default=8)
    ap.add_argument("--max-ppl-increase", type=float, default=2)
    ap.add_argument("--lc-iterations", type=int, default=4)
    ap.add_argument("--l-step-windows", type=int, default=100)
    ap.add_argument("--fine-tune-epochs", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", default=os.path.join(ROOT, "runs", "search"), help="folder of the searches (default runs/search)")
    ap.add_argument("--results", default=os.path.join(ROOT, "docs", "results", "search.jsonl"), help="JSON-lines file of the results (default docs/results/search.jsonl)")
    args = ap.parse_args()
    RUNS, RESULTS = os.path.abspath(args.runs), os.path.abspath(args.results)
    CLI = ["dotnet", os.path.join(RUNS, "cli", "Dopant.Cli.dll")]

    os.makedirs(RUNS, exist_ok=True)
    subprocess.run(["dotnet", "build", "-c", "Release", os.path.join(ROOT, "src", "Dopant.Cli"), "-v", "quiet", "-nologo"],
                   check=True, stdout=subprocess.DEVNULL)
    if not os.path.exists(os.path.join(RUNS, "cli", "Dopant.Cli.dll")):
        shutil.copytree(BUILT, os.path.join(RUNS, "cli.tmp"), dirs_exist_ok=True)
        os.replace(os.path.join(RUNS, "cli.tmp"), os.path.join(RUNS, "cli"))
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    done = set()
    if os.path.exists(RESULTS):
        with open(RESULTS) as f:
            done = {json.loads(line)["name"] for line in f if line.strip()}

    for name, (scheme, levels, objective) in SEARCHES.items():
        if (args.only and name not in args.only) or name in done:
            continue
        folder = os.path.join(RUNS, name)
        log = os.path.join(RUNS, name + ".log")
        options = ["--lc-iterations", str(args.lc_iterations), "--l-step-windows", str(args.l_step_windows),
                   "--first-l-step-windows", str(args.l_step_windows), "--fine-tune-epochs", str(args.fine_tune_epochs)]
        common = ["--model", args.dense, "--data", args.data, "--out", folder, "--threads", str(args.threads), "--json"]
        if os.path.exists(os.path.join(folder, "search.json")):
            cmd = CLI + ["search", "--resume"] + common
        else:
            cmd = CLI + ["search", "--scheme", os.path.join(ROOT, scheme), "--levels", levels, "--objective", objective,
                         "--max-ppl-increase", str(args.max_ppl_increase), "--budget", str(args.budget)] + options + common
        print(f"{name}: {' '.join(cmd[2:])}", flush=True)
        result = last_json(run(cmd, log))
        row = {"name": name, "scheme": scheme, "objective": objective, "levels": levels,
               "max_ppl_increase": args.max_ppl_increase, "threshold_valid_ppl": result["threshold"],
               "samples": len(result["trials"]), "chosen_level": result["chosen_level"],
               "trials": result["trials"], "date": datetime.date.today().isoformat(), "commit": commit,
               "command": "dopant " + " ".join(os.path.relpath(a, ROOT) if a.startswith(ROOT) else a for a in cmd[2:])}
        best = result.get("model")
        if best:
            evaluation = last_json(run(CLI + ["eval", "--model", best, "--data", args.data, "--json"], log))
            row.update(valid_ppl=evaluation["valid_ppl"], test_ppl=evaluation["test_ppl"])
            dense_eval = last_json(run(CLI + ["eval", "--model", args.dense, "--data", args.data, "--json"], log))
            row.update(dense_valid_ppl=dense_eval["valid_ppl"], dense_test_ppl=dense_eval["test_ppl"],
                       test_ppl_change=evaluation["test_ppl"] / dense_eval["test_ppl"] - 1)
            row["scheme_storage"] = json.loads(metadata(best).get("dopant.scheme_storage", "null"))
            speed = {}
            for threads in (1, 2):
                out = run(CLI + ["bench", "infer", "--model", best, "--against", args.dense, "--data", args.data, "--json",
                                 "--threads", str(threads), "--score-tokens", "0"], log)
                ours, dense = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
                speed[f"threads_{threads}"] = {k: ours[k] for k in ("recurrent_us_per_token", "total_us_per_token", "recurrent_speedup",
                                                                   "total_speedup", "recurrent_weight_bytes")}
                speed[f"threads_{threads}"]["dense_recurrent_us_per_token"] = dense["recurrent_us_per_token"]
            row["speed"] = speed
        with open(RESULTS, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"{name}: level {row['chosen_level']}, {row['samples']} samples, test ppl {row.get('test_ppl')}", flush=True)


if __name__ == "__main__":
    main()
