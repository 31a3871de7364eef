"""rnnkit model files in PyTorch: one file, needs only torch.

    import rnnkit_torch
    model = rnnkit_torch.to_torch("spam.safetensors")      # a torch.nn.Module with rnnkit's weights
    rnnkit_torch.save_for_rnnkit(model, "spam.safetensors")  # back to a file rnnkit's loadModel reads

A model file (written by `saveModel` in @rnnkit/heads) is safetensors whose `__metadata__` holds
"rnnkit.config" = JSON {"format": 1, "class": ..., "options": {...}, "children": {...}}. The classes map
to torch.nn.Linear, Embedding, Dropout, RNNCell, LSTMCell, GRUCell, RNN, LSTM, GRU, and to the small
modules below for rnnkit's own (ConcatRNNCell, ElmanRNN, AttentionPooling, SequenceEncoder,
SequenceTagger), with the same state-dict keys and the same forward semantics. save_for_rnnkit takes a
module made of those classes. The safetensors reader/writer is included, so no other package is needed.
"""
import json
import struct

import torch

FORMAT = 1
CONFIG_KEY = "rnnkit.config"
POOLINGS = ("mean", "max", "sum", "first", "last", "attention", "flatten", "none")

# ---------------------------------------------------------------- safetensors (the format's whole spec)
_DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
           "I64": torch.int64, "I32": torch.int32}
_NAMES = {torch.float32: "F32", torch.int32: "I32"}


