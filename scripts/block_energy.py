#!/usr/bin/env -S /usr/bin/python3
"""How much of a trained LSTM's weights a block-sparse S can hold: for each LSTM matrix of a Dopant model, the share of
its squared weights (its energy) in the strongest entries or blocks when S keeps a given density, for each block shape;
and for 16x1 blocks, the same after a permutation of the hidden units that groups units with similar column patterns
into the same 16 rows (the runtime would apply it once to every matrix that reads or writes the hidden state).

  /usr/bin/python3 scripts/block_energy.py MODEL.safetensors [--density 0.036] [--shapes 1x1 16x1 8x1 4x4 1x8 4x4+10% 1x1/29 1x1@16x64]

Needs numpy (Debian's python3-numpy, installed with apt-get if missing). Reads the safetensors file itself.
"""
import argparse
import json
import struct
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    subprocess.run(["apt-get", "install", "-y", "python3-numpy"], check=True, stdout=subprocess.DEVNULL)
    import numpy as np


def load(path):
    """The float32 tensors of a safetensors file and its metadata."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] != "F32":
            continue
        start, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[start:end], dtype=np.float32).reshape(entry["shape"])
    return tensors, header.get("__metadata__", {})


def kept_energy(energy, rows, cols, keep, loose=0):
    """Share of energy (squared weights) in the keep strongest rows x cols blocks (whole blocks only); with loose > 0
    (a share, such as 0.1), the blocks hold at most (1 - loose) of keep and the strongest single entries outside them
    the rest, as `--block RxC+P%` keeps them at its final sparsity."""
    r, c = energy.shape
    cut = energy[:r // rows * rows, :c // cols * cols]
    blocks = cut.reshape(r // rows, rows, c // cols, cols).sum(axis=(1, 3))
    count = int(round((1 - loose) * keep)) // (rows * cols)
    order = np.argsort(blocks, axis=None)[::-1][:count]
    held = blocks.ravel()[order].sum()
    if loose:
        outside = energy.copy()
        mask = np.zeros(blocks.size, dtype=bool)
        mask[order] = True
        mask = np.repeat(np.repeat(mask.reshape(blocks.shape), rows, axis=0), cols, axis=1)
        outside[:mask.shape[0], :mask.shape[1]][mask] = 0
        rest = keep - count * rows * cols
        flat = outside.ravel()
        held += np.partition(flat, flat.size - rest)[flat.size - rest:].sum()
    return held / energy.sum()


def balanced_energy(energy, group, density):
    """Share of energy in the strongest N entries of every run of `group` consecutive entries of a row, N = group -
    round((1 - density) * group) (midpoints away from zero) and a shorter last run keeping min(N, its length), as
    `--block 1x1/M` keeps them at its final sparsity."""
    sparsity = 1 - density
    n = group - int(np.floor(sparsity * group + 0.5))
    held = 0.0
    for start in range(0, energy.shape[1], group):
        run = energy[:, start:start + group]
        k = min(n, run.shape[1])
        if k:
            held += np.sort(run, axis=1)[:, -k:].sum()
    return held / energy.sum()


def slice_balanced_energy(energy, rows, cols, density, sort_rows):
    """Share of energy when every slice of `rows` rows and window of `cols` columns keeps the same number of entries in
    each of the slice's rows (each row's strongest in the window), the counts chosen freely across slices and windows
    under the density budget: `--block 1x1@RxC` at its first pruning step, with sort_rows (the rows first ordered by
    their sum of squares, strongest first, as that step orders them, so that a slice gathers alike rows); without, the
    rows in their natural order."""
    if sort_rows:
        energy = energy[np.argsort(-energy.sum(axis=1), kind="stable")]
    r, c = energy.shape
    gains = [(-np.sort(-energy[s:s + rows, w:w + cols], axis=1)).sum(axis=0)
             for s in range(0, r, rows) for w in range(0, c, cols)]
    # A slice-window's k-th count adds its rows' k-th strongest entries; these gains fall with k, so the strongest
    # increments over all slice-windows are the best counts.
    g = np.concatenate(gains)
    steps = int(round(density * energy.size)) // rows
    return np.partition(g, g.size - steps)[g.size - steps:].sum() / energy.sum()


def similar_unit_order(profiles, group):
    """A permutation of the units in runs of `group`: each run starts from the strongest unit left and adds the units
    whose normalized column patterns are closest to the run's so far (greedy)."""
    norms = np.sqrt(profiles)
    norms /= np.linalg.norm(norms, axis=1, keepdims=True)
    similarity = norms @ norms.T
    strength = profiles.sum(axis=1)
    left = np.ones(len(profiles), dtype=bool)
    order = []
    while left.any():
        first = int(np.argmax(np.where(left, strength, -np.inf)))
        run, left[first] = [first], False
        score = similarity[first].copy()
        while len(run) < group and left.any():
            nxt = int(np.argmax(np.where(left, score, -np.inf)))
            run.append(nxt)
            left[nxt] = False
            score += similarity[nxt]
        order += run
    return np.array(order)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--density", type=float, default=0.036, help="share of each matrix S keeps (25x with S at 90%%: 0.036)")
    ap.add_argument("--shapes", nargs="+", default=["1x1", "16x1", "8x1", "4x4", "1x8"])
    args = ap.parse_args()
    try:
        tensors, meta = load(args.model)
    except (OSError, ValueError, KeyError, struct.error) as e:
        sys.exit(f"{args.model}: not a readable safetensors file ({e})")
    config = json.loads(meta.get("dopant.config", "{}"))
    hidden, layers = config.get("hidden_size"), config.get("num_layers")
    if not hidden or not layers or "rnn.weight_ih_l0" not in tensors:
        sys.exit(f"{args.model}: not a dense Dopant LSTM model (no hidden_size, num_layers or rnn.weight_ih_l0)")
    # RxC, RxC+P% (P percent of the kept entries loose), 1x1/M (N:M over single entries), 1x1@RxC (single entries
    # balanced in tiles) or 1x1@RxC-inorder (the same with the rows in their natural order).
    for s in args.shapes:
        if "/" in s and s.split("/")[0] != "1x1":
            sys.exit(f"{s}: the proxy takes N:M patterns over single entries only (1x1/M)")
    shapes = [(-int(s.split("@")[1].split("-")[0].split("x")[0]), int(s.split("@")[1].split("-")[0].split("x")[1]),
               not s.endswith("-inorder")) if "@" in s else (0, 0, int(s.split("/")[1])) if "/" in s else
              tuple(map(int, s.split("+")[0].split("x"))) + (int(s.split("+")[1].rstrip("%")) / 100 if "+" in s else 0,)
              for s in args.shapes]
    print("| matrix | " + " | ".join(args.shapes) + " | 16x1, units permuted |")
    print("| --- " * (len(shapes) + 2) + "|")
    for layer in range(layers):
        energies = {m: tensors[f"rnn.weight_{m}_l{layer}"].astype(np.float64) ** 2 for m in ("ih", "hh")}
        # The four gates' rows of a unit move together, in both of the layer's matrices.
        profiles = np.concatenate([e.reshape(4, hidden, -1).transpose(1, 0, 2).reshape(hidden, -1) for e in energies.values()], axis=1)
        order = similar_unit_order(profiles, 16)
        rows = np.concatenate([gate * hidden + order for gate in range(4)])
        for m, energy in energies.items():
            keep = int(round(args.density * energy.size))
            shares = [slice_balanced_energy(energy, -r, c, args.density, loose) if r < 0
                      else balanced_energy(energy, loose, args.density) if r == 0 else kept_energy(energy, r, c, keep, loose)
                      for r, c, loose in shapes] + [kept_energy(energy[rows], 16, 1, keep)]
            print(f"| W_{m} layer {layer} | " + " | ".join(f"{100 * s:.1f}%" for s in shares) + " |")


if __name__ == "__main__":
    main()
