#!/usr/bin/env -S /usr/bin/python3
"""Writes a word_lm.py checkpoint as a Dopant safetensors model.

  /usr/bin/python3 bench/pytorch/export_torch.py run.pt model.safetensors

Tensors use the state_dict names (encoder.weight, rnn.weight_ih_l0, ..., decoder.bias); with
tied weights decoder.weight is omitted (it is encoder.weight). Metadata: "dopant.config"
(JSON object) and "dopant.vocab" (JSON array of the words in id order).
"""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dopant_lm as dl  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="checkpoint written by word_lm.py --checkpoint")
    ap.add_argument("out", help="output .safetensors")
    args = ap.parse_args()

    ck = torch.load(args.checkpoint, map_location="cpu")
    cfg, vocab = ck["config"], ck["vocab"]
    model = dl.RNNModel(len(vocab), cfg["hidden"], cfg["layers"], cfg["dropout"], cfg["tied"],
                        ninp=cfg.get("emsize"))  # absent/None: E = H
    model.load_state_dict(ck["model"])
    extra = {k: cfg[k] for k in ("init", "bptt", "batch_size", "lr", "decay", "decay_after", "clip",
                                 "epochs", "seed", "preset")}
    # Float32: Dopant's loader reads F32, F16 and BF16 tensors.
    dl.save_dopant(args.out, model, vocab, "F32", **extra, epochs_trained=ck["epoch"],
                   source="pytorch", torch_version=torch.__version__)
    print(f"wrote {args.out}: vocab {len(vocab)}, {cfg['layers']} x {cfg['hidden']}, "
          f"tied {cfg['tied']}, after epoch {ck['epoch']}, F32")


if __name__ == "__main__":
    main()
