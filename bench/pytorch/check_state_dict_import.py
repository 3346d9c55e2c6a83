#!/usr/bin/env -S /usr/bin/python3
"""A PyTorch word LM saved as a plain state dict scores the same in Dopant (issue 8, "PyTorch in").

Trains PyTorch's RNNModel (examples/word_language_model layout: LSTM or GRU, any emsize/nhid, tied or not) for a
few hundred SGD windows on a PTB-format folder, evaluates it with PyTorch, writes it as a plain safetensors state dict
(metadata {"format": "pt"} only, as safetensors.torch.save_file writes) and its words one a line, then runs
`dopant eval --model SD --vocab WORDS` (inferring the architecture from the tensors) and compares the perplexities.

  /usr/bin/python3 bench/pytorch/check_state_dict_import.py --data ~/.cache/dopant/brown-ptb \
      --dopant src/Dopant.Cli/bin/Release/net10.0/Dopant.Cli.dll --cell GRU --emsize 100 --nhid 200 --windows 300

Prints one JSON line: both runtimes' valid and test perplexity and their relative differences. Exit 1 when a
difference exceeds --tolerance (default 1e-3, PyTorch's own evaluate() against Dopant's).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dopant_lm as dl  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--dopant", required=True, help="Dopant.Cli.dll")
    ap.add_argument("--cell", choices=["LSTM", "GRU"], default="GRU")
    ap.add_argument("--emsize", type=int, default=100)
    ap.add_argument("--nhid", type=int, default=200)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--tied", action="store_true")
    ap.add_argument("--windows", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tolerance", type=float, default=1e-3)
    ap.add_argument("--out", help="folder for the state dict and words (default: a temporary one)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)

    corpus = dl.Corpus(args.data)
    model = dl.RNNModel(len(corpus), args.nhid, args.layers, 0.0, args.tied, rnn_type=args.cell, ninp=args.emsize)
    model.init_uniform(0.1)
    train = dl.batchify(corpus.train, 20)
    hidden = model.init_hidden(20)
    for k, i in enumerate(dl.window_starts(train, 35)):
        if k == args.windows:
            break
        inputs, targets = dl.get_window(train, i, 35)
        _, _, hidden = dl.train_window(model, inputs, targets, hidden, 5.0, 1.0)
    torch_valid = dl.evaluate(model, dl.batchify(corpus.valid, 10), 35)[0]
    torch_test = dl.evaluate(model, dl.batchify(corpus.test, 10), 35)[0]

    folder = args.out or tempfile.mkdtemp(prefix="dopant-import-")
    os.makedirs(folder, exist_ok=True)
    state_dict = os.path.join(folder, "model.safetensors")
    words = os.path.join(folder, "words.txt")
    dl.write_safetensors(state_dict, dl.model_tensors(model), {"format": "pt"})
    with open(words, "w", encoding="utf8") as f:
        f.write("".join(w + "\n" for w in corpus.idx2word))
    result = subprocess.run(["dotnet", args.dopant, "eval", "--model", state_dict, "--vocab", words, "--data", args.data,
                             "--batch-size", "10", "--bptt", "35", "--threads", str(args.threads), "--json"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"dopant eval failed: {result.stderr.strip()}")
    dopant = json.loads(result.stdout)
    report = {
        "cell": args.cell, "emsize": args.emsize, "nhid": args.nhid, "layers": args.layers, "tied": args.tied,
        "windows": args.windows, "vocab_size": len(corpus),
        "torch_valid_ppl": torch_valid, "dopant_valid_ppl": dopant["valid_ppl"],
        "torch_test_ppl": torch_test, "dopant_test_ppl": dopant["test_ppl"],
        "valid_relative_difference": abs(dopant["valid_ppl"] - torch_valid) / torch_valid,
        "test_relative_difference": abs(dopant["test_ppl"] - torch_test) / torch_test,
        "torch_version": torch.__version__,
    }
    print(json.dumps(report))
    if max(report["valid_relative_difference"], report["test_relative_difference"]) > args.tolerance:
        sys.exit(1)


if __name__ == "__main__":
    main()
