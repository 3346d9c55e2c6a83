#!/usr/bin/env -S /usr/bin/python3
"""Writes golden fixtures for sentence-level models (float64, fixed seeds): an embedding,
a (possibly bidirectional) LSTM or GRU stack run on a padded batch of sentences of different
lengths through pack_padded_sequence, and a linear decoder with one of two heads:

  token_labels     a label per token: logits = decoder(output) at every position [T, B, C],
                   CE summed over the valid positions (padded labels are -100)
  sequence_label   a label per sentence: logits = decoder(features) [B, C], features pooled
                   from the last layer's output, "final" (the final hidden states h_n) or
                   "mean" (the mean over the sentence's valid positions)

  tests/Dopant.Tests/Fixtures/tagger_golden.json            LSTM, bi, 2 layers, token_labels
  tests/Dopant.Tests/Fixtures/classifier_final_golden.json  GRU, bi, 1 layer, sequence_label/final
  tests/Dopant.Tests/Fixtures/classifier_mean_golden.json   LSTM, uni, 2 layers, sequence_label/mean
  tests/Dopant.Tests/Fixtures/tagger_gru_uni_golden.json    GRU, uni, 2 layers, token_labels

Before writing, every fixture is re-computed a second way (each sentence alone, unpadded and
unpacked, through the same modules; losses, logits, features and gradients compared), padded
outputs are checked to be exactly 0, and h_n is checked against the output positions it
stands for. Deterministic: a second run writes byte-identical files.

Usage: /usr/bin/python3 bench/pytorch/make_labeler_golden.py [--out-dir DIR]
See README.md in this folder for the schema.
"""

import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dopant_lm as dl  # noqa: E402
from make_golden import FIXTURES, dumps, tensor_json  # noqa: E402

GENERATOR = "bench/pytorch/make_labeler_golden.py"
INIT = 0.4
SGD_LR = 0.5
SGD_STEPS = 3
IGNORE = -100  # label of a padded position (F.cross_entropy's default ignore_index)
SEED = 20240911
TOLERANCE = 1e-12

# file name -> spec. Tokens and labels are drawn with seed, the parameters with seed + 1.
FIXTURE_SPECS = {
    "tagger_golden.json": dict(
        cell="lstm", bidirectional=True, num_layers=2, vocab_size=13, embedding_size=5,
        hidden_size=4, num_labels=6, head="token_labels", pooling=None,
        lengths=[5, 3, 1, 4], seed=SEED),
    "classifier_final_golden.json": dict(
        cell="gru", bidirectional=True, num_layers=1, vocab_size=11, embedding_size=6,
        hidden_size=3, num_labels=4, head="sequence_label", pooling="final",
        lengths=[4, 6, 2, 6, 1], seed=SEED + 100),
    "classifier_mean_golden.json": dict(
        cell="lstm", bidirectional=False, num_layers=2, vocab_size=11, embedding_size=4,
        hidden_size=5, num_labels=3, head="sequence_label", pooling="mean",
        lengths=[3, 5, 2], seed=SEED + 200),
    "tagger_gru_uni_golden.json": dict(
        cell="gru", bidirectional=False, num_layers=2, vocab_size=9, embedding_size=3,
        hidden_size=4, num_labels=5, head="token_labels", pooling=None,
        lengths=[2, 6, 4], seed=SEED + 300),
}


