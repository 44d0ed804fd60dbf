#!/usr/bin/python3
"""Writes evaluator_goldens.inc: forward values of every graft op computed by
PyTorch, for unittests/EvaluatorTest.cpp.

Run with Debian's PyTorch:  /usr/bin/python3 test/golden/gen_evaluator_goldens.py
Each case is a small graft model (f64 unless said otherwise) with its feeds
and the outputs PyTorch computes for the same op. The build does not need
torch: the generated file is committed.
"""
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
D = torch.float64
CASES = []


def ty(t):
    dt = {torch.float64: "f64", torch.float32: "f32", torch.bfloat16: "bf16",
          torch.int64: "i64", torch.bool: "i1"}[t.dtype]
    dims = "x".join(str(d) for d in t.shape)
    return f"tensor<{dims}x{dt}>" if dims else f"tensor<{dt}>"


def rn(*shape):
    return torch.randn(*shape, dtype=D)


def case(name, feeds, body, outs, train=True):
    """feeds: [(name, tensor, 'input'|'buffer')]; body: IR lines that may use
    %<feed name>; outs: [(output name, ssa name, torch tensor)]."""
    lines = []
    for fname, t, kind in feeds:
        if kind == "buffer":
            lines.append(f'%{fname} = graft.buffer "{fname}" init <zeros> : {ty(t)}')
        else:
            lines.append(f'%{fname} = graft.input "{fname}" : {ty(t)}')
    lines += body
    for oname, ssa, t in outs:
        lines.append(f'graft.output "{oname}" %{ssa} : {ty(t)}')
    ir = "graft.model @m {\n" + "\n".join("  " + l for l in lines) + "\n}\n"
    CASES.append((name, train, ir, [(n, t) for n, t, _ in feeds],
                  [(n, t) for n, _, t in outs]))


def bin_case(op, fn, a, b):
    r = fn(a, b)
    case(op, [("a", a, "input"), ("b", b, "input")],
         [f"%r = graft.{op} %a, %b : ({ty(a)}, {ty(b)}) -> {ty(r)}"],
         [("r", "r", r)])


# Elementwise binary ops with broadcasting.
a, b = rn(4, 1), rn(3)
bin_case("add", torch.add, a, b)
bin_case("sub", torch.sub, a, b)
bin_case("mul", torch.mul, a, b)
bin_case("div", torch.div, a, b)
bin_case("maximum", torch.maximum, rn(2, 3), rn(2, 1))
bin_case("minimum", torch.minimum, rn(2, 3), rn(3))
bin_case("pow", torch.pow, rn(2, 3).abs() + 0.1, rn(3))

# Unary ops.
x = rn(2, 3)
for op, fn, inp in [("neg", torch.neg, x), ("exp", torch.exp, x),
                    ("log", torch.log, x.abs() + 0.1),
                    ("sqrt", torch.sqrt, x.abs()),
                    ("rsqrt", torch.rsqrt, x.abs() + 0.1),
                    ("abs", torch.abs, x), ("relu", torch.relu, x),
                    ("silu", F.silu, x), ("tanh", torch.tanh, x),
                    ("sigmoid", torch.sigmoid, x), ("erf", torch.erf, x),
                    ("hardswish", F.hardswish, 4 * x),
                    ("hardsigmoid", F.hardsigmoid, 4 * x),
                    ("log1p", torch.log1p, x.abs() - 0.5),
                    ("mish", F.mish, 4 * x), ("sin", torch.sin, 4 * x),
                    ("cos", torch.cos, 4 * x)]:
    case(op, [("x", inp, "input")], [f"%r = graft.{op} %x : {ty(inp)}"],
         [("r", "r", fn(inp))])
case("gelu", [("x", x, "input")],
     [f"%r = graft.gelu %x : {ty(x)}",
      f"%t = graft.gelu %x {{approximate = #graft<gelu_approximation tanh>}} : {ty(x)}"],
     [("r", "r", F.gelu(x)), ("t", "t", F.gelu(x, approximate="tanh"))])

# In-place ops: results are new versions, computed like their twins.
s, o = rn(4, 3), rn(3)
for op, fn in [("add_", torch.add), ("sub_", torch.sub), ("mul_", torch.mul),
               ("div_", torch.div)]:
    case(op, [("s", s, "input"), ("o", o, "input")],
         [f"%r = graft.{op} %s, %o : {ty(s)}, {ty(o)}"],
         [("r", "r", fn(s, o))])
