"""Fixtures for torch.nn.utils.rnn, gradient clipping, Embedding options, weight tying and the ported
PyTorch tests (groups packed, clip, embedding, tying, port; phase2 from phase2.py). Imported by generate.py; every fixture
seeds with crc32("<group>/<name>"), so adding one never changes the others."""
import math

import torch
import torch.nn.utils.rnn as rnn_utils

from fixture import ints, seed, write
from modules import build_module, run_module
from phase2 import gen_phase2


# ---------------------------------------------------------------- packed
def gen_packed():
    T, B, F = 6, 4, 3
    for batch_first in (False, True):
        for sorted_ in (True, False):
            name = f"pack_padded_{'bf' if batch_first else 'tf'}_{'sorted' if sorted_ else 'unsorted'}"
            seed("packed", name)
            lengths = [6, 4, 4, 1] if sorted_ else [2, 6, 1, 4]
            x = torch.randn(*((B, T) if batch_first else (T, B)), F, requires_grad=True)
            packed = rnn_utils.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=sorted_)
            padded, _ = rnn_utils.pad_packed_sequence(packed, batch_first=batch_first)
            total, _ = rnn_utils.pad_packed_sequence(packed, batch_first=batch_first, padding_value=-1.5,
                                                     total_length=T + 2)
            extra = {"output.batch_sizes": packed.batch_sizes.int()}
            if not sorted_:
                extra["output.sorted_indices"] = packed.sorted_indices.int()
                extra["output.unsorted_indices"] = packed.unsorted_indices.int()
            config = {"kind": "packPaddedSequence", "batchFirst": batch_first, "enforceSorted": sorted_,
                      "lengths": lengths}
            write("packed", name, config, None, {"x": x, "lengths": ints(lengths)},
                   {"data": packed.data, "padded": padded, "padded_total": total}, extra=extra)
    for side in ("right", "left"):
        for batch_first in (False, True):
            name = f"pad_sequence_{side}_{'bf' if batch_first else 'tf'}"
            seed("packed", name)
            seqs = [torch.randn(n, 2, requires_grad=True) for n in (3, 5, 2)]
            if side == "right":
                y = rnn_utils.pad_sequence(seqs, batch_first=batch_first, padding_value=0.5)
            else:  # torch 1.13 has no padding_side: pad the reversed sequences, reverse back
                y = rnn_utils.pad_sequence([s.flip(0) for s in seqs], batch_first=batch_first, padding_value=0.5)
                y = y.flip(1 if batch_first else 0)
            config = {"kind": "padSequence", "batchFirst": batch_first, "paddingValue": 0.5, "paddingSide": side}
            write("packed", name, config, None, {f"s{i}": s for i, s in enumerate(seqs)}, {"y": y})
    name = "pack_sequence_unsorted"
    seed("packed", name)
    seqs = [torch.randn(n, 2, 3, requires_grad=True) for n in (2, 5, 1, 5)]
    packed = rnn_utils.pack_sequence(seqs, enforce_sorted=False)
    write("packed", name, {"kind": "packSequence", "enforceSorted": False}, None,
           {f"s{i}": s for i, s in enumerate(seqs)}, {"data": packed.data},
           extra={"output.batch_sizes": packed.batch_sizes.int(),
                  "output.sorted_indices": packed.sorted_indices.int(),
                  "output.unsorted_indices": packed.unsorted_indices.int()})


# ---------------------------------------------------------------- clip
def clip_case(name, grads, max_norm, norm_type):
    ps = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
    for p, g in zip(ps, grads):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    extra = {f"input.g{i}": g for i, g in enumerate(grads)}
    extra.update({f"output.g{i}": p.grad for i, p in enumerate(ps)})
    extra["output.total_norm"] = total.reshape(1).float()
    config = {"kind": "clipGradNorm", "maxNorm": max_norm,
              "normType": "inf" if norm_type == math.inf else ("-inf" if norm_type == -math.inf else norm_type)}
    write("clip", name, config, None, {}, {}, extra=extra)


