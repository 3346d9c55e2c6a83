#!/usr/bin/env -S /usr/bin/python3
"""A Dopant tagger or classifier (dense, from `dopant train --task tag|classify` or `dopant export --precision fp32`)
loaded into PyTorch and scored on a labeled folder: the accuracy PyTorch computes, to set beside `dopant eval`.

  /usr/bin/python3 bench/pytorch/load_labeler.py tagger.safetensors --data pos/ [--split test]

Reads the file with dopant_lm's safetensors reader, builds make_labeler_golden.Labeler (nn.Embedding, nn.LSTM/nn.GRU
with packed sequences, nn.Linear) under Dopant's state-dict names, reads the split with Dopant's vocabulary rule (words
outside the vocabulary read as <unk>) and prints one JSON line: labels, accuracy, mean cross-entropy per label.
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dopant_lm as dl  # noqa: E402
from make_labeler_golden import Labeler  # noqa: E402


def read_split(path, task):
    """[(words, labels)] of a tagging (word<TAB>tag, blank line after a sentence) or classification (label<TAB>text) file."""
    sentences, words, tags = [], [], []
    with open(path, encoding="utf8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if task == "sequence_label":
                if line:
                    label, text = line.split("\t", 1)
                    sentences.append((text.split(), [label]))
                continue
            if not line.strip():
                if words:
                    sentences.append((words, tags))
                words, tags = [], []
                continue
            word, tag = line.split("\t")
            words.append(word)
            tags.append(tag)
    if words:
        sentences.append((words, tags))
    return sentences


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="test", choices=["valid", "test"])
    args = ap.parse_args()
    tensors, meta = dl.read_safetensors(args.model)
    cfg = json.loads(meta["dopant.config"])
    vocab = json.loads(meta["dopant.vocab"])
    labels = json.loads(meta["dopant.labels"])
    if meta.get("dopant.forms"):
        sys.exit("the model is compressed; export a dense one (its forms need Dopant's runtime)")
    model = Labeler(cfg["vocab_size"], cfg["embedding_size"], cfg["hidden_size"], cfg["num_layers"], cfg["cell"],
                    cfg["bidirectional"], cfg["num_labels"], cfg["head"], cfg.get("pooling")).double()
    state = model.state_dict()
    missing = set(state) - set(tensors)
    if missing:
        sys.exit(f"tensors missing from the file: {sorted(missing)}")
    with torch.no_grad():
        for name, value in state.items():
            value.copy_(torch.from_numpy(tensors[name]).to(torch.float64).view(value.shape))
    model.eval()
    word_ids = {w: i for i, w in enumerate(vocab)}
    label_ids = {l: i for i, l in enumerate(labels)}
    unk = word_ids["<unk>"]
    correct = total = 0
    loss = 0.0
    with torch.no_grad():
        for words, tags in read_split(os.path.join(args.data, args.split + ".txt"), cfg["head"]):
            tokens = torch.tensor([[word_ids.get(w, unk)] for w in words], dtype=torch.long)
            logits = model(tokens, torch.tensor([len(words)]))[0]
            flat = logits.reshape(-1, cfg["num_labels"])
            targets = torch.tensor([label_ids[tag] for tag in tags])
            loss += torch.nn.functional.cross_entropy(flat, targets, reduction="sum").item()
            guesses = flat.argmax(1).tolist()
            for guess, tag in zip(guesses, tags):
                correct += guess == label_ids[tag]
                total += 1
    print(json.dumps({"model": args.model, "split": args.split, "labels": total, "accuracy": correct / total, "loss": loss / total}))


if __name__ == "__main__":
    main()