for op, fn in [("relu_", torch.relu), ("exp_", torch.exp),
               ("sigmoid_", torch.sigmoid), ("tanh_", torch.tanh),
               ("zero_", torch.zeros_like)]:
    case(op, [("s", s, "input")], [f"%r = graft.{op} %s : {ty(s)}"],
         [("r", "r", fn(s))])
case("clamp", [("s", s, "input")],
     [f"%r = graft.clamp %s {{kind = #graft<clamp_kind clamp>, max = 0.5 : f64, min = -0.5 : f64}} : {ty(s)}",
      f"%h = graft.clamp %s {{kind = #graft<clamp_kind hardtanh>, max = 6.0 : f64, min = 0.0 : f64}} : {ty(s)}",
      f"%u = graft.clamp %s {{kind = #graft<clamp_kind clamp_max>, max = 0.25 : f64}} : {ty(s)}",
      f"%q = graft.clamp_ %s {{kind = #graft<clamp_kind clamp_min>, min = 0.1 : f64}} : {ty(s)}"],
     [("r", "r", torch.clamp(s, -0.5, 0.5)), ("h", "h", F.relu6(s)),
      ("u", "u", s.clamp_max(0.25)), ("q", "q", s.clamp_min(0.1))])

# where, masked_fill(_), compare, cast.
m = torch.rand(4, 3) > 0.5
wa, wb = rn(4, 3), rn(3)
case("where", [("m", m, "input"), ("a", wa, "input"), ("b", wb, "input")],
     [f"%r = graft.where %m, %a, %b : ({ty(m)}, {ty(wa)}, {ty(wb)}) -> tensor<4x3xf64>"],
     [("r", "r", torch.where(m, wa, wb))])
mrow = torch.tensor([True, False, True])
case("masked_fill", [("s", s, "input"), ("m", mrow, "input")],
     [f"%r = graft.masked_fill %s, %m {{value = -2.5 : f64}} : ({ty(s)}, {ty(mrow)}) -> {ty(s)}",
      f"%q = graft.masked_fill_ %s, %m {{value = 7.0 : f64}} : {ty(s)}, {ty(mrow)}"],
     [("r", "r", s.masked_fill(mrow, -2.5)), ("q", "q", s.masked_fill(mrow, 7.0))])
ca, cb = torch.tensor([1., 2., 3., 4.], dtype=D), torch.tensor([2., 2., 2., 5.], dtype=D)
body, outs = [], []
for p, fn in [("eq", torch.eq), ("ne", torch.ne), ("lt", torch.lt),
              ("le", torch.le), ("gt", torch.gt), ("ge", torch.ge)]:
    body.append(f"%{p} = graft.compare {p}, %a, %b : ({ty(ca)}, {ty(cb)}) -> tensor<4xi1>")
    outs.append((p, p, fn(ca, cb)))
ia, ib = torch.tensor([3, -1, 7]), torch.tensor([3, 0, 9])
body.append(f"%ieq = graft.compare le, %ia, %ib : ({ty(ia)}, {ty(ib)}) -> tensor<3xi1>")
outs.append(("ieq", "ieq", ia <= ib))
case("compare", [("a", ca, "input"), ("b", cb, "input"), ("ia", ia, "input"),
                 ("ib", ib, "input")], body, outs)
cx = torch.tensor([-2.7, -0.5, 0.0, 0.5, 2.7, 1e10], dtype=D)
ci = torch.tensor([-3, 0, 5])
case("cast", [("x", cx, "input"), ("i", ci, "input")],
     [f"%toi = graft.cast %x : {ty(cx)} -> tensor<6xi64>",
      f"%tob = graft.cast %x : {ty(cx)} -> tensor<6xi1>",
      f"%tof = graft.cast %x : {ty(cx)} -> tensor<6xf32>",
      f"%itof = graft.cast %i : {ty(ci)} -> tensor<3xf64>"],
     [("toi", "toi", cx.to(torch.int64)), ("tob", "tob", cx.to(torch.bool)),
      ("tof", "tof", cx.to(torch.float32)), ("itof", "itof", ci.to(D))])

