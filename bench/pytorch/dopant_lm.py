"""Shared PyTorch reference code for Dopant: corpus, batching, model, training step,
evaluation and a minimal safetensors reader/writer.

Run the scripts in this folder with /usr/bin/python3 (the interpreter that has torch).
"""

import ctypes
import json
import math
import os
import struct

# Debian's torch runs elementwise ops on an OpenMP pool and matmuls on OpenBLAS's own
# pthread pool; with both spinning actively, 2 + 2 threads on 2 cores run ~3x slower than
# one thread. Passive OpenMP waiting avoids that. Read by libgomp when torch is loaded.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

PRESETS = {
    "small": dict(layers=2, hidden=200, emsize=None, bptt=20, epochs=13, lr=1.0, decay=0.5,
                  decay_after=4, init=0.1, dropout=0.0, clip=5.0, batch_size=20, tied=False,
                  optimizer="sgd"),
    "medium": dict(layers=2, hidden=650, emsize=None, bptt=35, epochs=39, lr=1.0, decay=0.8,
                   decay_after=6, init=0.05, dropout=0.5, clip=5.0, batch_size=20, tied=False,
                   optimizer="sgd"),
    "large": dict(layers=2, hidden=1500, emsize=None, bptt=35, epochs=55, lr=1.0, decay=1 / 1.15,
                  decay_after=14, init=0.04, dropout=0.65, clip=10.0, batch_size=20, tied=False,
                  optimizer="sgd"),
    # Dopant's character LM (TrainingOptions.FromPreset("charlm")): 2 x 256 LSTM, 64-wide
    # character embeddings, Adam at 2e-3 halved every epoch after the 2nd.
    "charlm": dict(layers=2, hidden=256, emsize=64, bptt=50, epochs=4, lr=2e-3, decay=0.5,
                   decay_after=2, init=0.1, dropout=0.1, clip=5.0, batch_size=32, tied=False,
                   optimizer="adam"),
}
# emsize None = the hidden size (Dopant's EmbeddingSize null).

EOS = "<eos>"
UNK = "<unk>"


# ----------------------------------------------------------------------------- threads

def set_threads(n):
    """torch.set_num_threads only sizes PyTorch's OpenMP pool; Debian's torch calls the
    system BLAS (OpenBLAS, own pthread pool), and loads it twice (libblas.so.3 and
    libopenblas.so.0 are separate copies, each with its own pool), so size every copy.
    Returns the BLAS thread count, or None if no OpenBLAS is loaded."""
    torch.set_num_threads(n)
    counts = []
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({l.split()[-1] for l in f if ("openblas" in l or "libblas" in l) and ".so" in l})
        for p in paths:
            lib = ctypes.CDLL(p)
            if hasattr(lib, "openblas_set_num_threads"):
                lib.openblas_set_num_threads(int(n))
                counts.append(int(lib.openblas_get_num_threads()))
    except OSError:
        pass
    return min(counts) if counts else None


# ----------------------------------------------------------------------------- data

def read_tokens(path):
    """Tokens of a PTB-format file: line.split() + ['<eos>'] for every line."""
    tokens = []
    with open(path, encoding="utf8") as f:
        for line in f:
            tokens.extend(line.split())
            tokens.append(EOS)
    return tokens


class Corpus:
    """train/valid/test of a PTB-format folder. Vocabulary in first-occurrence order over
    train, then valid, then test (as PyTorch's examples/word_language_model data.py)."""

    SPLITS = ("train", "valid", "test")

    def __init__(self, folder, vocab=None):
        words = {s: read_tokens(os.path.join(folder, s + ".txt")) for s in self.SPLITS}
        if vocab is None:
            self.idx2word, self.word2idx = [], {}
            for s in self.SPLITS:
                for w in words[s]:
                    if w not in self.word2idx:
                        self.word2idx[w] = len(self.idx2word)
                        self.idx2word.append(w)
            self.oov = {s: 0 for s in self.SPLITS}
        else:
            # fixed vocabulary (a loaded model): unknown words map to <unk> if it exists
            self.idx2word = list(vocab)
            self.word2idx = {w: i for i, w in enumerate(self.idx2word)}
            self.oov = {s: sum(w not in self.word2idx for w in words[s]) for s in self.SPLITS}
            unk = self.word2idx.get(UNK)
            for s in self.SPLITS:
                if self.oov[s] and unk is None:
                    raise ValueError(f"{s}: {self.oov[s]} tokens not in the vocabulary and no {UNK}")
        unk = self.word2idx.get(UNK, -1)
        for s in self.SPLITS:
            ids = torch.tensor([self.word2idx.get(w, unk) for w in words[s]], dtype=torch.long)
            setattr(self, s, ids)

    def __len__(self):
        return len(self.idx2word)


