"""load/save: python/rnnkit_torch.py's safetensors reader and writer under the names apps/bench's
Python scripts (export_onnx.py, export_seq2seq.py, torch_train.py) import; no second codec."""
from companion import rnnkit_torch

load = rnnkit_torch.read_safetensors
save = rnnkit_torch.write_safetensors