# matmul: every rank combination PyTorch has.
for name, sa, sb in [("matmul_dot", (3,), (3,)), ("matmul_vm", (3,), (3, 2)),
                     ("matmul_mv", (2, 3), (3,)), ("matmul_mm", (2, 3), (3, 4)),
                     ("matmul_bcast", (2, 1, 2, 3), (3, 3, 2)),
                     ("matmul_bv", (2, 2, 3), (3,)), ("matmul_vb", (3,), (2, 3, 2))]:
    a, b = rn(*sa), rn(*sb)
    bin_case("matmul", torch.matmul, a, b)
    CASES[-1] = (name,) + CASES[-1][1:]
x, w, bias = rn(2, 3, 4), rn(5, 4), rn(5)
case("linear", [("x", x, "input"), ("w", w, "input"), ("b", bias, "input")],
     [f"%r = graft.linear %x, %w, %b : ({ty(x)}, {ty(w)}, {ty(bias)}) -> tensor<2x3x5xf64>",
      f"%n = graft.linear %x, %w : ({ty(x)}, {ty(w)}) -> tensor<2x3x5xf64>"],
     [("r", "r", F.linear(x, w, bias)), ("n", "n", F.linear(x, w))])

# Reductions.
x = rn(2, 3, 4)
body, outs = [], []
for op, fn in [("sum", torch.sum), ("mean", torch.mean), ("max", torch.amax)]:
    body.append(f"%{op}_all = graft.{op} %x : {ty(x)} -> tensor<f64>")
    outs.append((f"{op}_all", f"{op}_all", fn(x)))
    body.append(f"%{op}_02 = graft.{op} %x {{dims = array<i64: 0, 2>}} : {ty(x)} -> tensor<3xf64>")
    outs.append((f"{op}_02", f"{op}_02", fn(x, dim=(0, 2))))
    body.append(f"%{op}_1k = graft.{op} %x {{dims = array<i64: 1>, keepdim = true}} : {ty(x)} -> tensor<2x1x4xf64>")
    outs.append((f"{op}_1k", f"{op}_1k", fn(x, dim=1, keepdim=True)))
ax = torch.tensor([[1., 3., 3., 0.], [5., 2., 5., 5.]], dtype=D)
body.append(f"%am = graft.argmax %ax {{dim = 1 : i64}} : {ty(ax)} -> tensor<2xi64>")
outs.append(("am", "am", torch.argmax(ax, 1)))
body.append(f"%am0 = graft.argmax %ax {{dim = 0 : i64, keepdim = true}} : {ty(ax)} -> tensor<1x4xi64>")
outs.append(("am0", "am0", torch.argmax(ax, 0, keepdim=True)))
case("reductions", [("x", x, "input"), ("ax", ax, "input")], body, outs)

# Shapes and layout.
x, y, v = rn(2, 3, 4), rn(2, 2, 4), rn(3, 1)
case("layout", [("x", x, "input"), ("y", y, "input"), ("v", v, "input")],
     [f"%rs = graft.reshape %x : {ty(x)} -> tensor<6x4xf64>",
      f"%tr = graft.transpose %x {{dim0 = 0 : i64, dim1 = 2 : i64}} : {ty(x)} -> tensor<4x3x2xf64>",
      f"%pm = graft.permute %x {{dims = array<i64: 1, 2, 0>}} : {ty(x)} -> tensor<3x4x2xf64>",
      "%bc = graft.broadcast_to %v : tensor<3x1xf64> -> tensor<2x3x4xf64>",
      f"%sl = graft.slice %x {{dim = 2 : i64, start = 1 : i64, end = 4 : i64, step = 2 : i64}} : {ty(x)} -> tensor<2x3x2xf64>",
      f"%sc = graft.slice %x {{dim = 1 : i64, start = 1 : i64, end = 100 : i64}} : {ty(x)} -> tensor<2x2x4xf64>",
      f"%ct = graft.concat %x, %y {{dim = 1 : i64}} : ({ty(x)}, {ty(y)}) -> tensor<2x5x4xf64>",
      f"%dt = graft.detach %x : {ty(x)}",
      f"%cl = graft.clone %x : {ty(x)}"],
     [("rs", "rs", x.reshape(6, 4)), ("tr", "tr", x.transpose(0, 2)),
      ("pm", "pm", x.permute(1, 2, 0)), ("bc", "bc", v.expand(2, 3, 4)),
      ("sl", "sl", x[:, :, 1:4:2]), ("sc", "sc", x[:, 1:100]),
      ("ct", "ct", torch.cat([x, y], 1)), ("dt", "dt", x), ("cl", "cl", x)])

