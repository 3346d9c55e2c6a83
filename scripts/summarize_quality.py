#!/usr/bin/env python3
"""Collects the outputs of scripts/quality_small.sh into one JSON file and prints a Markdown table.

  python3 scripts/summarize_quality.py RUN_FOLDER OUT_JSON
"""
import datetime
import json
import os
import sys


def last_json(path):
    with open(path) as f:
        lines = [l for l in f.read().splitlines() if l.startswith("{")]
    if not lines:
        sys.exit(f"{path}: no JSON result line (did the run finish?)")
    return json.loads(lines[-1])


def main():
    run, out = sys.argv[1], sys.argv[2]
    dopant = last_json(os.path.join(run, "dopant-small.json"))
    torch = last_json(os.path.join(run, "torch-small.out"))
    torch_in_dopant = last_json(os.path.join(run, "torch-in-dopant.json"))
    dopant_in_torch = last_json(os.path.join(run, "dopant-in-torch.json"))
    result = {
        "bench": "quality_small_brown_ptb",
        "date": datetime.date.today().isoformat(),
        "command": "bash scripts/quality_small.sh",
        "dopant": {"valid_ppl": dopant["valid_ppl"], "test_ppl": dopant["test_ppl"],
                   "valid_per_epoch": [e["valid_perplexity"] for e in dopant["epochs"]],
                   "tokens_per_s": dopant["tokens_per_s"], "threads": dopant["threads"]},
        "pytorch": {"valid_ppl": torch["valid_ppl"], "test_ppl": torch["test_ppl"],
                    "valid_per_epoch": torch.get("epoch_valid_ppl"),
                    "tokens_per_s": torch.get("tokens_per_s"), "threads": torch.get("threads"),
                    "torch_version": torch.get("torch_version")},
        "cross": {"pytorch_model_in_dopant": {"valid_ppl": torch_in_dopant["valid_ppl"], "test_ppl": torch_in_dopant["test_ppl"]},
                  "dopant_model_in_pytorch": {"valid_ppl": dopant_in_torch["valid_ppl"], "test_ppl": dopant_in_torch["test_ppl"]}},
    }
    result["test_ppl_gap"] = dopant["test_ppl"] / torch["test_ppl"] - 1
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    os.replace(tmp, out)

    print("| trained by | valid ppl | test ppl | same model evaluated by the other framework (valid / test) | training tokens/s (1 thread) |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| Dopant | {dopant['valid_ppl']:.2f} | {dopant['test_ppl']:.2f} | PyTorch: {dopant_in_torch['valid_ppl']:.2f} / {dopant_in_torch['test_ppl']:.2f} | {dopant['tokens_per_s']:,.0f} |")
    print(f"| PyTorch {torch.get('torch_version')} | {torch['valid_ppl']:.2f} | {torch['test_ppl']:.2f} | Dopant: {torch_in_dopant['valid_ppl']:.2f} / {torch_in_dopant['test_ppl']:.2f} | {torch.get('tokens_per_s', float('nan')):,.0f} |")
    print(f"\nDopant's test perplexity is {100 * result['test_ppl_gap']:+.2f}% from PyTorch's.")


if __name__ == "__main__":
    main()
