"""Fixtures of the loss options and the sequence-to-sequence pieces (groups `loss` and `seq2seq`).

Called by generate.py (`--only loss`, `--only seq2seq`); each fixture seeds with crc32("<group>/<name>").
"""
import torch

from fixture import seed_for, write
from seq2seq_modules import Attention, Seq2Seq, beam_search, greedy_decode

F = torch.nn.functional


# ---------------------------------------------------------------- loss: crossEntropy options
CE_CASES = [
    # name, logits shape, options (rnnkit's names), ignored flat positions
    ("ce_smooth_mean_2d", (7, 5), {"labelSmoothing": 0.1, "reduction": "mean"}, [1, 4]),
    ("ce_smooth_sum_3d", (2, 4, 6), {"labelSmoothing": 0.25, "reduction": "sum"}, [2, 5, 6]),
    ("ce_none_ignore2_3d", (3, 2, 4), {"ignoreIndex": 2, "reduction": "none"}, [0, 3]),
    ("ce_smooth_none_2d", (5, 3), {"labelSmoothing": 0.3, "reduction": "none"}, [2]),
    ("ce_smooth_mean_noignore", (4, 7), {"labelSmoothing": 0.5}, []),
    ("ce_sum_2d", (6, 4), {"reduction": "sum"}, [0]),
]


def gen_loss():
    for name, shape, opts, ignored in CE_CASES:
        torch.manual_seed(seed_for("loss", name))
        ignore = opts.get("ignoreIndex", -100)
        logits = torch.randn(*shape).requires_grad_(True)
        targets = torch.randint(0, shape[-1], shape[:-1], dtype=torch.int32)
        for i in ignored:
            targets.view(-1)[i] = ignore
        reduction = opts.get("reduction", "mean")
        loss = F.cross_entropy(logits.reshape(-1, shape[-1]), targets.reshape(-1).long(), ignore_index=ignore,
                               label_smoothing=opts.get("labelSmoothing", 0.0), reduction=reduction)
        if reduction == "none":
            loss = loss.reshape(targets.shape)
        weights = None if reduction == "none" else {"loss": torch.tensor(1.0)}
        write("loss", name, {"kind": "crossEntropy", "options": opts}, None,
              {"logits": logits, "targets": targets}, {"loss": loss}, weights)


# ---------------------------------------------------------------- seq2seq: Attention
ATT_B, ATT_TQ, ATT_TK, ATT_HQ, ATT_HK, ATT_A, ATT_LENGTHS = 3, 4, 5, 4, 6, 3, [5, 2, 4]


def attention_fixture(mode, ragged, single):
    name = f"attention_{mode}_{'ragged' if ragged else 'full'}_{'step' if single else 'steps'}"
    torch.manual_seed(seed_for("seq2seq", name))
    hk = ATT_HQ if mode == "dot" else ATT_HK
    a = ATT_A if mode in ("concat", "additive") else None
    config = {"kind": "Attention", "querySize": ATT_HQ, "keySize": hk, "mode": mode, "attentionSize": a,
              "lengths": list(ATT_LENGTHS) if ragged else None}
    m = Attention(ATT_HQ, hk, mode, a)
    q_shape = (ATT_B, ATT_HQ) if single else (ATT_B, ATT_TQ, ATT_HQ)
    inputs = {"query": torch.randn(*q_shape).requires_grad_(True),
              "keys": torch.randn(ATT_B, ATT_TK, hk).requires_grad_(True)}
    if ragged:
        inputs["lengths"] = torch.tensor(ATT_LENGTHS, dtype=torch.int32)
    ctx, w = m(inputs["query"], inputs["keys"], config["lengths"])
    write("seq2seq", name, config, m, inputs, {"context": ctx, "weights": w})


# ---------------------------------------------------------------- seq2seq: the model
S2S_B, S2S_S, S2S_T, S2S_LENGTHS = 3, 6, 5, [6, 3, 5]
S2S_CASES = [
    ("seq2seq_lstm_bi_l2_general", dict(cell="lstm", numLayers=2, bidirectionalEncoder=True, attention="general")),
    ("seq2seq_gru_uni_additive_feed", dict(cell="gru", numLayers=1, bidirectionalEncoder=False,
                                           attention="additive", inputFeeding=True)),
    ("seq2seq_rnn_uni_dot", dict(cell="rnn", numLayers=1, bidirectionalEncoder=False, attention="dot")),
    ("seq2seq_lstm_bi_concat_feed", dict(cell="lstm", numLayers=1, bidirectionalEncoder=True,
                                         attention="concat", inputFeeding=True)),
    ("seq2seq_gru_bi_l2_none", dict(cell="gru", numLayers=2, bidirectionalEncoder=True, attention="none")),
]


