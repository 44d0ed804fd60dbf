#!/usr/bin/python3
"""Writes test/golden/init/: PyTorch's side of `graft train --init`
(test/tools/train-init.test). examples/digits_mlp.graft as a torch.nn.Module
(hidden Linear(64, 64), head Linear(64, 10), head(relu(hidden(x / 16))),
cross_entropy, Adam(lr=1e-2)), initialised by torch (seed 0), its
state_dict written as safetensors (digits_mlp_init.safetensors); then
trained 20 steps on data/digits/train.csv's first 640 samples in order (batch
32, as `graft train --no-shuffle`): the loss of every step (losses.txt) and
the state_dict after them (digits_mlp_step20.safetensors). Then again from
the same weights with gradient accumulation over 2 batches (nanoGPT's
loss / gradient_accumulation_steps before backward): 10 steps on the same
640 samples, each step's mean loss (losses_accum2.txt) and the state_dict
after them (digits_mlp_accum2_step10.safetensors).

    /usr/bin/python3 test/golden/gen_init_goldens.py
"""
import json
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def write_safetensors(path, state):
    header, blobs, offset = {}, [], 0
    for name, t in state.items():
        blob = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


class DigitsMLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(64, 64)
        self.head = torch.nn.Linear(64, 10)

    def forward(self, x):
        return self.head(torch.relu(self.hidden(x / 16.0)))


def main():
    torch.manual_seed(0)
    model = DigitsMLP()
    out = os.path.join(HERE, "init")
    write_safetensors(os.path.join(out, "digits_mlp_init.safetensors"),
                      model.state_dict())
    rows = [line.split(",") for line in
            open(os.path.join(ROOT, "data/digits/train.csv")).read().split("\n")
            if line.strip()][1:641]  # after the header
    x = torch.tensor([[float(v) for v in r[:64]] for r in rows])
    y = torch.tensor([int(r[64]) for r in rows])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for step in range(20):
        xb, yb = x[step * 32:(step + 1) * 32], y[step * 32:(step + 1) * 32]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    write_safetensors(os.path.join(out, "digits_mlp_step20.safetensors"),
                      model.state_dict())
    with open(os.path.join(out, "losses.txt"), "w") as f:
        f.write("".join("%.9g\n" % l for l in losses))

    torch.manual_seed(0)
    model = DigitsMLP()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for step in range(10):
        opt.zero_grad()
        total = 0.0
        for m in range(2):
            b = step * 2 + m
            xb, yb = x[b * 32:(b + 1) * 32], y[b * 32:(b + 1) * 32]
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            (loss / 2).backward()
            total += loss.item()
        opt.step()
        losses.append(total / 2)
    write_safetensors(os.path.join(out, "digits_mlp_accum2_step10.safetensors"),
                      model.state_dict())
    with open(os.path.join(out, "losses_accum2.txt"), "w") as f:
        f.write("".join("%.9g\n" % l for l in losses))


if __name__ == "__main__":
    main()
