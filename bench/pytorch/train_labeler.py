#!/usr/bin/env -S /usr/bin/python3
"""PyTorch reference for Dopant's taggers and sentence classifiers (`dopant train --task tag|classify`),
trained with the same recipe so that their dense accuracies can be set side by side.

  /usr/bin/python3 bench/pytorch/train_labeler.py --data ~/.cache/dopant/brown-pos --task tag \
      [--checkpoint tagger.pt [--resume]]
  /usr/bin/python3 bench/pytorch/train_labeler.py --data ~/.cache/dopant/brown-genre --task classify

Data: a folder with train.txt, valid.txt, test.txt; tag: `word<TAB>tag` lines, a blank line after each sentence;
classify: `label<TAB>text` lines, the text's words separated by spaces. Read, checked and refused exactly as
Dopant's LabeledCorpus does (one-line error naming file and line, exit code 1).

The recipe (LabelerOptions, LabelerTrainer, SentenceLabeler, SentenceBatches, LabeledCorpus):
- presets: tagger = 2 x 128 bidirectional LSTM, embedding 100, Adam lr 2e-3, 8 epochs; classifier = 2 x 128
  unidirectional LSTM read at its final state, Adam lr 1e-3, 10 epochs; both: lr x 0.7 every epoch after epoch 4,
  dropout 0.3, global-norm clip 5, every parameter (biases and embedding too) ~ U(-0.1, 0.1), batch 32,
  min-count 2, max-length 250 (classifier 1000). The preset follows --task unless --preset is given.
- vocabulary: <unk> (id 0, also the padding) then the training words seen >= min-count times, first-occurrence
  order, case kept; any other word reads as <unk>. Labels: training labels, first-occurrence order; a validation or
  test label training never shows is refused. A training sentence longer than --max-length is refused (not cut).
- model (make_labeler_golden.Labeler): embedding -> dropout -> L layers of nn.LSTM/nn.GRU over packed sequences
  (the reverse direction reads each sentence backwards within its own length), dropout after every layer (between
  layers by nn.LSTM's own dropout, after the top layer explicitly) -> decoder. Classifier pooling from the dropped-out
  top output: final = forward output at the last word [+ reverse output at the first word], or mean over the words.
- batches: sentences sorted by length (stable), cut into fixed batches of --batch-size; the batch ORDER is shuffled
  every epoch (the batches themselves never change). Loss = mean cross-entropy over the batch's labels (tokens for
  tag, examples for classify); the epoch's train loss = summed CE / labels.
- step: global-norm clipping (clip / (norm + 1e-6) when below 1), then Adam (0.9, 0.999, 1e-8) or SGD.
- an epoch with a batch loss not finite or above 2 ln(max(C, 2)) is rolled back to its start (weights, Adam state and
  random generator) and trained again at 0.5 x the learning rate, at most 3 times in the run.
- evaluation: batches of --batch-size, no dropout; accuracy; accuracy on tokens read as <unk> (tag only); macro-F1
  = mean over the labels that occur in the split or are predicted of 2 TP / (actual + predicted); mean CE per label.

Prints the start, every rolled-back epoch and one line per epoch on stderr, and at the end one JSON object on stdout
with Dopant's `dopant train --json` keys (task, valid, test, options, epochs, divergences) and train_seconds,
tokens_per_s, labels_per_s, baseline (majority label), torch_version, threads.
"""

import argparse
import copy
import json
import math
import os
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dopant_lm as dl  # noqa: E402  (sets OMP_WAIT_POLICY before torch loads)
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

from make_labeler_golden import Labeler  # noqa: E402

UNK = "<unk>"
TASKS = {"tag": "Tagging", "classify": "Classification"}

# LabelerOptions defaults and FromPreset, under Dopant's JSON (snake_case) names.
DEFAULTS = dict(layers=2, hidden_size=128, embedding_size=100, cell="lstm", bidirectional=False, pooling="final",
                batch_size=32, epochs=8, learning_rate=2e-3, decay=0.7, decay_after=4, init_range=0.1, dropout=0.3,
                clip=5.0, seed=1, optimizer="adam", min_count=2, max_length=250, max_rollbacks=3,
                rollback_learning_rate_factor=0.5)