def batchify(stream, bsz):
    """[N] -> [N // bsz, bsz]; column b is the contiguous segment b of the trimmed stream."""
    nbatch = stream.size(0) // bsz
    return stream[: nbatch * bsz].view(bsz, nbatch).t().contiguous()


def window_starts(data, bptt):
    return range(0, data.size(0) - 1, bptt)


def get_window(data, i, bptt):
    seq_len = min(bptt, data.size(0) - 1 - i)
    return data[i:i + seq_len], data[i + 1:i + 1 + seq_len]


# ----------------------------------------------------------------------------- model

class RNNModel(nn.Module):
    """Embedding (V x E) -> dropout -> L-layer LSTM or GRU (dropout between layers) -> dropout
    -> Linear(H, V). Same parameter names as PyTorch's examples/word_language_model RNNModel.

    rnn_type: "LSTM" (gates i,f,g,o; state (h, c)) or "GRU" (gates r,z,n; state h).
    ninp: embedding width E, default nhid. Tying needs E == H."""

    CELLS = {"LSTM": nn.LSTM, "GRU": nn.GRU}

    def __init__(self, ntoken, nhid, nlayers, dropout=0.0, tied=False, rnn_type="LSTM", ninp=None):
        super().__init__()
        rnn_type = str(rnn_type).upper()
        if rnn_type not in self.CELLS:
            raise ValueError(f"rnn_type must be LSTM or GRU (got {rnn_type!r})")
        ninp = nhid if ninp is None else int(ninp)
        if tied and ninp != nhid:
            raise ValueError(f"tied weights need the embedding size ({ninp}) to equal the hidden size ({nhid})")
        self.ntoken, self.nhid, self.nlayers = ntoken, nhid, nlayers
        self.ninp, self.rnn_type = ninp, rnn_type
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = self.CELLS[rnn_type](ninp, nhid, nlayers, dropout=dropout if nlayers > 1 else 0.0)
        self.decoder = nn.Linear(nhid, ntoken)
        self.tied = tied
        if tied:
            self.decoder.weight = self.encoder.weight

    @property
    def cell(self):
        """The cell as Dopant metadata spells it: "lstm" or "gru"."""
        return self.rnn_type.lower()

    def init_uniform(self, init):
        # Zaremba: every parameter (biases and embedding included) ~ U(-init, init).
        # parameters() yields a tied weight once.
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-init, init)

    def forward(self, inputs, hidden):
        emb = self.drop(self.encoder(inputs))
        output, hidden = self.rnn(emb, hidden)
        return self.decoder(self.drop(output)), hidden

    def init_hidden(self, bsz):
        """(h, c) for an LSTM, h for a GRU; zeros [L, bsz, H]."""
        p = next(self.parameters())
        z = p.new_zeros(self.nlayers, bsz, self.nhid)
        return (z, z.clone()) if self.rnn_type == "LSTM" else z


class LayeredRNNModel(nn.Module):
    """RNNModel with a hidden size per layer (nn.LSTM and nn.GRU have one): a single-layer LSTM or
    GRU per layer, dropout on the embedding, between the layers and after the top one, as RNNModel.
    dopant_named_parameters() names the tensors as Dopant does (rnn.weight_ih_l{k}, ...). The state
    is a list with one (h, c) or h of [1, B, H_k] per layer."""

    def __init__(self, ntoken, sizes, dropout=0.0, rnn_type="LSTM", ninp=None):
        super().__init__()
        rnn_type = str(rnn_type).upper()
        cell = RNNModel.CELLS[rnn_type]
        ninp = sizes[-1] if ninp is None else int(ninp)
        self.sizes, self.rnn_type = list(sizes), rnn_type
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnns = nn.ModuleList(cell(ninp if k == 0 else sizes[k - 1], size, 1) for k, size in enumerate(sizes))
        self.decoder = nn.Linear(sizes[-1], ntoken)

    def dopant_named_parameters(self):
        for name, p in self.named_parameters():
            if name.startswith("rnns."):
                _, k, tensor = name.split(".")
                name = "rnn." + tensor[:-len("_l0")] + f"_l{k}"
            yield name, p

    def init_uniform(self, init):
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-init, init)

    def forward(self, inputs, hidden):
        x = self.drop(self.encoder(inputs))
        states = []
        for rnn, state in zip(self.rnns, hidden):
            x, state = rnn(x, state)
            states.append(state)
            x = self.drop(x)
        return self.decoder(x), states

    def init_hidden(self, bsz):
        p = next(self.parameters())
        zeros = [p.new_zeros(1, bsz, size) for size in self.sizes]
        return [(z, z.clone()) for z in zeros] if self.rnn_type == "LSTM" else zeros


