#!/usr/bin/env -S /usr/bin/python3
"""Zaremba et al. (2014) LSTM word LM in PyTorch, with Dopant's exact semantics; also Dopant's
character-LM preset (charlm: 2 x 256, 64-wide embeddings, Adam).

  /usr/bin/python3 bench/pytorch/word_lm.py --data ~/.cache/dopant/brown-ptb --preset small \
      [--checkpoint run.pt [--resume]] [--bench-batches N]
  /usr/bin/python3 bench/pytorch/word_lm.py --data ~/.cache/dopant/brown-chars --preset charlm

Prints progress about every 5% of an epoch and, at the end, one JSON line (the last line of
stdout) with valid_ppl, test_ppl, tokens_per_s (training only), config, per-epoch valid ppl,
elapsed_s, torch_version, threads; and valid_bpc, test_bpc (log2 of the perplexities) when the
preset is charlm or every vocabulary entry is a single character (besides <eos>/<unk>).

--optimizer adam: the same clipping, then torch.optim.Adam (beta1 0.9, beta2 0.999, eps 1e-8)
at the epoch's lr (the same decay rule as SGD); its state is saved in the checkpoint.

Compressed forms (throughput only: --method other than dense needs --bench-batches):

  /usr/bin/python3 bench/pytorch/word_lm.py --data ~/.cache/dopant/brown-ptb --preset medium \
      --bench-batches 30 --method dkp [--factor 25] [--doping-share 0.25] [--phase start|annealed]
  /usr/bin/python3 bench/pytorch/word_lm.py --self-check

--method compresses the LSTM's recurrent matrices (W_ih and W_hh of every layer, 4H x in each) as
Dopant's `bench train --method` does, at --factor F (a matrix's parameters / F); the embedding,
the decoder and the biases stay dense. Every forward materializes each W from its parts and runs
the LSTM on them through torch's own LSTM kernel (_VF.lstm, the call nn.LSTM makes), so autograd
reaches the parts and only the materialization differs from dense. dense (the default) is nn.LSTM,
unchanged.
  kp     W = sum_r kron(A_r, B_r), A_r M1 x N1, B_r M2 x N2: the divisors with M1*N1 closest to
         M2*N2 (medium's 2600x650: 52x25 (x) 50x26 as Dopant's; elsewhere the shape may differ from
         Dopant's; the chosen one is printed), the largest rank r with
         r * (M1*N1 + M2*N2) <= rows*cols/F. Materialized as one rank-r matrix product and a
         permutation (some 20x faster in torch 1.13 than summing torch.kron).
  dkp    kp at the rank (1 - share) of the budget allows, plus S * mask: S a dense tensor, mask a
         fixed 0/1 tensor, all ones at --phase start, keeping share/F of the entries (at random)
         at --phase annealed. share: --doping-share.
  lmf    W = U @ V at rank floor(rows*cols / (F * (rows + cols))).
  dlmf   lmf at (1 - share) of the budget, plus S * mask as for dkp.
  prune  W * mask: mask all ones at --phase start, keeping 1/F of the entries at --phase annealed.
kp and lmf have nothing to anneal: their JSON reports phase "start" whatever --phase says (as Dopant
labels them). Dopant's hmd and dhmd have no peer here. The factors are drawn so that the product
part of W has the spread of the dense init (U(-init, init)); S and pruned weights are U(-init, init).
The JSON line then carries method, factor, phase, doping_share (doped forms), recurrent_parameters
(the recurrent matrices' live parameters in that phase: the factors plus the entries the mask keeps),
recurrent_dense_parameters and recurrent_forms (one description per matrix). --self-check checks the
forms on a tiny LSTM (parameter counts, materialization, gradients) and exits.
"""

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
from torch import _VF

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dopant_lm as dl  # noqa: E402

FIELDS = ["layers", "hidden", "bptt", "epochs", "lr", "decay", "decay_after", "init",
          "dropout", "clip", "batch_size", "tied", "emsize", "optimizer"]
