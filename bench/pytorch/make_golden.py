#!/usr/bin/env -S /usr/bin/python3
"""Writes the golden fixtures the C# tests compare against (float64, fixed seeds):

  tests/Dopant.Tests/Fixtures/lm_golden.json         LSTM, untied decoder
  tests/Dopant.Tests/Fixtures/lm_golden_tied.json    LSTM, decoder.weight tied to encoder.weight
  tests/Dopant.Tests/Fixtures/lm_golden_gru.json     GRU, untied, embedding width 5 != hidden 7
  tests/Dopant.Tests/Fixtures/lm_golden_emsize.json  LSTM, untied, embedding width 5 != hidden 7
  tests/Dopant.Tests/Fixtures/lm_golden_layers.json  LSTM, embedding 5, hidden sizes 8, 4, 6 (one per layer)
  tests/Dopant.Tests/Fixtures/lm_golden_layers_gru.json  GRU, embedding 5, hidden sizes 3, 7
  (--safetensors, on by default:)
  tests/Dopant.Tests/Fixtures/torch_tiny_lm.safetensors
      float32 copy of lm_golden.json's initial parameters + Dopant metadata
  tests/Dopant.Tests/Fixtures/torch_gru_state_dict.safetensors (+ .vocab.txt)
      float32 copy of lm_golden_gru.json's initial parameters as a plain PyTorch state dict
      (metadata only {"format": "pt"}, tensors sorted by name as safetensors.torch.save_file
      lays them out) and its vocabulary, one word per line in id order

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
EMBEDDING_SIZE = 5  # E != H fixtures
VOCAB = [f"w{i}" for i in range(CONFIG["vocab_size"] - 1)] + [dl.EOS]


def tensor_json(t):
    t = t.detach().to(torch.float64)
    return {"shape": list(t.shape), "values": [float(x) for x in t.reshape(-1).tolist()]}


def named_parameters(model):
    """Parameters by Dopant's names; named_parameters() lists a tied weight once (as encoder.weight)."""
    return getattr(model, "dopant_named_parameters", model.named_parameters)()


def params_json(model):
    return {name: tensor_json(p) for name, p in named_parameters(model)}


def state_json(hidden):
    """LSTM (h, c): h_l{k}, c_l{k} per layer; GRU h: h_l{k} only. A list holds each layer's [1, B, H_k] state."""
    if isinstance(hidden, list):
        out = {}
        for k, layer in enumerate(hidden):
            out.update({key.replace("_l0", f"_l{k}"): value for key, value in state_json(layer).items()})
        return out
    h, c = (hidden, None) if isinstance(hidden, torch.Tensor) else hidden
    out = {}
    for l in range(h.size(0)):
        out[f"h_l{l}"] = tensor_json(h[l])
        if c is not None:
            out[f"c_l{l}"] = tensor_json(c[l])
    return out


# file name -> (tied, cell, embedding width or None for E = H, seed, hidden size per layer or None).
# The stream comes from seed, the parameters from seed + 1. The first two are the original
# fixtures: their "config" has no "cell"/"embedding_size" keys, so they stay byte-identical to the
# committed files.
FIXTURE_SPECS = {
    "lm_golden.json": (False, "lstm", None, SEED, None),
    "lm_golden_tied.json": (True, "lstm", None, SEED, None),
    "lm_golden_gru.json": (False, "gru", EMBEDDING_SIZE, SEED + 100, None),
    "lm_golden_emsize.json": (False, "lstm", EMBEDDING_SIZE, SEED + 200, None),
    "lm_golden_layers.json": (False, "lstm", EMBEDDING_SIZE, SEED + 300, [8, 4, 6]),
    "lm_golden_layers_gru.json": (False, "gru", EMBEDDING_SIZE, SEED + 400, [3, 7]),
}
GATE_ORDER = {"lstm": "i,f,g,o", "gru": "r,z,n"}