def gen_clip():
    for norm_type in (0.5, 1, 1.5, 2, 3, 4, math.inf, 0, -1, -math.inf):
        for max_norm in (0.0, 1.0, 100.0):
            tag = {math.inf: "inf", -math.inf: "neginf"}.get(norm_type, str(norm_type).replace("-", "neg"))
            name = f"norm_p{tag}_max{int(max_norm)}"
            seed("clip", name)
            grads = [torch.randn(3, 4) * 2, torch.randn(5), torch.randn(2, 2, 2) * 0.1]
            grads[0][1, 2] = 0.0  # a zero element (norms of order <= 0 depend on it)
            clip_case(name, grads, max_norm, norm_type)
    # test_clip_grad_norm's gradients: arange(1, 101) and ones / 1000 (PyTorch's own numbers)
    for norm_type in (0.5, 1.5, 2, 4, math.inf):
        tag = "inf" if norm_type == math.inf else str(norm_type)
        clip_case(f"torch_test_p{tag}", [torch.arange(1., 101).view(10, 10), torch.ones(10).div(1000)], 2.0,
                  norm_type)
    # non-finite gradients, scaled anyway (error_if_nonfinite=False)
    for tag, bad in (("nan", math.nan), ("inf", math.inf)):
        for norm_type in (2, math.inf):
            name = f"nonfinite_{tag}_p{'inf' if norm_type == math.inf else norm_type}"
            seed("clip", name)
            g = torch.randn(4)
            g[2] = bad
            clip_case(name, [g, torch.randn(3)], 1.0, norm_type)
    name = "value_0.5"
    seed("clip", name)
    grads = [torch.randn(3, 4), torch.randn(5) * 0.2]
    extra = {f"input.g{i}": g for i, g in enumerate(grads)}
    ps = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
    for p, g in zip(ps, grads):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_value_(ps, 0.5)
    extra.update({f"output.g{i}": p.grad for i, p in enumerate(ps)})
    write("clip", name, {"kind": "clipGradValue", "clipValue": 0.5}, None, {}, {}, extra=extra)


# ---------------------------------------------------------------- embedding
def gen_embedding():
    ids = ints([[2, 8, 8, 6], [0, 2, 9, 8]])
    for norm_type in (2.0, 1.0, 3.0):
        for pad in (None, 2):
            name = f"max_norm_p{int(norm_type)}_pad{pad}"
            seed("embedding", name)
            m = torch.nn.Embedding(10, 5, max_norm=1.5, norm_type=norm_type, padding_idx=pad)
            with torch.no_grad():
                m.weight.mul_(torch.rand(10, 1) * 2)  # some rows above the max norm, some below
            before = m.weight.detach().clone()
            y = m(ids.long())
            config = {"kind": "Embedding", "numEmbeddings": 10, "embeddingDim": 5, "paddingIdx": pad,
                      "maxNorm": 1.5, "normType": norm_type, "scaleGradByFreq": False}
            # param.weight (and its gradient) is the weight after the in-place renormalisation
            write("embedding", name, config, m, {"ids": ids}, {"y": y}, extra={"input.weight": before})
    # test_embedding_max_norm_unsorted_repeating_indices (ids arange(2).repeat(50) instead of 2000)
    name = "max_norm_unsorted_repeating_indices"
    seed("embedding", name)
    m = torch.nn.Embedding(20, 64, max_norm=1.0)
    before = m.weight.detach().clone()
    ids_ = torch.arange(2, dtype=torch.int32).repeat(50)
    config = {"kind": "Embedding", "numEmbeddings": 20, "embeddingDim": 64, "paddingIdx": None,
              "maxNorm": 1.0, "normType": 2.0, "scaleGradByFreq": False}
    write("embedding", name, config, m, {"ids": ids_}, {"y": m(ids_.long())}, extra={"input.weight": before})
    for pad in (None, 2):
        name = f"scale_grad_by_freq_pad{pad}"
        seed("embedding", name)
        m = torch.nn.Embedding(10, 5, padding_idx=pad, scale_grad_by_freq=True)
        ids_ = ints([[2, 8, 8, 6, 8], [0, 2, 9, 2, 2]])
        config = {"kind": "Embedding", "numEmbeddings": 10, "embeddingDim": 5, "paddingIdx": pad,
                  "maxNorm": None, "normType": 2.0, "scaleGradByFreq": True}
        write("embedding", name, config, m, {"ids": ids_}, {"y": m(ids_.long())})


# ---------------------------------------------------------------- tying
class TiedLM(torch.nn.Module):
    """Embedding(V, E) -> LSTM(E, E, batch_first) -> Linear(E, V) whose weight is the embedding's."""

    def __init__(self, vocab, dim):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab, dim)
        self.rnn = torch.nn.LSTM(dim, dim, batch_first=True)
        self.decoder = torch.nn.Linear(dim, vocab)
        self.decoder.weight = self.embedding.weight

    def forward(self, ids):
        out, _ = self.rnn(self.embedding(ids))
        return self.decoder(out)


