#!/usr/bin/python3
"""The sequence-to-sequence bench's PyTorch side (run with Debian's python3-torch: /usr/bin/python3).

  /usr/bin/python3 apps/bench/export_seq2seq.py OUT_DIR [--threads N]

Builds the G2P model of apps/examples at its default size (tooling/golden/seq2seq_modules.Seq2Seq:
GRU, bidirectional encoder, general attention, E 64, H 128, 31 letters, 72 phonemes), seeded, and
writes into OUT_DIR:
  seq2seq_g2p.safetensors   its state dict (rnnkit's keys), so rnnkit runs the same weights
  seq2seq_step.onnx         one decoder step, torch.onnx.export (opset 14): inputs token int64 [B],
                            h [1, B, H], keys [B, S, 2H] (encoder outputs), projected [B, S, H]
                            (keys through attention.linear, computed once per word, as rnnkit does);
                            outputs logits [B, V], h_next [1, B, H]
and prints one JSON line: PyTorch's own times (ms, median of 20 after 3 warm-ups) of the teacher-
forced training step (B 128, S 9, T 9: forward, cross-entropy, backward, clip, Adam) and of the
decoder step (B 1), on N threads (default 1).
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tooling", "golden"))
from safetensors_io import save as save_safetensors  # noqa: E402
from seq2seq_modules import Seq2Seq  # noqa: E402

CONFIG = {"srcVocab": 31, "tgtVocab": 72, "embeddingDim": 64, "hiddenSize": 128, "cell": "gru",
          "numLayers": 1, "bidirectionalEncoder": True, "attention": "general", "inputFeeding": False,
          "dropout": 0}


class DecoderStep(torch.nn.Module):
    """One step of Seq2Seq's decoder with attention over precomputed keys (no Python control flow)."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, token, h, keys, projected):
        m = self.m
        out, h_next = m.decoder(m.tgt_embedding(token).unsqueeze(1), h)  # [B, 1, H]
        w = torch.softmax(out @ projected.transpose(1, 2), dim=-1)  # [B, 1, S]
        ctx = w @ keys
        hidden = torch.tanh(m.combine(torch.cat([ctx, out], 2)))
        return m.out(hidden)[:, 0], h_next


def median_ms(fn, reps=20):
    for _ in range(3):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    args = sys.argv[1:]
    out = args[0] if args and not args[0].startswith("--") else os.path.join(HERE, "models")
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 1
    torch.set_num_threads(threads)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(2024)
    m = Seq2Seq(CONFIG).eval()
    save_safetensors({k: v.detach() for k, v in m.state_dict().items()}, os.path.join(out, "seq2seq_g2p.safetensors"))
    step = DecoderStep(m).eval()
    S, H = 8, CONFIG["hiddenSize"]
    src = torch.randint(2, 31, (1, S))
    with torch.no_grad():
        state = m.encode(src, [S])
        keys = state["keys"]
        projected = m.attention.linear(keys)
        token = torch.tensor([1])
        torch.onnx.export(step, (token, state["h"], keys, projected), os.path.join(out, "seq2seq_step.onnx"),
                          input_names=["token", "h", "keys", "projected"], output_names=["logits", "h_next"],
                          dynamic_axes={"token": {0: "B"}, "h": {1: "B"}, "keys": {0: "B", 1: "S"},
                                        "projected": {0: "B", 1: "S"}, "logits": {0: "B"}, "h_next": {1: "B"}},
                          opset_version=14, do_constant_folding=True)
        step_ms = median_ms(lambda: step(token, state["h"], keys, projected), reps=200)
    train_m = Seq2Seq(CONFIG)
    opt = torch.optim.Adam(train_m.parameters(), lr=1e-3)
    B, T = 128, 9
    src = torch.randint(2, 31, (B, S + 1))
    lengths = [4 + i % 6 for i in range(B)]
    tin = torch.randint(3, 72, (B, T))
    tout = torch.randint(3, 72, (B, T))

    def train_step():
        opt.zero_grad()
        logits = train_m(src, lengths, tin)
        loss = F.cross_entropy(logits.reshape(-1, 72), tout.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(train_m.parameters(), 5.0)
        opt.step()

    train_ms = median_ms(train_step)
    print(json.dumps({"torch": torch.__version__, "threads": threads, "trainStepMs": round(train_ms, 2),
                      "decoderStepMs": round(step_ms, 4), "config": CONFIG}))


if __name__ == "__main__":
    main()
