"""A minimal safetensors reader/writer (the `safetensors` wheel is not in Debian)."""
import json
import struct

import torch

_DT = {torch.float32: ("F32", 4), torch.int32: ("I32", 4), torch.int64: ("I64", 8), torch.float64: ("F64", 8),
       torch.float16: ("F16", 2), torch.bfloat16: ("BF16", 2)}
_BACK = {v[0]: k for k, v in _DT.items()}


def save(tensors, path, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        dt, size = _DT[t.dtype]
        flat = t.reshape(-1)
        if t.dtype in (torch.bfloat16, torch.float16):
            flat = flat.view(torch.int16)
        raw = flat.numpy().tobytes()
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - (len(h) + 8) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        dtype = _BACK[info["dtype"]]
        buf = bytearray(data[base + b:base + e])
        t = torch.frombuffer(buf, dtype=dtype) if len(buf) else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out, meta
