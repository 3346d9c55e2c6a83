#!/usr/bin/env -S /usr/bin/python3
"""Zaremba et al. (2014) LSTM word LM in PyTorch, with Dopant's exact semantics; also Dopant's
character-LM preset (charlm: 2 x 512, 64-wide embeddings, Adam).

  /usr/bin/python3 bench/pytorch/word_lm.py --data ~/.cache/dopant/brown-ptb --preset small \
      [--checkpoint run.pt [--resume]] [--bench-batches N]
  /usr/bin/python3 bench/pytorch/word_lm.py --data ~/.cache/dopant/brown-chars --preset charlm

Prints progress about every 5% of an epoch and, at the end, one JSON line (the last line of
stdout) with valid_ppl, test_ppl, tokens_per_s (training only), config, per-epoch valid ppl,
elapsed_s, torch_version, threads; and valid_bpc, test_bpc (log2 of the perplexities) when the
preset is charlm or every vocabulary entry is a single character (besides <eos>/<unk>).

--optimizer adam: the same clipping, then torch.optim.Adam (beta1 0.9, beta2 0.999, eps 1e-8)
at the epoch's lr (the same decay rule as SGD); its state is saved in the checkpoint.
"""

import argparse
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dopant_lm as dl  # noqa: E402

FIELDS = ["layers", "hidden", "bptt", "epochs", "lr", "decay", "decay_after", "init",
          "dropout", "clip", "batch_size", "tied", "emsize", "optimizer"]
# What a checkpoint written before a field existed meant by it.
FIELD_DEFAULTS = {"emsize": None, "optimizer": "sgd"}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="PTB-format folder (train/valid/test.txt)")
    ap.add_argument("--preset", choices=sorted(dl.PRESETS), default="small")
    ap.add_argument("--layers", type=int)
    ap.add_argument("--hidden", type=int)
    ap.add_argument("--emsize", type=int, help="embedding width (default: the preset's; small/medium/large: the hidden size)")
    ap.add_argument("--bptt", type=int)
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--decay", type=float)
    ap.add_argument("--decay-after", type=int)
    ap.add_argument("--init", type=float)
    ap.add_argument("--dropout", type=float)
    ap.add_argument("--clip", type=float)
    ap.add_argument("--batch-size", type=int)
    ap.add_argument("--tied", action=argparse.BooleanOptionalAction, default=None)
    ap.add_argument("--optimizer", choices=["sgd", "adam"], help="default: the preset's (charlm: adam)")
    ap.add_argument("--eval-batch-size", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2, help="torch and BLAS threads")
    ap.add_argument("--checkpoint", help="written after every epoch (atomically)")
    ap.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    ap.add_argument("--bench-batches", type=int, default=0,
                    help="train only N windows after 3 warm-up windows, report tokens/s, no eval")
    args = ap.parse_args(argv)
    cfg = dict(dl.PRESETS[args.preset])
    for k in FIELDS:
        v = getattr(args, k)
        if v is not None:
            cfg[k] = v
    cfg.update(preset=args.preset, seed=args.seed, eval_batch_size=args.eval_batch_size)
    if args.resume and not args.checkpoint:
        ap.error("--resume needs --checkpoint")
    return args, cfg


def save_checkpoint(path, model, optimizer, cfg, vocab, epoch, lr, history, train_time, train_tokens):
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,  # Adam's moments and steps
        "epoch": epoch,  # last completed epoch (1-based)
        "lr": lr,
        "config": cfg,
        "vocab": vocab,
        "history": history,
        "train_time": train_time,
        "train_tokens": train_tokens,
        "rng": {"torch": torch.get_rng_state()},
        "torch_version": torch.__version__,
    }
    dl.atomic_write(path, lambda f: torch.save(state, f))


