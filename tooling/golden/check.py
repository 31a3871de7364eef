"""`generate.py --check FILE`: verify a safetensors file written by rnnkit against PyTorch.

FILE uses the fixture format (param.*, input.*, output.*, optional lossweight.* / grad.*, and a
`config` JSON in the metadata). The torch module named by config.kind is built, its parameters are
replaced by param.* via load_state_dict(strict=True), it is run on input.* with the generator's
conventions (modules.run_module: h0/c0 when withState, pack_padded_sequence when lengths), and every
output.* is compared. Exit code 0 when every output is within TOL (max abs error), else 1.

When the file also has grad.* tensors and a lossweight.* for every output, the gradients of
sum(output * lossweight) are recomputed and compared too, with the scale-aware tolerance
max abs error <= GRAD_TOL * max(1, max |expected|).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from companion import rnnkit_torch  # noqa: E402
from modules import build_module, run_module  # noqa: E402

TOL = 1e-5
GRAD_TOL = 1e-4


def _err(actual, expected):
    if list(actual.shape) != list(expected.shape):
        return None
    if actual.numel() == 0:
        return 0.0
    d = (actual.detach().double() - expected.double()).abs()
    return float("inf") if torch.isnan(d).any() else float(d.max())


def check_file(path):
    try:
        tensors, meta = rnnkit_torch.read_safetensors(path)
        if "config" not in meta:
            raise ValueError("no `config` in the safetensors metadata")
        config = json.loads(meta["config"])
        sd = {k[len("param."):]: v for k, v in tensors.items() if k.startswith("param.")}
        inputs = {k[len("input."):]: v for k, v in tensors.items() if k.startswith("input.")}
        expected = {k[len("output."):]: v for k, v in tensors.items() if k.startswith("output.")}
        if not expected:
            raise ValueError("the file has no output.* tensors")
        torch.manual_seed(0)
        m = build_module(config)
        m.load_state_dict(sd, strict=True)
        m.eval()
        leaves = {}
        for k, v in inputs.items():
            if v.is_floating_point():
                inputs[k] = v.float().requires_grad_(True)
                leaves[f"input.{k}"] = inputs[k]
        for k, p in m.named_parameters():
            leaves[f"param.{k}"] = p
        actual = run_module(config, m, inputs)
    except Exception as e:  # a malformed file or a config the module rejects is a failure, not a crash
        print(f"{path}: ERROR {type(e).__name__}: {e}")
        return 1

    print(f"{path}: {config['kind']} {json.dumps(config, sort_keys=True)}")
    ok = True
    for k, exp in expected.items():
        if k not in actual:
            print(f"  output.{k:<26} not produced by torch (torch outputs: {', '.join(actual)})  FAIL")
            ok = False
            continue
        e = _err(actual[k], exp)
        if e is None:
            print(f"  output.{k:<26} shape {list(exp.shape)} but torch gives {list(actual[k].shape)}  FAIL")
            ok = False
            continue
        good = e <= TOL
        ok &= good
        print(f"  output.{k:<26} {str(list(exp.shape)):<14} max abs err {e:.3e}  {'ok' if good else 'FAIL'}")
    missing = [k for k in actual if k not in expected]
    if missing:
        print(f"  (not in file, not compared: {', '.join('output.' + k for k in missing)})")

    grads = {k[len("grad."):]: v for k, v in tensors.items() if k.startswith("grad.")}
    weights = {k[len("lossweight."):]: v for k, v in tensors.items() if k.startswith("lossweight.")}
    if grads:
        if not all(k in weights for k in expected if k in actual and actual[k].requires_grad):
            print("  grad.* present but some output has no lossweight.*: gradients not compared")
        else:
            loss = sum((actual[k] * weights[k]).sum() for k in weights if k in actual)
            names = [k for k in grads if k in leaves]
            for k in grads:
                if k not in leaves:
                    print(f"  grad.{k:<28} no such parameter or float input  FAIL")
                    ok = False
            gs = torch.autograd.grad(loss, [leaves[k] for k in names], allow_unused=True)
            for k, g in zip(names, gs):
                g = torch.zeros_like(leaves[k]) if g is None else g
                e = _err(g, grads[k])
                if e is None:
                    print(f"  grad.{k:<28} shape {list(grads[k].shape)} but torch gives {list(g.shape)}  FAIL")
                    ok = False
                    continue
                tol = GRAD_TOL * max(1.0, float(grads[k].abs().max()) if grads[k].numel() else 0.0)
                good = e <= tol
                ok &= good
                print(f"  grad.{k:<28} {str(list(g.shape)):<14} max abs err {e:.3e}  {'ok' if good else 'FAIL'}")
    print(f"{'OK' if ok else 'FAIL'} (outputs tol {TOL:g} abs{'; grads tol %g x max(1, |expected|)' % GRAD_TOL if grads else ''})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(max(check_file(p) for p in sys.argv[1:]) if len(sys.argv) > 1 else 2)
