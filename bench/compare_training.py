#!/usr/bin/env python3
"""Training throughput of Dopant against PyTorch 1.13 (Debian's python3-torch), and optionally TorchSharp, side by side
in one run.

For each preset, runs `dopant bench train` and `bench/pytorch/word_lm.py --bench-batches` alternately
(`--rounds` times each, so that machine noise hits both alike), and reports the median tokens/s of each and
their ratio. PyTorch is timed with the same thread count as Dopant and, with `--torch-also-threads 1`, also
single-threaded: Debian's build runs slower on 2 threads than on 1 (its OpenMP pool and OpenBLAS pools
contend), so its best configuration is reported next to the like-for-like one. Appends one JSON object per preset to docs/results/training-throughput.jsonl and prints a
Markdown table for docs/BENCHMARKS.md.

  python3 bench/compare_training.py [--data DIR] [--threads 2] [--torch-also-threads 1] [--presets small medium]
                                   [--windows 30] [--rounds 3] [--methods dkp kp lmf dlmf prune]
                                   [--factor 25] [--doping-share 0.25] [--dopant-cli PATH]
                                   [--torchsharp [--torchsharp-run bench/peers/torchsharp/run.sh]]

--methods also compares compressed forms of the LSTM's recurrent matrices (default: none, dense only). Each
round then runs `dopant bench train --method ... --factor F --doping-share S --json` once (it times dense and
every form and phase: kp and lmf at "start" only, the others at "start" and "annealed") and, for every form
and phase Dopant printed, `word_lm.py --method M --factor F --doping-share S --phase P` at each PyTorch thread
count (word_lm.py's docstring describes its forms; Dopant's hmd and dhmd have no PyTorch peer). Besides the
dense line, one JSON object per preset, form and phase is appended (the same fields, plus form, method, phase,
factor, doping_share, dopant_sparsity, pytorch_recurrent_parameters, and dopant_vs_dense / pytorch_vs_dense:
the median over rounds of the form's tokens/s over its own dense tokens/s in the same round), and a second
table is printed. Every line written now carries form and phase ("dense" for dense); lines without them are
dense. Dopant's --block is not passed (PyTorch's masks are unstructured).

--dopant-cli: time this Dopant.Cli build (an executable or Dopant.Cli.dll) instead of building src/Dopant.Cli.

--torchsharp also times the TorchSharp peer (bench/peers/torchsharp: TorchSharp-cpu 0.107, libtorch 2.10; its run.sh
sets up the newer C runtime libtorch needs and builds the peer, once, before the first round): in every round, after
PyTorch, for dense and for every form and phase Dopant printed, `run.sh --data DIR --preset P --batches WINDOWS
--threads THREADS [--method M --factor F --doping-share S --phase P]` (the same forms as word_lm.py's; --threads only,
not --torch-also-threads). Every line then also carries torchsharp_tokens_per_s (the median over rounds),
torchsharp_samples, torchsharp_version, torchsharp_libtorch_version, torchsharp_kernel and dopant_vs_torchsharp (Dopant's
median over TorchSharp's); form lines also torchsharp_vs_dense (as pytorch_vs_dense) and
torchsharp_recurrent_parameters; and both tables get TorchSharp columns. --torchsharp-run: another run.sh (or a built
peer) to call. Without --torchsharp the output is as it was.
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
TORCHSHARP_RUN = os.path.join(ROOT, "bench", "peers", "torchsharp", "run.sh")
TORCHSHARP_PRESETS = ("small", "medium", "large")


PYTORCH_METHODS = ("kp", "dkp", "lmf", "dlmf", "prune")
DOPED = ("dkp", "dlmf")
DENSE = ("dense", "dense")  # Dopant's (form, phase) of its dense line


def json_lines(text):
    return [json.loads(line) for line in text.strip().splitlines() if line.startswith("{")]


def last_json_line(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("no JSON line in output:\n" + text[-2000:])


def add_torchsharp(row, samples, result):
    """The TorchSharp peer's fields of a dense or form line: its median over rounds and Dopant's over it."""
    row.update(torchsharp_tokens_per_s=statistics.median(samples), torchsharp_samples=samples,
               torchsharp_version=result.get("torchsharp_version"),
               torchsharp_libtorch_version=result.get("libtorch_version"), torchsharp_kernel=result.get("kernel"))
    row["dopant_vs_torchsharp"] = row["dopant_tokens_per_s"] / row["torchsharp_tokens_per_s"]


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
    ap.add_argument("--methods", nargs="*", choices=PYTORCH_METHODS, default=[],
                    help="also compare these compressed forms of the recurrent matrices (default: dense only)")
    ap.add_argument("--factor", type=float, default=25.0, help="with --methods: the compression factor")
    ap.add_argument("--doping-share", type=float, default=0.25, help="with dkp and dlmf: the share of the budget S keeps")
    ap.add_argument("--dopant-cli", help="a built Dopant.Cli (executable or .dll) to time instead of building src/Dopant.Cli")
    ap.add_argument("--torchsharp", action="store_true",
                    help="also time the TorchSharp peer (bench/peers/torchsharp) in every round, at --threads")
    ap.add_argument("--torchsharp-run", default=TORCHSHARP_RUN,
                    help="with --torchsharp: the peer's launcher (default: bench/peers/torchsharp/run.sh)")
    args = ap.parse_args()
    if args.torchsharp and set(args.presets) - set(TORCHSHARP_PRESETS):
        ap.error(f"--torchsharp: the TorchSharp peer has the presets {', '.join(TORCHSHARP_PRESETS)} only "
                 f"(got {', '.join(sorted(set(args.presets) - set(TORCHSHARP_PRESETS)))})")
    if args.methods and not args.factor > 1:
        ap.error(f"--factor must be above 1 (got {args.factor:g})")
    if set(args.methods) & set(DOPED) and not 0 < args.doping_share < 1:
        ap.error(f"--doping-share must be between 0 and 1 (got {args.doping_share:g})")
    methods = list(dict.fromkeys(args.methods))
    factor = f"{args.factor:g}"

    if args.dopant_cli:
        path = os.path.abspath(args.dopant_cli)
        dopant = ["dotnet", path] if path.endswith(".dll") else [path]
    else:
        run(["dotnet", "build", "-c", "Release", os.path.join(ROOT, "src", "Dopant.Cli"), "-v", "quiet", "-nologo"])
        dopant = ["dotnet", os.path.join(ROOT, "src", "Dopant.Cli", "bin", "Release", "net10.0", "Dopant.Cli.dll")]
    compression = (["--method"] + methods + ["--factor", factor, "--doping-share", f"{args.doping_share:g}"]
                   if methods else [])
    torch_script = os.path.join(ROOT, "bench", "pytorch", "word_lm.py")
    torchsharp = None
    if args.torchsharp:
        path = os.path.abspath(args.torchsharp_run)
        torchsharp = ["bash", path] if path.endswith(".sh") else [path]
        run(torchsharp + ["--prepare"])  # the C runtime and the build, outside the timed rounds
    rows, form_rows = [], []
    torch_threads = [args.threads] + [t for t in args.torch_also_threads if t != args.threads]
    command = "python3 bench/compare_training.py " + " ".join(sys.argv[1:])
    for preset in args.presets:
        # (form, phase) -> per-round tokens/s; Dopant's in `ours`, PyTorch's by thread count in `theirs`, TorchSharp's in
        # `sharp`
        forms, ours, theirs, dopant_lines, torch_results = None, {}, {}, {}, {}
        sharp, sharp_results = {}, {}
        for r in range(args.rounds):
            out = run(dopant + ["bench", "train", "--data", args.data, "--preset", preset, "--windows", str(args.windows),
                                "--repeats", "1", "--threads", str(args.threads), "--json"] + compression)
            lines = {(line.get("form", "dense"), line.get("phase", "dense")): line
                     for line in json_lines(out) if line.get("preset", preset) == preset}
            if forms is None:
                forms = list(lines)
                missing = [m for m in methods if not any(f.split()[0] == m for f, _ in forms)]
                if DENSE not in lines or missing:
                    sys.exit(f"dopant bench train printed no line for {', '.join(['dense'] * (DENSE not in lines) + missing)}"
                             f" ({preset}); it printed {forms}")
            elif sorted(lines) != sorted(forms):
                sys.exit(f"dopant bench train printed {sorted(lines)} in round {r + 1}, {sorted(forms)} before ({preset})")
            dopant_lines.update(lines)
            for key in forms:
                ours.setdefault(key, []).append(lines[key]["tokens_per_s"])
                form, phase = key
                torch_args = [] if key == DENSE else ["--method", form.split()[0], "--factor", factor,
                                                      "--doping-share", f"{args.doping_share:g}", "--phase", phase]
                for t in torch_threads:
                    out = run([TORCH_PYTHON, torch_script, "--data", args.data, "--preset", preset,
                               "--bench-batches", str(args.windows), "--threads", str(t)] + torch_args)
                    torch_result = last_json_line(out)
                    if key != DENSE and torch_result.get("phase") != phase:
                        sys.exit(f"word_lm.py timed {form.split()[0]} at phase {torch_result.get('phase')}, "
                                 f"Dopant's line is {phase} ({preset})")
                    torch_results[key] = torch_result
                    theirs.setdefault(key, {}).setdefault(t, []).append(torch_result["tokens_per_s"])
                if torchsharp:
                    out = run(torchsharp + ["--data", args.data, "--preset", preset, "--batches", str(args.windows),
                                            "--threads", str(args.threads)] + torch_args)
                    sharp_result = last_json_line(out)
                    if key != DENSE and sharp_result.get("phase") != phase:
                        sys.exit(f"the TorchSharp peer timed {form.split()[0]} at phase {sharp_result.get('phase')}, "
                                 f"Dopant's line is {phase} ({preset})")
                    sharp_results[key] = sharp_result
                    sharp.setdefault(key, []).append(sharp_result["tokens_per_s"])
            for key in forms:
                label = "" if key == DENSE else f" {key[0]} {key[1]}"
                print(f"{preset}{label} round {r + 1}: dopant {ours[key][-1]:,.0f} tok/s, pytorch "
                      + ", ".join(f"{theirs[key][t][-1]:,.0f} tok/s ({t} thr)" for t in torch_threads)
                      + (f", torchsharp {sharp[key][-1]:,.0f} tok/s" if torchsharp else ""), file=sys.stderr)
        dense_ours, dense_theirs = ours[DENSE], theirs[DENSE]
        row = {
            "bench": "train_throughput", "preset": preset, "form": "dense", "phase": "dense", "threads": args.threads,
            "windows": args.windows,
            "rounds": args.rounds, "dopant_tokens_per_s": statistics.median(dense_ours),
            "pytorch_tokens_per_s": statistics.median(dense_theirs[args.threads]), "dopant_samples": dense_ours,
            "pytorch_samples": dense_theirs[args.threads],
            "pytorch_by_threads": {str(t): statistics.median(v) for t, v in dense_theirs.items()},
            "pytorch_samples_by_threads": {str(t): v for t, v in dense_theirs.items()},
            "pytorch_version": torch_results[DENSE].get("torch_version"), "date": datetime.date.today().isoformat(),
            "command": command,
        }
        row["speedup"] = row["dopant_tokens_per_s"] / row["pytorch_tokens_per_s"]
        row["speedup_vs_best_pytorch"] = row["dopant_tokens_per_s"] / max(row["pytorch_by_threads"].values())
        if torchsharp:
            add_torchsharp(row, sharp[DENSE], sharp_results[DENSE])
        rows.append(row)
        for key in forms:
            if key == DENSE:
                continue
            form, phase = key
            method, result = form.split()[0], torch_results[key]
            by_threads = theirs[key]
            form_row = {
                "bench": "train_throughput", "preset": preset, "form": form, "method": method, "phase": phase,
                "factor": result.get("factor"), "threads": args.threads, "windows": args.windows, "rounds": args.rounds,
                "dopant_tokens_per_s": statistics.median(ours[key]),
                "pytorch_tokens_per_s": statistics.median(by_threads[args.threads]),
                "dopant_samples": ours[key], "pytorch_samples": by_threads[args.threads],
                "pytorch_by_threads": {str(t): statistics.median(v) for t, v in by_threads.items()},
                "pytorch_samples_by_threads": {str(t): v for t, v in by_threads.items()},
                # each against its own dense of the same round, then the median over rounds
                "dopant_vs_dense": statistics.median(f / d for f, d in zip(ours[key], dense_ours)),
                "pytorch_vs_dense": statistics.median(f / d for f, d in zip(by_threads[args.threads],
                                                                           dense_theirs[args.threads])),
                "pytorch_vs_dense_by_threads": {str(t): statistics.median(f / d for f, d in zip(v, dense_theirs[t]))
                                                for t, v in by_threads.items()},
                "dopant_sparsity": dopant_lines[key].get("sparsity"),
                "pytorch_recurrent_parameters": result.get("recurrent_parameters"),
                "pytorch_recurrent_dense_parameters": result.get("recurrent_dense_parameters"),
                "pytorch_recurrent_forms": result.get("recurrent_forms"),
                "pytorch_version": result.get("torch_version"), "date": row["date"], "command": command,
            }
            if method in DOPED:
                form_row["doping_share"] = args.doping_share
            form_row["speedup"] = form_row["dopant_tokens_per_s"] / form_row["pytorch_tokens_per_s"]
            form_row["speedup_vs_best_pytorch"] = (form_row["dopant_tokens_per_s"]
                                                   / max(form_row["pytorch_by_threads"].values()))
            if torchsharp:
                add_torchsharp(form_row, sharp[key], sharp_results[key])
                form_row["torchsharp_vs_dense"] = statistics.median(f / d for f, d in zip(sharp[key], sharp[DENSE]))
                form_row["torchsharp_recurrent_parameters"] = sharp_results[key].get("recurrent_parameters")
            form_rows.append(form_row)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "a") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
            for form_row in form_rows:
                if form_row["preset"] == row["preset"]:
                    f.write(json.dumps(form_row) + "\n")
    sharp_name = f"TorchSharp {rows[0].get('torchsharp_version', '')}".strip() if torchsharp else None
    print("| preset | Dopant threads | Dopant tokens/s | PyTorch 1.13 tokens/s (threads) | speed-up, same threads | speed-up vs PyTorch's best |"
          + (f" {sharp_name} tokens/s | speed-up vs TorchSharp |" if torchsharp else ""))
    print("| --- | --- | --- | --- | --- | --- |" + (" --- | --- |" if torchsharp else ""))
    for row in rows:
        torch_cells = ", ".join(f"{v:,.0f} ({t})" for t, v in row["pytorch_by_threads"].items())
        print(f"| {row['preset']} | {row['threads']} | {row['dopant_tokens_per_s']:,.0f} | {torch_cells} | "
              f"{row['speedup']:.2f}x | {row['speedup_vs_best_pytorch']:.2f}x |"
              + (f" {row['torchsharp_tokens_per_s']:,.0f} | {row['dopant_vs_torchsharp']:.2f}x |" if torchsharp else ""))
    if form_rows:
        print()
        print("| preset | form | phase | Dopant tokens/s | PyTorch 1.13 tokens/s (threads) | speed-up, same threads "
              "| Dopant vs its dense | PyTorch vs its dense (threads) |"
              + (f" {sharp_name} tokens/s | speed-up vs TorchSharp | TorchSharp vs its dense |" if torchsharp else ""))
        print("| --- | --- | --- | --- | --- | --- | --- | --- |" + (" --- | --- | --- |" if torchsharp else ""))
        for row in form_rows:
            torch_cells = ", ".join(f"{v:,.0f} ({t})" for t, v in row["pytorch_by_threads"].items())
            torch_vs_dense = ", ".join(f"{v:.2f}x ({t})" for t, v in row["pytorch_vs_dense_by_threads"].items())
            print(f"| {row['preset']} | {row['form']} | {row['phase']} | {row['dopant_tokens_per_s']:,.0f} | {torch_cells} | "
                  f"{row['speedup']:.2f}x | {row['dopant_vs_dense']:.2f}x | {torch_vs_dense} |"
                  + (f" {row['torchsharp_tokens_per_s']:,.0f} | {row['dopant_vs_torchsharp']:.2f}x | "
                     f"{row['torchsharp_vs_dense']:.2f}x |" if torchsharp else ""))

if __name__ == "__main__":
    main()
