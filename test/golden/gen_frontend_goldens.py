#!/usr/bin/python3
"""Writes frontend_goldens.json: PyTorch's values and gradients for the
functions and modules the front-end writes as PyTorch defines them
(Decompositions.cpp: leaky_relu, elu, softplus, the regression and binary
losses, kl_div, repeat; Layers.cpp: group_norm, conv1d, conv_transpose2d,
adaptive_avg_pool2d, interpolate, the recurrent layers,
multi-head attention, gather, one_hot, topk; the loss modules)
and eye.

Each case is a .graft model computing `y` from inputs (and the parameters
of the modules it declares), with the loss sum(y * w) (w a fixed random
weight, 1 for scalars), and torch's y, d loss / dx and d loss / d
parameter in float64. unittests/FrontendGoldensTest.cpp compiles each
source with the front-end, derives the backward pass, runs the evaluator
with the same parameters and compares.

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


def graft_type(t, f="f64"):
    dtype = {torch.int64: "i64", torch.bool: "bool"}.get(t.dtype, f)
    return dtype + "[" + ", ".join(str(d) for d in t.shape) + "]"


def case(name, call, fn, x, others=(), decls=(), module=None):
    """call: the Graft expression of y; fn(x, *others) torch's. others:
    (name, tensor) pairs, inputs without gradient. decls: lines declaring
    the modules `call` uses; module: the torch module (in float64) whose
    parameters they are, by state_dict name."""
    x = x.clone().double().requires_grad_(True)
    y = fn(x, *[t for _, t in others])
    # Beside a module's float32 parameters, float inputs are float32 too
    # (the test computes in float64 throughout).
    f = "f64" if module is None else "f32"
    w = torch.rand(y.shape, dtype=torch.float64) + 0.5 if y.dim() else \
        torch.ones((), dtype=torch.float64)
    (y * w).sum().backward()
    lines = [f"  input x: {graft_type(x, f)} requires_grad"]
    lines += ["  " + d for d in decls]
    inputs = {"x": enc(x)}
    for n, t in others:
        lines.append(f"  input {n}: {graft_type(t, f)}")
        inputs[n] = enc(t)
    loss = "y.sum()"
    if y.dim():
        lines.append(f"  input w: {graft_type(w, f)}")
        inputs["w"] = enc(w)
        loss = "(y * w).sum()"
    source = ("model m {\n" + "\n".join(lines) + f"\n  y = {call}\n"
              "  output y\n  train {\n    loss = " + loss +
              "\n    optimizer = SGD(lr=0.1)\n  }\n}\n")
    c = {"name": name, "source": source, "inputs": inputs,
         "y": enc(y), "grad_x": enc(x.grad)}
    if module is not None:
        c["params"] = {"m." + n: enc(p) for n, p in module.named_parameters()}
        c["grad_params"] = {"m." + n: enc(p.grad)
                            for n, p in module.named_parameters()}
    CASES.append(c)


def layer(name, decl, call, module, x, others=(), fn=None):
    """A case of one module `m` (decl: its Graft declaration), its
    parameters drawn from a normal distribution in float64. fn(m, x,
    *others): torch's y, m(x, *others) by default."""
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, dtype=torch.float64))
    fn = fn or (lambda m, x, *o: m(x, *o))
    case(name, call, lambda x, *o: fn(module, x, *o), x, others,
         decls=[f"m = {decl}"], module=module)


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

# Layers (Layers.cpp), with their parameters.
nn = torch.nn
layer("group_norm", "nn.GroupNorm(2, 6)", "m(x)", nn.GroupNorm(2, 6),
      torch.randn(2, 6, 3, 4))
case("group_norm_functional", "F.group_norm(x, 3, eps=0.01)",
     lambda x: F.group_norm(x, 3, eps=0.01), torch.randn(2, 6, 5))
layer("conv1d", "nn.Conv1d(3, 4, 3, stride=2, padding=1)", "m(x)",
      nn.Conv1d(3, 4, 3, stride=2, padding=1), torch.randn(2, 3, 9))