PRESETS = {"tagger": dict(bidirectional=True), "classifier": dict(epochs=10, learning_rate=1e-3, max_length=1000)}
# option name -> argparse dest
ARGS = dict(layers="layers", hidden_size="hidden", embedding_size="emsize", cell="cell", bidirectional="bidirectional",
            pooling="pooling", batch_size="batch_size", epochs="epochs", learning_rate="lr", decay="decay",
            decay_after="decay_after", init_range="init", dropout="dropout", clip="clip", seed="seed",
            optimizer="optimizer", min_count="min_count", max_length="max_length", max_rollbacks="max_rollbacks",
            rollback_learning_rate_factor="rollback_lr_factor")


class DataError(Exception):
    pass


def fail(message):
    print(f"train_labeler.py: error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def log(message):
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- options

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder with train.txt, valid.txt, test.txt")
    ap.add_argument("--task", required=True, choices=sorted(TASKS))
    ap.add_argument("--preset", choices=sorted(PRESETS), help="default: tagger for tag, classifier for classify")
    ap.add_argument("--layers", type=int)
    ap.add_argument("--hidden", type=int, help="hidden size of each direction")
    ap.add_argument("--emsize", type=int)
    ap.add_argument("--cell", choices=["lstm", "gru"])
    ap.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=None)
    ap.add_argument("--pooling", choices=["final", "mean"], help="classify: how the top layer is pooled")
    ap.add_argument("--batch-size", type=int)
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--decay", type=float)
    ap.add_argument("--decay-after", type=int)
    ap.add_argument("--init", type=float)
    ap.add_argument("--dropout", type=float)
    ap.add_argument("--clip", type=float)
    ap.add_argument("--optimizer", choices=["adam", "sgd"])
    ap.add_argument("--min-count", type=int)
    ap.add_argument("--max-length", type=int, help="a longer training sentence is refused (default 250; classifier 1000)")
    ap.add_argument("--max-rollbacks", type=int)
    ap.add_argument("--rollback-lr-factor", type=float)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--threads", type=int, default=2, help="torch and BLAS threads")
    ap.add_argument("--checkpoint", help="written atomically after every epoch")
    ap.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    ap.add_argument("--limit-sentences", type=int, default=0,
                    help="use N sentences (examples) of each split, spread evenly over its file (0: all); "
                         "the vocabulary comes from the N training ones, the labels from the whole train.txt")
    args = ap.parse_args(argv)
    if args.resume and not args.checkpoint:
        ap.error("--resume needs --checkpoint")
    preset = args.preset or ("tagger" if args.task == "tag" else "classifier")
    opts = dict(DEFAULTS, **PRESETS[preset])
    for name, dest in ARGS.items():
        value = getattr(args, dest)
        if value is not None:
            opts[name] = value
    opts = dict(task=args.task, preset=preset, **opts)
    problems = [
        (opts["layers"] >= 1, "--layers must be at least 1"),
        (opts["hidden_size"] >= 1, "--hidden must be at least 1"),
        (opts["embedding_size"] >= 1, "--emsize must be at least 1"),
        (opts["batch_size"] >= 1, "--batch-size must be at least 1"),
        (opts["epochs"] >= 1, "--epochs must be at least 1"),
        (opts["learning_rate"] > 0 and math.isfinite(opts["learning_rate"]), "--lr must be positive"),
        (0 < opts["decay"] <= 1, "--decay must be in (0, 1]"),
        (opts["decay_after"] >= 0, "--decay-after must not be negative"),
        (opts["init_range"] > 0, "--init must be positive"),
        (0 <= opts["dropout"] < 1, "--dropout must be in [0, 1)"),
        (opts["clip"] > 0, "--clip must be positive"),
        (opts["min_count"] >= 1, "--min-count must be at least 1"),
        (opts["max_length"] >= 1, "--max-length must be at least 1"),
        (opts["max_rollbacks"] >= 0, "--max-rollbacks must not be negative"),
        (0 < opts["rollback_learning_rate_factor"] < 1, "--rollback-lr-factor must be in (0, 1)"),
        (args.limit_sentences >= 0, "--limit-sentences must not be negative"),
        (args.threads >= 1, "--threads must be at least 1"),
    ]
    for ok, message in problems:
        if not ok:
            fail(message)
    return args, opts


def dopant_options(opts):
    """The options as Dopant's LabelerOptions serializes them (enum spellings included)."""
    out = dict(opts)
    out["task"] = TASKS[opts["task"]]
    out["cell"] = opts["cell"].capitalize()
    out["pooling"] = opts["pooling"].capitalize()
    return out


# ----------------------------------------------------------------------------- data