# Softmax.
x = rn(2, 3, 4)
case("softmax", [("x", x, "input")],
     [f"%s1 = graft.softmax %x {{dim = 1 : i64}} : {ty(x)}",
      f"%l2 = graft.log_softmax %x {{dim = 2 : i64}} : {ty(x)}"],
     [("s1", "s1", F.softmax(x, 1)), ("l2", "l2", F.log_softmax(x, 2))])

# Convolution.
for name, xs, ws, kw in [
        ("conv2d", (2, 3, 5, 6), (4, 3, 3, 2), dict()),
        ("conv2d_strided", (1, 2, 7, 7), (3, 2, 3, 3), dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1))),
        ("conv2d_groups", (2, 4, 5, 5), (6, 2, 3, 3), dict(padding=(1, 1), groups=2))]:
    x, w, bias = rn(*xs), rn(*ws), rn(ws[0])
    r = F.conv2d(x, w, bias, **kw)
    attrs = []
    for k in ("stride", "padding", "dilation"):
        if k in kw:
            attrs.append(f"{k} = array<i64: {kw[k][0]}, {kw[k][1]}>")
    if "groups" in kw:
        attrs.append(f"groups = {kw['groups']} : i64")
    ad = "{" + ", ".join(attrs) + "} " if attrs else ""
    # Backward ops checked against PyTorch's own gradients.
    gy = rn(*r.shape)
    xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()
    gx, gw = torch.autograd.grad(F.conv2d(xg, wg, bias, **kw), (xg, wg), gy)
    case(name, [("x", x, "input"), ("w", w, "input"), ("b", bias, "input"), ("gy", gy, "input")],
         [f"%r = graft.conv2d %x, %w, %b {ad}: ({ty(x)}, {ty(w)}, {ty(bias)}) -> {ty(r)}",
          f"%gx = graft.conv2d_backward_input %gy, %w {ad}: ({ty(gy)}, {ty(w)}) -> {ty(x)}",
          f"%gw = graft.conv2d_backward_weight %gy, %x {ad}: ({ty(gy)}, {ty(x)}) -> {ty(w)}"],
         [("r", "r", r), ("gx", "gx", gx), ("gw", "gw", gw)])

# Pooling, with the backward ops.
for name, xs, kw in [
        ("max_pool2d", (1, 2, 5, 5), dict(kernel_size=(2, 2), stride=(2, 2))),
        ("max_pool2d_pad_ceil", (2, 1, 6, 7), dict(kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), dilation=(1, 2), ceil_mode=True)),
        ("avg_pool2d", (1, 2, 5, 5), dict(kernel_size=(2, 2), stride=(2, 2))),
        ("avg_pool2d_pad_ceil", (2, 1, 6, 7), dict(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=True)),
        ("avg_pool2d_no_pad_count", (2, 1, 6, 7), dict(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=True, count_include_pad=False))]:
    is_max = name.startswith("max")
    x = rn(*xs)
    if name == "max_pool2d":  # ties: the first maximum gets the gradient
        x[0, 0, 0, :2] = 3.0
        x[0, 0, 1, :2] = 3.0
    fn = F.max_pool2d if is_max else F.avg_pool2d
    r = fn(x, **kw)
    gy = rn(*r.shape)
    xg = x.clone().requires_grad_()
    (gx,) = torch.autograd.grad(fn(xg, **kw), (xg,), gy)
    attrs = [f"kernel_size = array<i64: {kw['kernel_size'][0]}, {kw['kernel_size'][1]}>",
             f"stride = array<i64: {kw['stride'][0]}, {kw['stride'][1]}>"]
    for k in ("padding", "dilation"):
        if k in kw:
            attrs.append(f"{k} = array<i64: {kw[k][0]}, {kw[k][1]}>")
    if kw.get("ceil_mode"):
        attrs.append("ceil_mode = true")
    if "count_include_pad" in kw:
        attrs.append("count_include_pad = false")
    ad = "{" + ", ".join(attrs) + "}"
    op = "max_pool2d" if is_max else "avg_pool2d"
    bwd = (f"%gx = graft.max_pool2d_backward %gy, %x {ad} : ({ty(gy)}, {ty(x)}) -> {ty(x)}"
           if is_max else f"%gx = graft.avg_pool2d_backward %gy {ad} : {ty(gy)} -> {ty(x)}")
    case(name, [("x", x, "input"), ("gy", gy, "input")],
         [f"%r = graft.{op} %x {ad} : {ty(x)} -> {ty(r)}", bwd],
         [("r", "r", r), ("gx", "gx", gx)])

