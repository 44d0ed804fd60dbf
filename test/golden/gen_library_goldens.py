#!/usr/bin/python3
"""Writes test/golden/library/<model>.golden: PyTorch's numbers for K training
steps of models compiled by `graft compile`, checked by
test/Library/Inputs/golden_harness.c (test/Library/goldens.test).

Run with Debian's PyTorch (/usr/bin/python3 has torch; the default python3
may not):

    /usr/bin/python3 test/golden/gen_library_goldens.py

Each model is written again in PyTorch with the same state_dict names. Its
parameters and float inputs come from a formula both sides compute exactly
(no RNG of either library is involved):

    h = splitmix64(fnv1a64(key) ^ splitmix64(i))      (64-bit, wrapping)
    r = (h >> 40) * 2**-24                             (24 bits, exact)
    v = float32(center + halfwidth * (2 * r - 1))      (in float64, rounded once)

with key = the parameter's state_dict name, or "<input>@<step>" for the float
input of a step. Integer inputs (labels, token ids) are stored in full. The
model is trained for STEPS steps with torch.optim (the model's `train` block:
optimizer, hyper-parameters, parameter groups, clipping), in float32, and the
file records per step: the loss, each parameter's gradient after backward
(before clipping: what graft_forward_backward accumulates), each parameter
and buffer after the optimizer step.

A tensor is recorded as `numel`, the sum of |x| and the L2 norm (float64 over
the float32 values), and its elements: all of them when numel <= FULL, else
SAMPLE elements at recorded indices (the largest |x|, the first, the last and
evenly spread ones). That keeps mlp.graft's 670k parameters to a few KB.

Format (text, one record a line, values as %.9g, which round-trips float32):
    model NAME                       graft model name (the library's)
    source PATH                      the .graft file, relative to the repo
    dims N=V ...                     --dim overrides for graft compile
    steps K
    init NAME NUMEL CENTER HALFWIDTH                 a parameter's formula
    finput STEP NAME NUMEL CENTER HALFWIDTH [KEY]    a float input's formula
                                    (of KEY@STEP; NAME@STEP without KEY)
    iinput STEP NAME NUMEL v0 v1 ...                 an integer input
    loss STEP VALUE
    KIND STEP NAME NUMEL SUMABS L2 NSAMPLE i0 v0 i1 v1 ...
        KIND: param0 (step 0: the initial parameters, exact; 8 elements),
        grad, param,
        buffer (after step STEP, 1-based)
"""
import math
import os
import re

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

STEPS = 3
FULL = 256
SAMPLE = 48
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "golden", "library")

M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix64(z):
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def fnv1a64(s):
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return np.uint64(h)


def formula(key, numel, center, halfwidth):
    """The values both sides compute; see the module docstring."""
    with np.errstate(over="ignore"):
        i = np.arange(numel, dtype=np.uint64)
        h = splitmix64(fnv1a64(key) ^ splitmix64(i))
    r = (h >> np.uint64(40)).astype(np.float64) * 2.0 ** -24
    return (center + halfwidth * (2.0 * r - 1.0)).astype(np.float32)


def init_range(name, shape):
    """center, halfwidth of a parameter: PyTorch-like scales, so that the
    activations and gradients have their usual sizes."""
    if len(shape) >= 2:
        fan_in = math.prod(shape[1:])
        return 0.0, 1.0 / math.sqrt(fan_in)
    if re.search(r"(^|\.)(bn|ln)[^.]*\.weight$", name):
        return 1.0, 0.1  # norm scales around 1
    return 0.0, 0.1


# ----------------------------------------------------------------- models --
class MLP(nn.Module):  # examples/mlp.graft
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 512), nn.Linear(512, 512), nn.Linear(512, 10)

    def forward(self, x, y):
        h = F.relu(self.fc1(x))
        h = F.relu(self.fc2(h))
        return F.cross_entropy(self.fc3(h), y)


class DigitsMLP(nn.Module):  # examples/digits_mlp.graft
    def __init__(self):
        super().__init__()
        self.hidden, self.head = nn.Linear(64, 64), nn.Linear(64, 10)

    def forward(self, x, y):
        return F.cross_entropy(self.head(F.relu(self.hidden(x / 16.0))), y)


class LeNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class LeNetModel(nn.Module):  # examples/lenet.graft
    def __init__(self):
        super().__init__()
        self.net = LeNet()

    def forward(self, images, labels):
        return F.cross_entropy(self.net(images), labels)


class BnCnn(nn.Module):  # test/Library/Inputs/golden_bn_cnn.graft
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2, padding=1)
        self.fc = nn.Linear(6 * 2 * 2, 8)
        self.ln = nn.LayerNorm(8)
        self.head = nn.Linear(8, 3)

    def forward(self, x, y):
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.avg_pool2d(h, 2)
        h = F.silu(self.conv2(h)).flatten(1)
        h = torch.tanh(self.ln(self.fc(h)))
        return F.cross_entropy(self.head(h), y, label_smoothing=0.1)


class Attention(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_embd, self.n_head = n_embd, n_head
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)

    def forward(self, x):
        b, t, c = x.shape
        hs = c // self.n_head
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_head, hs).transpose(1, 2) for z in (q, k, v))
        # F.scaled_dot_product_attention(is_causal=True), which torch 1.13 lacks
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        att = F.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, c)
        return self.c_proj(y)


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = Attention(n_embd, n_head)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.mlp.c_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh"))


class TinyGpt(nn.Module):  # test/Library/Inputs/golden_gpt.graft
    V, T, C, H, L = 11, 5, 8, 2, 1

    def __init__(self):
        super().__init__()
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(self.V, self.C)
        self.transformer.wpe = nn.Embedding(self.T, self.C)
        self.transformer.h = nn.ModuleList(Block(self.C, self.H) for _ in range(self.L))
        self.transformer.ln_f = nn.LayerNorm(self.C)
        self.lm_head = nn.Linear(self.C, self.V, bias=False)

    def forward(self, idx, targets, pos):
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return F.cross_entropy(logits.view(-1, self.V), targets.view(-1))


def labels(classes):
    return lambda key, shape: formula_labels(key, shape, classes)


def formula_labels(key, shape, classes):
    with np.errstate(over="ignore"):
        h = splitmix64(fnv1a64(key) ^ splitmix64(np.arange(math.prod(shape), dtype=np.uint64)))
    return torch.from_numpy((h % np.uint64(classes)).astype(np.int64)).reshape(shape)


# name, source, dims, module, inputs (name, shape, float range or label
# generator, in the order of forward), optimizer, param groups, clipping,
# frozen parameters.
B = 4
MODELS = [
    dict(name="mlp", source="examples/mlp.graft", dims={"B": B}, module=MLP,
         inputs=[("x", [B, 784], (0.0, 1.0)), ("y", [B], labels(10))],
         opt=("SGD", dict(lr=0.01, momentum=0.9))),
    dict(name="digits_mlp", source="examples/digits_mlp.graft", dims={"B": B},
         module=DigitsMLP,
         inputs=[("x", [B, 64], (8.0, 8.0)), ("y", [B], labels(10))],
         opt=("Adam", dict(lr=1e-2))),
    dict(name="lenet", source="examples/lenet.graft", dims={"B": B},
         module=LeNetModel,
         inputs=[("images", [B, 1, 28, 28], (0.0, 1.0)), ("labels", [B], labels(10))],
         opt=("SGD", dict(lr=0.05, momentum=0.9, weight_decay=5e-4))),
    dict(name="golden_bn_cnn", source="test/Library/Inputs/golden_bn_cnn.graft",
         dims={}, module=BnCnn,
         inputs=[("x", [B, 2, 8, 8], (0.5, 2.0)), ("y", [B], labels(3))],
         opt=("Adam", dict(lr=1e-2, weight_decay=1e-3, amsgrad=True)),
         groups=[(["bn1.*", "ln.*"], dict(lr=5e-3, weight_decay=0.0))]),
    dict(name="golden_gpt", source="test/Library/Inputs/golden_gpt.graft",
         dims={}, module=TinyGpt,
         inputs=[("idx", [2, 5], labels(11)), ("targets", [2, 5], labels(11)),
                 ("pos", [5], lambda key, shape: torch.arange(5))],
         opt=("AdamW", dict(lr=1e-2, betas=(0.9, 0.95), weight_decay=0.1)),
         groups=[(["*.bias", "*ln_*.weight"], dict(weight_decay=0.0))],
         clip_grad_norm=0.5,
         # The key part of c_attn.bias has a zero gradient in exact arithmetic
         # (softmax is shift-invariant), so both libraries compute rounding
         # noise (~1e-9), which Adam's g / (sqrt(v) + eps) turns into updates
         # of about lr / 10 of arbitrary sign: frozen, as in graft.
         frozen=["transformer.h.*.attn.c_attn.bias"]),
]


