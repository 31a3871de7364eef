#!/usr/bin/python3
"""Writes rnnkit's PyTorch golden fixtures (run with Debian's python3-torch: /usr/bin/python3).

  /usr/bin/python3 tooling/golden/generate.py            regenerate every fixture
  /usr/bin/python3 tooling/golden/generate.py --check F  load an rnnkit safetensors file F into the
                                                          torch module named in its metadata, and
                                                          compare outputs (see README)

Each fixture is one safetensors file: tensors named `param.<key>` (the module's state dict),
`input.<name>`, `output.<name>`, `grad.param.<key>`, `grad.input.<name>`, and `__metadata__`
holding `config` (JSON). The scalar loss is sum(output * input.loss_weight) over every output, so
gradients depend on every element.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
torch.set_default_dtype(torch.float32)


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
    safetensors_io.save(tensors, os.path.join(ROOT, group, f"{name}.safetensors"),
                        {"config": json.dumps(config, sort_keys=True)})


def leaf(*shape, low=None, high=None):
    t = torch.randn(*shape) if low is None else torch.empty(*shape).uniform_(low, high)
    return t.requires_grad_(True)


# ---------------------------------------------------------------- ops
def gen_ops():
    torch.manual_seed(1)
    for bias in (True, False):
        for shape in ((3, 7), (2, 4, 7), (7,)):
            m = torch.nn.Linear(7, 5, bias=bias)
            x = leaf(*shape)
            name = f"linear_{'bias' if bias else 'nobias'}_{len(shape)}d"
            write("ops", name, {"kind": "Linear", "inFeatures": 7, "outFeatures": 5, "bias": bias},
                  m, {"x": x}, {"y": m(x)})
    for pad in (None, 0, 3):
        m = torch.nn.Embedding(11, 4, padding_idx=pad)
        ids = torch.tensor([[0, 3, 5, 10, 3], [1, 0, 0, 7, 3]], dtype=torch.int32)
        write("ops", f"embedding_pad{pad}", {"kind": "Embedding", "numEmbeddings": 11, "embeddingDim": 4,
                                              "paddingIdx": pad}, m, {"ids": ids}, {"y": m(ids.long())})
    for shape in ((6, 5), (2, 3, 5)):
        logits = leaf(*shape)
        targets = torch.randint(0, shape[-1], shape[:-1], dtype=torch.int32)
        targets.view(-1)[1] = -100
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, shape[-1]), targets.reshape(-1).long(),
                                                 ignore_index=-100)
        write("ops", f"cross_entropy_{len(shape)}d", {"kind": "crossEntropy"}, None,
              {"logits": logits, "targets": targets}, {"loss": loss}, {"loss": torch.tensor(1.0)})
    pred, target = leaf(4, 3), torch.randn(4, 3)
    write("ops", "mse", {"kind": "mseLoss"}, None, {"pred": pred, "target": target},
          {"loss": torch.nn.functional.mse_loss(pred, target)}, {"loss": torch.tensor(1.0)})
    for max_norm in (1.0, 100.0):
        ps = [torch.nn.Parameter(torch.randn(3, 4) * 2), torch.nn.Parameter(torch.randn(5))]
        grads = {f"g{i}": torch.randn(p.shape) * 3 for i, p in enumerate(ps)}
        for i, p in enumerate(ps):
            p.grad = grads[f"g{i}"].clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm)
        extra = {f"input.{k}": v for k, v in grads.items()}
        extra.update({f"output.g{i}": p.grad for i, p in enumerate(ps)})
        extra["output.total_norm"] = total.reshape(1)
        write("ops", f"clip_grad_norm_{int(max_norm)}", {"kind": "clipGradNorm", "maxNorm": max_norm},
              None, {}, {}, extra=extra)


GROUPS = {"ops": gen_ops}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", metavar="FILE", help="load an rnnkit safetensors file into torch and compare")
    ap.add_argument("--only", choices=sorted(GROUPS), help="regenerate one group")
    args = ap.parse_args()
    if args.check:
        from check import check_file
        sys.exit(check_file(args.check))
    for name, gen in GROUPS.items():
        if args.only in (None, name):
            gen()
            print(f"wrote fixtures/{name}")


if __name__ == "__main__":
    main()