# Normalisation.
x, g, bb = rn(2, 3, 4), rn(4), rn(4)
case("layer_norm", [("x", x, "input"), ("g", g, "input"), ("b", bb, "input")],
     [f"%r = graft.layer_norm %x weight %g bias %b {{normalized_shape = array<i64: 4>}} : ({ty(x)}, {ty(g)}, {ty(bb)}) -> {ty(x)}",
      f"%n = graft.layer_norm %x {{normalized_shape = array<i64: 3, 4>, eps = 1.0e-3 : f64}} : ({ty(x)}) -> {ty(x)}"],
     [("r", "r", F.layer_norm(x, (4,), g, bb)),
      ("n", "n", F.layer_norm(x, (3, 4), eps=1e-3))])
x, g, bb = rn(4, 3, 2, 2), rn(3), rn(3)
rm, rv = rn(3), rn(3).abs() + 0.5
for train in (True, False):
    rm2, rv2 = rm.clone(), rv.clone()
    r = F.batch_norm(x, rm2, rv2, g, bb, training=train, momentum=0.2)
    case("batch_norm_" + ("train" if train else "eval"),
         [("x", x, "input"), ("g", g, "input"), ("b", bb, "input"),
          ("bn.running_mean", rm, "buffer"), ("bn.running_var", rv, "buffer")],
         [f"%r = graft.batch_norm %x weight %g bias %b running %bn.running_mean, %bn.running_var {{momentum = 0.2 : f64}} : ({ty(x)}, {ty(g)}, {ty(bb)}, {ty(rm)}, {ty(rv)}) -> {ty(x)}"],
         [("r", "r", r)], train=train)
    CASES[-1][4].extend([("buffer:bn.running_mean", rm2), ("buffer:bn.running_var", rv2)])
# F.batch_norm(training=False) in a train-mode model: running statistics,
# which stay unchanged.
case("batch_norm_training_false",
     [("x", x, "input"), ("bn.running_mean", rm, "buffer"), ("bn.running_var", rv, "buffer")],
     [f"%r = graft.batch_norm %x running %bn.running_mean, %bn.running_var {{training = false}} : ({ty(x)}, {ty(rm)}, {ty(rv)}) -> {ty(x)}"],
     [("r", "r", F.batch_norm(x, rm.clone(), rv.clone(), training=False))])
CASES[-1][4].extend([("buffer:bn.running_mean", rm), ("buffer:bn.running_var", rv)])

# Embedding, attention.
w = rn(6, 3)
idx = torch.tensor([[0, 2, 5], [2, 2, 1]])
gy = rn(2, 3, 3)
wg = w.clone().requires_grad_()
(gw,) = torch.autograd.grad(F.embedding(idx, wg, padding_idx=2), (wg,), gy)
case("embedding", [("w", w, "input"), ("i", idx, "input"), ("gy", gy, "input")],
     [f"%r = graft.embedding %w, %i {{padding_idx = 2 : i64}} : ({ty(w)}, {ty(idx)}) -> tensor<2x3x3xf64>",
      f"%gw = graft.embedding_backward %gy, %i {{padding_idx = 2 : i64}} : ({ty(gy)}, {ty(idx)}) -> {ty(w)}",
      f"%oh = graft.one_hot %i : {ty(idx)} -> tensor<2x3x4xf64>"],
     [("r", "r", F.embedding(idx, w, padding_idx=2)), ("gw", "gw", gw),
      ("oh", "oh", (F.one_hot(idx.clamp(max=3), 4) * (idx < 4).unsqueeze(-1)).to(D))])


