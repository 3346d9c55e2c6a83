#!/usr/bin/env -S /usr/bin/python3
"""Writes a synthetic PTB-format folder (train/valid/test.txt) with an exact vocabulary size
(words + '<eos>'), Zipf-distributed words and random sentence lengths. For speed comparisons
only: the text has no structure to learn beyond unigram frequencies.

  /usr/bin/python3 bench/pytorch/make_synth_ptb.py /tmp/dopant-synth-ptb [--vocab 10000]
"""

import argparse
import os

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--vocab", type=int, default=10000, help="vocabulary size including <eos>")
    ap.add_argument("--train-tokens", type=int, default=200_000)
    ap.add_argument("--eval-tokens", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    words = np.array([f"w{i}" for i in range(args.vocab - 1)])
    p = 1.0 / np.arange(1, len(words) + 1)
    p /= p.sum()

    def lines(n_tokens, cover=False):
        out, n = [], 0
        if cover:  # every word once in train, so the vocabulary size is exact
            perm = rng.permutation(len(words))
            for k in range(0, len(perm), 20):
                out.append(" ".join(words[perm[k:k + 20]]))
                n += len(perm[k:k + 20]) + 1
        while n < n_tokens:
            ln = int(rng.integers(4, 40))
            out.append(" ".join(words[rng.choice(len(words), ln, p=p)]))
            n += ln + 1
        rng.shuffle(out)
        return "".join(f" {l} \n" for l in out)  # PTB style: leading and trailing space

    os.makedirs(args.out, exist_ok=True)
    for name, n, cover in (("train", args.train_tokens, True), ("valid", args.eval_tokens, False),
                           ("test", args.eval_tokens, False)):
        with open(os.path.join(args.out, name + ".txt"), "w", encoding="utf8") as f:
            f.write(lines(n, cover))
    print(f"wrote {args.out}: vocabulary {args.vocab} (with <eos>)")


if __name__ == "__main__":
    main()
