"""python/ on the import path, so tooling/golden uses the files users get rather than copies of them:
rnnkit_torch.py (the safetensors reader/writer, rnnkit's reference modules) and train_ddp.py (the
examples' batches). rnnkit_torch.py stays one self-contained file that needs only torch."""
import os
import sys

PYTHON_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

import rnnkit_torch  # noqa: E402,F401