def matches(pattern, name):
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), name)


def fmt(x):
    return f"{x:.9g}"


def record(kind, step, name, t, full=FULL, sample=SAMPLE):
    flat = t.detach().reshape(-1)
    n = flat.numel()
    as64 = flat.double()
    sumabs, l2 = float(as64.abs().sum()), float(as64.norm())
    if n <= full:
        idx = list(range(n))
    else:
        picked = {0, n - 1, int(as64.abs().argmax())}
        for k in range(sample):
            if len(picked) >= sample:
                break
            picked.add((k * n) // sample + (k * 7919) % max(1, n // sample))
        idx = sorted(picked)
    vals = flat.tolist()
    body = " ".join(f"{i} {fmt(vals[i]) if flat.is_floating_point() else int(vals[i])}"
                    for i in idx)
    return f"{kind} {step} {name} {n} {sumabs!r} {l2!r} {len(idx)} {body}"


def run(spec):
    torch.manual_seed(0)  # unused: every number below comes from formula()
    model = spec["module"]()
    lines = [f"model {spec['name']}", f"source {spec['source']}",
             "dims " + " ".join(f"{k}={v}" for k, v in spec["dims"].items()),
             f"steps {STEPS}"]
    params = dict(model.named_parameters())
    for name, p in params.items():
        if any(matches(pt, name) for pt in spec.get("frozen", [])):
            p.requires_grad_(False)  # still in the optimizer; torch skips it
    with torch.no_grad():
        for name, p in params.items():
            c, w = init_range(name, list(p.shape))
            p.copy_(torch.from_numpy(formula(name, p.numel(), c, w)).reshape(p.shape))
            lines.append(f"init {name} {p.numel()} {c!r} {w!r}")
    for name, p in params.items():
        lines.append(record("param0", 0, name, p, full=8, sample=8))

    kind, opts = spec["opt"]
    default = [p for n, p in params.items()
               if not any(matches(pt, n) for pts, _ in spec.get("groups", []) for pt in pts)]
    groups = [{"params": default}]
    for pts, o in spec.get("groups", []):
        groups.append({**o, "params": [p for n, p in params.items()
                                       if any(matches(pt, n) for pt in pts)]})
    opt = getattr(torch.optim, kind)(groups, **opts)

    model.train()
    for step in range(1, STEPS + 1):
        args = []
        for name, shape, gen in spec["inputs"]:
            key = f"{name}@{step}"
            if isinstance(gen, tuple):
                n = math.prod(shape)
                args.append(torch.from_numpy(formula(key, n, *gen)).reshape(shape))
                lines.append(f"finput {step} {name} {n} {gen[0]!r} {gen[1]!r}")
            else:
                v = gen(key, shape)
                args.append(v)
                lines.append(f"iinput {step} {name} {v.numel()} "
                             + " ".join(str(int(x)) for x in v.reshape(-1).tolist()))
        opt.zero_grad(set_to_none=False)
        loss = model(*args)
        loss.backward()
        lines.append(f"loss {step} {fmt(float(loss))}")
        trainable = [p for p in params.values() if p.requires_grad]
        for name, p in params.items():
            if p.requires_grad:
                lines.append(record("grad", step, name, p.grad))
        if "clip_grad_norm" in spec:
            torch.nn.utils.clip_grad_norm_(trainable, spec["clip_grad_norm"])
        opt.step()
        for name, p in params.items():
            lines.append(record("param", step, name, p))
        for name, b in model.named_buffers():
            lines.append(record("buffer", step, name, b))
    path = os.path.join(OUT, spec["name"] + ".golden")
    with open(path, "w") as f:
        f.write(f"# Written by test/golden/gen_library_goldens.py (torch {torch.__version__}); "
                "do not edit.\n")
        f.write("\n".join(lines) + "\n")
    print(f"wrote {os.path.relpath(path, ROOT)}: {os.path.getsize(path)} bytes")


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    for spec in MODELS:
        run(spec)


if __name__ == "__main__":
    main()
