"""Builds the torch module named by a fixture config and runs it with the fixture conventions.

Shared by generate.py (writes fixtures) and check.py (verifies files written by rnnkit), so both
sides agree on how a config maps to a module and how inputs map to outputs.
"""
import torch

from companion import rnnkit_torch


# The tutorial's model, exactly as in seed/000_ff0bc795ac284937.txt.
class MyRNN(torch.nn.Module):

    def __init__(self, input_dim ,hidden_size, output_dim):
        super(MyRNN, self).__init__()

        self.linear1 = torch.nn.Linear(input_dim  + hidden_size, hidden_size)
        self.activation= torch.nn.ReLU()
        self.linear2 = torch.nn.Linear(hidden_size, output_dim)
    def forward(self, xt, h):

        bs, seq_len, emb_size=xt.shape

        hidden_outputs=[]
        for t in range(seq_len):

            x=torch.cat([xt[:,t],h], 1)
            h = self.linear1(x)
            h= self.activation(h)
            hidden_outputs.append(h)
        hidden_states=torch.stack(hidden_outputs).permute(1,0,2) #seq_len, bs, hidden_dim
        predictions= self.linear2(hidden_states)
        return hidden_states, h , predictions


RECURRENT = ("RNN", "LSTM", "GRU")
CELLS = ("RNNCell", "LSTMCell", "GRUCell")
HEADS = ("pool", "AttentionPooling", "SequenceEncoder")
KINDS = ("Linear", "Embedding") + CELLS + ("ElmanRNN",) + RECURRENT + HEADS
POOLINGS = rnnkit_torch.POOLINGS


# @rnnkit/heads' reference semantics (pool, AttentionPooling, SequenceEncoder) are the companion's,
# python/rnnkit_torch.py: one implementation for the fixtures and for users.
ENCODER_OPTIONS = ("vocabSize", "embeddingDim", "paddingIdx", "inputSize", "cell", "hiddenSize", "numLayers",
                   "bidirectional", "pooling", "outputSize")


class Pool(torch.nn.Module):
    """Parameter-free stand-in so `pool` fixtures go through the same build/run path."""

    def __init__(self, mode):
        super().__init__()
        if mode not in POOLINGS or mode == "attention":
            raise ValueError(f"pool fixture mode must be one of {POOLINGS} except attention, got {mode!r}")
        self.mode = mode

    def forward(self, x, lengths=None):
        return rnnkit_torch.pool(x, self.mode, lengths)


def build_module(config):
    """A freshly initialised torch module for `config` (consumes the global RNG for its init)."""
    kind = config["kind"]
    if kind == "Linear":
        return torch.nn.Linear(config["inFeatures"], config["outFeatures"], bias=config["bias"])
    if kind == "Embedding":
        return torch.nn.Embedding(config["numEmbeddings"], config["embeddingDim"], padding_idx=config["paddingIdx"])
    if kind == "RNNCell":
        return torch.nn.RNNCell(config["inputSize"], config["hiddenSize"], bias=config["bias"],
                                nonlinearity=config.get("nonlinearity", "tanh"))
    if kind == "LSTMCell":
        return torch.nn.LSTMCell(config["inputSize"], config["hiddenSize"], bias=config["bias"])
    if kind == "GRUCell":
        return torch.nn.GRUCell(config["inputSize"], config["hiddenSize"], bias=config["bias"])
    if kind == "ElmanRNN":
        m = MyRNN(config["inputDim"], config["hiddenSize"], config["outputDim"])
        act = config.get("activation", "relu")
        if act == "tanh":
            m.activation = torch.nn.Tanh()
        elif act != "relu":
            raise ValueError(f"ElmanRNN activation must be relu or tanh, got {act!r}")
        return m
    if kind in RECURRENT:
        kw = dict(num_layers=config["numLayers"], bias=config["bias"], batch_first=config["batchFirst"],
                  dropout=0.0, bidirectional=config["bidirectional"])
        if kind == "RNN":
            return torch.nn.RNN(config["inputSize"], config["hiddenSize"],
                                nonlinearity=config.get("nonlinearity", "tanh"), **kw)
        if kind == "LSTM":
            return torch.nn.LSTM(config["inputSize"], config["hiddenSize"], proj_size=config.get("projSize", 0), **kw)
        return torch.nn.GRU(config["inputSize"], config["hiddenSize"], **kw)
    if kind == "pool":
        return Pool(config["mode"])
    if kind == "AttentionPooling":
        return rnnkit_torch.AttentionPooling(config["inputSize"])
    if kind == "SequenceEncoder":
        return rnnkit_torch.SequenceEncoder(**{k: config[k] for k in ENCODER_OPTIONS if config.get(k) is not None})
    raise ValueError(f"unsupported kind {kind!r} (supported: {', '.join(KINDS)})")


def _lengths(config, inputs):
    lengths = config.get("lengths")
    if lengths is None and "lengths" in inputs:
        lengths = inputs["lengths"].reshape(-1).tolist()
    elif lengths is not None and "lengths" in inputs:
        stored = [int(v) for v in inputs["lengths"].reshape(-1).tolist()]
        if stored != [int(v) for v in lengths]:
            raise ValueError(f"config lengths {lengths} differ from input.lengths {stored}")
    return None if lengths is None else [int(v) for v in lengths]


def _with_state(config, inputs):
    ws = config.get("withState")
    if ws is None:
        ws = "h0" in inputs
    if ws and "h0" not in inputs:
        raise ValueError("config says withState but the file has no input.h0")
    return bool(ws)


def run_module(config, m, inputs):
    """Runs `m` on the named inputs and returns the named outputs (fixture conventions)."""
    kind = config["kind"]
    if kind == "Linear":
        return {"y": m(inputs["x"])}
    if kind == "Embedding":
        return {"y": m(inputs["ids"].long())}
    if kind in ("RNNCell", "GRUCell"):
        h0 = inputs["h0"] if _with_state(config, inputs) else None
        return {"h": m(inputs["x"], h0)}
    if kind == "LSTMCell":
        state = (inputs["h0"], inputs["c0"]) if _with_state(config, inputs) else None
        h, c = m(inputs["x"], state)
        return {"h": h, "c": c}
    if kind == "ElmanRNN":
        hidden_states, h, predictions = m(inputs["xt"], inputs["h0"])
        return {"hidden_states": hidden_states, "h": h, "predictions": predictions}
    if kind in RECURRENT:
        x = inputs["x"]
        state = None
        if _with_state(config, inputs):
            state = (inputs["h0"], inputs["c0"]) if kind == "LSTM" else inputs["h0"]
        lengths = _lengths(config, inputs)
        if lengths is None:
            out, hn = m(x, state)
        else:
            bf = config["batchFirst"]
            packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths, dtype=torch.int64),
                                                             batch_first=bf, enforce_sorted=False)
            out, hn = m(packed, state)
            out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=bf, total_length=x.shape[1 if bf else 0])
        if kind == "LSTM":
            return {"output": out, "h_n": hn[0], "c_n": hn[1]}
        return {"output": out, "h_n": hn}
    if kind in ("pool", "AttentionPooling"):
        return {"y": m(inputs["x"], _lengths(config, inputs))}
    if kind == "SequenceEncoder":
        return {"y": m(inputs["ids"] if "ids" in inputs else inputs["x"], _lengths(config, inputs))}
    raise ValueError(f"unsupported kind {kind!r} (supported: {', '.join(KINDS)})")
