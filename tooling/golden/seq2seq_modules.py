"""PyTorch reference of @rnnkit/heads' sequence-to-sequence pieces: Attention, Seq2Seq and decoding.

Attention and Seq2Seq are the companion's (python/rnnkit_torch.py: same state-dict keys and the same
arithmetic as rnnkit, see packages/heads/src/seq2seq), so fixtures made here test rnnkit, and
tasks.py can train the same model. Decoding (greedy and beam search) is
written out step by step with the same tie-breaking as rnnkit, on any model with
`step(tokens, state) -> (logits, state)` and `select(state, index)`.
"""
import math

import torch

import companion  # noqa: F401  (python/ on the import path)
from rnnkit_torch import ATTENTION_MODES, Attention  # noqa: F401  (the fixtures' Attention)
from rnnkit_torch import Seq2Seq as CompanionSeq2Seq


class Seq2Seq(CompanionSeq2Seq):
    """The companion's Seq2Seq (python/rnnkit_torch.py, the module users get), built from an rnnkit
    config dict, plus `select` for beam search."""

    OPTIONS = ("srcVocab", "tgtVocab", "embeddingDim", "hiddenSize", "cell", "attention", "numLayers",
               "bidirectionalEncoder", "inputFeeding", "dropout")

    def __init__(self, c):
        super().__init__(**{k: c[k] for k in self.OPTIONS if c.get(k) is not None})

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
