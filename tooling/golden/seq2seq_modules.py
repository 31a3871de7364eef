"""PyTorch reference of @rnnkit/heads' sequence-to-sequence pieces: Attention, Seq2Seq and decoding.

Same state-dict keys and the same arithmetic as rnnkit (see packages/heads/src/seq2seq), so fixtures
made here test rnnkit, and tasks.py can train the same model. Decoding (greedy and beam search) is
written out step by step with the same tie-breaking as rnnkit, on any model with
`step(tokens, state) -> (logits, state)` and `select(state, index)`.
"""
import math

import torch
from torch import nn

ATTENTION_MODES = ("dot", "general", "concat", "additive")


def key_mask(lengths, B, T):
    """bool [B, T]: True where t < lengths[b] (all True without lengths)."""
    if lengths is None:
        return torch.ones(B, T, dtype=torch.bool)
    return torch.arange(T)[None, :] < torch.as_tensor(lengths).reshape(-1, 1)


class Attention(nn.Module):
    """Scores of a query [B, Tq, Hq] (or [B, Hq]) against keys [B, Tk, Hk]; values are the keys.

    dot q.k; general q.linear(k); concat v(tanh(linear([q; k]))); additive v(tanh(query_proj(q) +
    key_proj(k))). Masked softmax: padded keys get -inf before the softmax, so weight 0."""

    def __init__(self, query_size, key_size, mode, attention_size=None):
        super().__init__()
        if mode not in ATTENTION_MODES:
            raise ValueError(f"mode must be one of {ATTENTION_MODES}, got {mode!r}")
        self.mode = mode
        A = attention_size or query_size
        if mode == "dot" and query_size != key_size:
            raise ValueError("dot attention needs query_size == key_size")
        if mode == "general":
            self.linear = nn.Linear(key_size, query_size, bias=False)
        if mode == "concat":
            self.linear = nn.Linear(query_size + key_size, A, bias=False)
        if mode == "additive":
            self.query_proj = nn.Linear(query_size, A, bias=False)
            self.key_proj = nn.Linear(key_size, A)
        if mode in ("concat", "additive"):
            self.v = nn.Linear(A, 1, bias=False)

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
        m = key_mask(lengths, B, Tk)
        s = s.masked_fill(~m[:, None, :], float("-inf"))
        w = torch.softmax(s, dim=-1)
        ctx = w @ keys
        return (ctx.squeeze(1), w.squeeze(1)) if single else (ctx, w)


class Seq2Seq(nn.Module):
    """rnnkit's Seq2Seq: src_embedding -> encoder -> bridge -> tgt_embedding -> decoder -> attention
    -> combine -> out (Luong et al. 2015; see packages/heads/src/seq2seq/seq2seq.ts for the doc).

    State: dict(keys [B,S,D*H], lengths, h [L,B,H], c, feed [B,H])."""

    def __init__(self, c):
        super().__init__()
        E, H, L = c["embeddingDim"], c["hiddenSize"], c.get("numLayers") or 1
        self.cell, self.H, self.L = c["cell"], H, L
        bidir = bool(c.get("bidirectionalEncoder"))
        self.bidir = bidir
        self.input_feeding = bool(c.get("inputFeeding"))
        self.p = c.get("dropout") or 0.0
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[self.cell]
        D = 2 if bidir else 1
        self.src_embedding = nn.Embedding(c["srcVocab"], E)
        self.encoder = rnn(E, H, num_layers=L, batch_first=True, bidirectional=bidir, dropout=self.p)
        if bidir:
            self.bridge_h = nn.Linear(2 * H, H)
            if self.cell == "lstm":
                self.bridge_c = nn.Linear(2 * H, H)
        self.tgt_embedding = nn.Embedding(c["tgtVocab"], E)
        self.decoder = rnn(E + (H if self.input_feeding else 0), H, num_layers=L, batch_first=True, dropout=self.p)
        self.mode = c["attention"]
        if self.mode != "none":
            self.attention = Attention(H, D * H, self.mode)
            self.combine = nn.Linear(D * H + H, H, bias=False)
        self.out = nn.Linear(H, c["tgtVocab"])
        self.drop = nn.Dropout(self.p)

    def _bridge(self, s, lin, squash):
        if not self.bidir:
            return s
        LD, B, H = s.shape
        joined = s.reshape(LD // 2, 2, B, H).permute(0, 2, 1, 3).reshape(LD // 2, B, 2 * H)
        y = lin(joined)
        return torch.tanh(y) if squash else y

    def encode(self, src, lengths):
        B, S = src.shape
        x = self.drop(self.src_embedding(src.long()))
        packed = nn.utils.rnn.pack_padded_sequence(x, torch.as_tensor(lengths, dtype=torch.int64).cpu(),
                                                   batch_first=True, enforce_sorted=False)
        out, hn = self.encoder(packed)
        keys, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=S)
        state = {"keys": keys, "lengths": [int(v) for v in lengths]}
        if self.cell == "lstm":
            state["h"] = self._bridge(hn[0], getattr(self, "bridge_h", None), True)
            state["c"] = self._bridge(hn[1], getattr(self, "bridge_c", None), False)
        else:
            state["h"] = self._bridge(hn, getattr(self, "bridge_h", None), True)
        if self.input_feeding:
            state["feed"] = torch.zeros(B, self.H)
        return state

    def decode(self, emb, state):
        """emb [B, T, E] -> logits [B, T, V], next state, attention weights [B, T, S] or None."""
        x = torch.cat([emb, state["feed"].unsqueeze(1)], 2) if self.input_feeding else emb
        if self.cell == "lstm":
            out, (h, c) = self.decoder(x, (state["h"], state["c"]))
        else:
            out, h = self.decoder(x, state["h"])
            c = None
        hidden, w = out, None
        if self.mode != "none":
            ctx, w = self.attention(out, state["keys"], state["lengths"])
            hidden = torch.tanh(self.combine(torch.cat([ctx, out], 2)))
        logits = self.out(self.drop(hidden))
        nxt = dict(state, h=h)
        if c is not None:
            nxt["c"] = c
        if self.input_feeding:
            nxt["feed"] = hidden[:, -1]
        return logits, nxt, w

    def forward(self, src, lengths, tgt_in):
        state = self.encode(src, lengths)
        emb = self.drop(self.tgt_embedding(tgt_in.long()))
        if not self.input_feeding:
            return self.decode(emb, state)[0]
        outs = []
        for t in range(emb.shape[1]):
            logits, state, _ = self.decode(emb[:, t:t + 1], state)
            outs.append(logits)
        return torch.cat(outs, 1)

    def step(self, tokens, state):
        logits, nxt, _ = self.decode(self.tgt_embedding(tokens.long()).unsqueeze(1), state)
        return logits[:, 0], nxt

    @staticmethod
    def select(state, index):
        """Rows `index` of every batch-indexed part of the state (beam search)."""
        out = {"keys": state["keys"][index], "lengths": [state["lengths"][i] for i in index.tolist()]}
        for k in ("h", "c"):
            if k in state:
                out[k] = state[k][:, index]
        if "feed" in state:
            out["feed"] = state["feed"][index]
        return out