layer("conv1d_grouped_unbatched",
      "nn.Conv1d(4, 6, 2, dilation=2, groups=2, bias=False)", "m(x)",
      nn.Conv1d(4, 6, 2, dilation=2, groups=2, bias=False),
      torch.randn(4, 10))
layer("conv_transpose2d",
      "nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)",
      "m(x)", nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1,
                                 output_padding=1, groups=2),
      torch.randn(2, 4, 3, 5))
layer("conv_transpose2d_unbatched",
      "nn.ConvTranspose2d(3, 2, (2, 3), stride=(1, 3), padding=(0, 2), dilation=(2, 1))",
      "m(x)", nn.ConvTranspose2d(3, 2, (2, 3), stride=(1, 3), padding=(0, 2),
                                 dilation=(2, 1)),
      torch.randn(3, 4, 4))
# Padding beyond the kernel's reach: the stuffed input is cropped.
layer("conv_transpose2d_cropped",
      "nn.ConvTranspose2d(2, 2, 1, stride=2, padding=1, output_padding=1)",
      "m(x)", nn.ConvTranspose2d(2, 2, 1, stride=2, padding=1,
                                 output_padding=1),
      torch.randn(1, 2, 4, 4))
layer("adaptive_avg_pool2d_tiles", "nn.AdaptiveAvgPool2d((2, 3))", "m(x)",
      nn.AdaptiveAvgPool2d((2, 3)), torch.randn(2, 3, 4, 6))
case("adaptive_avg_pool2d_overlapping",
     "F.adaptive_avg_pool2d(x, (3, None))",
     lambda x: F.adaptive_avg_pool2d(x, (3, None)), torch.randn(2, 2, 5, 7))
case("adaptive_avg_pool2d_unbatched", "F.adaptive_avg_pool2d(x, (4, 3))",
     lambda x: F.adaptive_avg_pool2d(x, (4, 3)), torch.randn(2, 7, 5))
img = torch.randn(2, 3, 5, 4)
layer("upsample_nearest", "nn.Upsample(scale_factor=2)", "m(x)",
      nn.Upsample(scale_factor=2), img)
case("interpolate_nearest_size", "F.interpolate(x, size=(7, 9))",
     lambda x: F.interpolate(x, size=(7, 9)), img)
case("interpolate_nearest_fraction", "F.interpolate(x, scale_factor=1.5)",
     lambda x: F.interpolate(x, scale_factor=1.5), img)
case("interpolate_nearest_exact",
     "F.interpolate(x, size=(3, 7), mode='nearest-exact')",
     lambda x: F.interpolate(x, size=(3, 7), mode="nearest-exact"), img)
layer("upsample_bilinear",
      "nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False)",
      "m(x)", nn.Upsample(scale_factor=2, mode="bilinear",
                          align_corners=False), img)
case("interpolate_bilinear_align_corners",
     "F.interpolate(x, size=(8, 3), mode='bilinear', align_corners=True)",
     lambda x: F.interpolate(x, size=(8, 3), mode="bilinear",
                             align_corners=True), img)
case("interpolate_bilinear_fraction",
     "F.interpolate(x, scale_factor=(0.6, 1.7), mode='bilinear')",
     lambda x: F.interpolate(x, scale_factor=(0.6, 1.7), mode="bilinear"), img)
case("interpolate_linear",
     "F.interpolate(x, scale_factor=2.5, mode='linear', recompute_scale_factor=True)",
     lambda x: F.interpolate(x, scale_factor=2.5, mode="linear",
                             recompute_scale_factor=True), torch.randn(2, 3, 6))
case("interpolate_area", "F.interpolate(x, size=(3, 3), mode='area')",
     lambda x: F.interpolate(x, size=(3, 3), mode="area"), img)

# Loss modules: m(input, target).
scores = torch.randn(4, 5, dtype=torch.float64)
classes = torch.tensor([1, 0, 4, 2])
layer("cross_entropy_loss_module", "nn.CrossEntropyLoss(label_smoothing=0.1)",
      "m(x, t)", nn.CrossEntropyLoss(label_smoothing=0.1), scores,
      [("t", classes)])
