"""Loads a Graft checkpoint of test/Library/Inputs/weight_tying.graft into
the same model written in PyTorch, with load_state_dict(strict=True): the
file must hold exactly the state_dict's keys, the tied parameter under both
of its names (test/Library/weight-tying.test). Without torch it says so and
does nothing.

usage: weight_tying_torch.py CHECKPOINT
"""
import json
import struct
import sys

try:
    import torch
    from torch import nn
except ImportError:
    print("torch is not installed: skipped")
    sys.exit(0)


class WeightTying(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.mid = nn.Linear(32, 32)
        self.mid2 = nn.Linear(32, 32)
        self.head = nn.Linear(32, 10)
        self.mid2.weight = self.mid.weight


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    tensors = {}
    for name, t in header.items():
        if name == "__metadata__" or name.startswith("optimizer."):
            continue
        assert t["dtype"] == "F32", name
        b, e = t["data_offsets"]
        raw = bytearray(data[8 + n + b : 8 + n + e])
        tensors[name] = torch.frombuffer(raw, dtype=torch.float32).reshape(t["shape"])
    return tensors


model = WeightTying()
state = read(sys.argv[1])
model.load_state_dict(state, strict=True)
print("state_dict keys:", " ".join(model.state_dict().keys()))
print("named_parameters:", " ".join(n for n, _ in model.named_parameters()))
tied = model.mid2.weight is model.mid.weight
same = torch.equal(model.mid.weight.detach(), state["mid2.weight"])
print("%s: strict load_state_dict; mid2.weight is mid.weight; the values are the file's"
      % ("PASS" if tied and same else "FAIL"))
