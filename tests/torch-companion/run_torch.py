#!/usr/bin/python3
"""Driver for roundtrip.test.mjs: runs python/rnnkit_torch.py on the model files a manifest lists.

  /usr/bin/python3 tests/torch-companion/run_torch.py DIR

DIR/manifest.json: {"rnnkit": [{"name", "kind"}], "torch": [{"name", "class", "options", "kind"}]}.
For each "rnnkit" entry: to_torch(DIR/NAME.model.safetensors), run it on DIR/NAME.inputs.safetensors,
write DIR/NAME.torch-out.safetensors (out.0, out.1, ...), and save_for_rnnkit to DIR/NAME.back.safetensors.
For each "torch" entry: build the torch module (PyTorch's own init), save_for_rnnkit it to
DIR/NAME.model.safetensors and write its outputs on DIR/NAME.inputs.safetensors the same way.
"""
import json
import os
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
import rnnkit_torch  # noqa: E402


def flat(out):
    if torch.is_tensor(out):
        return [out]
    return [t for o in out for t in flat(o)]


def run(module, kind, inputs):
    """kind: how rnnkit's test calls forward: "x", "ids", "ids+lengths", "x+lengths", "query+keys+lengths"
    (Attention), "src+lengths+tgt" (Seq2Seq with teacher forcing)."""
    module.eval()
    with torch.no_grad():
        if kind == "query+keys+lengths":
            return flat(module(inputs["x"], inputs["keys"], inputs["lengths"].tolist()))
        if kind == "src+lengths+tgt":
            src, lengths, tgt = inputs["x"].long(), inputs["lengths"].tolist(), inputs["tgt"].long()
            # teacher forcing, then the same targets fed one step at a time from encode()
            state, steps = module.encode(src, lengths), []
            for t in range(tgt.shape[1]):
                logits, state = module.step(tgt[:, t], state)
                steps.append(logits)
            return [module(src, lengths, tgt), torch.stack(steps, 1)]
        if kind == "ids":
            return flat(module(inputs["x"].long()))
        if kind.endswith("+lengths"):
            x = inputs["x"].long() if kind.startswith("ids") else inputs["x"]
            return flat(module(x, inputs["lengths"].tolist()))
        return flat(module(inputs["x"]))


def main(d):
    manifest = json.load(open(os.path.join(d, "manifest.json")))
    for e in manifest["rnnkit"]:
        m = rnnkit_torch.to_torch(os.path.join(d, f"{e['name']}.model.safetensors"))
        # written back before running: Embedding(max_norm) renormalises rows in place when run
        rnnkit_torch.save_for_rnnkit(m, os.path.join(d, f"{e['name']}.back.safetensors"))
        inputs, _ = rnnkit_torch.read_safetensors(os.path.join(d, f"{e['name']}.inputs.safetensors"))
        outs = run(m, e["kind"], inputs)
        rnnkit_torch.write_safetensors({f"out.{i}": t for i, t in enumerate(outs)},
                                       os.path.join(d, f"{e['name']}.torch-out.safetensors"))
    for e in manifest["torch"]:
        torch.manual_seed(0)
        m = rnnkit_torch.CLASSES[e["class"]][2](e["options"])
        rnnkit_torch.save_for_rnnkit(m, os.path.join(d, f"{e['name']}.model.safetensors"))
        inputs, _ = rnnkit_torch.read_safetensors(os.path.join(d, f"{e['name']}.inputs.safetensors"))
        outs = run(m, e["kind"], inputs)
        rnnkit_torch.write_safetensors({f"out.{i}": t for i, t in enumerate(outs)},
                                       os.path.join(d, f"{e['name']}.torch-out.safetensors"))


if __name__ == "__main__":
    main(sys.argv[1])
