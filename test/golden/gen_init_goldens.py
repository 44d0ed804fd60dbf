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

Last, nanoGPT's GPT (gen_parity_goldens.py's transcription of model.py:
n_layer 2, n_head 2, n_embd 32, block_size 16, tied lm_head, no dropout),
initialised by torch (seed 0; gpt_init.safetensors), trained 10 steps with
configure_optimizers' AdamW and clip_grad_norm_(1.0) on the text of
test/tools/Inputs/text.py in order: batch b's row r is the window at
character 4 b + r, x = data[i:i+16], y = data[i+1:i+17] (as get_batch
makes them, without its random offsets); the losses (gpt_losses.txt) and
the state_dict after them (gpt_step10.safetensors).

    /usr/bin/python3 test/golden/gen_init_goldens.py
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

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



def gpt():
    sys.path.insert(0, HERE)
    from gen_parity_goldens import GPT
    out = os.path.join(HERE, "init")
    with tempfile.TemporaryDirectory() as d:
        subprocess.check_call([sys.executable, os.path.join(
            ROOT, "test/tools/Inputs/text.py"), d])
        text = open(os.path.join(d, "train.txt"), encoding="utf-8").read()
    chars = sorted(set(text))
    data = torch.tensor([chars.index(c) for c in text], dtype=torch.long)
    torch.manual_seed(0)
    model = GPT(0.0)
    write_safetensors(os.path.join(out, "gpt_init.safetensors"),
                      model.state_dict())
    opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.95))
    B, T = 4, GPT.T
    losses = []
    for step in range(10):
        rows = [step * B + r for r in range(B)]
        x = torch.stack([data[i:i + T] for i in rows])
        y = torch.stack([data[i + 1:i + 1 + T] for i in rows])
        opt.zero_grad()
        loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    write_safetensors(os.path.join(out, "gpt_step10.safetensors"),
                      model.state_dict())
    with open(os.path.join(out, "gpt_losses.txt"), "w") as f:
        f.write("".join("%.9g\n" % l for l in losses))


if __name__ == "__main__":
    main()
    gpt()