def train_epoch(model, optimizer, data, cfg, lr, epoch):
    """One epoch from a zero state. Returns (tokens, seconds, mean loss)."""
    model.train()
    hidden = model.init_hidden(data.size(1))
    starts = list(dl.window_starts(data, cfg["bptt"]))
    n = len(starts)
    log_every = max(1, n // 20)
    tokens, t0 = 0, time.perf_counter()
    int_tokens, int_loss, int_windows, int_t0 = 0, 0.0, 0, t0
    ep_loss_sum, ep_targets = 0.0, 0
    for k, i in enumerate(starts):
        inputs, targets = dl.get_window(data, i, cfg["bptt"])
        loss, _, hidden = dl.train_window(model, inputs, targets, hidden, cfg["clip"], lr, optimizer)
        if not math.isfinite(loss):
            raise FloatingPointError(f"non-finite loss at epoch {epoch}, window {k}")
        nt = targets.numel()
        tokens += nt
        int_tokens += nt
        int_loss += loss * nt
        int_windows += 1
        ep_loss_sum += loss * nt
        ep_targets += nt
        if (k + 1) % log_every == 0 or k + 1 == n:
            now = time.perf_counter()
            avg = int_loss / int_tokens
            print(f"| epoch {epoch:3d} | {k + 1:5d}/{n:5d} windows | lr {lr:.4g} | "
                  f"{(now - int_t0) * 1000 / int_windows:7.1f} ms/window | "
                  f"{int_tokens / (now - int_t0):8.0f} tok/s | loss {avg:6.3f} | ppl {math.exp(avg):9.2f}",
                  flush=True)
            int_tokens, int_loss, int_windows, int_t0 = 0, 0.0, 0, now
    return tokens, time.perf_counter() - t0, ep_loss_sum / max(ep_targets, 1)


def bench(model, optimizer, train, cfg, n):
    """3 warm-up windows, then n timed windows (cycling over the data if it is short)."""
    starts = list(dl.window_starts(train, cfg["bptt"]))
    model.train()
    hidden = model.init_hidden(train.size(1))
    tokens, t0, losses = 0, None, []
    for k in range(3 + n):
        if k == 3:
            t0 = time.perf_counter()
        i = starts[k % len(starts)]
        if k and i == 0:
            hidden = model.init_hidden(train.size(1))
        inputs, targets = dl.get_window(train, i, cfg["bptt"])
        loss, _, hidden = dl.train_window(model, inputs, targets, hidden, cfg["clip"], cfg["lr"], optimizer)
        losses.append(loss)
        if k >= 3:
            tokens += targets.numel()
    dt = time.perf_counter() - t0
    return tokens, dt, losses


def main(argv=None):
    args, cfg = parse_args(argv)
    blas_threads = dl.set_threads(args.threads)
    t_start = time.perf_counter()

    corpus = dl.Corpus(os.path.expanduser(args.data))
    V = len(corpus)
    train = dl.batchify(corpus.train, cfg["batch_size"])
    valid = dl.batchify(corpus.valid, cfg["eval_batch_size"])
    test = dl.batchify(corpus.test, cfg["eval_batch_size"])
    print(f"data {args.data}: vocab {V}, train {corpus.train.numel()} tokens -> {tuple(train.shape)}, "
          f"valid {corpus.valid.numel()}, test {corpus.test.numel()}; torch {torch.__version__}, "
          f"threads {torch.get_num_threads()} (BLAS {blas_threads})", flush=True)

    torch.manual_seed(cfg["seed"])
    model = dl.RNNModel(V, cfg["hidden"], cfg["layers"], cfg["dropout"], cfg["tied"], ninp=cfg["emsize"])
    model.init_uniform(cfg["init"])
    optimizer = dl.make_optimizer(model, cfg["optimizer"], cfg["lr"])
    characters = cfg["preset"] == "charlm" or dl.is_character_vocab(corpus.idx2word)
    nparams = sum(p.numel() for p in model.parameters())
    print("config " + json.dumps(cfg) + f"; {nparams} parameters", flush=True)

    result = {"torch_version": torch.__version__, "threads": torch.get_num_threads(),
              "blas_threads": blas_threads,
              "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "vocab_size": V, "parameters": nparams, "config": cfg}

    if args.bench_batches:
        tokens, dt, losses = bench(model, optimizer, train, cfg, args.bench_batches)
        result.update(mode="bench", bench_batches=args.bench_batches, tokens=tokens, seconds=dt,
                      tokens_per_s=tokens / dt, ms_per_window=dt * 1000 / args.bench_batches,
                      first_loss=losses[0], last_loss=losses[-1],
                      elapsed_s=time.perf_counter() - t_start)
        print(json.dumps(result), flush=True)
        return result

    first_epoch, history, train_time, train_tokens = 1, [], 0.0, 0
    if args.resume and os.path.exists(args.checkpoint):
        ck = torch.load(args.checkpoint)
        for k in FIELDS + ["seed", "eval_batch_size"]:
            saved, now = ck["config"].get(k, FIELD_DEFAULTS.get(k)), cfg[k]
            if k == "emsize":  # None = the hidden size
                saved, now = saved or ck["config"]["hidden"], now or cfg["hidden"]
            if k != "epochs" and saved != now:
                sys.exit(f"checkpoint config differs: {k} = {saved!r}, now {now!r}")
        if ck["vocab"] != corpus.idx2word:
            sys.exit("checkpoint vocabulary differs from the data's")
        model.load_state_dict(ck["model"])
        if optimizer is not None:
            if ck.get("optimizer") is None:
                sys.exit("checkpoint holds no optimizer state to resume Adam from")
            optimizer.load_state_dict(ck["optimizer"])
        torch.set_rng_state(ck["rng"]["torch"])
        first_epoch, history = ck["epoch"] + 1, ck["history"]
        cfg["resumed_after_epoch"] = ck["epoch"]
        train_time, train_tokens = ck["train_time"], ck["train_tokens"]
        print(f"resumed from {args.checkpoint} after epoch {ck['epoch']} (lr {ck['lr']:.4g})", flush=True)
    elif args.resume:
        print(f"no checkpoint at {args.checkpoint}; starting fresh", flush=True)

    for epoch in range(first_epoch, cfg["epochs"] + 1):
        lr = dl.lr_for_epoch(cfg["lr"], cfg["decay"], cfg["decay_after"], epoch)
        dl.set_lr(optimizer, lr)
        tokens, dt, train_loss = train_epoch(model, optimizer, train, cfg, lr, epoch)
        train_time += dt
        train_tokens += tokens
        t_eval = time.perf_counter()
        vppl = dl.evaluate(model, valid, cfg["bptt"])[0]
        history.append({"epoch": epoch, "lr": lr, "train_ppl": math.exp(train_loss), "valid_ppl": vppl,
                        "tokens_per_s": tokens / dt, "train_s": dt})
        if characters:
            history[-1]["valid_bpc"] = math.log2(vppl)
        print(f"= end of epoch {epoch:3d} | lr {lr:.4g} | train {dt:7.1f} s, {tokens / dt:8.0f} tok/s | "
              f"train ppl {math.exp(train_loss):9.2f} | valid ppl {vppl:9.2f} | "
              + (f"valid bpc {math.log2(vppl):6.4f} | " if characters else "")
              + f"eval {time.perf_counter() - t_eval:5.1f} s", flush=True)
        if args.checkpoint:
            save_checkpoint(args.checkpoint, model, optimizer, cfg, corpus.idx2word, epoch, lr, history,
                            train_time, train_tokens)

    vppl = dl.evaluate(model, valid, cfg["bptt"])[0]
    tppl = dl.evaluate(model, test, cfg["bptt"])[0]
    result.update(mode="train", valid_ppl=vppl, test_ppl=tppl,
                  tokens_per_s=train_tokens / train_time if train_time else None,
                  train_tokens=train_tokens, train_s=train_time,
                  epoch_valid_ppl=[h["valid_ppl"] for h in history], epochs=history,
                  elapsed_s=time.perf_counter() - t_start)
    if characters:
        result.update(valid_bpc=math.log2(vppl), test_bpc=math.log2(tppl))
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