def gen_tying():
    name = "tied_lm_sgd"
    seed("tying", name)
    V, E, B, T, steps, lr = 11, 6, 3, 5, 5, 0.5
    lm = TiedLM(V, E)
    ids = torch.randint(0, V, (B, T), dtype=torch.int32)
    targets = torch.randint(0, V, (B, T), dtype=torch.int32)
    tensors = {f"param.{k}": v.detach().clone() for k, v in lm.state_dict().items()}
    opt = torch.optim.SGD(lm.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        logits = lm(ids.long())
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1).long())
        loss.backward()
        opt.step()
        losses.append(loss.item())
    extra = {k: v for k, v in tensors.items()}
    extra.update({f"final.{k}": v.detach().clone() for k, v in lm.state_dict().items()})
    extra["output.losses"] = torch.tensor(losses)
    extra["input.ids"] = ids
    extra["input.targets"] = targets
    config = {"kind": "TiedLM", "vocab": V, "dim": E, "steps": steps, "lr": lr,
              "keys": list(lm.state_dict().keys()), "parameters": [k for k, _ in lm.named_parameters()]}
    write("tying", name, config, None, {}, {}, extra=extra)


# ---------------------------------------------------------------- port (test_nn.py cell smoke tests)
def gen_port():
    for kind in ("RNNCell", "GRUCell", "LSTMCell"):
        for bias in (True, False):
            name = f"test_{'LSTM' if kind == 'LSTMCell' else 'RNN'}_cell_{kind.lower()}_{'bias' if bias else 'nobias'}"
            seed("port", name)
            x = torch.randn(3, 10, requires_grad=True)
            hx = torch.randn(3, 20, requires_grad=True)
            cx = torch.randn(3, 20, requires_grad=True)
            cell = getattr(torch.nn, kind)(10, 20, bias=bias)
            h, c = hx, cx
            for _ in range(6):
                if kind == "LSTMCell":
                    h, c = cell(x, (h, c))
                else:
                    h = cell(x, h)
            outputs = {"h": h} if kind != "LSTMCell" else {"h": h, "c": c}
            inputs = {"x": x, "h0": hx} if kind != "LSTMCell" else {"x": x, "h0": hx, "c0": cx}
            ones = {k: torch.ones(v.shape) for k, v in outputs.items()}  # hx.sum() / (hx + cx).sum()
            write("port", name, {"kind": kind, "inputSize": 10, "hiddenSize": 20, "bias": bias, "steps": 6},
                   cell, inputs, outputs, loss_weights=ones)


# ---------------------------------------------------------------- odd hidden sizes (kernel tail loops)
ODD_SIZES = (5, 7, 13)


def gen_odd_cells(fixture, leaf):
    for kind, nonlin in (("RNNCell", "tanh"), ("RNNCell", "relu"), ("LSTMCell", None), ("GRUCell", None)):
        for H in ODD_SIZES:
            config = {"kind": kind, "inputSize": 3, "hiddenSize": H, "bias": True, "batched": True,
                      "withState": True}
            if nonlin:
                config["nonlinearity"] = nonlin
            name = "_".join([kind.lower()] + ([nonlin] if nonlin else []) + [f"h{H}", "batched", "h0"])

            def make_inputs(H=H, kind=kind):
                inputs = {"x": leaf(2, 3), "h0": leaf(2, H)}
                if kind == "LSTMCell":
                    inputs["c0"] = leaf(2, H)
                return inputs

            fixture("cell", name, config, make_inputs)


def gen_odd_layers(fixture, leaf):
    for kind in ("RNN", "LSTM", "GRU"):
        for H in ODD_SIZES:
            for ragged in (False, True):
                lengths = [5, 2, 4] if ragged else None
                config = {"kind": kind, "inputSize": 3, "hiddenSize": H, "numLayers": 2, "bias": True,
                          "batchFirst": True, "bidirectional": True, "batched": True, "withState": True,
                          "lengths": lengths}
                if kind == "RNN":
                    config["nonlinearity"] = "tanh"
                if kind == "LSTM":
                    config["projSize"] = 0
                name = f"{kind.lower()}_h{H}_l2_bi_bias_h0_bf{'_ragged' if ragged else ''}"

                def make_inputs(H=H, kind=kind, lengths=lengths):
                    inputs = {"x": leaf(3, 5, 3), "h0": leaf(4, 3, H)}
                    if kind == "LSTM":
                        inputs["c0"] = leaf(4, 3, H)
                    if lengths:
                        inputs["lengths"] = ints(lengths)
                    return inputs

                fixture("rnn", name, config, make_inputs)


GROUPS = {"packed": gen_packed, "clip": gen_clip, "embedding": gen_embedding, "tying": gen_tying,
          "port": gen_port, "phase2": gen_phase2}
__all__ = ["GROUPS", "gen_odd_cells", "gen_odd_layers", "build_module", "run_module"]
