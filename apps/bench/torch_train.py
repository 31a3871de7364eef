#!/usr/bin/python3
"""PyTorch's training step for the bench (run with Debian's python3-torch: /usr/bin/python3).

  /usr/bin/python3 apps/bench/torch_train.py CELL THREADS FILE

FILE (safetensors) holds the module's state dict (PyTorch keys: weight_ih_l0, ...), the input "x"
[B, T, I] and the target "y" [B, T, H]. Builds torch.nn.{RNN,LSTM,GRU}(batch_first=True) with
those weights and Adam(lr=1e-3) on THREADS intra-op threads, prints "ready", then for every line
N read from stdin runs N training steps (forward, MSE loss, backward, Adam step) and prints the
loss of the first of them (before its update). Ends at end of input.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tooling", "golden"))
from safetensors_io import load  # noqa: E402

CELLS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


def main():
    cell, threads, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    torch.set_num_threads(threads)
    tensors, _ = load(path)
    x, y = tensors.pop("x"), tensors.pop("y")
    rnn = CELLS[cell](x.shape[2], y.shape[2], batch_first=True)
    rnn.load_state_dict(tensors)
    rnn.train()
    opt = torch.optim.Adam(rnn.parameters(), lr=1e-3)
    loss_fn = torch.nn.MSELoss()
    print("ready", flush=True)
    for line in sys.stdin:
        first = None
        for _ in range(int(line)):
            opt.zero_grad()
            loss = loss_fn(rnn(x)[0], y)
            loss.backward()
            opt.step()
            if first is None:
                first = loss.item()
        print(repr(first), flush=True)


if __name__ == "__main__":
    main()