def read_file(path, task):
    """[(words, labels, line)] as LabeledCorpus.Read: tag = word<TAB>tag lines, a blank (white-space) line ends a
    sentence; classify = label<TAB>text, words split on spaces, empty lines skipped. Raises DataError."""
    if not os.path.isfile(path):
        raise DataError(f"'{path}' does not exist; a labeled corpus holds train.txt, valid.txt and test.txt.")
    sentences, words, tags, start = [], [], [], 0
    with open(path, encoding="utf-8-sig") as f:  # universal newlines: \n, \r\n and \r end a line, as File.ReadLines
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\n").rstrip("\r")
            if task == "classify":
                if not line:
                    continue
                tab = line.find("\t")
                if tab <= 0:
                    raise DataError(f"'{path}' line {number}: expected label<TAB>text.")
                tokens = [t for t in line[tab + 1:].split(" ") if t]
                if not tokens:
                    raise DataError(f"'{path}' line {number}: the text is empty.")
                sentences.append((tokens, [line[:tab]], number))
                continue
            if not line.strip():
                if words:
                    sentences.append((words, tags, start))
                words, tags = [], []
                continue
            fields = line.split("\t")
            if len(fields) != 2 or not fields[0] or not fields[1] or " " in fields[0] or " " in fields[1]:
                raise DataError(f"'{path}' line {number}: expected word<TAB>tag.")
            if not words:
                start = number
            words.append(fields[0])
            tags.append(fields[1])
    if words:
        sentences.append((words, tags, start))
    if not sentences:
        raise DataError(f"'{path}' holds no {'sentences' if task == 'tag' else 'examples'}.")
    return sentences


