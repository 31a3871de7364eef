#!/usr/bin/python3
"""PyTorch referee for apps/examples: trains the same model with the same recipe and compares.

Run with Debian's python3-torch (no other packages):

    pnpm examples spam --save spam.safetensors --referee spam-ref.safetensors
    /usr/bin/python3 tooling/golden/tasks.py spam-ref.safetensors --model spam.safetensors

(For `pnpm examples g2p` the work is done by g2p_referee.py, with the same inputs and flags.)

The referee file written by the Node CLI holds everything a run depends on: the token ids of the
train/validation/test splits (already tokenised with the vocabulary of the training split), the
labels, the split keys, the batch order of every epoch, rnnkit's initial weights (`init.*`), the
recipe (cell, sizes, Adam learning rate, batch size, epochs, gradient clip) and rnnkit's own test
predictions. This script
  1. checks the split: every key lands where fnv1a("rnnkit-examples/" + key) % 10 puts it
     (0 test, 1 validation, 2-9 train), the rule in apps/examples/src/split.ts;
  2. builds the same architecture in torch.nn with the same parameter names, loads rnnkit's initial
     weights, and trains with torch.optim.Adam (eps 1e-8) and clip_grad_norm_ over the same batches;
  3. reports the same metrics as the CLI (accuracy, spam/male precision/recall/F1, confusion matrix,
     majority baseline; or bits per character and the unigram baseline);
  4. with --model: loads the model rnnkit trained (a --save file) and compares its test predictions
     with the ones rnnkit made.
The last line of output is one JSON object.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from companion import rnnkit_torch
from split import split_of
from train_ddp import class_batch, lm_batch  # the batches of python/train_ddp.py: one rule

# --- models (same parameter names as rnnkit) ----------------------------------------------------

RNNS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class Classifier(nn.Module):
    """Embedding(padding_idx 0) -> bidirectional cell (packed) -> masked mean -> Linear."""

    def __init__(self, c):
        super().__init__()
        self.embedding = nn.Embedding(c["vocabSize"], c["embeddingDim"], padding_idx=0)
        self.rnn = RNNS[c["cell"]](c["embeddingDim"], c["hiddenSize"], batch_first=True, bidirectional=True)
        self.proj = nn.Linear(2 * c["hiddenSize"], c["numClasses"])

    def forward(self, ids, lengths):
        x = self.embedding(ids)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        pooled = out.sum(1) / lengths.unsqueeze(1).to(out.dtype)
        return self.proj(pooled)


class CharLM(nn.Module):
    """Embedding(padding_idx 0) -> one-layer cell -> Linear at every step."""

    def __init__(self, c):
        super().__init__()
        self.embedding = nn.Embedding(c["vocabSize"], c["embeddingDim"], padding_idx=0)
        self.rnn = RNNS[c["cell"]](c["embeddingDim"], c["hiddenSize"], batch_first=True)
        self.proj = nn.Linear(c["hiddenSize"], c["vocabSize"])

    def forward(self, ids):
        out, _ = self.rnn(self.embedding(ids))
        return self.proj(out)


def make_model(config):
    return Classifier(config) if config["kind"] == "classifier" else CharLM(config)


# --- batches ------------------------------------------------------------------------------------

def class_probs(model, ids, lengths, batch=256):
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, ids.shape[0], batch):
            idx = torch.arange(s, min(s + batch, ids.shape[0]))
            x, lens = class_batch(ids, lengths, idx)
            out.append(F.softmax(model(x, lens), dim=1))
    return torch.cat(out)


def lm_logprobs(model, ids, lengths, batch=256):
    """Natural-log probability of every real next token, [N, maxLen-1] (0 past each end)."""
    model.eval()
    N, T = ids.shape[0], int(lengths.max()) - 1
    out = torch.zeros(N, T)
    with torch.no_grad():
        for s in range(0, N, batch):
            idx = torch.arange(s, min(s + batch, N))
            x, y = lm_batch(ids, lengths, idx)
            logp = F.log_softmax(model(x), dim=2)
            picked = logp.gather(2, y.clamp(min=0).unsqueeze(2)).squeeze(2)
            picked[y < 0] = 0
            out[idx, : picked.shape[1]] = picked
    return out


def bits_per_char(logp, lengths):
    return float(-logp.sum() / (lengths - 1).sum() / math.log(2))


def metrics(labels, preds):
    conf = [[0, 0], [0, 0]]
    for y, p in zip(labels.tolist(), preds.tolist()):
        conf[y][p] += 1
    tp, fp, fn = conf[1][1], conf[0][1], conf[1][0]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"accuracy": (conf[0][0] + tp) / len(labels), "precision": precision, "recall": recall, "f1": f1,
            "confusion": conf}


def unigram_bits(train_ids, train_len, test_ids, test_len, symbols):
    counts = {s: 1 for s in symbols}
    total = len(symbols)
    for row, n in zip(train_ids.tolist(), train_len.tolist()):
        for t in row[1:n]:
            counts[t] = counts.get(t, 1) + 1
            total += 1
    s, n_all = 0.0, 0
    for row, n in zip(test_ids.tolist(), test_len.tolist()):
        for t in row[1:n]:
            s += math.log2(counts.get(t, 1) / total)
            n_all += 1
    return -s / n_all


def r4(x):
    return round(float(x), 4)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("referee", help="the --referee file written by `pnpm examples <task>`")
    ap.add_argument("--model", help="a model rnnkit trained (--save): compare its test predictions")
    ap.add_argument("--no-train", action="store_true", help="only check the split and the --model")
    args = ap.parse_args(argv)
    for f in [args.referee, args.model]:
        if f is not None and not os.path.exists(f):
            print(f"tasks.py: file not found: {f}", file=sys.stderr)
            return 2
    torch.manual_seed(0)
    tensors, meta = rnnkit_torch.read_safetensors(args.referee)
    if meta.get("format") != "rnnkit-examples-referee/1":
        print(f"tasks.py: {args.referee} is not a referee file (format {meta.get('format')!r})", file=sys.stderr)
        return 2
    task = meta["task"]
    if task == "g2p":  # the sequence-to-sequence task has its own referee
        from g2p_referee import referee_g2p
        code, report = referee_g2p(tensors, meta, args.model, train=not args.no_train)
        if report is not None:
            print(json.dumps(report))
        return code
    recipe = json.loads(meta["recipe"])
    config = json.loads(meta["config"])
    keys = json.loads(meta["keys"])
    ours = json.loads(meta["rnnkit"])
    vocab = json.loads(meta["vocab"])
    labels = json.loads(meta["labels"])
    d = {s: (tensors[f"{s}.ids"], tensors[f"{s}.lengths"]) for s in ("train", "val", "test")}

    wrong = [(k, s) for s in keys for k in keys[s] if split_of(k) != s]
    if wrong:
        print(f"tasks.py: split mismatch for {len(wrong)} keys, e.g. {wrong[:3]}", file=sys.stderr)
        return 1
    report = {"task": task, "framework": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
              "cell": recipe["cell"], "epochs": recipe["epochs"], "batchSize": recipe["batchSize"], "lr": recipe["lr"],
              "seed": recipe["seed"], "splitChecked": sum(len(v) for v in keys.values()),
              "trainItems": len(keys["train"]), "valItems": len(keys["val"]), "testItems": len(keys["test"])}
    classifier = config["kind"] == "classifier"
    B = recipe["batchSize"]

    if not args.no_train:
        model = make_model(config)
        init = {k[len("init."):]: v for k, v in tensors.items() if k.startswith("init.")}
        model.load_state_dict(init, strict=True)
        opt = torch.optim.Adam(model.parameters(), lr=recipe["lr"], eps=1e-8)
        orders = tensors["orders"].long()
        ids, lengths = d["train"]
        y_train = tensors["train.labels"].long() if classifier else None
        t0 = time.perf_counter()
        epoch_losses = []
        for e in range(recipe["epochs"]):
            model.train()
            total, weight = 0.0, 0
            order = orders[e]
            for s in range(0, order.shape[0], B):
                idx = order[s:s + B]
                opt.zero_grad()
                if classifier:
                    x, lens = class_batch(ids, lengths, idx)
                    loss = F.cross_entropy(model(x, lens), y_train[idx])
                    w = len(idx)
                else:
                    x, y = lm_batch(ids, lengths, idx)
                    logits = model(x)
                    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100)
                    w = int((y >= 0).sum())
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), recipe["clipNorm"])
                opt.step()
                total += float(loss) * w
                weight += w
            epoch_losses.append(r4(total / weight))
            print(f"epoch {e + 1}/{recipe['epochs']}: train loss {total / weight:.4f}", file=sys.stderr)
        report["trainSeconds"] = round(time.perf_counter() - t0, 1)
        report["epochLosses"] = epoch_losses
        if classifier:
            yt = tensors["test.labels"].long()
            probs = class_probs(model, *d["test"])
            preds = (probs[:, 1] > probs[:, 0]).long()
            m = metrics(yt, preds)
            ytr = tensors["train.labels"].long()
            majority = 1 if int(ytr.sum()) * 2 > len(ytr) else 0
            report.update({
                "labels": labels,
                "valAccuracy": r4(metrics(tensors["val.labels"].long(),
                                          (lambda p: (p[:, 1] > p[:, 0]).long())(class_probs(model, *d["val"])))["accuracy"]),
                "testAccuracy": r4(m["accuracy"]), "baselineAccuracy": r4(float((yt == majority).float().mean())),
                "precision": r4(m["precision"]), "recall": r4(m["recall"]), "f1": r4(m["f1"]), "confusion": m["confusion"],
                "agreementWithRnnkitRun": r4(float((preds == tensors["rnnkit.test_pred"].long()).float().mean())),
            })
        else:
            symbols = [i for i, t in enumerate(vocab) if i > 1 and t != "<s>"]
            logp = lm_logprobs(model, *d["test"])
            ref = tensors["rnnkit.test_logprob"]
            T = min(ref.shape[1], logp.shape[1])
            report.update({
                "valBitsPerChar": r4(bits_per_char(lm_logprobs(model, *d["val"]), d["val"][1])),
                "testBitsPerChar": r4(bits_per_char(logp, d["test"][1])),
                "maxLogProbDiffVsRnnkitRun": float((logp[:, :T] - ref[:, :T]).abs().max()),
                "unigramBitsPerChar": r4(unigram_bits(*d["train"], *d["test"], symbols)),
            })
            report["baselineBitsPerChar"] = report["unigramBitsPerChar"]

    if args.model:
        sd, mmeta = rnnkit_torch.read_safetensors(args.model)
        mconfig = json.loads(mmeta["config"])
        if mconfig != config or json.loads(mmeta["vocab"]) != vocab:
            print("tasks.py: --model was not trained on this referee file's data (config or vocabulary differ)",
                  file=sys.stderr)
            return 2
        loaded = make_model(mconfig)
        loaded.load_state_dict(sd, strict=True)
        if classifier:
            probs = class_probs(loaded, *d["test"])
            preds = (probs[:, 1] > probs[:, 0]).long()
            ref = tensors["rnnkit.test_pred"].long()
            report["rnnkitModel"] = {
                "file": args.model,
                "testAccuracy": r4(metrics(tensors["test.labels"].long(), preds)["accuracy"]),
                "predictionAgreement": r4(float((preds == ref).float().mean())),
                "maxProbabilityDiff": float((probs[:, 1] - tensors["rnnkit.test_prob"]).abs().max()),
            }
        else:
            logp = lm_logprobs(loaded, *d["test"])
            ref = tensors["rnnkit.test_logprob"]
            T = min(ref.shape[1], logp.shape[1])
            report["rnnkitModel"] = {
                "file": args.model,
                "testBitsPerChar": r4(bits_per_char(logp, d["test"][1])),
                "maxLogProbDiff": float((logp[:, :T] - ref[:, :T]).abs().max()),
            }
    report["rnnkit"] = {k: ours.get(k) for k in ("backend", "trainSeconds", "testAccuracy", "baselineAccuracy",
                                                 "precision", "recall", "f1", "testBitsPerChar", "unigramBitsPerChar")
                        if ours.get(k) is not None}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