def read_safetensors(path):
    """(tensors by name, metadata) of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        t = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out, meta


def write_safetensors(tensors, path, metadata=None):
    """Writes float32 (and int32) tensors; other float dtypes are stored as float32."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype not in _NAMES:
            t = t.float() if t.is_floating_point() else t.int()
        raw = t.reshape(-1).numpy().tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    h += b" " * ((8 - (len(h) + 8) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# ---------------------------------------------------------------- rnnkit's own modules
def step_mask(lengths, B, T, device=None):
    """float [B, T]: 1 where t < lengths[b] (all ones without lengths)."""
    if lengths is None:
        return torch.ones(B, T, device=device)
    return (torch.arange(T, device=device)[None, :] < torch.as_tensor(lengths, device=device)[:, None]).float()


class ConcatRNNCell(torch.nn.Module):
    """h' = act(W [x; h] + b): the tutorial's Linear(I + H, H) then ReLU (or tanh). Keys weight, bias."""

    def __init__(self, input_size, hidden_size, activation="relu"):
        super().__init__()
        self.input_size, self.hidden_size, self.activation = input_size, hidden_size, activation
        lin = torch.nn.Linear(input_size + hidden_size, hidden_size)
        self.weight = torch.nn.Parameter(lin.weight.detach().clone())
        self.bias = torch.nn.Parameter(lin.bias.detach().clone())

    def forward(self, x, h=None):
        h = torch.zeros(x.shape[0], self.hidden_size, device=x.device) if h is None else h
        pre = torch.nn.functional.linear(torch.cat([x, h], 1), self.weight, self.bias)
        return torch.relu(pre) if self.activation == "relu" else torch.tanh(pre)


class ElmanRNN(torch.nn.Module):
    """The tutorial's MyRNN: forward(xt [B,T,E], h0 [B,H]) -> (hidden_states [B,T,H], h [B,H], predictions)."""

    def __init__(self, input_dim, hidden_size, output_dim, activation="relu"):
        super().__init__()
        self.linear1 = ConcatRNNCell(input_dim, hidden_size, activation)
        self.linear2 = torch.nn.Linear(hidden_size, output_dim)

    def forward(self, xt, h=None):
        h = torch.zeros(xt.shape[0], self.linear1.hidden_size, device=xt.device) if h is None else h
        states = []
        for t in range(xt.shape[1]):
            h = self.linear1(xt[:, t], h)
            states.append(h)
        hidden_states = torch.stack(states, 1)
        return hidden_states, h, self.linear2(hidden_states)


class AttentionPooling(torch.nn.Module):
    """x [B,T,F] -> [B,F]: softmax over T (masked by lengths) of x w^T + b. Keys weight [1,F], bias [1]."""

    def __init__(self, input_size):
        super().__init__()
        self.input_size = input_size
        lin = torch.nn.Linear(input_size, 1)
        self.weight = torch.nn.Parameter(lin.weight.detach().clone())
        self.bias = torch.nn.Parameter(lin.bias.detach().clone())

    def forward(self, x, lengths=None):
        B, T, _ = x.shape
        m = step_mask(lengths, B, T, x.device)
        x = x * m.unsqueeze(-1)
        scores = (x @ self.weight.t()).squeeze(-1) + self.bias
        a = torch.softmax(scores.masked_fill(m == 0, float("-inf")), dim=1)
        return (a.unsqueeze(-1) * x).sum(dim=1)


def pool(x, mode, lengths=None, attention=None):
    """rnnkit's pool(x [B,T,F], mode, { lengths })."""
    B, T, F = x.shape
    m = step_mask(lengths, B, T, x.device).unsqueeze(-1)
    if mode == "mean":
        n = (torch.full((B, 1), float(T), device=x.device) if lengths is None
             else torch.as_tensor(lengths, dtype=torch.float32, device=x.device)[:, None])
        return (x * m).sum(dim=1) / n
    if mode == "max":
        return x.masked_fill(m == 0, float("-inf")).max(dim=1).values
    if mode == "sum":
        return (x * m).sum(dim=1)
    if mode == "first":
        return x[:, 0]
    if mode == "last":
        last = [T - 1] * B if lengths is None else [int(v) - 1 for v in lengths]
        return x[torch.arange(B, device=x.device), torch.tensor(last, device=x.device)]
    if mode == "attention":
        return attention(x, lengths)
    if mode == "flatten":
        return (x * m).reshape(B, T * F)
    if mode == "none":
        return x * m
    raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {mode!r}")


class SequenceEncoder(torch.nn.Module):
    """[Embedding] -> RNN | LSTM | GRU (batch first, packed when lengths are given) -> pool -> [Linear proj].

    forward(ids int [B,T] or features [B,T,I], lengths=None). Options as rnnkit's (camelCase keys)."""

    def __init__(self, cell, hiddenSize, pooling, vocabSize=None, embeddingDim=None, paddingIdx=None,
                 inputSize=None, numLayers=1, bidirectional=False, dropout=0.0, outputSize=None):
        super().__init__()
        if vocabSize is not None:
            self.embedding = torch.nn.Embedding(vocabSize, embeddingDim, padding_idx=paddingIdx)
            inputSize = embeddingDim
        else:
            self.embedding = None
        layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
        self.cell, self.pooling, self.input_size = cell, pooling, inputSize
        self.rnn = layer(inputSize, hiddenSize, num_layers=numLayers, batch_first=True, dropout=dropout,
                         bidirectional=bidirectional)
        features = hiddenSize * (2 if bidirectional else 1)
        self.attention = AttentionPooling(features) if pooling == "attention" else None
        self.proj = torch.nn.Linear(features, outputSize) if outputSize is not None else None

    def encode(self, inp, lengths=None):
        x = self.embedding(inp.long()) if self.embedding is not None else inp
        if lengths is None:
            return self.rnn(x)[0]
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.as_tensor(lengths, dtype=torch.int64).cpu(),
                                                         batch_first=True, enforce_sorted=False)
        h, _ = torch.nn.utils.rnn.pad_packed_sequence(self.rnn(packed)[0], batch_first=True,
                                                      total_length=x.shape[1])
        return h

    def forward(self, inp, lengths=None):
        y = pool(self.encode(inp, lengths), self.pooling, lengths, self.attention)
        return self.proj(y) if self.proj is not None else y


class SequenceTagger(SequenceEncoder):
    """Per-step classifier: SequenceEncoder with pooling "none" and outputSize = numClasses. -> [B,T,C]"""

    def __init__(self, numClasses, **options):
        super().__init__(pooling="none", outputSize=numClasses, **options)
        self.num_classes = numClasses


# ---------------------------------------------------------------- class table: options <-> modules
def _recurrent_options(m):
    return {"inputSize": m.input_size, "hiddenSize": m.hidden_size, "numLayers": m.num_layers, "bias": m.bias,
            "batchFirst": m.batch_first, "dropout": m.dropout, "bidirectional": m.bidirectional}


def _recurrent_kwargs(o):
    return dict(num_layers=o.get("numLayers", 1), bias=o.get("bias", True), batch_first=o.get("batchFirst", False),
                dropout=o.get("dropout", 0.0), bidirectional=o.get("bidirectional", False))


def _encoder_options(m):
    e = m.embedding
    head = ({"vocabSize": e.num_embeddings, "embeddingDim": e.embedding_dim, "paddingIdx": e.padding_idx}
            if e is not None else {"inputSize": m.input_size})
    return {**head, "cell": m.cell, "hiddenSize": m.rnn.hidden_size, "numLayers": m.rnn.num_layers,
            "bidirectional": m.rnn.bidirectional, "dropout": m.rnn.dropout, "pooling": m.pooling,
            "outputSize": m.proj.out_features if m.proj is not None else None}


def _tagger_options(m):
    o = _encoder_options(m)
    del o["pooling"], o["outputSize"]
    return {**o, "numClasses": m.num_classes}


# name: (torch class, options(module) in rnnkit's key order, build(options))
CLASSES = {
    "Linear": (torch.nn.Linear,
               lambda m: {"inFeatures": m.in_features, "outFeatures": m.out_features, "bias": m.bias is not None},
               lambda o: torch.nn.Linear(o["inFeatures"], o["outFeatures"], bias=o.get("bias", True))),
    "Embedding": (torch.nn.Embedding,
                  lambda m: {"numEmbeddings": m.num_embeddings, "embeddingDim": m.embedding_dim,
                             "paddingIdx": m.padding_idx, "maxNorm": m.max_norm,
                             "normType": None if m.norm_type == 2 else m.norm_type,
                             "scaleGradByFreq": m.scale_grad_by_freq or None},
                  lambda o: torch.nn.Embedding(o["numEmbeddings"], o["embeddingDim"], padding_idx=o.get("paddingIdx"),
                                               max_norm=o.get("maxNorm"), norm_type=o.get("normType", 2.0),
                                               scale_grad_by_freq=o.get("scaleGradByFreq", False))),
    "Dropout": (torch.nn.Dropout, lambda m: {"p": m.p}, lambda o: torch.nn.Dropout(o.get("p", 0.5))),
    "RNNCell": (torch.nn.RNNCell,
                lambda m: {"inputSize": m.input_size, "hiddenSize": m.hidden_size, "bias": m.bias,
                           "nonlinearity": m.nonlinearity},
                lambda o: torch.nn.RNNCell(o["inputSize"], o["hiddenSize"], bias=o.get("bias", True),
                                           nonlinearity=o.get("nonlinearity", "tanh"))),
    "LSTMCell": (torch.nn.LSTMCell,
                 lambda m: {"inputSize": m.input_size, "hiddenSize": m.hidden_size, "bias": m.bias},
                 lambda o: torch.nn.LSTMCell(o["inputSize"], o["hiddenSize"], bias=o.get("bias", True))),
    "GRUCell": (torch.nn.GRUCell,
                lambda m: {"inputSize": m.input_size, "hiddenSize": m.hidden_size, "bias": m.bias},
                lambda o: torch.nn.GRUCell(o["inputSize"], o["hiddenSize"], bias=o.get("bias", True))),
    "ConcatRNNCell": (ConcatRNNCell,
                      lambda m: {"inputSize": m.input_size, "hiddenSize": m.hidden_size, "activation": m.activation},
                      lambda o: ConcatRNNCell(o["inputSize"], o["hiddenSize"], o.get("activation", "relu"))),
    "ElmanRNN": (ElmanRNN,
                 lambda m: {"inputDim": m.linear1.input_size, "hiddenSize": m.linear1.hidden_size,
                            "outputDim": m.linear2.out_features, "activation": m.linear1.activation},
                 lambda o: ElmanRNN(o["inputDim"], o["hiddenSize"], o["outputDim"], o.get("activation", "relu"))),
    "RNN": (torch.nn.RNN, lambda m: {**_recurrent_options(m), "nonlinearity": m.nonlinearity},
            lambda o: torch.nn.RNN(o["inputSize"], o["hiddenSize"], nonlinearity=o.get("nonlinearity", "tanh"),
                                   **_recurrent_kwargs(o))),
    "LSTM": (torch.nn.LSTM, lambda m: {**_recurrent_options(m), "projSize": m.proj_size},
             lambda o: torch.nn.LSTM(o["inputSize"], o["hiddenSize"], proj_size=o.get("projSize", 0),
                                     **_recurrent_kwargs(o))),
    "GRU": (torch.nn.GRU, _recurrent_options,
            lambda o: torch.nn.GRU(o["inputSize"], o["hiddenSize"], **_recurrent_kwargs(o))),
    "AttentionPooling": (AttentionPooling, lambda m: {"inputSize": m.input_size},
                         lambda o: AttentionPooling(o["inputSize"])),
    "SequenceEncoder": (SequenceEncoder, _encoder_options, lambda o: SequenceEncoder(**o)),
    "SequenceTagger": (SequenceTagger, _tagger_options, lambda o: SequenceTagger(**o)),
}


def _json_number(v):
    """JSON as JavaScript writes it: integral floats without ".0", None left out by the caller."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _class_name(module):
    for name, (cls, _, _) in CLASSES.items():
        if type(module) is cls:
            return name
    raise TypeError(f"save_for_rnnkit: {type(module).__name__} is not one of the classes rnnkit loads "
                    f"({', '.join(CLASSES)})")


def describe(module):
    """{"class", "options", "children"?} of a module, as rnnkit's saveModel writes it."""
    name = _class_name(module)
    options = {k: _json_number(v) for k, v in CLASSES[name][1](module).items() if v is not None}
    out = {"class": name, "options": options}
    if name in ("ElmanRNN", "SequenceEncoder", "SequenceTagger"):
        children = {k: describe(c) for k, c in module.named_children() if _is_known(c)}
        if children:
            out["children"] = children
    return out


def _is_known(module):
    return any(type(module) is cls for cls, _, _ in CLASSES.values())


def to_torch(path):
    """The torch module a model file describes, with its weights (load_state_dict strict)."""
    tensors, meta = read_safetensors(path)
    if CONFIG_KEY not in meta:
        raise ValueError(f"{path}: not an rnnkit model file (no {CONFIG_KEY} in the safetensors metadata); "
                         "it is a bare state dict: build the module yourself and call load_state_dict")
    config = json.loads(meta[CONFIG_KEY])
    if config.get("format") != FORMAT:
        raise ValueError(f"{path}: model format {config.get('format')!r}; this file reads format {FORMAT}")
    if config.get("class") not in CLASSES:
        raise ValueError(f"{path}: unknown class {config.get('class')!r}; known: {', '.join(CLASSES)}")
    module = CLASSES[config["class"]][2](config["options"])
    module.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}, strict=True)
    return module


def save_for_rnnkit(module, path, metadata=None):
    """Writes a model file that rnnkit's loadModel rebuilds: the module's state dict and its config.

    metadata: more string entries for the file's __metadata__ (a vocabulary, labels), as saveModel's."""
    if isinstance(module, torch.nn.parallel.DistributedDataParallel):
        module = module.module
    config = {"format": FORMAT, **describe(module)}
    meta = {k: v for k, v in (metadata or {}).items() if k != CONFIG_KEY}
    meta[CONFIG_KEY] = json.dumps(config, separators=(",", ":"), ensure_ascii=False)
    write_safetensors(module.state_dict(), path, meta)