class Labeler(nn.Module):
    """Embedding (V x E) -> L-layer LSTM/GRU (time-major, biases, no dropout, optionally
    bidirectional) -> Linear(D, C), D = H * (2 if bidirectional else 1).

    head "token_labels": logits [T, B, C] at every position of the padded output.
    head "sequence_label": logits [B, C] from features [B, D]:
      pooling "final": cat(h_n[-2], h_n[-1]) if bidirectional else h_n[-1] (the last layer's
                       forward final state, then its backward final state);
      pooling "mean":  the last layer's output averaged over the sentence's valid positions."""

    CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}

    def __init__(self, vocab_size, embedding_size, hidden_size, num_layers, cell, bidirectional,
                 num_labels, head, pooling):
        super().__init__()
        if head not in ("token_labels", "sequence_label"):
            raise ValueError(f"unknown head {head!r}")
        if (pooling is None) != (head == "token_labels") or pooling not in (None, "final", "mean"):
            raise ValueError(f"pooling {pooling!r} does not fit head {head!r}")
        self.cell, self.bidirectional, self.head, self.pooling = cell, bidirectional, head, pooling
        self.num_labels = num_labels
        self.encoder = nn.Embedding(vocab_size, embedding_size)
        self.rnn = self.CELLS[cell](embedding_size, hidden_size, num_layers=num_layers,
                                    bidirectional=bidirectional, bias=True, dropout=0.0)
        self.decoder = nn.Linear(hidden_size * (2 if bidirectional else 1), num_labels)

    def init_uniform(self, init):
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-init, init)

    def final_features(self, h_n):
        """The last layer's final state(s) from h_n [L * dirs, B, H]: [B, D]."""
        return torch.cat([h_n[-2], h_n[-1]], dim=1) if self.bidirectional else h_n[-1]

    def forward(self, tokens, lengths):
        """tokens [T, B] (0 = padding), lengths [B] (CPU int64). Returns (logits, features,
        output [T, B, D] with padded positions 0, h_n)."""
        T = tokens.size(0)
        emb = self.encoder(tokens)
        packed = pack_padded_sequence(emb, lengths, enforce_sorted=False)
        out_packed, hidden = self.rnn(packed)  # h_n comes back in the batch's original order
        output, _ = pad_packed_sequence(out_packed, total_length=T)
        h_n = hidden[0] if self.cell == "lstm" else hidden
        if self.head == "token_labels":
            features = output
        elif self.pooling == "final":
            features = self.final_features(h_n)
        else:
            features = output.sum(0) / lengths.to(output.dtype).unsqueeze(1)
        return self.decoder(features), features, output, h_n

    def loss_sum(self, logits, labels):
        return F.cross_entropy(logits.reshape(-1, self.num_labels), labels.reshape(-1),
                               ignore_index=IGNORE, reduction="sum")


def make_batch(spec):
    """tokens [T, B] (ids in [1, V) for real words, 0 beyond the length), labels ([T, B] with
    IGNORE at padded positions, or [B]), lengths [B]; drawn with spec's seed."""
    lengths = torch.tensor(spec["lengths"], dtype=torch.long)
    T, B = int(lengths.max()), lengths.numel()
    gen = torch.Generator().manual_seed(spec["seed"])
    tokens = torch.randint(1, spec["vocab_size"], (T, B), generator=gen)
    valid = torch.arange(T).unsqueeze(1) < lengths.unsqueeze(0)  # [T, B]
    tokens = tokens.masked_fill(~valid, 0)
    if spec["head"] == "token_labels":
        labels = torch.randint(0, spec["num_labels"], (T, B), generator=gen).masked_fill(~valid, IGNORE)
    else:
        labels = torch.randint(0, spec["num_labels"], (B,), generator=gen)
    return tokens, labels, lengths, valid


def params_json(model):
    return {name: tensor_json(p) for name, p in model.named_parameters()}


def check_independently(model, tokens, labels, lengths, valid, logits, features, output, h_n,
                        loss_sum, count):
    """Each sentence alone, unpadded and unpacked, through the same modules: summed losses,
    per-sentence logits/features and the gradients of the mean must match the batched run.
    Padded outputs must be exactly 0; h_n must be the outputs it stands for."""
    H = model.rnn.hidden_size
    report = {}
    # padded positions: output exactly 0; token_labels logits there exactly decoder.bias
    assert torch.all(output[~valid] == 0), "padded outputs are not exactly 0"
    if model.head == "token_labels":
        assert torch.all(features[~valid] == 0), "padded features are not exactly 0"
        assert torch.all(logits[~valid] == model.decoder.bias.detach()), "padded logits != bias"
    # h_n[-2] (or [-1] uni) = forward output at t = len - 1; h_n[-1] (bi) = backward output at t = 0
    b_idx = torch.arange(lengths.numel())
    fwd_last = output[lengths - 1, b_idx, :H]
    assert torch.equal(h_n[-2 if model.bidirectional else -1], fwd_last), "h_n forward != output"
    if model.bidirectional:
        assert torch.equal(h_n[-1], output[0, :, H:]), "h_n backward != output[0, :, H:]"

    params = list(model.parameters())
    grads_batched = [p.grad.detach().clone() for p in params]
    model.zero_grad(set_to_none=True)
    total = 0.0
    max_logit_diff = max_feature_diff = 0.0
    for b, n in enumerate(lengths.tolist()):
        emb = model.encoder(tokens[:n, b:b + 1])  # [n, 1, E], no padding
        out, hidden = model.rnn(emb)
        hn = hidden[0] if model.cell == "lstm" else hidden
        if model.head == "token_labels":
            feat = out[:, 0]
            lg = model.decoder(feat)
            loss = F.cross_entropy(lg, labels[:n, b], reduction="sum")
            max_logit_diff = max(max_logit_diff, (lg - logits[:n, b]).abs().max().item())
            max_feature_diff = max(max_feature_diff, (feat - features[:n, b]).abs().max().item())
        else:
            feat = (model.final_features(hn) if model.pooling == "final" else out.mean(0))[0]
            lg = model.decoder(feat)
            loss = F.cross_entropy(lg.unsqueeze(0), labels[b:b + 1], reduction="sum")
            max_logit_diff = max(max_logit_diff, (lg - logits[b]).abs().max().item())
            max_feature_diff = max(max_feature_diff, (feat - features[b]).abs().max().item())
        (loss / count).backward()  # accumulates the gradient of the mean over sentences
        total += loss.item()
    loss_diff = abs(total - loss_sum)
    grad_diff = max((p.grad - g).abs().max().item() for p, g in zip(params, grads_batched))
    for what, diff in (("loss_sum", loss_diff), ("logits", max_logit_diff),
                       ("features", max_feature_diff), ("grads", grad_diff)):
        assert diff <= TOLERANCE, f"{what}: per-sentence run differs by {diff}"
        report[what] = diff
    # leave the batched gradients in place
    for p, g in zip(params, grads_batched):
        p.grad = g
    return report