def spread(items, n):
    """n items spread evenly over the list, in order (all when n is 0 or not below the length)."""
    if n <= 0 or n >= len(items):
        return items
    return [items[i * len(items) // n] for i in range(n)]


class Corpus:
    """Vocabulary, labels and id sentences as LabeledCorpus.Load builds them; with a limit, each split is cut to
    `limit` sentences spread over its file, the vocabulary built from the cut train split, the labels (and the check of
    valid/test labels) from the whole train.txt."""

    def __init__(self, folder, task, min_count, limit=0, vocab=None, labels=None):
        self.folder, self.task = folder, task
        self.paths = {s: os.path.join(folder, f"{s}.txt") for s in ("train", "valid", "test")}
        full = {s: read_file(p, task) for s, p in self.paths.items()}
        raw = {s: spread(sentences, limit) for s, sentences in full.items()}
        if vocab is None:
            counts, order = {}, []
            for words, _, _ in raw["train"]:
                for w in words:
                    if w in counts:
                        counts[w] += 1
                    else:
                        counts[w] = 1
                        order.append(w)
            vocab = [UNK] + [w for w in order if counts[w] >= min_count and w != UNK]
        if labels is None:  # from the whole train.txt, so that a slice keeps every label the folder has
            labels = list(dict.fromkeys(l for _, ls, _ in full["train"] for l in ls))
        self.vocab, self.labels = vocab, labels
        word_ids = {w: i for i, w in enumerate(vocab)}
        label_ids = {l: i for i, l in enumerate(labels)}
        self.unk = word_ids[UNK]
        self.splits = {}
        for split, sentences in raw.items():
            out = []
            for words, ls, line in sentences:
                ids = []
                for k, label in enumerate(ls):
                    if label not in label_ids:
                        raise DataError(f"'{self.paths[split]}' line {line + (k if task == 'tag' else 0)}: "
                                        f"the label '{label}' does not occur in train.txt.")
                    ids.append(label_ids[label])
                out.append(([word_ids.get(w, self.unk) for w in words], ids, line))
            self.splits[split] = out


class Batches:
    """SentenceBatches: sentences sorted by length (ties by position) cut into fixed batches of batch_size, each
    time-major [T, B] padded with token 0; labels [T, B] (-100 beyond a sentence) or [B]."""

    def __init__(self, sentences, task, batch_size, max_length, source):
        for tokens, _, line in sentences:
            if len(tokens) > max_length:
                raise DataError(f"'{source}' line {line}: a sentence of {len(tokens)} tokens is longer than the "
                                f"longest batch allows ({max_length}; see --max-length).")
        order = sorted(range(len(sentences)), key=lambda i: (len(sentences[i][0]), i))
        self.batches = []
        for s in range(0, len(order), batch_size):
            members = [sentences[i] for i in order[s:s + batch_size]]
            lengths = torch.tensor([len(m[0]) for m in members], dtype=torch.long)
            T, B = int(lengths.max()), len(members)
            tokens = torch.zeros(T, B, dtype=torch.long)
            labels = torch.full((T, B), -100, dtype=torch.long) if task == "tag" else torch.empty(B, dtype=torch.long)
            for b, (toks, labs, _) in enumerate(members):
                tokens[:len(toks), b] = torch.tensor(toks)
                if task == "tag":
                    labels[:len(toks), b] = torch.tensor(labs)
                else:
                    labels[b] = labs[0]
            self.batches.append((tokens, lengths, labels))
        self.words = sum(len(s[0]) for s in sentences)

    def __len__(self):
        return len(self.batches)


# ----------------------------------------------------------------------------- model

class TrainableLabeler(Labeler):
    """make_labeler_golden.Labeler with SentenceLabeler's dropout: on the embedding, between layers (nn.LSTM's own
    dropout, on the whole [forward | reverse] output of a layer) and on the top layer's output; classifier features
    pooled from that dropped-out output (final: forward at t = len-1, reverse at t = 0; or the mean over the words)."""

    def __init__(self, vocab_size, opts, num_labels):
        head = "token_labels" if opts["task"] == "tag" else "sequence_label"
        super().__init__(vocab_size, opts["embedding_size"], opts["hidden_size"], opts["layers"], opts["cell"],
                         opts["bidirectional"], num_labels, head, None if head == "token_labels" else opts["pooling"])
        self.drop = nn.Dropout(opts["dropout"])
        self.rnn.dropout = float(opts["dropout"])  # read by nn.LSTM/nn.GRU's forward; applies between layers only

    def forward(self, tokens, lengths):
        """Returns logits [N, C]: N = the batch's tokens in time-major order (tag) or its sentences (classify)."""
        T = tokens.size(0)
        emb = self.drop(self.encoder(tokens))
        packed, _ = self.rnn(pack_padded_sequence(emb, lengths, enforce_sorted=False))
        output, _ = pad_packed_sequence(packed, total_length=T)  # [T, B, D], 0 beyond each sentence
        output = self.drop(output)
        if self.head == "token_labels":
            mask = torch.arange(T).unsqueeze(1) < lengths.unsqueeze(0)
            return self.decoder(output[mask])  # boolean indexing keeps time-major order
        if self.pooling == "final":
            H = self.rnn.hidden_size
            features = output[lengths - 1, torch.arange(lengths.numel()), :H]
            if self.bidirectional:
                features = torch.cat([features, output[0, :, H:]], dim=1)
        else:
            features = output.sum(0) / lengths.to(output.dtype).unsqueeze(1)
        return self.decoder(features)


def batch_targets(labels, lengths, task):
    if task == "classify":
        return labels
    mask = torch.arange(labels.size(0)).unsqueeze(1) < lengths.unsqueeze(0)
    return labels[mask]


# ----------------------------------------------------------------------------- evaluation

@torch.no_grad()
def evaluate(model, batches, task, num_labels, unk):
    """LabelerTrainer.Evaluate: accuracy, accuracy on tokens read as <unk> (tag), macro-F1, mean CE per label."""
    was_training = model.training
    model.eval()
    tp = torch.zeros(num_labels, dtype=torch.long)
    predicted = torch.zeros(num_labels, dtype=torch.long)
    actual = torch.zeros(num_labels, dtype=torch.long)
    total = correct = unk_total = unk_correct = 0
    loss = 0.0
    for tokens, lengths, labels in batches.batches:
        logits = model(tokens, lengths)
        truth = batch_targets(labels, lengths, task)
        guess = logits.argmax(1)
        loss += F.cross_entropy(logits, truth, reduction="sum").item()
        hit = guess == truth
        total += truth.numel()
        correct += int(hit.sum())
        actual += torch.bincount(truth, minlength=num_labels)
        predicted += torch.bincount(guess, minlength=num_labels)
        tp += torch.bincount(truth[hit], minlength=num_labels)
        if task == "tag":
            is_unk = batch_targets(tokens, lengths, task) == unk
            unk_total += int(is_unk.sum())
            unk_correct += int((hit & is_unk).sum())
    model.train(was_training)
    present = (actual + predicted) > 0
    f1 = (2.0 * tp[present].double() / (actual[present] + predicted[present]).double())
    return {"labels": total, "accuracy": correct / total, "unknown_word_labels": unk_total,
            "unknown_word_accuracy": unk_correct / unk_total if unk_total else float("nan"),
            "macro_f1": float(f1.mean()) if present.any() else 0.0, "loss": loss / total}


def named_nan(value):
    """NaN (no unknown words, or classify) as Dopant's JSON writes it: the string "NaN"."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {k: named_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [named_nan(v) for v in value]
    return value


def majority(corpus, split, label):
    labels = [l for _, ls, _ in corpus.splits[split] for l in ls]
    return sum(l == label for l in labels) / len(labels)


# ----------------------------------------------------------------------------- training

def train_epoch(model, optimizer, batches, opts, lr, epoch, num_labels):
    """One pass over the batches in a new random order. Returns (loss_sum, labels, words, seconds, diverged):
    diverged = (batch, loss per label) of the first batch whose loss is not finite or above twice a uniform
    guess's (the epoch is then abandoned), else None."""
    model.train()
    limit = 2 * math.log(max(num_labels, 2))
    order = torch.randperm(len(batches)).tolist()
    loss_sum, count, words, t0 = 0.0, 0, 0, time.perf_counter()
    for i, k in enumerate(order):
        tokens, lengths, labels = batches.batches[k]
        model.zero_grad(set_to_none=True)
        logits = model(tokens, lengths)
        targets = batch_targets(labels, lengths, opts["task"])
        loss = F.cross_entropy(logits, targets)  # mean over the batch's labels
        value = loss.item()
        if not value <= limit:
            return loss_sum, count, words, time.perf_counter() - t0, (i + 1, value)
        loss.backward()
        if optimizer is None:
            dl.clip_and_step(model.parameters(), opts["clip"], lr)
        else:
            dl.clip_and_adam_step(model.parameters(), opts["clip"], optimizer)
        loss_sum += value * targets.numel()
        count += targets.numel()
        words += int(lengths.sum())
    return loss_sum, count, words, time.perf_counter() - t0, None


def save_checkpoint(path, model, optimizer, opts, corpus, state):
    ck = dict(state, model=model.state_dict(), optimizer=optimizer.state_dict() if optimizer is not None else None,
              options=opts, vocab=corpus.vocab, labels=corpus.labels, rng=torch.get_rng_state(),
              torch_version=torch.__version__)
    dl.atomic_write(path, lambda f: torch.save(ck, f))


def main(argv=None):
    args, opts = parse_args(argv)
    blas_threads = dl.set_threads(args.threads)
    folder = os.path.expanduser(args.data)
    resume = None
    if args.resume:
        if os.path.exists(args.checkpoint):
            resume = torch.load(args.checkpoint)
            saved = resume["options"]
            for k, v in opts.items():
                if k != "epochs" and saved.get(k) != v:
                    fail(f"the checkpoint's {k} is {saved.get(k)!r}, the command line's {v!r}")
        else:
            log(f"no checkpoint at {args.checkpoint}; starting fresh")
    try:
        corpus = Corpus(folder, opts["task"], opts["min_count"], args.limit_sentences,
                        resume["vocab"] if resume else None, resume["labels"] if resume else None)
        train = Batches(corpus.splits["train"], opts["task"], opts["batch_size"], opts["max_length"], corpus.paths["train"])
        valid = Batches(corpus.splits["valid"], opts["task"], opts["batch_size"], 1 << 62, "evaluation")
        test = Batches(corpus.splits["test"], opts["task"], opts["batch_size"], 1 << 62, "evaluation")
    except DataError as e:
        fail(str(e))
    C = len(corpus.labels)

    torch.manual_seed(opts["seed"])  # one stream, as Dopant's: initialization, then batch order and dropout
    model = TrainableLabeler(len(corpus.vocab), opts, C)
    model.init_uniform(opts["init_range"])
    optimizer = dl.make_optimizer(model, opts["optimizer"], opts["learning_rate"])
    nparams = sum(p.numel() for p in model.parameters())
    state = dict(epochs_completed=0, history=[], divergences=[], lr_scale=1.0, train_seconds=0.0, train_words=0,
                 train_labels=0)
    if resume:
        model.load_state_dict(resume["model"])
        if optimizer is not None:
            optimizer.load_state_dict(resume["optimizer"])
        torch.set_rng_state(resume["rng"])
        state = {k: resume[k] for k in state}
        log(f"resuming {args.checkpoint} after epoch {state['epochs_completed']} of {opts['epochs']}")

    kind = "tagger" if opts["task"] == "tag" else "classifier"
    log(f"training a {kind}: {opts['layers']} x {opts['hidden_size']} {'bidirectional ' if opts['bidirectional'] else ''}"
        f"{opts['cell'].upper()}, embedding {opts['embedding_size']}, vocabulary {len(corpus.vocab)}, {C} labels "
        f"({nparams:,} parameters) on {folder}, {len(corpus.splits['train']):,} training "
        f"{'sentences' if opts['task'] == 'tag' else 'examples'} in {len(train)} batches, {opts['epochs']} epochs, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads (BLAS {blas_threads})")

    while state["epochs_completed"] < opts["epochs"]:
        epoch = state["epochs_completed"] + 1
        # TrainingSnapshot: weights, optimizer state and the generator, so a rolled-back epoch redraws the same order and masks
        snapshot = (copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict()) if optimizer else None,
                    torch.get_rng_state())
        while True:
            lr = dl.lr_for_epoch(opts["learning_rate"] * state["lr_scale"], opts["decay"], opts["decay_after"], epoch)
            dl.set_lr(optimizer, lr)
            loss_sum, count, words, seconds, diverged = train_epoch(model, optimizer, train, opts, lr, epoch, C)
            if diverged is None:
                break
            scale = state["lr_scale"] * opts["rollback_learning_rate_factor"]
            state["divergences"].append({"epoch": epoch, "window": diverged[0], "loss": diverged[1],
                                         "learning_rate_scale": scale})
            model.load_state_dict(snapshot[0])
            if optimizer is not None:
                optimizer.load_state_dict(copy.deepcopy(snapshot[1]))
            torch.set_rng_state(snapshot[2])
            if len(state["divergences"]) > opts["max_rollbacks"]:
                fail(f"training diverged in epoch {epoch} at batch {diverged[0]} (loss {diverged[1]:.4g} per label) "
                     f"after {len(state['divergences']) - 1} roll-back(s) (--max-rollbacks {opts['max_rollbacks']}); "
                     "try a lower --lr")
            state["lr_scale"] = scale
            log(f"epoch {epoch}/{opts['epochs']} diverged at batch {diverged[0]} (loss {diverged[1]:.4g} per label): "
                f"rolled back to the epoch's start; initial learning rate now {opts['learning_rate'] * scale:.4g}")
        score = evaluate(model, valid, opts["task"], C, corpus.unk)
        state["history"].append({"epoch": epoch, "learning_rate": lr, "train_loss": loss_sum / count, "valid": score,
                                 "labels_per_second": count / seconds, "seconds": seconds,
                                 "tokens_per_second": words / seconds})
        state["epochs_completed"] = epoch
        state["train_seconds"] += seconds
        state["train_words"] += words
        state["train_labels"] += count
        if args.checkpoint:
            save_checkpoint(args.checkpoint, model, optimizer, opts, corpus, state)
        log(f"epoch {epoch}/{opts['epochs']} done: train loss {loss_sum / count:.4f}, valid accuracy "
            f"{score['accuracy']:.2%}, macro-F1 {score['macro_f1']:.4f}, lr {lr:.4g}, {count / seconds:,.0f} labels/s, "
            f"{seconds:.1f} s" + (f"; checkpoint {args.checkpoint}" if args.checkpoint else ""))

    valid_score = evaluate(model, valid, opts["task"], C, corpus.unk)
    test_score = evaluate(model, test, opts["task"], C, corpus.unk)
    top = Counter(l for _, ls, _ in corpus.splits["train"] for l in ls).most_common(1)[0][0]
    seconds = state["train_seconds"]
    result = {
        "task": opts["task"], "valid": valid_score, "test": test_score,
        "train_seconds": seconds,
        "tokens_per_s": state["train_words"] / seconds if seconds else None,
        "labels_per_s": state["train_labels"] / seconds if seconds else None,
        "baseline": {"majority_label": corpus.labels[top], "valid_accuracy": majority(corpus, "valid", top),
                     "test_accuracy": majority(corpus, "test", top)},
        "options": dict(dopant_options(opts), limit_sentences=args.limit_sentences),
        "epochs": state["history"], "divergences": state["divergences"],
        "vocab_size": len(corpus.vocab), "label_count": C, "parameters": nparams,
        "torch_version": torch.__version__, "threads": torch.get_num_threads(), "blas_threads": blas_threads,
    }
    print(json.dumps(named_nan(result)), flush=True)
    return result


if __name__ == "__main__":
    main()