def detach(hidden):
    """A detached copy of an LSTM state (tuple), a GRU state (tensor) or a list of layers' states."""
    if isinstance(hidden, torch.Tensor):
        return hidden.detach()
    if isinstance(hidden, list):
        return [detach(h) for h in hidden]
    return tuple(h.detach() for h in hidden)


def clip_and_step(params, clip, lr):
    """Global-norm clipping (torch.nn.utils.clip_grad_norm_ semantics) then p -= lr * g.
    Returns the pre-clipping norm and the applied scale."""
    params = [p for p in params if p.grad is not None]
    norm = torch.norm(torch.stack([torch.norm(p.grad.detach(), 2) for p in params]), 2)
    scale = min(1.0, clip / (float(norm) + 1e-6))
    with torch.no_grad():
        for p in params:
            p.add_(p.grad, alpha=-lr * scale)
    return float(norm), scale


def make_optimizer(model, name, lr):
    """None for "sgd" (clip_and_step updates in place); for "adam", torch.optim.Adam with
    Dopant's AdamOptimizer settings (beta1 0.9, beta2 0.999, eps 1e-8, bias-corrected, no weight
    decay, single-tensor update). Set the lr of every epoch with set_lr."""
    if name == "sgd":
        return None
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8,
                                weight_decay=0, amsgrad=False, foreach=False)
    raise ValueError(f"optimizer must be sgd or adam (got {name!r})")


def set_lr(optimizer, lr):
    if optimizer is not None:
        for group in optimizer.param_groups:
            group["lr"] = lr


def clip_and_adam_step(params, clip, optimizer):
    """The same global-norm clipping as clip_and_step (the gradients scaled in place), then
    one step of `optimizer` at its current lr. Returns the pre-clipping norm and the scale."""
    params = [p for p in params if p.grad is not None]
    norm = torch.norm(torch.stack([torch.norm(p.grad.detach(), 2) for p in params]), 2)
    scale = min(1.0, clip / (float(norm) + 1e-6))
    if scale < 1.0:
        with torch.no_grad():
            for p in params:
                p.grad.mul_(scale)
    optimizer.step()
    return float(norm), scale


def train_window(model, inputs, targets, hidden, clip, lr, optimizer=None):
    """One step: SGD at `lr` (optimizer None) or a step of `optimizer` (Adam; `lr` unused, set
    it with set_lr). Reported loss: mean CE over the window. Gradient: of mean CE * seq_len
    (CE summed over time, averaged over the batch; Zaremba). Returns (loss, norm, hidden)."""
    hidden = detach(hidden)
    model.zero_grad(set_to_none=True)
    logits, hidden = model(inputs, hidden)
    loss = F.cross_entropy(logits.view(-1, model.ntoken), targets.reshape(-1))
    (loss * inputs.size(0)).backward()
    if optimizer is None:
        norm, _ = clip_and_step(model.parameters(), clip, lr)
    else:
        norm, _ = clip_and_adam_step(model.parameters(), clip, optimizer)
    return loss.item(), norm, hidden


def is_character_vocab(words):
    """Dopant's Vocabulary.IsCharacterLevel: non-empty, every word one character besides <eos>
    and <unk>. A character is one UTF-16 code unit there (C# string.Length), so a character
    outside the BMP does not count as one."""
    words = list(words)
    return bool(words) and all(w in (EOS, UNK) or len(w.encode("utf-16-le")) == 2 for w in words)


@torch.no_grad()
def evaluate(model, data, bptt):
    """Perplexity = exp(total CE / number of targets), zero initial state, eval mode."""
    was_training = model.training
    model.eval()
    hidden = model.init_hidden(data.size(1))
    total, count = 0.0, 0
    for i in window_starts(data, bptt):
        inputs, targets = get_window(data, i, bptt)
        logits, hidden = model(inputs, hidden)
        total += F.cross_entropy(logits.view(-1, model.ntoken), targets.reshape(-1),
                                 reduction="sum").item()
        count += targets.numel()
    model.train(was_training)
    return math.exp(total / count), total, count


def lr_for_epoch(lr, decay, decay_after, epoch):
    """Zaremba's schedule for a 1-based epoch."""
    return lr * decay ** max(epoch - decay_after, 0)


