#!/usr/bin/env -S /usr/bin/python3
"""Writes the golden fixtures the C# tests compare against (float64, fixed seed):

  tests/Dopant.Tests/Fixtures/lm_golden.json        untied decoder
  tests/Dopant.Tests/Fixtures/lm_golden_tied.json   decoder.weight tied to encoder.weight
  tests/Dopant.Tests/Fixtures/torch_tiny_lm.safetensors  (--safetensors, on by default)
      float32 copy of lm_golden.json's initial parameters + Dopant metadata

Usage: /usr/bin/python3 bench/pytorch/make_golden.py [--out-dir DIR] [--no-safetensors]
See README.md in this folder for the schema.
"""

import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dopant_lm as dl  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(REPO, "tests", "Dopant.Tests", "Fixtures")

CONFIG = dict(vocab_size=11, hidden_size=7, num_layers=2, batch_size=3, bptt=5, init=0.3,
              clip=0.5, lr=0.7, dropout=0.0)
NUM_WINDOWS = 5
STREAM_LENGTH = 80  # > batch * (T + 1) = 78; batchify trims it to 26 rows x 3
SEED = 20240611
VOCAB = [f"w{i}" for i in range(CONFIG["vocab_size"] - 1)] + [dl.EOS]


def tensor_json(t):
    t = t.detach().to(torch.float64)
    return {"shape": list(t.shape), "values": [float(x) for x in t.reshape(-1).tolist()]}


def params_json(model):
    # named_parameters() lists a tied weight once (as encoder.weight)
    return {name: tensor_json(p) for name, p in model.named_parameters()}


def state_json(hidden):
    h, c = hidden
    out = {}
    for l in range(h.size(0)):
        out[f"h_l{l}"] = tensor_json(h[l])
        out[f"c_l{l}"] = tensor_json(c[l])
    return out


def build(tied):
    cfg = dict(CONFIG, tied=tied)
    gen = torch.Generator().manual_seed(SEED)
    stream = torch.randint(0, cfg["vocab_size"], (STREAM_LENGTH,), generator=gen)
    data = dl.batchify(stream, cfg["batch_size"])
    T = NUM_WINDOWS * cfg["bptt"]
    assert data.size(0) == T + 1, data.shape

    torch.manual_seed(SEED + 1)
    model = dl.RNNModel(cfg["vocab_size"], cfg["hidden_size"], cfg["num_layers"],
                        cfg["dropout"], tied).double()
    model.init_uniform(cfg["init"])
    model.train()
    initial = params_json(model)

    # window 0 from a zero state: gradient of the MEAN loss
    inputs, targets = dl.get_window(data, 0, cfg["bptt"])
    model.zero_grad(set_to_none=True)
    logits, hidden = model(inputs, model.init_hidden(cfg["batch_size"]))
    loss = F.cross_entropy(logits.view(-1, cfg["vocab_size"]), targets.reshape(-1))
    loss.backward()
    window0 = {
        "start": 0,
        "seq_len": inputs.size(0),
        "loss": loss.item(),
        "logits": tensor_json(logits),
        "grads": {name: tensor_json(p.grad) for name, p in model.named_parameters()},
        "final_state": state_json(hidden),
    }

    # NUM_WINDOWS SGD steps, carried detached state, Zaremba gradient, clipping
    hidden = model.init_hidden(cfg["batch_size"])
    steps = []
    for k, i in enumerate(dl.window_starts(data, cfg["bptt"])):
        inputs, targets = dl.get_window(data, i, cfg["bptt"])
        hidden = dl.detach(hidden)
        model.zero_grad(set_to_none=True)
        logits, hidden = model(inputs, hidden)
        loss = F.cross_entropy(logits.view(-1, cfg["vocab_size"]), targets.reshape(-1))
        (loss * inputs.size(0)).backward()
        norm, scale = dl.clip_and_step(model.parameters(), cfg["clip"], cfg["lr"])
        steps.append({"window": k, "start": i, "seq_len": inputs.size(0), "loss": loss.item(),
                      "grad_norm": norm, "clip_scale": scale, "lr": cfg["lr"]})
    assert len(steps) == NUM_WINDOWS

    doc = {
        "description": "Dopant LSTM LM golden values from PyTorch (float64). "
                       "See bench/pytorch/README.md for conventions.",
        "generator": "bench/pytorch/make_golden.py",
        "torch_version": torch.__version__,
        "dtype": "float64",
        "seed": SEED,
        "config": dict(cfg, num_windows=NUM_WINDOWS, gate_order="i,f,g,o"),
        "vocab": VOCAB,
        "stream": stream.tolist(),
        "nbatch": data.size(0),
        "data": data.tolist(),
        "param_names": list(initial.keys()),
        "initial_params": initial,
        "window0": window0,
        "training": {
            "steps": steps,
            "final_params": params_json(model),
            "final_state": state_json(hidden),
        },
    }
    return doc, model


def dumps(obj, indent=0):
    """JSON with nested objects indented and every list on one line; floats via repr
    (shortest round-trip, i.e. full double precision)."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if any(isinstance(x, (list, dict)) for x in obj):  # one element per line
            return "[\n" + ",\n".join(inner + dumps(x, indent + 1) for x in obj) + "\n" + pad + "]"
        return "[" + ", ".join(dumps(x, indent + 1) for x in obj) + "]"
    if isinstance(obj, float):
        if obj != obj or obj in (float("inf"), float("-inf")):
            raise ValueError("non-finite value in fixture")
        return repr(obj)
    return json.dumps(obj)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=FIXTURES)
    ap.add_argument("--safetensors", action=argparse.BooleanOptionalAction, default=True,
                    help="also write torch_tiny_lm.safetensors (default: yes)")
    args = ap.parse_args()
    torch.set_num_threads(1)

    for tied, name in ((False, "lm_golden.json"), (True, "lm_golden_tied.json")):
        doc, model = build(tied)
        text = dumps(doc) + "\n"
        assert json.loads(text) == json.loads(json.dumps(doc))
        path = os.path.join(args.out_dir, name)
        dl.atomic_write(path, lambda f: f.write(text.encode("utf8")))
        print(f"wrote {path}: window0 loss {doc['window0']['loss']:.6f}, "
              f"step losses {[round(s['loss'], 6) for s in doc['training']['steps']]}")

        if not tied and args.safetensors:
            init_model = dl.RNNModel(CONFIG["vocab_size"], CONFIG["hidden_size"],
                                     CONFIG["num_layers"], CONFIG["dropout"], False)
            with torch.no_grad():
                for pname, p in init_model.named_parameters():
                    t = doc["initial_params"][pname]
                    p.copy_(torch.tensor(t["values"], dtype=torch.float64).view(t["shape"]))
            st = os.path.join(args.out_dir, "torch_tiny_lm.safetensors")
            dl.save_dopant(st, init_model, VOCAB, "F32", init=CONFIG["init"],
                           source="pytorch", golden="lm_golden.json initial_params")
            print(f"wrote {st}")


if __name__ == "__main__":
    main()
