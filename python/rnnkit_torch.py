"""rnnkit model files in PyTorch: one file, needs only torch.

    import rnnkit_torch
    model = rnnkit_torch.to_torch("spam.safetensors")      # a torch.nn.Module with rnnkit's weights
    rnnkit_torch.save_for_rnnkit(model, "spam.safetensors")  # back to a file rnnkit's loadModel reads

A model file (written by `saveModel` in @rnnkit/heads) is safetensors whose `__metadata__` holds
"rnnkit.config" = JSON {"format": 1, "class": ..., "options": {...}, "children": {...}}. The classes map
to torch.nn.Linear, Embedding, Dropout, RNNCell, LSTMCell, GRUCell, RNN, LSTM, GRU, and to the small
modules below for rnnkit's own (ConcatRNNCell, ElmanRNN, AttentionPooling, SequenceEncoder,
SequenceTagger, Attention, Seq2Seq), with the same state-dict keys and the same forward semantics.
save_for_rnnkit takes a module made of those classes. The safetensors reader/writer is included, so no
other package is needed.

A Seq2Seq runs as rnnkit's: model(src, lengths, tgt_in) -> logits (teacher forcing), or
state = model.encode(src, lengths), then logits, state = model.step(tokens, state) per target token.
"""
import json
import struct

import torch

FORMAT = 1
CONFIG_KEY = "rnnkit.config"
POOLINGS = ("mean", "max", "sum", "first", "last", "attention", "flatten", "none")
ATTENTION_MODES = ("dot", "general", "concat", "additive")

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


class Attention(torch.nn.Module):
    """rnnkit's Attention: a query [B,Tq,Hq] (or [B,Hq], one step) over keys [B,Tk,Hk], which are also
    the values -> (context [B,Tq,Hk], weights [B,Tq,Tk]). Scores: dot q.k; general q.linear(k); concat
    v(tanh(linear([q; k]))); additive v(tanh(query_proj(q) + key_proj(k))). Keys past lengths[b] get
    weight 0. attention_size (concat, additive) defaults to query_size."""

    def __init__(self, querySize, keySize, mode, attentionSize=None):
        super().__init__()
        if mode not in ATTENTION_MODES:
            raise ValueError(f"Attention mode must be one of {', '.join(ATTENTION_MODES)}, got {mode!r}")
        if mode == "dot" and querySize != keySize:
            raise ValueError(f"dot attention needs querySize == keySize, got {querySize} and {keySize}")
        self.query_size, self.key_size, self.mode = querySize, keySize, mode
        A = self.attention_size = (attentionSize or querySize) if mode in ("concat", "additive") else None
        if mode == "general":
            self.linear = torch.nn.Linear(keySize, querySize, bias=False)
        if mode == "concat":
            self.linear = torch.nn.Linear(querySize + keySize, A, bias=False)
        if mode == "additive":
            self.query_proj = torch.nn.Linear(querySize, A, bias=False)
            self.key_proj = torch.nn.Linear(keySize, A)
        if A is not None:
            self.v = torch.nn.Linear(A, 1, bias=False)

    def forward(self, query, keys, lengths=None):
        single = query.dim() == 2
        q = query.unsqueeze(1) if single else query
        B, Tq, Hq = q.shape
        Tk = keys.shape[1]
        if self.mode == "dot":
            s = q @ keys.transpose(1, 2)
        elif self.mode == "general":
            s = q @ self.linear(keys).transpose(1, 2)
        elif self.mode == "concat":
            qe = q.unsqueeze(2).expand(B, Tq, Tk, Hq)
            ke = keys.unsqueeze(1).expand(B, Tq, Tk, keys.shape[2])
            s = self.v(torch.tanh(self.linear(torch.cat([qe, ke], -1)))).squeeze(-1)
        else:
            s = self.v(torch.tanh(self.query_proj(q).unsqueeze(2) + self.key_proj(keys).unsqueeze(1))).squeeze(-1)
        m = step_mask(lengths, B, Tk, keys.device)
        w = torch.softmax(s.masked_fill(m[:, None, :] == 0, float("-inf")), dim=-1)
        ctx = w @ keys
        return (ctx.squeeze(1), w.squeeze(1)) if single else (ctx, w)


