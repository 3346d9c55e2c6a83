#!/usr/bin/env -S /usr/bin/python3
"""Independent numpy re-computation of the golden fixtures (no torch): LSTM forward,
finite-difference gradients, the 5 clipped SGD steps, and the tiny safetensors file.

Usage: /usr/bin/python3 bench/pytorch/check_golden.py
"""

import json
import os
import struct
import sys

import numpy as np

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Dopant.Tests", "Fixtures")


def tensors(section):
    return {k: np.array(v["values"], dtype=np.float64).reshape(v["shape"]) for k, v in section.items()}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def forward(P, cfg, inputs, targets, h0, c0):
    """Returns (mean CE, logits [T,B,V], (h, c) per layer)."""
    L = cfg["num_layers"]
    dec_w = P["encoder.weight"] if cfg["tied"] else P["decoder.weight"]
    h, c = [x.copy() for x in h0], [x.copy() for x in c0]
    logits = []
    for t in range(inputs.shape[0]):
        x = P["encoder.weight"][inputs[t]]
        for l in range(L):
            g = (x @ P[f"rnn.weight_ih_l{l}"].T + P[f"rnn.bias_ih_l{l}"]
                 + h[l] @ P[f"rnn.weight_hh_l{l}"].T + P[f"rnn.bias_hh_l{l}"])
            i, f, gg, o = np.split(g, 4, axis=1)
            c[l] = sigmoid(f) * c[l] + sigmoid(i) * np.tanh(gg)
            h[l] = sigmoid(o) * np.tanh(c[l])
            x = h[l]
        logits.append(x @ dec_w.T + P["decoder.bias"])
    logits = np.stack(logits)
    m = logits.max(-1, keepdims=True)
    logp = logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))
    loss = -np.take_along_axis(logp, targets[..., None], -1).mean()
    return loss, logits, (h, c)


def numgrad(P, fn, eps=1e-6):
    G = {}
    for k, v in P.items():
        g = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            old = v[idx]
            v[idx] = old + eps
            fp = fn(P)
            v[idx] = old - eps
            fm = fn(P)
            v[idx] = old
            g[idx] = (fp - fm) / (2 * eps)
        G[k] = g
    return G


def maxrel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def check(name):
    doc = json.load(open(os.path.join(FIX, name)))
    cfg = doc["config"]
    B, H, L, bptt = cfg["batch_size"], cfg["hidden_size"], cfg["num_layers"], cfg["bptt"]
    stream = np.array(doc["stream"])
    nb = len(stream) // B
    data = stream[: nb * B].reshape(B, nb).T
    assert nb == doc["nbatch"] and np.array_equal(data, np.array(doc["data"])), "batchify layout"
    assert data.shape[0] == cfg["num_windows"] * bptt + 1
    P = tensors(doc["initial_params"])
    assert list(P) == doc["param_names"]
    zeros = [np.zeros((B, H)) for _ in range(L)]
    worst = {}

    # window 0
    w0 = doc["window0"]
    x, y = data[0:bptt], data[1:bptt + 1]
    loss, logits, (h, c) = forward(P, cfg, x, y, zeros, zeros)
    worst["w0.loss"] = abs(loss - w0["loss"]) / abs(w0["loss"])
    worst["w0.logits"] = maxrel(logits.reshape(-1), np.array(w0["logits"]["values"]))
    fs = tensors(w0["final_state"])
    worst["w0.state"] = max(max(maxrel(h[l], fs[f"h_l{l}"]), maxrel(c[l], fs[f"c_l{l}"])) for l in range(L))
    G = numgrad(P, lambda Q: forward(Q, cfg, x, y, zeros, zeros)[0])
    gj = tensors(w0["grads"])
    # relative to the largest gradient entry overall (finite differences are absolute-accurate)
    worst["w0.grads"] = maxrel(np.concatenate([G[k].ravel() for k in P]),
                               np.concatenate([gj[k].ravel() for k in P]))

    # training replay: gradient of mean CE * seq_len, global-norm clip, SGD
    h, c = zeros, zeros
    for s in doc["training"]["steps"]:
        i = s["start"]
        seq = min(bptt, data.shape[0] - 1 - i)
        x, y = data[i:i + seq], data[i + 1:i + 1 + seq]
        loss, _, (h2, c2) = forward(P, cfg, x, y, h, c)
        G = numgrad(P, lambda Q: seq * forward(Q, cfg, x, y, h, c)[0])
        norm = np.sqrt(sum((g ** 2).sum() for g in G.values()))
        scale = min(1.0, cfg["clip"] / (norm + 1e-6))
        for k in P:
            P[k] -= cfg["lr"] * scale * G[k]
        h, c = h2, c2
        worst["steps.loss"] = max(worst.get("steps.loss", 0), abs(loss - s["loss"]) / s["loss"])
        worst["steps.norm"] = max(worst.get("steps.norm", 0), abs(norm - s["grad_norm"]) / s["grad_norm"])
    fp = tensors(doc["training"]["final_params"])
    worst["final_params"] = max(maxrel(P[k], fp[k]) for k in P)
    fs = tensors(doc["training"]["final_state"])
    worst["final_state"] = max(max(maxrel(h[l], fs[f"h_l{l}"]), maxrel(c[l], fs[f"c_l{l}"])) for l in range(L))

    tol = {"w0.loss": 1e-13, "w0.logits": 1e-13, "w0.state": 1e-13, "w0.grads": 1e-8,
           "steps.loss": 1e-9, "steps.norm": 1e-7, "final_params": 1e-7, "final_state": 1e-7}
    ok = all(worst[k] <= tol[k] for k in tol)
    print(f"{name}: " + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()) + ("  OK" if ok else "  FAIL"))
    return ok, doc


def check_safetensors(doc):
    path = os.path.join(FIX, "torch_tiny_lm.safetensors")
    blob = open(path, "rb").read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__")
    cfg, vocab = json.loads(meta["dopant.config"]), json.loads(meta["dopant.vocab"])
    ok = vocab == doc["vocab"] and cfg["vocab_size"] == len(vocab) and not cfg["tied"]
    ok &= list(header) == doc["param_names"] and (8 + n) % 8 == 0
    for k, info in header.items():
        a, b = info["data_offsets"]
        arr = np.frombuffer(blob[8 + n + a: 8 + n + b], "<f4").reshape(info["shape"])
        ref = np.array(doc["initial_params"][k]["values"]).reshape(doc["initial_params"][k]["shape"])
        ok &= info["dtype"] == "F32" and np.array_equal(arr, ref.astype(np.float32))
    ok &= 8 + n + max(i["data_offsets"][1] for i in header.values()) == len(blob)
    print(f"torch_tiny_lm.safetensors: {len(header)} tensors, config {cfg}  {'OK' if ok else 'FAIL'}")
    return ok


if __name__ == "__main__":
    ok1, doc = check("lm_golden.json")
    ok2, _ = check("lm_golden_tied.json")
    ok3 = check_safetensors(doc)
    sys.exit(0 if ok1 and ok2 and ok3 else 1)
