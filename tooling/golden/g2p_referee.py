"""PyTorch referee of `pnpm examples g2p` (called by tasks.py for referee files whose task is g2p).

From the referee file: checks the split rule (fnv1a("rnnkit-examples/g2p/" + WORD) % 10: 0 test,
1 validation, else train) and, when CMUdict's dict.json is found, that the words and reference
pronunciations come out of the same preprocessing (apps/examples/src/g2p/data.ts: words of A-Z ' . -
only, WORD(n) alternates joined to WORD, duplicates dropped, stress kept); then trains
seq2seq_modules.Seq2Seq from rnnkit's initial weights over the same batches with Adam and
clip_grad_norm_, decodes the test words greedily and with beam search (the same decoders as rnnkit,
seq2seq_modules) and reports WER/PER. With --model: decodes with the model rnnkit trained.
"""
import json
import os
import re
import sys
import time

import torch
import torch.nn.functional as F

from companion import rnnkit_torch
from seq2seq_modules import Seq2Seq, beam_search, edit_distance, greedy_decode
from split import split_of

WORD_CHARS = re.compile(r"^[A-Z'.-]+$")
DICT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "apps", "examples", "node_modules",
                    "@stdlib", "datasets-cmudict", "data", "dict.json")


def g2p_split(word):
    return split_of("g2p/" + word)


def g2p_words(d):
    """dict.json -> [(word, [pron, ...])] in dictionary order, as apps/examples/src/g2p/data.ts."""
    words = {}
    for key, pron in d.items():
        word = re.sub(r"\(\d+\)$", "", key)
        if not WORD_CHARS.match(word):
            continue
        phones = pron.split()
        prons = words.setdefault(word, [])
        if phones not in prons:
            prons.append(phones)
    return list(words.items())


def error_rates(hyps, refs):
    wrong, dist, length = 0, 0, 0
    for h, rs in zip(hyps, refs):
        best, best_len = None, 0
        for r in rs:
            d = edit_distance(h, r)
            if best is None or d < best:
                best, best_len = d, len(r)
        wrong += best > 0
        dist += best
        length += best_len
    return {"wer": round(wrong / len(hyps), 4), "per": round(dist / length, 4)}


def decode(model, words, graphemes, phonemes, beam, max_len, batch=256):
    g = {c: i for i, c in enumerate(graphemes)}
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(words), batch):
            chunk = [[g.get(c, 1) for c in w] for w in words[s:s + batch]]
            S = max(len(w) for w in chunk)
            src = torch.zeros(len(chunk), S, dtype=torch.int64)
            for i, w in enumerate(chunk):
                src[i, :len(w)] = torch.tensor(w)
            state = model.encode(src, [len(w) for w in chunk])
            toks, _ = (greedy_decode(model, state, max_len, 1, 2) if beam == 1
                       else beam_search(model, state, beam, max_len, 1, 2, 1.0))
            out.extend([phonemes[i] for i in t] for t in toks)
    return out


