#!/usr/bin/python3
"""Writes rnnkit's PyTorch golden fixtures (run with Debian's python3-torch: /usr/bin/python3).

  /usr/bin/python3 tooling/golden/generate.py              regenerate every fixture
  /usr/bin/python3 tooling/golden/generate.py --only rnn   regenerate one group (ops, cell, rnn, heads, loss, seq2seq)
  /usr/bin/python3 tooling/golden/generate.py --check F    load an rnnkit safetensors file F into the
                                                            torch module named in its metadata, and
                                                            compare outputs (see check.py, README.md)

Each fixture is one safetensors file: tensors named `param.<key>` (the module's state dict),
`input.<name>`, `output.<name>`, `lossweight.<name>`, `grad.param.<key>`, `grad.input.<name>`, and
`__metadata__` holding `config` (JSON). The scalar loss is sum(output.<name> * lossweight.<name>)
over every output, so gradients depend on every element.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import seed_for, write  # noqa: E402
from modules import build_module, run_module  # noqa: E402
import semantics  # noqa: E402

torch.set_default_dtype(torch.float32)


def leaf(*shape, low=None, high=None):
    t = torch.randn(*shape) if low is None else torch.empty(*shape).uniform_(low, high)
    return t.requires_grad_(True)


# ---------------------------------------------------------------- ops
def gen_ops():
    torch.manual_seed(1)
    for bias in (True, False):
        for shape in ((3, 7), (2, 4, 7), (7,)):
            m = torch.nn.Linear(7, 5, bias=bias)
            x = leaf(*shape)
            name = f"linear_{'bias' if bias else 'nobias'}_{len(shape)}d"
            write("ops", name, {"kind": "Linear", "inFeatures": 7, "outFeatures": 5, "bias": bias},
                  m, {"x": x}, {"y": m(x)})
    for pad in (None, 0, 3):
        m = torch.nn.Embedding(11, 4, padding_idx=pad)
        ids = torch.tensor([[0, 3, 5, 10, 3], [1, 0, 0, 7, 3]], dtype=torch.int32)
        write("ops", f"embedding_pad{pad}", {"kind": "Embedding", "numEmbeddings": 11, "embeddingDim": 4,
                                              "paddingIdx": pad}, m, {"ids": ids}, {"y": m(ids.long())})
    for shape in ((6, 5), (2, 3, 5)):
        logits = leaf(*shape)
        targets = torch.randint(0, shape[-1], shape[:-1], dtype=torch.int32)
        targets.view(-1)[1] = -100
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, shape[-1]), targets.reshape(-1).long(),
                                                 ignore_index=-100)
        write("ops", f"cross_entropy_{len(shape)}d", {"kind": "crossEntropy"}, None,
              {"logits": logits, "targets": targets}, {"loss": loss}, {"loss": torch.tensor(1.0)})
    pred, target = leaf(4, 3), torch.randn(4, 3)
    write("ops", "mse", {"kind": "mseLoss"}, None, {"pred": pred, "target": target},
          {"loss": torch.nn.functional.mse_loss(pred, target)}, {"loss": torch.tensor(1.0)})
    for max_norm in (1.0, 100.0):
        ps = [torch.nn.Parameter(torch.randn(3, 4) * 2), torch.nn.Parameter(torch.randn(5))]
        grads = {f"g{i}": torch.randn(p.shape) * 3 for i, p in enumerate(ps)}
        for i, p in enumerate(ps):
            p.grad = grads[f"g{i}"].clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm)
        extra = {f"input.{k}": v for k, v in grads.items()}
        extra.update({f"output.g{i}": p.grad for i, p in enumerate(ps)})
        extra["output.total_norm"] = total.reshape(1)
        write("ops", f"clip_grad_norm_{int(max_norm)}", {"kind": "clipGradNorm", "maxNorm": max_norm},
              None, {}, {}, extra=extra)


# ---------------------------------------------------------------- shared helpers for cell / rnn
def tutorial_setup():
    """The seed's session: xt, h0, MyRNN(emb, hidden, 1), then nn.RNN(emb, hidden, 1, batch_first=True).

    Both tutorial fixtures (cell/tutorial_myrnn, rnn/tutorial_rnn) replay it from the same seed, so they
    share the same xt (as in the tutorial, where one xt feeds both models)."""
    torch.manual_seed(TUTORIAL_SEED)
    bs, seq_len, emb_size = 2, 10, 300
    xt = torch.rand((bs, seq_len, emb_size))
    hidden_dim = 256
    h0 = torch.rand((bs, hidden_dim))
    myrnn_config = {"kind": "ElmanRNN", "inputDim": emb_size, "hiddenSize": hidden_dim, "outputDim": 1,
                    "activation": "relu"}
    myrnn = build_module(myrnn_config)
    rnn_config = {"kind": "RNN", "inputSize": emb_size, "hiddenSize": hidden_dim, "numLayers": 1,
                  "nonlinearity": "tanh", "bias": True, "batchFirst": True, "bidirectional": False,
                  "batched": True, "withState": False, "lengths": None}
    rnn = build_module(rnn_config)
    return xt, h0, (myrnn_config, myrnn), (rnn_config, rnn)


TUTORIAL_SEED = 0


def fixture(group, name, config, make_inputs):
    """Seeds, builds the module from config, creates inputs, runs, writes. Returns the file name."""
    torch.manual_seed(seed_for(group, name))
    m = build_module(config)
    inputs = make_inputs()
    write(group, name, config, m, inputs, run_module(config, m, inputs))


# ---------------------------------------------------------------- cell
CELL_I, CELL_H, CELL_B = 3, 4, 2


def gen_cell():
    I, H, B = CELL_I, CELL_H, CELL_B
    variants = [("RNNCell", "tanh"), ("RNNCell", "relu"), ("LSTMCell", None), ("GRUCell", None)]
    for kind, nonlin in variants:
        for bias in (True, False):
            for batched in (True, False):
                for with_state in (False, True):
                    config = {"kind": kind, "inputSize": I, "hiddenSize": H, "bias": bias,
                              "batched": batched, "withState": with_state}
                    if nonlin:
                        config["nonlinearity"] = nonlin
                    lead = (B,) if batched else ()
                    name = "_".join([kind.lower()] + ([nonlin] if nonlin else []) + [
                        "bias" if bias else "nobias", "batched" if batched else "unbatched",
                        "h0" if with_state else "noh0"])

                    def make_inputs(lead=lead, with_state=with_state, kind=kind):
                        inputs = {"x": leaf(*lead, I)}
                        if with_state:
                            inputs["h0"] = leaf(*lead, H)
                            if kind == "LSTMCell":
                                inputs["c0"] = leaf(*lead, H)
                        return inputs

                    fixture("cell", name, config, make_inputs)
    # The seed's MyRNN: a small relu one, a tanh variant, and the tutorial's exact sizes and data.
    for name, act in (("elman_relu", "relu"), ("elman_tanh", "tanh")):
        config = {"kind": "ElmanRNN", "inputDim": 3, "hiddenSize": 4, "outputDim": 2, "activation": act}
        fixture("cell", name, config, lambda: {"xt": leaf(2, 5, 3), "h0": leaf(2, 4)})
    xt, h0, (config, myrnn), _ = tutorial_setup()
    inputs = {"xt": xt.requires_grad_(True), "h0": h0.requires_grad_(True)}
    write("cell", "tutorial_myrnn", config, myrnn, inputs, run_module(config, myrnn, inputs))
    semantics.gen_odd_cells(fixture, leaf)  # hidden sizes 5, 7, 13: the kernel's scalar tail loops


# ---------------------------------------------------------------- rnn
RNN_I, RNN_H, RNN_T, RNN_B, RNN_LENGTHS = 3, 4, 5, 3, [5, 2, 4]
# input layouts: (token, batched, batchFirst, ragged)
LAYOUTS = [("bf", True, True, False), ("tf", True, False, False), ("bf_ragged", True, True, True),
           ("tf_ragged", True, False, True), ("unbatched", False, False, False)]


def rnn_fixture(kind, layers, bidir, bias, with_state, layout, nonlinearity="tanh", proj=0):
    token, batched, batch_first, ragged = layout
    I, H, T, B = RNN_I, RNN_H, RNN_T, RNN_B
    D = 2 if bidir else 1
    lengths = list(RNN_LENGTHS) if ragged else None
    config = {"kind": kind, "inputSize": I, "hiddenSize": H, "numLayers": layers, "bias": bias,
              "batchFirst": batch_first, "bidirectional": bidir, "batched": batched,
              "withState": with_state, "lengths": lengths}
    head = [kind.lower()]
    if kind == "RNN":
        config["nonlinearity"] = nonlinearity
        head.append(nonlinearity)
    if kind == "LSTM":
        config["projSize"] = proj
        if proj:
            head.append(f"proj{proj}")
    name = "_".join(head + [f"l{layers}", "bi" if bidir else "uni", "bias" if bias else "nobias",
                            "h0" if with_state else "noh0", token])

    def make_inputs():
        x_shape = ((B, T) if batch_first else (T, B)) if batched else (T,)
        inputs = {"x": leaf(*x_shape, I)}
        if with_state:
            lead = (layers * D, B) if batched else (layers * D,)
            inputs["h0"] = leaf(*lead, proj or H)
            if kind == "LSTM":
                inputs["c0"] = leaf(*lead, H)
        if ragged:
            inputs["lengths"] = torch.tensor(lengths, dtype=torch.int32)
        return inputs

    fixture("rnn", name, config, make_inputs)


def gen_rnn():
    # Main grid: every kind x direction x bias x withState x layout (120 fixtures); the layer count
    # (1, 2 or 3) cycles so that every 3-way combination of the six factors occurs (the full 360-file
    # cartesian product would be ~5.6 MB on disk).
    for ki, kind in enumerate(("RNN", "LSTM", "GRU")):
        for di, bidir in enumerate((False, True)):
            for bi, bias in enumerate((True, False)):
                for si, with_state in enumerate((True, False)):
                    for ui, layout in enumerate(LAYOUTS):
                        layers = 1 + (ui + di + bi + si + ki) % 3
                        rnn_fixture(kind, layers, bidir, bias, with_state, layout)
    # relu RNNs
    for layers, bidir, bias, with_state, ui in ((1, False, True, True, 0), (2, True, False, False, 3),
                                                (1, True, True, True, 4), (3, False, True, False, 2),
                                                (2, False, False, True, 1)):
        rnn_fixture("RNN", layers, bidir, bias, with_state, LAYOUTS[ui], nonlinearity="relu")
    # LSTM projections
    for layers in (1, 2):
        for bidir in (False, True):
            for ui in (0, 3):
                rnn_fixture("LSTM", layers, bidir, (layers + ui) % 2 == 1, bidir == (ui == 0), LAYOUTS[ui], proj=2)
    rnn_fixture("LSTM", 1, False, True, True, LAYOUTS[4], proj=2)
    # The tutorial's nn.RNN(300, 256, 1, batch_first=True) on its xt, without h0.
    xt, _, _, (config, rnn) = tutorial_setup()
    inputs = {"x": xt.requires_grad_(True)}
    write("rnn", "tutorial_rnn", config, rnn, inputs, run_module(config, rnn, inputs))
    semantics.gen_odd_layers(fixture, leaf)


# ---------------------------------------------------------------- heads
HEADS_B, HEADS_T, HEADS_F, HEADS_LENGTHS = 3, 5, 4, [5, 2, 4]
POOL_MODES = ("mean", "max", "sum", "first", "last", "flatten", "none")
ENCODER_KEYS = ("vocabSize", "embeddingDim", "paddingIdx", "inputSize", "cell", "hiddenSize", "numLayers",
                "bidirectional", "pooling", "outputSize")


def encoder_config(lengths, **opts):
    """A SequenceEncoder config: every SequenceEncoderOptions key (null when not given) plus lengths."""
    unknown = set(opts) - set(ENCODER_KEYS)
    if unknown:
        raise ValueError(f"not SequenceEncoderOptions: {sorted(unknown)}")
    config = {k: opts.get(k) for k in ENCODER_KEYS}
    config.update(kind="SequenceEncoder", lengths=lengths)
    return config


def ragged_inputs(inputs, lengths):
    if lengths is not None:
        inputs["lengths"] = torch.tensor(lengths, dtype=torch.int32)
    return inputs


def gen_heads():
    B, T, F = HEADS_B, HEADS_T, HEADS_F
    for ragged in (True, False):
        lengths = list(HEADS_LENGTHS) if ragged else None
        suffix = "ragged" if ragged else "full"
        for mode in POOL_MODES:
            fixture("heads", f"pool_{mode}_{suffix}", {"kind": "pool", "mode": mode, "lengths": lengths},
                    lambda lengths=lengths: ragged_inputs({"x": leaf(B, T, F)}, lengths))
        fixture("heads", f"attention_pooling_{suffix}", {"kind": "AttentionPooling", "inputSize": F, "lengths": lengths},
                lambda lengths=lengths: ragged_inputs({"x": leaf(B, T, F)}, lengths))

    lengths = list(HEADS_LENGTHS)

    def token_ids():
        ids = torch.randint(1, 13, (B, T), dtype=torch.int32)
        for b, n in enumerate(lengths):
            ids[b, n:] = 0  # padding_idx past each length
        return ragged_inputs({"ids": ids}, lengths)

    # (a) token ids -> Embedding(13, 5, padding_idx 0) -> bidirectional LSTM(4) -> masked mean -> Linear(8, 3)
    fixture("heads", "encoder_ids_lstm_bi_mean_proj",
            encoder_config(lengths, vocabSize=13, embeddingDim=5, paddingIdx=0, cell="lstm", hiddenSize=4,
                           numLayers=1, bidirectional=True, pooling="mean", outputSize=3), token_ids)
    # (b) features [B, T, 6] -> 2-layer GRU(4) -> attention pooling -> Linear(4, 2)
    fixture("heads", "encoder_x_gru_l2_attention_proj",
            encoder_config(lengths, inputSize=6, cell="gru", hiddenSize=4, numLayers=2, bidirectional=False,
                           pooling="attention", outputSize=2),
            lambda: ragged_inputs({"x": leaf(B, T, 6)}, lengths))
    # (c) pooling 'none' + per-step Linear: ragged bidirectional LSTM, and the tutorial's
    #     f([bs, seq, emb]) -> [bs, seq, emb] (outputSize = emb) with an Elman RNN and no lengths
    fixture("heads", "encoder_x_lstm_bi_none_proj",
            encoder_config(lengths, inputSize=6, cell="lstm", hiddenSize=4, numLayers=1, bidirectional=True,
                           pooling="none", outputSize=3),
            lambda: ragged_inputs({"x": leaf(B, T, 6)}, lengths))
    fixture("heads", "encoder_x_rnn_none_proj_full",
            encoder_config(None, inputSize=6, cell="rnn", hiddenSize=4, numLayers=1, bidirectional=False,
                           pooling="none", outputSize=6),
            lambda: {"x": leaf(B, T, 6)})


def gen_loss():
    from seq2seq_fixtures import gen_loss as run  # imports this module: loaded on demand
    run()


def gen_seq2seq():
    from seq2seq_fixtures import gen_seq2seq as run
    run()


GROUPS = {"ops": gen_ops, "cell": gen_cell, "rnn": gen_rnn, "heads": gen_heads, **semantics.GROUPS,
          "loss": gen_loss, "seq2seq": gen_seq2seq}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", metavar="FILE", help="load an rnnkit safetensors file into torch and compare")
    ap.add_argument("--only", choices=sorted(GROUPS), help="regenerate one group")
    args = ap.parse_args()
    if args.check:
        from check import check_file
        sys.exit(check_file(args.check))
    for name, gen in GROUPS.items():
        if args.only in (None, name):
            gen()
            print(f"wrote fixtures/{name}")


if __name__ == "__main__":
    main()