# What a checkpoint written before a field existed meant by it.
FIELD_DEFAULTS = {"emsize": None, "optimizer": "sgd"}
METHODS = ("dense", "kp", "dkp", "lmf", "dlmf", "prune")
PHASES = ("start", "annealed")
DOPED = ("dkp", "dlmf")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="PTB-format folder (train/valid/test.txt); required unless --self-check")
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
    ap.add_argument("--method", choices=METHODS, default="dense",
                    help="form of the LSTM's recurrent matrices (needs --bench-batches unless dense)")
    ap.add_argument("--factor", type=float, default=25.0, help="with --method: the compression factor")
    ap.add_argument("--doping-share", type=float, default=0.25,
                    help="with dkp and dlmf: the share of the budget S keeps")
    ap.add_argument("--phase", choices=PHASES, default="annealed",
                    help="with dkp, dlmf and prune: masks all ones (start) or cut to the final sparsity (annealed)")
    ap.add_argument("--self-check", action="store_true", help="check the compressed forms on a tiny LSTM and exit")
    args = ap.parse_args(argv)
    if args.self_check:
        return args, None
    if not args.data:
        ap.error("--data is required")
    if args.method != "dense" and not args.bench_batches:
        ap.error(f"--method {args.method} needs --bench-batches (compressed forms are only timed, not trained)")
    if args.method != "dense" and not args.factor > 1:
        ap.error(f"--factor must be above 1 (got {args.factor:g})")
    if args.method in DOPED and not 0 < args.doping_share < 1:
        ap.error(f"--doping-share must be between 0 and 1 (got {args.doping_share:g})")
    cfg = dict(dl.PRESETS[args.preset])
    for k in FIELDS:
        v = getattr(args, k)
        if v is not None:
            cfg[k] = v
    cfg.update(preset=args.preset, seed=args.seed, eval_batch_size=args.eval_batch_size)
    if args.resume and not args.checkpoint:
        ap.error("--resume needs --checkpoint")
    return args, cfg


# ----------------------------------------------------------------------------- compressed recurrent matrices

def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def kronecker_shape(rows, cols):
    """(M1, N1, M2, N2) with M1*M2 = rows and N1*N2 = cols, M1*N1 closest to M2*N2; ties go to the most
    nearly square factors, then to the larger M1 (medium's 2600 x 650: 52x25 (x) 50x26, Dopant's pick)."""
    best_key, best = None, None
    for m1 in divisors(rows):
        for n1 in divisors(cols):
            m2, n2 = rows // m1, cols // n1
            key = (abs(m1 * n1 - m2 * n2), abs(m1 - n1) + abs(m2 - n2), -m1, -n1)
            if best_key is None or key < best_key:
                best_key, best = key, (m1, n1, m2, n2)
    return best


def product_init_bound(init, rank):
    """The bound a of U(-a, a) factors whose rank-`rank` sum of products has the spread of U(-init, init):
    rank * (a^2 / 3)^2 = init^2 / 3."""
    return math.sqrt(math.sqrt(3.0) * init / math.sqrt(rank))