def build(spec):
    tokens, labels, lengths, valid = make_batch(spec)
    T, B = tokens.shape
    torch.manual_seed(spec["seed"] + 1)
    model = Labeler(spec["vocab_size"], spec["embedding_size"], spec["hidden_size"],
                    spec["num_layers"], spec["cell"], spec["bidirectional"], spec["num_labels"],
                    spec["head"], spec["pooling"]).double()
    model.init_uniform(INIT)
    model.train()  # no dropout anywhere; train/eval give the same values
    initial = params_json(model)
    count = int(lengths.sum()) if spec["head"] == "token_labels" else B
    assert count == int((labels != IGNORE).sum())

    model.zero_grad(set_to_none=True)
    logits, features, output, h_n = model(tokens, lengths)
    loss_sum = model.loss_sum(logits, labels)
    (loss_sum / count).backward()
    grads = {name: tensor_json(p.grad) for name, p in model.named_parameters()}
    check = check_independently(model, tokens, labels, lengths, valid, logits, features, output,
                                h_n, loss_sum.item(), count)

    losses = []
    for _ in range(SGD_STEPS):
        model.zero_grad(set_to_none=True)
        lg, _, _, _ = model(tokens, lengths)
        loss = model.loss_sum(lg, labels) / count
        loss.backward()
        losses.append(loss.item())
        with torch.no_grad():
            for p in model.parameters():
                p.add_(p.grad, alpha=-SGD_LR)
    assert losses[0] == loss_sum.item() / count, (losses[0], loss_sum.item() / count)

    cfg = {k: spec[k] for k in ("vocab_size", "embedding_size", "hidden_size", "num_layers",
                                "cell", "bidirectional", "head", "pooling", "num_labels")}
    head_text = ("a label per token" if spec["head"] == "token_labels"
                 else f"a label per sentence, {spec['pooling']} pooling")
    doc = {
        "description": f"Dopant sentence labeler golden values from PyTorch (float64): "
                       f"{'bidirectional' if spec['bidirectional'] else 'unidirectional'} "
                       f"{spec['cell'].upper()}, {head_text}, padded batch through "
                       f"pack_padded_sequence. See bench/pytorch/README.md for conventions.",
        "generator": GENERATOR,
        "torch_version": torch.__version__,
        "dtype": "float64",
        "seed": spec["seed"],
        "config": cfg,
        "tokens": tokens.tolist(),
        "lengths": lengths.tolist(),
        "labels": labels.tolist(),
        "param_names": list(initial.keys()),
        "initial_params": initial,
        "loss_sum": loss_sum.item(),
        "count": count,
        "loss_mean": loss_sum.item() / count,
        "logits": tensor_json(logits),
        "features": tensor_json(features),
        "grads": grads,
        "sgd": {"lr": SGD_LR, "steps": SGD_STEPS, "losses": losses,
                "final_params": params_json(model)},
    }
    return doc, check


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=FIXTURES)
    args = ap.parse_args()
    torch.set_num_threads(1)

    for name, spec in FIXTURE_SPECS.items():
        doc, check = build(spec)
        text = dumps(doc) + "\n"
        assert json.loads(text) == json.loads(json.dumps(doc))
        path = os.path.join(args.out_dir, name)
        dl.atomic_write(path, lambda f: f.write(text.encode("utf8")))
        print(f"wrote {path}: loss_mean {doc['loss_mean']!r} (loss_sum {doc['loss_sum']!r}, "
              f"count {doc['count']}), sgd losses {[round(x, 6) for x in doc['sgd']['losses']]}; "
              f"per-sentence check max |diff| "
              + ", ".join(f"{k} {v:.1e}" for k, v in check.items()))


if __name__ == "__main__":
    main()
