"""Fixtures for engine work still to come (group phase2): RNN/LSTM/GRU on a PackedSequence, NaN/Inf at
padded steps, second derivatives through layers and cells. Imported by semantics.py."""
import torch
import torch.nn.utils.rnn as rnn_utils

from fixture import ints, seed, write


def _layer(kind, bidir, proj=0):
    cls = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[kind]
    extra = {"proj_size": proj} if proj else {}
    return cls(3, 4, num_layers=2, bidirectional=bidir, **extra)


def gen_phase2():
    """RNN/LSTM/GRU.forward on a PackedSequence (test_variable_sequence), NaN at padded steps, and
    gradients of gradients (gradient penalties) through the layers and the cells."""
    lengths = [2, 5, 1, 4]  # unsorted
    for kind in ("RNN", "LSTM", "GRU"):
        for bidir in (False, True):
            name = f"packed_forward_{kind.lower()}_{'bi' if bidir else 'uni'}"
            seed("phase2", name)
            m = _layer(kind, bidir)
            x = torch.randn(5, 4, 3, requires_grad=True)
            packed = rnn_utils.pack_padded_sequence(x, lengths, enforce_sorted=False)
            out, state = m(packed)
            h_n, c_n = state if kind == "LSTM" else (state, None)
            outputs = {"data": out.data, "h_n": h_n}
            if c_n is not None:
                outputs["c_n"] = c_n
            config = {"kind": kind, "inputSize": 3, "hiddenSize": 4, "numLayers": 2, "bidirectional": bidir,
                      "lengths": lengths, "enforceSorted": False}
            write("phase2", name, config, m, {"x": x, "lengths": ints(lengths)}, outputs,
                   extra={"output.batch_sizes": out.batch_sizes.int(),
                          "output.sorted_indices": out.sorted_indices.int()})
            # NaN and Inf at padded steps: PyTorch never reads them (outputs and gradients finite)
            name = f"nan_padding_{kind.lower()}_{'bi' if bidir else 'uni'}"
            seed("phase2", name)
            m = _layer(kind, bidir)
            x = torch.randn(5, 4, 3)
            for b, n in enumerate(lengths):
                x[n:, b] = float("nan") if b % 2 else float("inf")
            x.requires_grad_(True)
            packed = rnn_utils.pack_padded_sequence(x, lengths, enforce_sorted=False)
            out, state = m(packed)
            padded, _ = rnn_utils.pad_packed_sequence(out, total_length=5)
            h_n, c_n = state if kind == "LSTM" else (state, None)
            outputs = {"output": padded, "h_n": h_n}
            if c_n is not None:
                outputs["c_n"] = c_n
            config = {"kind": kind, "inputSize": 3, "hiddenSize": 4, "numLayers": 2, "bias": True,
                      "batchFirst": False, "bidirectional": bidir, "batched": True, "withState": False,
                      "lengths": lengths}
            write("phase2", name, config, m, {"x": x, "lengths": ints(lengths)}, outputs)
    # second derivatives: penalty = sum over every parameter and x of (d loss / d it)^2, loss = sum(out * w)
    for kind in ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"):
        name = f"gradgrad_{kind.lower()}"
        seed("phase2", name)
        cell = kind.endswith("Cell")
        m = getattr(torch.nn, kind)(3, 4) if cell else _layer(kind, True)
        x = torch.randn(*((2, 3) if cell else (5, 2, 3)), requires_grad=True)
        out = m(x)
        y = out[0] if isinstance(out, tuple) else out
        w = torch.randn(y.shape)
        params = [p for _, p in m.named_parameters()]
        grads = torch.autograd.grad((y * w).sum(), params + [x], create_graph=True)
        penalty = sum((g * g).sum() for g in grads)
        second = torch.autograd.grad(penalty, params + [x])
        extra = {"lossweight.y": w, "output.y": y.detach(), "output.penalty": penalty.detach().reshape(1)}
        extra.update({f"gradgrad.param.{k}": g for (k, _), g in zip(m.named_parameters(), second)})
        extra["gradgrad.input.x"] = second[-1]
        extra["input.x"] = x.detach()
        extra.update({f"param.{k}": v.detach() for k, v in m.named_parameters()})
        config = {"kind": kind, "inputSize": 3, "hiddenSize": 4, "numLayers": 1 if cell else 2,
                  "bidirectional": not cell, "penalty": "sum of squared first gradients (params and x)"}
        write("phase2", name, config, None, {}, {}, extra=extra)


