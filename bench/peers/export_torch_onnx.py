#!/usr/bin/python3
"""ONNX files of a word LSTM or GRU language model's one-token step as PyTorch 1.13 exports it (nn.LSTM/nn.GRU become
ONNX's fused LSTM/GRU ops), for timing ONNX Runtime against Dopant with `dopant bench infer --against-onnx`.

Usage: export_torch_onnx.py HIDDEN LAYERS VOCAB OUT_DIR [--gru] [--emsize E]
Writes OUT_DIR/step.onnx (token, h[, c] -> logits, h_out[, c_out]) and OUT_DIR/recurrent.onnx (the same without the
decoder). Weights are random: timing depends on the shapes, not the values."""
import argparse, os
import torch, torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("hidden", type=int); parser.add_argument("layers", type=int); parser.add_argument("vocab", type=int)
parser.add_argument("out"); parser.add_argument("--gru", action="store_true"); parser.add_argument("--emsize", type=int)
args = parser.parse_args()
E = args.emsize or args.hidden
torch.manual_seed(0)
os.makedirs(args.out, exist_ok=True)


class Step(nn.Module):
    def __init__(self, head):
        super().__init__()
        self.head = head
        self.encoder = nn.Embedding(args.vocab, E)
        self.rnn = (nn.GRU if args.gru else nn.LSTM)(E, args.hidden, args.layers)
        self.decoder = nn.Linear(args.hidden, args.vocab)

    def forward(self, token, h, c=None):
        x = self.encoder(token).view(1, 1, E)
        if args.gru:
            y, h2 = self.rnn(x, h)
            states = (h2,)
        else:
            y, (h2, c2) = self.rnn(x, (h, c))
            states = (h2, c2)
        return (self.decoder(y.view(1, -1)),) + states if self.head else states


for head, name in ((True, "step.onnx"), (False, "recurrent.onnx")):
    model = Step(head).eval()
    token = torch.zeros(1, dtype=torch.long)
    state = torch.zeros(args.layers, 1, args.hidden)
    inputs = (token, state) if args.gru else (token, state, state.clone())
    names = ["token", "h"] + ([] if args.gru else ["c"])
    outputs = (["logits"] if head else []) + ["h_out"] + ([] if args.gru else ["c_out"])
    torch.onnx.export(model, inputs, os.path.join(args.out, name), input_names=names, output_names=outputs, opset_version=14)
print("wrote", os.path.join(args.out, "step.onnx"), "and recurrent.onnx")
