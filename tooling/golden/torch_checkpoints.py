#!/usr/bin/python3
"""Writes the torch.save fixtures for loadTorchCheckpoint (run with Debian's python3-torch: /usr/bin/python3).

  /usr/bin/python3 tooling/golden/torch_checkpoints.py

Under fixtures/torch/: NAME.pt is what torch.save wrote, NAME.safetensors the tensors a reader must
find in it, keyed by dotted path (nested dicts and lists joined with "."), as float32 for floating
dtypes and int32 for integer and bool dtypes; `__metadata__.dtypes` (JSON) maps each key to the torch
dtype it was saved with. values_protocol{0,2,4}.pkl are plain pickles of one Python value (values.json
holds it by protocol, tagged where JSON is lossy) for the unpickler's tests. not_a_checkpoint.onnx is a small ONNX export (for the bad-input tests). hostile_*.pt hold a global that must be refused (`__metadata__.refused`
names it, in hostile_*.json); they are written by pickling an object whose __reduce__ names the
global: pickling only records the name, nothing is called.
"""
import builtins
import collections
import io
import json
import os
import pickle
import sys
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from companion import rnnkit_torch  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "torch")


def seed(name):
    torch.manual_seed(zlib.crc32(f"torch/{name}".encode()))


def flatten(obj, prefix, out):
    """The tensors of obj by dotted key, as loadTorchCheckpoint must return them."""
    if torch.is_tensor(obj):
        out[prefix or "tensor"] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            flatten(v, f"{prefix}.{i}" if prefix else str(i), out)
    return out


def expected(obj):
    tensors, dtypes = {}, {}
    for k, t in flatten(obj, "", {}).items():
        t = t.detach()
        dtypes[k] = str(t.dtype).replace("torch.", "")
        tensors[k] = t.float() if t.is_floating_point() else t.int()
    return tensors, {"dtypes": json.dumps(dtypes, sort_keys=True)}


def save(name, obj, **kw):
    """torch.save(obj) to NAME.pt and the expected tensors to NAME.safetensors."""
    torch.save(obj, os.path.join(OUT, f"{name}.pt"), **kw)
    tensors, meta = expected(obj)
    rnnkit_torch.write_safetensors(tensors, os.path.join(OUT, f"{name}.safetensors"), meta)


class Reduce:
    """Pickles as a call of fn(*args) without calling it (only torch.load or pickle.load would)."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


PICKLE_VALUE = {
    "int": 1, "neg": -5, "i16": 40000, "i32": -2**31, "big": 2**70, "negbig": -2**70, "f": 1.5, "nf": -0.1,
    "s": "h\u00e9llo \u540d", "b": b"ab\x00", "t": (1, 2, 3), "t0": (), "t5": (1, 2, 3, 4, 5), "l": [1, [2, []]],
    "n": None, "tf": [True, False], "od": collections.OrderedDict([("a", 1), ("b", [2])]), 7: "int key",
}


def as_json(v):
    """The value as loadTorchCheckpoint's unpickler tests compare it (JSON, tagged where JSON is lossy)."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return v if abs(v) <= 2**53 - 1 else {"bigint": str(v)}
    if isinstance(v, float):
        return v
    if isinstance(v, bytes):
        return {"bytes": list(v)}
    if isinstance(v, tuple):
        return {"tuple": [as_json(x) for x in v]}
    if isinstance(v, list):
        return [as_json(x) for x in v]
    return {"dict": [[as_json(k), as_json(x)] for k, x in v.items()]}


def main():
    os.makedirs(OUT, exist_ok=True)
    # plain pickles of Python values in the protocols torch.save may use, for the unpickler's tests
    # (protocols 0-2 pickle bytes as a call of _codecs.encode, which a reader must refuse: left out)
    expected = {}
    for proto in (0, 2, 4):
        value = {k: v for k, v in PICKLE_VALUE.items() if proto >= 3 or k != "b"}
        with open(os.path.join(OUT, f"values_protocol{proto}.pkl"), "wb") as f:
            pickle.dump(value, f, protocol=proto)
        expected[proto] = as_json(value)
    with open(os.path.join(OUT, "values.json"), "w") as f:
        json.dump(expected, f, ensure_ascii=False)
        f.write("\n")
    for name, make in [
        ("rnn", lambda: torch.nn.RNN(4, 3, num_layers=2, bidirectional=True)),
        ("lstm", lambda: torch.nn.LSTM(4, 3, proj_size=2)),
        ("gru", lambda: torch.nn.GRU(4, 3, batch_first=True)),
        ("linear", lambda: torch.nn.Linear(5, 2)),
        ("embedding", lambda: torch.nn.Embedding(7, 3, padding_idx=0)),
    ]:
        seed(name)
        save(name, make().state_dict())

    seed("nested")
    model = torch.nn.Sequential(torch.nn.Embedding(6, 3), torch.nn.GRU(3, 2, batch_first=True))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    out, _ = model[1](model[0](torch.tensor([[1, 2, 5]])))
    out.sum().backward()
    opt.step()
    save("nested", {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
                    "history": [0.5, 0.25], "note": "trained"})

    seed("parameters")
    lin = torch.nn.Linear(3, 2)
    save("parameters", dict(lin.named_parameters()))  # nn.Parameter: torch._utils._rebuild_parameter

    seed("dtypes")
    x = torch.randn(2, 3)
    save("dtypes", {
        "f32": x, "f16": x.half(), "bf16": x.bfloat16(), "f64": x.double() / 3,
        "i64": torch.tensor([[0, -1, 2**31 - 1], [-(2**31), 7, 42]], dtype=torch.int64),
        "i32": torch.tensor([5, -6], dtype=torch.int32), "i16": torch.tensor([-300, 300], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8), "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([[True, False], [False, True]]), "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
    })

    seed("views")
    base = torch.randn(4, 6)
    save("views", {"transposed": base.t(), "sliced": base[1:3, 2:5], "strided": base[:, ::2],
                   "row": base[2], "expanded": torch.randn(3, 1).expand(3, 4)})

    seed("shared")
    base = torch.randn(10)
    save("shared", {"a": base, "b": base[2:6], "c": base.view(2, 5), "d": base[5:].view(5, 1)})

    seed("legacy")
    lstm = torch.nn.LSTM(3, 2)
    base = torch.randn(3, 4)
    save("legacy", {"model": lstm.state_dict(), "epoch": 3, "view": base.t(), "part": base[1:, 1:],
                    "f16": base.half(), "i64": torch.arange(5), "bool": base > 0},
         _use_new_zipfile_serialization=False)

    seed("protocol4")
    save("protocol4", torch.nn.Linear(3, 2).state_dict(), pickle_protocol=4)

    # not a checkpoint: what a user might pass by mistake
    torch.onnx.export(torch.nn.Linear(3, 2), torch.zeros(1, 3), os.path.join(OUT, "not_a_checkpoint.onnx"))

    w = torch.ones(2)
    for name, fn, refused, kw in [
        ("hostile_os_system", os.system, f"{os.system.__module__}.system", {}),
        # protocol 2 writes builtins under their Python 2 name
        ("hostile_eval", builtins.eval, "__builtin__.eval", {}),
        ("hostile_legacy", os.system, f"{os.system.__module__}.system",
         {"_use_new_zipfile_serialization": False}),
    ]:
        args = ("echo pwned",) if fn is os.system else ("__import__('os').system('echo pwned')",)
        torch.save({"weight": w, "evil": Reduce(fn, args)}, os.path.join(OUT, f"{name}.pt"), **kw)
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            json.dump({"refused": refused}, f)
            f.write("\n")


if __name__ == "__main__":
    main()