def build(tied, cell="lstm", embedding_size=None, seed=SEED, sizes=None):
    cfg = dict(CONFIG, tied=tied)
    if cell != "lstm" or embedding_size is not None:  # new fixtures name the cell and E
        cfg.update(cell=cell, embedding_size=embedding_size or CONFIG["hidden_size"])
    if sizes is not None:
        cfg.update(hidden_size=sizes[-1], num_layers=len(sizes), hidden_sizes=sizes)
    gen = torch.Generator().manual_seed(seed)
    stream = torch.randint(0, cfg["vocab_size"], (STREAM_LENGTH,), generator=gen)
    data = dl.batchify(stream, cfg["batch_size"])
    T = NUM_WINDOWS * cfg["bptt"]
    assert data.size(0) == T + 1, data.shape

    torch.manual_seed(seed + 1)
    if sizes is None:
        model = dl.RNNModel(cfg["vocab_size"], cfg["hidden_size"], cfg["num_layers"],
                            cfg["dropout"], tied, rnn_type=cell.upper(), ninp=embedding_size).double()
    else:
        model = dl.LayeredRNNModel(cfg["vocab_size"], sizes, cfg["dropout"], rnn_type=cell.upper(),
                                   ninp=embedding_size).double()
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
        "grads": {name: tensor_json(p.grad) for name, p in named_parameters(model)},
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
        "description": f"Dopant {cell.upper()} LM golden values from PyTorch (float64). "
                       "See bench/pytorch/README.md for conventions.",
        "generator": "bench/pytorch/make_golden.py",
        "torch_version": torch.__version__,
        "dtype": "float64",
        "seed": seed,
        "config": dict(cfg, num_windows=NUM_WINDOWS, gate_order=GATE_ORDER[cell]),
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


def model_from_params(doc, tied, cell, embedding_size):
    """A float32 RNNModel holding doc's initial_params."""
    model = dl.RNNModel(CONFIG["vocab_size"], CONFIG["hidden_size"], CONFIG["num_layers"],
                        CONFIG["dropout"], tied, rnn_type=cell.upper(), ninp=embedding_size)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            t = doc["initial_params"][pname]
            p.copy_(torch.tensor(t["values"], dtype=torch.float64).view(t["shape"]))
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=FIXTURES)
    ap.add_argument("--safetensors", action=argparse.BooleanOptionalAction, default=True,
                    help="also write torch_tiny_lm.safetensors and torch_gru_state_dict.* (default: yes)")
    args = ap.parse_args()
    torch.set_num_threads(1)

    for name, (tied, cell, emsize, seed, sizes) in FIXTURE_SPECS.items():
        doc, model = build(tied, cell, emsize, seed, sizes)
        text = dumps(doc) + "\n"
        assert json.loads(text) == json.loads(json.dumps(doc))
        path = os.path.join(args.out_dir, name)
        dl.atomic_write(path, lambda f: f.write(text.encode("utf8")))
        print(f"wrote {path}: window0 loss {doc['window0']['loss']!r}, "
              f"step losses {[round(s['loss'], 6) for s in doc['training']['steps']]}, "
              f"clip scales {[round(s['clip_scale'], 4) for s in doc['training']['steps']]}")
        if not args.safetensors:
            continue

        if name == "lm_golden.json":
            init_model = model_from_params(doc, tied, cell, emsize)
            # The committed file predates the "cell"/"embedding_size" keys; keep its metadata
            # as it was (it also covers loading an old file, where they default to lstm and H).
            config = dl.model_config_metadata(init_model, init=CONFIG["init"], source="pytorch",
                                              golden="lm_golden.json initial_params")
            del config["cell"], config["embedding_size"]
            meta = {"dopant.config": json.dumps(config),
                    "dopant.vocab": json.dumps(VOCAB, ensure_ascii=False)}
            st = os.path.join(args.out_dir, "torch_tiny_lm.safetensors")
            dl.write_safetensors(st, dl.model_tensors(init_model), meta, "F32")
            print(f"wrote {st}")
        elif name == "lm_golden_gru.json":
            # A plain PyTorch state dict, as safetensors.torch.save_file(model.state_dict(), path)
            # writes it: metadata {"format": "pt"} only, tensors (all F32) sorted by name.
            sd = model_from_params(doc, tied, cell, emsize).state_dict()
            st = os.path.join(args.out_dir, "torch_gru_state_dict.safetensors")
            dl.write_safetensors(st, {k: sd[k] for k in sorted(sd)}, {"format": "pt"}, "F32")
            vocab_path = os.path.join(args.out_dir, "torch_gru_state_dict.vocab.txt")
            vocab_text = "".join(w + "\n" for w in doc["vocab"])
            dl.atomic_write(vocab_path, lambda f: f.write(vocab_text.encode("utf8")))
            print(f"wrote {st}, {vocab_path}")


if __name__ == "__main__":
    main()