layer("smooth_l1_loss_module", "nn.SmoothL1Loss(reduction='sum', beta=0.5)",
      "m(x, t)", nn.SmoothL1Loss(reduction="sum", beta=0.5), scores,
      [("t", torch.randn(4, 5, dtype=torch.float64))])
layer("kl_div_loss_module", "nn.KLDivLoss(reduction='batchmean')",
      "m(F.log_softmax(x, dim=1), t)", nn.KLDivLoss(reduction="batchmean"),
      scores, [("t", torch.softmax(torch.randn(4, 5, dtype=torch.float64), 1))],
      fn=lambda m, x, t: m(F.log_softmax(x, dim=1), t))

# Recurrent layers: outputs and final states, from given states or zeros.
def outputs_and_states(m, x, *hx):
    out, h = m(x, *hx)
    states = h if isinstance(h, tuple) else (h,)
    return torch.cat([out.flatten()] + [s.flatten() for s in states])


seq = torch.randn(3, 5, 4)
layer("lstm", "nn.LSTM(4, 6, num_layers=2, batch_first=True, bidirectional=True)",
      "torch.cat([m(x, (h, k))[0].flatten(), m(x, (h, k))[1][0].flatten(), "
      "m(x, (h, k))[1][1].flatten()])",
      nn.LSTM(4, 6, num_layers=2, batch_first=True, bidirectional=True), seq,
      [("h", torch.randn(4, 3, 6, dtype=torch.float64)),
       ("k", torch.randn(4, 3, 6, dtype=torch.float64))],
      fn=lambda m, x, h, k: outputs_and_states(m, x, (h, k)))
layer("gru_unbatched", "nn.GRU(4, 3)",
      "torch.cat([m(x)[0].flatten(), m(x)[1].flatten()])", nn.GRU(4, 3),
      torch.randn(5, 4), fn=outputs_and_states)
layer("rnn_relu", "nn.RNN(4, 2, nonlinearity='relu', bias=False)",
      "torch.cat([m(x)[0].flatten(), m(x)[1].flatten()])",
      nn.RNN(4, 2, nonlinearity="relu", bias=False), seq,
      fn=outputs_and_states)
layer("lstm_cell", "nn.LSTMCell(4, 5)",
      "torch.cat([m(x)[0].flatten(), m(x)[1].flatten()])", nn.LSTMCell(4, 5),
      torch.randn(2, 4), fn=lambda m, x: torch.cat([s.flatten() for s in m(x)]))
layer("gru_cell_unbatched", "nn.GRUCell(4, 5)", "m(x, h)", nn.GRUCell(4, 5),
      torch.randn(4), [("h", torch.randn(5, dtype=torch.float64))])

# Multi-head attention: outputs and the attention weights, self- and
# cross-attention, with boolean and float masks.
def attention_and_weights(m, *args, **kw):
    out, w = m(*args, **kw)
    return torch.cat([out.flatten(), w.flatten()])


tokens = torch.randn(2, 5, 8)
pad = torch.tensor([[False, False, False, True, True],
                    [False, False, False, False, False]])
layer("mha_self_padding", "nn.MultiheadAttention(8, 2, batch_first=True)",
      "torch.cat([m(x, x, x, key_padding_mask=p)[0].flatten(), "
      "m(x, x, x, key_padding_mask=p)[1].flatten()])",
      nn.MultiheadAttention(8, 2, batch_first=True), tokens, [("p", pad)],
      fn=lambda m, x, p: attention_and_weights(m, x, x, x,
                                               key_padding_mask=p))
memory = torch.randn(3, 2, 8, dtype=torch.float64)
layer("mha_cross_float_mask", "nn.MultiheadAttention(8, 4, bias=False)",
      "m(x, kv, kv, attn_mask=am, need_weights=False)[0]",
      nn.MultiheadAttention(8, 4, bias=False), torch.randn(4, 2, 8),
      [("kv", memory), ("am", torch.randn(4, 3, dtype=torch.float64))],
      fn=lambda m, x, kv, am: m(x, kv, kv, attn_mask=am,
                                need_weights=False)[0])
