#!/usr/bin/env -S /usr/bin/python3
"""Independent numpy re-computation of the golden fixtures (no torch): LSTM/GRU forward,
finite-difference gradients, the 5 clipped SGD steps, and the two safetensors files
(torch_tiny_lm: Dopant metadata; torch_gru_state_dict: plain PyTorch state dict + vocab.txt).

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
    """Returns (mean CE, logits [T,B,V], (h, c) per layer). A GRU ("cell": "gru") has no c:
    c0 is ignored and the returned c is None."""
    L = cfg["num_layers"]
    gru = cfg.get("cell", "lstm") == "gru"
    dec_w = P["encoder.weight"] if cfg["tied"] else P["decoder.weight"]
    h = [x.copy() for x in h0]
    c = None if gru else [x.copy() for x in c0]
    logits = []
    for t in range(inputs.shape[0]):
        x = P["encoder.weight"][inputs[t]]
        for l in range(L):
            gi = x @ P[f"rnn.weight_ih_l{l}"].T + P[f"rnn.bias_ih_l{l}"]
            gh = h[l] @ P[f"rnn.weight_hh_l{l}"].T + P[f"rnn.bias_hh_l{l}"]
            if gru:
                # rows [0,H) r, [H,2H) z, [2H,3H) n; r gates W_hn h + b_hn
                ir, iz, inn = np.split(gi, 3, axis=1)
                hr, hz, hn = np.split(gh, 3, axis=1)
                r, z = sigmoid(ir + hr), sigmoid(iz + hz)
                n = np.tanh(inn + r * hn)
                h[l] = (1 - z) * n + z * h[l]
            else:
                i, f, gg, o = np.split(gi + gh, 4, axis=1)
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


def state_err(h, c, fs, L):
    """Worst relative error of h (and c, for an LSTM) against a fixture's final_state."""
    if c is None:
        assert sorted(fs) == sorted(f"h_l{l}" for l in range(L)), "GRU state has only h_l{k}"
        return max(maxrel(h[l], fs[f"h_l{l}"]) for l in range(L))
    assert sorted(fs) == sorted([f"h_l{l}" for l in range(L)] + [f"c_l{l}" for l in range(L)])
    return max(max(maxrel(h[l], fs[f"h_l{l}"]), maxrel(c[l], fs[f"c_l{l}"])) for l in range(L))


def check_shapes(P, cfg):
    """State-dict shapes: encoder [V,E], weight_ih_l0 [G*H,E], weight_hh [G*H,H], ..."""
    V, H, L = cfg["vocab_size"], cfg["hidden_size"], cfg["num_layers"]
    E = cfg.get("embedding_size", H)
    G = {"lstm": 4, "gru": 3}[cfg.get("cell", "lstm")]
    want = {"encoder.weight": (V, E)}
    for l in range(L):
        want.update({f"rnn.weight_ih_l{l}": (G * H, E if l == 0 else H),
                     f"rnn.weight_hh_l{l}": (G * H, H),
                     f"rnn.bias_ih_l{l}": (G * H,), f"rnn.bias_hh_l{l}": (G * H,)})
    if not cfg["tied"]:
        want["decoder.weight"] = (V, H)
    want["decoder.bias"] = (V,)
    assert list(P) == list(want), (list(P), list(want))
    for k, shape in want.items():
        assert P[k].shape == shape, (k, P[k].shape, shape)


def check(name):
    doc = json.load(open(os.path.join(FIX, name)))
    cfg = doc["config"]
    B, H, L, bptt = cfg["batch_size"], cfg["hidden_size"], cfg["num_layers"], cfg["bptt"]
    assert cfg["gate_order"] == {"lstm": "i,f,g,o", "gru": "r,z,n"}[cfg.get("cell", "lstm")]
    stream = np.array(doc["stream"])
    nb = len(stream) // B
    data = stream[: nb * B].reshape(B, nb).T
    assert nb == doc["nbatch"] and np.array_equal(data, np.array(doc["data"])), "batchify layout"
    assert data.shape[0] == cfg["num_windows"] * bptt + 1
    P = tensors(doc["initial_params"])
    assert list(P) == doc["param_names"]
    check_shapes(P, cfg)
    zeros = [np.zeros((B, H)) for _ in range(L)]
    worst = {}

    # window 0
    w0 = doc["window0"]
    x, y = data[0:bptt], data[1:bptt + 1]
    loss, logits, (h, c) = forward(P, cfg, x, y, zeros, zeros)
    worst["w0.loss"] = abs(loss - w0["loss"]) / abs(w0["loss"])
    worst["w0.logits"] = maxrel(logits.reshape(-1), np.array(w0["logits"]["values"]))
    fs = tensors(w0["final_state"])
    worst["w0.state"] = state_err(h, c, fs, L)
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
    worst["final_state"] = state_err(h, c, fs, L)

    tol = {"w0.loss": 1e-13, "w0.logits": 1e-13, "w0.state": 1e-13, "w0.grads": 1e-8,
           "steps.loss": 1e-9, "steps.norm": 1e-7, "final_params": 1e-7, "final_state": 1e-7}
    ok = all(worst[k] <= tol[k] for k in tol)
    print(f"{name} ({cfg.get('cell', 'lstm')}, E {cfg.get('embedding_size', H)}, H {H}): " + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()) + ("  OK" if ok else "  FAIL"))
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


def check_state_dict(doc):
    """torch_gru_state_dict.safetensors: a plain PyTorch state dict (metadata {"format": "pt"}
    only) holding the GRU fixture's initial parameters as F32; vocab.txt = its vocabulary."""
    path = os.path.join(FIX, "torch_gru_state_dict.safetensors")
    blob = open(path, "rb").read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__")
    ok = meta == {"format": "pt"} and (8 + n) % 8 == 0
    ok &= sorted(header) == sorted(doc["param_names"])
    end = 0
    for k, info in header.items():  # laid out back to back in header order
        a, b = info["data_offsets"]
        ok &= a == end
        end = b
        arr = np.frombuffer(blob[8 + n + a: 8 + n + b], "<f4").reshape(info["shape"])
        ref = np.array(doc["initial_params"][k]["values"]).reshape(doc["initial_params"][k]["shape"])
        ok &= info["dtype"] == "F32" and np.array_equal(arr, ref.astype(np.float32))
    ok &= 8 + n + end == len(blob)
    with open(os.path.join(FIX, "torch_gru_state_dict.vocab.txt"), encoding="utf8") as f:
        ok &= f.read() == "".join(w + "\n" for w in doc["vocab"])
    print(f"torch_gru_state_dict.safetensors: {len(header)} tensors, metadata {meta}, "
          f"vocab.txt {len(doc['vocab'])} words  {'OK' if ok else 'FAIL'}")
    return ok


if __name__ == "__main__":
    ok1, doc = check("lm_golden.json")
    ok2, _ = check("lm_golden_tied.json")
    ok3 = check_safetensors(doc)
    ok4, gru = check("lm_golden_gru.json")
    ok5, _ = check("lm_golden_emsize.json")
    ok6 = check_state_dict(gru)
    sys.exit(0 if all((ok1, ok2, ok3, ok4, ok5, ok6)) else 1)