def s2s_config(**opts):
    c = {"kind": "Seq2Seq", "srcVocab": 9, "tgtVocab": 11, "embeddingDim": 5, "hiddenSize": 4,
         "numLayers": 1, "bidirectionalEncoder": False, "inputFeeding": False, "dropout": 0}
    c.update(opts)
    return c


def seq2seq_fixture(name, opts):
    torch.manual_seed(seed_for("seq2seq", name))
    config = dict(s2s_config(**opts), lengths=list(S2S_LENGTHS))
    m = Seq2Seq(config)
    src = torch.randint(0, 9, (S2S_B, S2S_S), dtype=torch.int32)
    for b, n in enumerate(S2S_LENGTHS):
        src[b, n:] = 0
    tgt_in = torch.randint(0, 11, (S2S_B, S2S_T), dtype=torch.int32)
    inputs = {"src": src, "lengths": torch.tensor(S2S_LENGTHS, dtype=torch.int32), "tgt_in": tgt_in}
    write("seq2seq", name, config, m, inputs, {"logits": m(src, S2S_LENGTHS, tgt_in)})


# ---------------------------------------------------------------- seq2seq: decoding a trained model
def decode_fixture():
    """A small model trained briefly to reverse digit strings (bos 1, eos 2, digits 3..9), then
    greedy and beam decodes of held-out sources by seq2seq_modules' reference decoders."""
    name = "decode_reverse_lstm"
    torch.manual_seed(seed_for("seq2seq", name))
    config = s2s_config(srcVocab=10, tgtVocab=10, embeddingDim=8, hiddenSize=16, cell="lstm",
                        bidirectionalEncoder=True, attention="general")
    m = Seq2Seq(config)
    opt = torch.optim.Adam(m.parameters(), lr=0.01)

    def batch(n):
        lengths = torch.randint(2, 7, (n,))
        src = torch.zeros(n, 6, dtype=torch.int64)
        tgt = torch.zeros(n, 8, dtype=torch.int64)
        for b, L in enumerate(lengths.tolist()):
            digits = torch.randint(3, 10, (L,))
            src[b, :L] = digits
            tgt[b, 0] = 1
            tgt[b, 1:L + 1] = digits.flip(0)
            tgt[b, L + 1] = 2
        return src, lengths.tolist(), tgt

    for _ in range(40):  # short on purpose: the model is right often, not always
        src, lengths, tgt = batch(32)
        logits = m(src, lengths, tgt[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, 10), tgt[:, 1:].reshape(-1), ignore_index=0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    src, lengths, _ = batch(12)
    src = src[:, :max(lengths)]
    extra = {f"param.{k}": v.detach() for k, v in m.named_parameters()}
    extra["input.src"] = src.to(torch.int32)
    extra["input.lengths"] = torch.tensor(lengths, dtype=torch.int32)

    def padded(rows):
        out = torch.full((len(rows), 12), -1, dtype=torch.int32)
        for b, r in enumerate(rows):
            out[b, :len(r)] = torch.tensor(r, dtype=torch.int32)
        return out

    runs = {"greedy": lambda s: greedy_decode(m, s, 10, 1, 2),
            "beam3": lambda s: beam_search(m, s, 3, 10, 1, 2, 1.0),
            "beam4_lp0": lambda s: beam_search(m, s, 4, 10, 1, 2, 0.0),
            "beam2_short": lambda s: beam_search(m, s, 2, 3, 1, 2, 1.0)}
    with torch.no_grad():
        for key, run in runs.items():
            tokens, scores = run(m.encode(src, lengths))
            extra[f"output.{key}.tokens"] = padded(tokens)
            extra[f"output.{key}.scores"] = torch.tensor(scores, dtype=torch.float32)
    config["decodes"] = {"greedy": {"maxLength": 10}, "beam3": {"beamSize": 3, "maxLength": 10, "lengthPenalty": 1},
                         "beam4_lp0": {"beamSize": 4, "maxLength": 10, "lengthPenalty": 0},
                         "beam2_short": {"beamSize": 2, "maxLength": 3, "lengthPenalty": 1}}
    config.update(bos=1, eos=2)
    write("seq2seq", name, config, None, {}, {}, extra=extra)


def gen_seq2seq():
    for mode in ("dot", "general", "concat", "additive"):
        attention_fixture(mode, True, False)
        attention_fixture(mode, False, True)
    attention_fixture("additive", True, True)
    for name, opts in S2S_CASES:
        seq2seq_fixture(name, opts)
    decode_fixture()
