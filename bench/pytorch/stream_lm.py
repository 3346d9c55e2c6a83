#!/usr/bin/env python3
"""Streaming (batch 1, token by token) inference cost of a PyTorch LSTM language model: the peer of
`dopant bench infer`. Builds the preset's architecture (random weights: dense timing does not depend on them), feeds
the first --tokens tokens of the validation text one at a time with the state carried, and prints one JSON line with
the median microseconds per token of the recurrent part (embedding and LSTM) and of whole steps (with the decoder).

  /usr/bin/python3 bench/pytorch/stream_lm.py --data DIR --preset medium --threads 2 [--tokens 2000] [--repeats 7]
"""
import argparse
import json
import statistics
import time

import dopant_lm as dl
import torch
import torch.nn as nn


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--preset", choices=sorted(dl.PRESETS), default="medium")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    blas_threads = dl.set_threads(args.threads)
    cfg = dl.PRESETS[args.preset]
    corpus = dl.Corpus(args.data)
    vocab = corpus.idx2word
    tokens = corpus.valid[: args.tokens].tolist()
    hidden, layers = cfg["hidden"], cfg["layers"]
    emsize = cfg.get("emsize") or hidden
    embedding = nn.Embedding(len(vocab), emsize)
    lstm = nn.LSTM(emsize, hidden, layers)
    decoder = nn.Linear(hidden, len(vocab))

    def run(with_decoder):
        state = None
        start = time.perf_counter()
        with torch.no_grad():
            for t in tokens:
                x = embedding(torch.tensor([[t]]))
                out, state = lstm(x, state)
                if with_decoder:
                    decoder(out)
        return (time.perf_counter() - start) * 1e6 / len(tokens)

    run(True)
    recurrent, total = [], []
    for _ in range(args.repeats):
        recurrent.append(run(False))
        total.append(run(True))
    print(json.dumps({"bench": "infer", "framework": "pytorch", "torch_version": torch.__version__, "preset": args.preset,
                      "threads": torch.get_num_threads(), "blas_threads": blas_threads, "tokens": len(tokens),
                      "recurrent_us_per_token": statistics.median(recurrent), "total_us_per_token": statistics.median(total),
                      "recurrent_samples": recurrent, "total_samples": total}))


if __name__ == "__main__":
    main()
