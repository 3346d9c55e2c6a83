#!/usr/bin/env -S /usr/bin/python3
"""Loads a Dopant safetensors model into the PyTorch reference model and reports perplexity.

  /usr/bin/python3 bench/pytorch/load_dopant.py model.safetensors --data PTB_FOLDER \
      [--bptt 35] [--batch-size 10] [--splits valid,test] [--double]

The file is read with struct + json (no safetensors package); see dopant_lm.read_safetensors.
Words are mapped with the model's vocabulary ("dopant.vocab"); unknown words go to <unk>
if the vocabulary has it, otherwise loading fails. Prints one JSON line.
"""

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dopant_lm as dl  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--data", required=True, help="PTB-format folder")
    ap.add_argument("--bptt", type=int, help="default: config's bptt, else 35")
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("--splits", default="valid,test")
    ap.add_argument("--double", action="store_true", help="evaluate in float64")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    dl.set_threads(args.threads)

    model, vocab, cfg = dl.load_dopant(args.model, torch.float64 if args.double else torch.float32)
    bptt = args.bptt or int(cfg.get("bptt", 35))
    corpus = dl.Corpus(os.path.expanduser(args.data), vocab=vocab)
    result = {"model": args.model, "config": cfg, "bptt": bptt, "batch_size": args.batch_size,
              "dtype": "float64" if args.double else "float32", "torch_version": torch.__version__}
    for split in args.splits.split(","):
        t0 = time.perf_counter()
        data = dl.batchify(getattr(corpus, split), args.batch_size)
        ppl, total, count = dl.evaluate(model, data, bptt)
        result[f"{split}_ppl"] = ppl
        result[f"{split}_tokens"] = count
        result[f"{split}_oov"] = corpus.oov[split]
        print(f"{split}: ppl {ppl:.4f} over {count} targets ({corpus.oov[split]} OOV) "
              f"in {time.perf_counter() - t0:.1f} s", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