def referee_g2p(tensors, meta, model_file=None, train=True):
    recipe = json.loads(meta["recipe"])
    config = json.loads(meta["config"])
    keys = json.loads(meta["keys"])
    graphemes, phonemes = json.loads(meta["graphemes"]), json.loads(meta["phonemes"])
    test_refs = [[r.split() for r in rs] for rs in json.loads(meta["test"])]
    max_len = int(meta["maxPhonemes"])
    wrong = [(k, s) for s in keys for k in keys[s] if g2p_split(k) != s]
    if wrong:
        print(f"tasks.py: split mismatch for {len(wrong)} words, e.g. {wrong[:3]}", file=sys.stderr)
        return 1, None
    report = {"task": "g2p", "framework": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
              "cell": recipe["cell"], "epochs": recipe["epochs"], "batchSize": recipe["batchSize"], "lr": recipe["lr"],
              "seed": recipe["seed"], "splitChecked": sum(len(v) for v in keys.values())}
    if os.path.exists(DICT) and not meta.get("limit"):
        with open(DICT) as f:
            words = g2p_words(json.load(f))
        test = [(w, p) for w, p in words if g2p_split(w) == "test"]
        same = [w for w, _ in test] == keys["test"] and [p for _, p in test] == test_refs
        report["preprocessingChecked"] = same
        if not same:
            print("tasks.py: CMUdict preprocessing differs from the referee file's test words", file=sys.stderr)
            return 1, None
    test_words = keys["test"]
    if train:
        model = Seq2Seq(config)
        init = {k[len("init."):]: v for k, v in tensors.items() if k.startswith("init.")}
        model.load_state_dict(init, strict=True)
        opt = torch.optim.Adam(model.parameters(), lr=recipe["lr"], eps=1e-8)
        src_all, tgt_all = tensors["train.src"].long(), tensors["train.tgt"].long()
        src_len, tgt_len = (src_all > 0).sum(1), (tgt_all > 0).sum(1)
        orders = tensors["orders"].long()
        B = recipe["batchSize"]
        losses = []
        t0 = time.perf_counter()
        for e in range(recipe["epochs"]):
            # epochLr in apps/examples/src/g2p/train.ts: lr, then times decay each epoch after decayAfter
            for group in opt.param_groups:
                group["lr"] = recipe["lr"] * recipe["decay"] ** max(0, e + 1 - recipe["decayAfter"])
            model.train()
            total, weight = 0.0, 0
            for s in range(0, orders.shape[1], B):
                idx = orders[e, s:s + B]
                S, T = int(src_len[idx].max()), int(tgt_len[idx].max())
                src = src_all[idx, :S]
                tgt = tgt_all[idx, :T]
                n = tgt_len[idx]
                tin = torch.cat([torch.ones(len(idx), 1, dtype=torch.int64), tgt], 1)
                tout = torch.cat([tgt, torch.zeros(len(idx), 1, dtype=torch.int64)], 1)
                tout[torch.arange(len(idx)), n] = 2
                tout[torch.arange(T + 1)[None, :] > n[:, None]] = -100
                logits = model(src, src_len[idx].tolist(), tin)
                loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tout.reshape(-1), ignore_index=-100)
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), recipe["clipNorm"])
                opt.step()
                w = int((n + 1).sum())
                total += float(loss) * w
                weight += w
            losses.append(round(total / weight, 4))
            print(f"epoch {e + 1}/{recipe['epochs']}: train loss {total / weight:.4f}", file=sys.stderr)
        report["trainSeconds"] = round(time.perf_counter() - t0, 1)
        report["epochLosses"] = losses
        for name, beam in (("greedy", 1), ("beamSearch", recipe["beam"])):
            t0 = time.perf_counter()
            hyps = decode(model, test_words, graphemes, phonemes, beam, max_len)
            report[name] = error_rates(hyps, test_refs)
            report[name]["seconds"] = round(time.perf_counter() - t0, 1)
    if model_file:
        sd, mmeta = rnnkit_torch.read_safetensors(model_file)
        loaded = Seq2Seq(json.loads(mmeta["config"]))
        loaded.load_state_dict(sd, strict=True)
        preds = json.loads(meta.get("predictions", "{}"))
        r = {"file": model_file}
        for name, beam, key in (("greedy", 1, "greedy"), ("beamSearch", recipe["beam"], "beam")):
            hyps = decode(loaded, test_words, graphemes, phonemes, beam, max_len)
            r[name] = error_rates(hyps, test_refs)
            if key in preds:
                r[name]["agreementWithRnnkit"] = round(
                    sum(" ".join(h) == p for h, p in zip(hyps, preds[key])) / len(hyps), 4)
        report["rnnkitModel"] = r
    ours = json.loads(meta.get("rnnkit", "{}"))
    report["rnnkit"] = {k: ours.get(k) for k in ("backend", "trainSeconds", "epochLosses", "greedy", "beamSearch")
                        if ours.get(k) is not None}
    return 0, report