def sdpa(q, k, v, causal=False, scale=None):
    # PyTorch 1.13 has no F.scaled_dot_product_attention: its definition.
    s = q @ k.transpose(-2, -1) * (scale if scale is not None else 1 / math.sqrt(q.shape[-1]))
    if causal:
        L, S = q.shape[-2], k.shape[-2]
        s = s.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), float("-inf"))
    return torch.softmax(s, -1) @ v


q, k, v = rn(2, 3, 4), rn(2, 5, 4), rn(2, 5, 2)
case("attention", [("q", q, "input"), ("k", k, "input"), ("v", v, "input")],
     [f"%r = graft.scaled_dot_product_attention %q, %k, %v : ({ty(q)}, {ty(k)}, {ty(v)}) -> tensor<2x3x2xf64>",
      f"%c = graft.scaled_dot_product_attention %q, %k, %v {{is_causal = true, scale = 0.25 : f64}} : ({ty(q)}, {ty(k)}, {ty(v)}) -> tensor<2x3x2xf64>"],
     [("r", "r", sdpa(q, k, v)), ("c", "c", sdpa(q, k, v, True, 0.25))])

# Losses.
logits, tgt = rn(5, 4), torch.tensor([1, 0, 3, 3, 2])
body, outs = [], []
for red in ("mean", "sum", "none"):
    rt = "tensor<5xf64>" if red == "none" else "tensor<f64>"
    body.append(f"%ce_{red} = graft.cross_entropy %x, %t {{ignore_index = 3 : i64, label_smoothing = 0.2 : f64, reduction = #graft<reduction {red}>}} : ({ty(logits)}, {ty(tgt)}) -> {rt}")
    outs.append((f"ce_{red}", f"ce_{red}", F.cross_entropy(logits, tgt, ignore_index=3, label_smoothing=0.2, reduction=red)))
    body.append(f"%nll_{red} = graft.nll_loss %x, %t {{ignore_index = 0 : i64, reduction = #graft<reduction {red}>}} : ({ty(logits)}, {ty(tgt)}) -> {rt}")
    outs.append((f"nll_{red}", f"nll_{red}", F.nll_loss(logits, tgt, ignore_index=0, reduction=red)))
    body.append(f"%mse_{red} = graft.mse_loss %x, %y {{reduction = #graft<reduction {red}>}} : ({ty(logits)}, {ty(logits)}) -> {'tensor<5x4xf64>' if red == 'none' else 'tensor<f64>'}")
y = rn(5, 4)
for red in ("mean", "sum", "none"):
    outs.append((f"mse_{red}", f"mse_{red}", F.mse_loss(logits, y, reduction=red)))
body.append(f"%ce_plain = graft.cross_entropy %x, %t : ({ty(logits)}, {ty(tgt)}) -> tensor<f64>")
outs.append(("ce_plain", "ce_plain", F.cross_entropy(logits, tgt)))
case("losses", [("x", logits, "input"), ("t", tgt, "input"), ("y", y, "input")], body, outs)
x4, t4 = rn(2, 3, 2, 2), torch.tensor([[[0, 2], [1, 1]], [[2, 0], [0, 1]]])
x1, t1 = rn(3), torch.tensor(2)
case("cross_entropy_spatial", [("x", x4, "input"), ("t", t4, "input"), ("u", x1, "input"), ("s", t1, "input")],
     [f"%r = graft.cross_entropy %x, %t {{label_smoothing = 0.1 : f64}} : ({ty(x4)}, {ty(t4)}) -> tensor<f64>",
      f"%n = graft.cross_entropy %x, %t {{reduction = #graft<reduction none>}} : ({ty(x4)}, {ty(t4)}) -> {ty(t4).replace('i64', 'f64')}",
      f"%one = graft.cross_entropy %u, %s : ({ty(x1)}, {ty(t1)}) -> tensor<f64>"],
     [("r", "r", F.cross_entropy(x4, t4, label_smoothing=0.1)),
      ("n", "n", F.cross_entropy(x4, t4, reduction="none")),
      ("one", "one", F.cross_entropy(x1, t1))])