# ---------------------------------------------------------------- decoding, as rnnkit's
def greedy_decode(model, state, max_length, bos, eos):
    """Per row: argmax (first of equal maxima) until eos or max_length tokens. Tokens exclude bos and
    eos; scores are summed float32 log-probabilities (eos's included)."""
    B = state["keys"].shape[0]
    tokens, scores, done = [[] for _ in range(B)], [0.0] * B, [False] * B
    last = torch.full((B,), bos, dtype=torch.int64)
    with torch.no_grad():
        for _ in range(max_length):
            logits, state = model.step(last, state)
            logp = torch.log_softmax(logits, dim=-1)
            nxt = []
            for b in range(B):
                if done[b]:
                    nxt.append(eos)
                    continue
                row = logp[b].tolist()
                v = row.index(max(row))
                scores[b] += row[v]
                if v == eos:
                    done[b] = True
                else:
                    tokens[b].append(v)
                nxt.append(v)
            if all(done):
                break
            last = torch.tensor(nxt, dtype=torch.int64)
    return tokens, scores


def beam_search(model, state, beam_size, max_length, bos, eos, length_penalty=1.0):
    """rnnkit's beamSearch: K slots per row, all B*K in one step call. Each step a row keeps the top
    n = K - (its finished hypotheses) candidates over its live slots (ties to the lower slot*V + id);
    those ending in eos are finished and leave the beam, which so shrinks (Sutskever et al. 2014); at
    max_length the live ones finish unfinished. Best finished by score / length**length_penalty
    (length counts eos; the first found wins ties)."""
    B = state["keys"].shape[0]
    K = beam_size
    state = model.select(state, torch.arange(B).repeat_interleave(K))
    slots = [[([], 0.0)] + [None] * (K - 1) for _ in range(B)]
    finished = [[] for _ in range(B)]
    last = [bos] * (B * K)
    with torch.no_grad():
        for t in range(max_length):
            logits, state = model.step(torch.tensor(last, dtype=torch.int64), state)
            logp = torch.log_softmax(logits, dim=-1).double()
            V = logp.shape[1]
            # every extension of every slot, flat index slot*V + id (dead slots -inf); a stable
            # descending sort puts the lower index first among equal scores
            base = torch.tensor([[s[1] if s is not None else float("-inf") for s in row] for row in slots],
                                dtype=torch.float64)
            cand = (base.unsqueeze(2) + logp.reshape(B, K, V)).reshape(B, K * V)
            top_sc, top_ix = torch.sort(cand, dim=1, descending=True, stable=True)
            top_sc, top_ix = top_sc[:, :K].tolist(), top_ix[:, :K].tolist()
            parents = []
            for b in range(B):
                live = [s for s in slots[b] if s is not None]
                cands = list(zip(top_sc[b], top_ix[b]))
                new = []
                n = K - len(finished[b]) if live else 0
                for sc, index in cands[:n]:
                    k, v = divmod(index, V)
                    toks = slots[b][k][0]
                    if v == eos:
                        finished[b].append((toks, sc, len(toks) + 1))
                    else:
                        new.append((toks + [v], sc, k))
                if t == max_length - 1:
                    finished[b].extend((toks, sc, len(toks)) for toks, sc, _ in new)
                    new = []
                slots[b] = [(toks, sc) for toks, sc, _ in new] + [None] * (K - len(new))
                parents.extend(b * K + k for _, _, k in new)
                parents.extend([b * K] * (K - len(new)))
                last[b * K:(b + 1) * K] = [toks[-1] for toks, _, _ in new] + [eos] * (K - len(new))
            if all(s is None for row in slots for s in row):
                break
            state = model.select(state, torch.tensor(parents))
    tokens, scores = [], []
    for b in range(B):
        best = None
        for toks, sc, n in finished[b]:
            pen = length_normalised(sc, n, length_penalty)
            if best is None or pen > best[1]:
                best = (toks, pen)
        tokens.append(best[0])
        scores.append(best[1])
    return tokens, scores


def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
        prev = cur
    return prev[len(b)]


def length_normalised(score, n, penalty):
    """score / n**penalty (n >= 1: generated tokens, eos counted)."""
    return score / math.pow(n, penalty)