causal = torch.triu(torch.ones(4, 4, dtype=torch.bool), 1).repeat(2 * 2, 1, 1)
layer("mha_per_head_mask", "nn.MultiheadAttention(8, 2)",
      "torch.cat([m(x, x, x, attn_mask=c, average_attn_weights=False)[0].flatten(), "
      "m(x, x, x, attn_mask=c, average_attn_weights=False)[1].flatten()])",
      nn.MultiheadAttention(8, 2), torch.randn(4, 2, 8), [("c", causal)],
      fn=lambda m, x, c: attention_and_weights(m, x, x, x, attn_mask=c,
                                               average_attn_weights=False))
layer("mha_unbatched", "nn.MultiheadAttention(8, 2)",
      "torch.cat([m(x, x, x)[0].flatten(), m(x, x, x)[1].flatten()])",
      nn.MultiheadAttention(8, 2), torch.randn(5, 8),
      fn=lambda m, x: attention_and_weights(m, x, x, x))

# Gathers: the index smaller than the input in the other dimensions,
# repeated entries (their gradients add up), the last dimension; one_hot.
idx = torch.tensor([[[4, 0, 4], [1, 1, 2]], [[3, 3, 0], [2, 4, 1]]])
case("gather_middle", "torch.gather(x, 1, i)",
     lambda x, i: torch.gather(x, 1, i), torch.randn(3, 5, 4), [("i", idx)])
case("gather_last", "x.gather(-1, i)", lambda x, i: x.gather(-1, i),
     torch.randn(4, 6), [("i", torch.tensor([[5, 0, 5], [1, 2, 3], [0, 0, 0], [4, 3, 2]]))])
case("one_hot", "x * F.one_hot(t, num_classes=5).double()",
     lambda x, t: x * F.one_hot(t, num_classes=5).double(), torch.randn(6, 5),
     [("t", torch.tensor([0, 4, 2, 2, 1, 3]))])

# topk: values and indices (no ties: their order is unspecified in torch),
# the largest and the smallest.
case("topk", "torch.cat([torch.topk(x, 3).values.flatten(), "
     "torch.topk(x, 3).indices.flatten().double()])",
     lambda x: torch.cat([torch.topk(x, 3).values.flatten(),
                          torch.topk(x, 3).indices.flatten().double()]),
     torch.randn(3, 6))
case("topk_smallest_dim0", "x.topk(2, dim=0, largest=False).values",
     lambda x: x.topk(2, dim=0, largest=False).values, torch.randn(4, 3))

# Multi-head attention over keys and values of other sizes (kdim, vdim):
# separate q/k/v projection weights instead of in_proj_weight.
layer("mha_kdim_vdim", "nn.MultiheadAttention(8, 2, kdim=6, vdim=5)",
      "torch.cat([m(x, k, v)[0].flatten(), m(x, k, v)[1].flatten()])",
      nn.MultiheadAttention(8, 2, kdim=6, vdim=5), torch.randn(4, 2, 8),
      [("k", torch.randn(3, 2, 6, dtype=torch.float64)),
       ("v", torch.randn(3, 2, 5, dtype=torch.float64))],
      fn=lambda m, x, k, v: attention_and_weights(m, x, k, v))

# An LSTM with projections (proj_size): h_t = W_hr h_t, h of proj_size.
layer("lstm_proj", "nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3)",
      "torch.cat([m(x, (h, k))[0].flatten(), m(x, (h, k))[1][0].flatten(), "
      "m(x, (h, k))[1][1].flatten()])",
      nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3),
      torch.randn(5, 2, 4),
      [("h", torch.randn(4, 2, 3, dtype=torch.float64)),
       ("k", torch.randn(4, 2, 6, dtype=torch.float64))],
      fn=lambda m, x, h, k: outputs_and_states(m, x, (h, k)))