class KroneckerSum(nn.Module):
    """W = sum_r kron(left[r], right[r]) at the largest rank whose factors fit in `budget` parameters."""

    def __init__(self, rows, cols, budget):
        super().__init__()
        m1, n1, m2, n2 = self.shape = kronecker_shape(rows, cols)
        self.rank = int(budget // (m1 * n1 + m2 * n2))
        if self.rank < 1:
            raise ValueError(f"a {rows}x{cols} matrix: {budget:.0f} parameters are too few for one Kronecker "
                             f"product of {m1}x{n1} and {m2}x{n2}")
        self.left = nn.Parameter(torch.empty(self.rank, m1, n1))
        self.right = nn.Parameter(torch.empty(self.rank, m2, n2))

    def reset_parameters(self, init):
        a = product_init_bound(init, self.rank)
        with torch.no_grad():
            self.left.uniform_(-a, a)
            self.right.uniform_(-a, a)

    def forward(self):
        # sum_r kron(A_r, B_r)[a*M2 + c, b*N2 + d] = sum_r A_r[a, b] B_r[c, d]: one rank-r product, then a permutation
        m1, n1, m2, n2 = self.shape
        w = self.left.reshape(self.rank, m1 * n1).t() @ self.right.reshape(self.rank, m2 * n2)
        return w.view(m1, n1, m2, n2).permute(0, 2, 1, 3).reshape(m1 * m2, n1 * n2)

    def live_parameters(self):
        return self.left.numel() + self.right.numel()

    def describe(self):
        m1, n1, m2, n2 = self.shape
        return f"kp rank {self.rank} of {m1}x{n1} (x) {m2}x{n2}"


class LowRank(nn.Module):
    """W = U @ V at the largest rank whose factors fit in `budget` parameters."""

    def __init__(self, rows, cols, budget):
        super().__init__()
        self.rank = int(budget // (rows + cols))
        if self.rank < 1:
            raise ValueError(f"a {rows}x{cols} matrix: {budget:.0f} parameters are too few for rank 1")
        self.u = nn.Parameter(torch.empty(rows, self.rank))
        self.v = nn.Parameter(torch.empty(self.rank, cols))

    def reset_parameters(self, init):
        a = product_init_bound(init, self.rank)
        with torch.no_grad():
            self.u.uniform_(-a, a)
            self.v.uniform_(-a, a)

    def forward(self):
        return self.u @ self.v

    def live_parameters(self):
        return self.u.numel() + self.v.numel()

    def describe(self):
        return f"lmf rank {self.rank}"


class MaskedDense(nn.Module):
    """W = weight * mask, mask a fixed 0/1 buffer: all ones (keep None) or keeping round(keep * rows * cols)
    entries drawn at random with `generator`."""

    def __init__(self, rows, cols, keep, generator, label):
        super().__init__()
        self.label = label
        self.weight = nn.Parameter(torch.empty(rows, cols))
        mask = torch.ones(rows * cols)
        if keep is not None:
            kept = torch.randperm(rows * cols, generator=generator)[:round(keep * rows * cols)]
            mask.zero_()[kept] = 1.0
        self.register_buffer("mask", mask.view(rows, cols))

    def reset_parameters(self, init):
        with torch.no_grad():
            self.weight.uniform_(-init, init)

    def forward(self):
        return self.weight * self.mask

    def live_parameters(self):
        return int(self.mask.sum().item())

    def describe(self):
        return f"{self.label} keeping {self.live_parameters()} of {self.mask.numel()}"


class Doped(nn.Module):
    """W = product() + sparse(): a Kronecker sum or low-rank product plus a masked dense S."""

    def __init__(self, product, sparse):
        super().__init__()
        self.product, self.sparse = product, sparse

    def reset_parameters(self, init):
        self.product.reset_parameters(init)
        self.sparse.reset_parameters(init)

    def forward(self):
        return self.product() + self.sparse()

    def live_parameters(self):
        return self.product.live_parameters() + self.sparse.live_parameters()

    def describe(self):
        return f"{self.product.describe()} + {self.sparse.describe()}"


def recurrent_form(method, rows, cols, factor, doping_share, phase, generator):
    """The module that materializes one rows x cols recurrent matrix in `method`'s form (see the docstring)."""
    budget = rows * cols / factor
    annealed = phase == "annealed"
    if method == "kp":
        return KroneckerSum(rows, cols, budget)
    if method == "lmf":
        return LowRank(rows, cols, budget)
    if method == "prune":
        return MaskedDense(rows, cols, 1.0 / factor if annealed else None, generator, "pruned")
    if method in DOPED:
        product = (KroneckerSum if method == "dkp" else LowRank)(rows, cols, (1.0 - doping_share) * budget)
        return Doped(product, MaskedDense(rows, cols, doping_share / factor if annealed else None, generator, "S"))
    raise ValueError(f"no compressed form {method!r}")


def effective_phase(method, phase):
    """The phase a JSON line reports: "dense" for dense, "start" for kp and lmf (nothing to anneal)."""
    if method == "dense":
        return "dense"
    return phase if method in ("dkp", "dlmf", "prune") else "start"


class CompressedLSTM(nn.Module):
    """A stand-in for RNNModel.rnn (an nn.LSTM: same input, (h, c) state and output) whose W_ih and W_hh of
    every layer are compressed forms, materialized on every forward and passed with the dense biases to
    _VF.lstm, the kernel nn.LSTM calls; dropout between layers as nn.LSTM's. forms: [ih_l0, hh_l0, ih_l1, ...]."""

    def __init__(self, ninp, nhid, nlayers, dropout, method, factor, doping_share, phase, seed):
        super().__init__()
        self.num_layers, self.dropout = nlayers, float(dropout) if nlayers > 1 else 0.0
        generator = torch.Generator().manual_seed(seed)
        self.forms, self.biases = nn.ModuleList(), nn.ParameterList()
        for k in range(nlayers):
            for cols in (ninp if k == 0 else nhid, nhid):
                self.forms.append(recurrent_form(method, 4 * nhid, cols, factor, doping_share, phase, generator))
                self.biases.append(nn.Parameter(torch.empty(4 * nhid)))

    def reset_parameters(self, init):
        """The forms' parameters (the biases keep RNNModel.init_uniform's U(-init, init))."""
        for form in self.forms:
            form.reset_parameters(init)

    def flat_weights(self):
        weights = []
        for k in range(self.num_layers):
            weights += [self.forms[2 * k](), self.forms[2 * k + 1](), self.biases[2 * k], self.biases[2 * k + 1]]
        return weights

    def forward(self, inputs, hx):
        output, h, c = _VF.lstm(inputs, hx, self.flat_weights(), True, self.num_layers, self.dropout,
                                self.training, False, False)
        return output, (h, c)

    def live_parameters(self):
        return sum(form.live_parameters() for form in self.forms)

    def dense_parameters(self):
        with torch.no_grad():
            return sum(form().numel() for form in self.forms)

    def describe(self):
        """One line per matrix: its name, shape and form."""
        names = [f"{kind}_l{k}" for k in range(self.num_layers) for kind in ("W_ih", "W_hh")]
        with torch.no_grad():
            return [f"{name} {'x'.join(map(str, form().shape))}: {form.describe()}"
                    for name, form in zip(names, self.forms)]


def self_check():
    """Each form on a tiny 2-layer LSTM (12 -> 10, factor 4): parameter counts against the budget rules,
    the materialized W against its definition (sum of torch.kron, U @ V, weight * mask), the LSTM output
    against nn.LSTM's with the same weights, and a backward pass reaching every part (none through a
    masked-out entry). Exits with one line on the first failure."""
    def check(ok, what):
        if not ok:
            sys.exit(f"self-check failed: {what}")

    torch.manual_seed(0)
    ninp, nhid, nlayers, factor, share, init = 12, 10, 2, 4.0, 0.25, 0.1
    shapes = [(4 * nhid, ninp), (4 * nhid, nhid)] + [(4 * nhid, nhid)] * 2
    for method in METHODS[1:]:
        for phase in PHASES:
            if effective_phase(method, phase) != phase:
                continue
            name = f"{method} {phase}"
            rnn = CompressedLSTM(ninp, nhid, nlayers, 0.0, method, factor, share, phase, seed=1)
            with torch.no_grad():
                for b in rnn.biases:
                    b.uniform_(-init, init)
            rnn.reset_parameters(init)
            for form, (rows, cols) in zip(rnn.forms, shapes):
                n, budget = rows * cols, rows * cols / factor
                w = form().detach()
                check(tuple(w.shape) == (rows, cols), f"{name}: W is {tuple(w.shape)}, not {rows}x{cols}")
                product = form.product if isinstance(form, Doped) else form
                sparse = form.sparse if isinstance(form, Doped) else form
                product_budget = (1 - share) * budget if isinstance(form, Doped) else budget
                if isinstance(product, KroneckerSum):
                    m1, n1, m2, n2 = product.shape
                    per_rank = m1 * n1 + m2 * n2
                    check(m1 * m2 == rows and n1 * n2 == cols, f"{name}: shape {product.shape}")
                    check(product.rank * per_rank <= product_budget < (product.rank + 1) * per_rank,
                          f"{name}: kp rank {product.rank} for a budget of {product_budget:g}")
                    check(product.live_parameters() == product.rank * per_rank, f"{name}: kp parameter count")
                    reference = sum(torch.kron(a, b) for a, b in zip(product.left, product.right)).detach()
                    check(torch.allclose(product().detach(), reference, atol=1e-6), f"{name}: kp != sum of torch.kron")
                if isinstance(product, LowRank):
                    kept_share = 1 - share if isinstance(form, Doped) else 1.0
                    check(product.rank == math.floor(kept_share * rows * cols / (factor * (rows + cols))),
                          f"{name}: lmf rank {product.rank}")
                    check(product.live_parameters() == product.rank * (rows + cols), f"{name}: lmf parameter count")
                    check(torch.allclose(product().detach(), (product.u @ product.v).detach()), f"{name}: lmf != U @ V")
                if isinstance(sparse, MaskedDense):
                    keep = (share / factor if isinstance(form, Doped) else 1 / factor) if phase == "annealed" else 1.0
                    check(sparse.live_parameters() == round(keep * n),
                          f"{name}: mask keeps {sparse.live_parameters()}, not {round(keep * n)}")
                    s = sparse().detach()
                    check(bool((s[sparse.mask == 0] == 0).all()), f"{name}: a masked-out entry reaches W")
                if phase == "annealed" or method in ("kp", "lmf"):
                    check(form.live_parameters() <= budget + 1, f"{name}: {form.live_parameters()} > budget {budget:g}")
            # the same numbers as nn.LSTM given the materialized weights
            x = torch.randn(5, 3, ninp)
            h0, c0 = torch.randn(nlayers, 3, nhid) * 0.1, torch.randn(nlayers, 3, nhid) * 0.1
            output, (h, c) = rnn(x, (h0, c0))
            reference = nn.LSTM(ninp, nhid, nlayers)
            with torch.no_grad():
                for p, w in zip(reference._flat_weights, rnn.flat_weights()):
                    p.copy_(w)
                ref_output, (ref_h, ref_c) = reference(x, (h0, c0))
            check(torch.allclose(output, ref_output, atol=1e-6) and torch.allclose(h, ref_h, atol=1e-6)
                  and torch.allclose(c, ref_c, atol=1e-6), f"{name}: output differs from nn.LSTM's")
            (output.square().sum() + h.sum() + c.sum()).backward()
            for pname, p in rnn.named_parameters():
                check(p.grad is not None and bool(torch.isfinite(p.grad).all()) and float(p.grad.abs().sum()) > 0,
                      f"{name}: no gradient for {pname}")
            for form in rnn.forms:
                sparse = form.sparse if isinstance(form, Doped) else form
                if isinstance(sparse, MaskedDense):
                    check(bool((sparse.weight.grad[sparse.mask == 0] == 0).all()),
                          f"{name}: gradient through a masked-out entry")
            print(f"{name:15s} {rnn.live_parameters():6d} of {rnn.dense_parameters()} recurrent parameters: "
                  + "; ".join(rnn.describe()))
    # one SGD window of the whole model with a compressed LSTM
    model = dl.RNNModel(50, nhid, nlayers, 0.5, ninp=ninp)
    model.rnn = CompressedLSTM(ninp, nhid, nlayers, 0.5, "dkp", factor, share, "annealed", seed=1)
    model.init_uniform(init)
    model.rnn.reset_parameters(init)
    before = [p.detach().clone() for p in model.parameters()]
    inputs = torch.randint(0, 50, (6, 4))
    loss, _, _ = dl.train_window(model, inputs, torch.randint(0, 50, (6, 4)), model.init_hidden(4), 5.0, 1.0)
    check(math.isfinite(loss), "RNNModel with a dkp LSTM: non-finite loss")
    check(all(not torch.equal(b, p) for b, p in zip(before, model.parameters())),
          "RNNModel with a dkp LSTM: a parameter did not move in an SGD step")
    print(f"self-check passed (torch {torch.__version__}): every form's parameter count, materialization, "
          f"output and gradients; an SGD window of RNNModel with a dkp LSTM (loss {loss:.3f})")


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
    if args.self_check:
        dl.set_threads(args.threads)
        self_check()
        return None
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
    phase = effective_phase(args.method, args.phase)
    factor = int(args.factor) if float(args.factor).is_integer() else args.factor
    if args.method != "dense":
        try:
            model.rnn = CompressedLSTM(model.ninp, cfg["hidden"], cfg["layers"], cfg["dropout"], args.method,
                                       args.factor, args.doping_share, phase, seed=cfg["seed"])
        except ValueError as e:
            sys.exit(f"word_lm.py: error: --method {args.method} --factor {factor}: {e}")
    model.init_uniform(cfg["init"])
    if args.method != "dense":
        model.rnn.reset_parameters(cfg["init"])
        forms = model.rnn.describe()
        recurrent, recurrent_dense = model.rnn.live_parameters(), model.rnn.dense_parameters()
        print(f"recurrent matrices, {args.method} {factor}x, phase {phase}: {recurrent} of {recurrent_dense} "
              "parameters live; " + "; ".join(forms), flush=True)
    else:
        forms = None
        recurrent = recurrent_dense = sum(p.numel() for name, p in model.rnn.named_parameters()
                                          if name.startswith("weight_"))
    optimizer = dl.make_optimizer(model, cfg["optimizer"], cfg["lr"])
    characters = cfg["preset"] == "charlm" or dl.is_character_vocab(corpus.idx2word)
    nparams = sum(p.numel() for p in model.parameters())
    print("config " + json.dumps(cfg) + f"; {nparams} parameters", flush=True)

    result = {"torch_version": torch.__version__, "threads": torch.get_num_threads(),
              "blas_threads": blas_threads,
              "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "vocab_size": V, "parameters": nparams, "config": cfg}

    if args.bench_batches:
        tokens, dt, losses = bench(model, optimizer, train, cfg, args.bench_batches)
        result.update(method=args.method, factor=None if args.method == "dense" else factor, phase=phase,
                      recurrent_parameters=recurrent, recurrent_dense_parameters=recurrent_dense)
        if args.method in DOPED:
            result.update(doping_share=args.doping_share)
        if forms:
            result.update(recurrent_forms=forms)
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
