#!/usr/bin/env -S /usr/bin/python3
"""How much of a trained model's embedding and decoder each compressed form can hold at a budget: the share of the
matrix's squared weights (its energy) in the nearest Kronecker product, the same plus the strongest entries of the rest
(doped KP), magnitude pruning, S balanced in 16x64 tiles, and a truncated SVD plus the strongest entries of the rest
(doped low rank). RESULTS.md's table for the whole model's shared matrix at 20x comes from

  /usr/bin/python3 scripts/vocabulary_energy.py runs/structured-medium/dense.safetensors

Needs numpy (Debian's python3-numpy). Reads the safetensors file itself (scripts/block_energy.py's reader).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from block_energy import load, np, slice_balanced_energy  # noqa: E402


def strongest(energy, density, total):
    """The share of `total` in the strongest `density` of the entries of `energy`."""
    flat = energy.ravel()
    k = int(density * flat.size)
    return np.partition(flat, flat.size - k)[flat.size - k:].sum() / total


def kronecker(w, shape, rank):
    """The nearest sum of `rank` Kronecker products A (m1 x n1) ⊗ B (m2 x n2) by Van Loan's rearrangement."""
    m1, n1, m2, n2 = shape
    rearranged = w.reshape(m1, m2, n1, n2).transpose(0, 2, 1, 3).reshape(m1 * n1, m2 * n2)
    u, s, vt = np.linalg.svd(rearranged, full_matrices=False)
    nearest = (u[:, :rank] * s[:rank]) @ vt[:rank]
    return nearest.reshape(m1, n1, m2, n2).transpose(0, 2, 1, 3).reshape(w.shape)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--matrices", nargs="+", default=["encoder.weight", "decoder.weight"])
    ap.add_argument("--kronecker", default="200x13,50x50", help="the Kronecker shape M1xN1,M2xN2 (medium's at 20x: 200x13,50x50)")
    args = ap.parse_args()
    tensors, _ = load(args.model)
    (m1, n1), (m2, n2) = (tuple(int(x) for x in part.split("x")) for part in args.kronecker.split(","))
    for name in args.matrices:
        w = tensors[name].astype(np.float64)
        energy = w * w
        total = energy.sum()
        u, s, vt = np.linalg.svd(w, full_matrices=False)
        cumulative = np.cumsum(s * s) / total
        print(f"{name} {w.shape[0]}x{w.shape[1]}, largest singular values {', '.join(f'{x:.1f}' for x in s[:5])}")
        for rank in (2, 6):
            k = kronecker(w, (m1, n1, m2, n2), rank)
            held = 1 - ((w - k) ** 2).sum() / total
            print(f"  Kronecker {m1}x{n1} (x) {m2}x{n2} rank {rank}: {held:.1%}; plus S at 4.5%: {held + strongest((w - k) ** 2, 0.045, total):.1%}")
        print(f"  magnitude pruning to 5%: {strongest(energy, 0.05, total):.1%}")
        print(f"  S in 16x64 tiles at 4.5% (rows sorted): {slice_balanced_energy(energy, 16, 64, 0.045, True):.1%}")
        for rank, density in ((15, 0.025), (6, 0.04)):
            rest = w - (u[:, :rank] * s[:rank]) @ vt[:rank]
            print(f"  rank {rank}: {cumulative[rank - 1]:.1%}; plus S at {density:.1%}: {cumulative[rank - 1] + strongest(rest * rest, density, total):.1%}")


if __name__ == "__main__":
    main()