# ----------------------------------------------------------------------------- safetensors

_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
              "I16": "<i2", "U16": "<u2", "I8": "i1", "U8": "u1", "BOOL": "?"}


def read_safetensors(path):
    """Returns ({name: float/int numpy array}, metadata dict). BF16 is widened to float32."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf8"))
    base = 8 + n
    metadata = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        raw = blob[base + begin: base + end]
        shape = tuple(info["shape"])
        if info["dtype"] == "BF16":
            arr = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(raw, _ST_DTYPES[info["dtype"]])
        if arr.size != math.prod(shape):
            raise ValueError(f"{name}: {arr.size} values for shape {shape}")
        tensors[name] = arr.reshape(shape).copy()
    return tensors, metadata


def write_safetensors(path, tensors, metadata, dtype="F32"):
    """tensors: ordered {name: array-like}; metadata: {str: str}. Header padded with spaces
    to a multiple of 8 bytes; written atomically."""
    np_dtype = _ST_DTYPES[dtype]
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        if isinstance(t, torch.Tensor):
            t = t.detach().cpu().numpy()
        data = np.ascontiguousarray(np.asarray(t), dtype=np_dtype).tobytes()
        header[name] = {"dtype": dtype, "shape": list(np.shape(t)),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    hb = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf8")
    hb += b" " * (-len(hb) % 8)
    atomic_write(path, lambda f: (f.write(struct.pack("<Q", len(hb))), f.write(hb),
                                  [f.write(c) for c in chunks]))


def model_config_metadata(model, **extra):
    cfg = {"vocab_size": model.ntoken, "hidden_size": model.nhid, "num_layers": model.nlayers,
           "tied": bool(model.tied), "dropout": float(model.drop.p), "cell": model.cell,
           "embedding_size": model.ninp}
    cfg.update(extra)
    return cfg


def model_tensors(model):
    """state_dict order; a tied decoder.weight is omitted (it is encoder.weight)."""
    sd = model.state_dict()
    return {k: v for k, v in sd.items() if not (model.tied and k == "decoder.weight")}


def save_dopant(path, model, vocab, dtype="F32", **config_extra):
    meta = {"dopant.config": json.dumps(model_config_metadata(model, **config_extra)),
            "dopant.vocab": json.dumps(list(vocab), ensure_ascii=False)}
    write_safetensors(path, model_tensors(model), meta, dtype)


def load_dopant(path, dtype=torch.float32):
    """Returns (model, vocab, config) from a Dopant safetensors checkpoint."""
    tensors, meta = read_safetensors(path)
    cfg = json.loads(meta["dopant.config"])
    vocab = json.loads(meta["dopant.vocab"])
    tied = bool(cfg.get("tied", False))
    # "cell" and "embedding_size" are absent from older files: LSTM, E = H
    cell = str(cfg.get("cell", "lstm")).lower()
    if cell not in ("lstm", "gru"):
        raise ValueError(f"unknown cell {cell!r} (expected lstm or gru)")
    hidden = int(cfg["hidden_size"])
    model = RNNModel(int(cfg["vocab_size"]), hidden, int(cfg["num_layers"]),
                     float(cfg.get("dropout", 0.0)), tied, rnn_type=cell.upper(),
                     ninp=int(cfg.get("embedding_size", hidden))).to(dtype)
    expected = set(model.state_dict().keys())
    if tied and "decoder.weight" not in tensors:
        expected.discard("decoder.weight")
    missing, unexpected = expected - tensors.keys(), tensors.keys() - expected
    if missing or unexpected:
        raise ValueError(f"missing {sorted(missing)}, unexpected {sorted(unexpected)}")
    sd = model.state_dict()
    with torch.no_grad():
        for name in expected:
            if tuple(sd[name].shape) != tensors[name].shape:
                raise ValueError(f"{name}: shape {tensors[name].shape}, expected {tuple(sd[name].shape)}")
            sd[name].copy_(torch.from_numpy(tensors[name]))
    if tied and "decoder.weight" in tensors and not np.array_equal(
            tensors["decoder.weight"], tensors["encoder.weight"]):
        raise ValueError("tied model but decoder.weight differs from encoder.weight")
    if len(vocab) != model.ntoken:
        raise ValueError(f"vocab has {len(vocab)} words, vocab_size is {model.ntoken}")
    return model, vocab, cfg


# ----------------------------------------------------------------------------- misc

def atomic_write(path, write_fn):
    """Write via a temp file in the same folder, fsync, then os.replace."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