# 0-d targets and indices (PyTorch's unbatched forms): the lowering's
# gather maps then index the operand by no dimension at all.
case("cross_entropy_unbatched", "F.cross_entropy(x, t)", F.cross_entropy,
     torch.randn(5), [("t", torch.tensor(3))])
case("embedding_scalar_index", "F.embedding(i, x)",
     lambda x, i: F.embedding(i, x), torch.randn(5, 3), [("i", torch.tensor(2))])

# Clamps (graft.clamp: the bounds' gradient rules are its kinds') in every
# spelling, in place on a non-leaf, and tensor bounds (PyTorch's formula
# over where). Values at the bounds: clamp passes the gradient there,
# hardtanh does not.
c = torch.tensor([[-2.0, -0.5, -0.25, 0.0, 0.25], [0.5, 0.7, 1.0, 6.0, 0.75]])
case("clamp", "torch.clamp(x, -0.5, 0.5)", lambda x: torch.clamp(x, -0.5, 0.5), c)
case("clamp_method_min", "x.clamp(min=0.25)", lambda x: x.clamp(min=0.25), c)
case("clip_max", "torch.clip(x, max=0.25)", lambda x: torch.clip(x, max=0.25), c)
case("clamp_min", "x.clamp_min(0.0)", lambda x: x.clamp_min(0.0), c)
case("clamp_max", "torch.clamp_max(x, 0.7)", lambda x: torch.clamp_max(x, 0.7), c)
case("clamp_empty_range", "x.clamp(0.5, -0.5)", lambda x: x.clamp(0.5, -0.5), c)
case("hardtanh", "F.hardtanh(x, -0.5, 0.7)", lambda x: F.hardtanh(x, -0.5, 0.7), c)
case("relu6", "F.relu6(x * 6)", lambda x: F.relu6(x * 6), c)
case("hardtanh_module", "m(x)", lambda x: nn.Hardtanh(-0.25, 0.75)(x), c,
     decls=["m = nn.Hardtanh(-0.25, 0.75)"])
# In place: the gradient of the old version, read again after the write.
case("relu6_module_inplace", "m(x * 6) * 2",
     lambda x: nn.ReLU6(inplace=True)(x * 6) * 2, c,
     decls=["m = nn.ReLU6(inplace=True)"])
case("clamp_inplace", "(x * 2).clamp_(-0.5, 0.5)",
     lambda x: (x * 2).clamp_(-0.5, 0.5), c)
case("clamp_min_inplace", "(x * 2).clamp_min_(0.5)",
     lambda x: (x * 2).clamp_min_(0.5), c)
case("hardtanh_inplace", "F.hardtanh_(x * 2, 0.0, 1.0)",
     lambda x: F.hardtanh_(x * 2, 0.0, 1.0), c)
# The original self an in-place op saves is a copy: written again after.
case("mul_inplace_then_written", "(x * 2).mul_(x).mul_(3)",
     lambda x: (x * 2).mul_(x).mul_(3), c)
case("clamp_inplace_then_written", "(x * 2).clamp_(-0.5, 0.5).mul_(3)",
     lambda x: (x * 2).clamp_(-0.5, 0.5).mul_(3), c)
case("clamp_tensor_bounds", "torch.clamp(x, lo, hi)",
     lambda x, lo, hi: torch.clamp(x, lo, hi), c,
     [("lo", torch.full((2, 5), -0.25, dtype=torch.float64)),
      ("hi", torch.tensor([0.5, 0.25, 0.75, 1.0, 0.0], dtype=torch.float64))])
case("clamp_tensor_min", "x.clamp(min=lo)", lambda x, lo: x.clamp(min=lo), c,
     [("lo", torch.tensor([0.0, 0.25, -1.0, 0.5, 0.0], dtype=torch.float64))])
case("clamp_max_tensor", "x.clamp_max(hi)", lambda x, hi: x.clamp_max(hi), c,
     [("hi", torch.tensor([[0.0], [0.5]], dtype=torch.float64))])

print(json.dumps({"torch": torch.__version__, "cases": CASES}, indent=1))
