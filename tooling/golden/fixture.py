"""One fixture file, and the seed of each: shared by generate.py and the groups it imports (semantics.py,
phase2.py, seq2seq_fixtures.py)."""
import json
import os
import zlib

import torch

from companion import rnnkit_torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def seed_for(group, name):
    """Every fixture gets its own fixed seed, so adding a case never changes the others."""
    return zlib.crc32(f"{group}/{name}".encode()) & 0x7FFFFFFF


def seed(group, name):
    torch.manual_seed(seed_for(group, name))


def ints(values):
    return torch.tensor(list(values), dtype=torch.int32)


def write(group, name, config, module, inputs, outputs, loss_weights=None, extra=None):
    """Stores params, inputs, outputs and the gradients of sum(out * w) w.r.t. params and float inputs."""
    tensors = {}
    params = dict(module.named_parameters()) if module is not None else {}
    for k, v in params.items():
        tensors[f"param.{k}"] = v.detach()
    for k, v in inputs.items():
        tensors[f"input.{k}"] = v.detach()
    loss = 0
    for k, v in outputs.items():
        tensors[f"output.{k}"] = v.detach()
        if v.dtype.is_floating_point and v.requires_grad:
            w = loss_weights[k] if loss_weights and k in loss_weights else torch.randn(v.shape)
            tensors[f"lossweight.{k}"] = w
            loss = loss + (v * w).sum()
    if torch.is_tensor(loss) and loss.requires_grad:
        leaves = [(f"param.{k}", v) for k, v in params.items()] + [
            (f"input.{k}", v) for k, v in inputs.items() if v.is_floating_point() and v.requires_grad]
        grads = torch.autograd.grad(loss, [v for _, v in leaves], allow_unused=True)
        for (k, v), g in zip(leaves, grads):
            tensors[f"grad.{k}"] = g if g is not None else torch.zeros_like(v)
    for k, v in (extra or {}).items():
        tensors[k] = v.detach()
    os.makedirs(os.path.join(ROOT, group), exist_ok=True)
    rnnkit_torch.write_safetensors(tensors, os.path.join(ROOT, group, f"{name}.safetensors"),
                                   {"config": json.dumps(config, sort_keys=True)})
