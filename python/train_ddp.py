"""Trains an rnnkit model file with PyTorch DistributedDataParallel, on data `pnpm examples` exports.

    pnpm examples spam --export-data runs/spam-data          # data.safetensors + init.safetensors
    torchrun --nproc_per_node 2 --redirects 2 --tee 1 python/train_ddp.py runs/spam-data --out runs/spam-ddp.safetensors
    /usr/bin/python3 python/train_ddp.py runs/spam-data --out runs/spam-1proc.safetensors   # one process
    pnpm examples evaluate --model runs/spam-ddp.safetensors --data runs/spam-data --torch runs/spam-ddp.predictions.safetensors

(Debian's torchrun, torch 1.13 on Python 3.11, stops at start with "AttributeError: 'NoneType' object
has no attribute 'get'" unless given `--redirects 2 --tee 1`.) The recipe is the one `pnpm examples`
uses: the same split, tokens, initial weights (init.safetensors) and batch order per epoch, Adam,
gradient-norm clipping. Each global batch is cut into one contiguous share per process; the loss
of a share is scaled so that DDP's gradient average equals the gradient of the whole batch's mean
loss, so N processes train the same model as one, up to float rounding. CPU: the gloo backend (the
default). GPUs: `--backend nccl`, one process per GPU (`torchrun --nproc_per_node <GPUs>`). Several
machines: the same command on each, with `--nnodes M --node_rank i --rdzv_backend c10d
--rdzv_endpoint HOST:PORT` (HOST: the first machine) instead of a single `--nproc_per_node`.

Writes --out, a model file (rnnkit's loadModel and `pnpm examples predict` read it; the vocabulary
and labels of init.safetensors are carried over), and --predictions (default: next to --out), the
test split's probabilities (`test.prob`, classifiers) or log-probabilities (`test.logprob`, namegen).
The last line printed (by rank 0) is a JSON summary.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rnnkit_torch  # noqa: E402

DATA_FORMAT = "rnnkit-examples-data/1"


def class_batch(ids, lengths, idx):
    """ids [len(idx), longest] and lengths (int64) of the items idx (tooling/golden/tasks.py uses these too)."""
    lens = lengths[idx]
    return ids[idx, : int(lens.max())].long(), lens.long()


def lm_batch(ids, lengths, idx):
    """inputs seq[:-1], targets seq[1:] with -100 past each end."""
    lens = lengths[idx].long()
    T = int(lens.max()) - 1
    x = ids[idx, :T].long()
    y = ids[idx, 1:T + 1].long().clone()
    y[torch.arange(T).unsqueeze(0) >= (lens - 1).unsqueeze(1)] = -100
    return x, y


def predict(model, ids, lengths, classifier, device, batch=256):
    """test.prob [N, C] (softmax) or test.logprob [N, T-1] (log-probability of each real next token)."""
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, ids.shape[0], batch):
            idx = torch.arange(s, min(s + batch, ids.shape[0]))
            if classifier:
                x, lens = class_batch(ids, lengths, idx)
                out.append(F.softmax(model(x.to(device), lens), dim=1).cpu())
            else:
                x, y = lm_batch(ids, lengths, idx)
                logp = F.log_softmax(model(x.to(device)), dim=2).cpu()
                picked = logp.gather(2, y.clamp(min=0).unsqueeze(2)).squeeze(2)
                picked[y < 0] = 0
                row = torch.zeros(len(idx), int(lengths.max()) - 1)
                row[:, : picked.shape[1]] = picked
                out.append(row)
    return torch.cat(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", help="a directory written by `pnpm examples <task> --export-data DIR`")
    ap.add_argument("--out", required=True, help="the trained model file (.safetensors)")
    ap.add_argument("--predictions", help="test predictions (default: OUT with .predictions.safetensors)")
    ap.add_argument("--backend", choices=("gloo", "nccl"), default="gloo", help="gloo (CPU) or nccl (GPUs)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process (default 1)")
    args = ap.parse_args(argv)

    distributed = "RANK" in os.environ  # set by torchrun
    if distributed:
        dist.init_process_group(args.backend)
        rank, world, local = dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0))
    else:
        rank, world, local = 0, 1, 0
    device = torch.device(f"cuda:{local}" if args.backend == "nccl" else "cpu")
    torch.set_num_threads(args.threads)

    tensors, meta = rnnkit_torch.read_safetensors(os.path.join(args.data, "data.safetensors"))
    if meta.get("format") != DATA_FORMAT:
        sys.exit(f"train_ddp.py: {args.data}/data.safetensors is not --export-data output (format {meta.get('format')!r})")
    task, recipe = meta["task"], json.loads(meta["recipe"])
    init = os.path.join(args.data, "init.safetensors")
    _, carried = rnnkit_torch.read_safetensors(init)
    model = rnnkit_torch.to_torch(init).to(device)
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local] if device.type == "cuda" else None) \
        if distributed else model
    opt = torch.optim.Adam(model.parameters(), lr=recipe["lr"], eps=1e-8)
    classifier = task != "namegen"
    ids, lengths = tensors["train.ids"], tensors["train.lengths"]
    labels = tensors["train.labels"].long() if classifier else None
    orders, B = tensors["orders"].long(), recipe["batchSize"]

    t0, epoch_losses = time.perf_counter(), []
    for e in range(recipe["epochs"]):
        net.train()
        total = torch.zeros(2, dtype=torch.float64)  # sum of loss * weight, weight (whole batches)
        for s in range(0, orders.shape[1], B):
            idx = orders[e, s:s + B]
            # this process's share; a batch smaller than the world is run whole by every process
            share = idx.tensor_split(world)[rank] if len(idx) >= world else idx
            factor = world if len(idx) >= world else 1
            opt.zero_grad()
            if classifier:
                x, lens = class_batch(ids, lengths, share)
                loss_sum = F.cross_entropy(net(x.to(device), lens), labels[share].to(device), reduction="sum")
                weight = len(idx)
            else:
                x, y = lm_batch(ids, lengths, share)
                logits = net(x.to(device))
                loss_sum = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1).to(device),
                                           ignore_index=-100, reduction="sum")
                weight = int((lengths[idx] - 1).sum())
            (loss_sum / weight * factor).backward()  # DDP averages over the world: the batch mean
            torch.nn.utils.clip_grad_norm_(model.parameters(), recipe["clipNorm"])
            opt.step()
            # summed over the processes after the epoch: the batches' loss sums and weights
            share = float(loss_sum) if factor == world else float(loss_sum) / world
            total += torch.tensor([share, weight / world], dtype=torch.float64)
        if distributed:
            dist.all_reduce(total)
        epoch_losses.append(round(float(total[0] / total[1]), 4))
        if rank == 0:
            print(f"epoch {e + 1}/{recipe['epochs']}: train loss {epoch_losses[-1]:.4f}", file=sys.stderr)
    seconds = time.perf_counter() - t0

    if rank == 0:
        summary = {"task": task, "processes": world, "backend": args.backend if distributed else "none",
                   "epochs": recipe["epochs"], "batchSize": B, "epochLosses": epoch_losses,
                   "trainSeconds": round(seconds, 1)}
        test = predict(model, tensors["test.ids"], tensors["test.lengths"], classifier, device)
        if classifier:
            for split in ("val", "test"):
                p = test if split == "test" else predict(model, tensors["val.ids"], tensors["val.lengths"], True, device)
                acc = float(((p[:, 1] > p[:, 0]).long() == tensors[f"{split}.labels"].long()).float().mean())
                summary[f"{split}Accuracy"] = round(acc, 4)
        else:
            real = float((tensors["test.lengths"] - 1).sum())
            summary["testBitsPerChar"] = round(float(-test.sum() / real / math.log(2)), 4)
        rnnkit_torch.save_for_rnnkit(model, args.out, carried)
        pred = args.predictions or (args.out[: -len(".safetensors")] if args.out.endswith(".safetensors")
                                    else args.out) + ".predictions.safetensors"
        rnnkit_torch.write_safetensors({"test.prob" if classifier else "test.logprob": test}, pred)
        print(json.dumps(summary))
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