# Grad-mode regions, hooks and marks: values pass through unchanged.
x = rn(3)
case("regions", [("x", x, "input")],
     [f"%a = graft.no_grad -> {ty(x)} {{",
      f"  %e = graft.exp %x : {ty(x)}",
      f"  graft.yield %e : {ty(x)}",
      "}",
      f"%b = graft.inference -> {ty(x)} {{",
      f"  %r = graft.relu %x : {ty(x)}",
      f"  graft.yield %r : {ty(x)}",
      "}",
      f'%h = graft.grad_hook "hx" %a : {ty(x)}',
      f'%hc = graft.hook_call "hx" %b : {ty(x)}',
      f"%sb = graft.slice_backward %x {{dim = 0 : i64, start = 1 : i64, end = 7 : i64, step = 2 : i64}} : {ty(x)} -> tensor<7xf64>",
      f"%d = graft.dropout %x {{p = 0.5 : f64}} : {ty(x)}",
      "graft.train sgd {lr = 0.1 : f64}"],
     [("a", "a", torch.exp(x)), ("b", "b", torch.relu(x)), ("h", "h", torch.exp(x)),
      ("hc", "hc", torch.relu(x)),
      ("sb", "sb", torch.zeros(7, dtype=D).index_put_((torch.tensor([1, 3, 5]),), x)),
      ("d", "d", x)], train=False)

# f32 and bf16: the evaluator rounds each result to the IR type, so it
# matches PyTorch's f32 / bf16 kernels closely (EvaluatorTest's tolerance
# depends on the output type).
F32 = torch.float32
x, w, bias, g = rn(4, 5).to(F32), rn(3, 5).to(F32), rn(3).to(F32), rn(3).to(F32)
h = F.linear(x, w, bias)
case("f32_chain", [("x", x, "input"), ("w", w, "input"), ("b", bias, "input"), ("g", g, "input")],
     [f"%h = graft.linear %x, %w, %b : ({ty(x)}, {ty(w)}, {ty(bias)}) -> {ty(h)}",
      f"%a = graft.gelu %h : {ty(h)}",
      f"%n = graft.layer_norm %a weight %g {{normalized_shape = array<i64: 3>}} : ({ty(h)}, {ty(g)}) -> {ty(h)}",
      f"%s = graft.softmax %n {{dim = 1 : i64}} : {ty(h)}",
      f"%m = graft.mean %s {{dims = array<i64: 0>}} : {ty(h)} -> tensor<3xf32>"],
     [("h", "h", h), ("s", "s", F.softmax(F.layer_norm(F.gelu(h), (3,), g), 1)),
      ("m", "m", F.softmax(F.layer_norm(F.gelu(h), (3,), g), 1).mean(0))])
BF = torch.bfloat16
a, b = rn(6).to(BF), rn(6).to(BF)
case("bf16_elementwise", [("a", a, "input"), ("b", b, "input")],
     [f"%p = graft.mul %a, %b : ({ty(a)}, {ty(b)}) -> {ty(a)}",
      f"%e = graft.exp %a : {ty(a)}",
      f"%r = graft.add %p, %e : ({ty(a)}, {ty(a)}) -> {ty(a)}"],
     [("p", "p", a * b), ("r", "r", a * b + torch.exp(a))])


def fmt(t):
    vals = t.detach().reshape(-1).tolist()
    return "{" + ", ".join(repr(float(v)) for v in vals) + "}"


def shape(t):
    return "{" + ", ".join(str(d) for d in t.shape) + "}"


out = ["// Generated by test/golden/gen_evaluator_goldens.py with PyTorch " + torch.__version__ + ".",
       "// Do not edit: rerun the script.", ""]
for name, train, ir, feeds, outs in CASES:
    out.append("{" + f'"{name}", {"true" if train else "false"},')
    out.append('R"mlir(' + ir + ')mlir",')
    out.append("{" + ", ".join("{" + f'"{n}", {shape(t)}, {fmt(t)}' + "}" for n, t in feeds) + "},")
    out.append("{" + ", ".join("{" + f'"{n}", {shape(t)}, {fmt(t)}' + "}" for n, t in outs) + "}},")
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "evaluator_goldens.inc")
with open(path, "w") as fh:
    fh.write("\n".join(out) + "\n")
print(f"wrote {len(CASES)} cases to {path}")
