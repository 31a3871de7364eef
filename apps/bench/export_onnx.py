#!/usr/bin/python3
"""Exports the bench's PyTorch models to ONNX (run with Debian's python3-torch: /usr/bin/python3).

  /usr/bin/python3 apps/bench/export_onnx.py [OUT_DIR] [--torch-times FILE]

For every cell (rnn, lstm, gru) and size (I, H) the bench uses, writes into OUT_DIR
(default apps/bench/models/):
  {cell}_{I}x{H}.onnx          torch.onnx.export, opset 14, input "x" [B, T, I] (batch_first),
                               output "y" [B, T, H]; batch and time are dynamic axes
  {cell}_{I}x{H}.safetensors   the same module's state dict (PyTorch keys: weight_ih_l0, ...),
                               so rnnkit loads exactly the weights ONNX Runtime runs

The weights are seeded, so reruns write the same files. Prints one JSON line describing them.
"""
import json
import os
import sys

import torch

# The repository's safetensors writer (the `safetensors` wheel is not in Debian).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tooling", "golden"))
from safetensors_io import save as save_safetensors  # noqa: E402

SIZES = [(300, 256), (32, 64), (256, 256)]
CELLS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


class SequenceOnly(torch.nn.Module):
    """Returns only the output sequence, so the ONNX graph has one output "y"."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0]


def main():
    args = sys.argv[1:]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
    if args and not args[0].startswith("--"):
        out = args[0]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    written = []
    for seed, (cell, cls) in enumerate(CELLS.items()):
        for i_size, h_size in SIZES:
            torch.manual_seed(1000 + 10 * seed + i_size)
            rnn = cls(i_size, h_size, batch_first=True).eval()
            name = f"{cell}_{i_size}x{h_size}"
            x = torch.randn(2, 5, i_size)
            with torch.no_grad():
                torch.onnx.export(
                    SequenceOnly(rnn), (x,), os.path.join(out, f"{name}.onnx"),
                    input_names=["x"], output_names=["y"],
                    dynamic_axes={"x": {0: "batch", 1: "time"}, "y": {0: "batch", 1: "time"}},
                    opset_version=14, do_constant_folding=True,
                )
            save_safetensors(dict(rnn.state_dict()), os.path.join(out, f"{name}.safetensors"))
            written.append(name)
    print(json.dumps({"torch": torch.__version__, "opset": 14, "dir": out, "models": written}))


if __name__ == "__main__":
    main()
