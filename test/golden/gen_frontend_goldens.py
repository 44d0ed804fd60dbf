#!/usr/bin/python3
"""Writes frontend_goldens.json: PyTorch's values and gradients for the
functions the front-end writes as PyTorch defines them (Decompositions.cpp:
leaky_relu, elu, softplus, the regression and binary losses, kl_div,
repeat) and eye.

Each case is a .graft model computing `y` from inputs, with the loss
sum(y * w) (w a fixed random weight, 1 for scalars), and torch's y and
d loss / dx in float64. unittests/FrontendGoldensTest.cpp compiles each
source with the front-end, derives the backward pass, runs the evaluator
and compares.

Run with Debian's PyTorch:
    /usr/bin/python3 test/golden/gen_frontend_goldens.py > test/golden/frontend_goldens.json
"""
import json

import torch
import torch.nn.functional as F

torch.manual_seed(0)
CASES = []


def enc(t):
    return {"shape": list(t.shape),
            "data": [float(f"{v:.17g}") for v in t.detach().reshape(-1).tolist()]}


def graft_type(t):
    dtype = "i64" if t.dtype == torch.int64 else "f64"
    return dtype + "[" + ", ".join(str(d) for d in t.shape) + "]"


def case(name, call, fn, x, others=()):
    """call: the Graft expression of y; fn(x, *others) torch's. others:
    (name, tensor) pairs, inputs without gradient."""
    x = x.clone().double().requires_grad_(True)
    y = fn(x, *[t for _, t in others])
    w = torch.rand(y.shape, dtype=torch.float64) + 0.5 if y.dim() else \
        torch.ones((), dtype=torch.float64)
    (y * w).sum().backward()
    lines = [f"  input x: {graft_type(x)} requires_grad"]
    inputs = {"x": enc(x)}
    for n, t in others:
        lines.append(f"  input {n}: {graft_type(t)}")
        inputs[n] = enc(t)
    loss = "y.sum()"
    if y.dim():
        lines.append(f"  input w: {graft_type(w)}")
        inputs["w"] = enc(w)
        loss = "(y * w).sum()"
    source = ("model m {\n" + "\n".join(lines) + f"\n  y = {call}\n"
              "  output y\n  train {\n    loss = " + loss +
              "\n    optimizer = SGD(lr=0.1)\n  }\n}\n")
    CASES.append({"name": name, "source": source, "inputs": inputs,
                  "y": enc(y), "grad_x": enc(x.grad)})


# Activations, at 0, both sides, and where an unselected branch would
# overflow.
a = torch.tensor([[-3.0, -0.5, 0.0, 0.25, 2.0], [-40.0, 1e-3, -1e-3, 30.0, 5.0]])
case("leaky_relu", "F.leaky_relu(x, 0.2)", lambda x: F.leaky_relu(x, 0.2), a)
case("leaky_relu_default", "x.leaky_relu()", lambda x: F.leaky_relu(x), a)
case("elu", "F.elu(x, alpha=1.5)", lambda x: F.elu(x, alpha=1.5), a)
case("softplus", "F.softplus(x, beta=2, threshold=5)",
     lambda x: F.softplus(x, beta=2, threshold=5), a)
case("softplus_default", "F.softplus(x)", lambda x: F.softplus(x), a * 10)

# Regression losses.
x = torch.randn(3, 4, dtype=torch.float64)
t = torch.randn(3, 4, dtype=torch.float64)
t[0, 0] = x[0, 0] + 0.1  # inside the quadratic zone of both
case("l1_loss", "F.l1_loss(x, t)", F.l1_loss, x, [("t", t)])
case("l1_loss_sum", "F.l1_loss(x, t, reduction='sum')",
     lambda x, t: F.l1_loss(x, t, reduction="sum"), x, [("t", t)])
case("smooth_l1_loss", "F.smooth_l1_loss(x, t, beta=0.5)",
     lambda x, t: F.smooth_l1_loss(x, t, beta=0.5), x, [("t", t)])
case("smooth_l1_loss_none", "F.smooth_l1_loss(x, t, reduction='none')",
     lambda x, t: F.smooth_l1_loss(x, t, reduction="none"), x, [("t", t)])
case("huber_loss", "F.huber_loss(x, t, reduction='sum', delta=0.7)",
     lambda x, t: F.huber_loss(x, t, reduction="sum", delta=0.7), x, [("t", t)])

# Binary losses: probabilities, logits (with large ones), weights.
logits = torch.tensor([[-2.0, 0.5, 3.0], [40.0, -40.0, 0.0]], dtype=torch.float64)
labels = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.3]], dtype=torch.float64)
weight = torch.tensor([[1.0, 2.0, 0.5], [1.5, 1.0, 3.0]], dtype=torch.float64)
pos = torch.tensor([2.0, 0.5, 1.0], dtype=torch.float64)
case("binary_cross_entropy", "F.binary_cross_entropy(torch.sigmoid(x), t, weight=k)",
     lambda x, t, k: F.binary_cross_entropy(torch.sigmoid(x), t, weight=k),
     logits / 10, [("t", labels), ("k", weight)])
case("binary_cross_entropy_with_logits",
     "F.binary_cross_entropy_with_logits(x, t)",
     F.binary_cross_entropy_with_logits, logits, [("t", labels)])
case("binary_cross_entropy_with_logits_pos_weight",
     "F.binary_cross_entropy_with_logits(x, t, weight=k, reduction='none', pos_weight=p)",
     lambda x, t, k, p: F.binary_cross_entropy_with_logits(
         x, t, weight=k, reduction="none", pos_weight=p),
     logits, [("t", labels), ("k", weight), ("p", pos)])

# KL divergence: log-probabilities against probabilities (one zero) or
# log-probabilities.
scores = torch.randn(2, 4, dtype=torch.float64)
probs = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.0, 0.5, 0.25, 0.25]], dtype=torch.float64)
case("kl_div_batchmean", "F.kl_div(F.log_softmax(x, dim=-1), t, reduction='batchmean')",
     lambda x, t: F.kl_div(F.log_softmax(x, dim=-1), t, reduction="batchmean"),
     scores, [("t", probs)])
case("kl_div_log_target", "F.kl_div(x, t, reduction='sum', log_target=True)",
     lambda x, t: F.kl_div(x, t, reduction="sum", log_target=True),
     F.log_softmax(scores, dim=-1), [("t", torch.log(probs + 0.05))])

# Tensor building: repeat (tiling, new leading dimensions), eye.
r = torch.randn(2, 3, dtype=torch.float64)
case("repeat", "x.repeat(2, 1, 2)", lambda x: x.repeat(2, 1, 2), r)
case("eye", "x @ torch.eye(3, 4, dtype=torch.float64)",
     lambda x: x @ torch.eye(3, 4, dtype=torch.float64), r)

# index_select along a middle dimension, an index repeated.
v = torch.randn(2, 4, 3, dtype=torch.float64)
idx = torch.tensor([3, 0, 3], dtype=torch.int64)
case("index_select", "torch.index_select(x, 1, i)",
     lambda x, i: torch.index_select(x, 1, i), v, [("i", idx)])

print(json.dumps({"torch": torch.__version__, "cases": CASES}, indent=1))