class Seq2Seq(torch.nn.Module):
    """rnnkit's Seq2Seq (Luong et al. 2015): src_embedding -> encoder (packed, batch first) -> bridge ->
    tgt_embedding -> decoder -> attention -> combine -> out. A bidirectional encoder's final states are
    joined per layer: h = tanh(bridge_h([h_fwd; h_bwd])), c = bridge_c([c_fwd; c_bwd]); with attention
    a_t = tanh(combine([context_t; h_t])), logits = out(a_t); with input feeding the decoder reads
    [embedding; a_{t-1}]. Dropout (training mode) on embeddings, between layers and before out.

    State: dict(keys [B,S,D*H], lengths, h [L,B,H], c (lstm), feed [B,H] (input feeding))."""

    def __init__(self, srcVocab, tgtVocab, embeddingDim, hiddenSize, cell, attention, numLayers=1,
                 bidirectionalEncoder=False, inputFeeding=False, dropout=0.0):
        super().__init__()
        E, H, L = embeddingDim, hiddenSize, numLayers
        if inputFeeding and attention == "none":
            raise ValueError("Seq2Seq: input feeding needs attention, got attention 'none'")
        self.cell, self.hidden_size, self.num_layers, self.mode = cell, H, L, attention
        self.bidir, self.input_feeding, self.p = bool(bidirectionalEncoder), bool(inputFeeding), float(dropout)
        rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
        D = 2 if self.bidir else 1
        self.src_embedding = torch.nn.Embedding(srcVocab, E)
        self.encoder = rnn(E, H, num_layers=L, batch_first=True, bidirectional=self.bidir, dropout=self.p)
        if self.bidir:
            self.bridge_h = torch.nn.Linear(2 * H, H)
            if cell == "lstm":
                self.bridge_c = torch.nn.Linear(2 * H, H)
        self.tgt_embedding = torch.nn.Embedding(tgtVocab, E)
        self.decoder = rnn(E + (H if self.input_feeding else 0), H, num_layers=L, batch_first=True, dropout=self.p)
        if attention != "none":
            self.attention = Attention(H, D * H, attention)
            self.combine = torch.nn.Linear(D * H + H, H, bias=False)
        self.out = torch.nn.Linear(H, tgtVocab)

    def _drop(self, x):
        return torch.nn.functional.dropout(x, self.p, self.training)

    def _bridge(self, s, lin, squash):
        if not self.bidir:
            return s
        LD, B, H = s.shape
        y = lin(s.reshape(LD // 2, 2, B, H).permute(0, 2, 1, 3).reshape(LD // 2, B, 2 * H))
        return torch.tanh(y) if squash else y

    def encode(self, src, lengths):
        """src int [B,S] (lengths[b] valid ids per row) -> the decoder's initial state."""
        B, S = src.shape
        x = self._drop(self.src_embedding(src.long()))
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.as_tensor(lengths, dtype=torch.int64).cpu(),
                                                         batch_first=True, enforce_sorted=False)
        out, hn = self.encoder(packed)
        keys, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=S)
        state = {"keys": keys, "lengths": [int(v) for v in lengths]}
        h, c = hn if self.cell == "lstm" else (hn, None)
        state["h"] = self._bridge(h, getattr(self, "bridge_h", None), True)
        if c is not None:
            state["c"] = self._bridge(c, getattr(self, "bridge_c", None), False)
        if self.input_feeding:
            state["feed"] = torch.zeros(B, self.hidden_size, device=keys.device)
        return state

    def decode(self, emb, state):
        """Embedded targets [B,T,E] -> (logits [B,T,V], next state, attention weights [B,T,S] or None)."""
        x = torch.cat([emb, state["feed"].unsqueeze(1)], 2) if self.input_feeding else emb
        if self.cell == "lstm":
            out, (h, c) = self.decoder(x, (state["h"], state["c"]))
        else:
            (out, h), c = self.decoder(x, state["h"]), None
        hidden, w = out, None
        if self.mode != "none":
            ctx, w = self.attention(out, state["keys"], state["lengths"])
            hidden = torch.tanh(self.combine(torch.cat([ctx, out], 2)))
        nxt = dict(state, h=h, **({"c": c} if c is not None else {}))
        if self.input_feeding:
            nxt["feed"] = hidden[:, -1]
        return self.out(self._drop(hidden)), nxt, w

    def forward(self, src, lengths, tgt_in):
        """Teacher forcing: src int [B,S], lengths, tgt_in int [B,T] -> logits [B,T,V]."""
        state = self.encode(src, lengths)
        emb = self._drop(self.tgt_embedding(tgt_in.long()))
        if not self.input_feeding:
            return self.decode(emb, state)[0]
        outs = []
        for t in range(emb.shape[1]):
            logits, state, _ = self.decode(emb[:, t:t + 1], state)
            outs.append(logits)
        return torch.cat(outs, 1)

    def step(self, tokens, state):
        """One decoding step: tokens int [B] -> (logits [B,V], next state)."""
        logits, nxt, _ = self.decode(self.tgt_embedding(tokens.long()).unsqueeze(1), state)
        return logits[:, 0], nxt


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


def _seq2seq_options(m):
    return {"srcVocab": m.src_embedding.num_embeddings, "tgtVocab": m.out.out_features,
            "embeddingDim": m.src_embedding.embedding_dim, "hiddenSize": m.hidden_size, "cell": m.cell,
            "numLayers": m.num_layers, "bidirectionalEncoder": m.bidir, "attention": m.mode,
            "inputFeeding": m.input_feeding, "dropout": m.p}


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
    "Attention": (Attention, lambda m: {"querySize": m.query_size, "keySize": m.key_size, "mode": m.mode,
                                        "attentionSize": m.attention_size},
                  lambda o: Attention(**o)),
    "Seq2Seq": (Seq2Seq, _seq2seq_options, lambda o: Seq2Seq(**o)),
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
    if name in ("ElmanRNN", "SequenceEncoder", "SequenceTagger", "Attention", "Seq2Seq"):
        # keyed as rnnkit's properties: src_embedding -> srcEmbedding
        children = {_camel(k): describe(c) for k, c in module.named_children() if _is_known(c)}
        if children:
            out["children"] = children
    return out


def _camel(name):
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


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
