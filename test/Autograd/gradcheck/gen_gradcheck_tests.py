#!/usr/bin/env python3
"""Writes the per-op gradcheck lit tests of this directory (all but
handwritten-backward.mlir, wrong-gradient.mlir, autograd-rules.mlir and the
.test files, which are written by hand). Each model computes one op on
parameters or requires_grad inputs, weights the result with a random input
and sums it into the loss. Needs no torch:  python3 gen_gradcheck_tests.py
"""
import os
OUT = os.path.dirname(os.path.abspath(__file__))

def t(shape, et="f32"):
    return "tensor<" + "".join(f"{d}x" for d in shape) + et + ">"

NORMAL = "<normal>"
POS = "<uniform, {a = 5.000000e-01 : f64, b = 2.000000e+00 : f64}>"
# Across hardswish's and hardsigmoid's kinks at -3 and 3.
WIDE = "<uniform, {a = -5.000000e+00 : f64, b = 5.000000e+00 : f64}>"

def model(name, params, body, out, outshape, inputs=(), retained=()):
    """params: [(name, shape, init)], inputs: [(name, type str, requires_grad)],
    body: lines; out: ssa name of the result, weighted by a random input."""
    lines = [f"graft.model @{name} {{"]
    for n, ty, rg in inputs:
        lines.append(f'  %{n} = graft.input "{n}"{" requires_grad" if rg else ""} : {ty}')
    for n, shape, init in params:
        ssa = n.replace(".", "_")
        lines.append(f'  %{ssa} = graft.param "{n}" init {init} : {t(shape)}')
    lines += ["  " + l for l in body]
    for n, ssa, ty in retained:
        lines.append(f'  graft.retain_grad "{n}" %{ssa} : {ty}')
    ot = t(outshape)
    if outshape == ():
        lines.append(f"  graft.loss %{out} : {ot}")
    else:
        lines.append(f'  %weights = graft.input "weights" : {ot}')
        lines.append(f"  %weighted = graft.mul %{out}, %weights : ({ot}, {ot}) -> {ot}")
        lines.append(f"  %loss = graft.sum %weighted : {ot} -> tensor<f32>")
        lines.append("  graft.loss %loss : tensor<f32>")
    lines.append("}")
    checks = [f"// CHECK-LABEL: gradcheck @{name}:"]
    names = [n for n, _, _ in params] + [n for n, _, rg in inputs if rg] + [n for n, _, _ in retained]
    for n in names:
        checks.append(f"// CHECK-DAG: PASS  {n}  [")
    checks.append(f"// CHECK: gradcheck @{name}: PASS ({len(names)} tensors)")
    return checks, lines

def write(fname, title, models, seeds=()):
    runs = ["// RUN: graft gradcheck %s | FileCheck %s"]
    runs += [f"// RUN: graft gradcheck --seed {s} %s | FileCheck %s" for s in seeds]
    text = runs + ["//", f"// {title}", "",
            "// CHECK-NOT: FAIL"]
    body = []
    for checks, lines in models:
        body += [""] + checks + lines
    with open(os.path.join(OUT, fname), "w") as f:
        f.write("\n".join(text + body) + "\n")

S = (3, 4)
ms = []
for op, sa, sb, ia, ib in [("add", (3, 4), (4,), NORMAL, NORMAL), ("sub", (3, 1), (4,), NORMAL, NORMAL),
                           ("mul", (3, 4), (3, 1), NORMAL, NORMAL), ("div", (3, 4), (4,), NORMAL, POS),
                           ("pow", (3, 4), (4,), POS, NORMAL), ("maximum", (3, 4), (3, 4), NORMAL, NORMAL),
                           ("minimum", (3, 4), (1, 4), NORMAL, NORMAL)]:
    ms.append(model(op, [("a", sa, ia), ("b", sb, ib)],
                    [f"%r = graft.{op} %a, %b : ({t(sa)}, {t(sb)}) -> {t(S)}"], "r", S))
write("binary.mlir", "Elementwise binary ops, with broadcasting on both sides.", ms)

ms = []
for op in ["neg", "exp", "log", "sqrt", "rsqrt", "abs", "relu", "silu", "tanh", "sigmoid", "erf",
           "hardswish", "hardsigmoid", "log1p", "mish", "sin", "cos"]:
    init = (POS if op in ("log", "sqrt", "rsqrt", "log1p")
            else WIDE if op in ("hardswish", "hardsigmoid") else NORMAL)
    ms.append(model(op, [("x", S, init)], [f"%r = graft.{op} %x : {t(S)}"], "r", S))
ms.append(model("gelu", [("x", S, NORMAL)], [f"%r = graft.gelu %x : {t(S)}"], "r", S))
ms.append(model("gelu_tanh", [("x", S, NORMAL)],
                [f"%r = graft.gelu %x {{approximate = #graft<gelu_approximation tanh>}} : {t(S)}"], "r", S))
for kind, bounds in [("clamp", "max = 5.000000e-01 : f64, min = -5.000000e-01 : f64"),
                     ("clamp_min", "min = 0.000000e+00 : f64"), ("clamp_max", "max = 2.500000e-01 : f64"),
                     ("hardtanh", "max = 1.000000e+00 : f64, min = -1.000000e+00 : f64")]:
    ms.append(model(kind, [("x", S, NORMAL)],
                    [f"%r = graft.clamp %x {{kind = #graft<clamp_kind {kind}>, {bounds}}} : {t(S)}"], "r", S))
write("unary.mlir", "Elementwise unary ops and clamps.", ms)

ms = []
ms.append(model("where", [("a", S, NORMAL), ("b", (4,), NORMAL)],
                [f"%r = graft.where %m, %a, %b : ({t(S, 'i1')}, {t(S)}, {t((4,))}) -> {t(S)}"], "r", S,
                inputs=[("m", t(S, "i1"), False)]))
ms.append(model("masked_fill", [("x", S, NORMAL)],
                [f"%r = graft.masked_fill %x, %m {{value = 2.5 : f64}} : ({t(S)}, {t((4,), 'i1')}) -> {t(S)}"], "r", S,
                inputs=[("m", t((4,), "i1"), False)]))
ms.append(model("cast", [("x", S, NORMAL)],
                [f"%c = graft.cast %x : {t(S)} -> {t(S, 'f64')}",
                 f"%e = graft.exp %c : {t(S, 'f64')}",
                 f"%r = graft.cast %e : {t(S, 'f64')} -> {t(S)}"], "r", S))
ms.append(model("clone", [("x", S, NORMAL)],
                [f"%c = graft.clone %x : {t(S)}",
                 f"%r = graft.mul %c, %x : ({t(S)}, {t(S)}) -> {t(S)}"], "r", S))
# The ops that never require grad, on a differentiable path: compare's mask
# picks between two parameters (a max), argmax's indices select table rows.
ms.append(model("where_compare", [("a", S, NORMAL), ("b", S, NORMAL)],
                [f"%m = graft.compare gt, %a, %b : ({t(S)}, {t(S)}) -> {t(S, 'i1')}",
                 f"%r = graft.where %m, %a, %b : ({t(S, 'i1')}, {t(S)}, {t(S)}) -> {t(S)}"],
                "r", S))
ms.append(model("argmax_rows", [("w", (5, 2), NORMAL)],
                [f"%i = graft.argmax %x {{dim = 1 : i64}} : {t(S)} -> {t((3,), 'i64')}",
                 f"%r = graft.embedding %w, %i : ({t((5, 2))}, {t((3,), 'i64')}) -> {t((3, 2))}"],
                "r", (3, 2), inputs=[("x", t(S), False)]))
write("select-cast-clone.mlir", "where, masked_fill, float casts, clone, compare and argmax.", ms)

ms = []
for op, other in [("add_", (4,)), ("sub_", (3, 4)), ("mul_", (4,)), ("div_", (1, 4))]:
    init = POS if op == "div_" else NORMAL
    ms.append(model(op.rstrip("_") + "_inplace", [("x", S, NORMAL), ("o", other, init)],
                    [f"%c = graft.mul %x, %x : ({t(S)}, {t(S)}) -> {t(S)}",
                     f"%r = graft.{op} %c, %o : {t(S)}, {t(other)}"], "r", S))
for op in ["relu_", "exp_", "sigmoid_", "tanh_", "zero_"]:
    ms.append(model(op.rstrip("_") + "_inplace", [("x", S, NORMAL), ("y", S, NORMAL)],
                    [f"%c = graft.add %x, %y : ({t(S)}, {t(S)}) -> {t(S)}",
                     f"%i = graft.{op} %c : {t(S)}",
                     f"%r = graft.mul %i, %y : ({t(S)}, {t(S)}) -> {t(S)}"], "r", S))
ms.append(model("masked_fill_inplace", [("x", S, NORMAL)],
                [f"%c = graft.add %x, %x : ({t(S)}, {t(S)}) -> {t(S)}",
                 f"%r = graft.masked_fill_ %c, %m {{value = 0.0 : f64}} : {t(S)}, {t(S, 'i1')}"], "r", S,
                inputs=[("m", t(S, "i1"), False)]))
ms.append(model("clamp_inplace", [("x", S, NORMAL), ("y", S, NORMAL)],
                [f"%c = graft.add %x, %y : ({t(S)}, {t(S)}) -> {t(S)}",
                 f"%i = graft.clamp_ %c {{kind = #graft<clamp_kind hardtanh>, max = 1.000000e+00 : f64, min = 0.000000e+00 : f64}} : {t(S)}",
                 f"%r = graft.mul %i, %y : ({t(S)}, {t(S)}) -> {t(S)}"], "r", S))
write("inplace.mlir", "In-place ops on non-leaf values (new versions of self).", ms)

ms = []
for name, sa, sb, so in [("dot", (3,), (3,), ()), ("vec_mat", (3,), (3, 2), (2,)),
                         ("mat_vec", (2, 3), (3,), (2,)), ("mat_mat", (2, 3), (3, 4), (2, 4)),
                         ("batch_bcast", (2, 1, 2, 3), (3, 3, 2), (2, 3, 2, 2)),
                         ("batch_vec", (2, 2, 3), (3,), (2, 2)), ("vec_batch", (3,), (2, 3, 2), (2, 2))]:
    ms.append(model("matmul_" + name, [("a", sa, NORMAL), ("b", sb, NORMAL)],
                    [f"%r = graft.matmul %a, %b : ({t(sa)}, {t(sb)}) -> {t(so)}"], "r", so))
ms.append(model("linear", [("fc.weight", (5, 4), "<kaiming_uniform>"), ("fc.bias", (5,), NORMAL)],
                [f"%r = graft.linear %x, %fc_weight, %fc_bias : ({t((2, 3, 4))}, {t((5, 4))}, {t((5,))}) -> {t((2, 3, 5))}"],
                "r", (2, 3, 5), inputs=[("x", t((2, 3, 4)), True)]))
ms.append(model("linear_no_bias", [("w", (5, 4), NORMAL)],
                [f"%r = graft.linear %x, %w : ({t((3, 4))}, {t((5, 4))}) -> {t((3, 5))}"],
                "r", (3, 5), inputs=[("x", t((3, 4)), True)]))
write("matmul-linear.mlir", "torch.matmul in every rank combination, and F.linear.", ms)

ms = []
X = (2, 3, 4)
for op in ["sum", "mean", "max"]:
    ms.append(model(op + "_all", [("x", X, NORMAL)], [f"%r = graft.{op} %x : {t(X)} -> tensor<f32>"], "r", ()))
    ms.append(model(op + "_dims", [("x", X, NORMAL)],
                    [f"%r = graft.{op} %x {{dims = array<i64: 0, 2>}} : {t(X)} -> {t((3,))}"], "r", (3,)))
    ms.append(model(op + "_keepdim", [("x", X, NORMAL)],
                    [f"%r = graft.{op} %x {{dims = array<i64: 1>, keepdim = true}} : {t(X)} -> {t((2, 1, 4))}"], "r", (2, 1, 4)))
# amax with two-way ties: the gradient is split evenly, which is also what
# central differences see (with three tied elements they would see 1/2, not
# 1/3).
ms.append(model("max_ties", [("w", (2, 4), "<ones>")],
                ["%c = graft.constant dense<[[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 1.0, -1.0]]> : tensor<2x4xf32>",
                 f"%x = graft.mul %c, %w : ({t((2, 4))}, {t((2, 4))}) -> {t((2, 4))}",
                 f"%r = graft.max %x {{dims = array<i64: 1>}} : {t((2, 4))} -> {t((2,))}"], "r", (2,)))
write("reductions.mlir", "sum, mean and amax over all, some and kept dimensions; amax ties.", ms)

ms = []
ms.append(model("reshape", [("x", X, NORMAL)], [f"%r = graft.reshape %x : {t(X)} -> {t((6, 4))}"], "r", (6, 4)))
ms.append(model("transpose", [("x", X, NORMAL)],
                [f"%r = graft.transpose %x {{dim0 = 0 : i64, dim1 = 2 : i64}} : {t(X)} -> {t((4, 3, 2))}"], "r", (4, 3, 2)))
ms.append(model("permute", [("x", X, NORMAL)],
                [f"%r = graft.permute %x {{dims = array<i64: 1, 2, 0>}} : {t(X)} -> {t((3, 4, 2))}"], "r", (3, 4, 2)))
ms.append(model("broadcast_to", [("x", (3, 1), NORMAL)],
                [f"%r = graft.broadcast_to %x : {t((3, 1))} -> {t(X)}"], "r", X))
ms.append(model("slice", [("x", X, NORMAL)],
                [f"%r = graft.slice %x {{dim = 2 : i64, start = 1 : i64, end = 4 : i64, step = 2 : i64}} : {t(X)} -> {t((2, 3, 2))}"], "r", (2, 3, 2)))
ms.append(model("concat", [("a", X, NORMAL), ("b", (2, 2, 4), NORMAL)],
                [f"%r = graft.concat %a, %b, %a {{dim = 1 : i64}} : ({t(X)}, {t((2, 2, 4))}, {t(X)}) -> {t((2, 8, 4))}"], "r", (2, 8, 4)))
write("layout.mlir", "Views and layout: reshape, transpose, permute, broadcast_to, slice, concat.", ms)

ms = []
ms.append(model("softmax", [("x", X, NORMAL)], [f"%r = graft.softmax %x {{dim = 1 : i64}} : {t(X)}"], "r", X))
ms.append(model("log_softmax", [("x", X, NORMAL)], [f"%r = graft.log_softmax %x {{dim = 2 : i64}} : {t(X)}"], "r", X))
write("softmax.mlir", "softmax and log_softmax.", ms)

ms = []
for name, xs, ws, attrs, os_ in [
        ("conv2d", (2, 3, 5, 6), (4, 3, 3, 2), "", (2, 4, 3, 5)),
        ("conv2d_strided", (1, 2, 7, 7), (3, 2, 3, 3), "{stride = array<i64: 2, 1>, padding = array<i64: 1, 2>, dilation = array<i64: 2, 1>} ", (1, 3, 3, 9)),
        ("conv2d_groups", (2, 4, 5, 5), (6, 2, 3, 3), "{padding = array<i64: 1, 1>, groups = 2 : i64} ", (2, 6, 5, 5))]:
    ms.append(model(name, [("conv.weight", ws, NORMAL), ("conv.bias", (ws[0],), NORMAL)],
                    [f"%r = graft.conv2d %x, %conv_weight, %conv_bias {attrs}: ({t(xs)}, {t(ws)}, {t((ws[0],))}) -> {t(os_)}"],
                    "r", os_, inputs=[("x", t(xs), True)]))
write("conv2d.mlir", "conv2d with bias, stride, padding, dilation and groups.", ms)

ms = []
for name, xs, attrs, os_ in [
        ("max_pool2d", (1, 2, 5, 5), "kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>", (1, 2, 2, 2)),
        ("max_pool2d_pad_ceil", (2, 1, 6, 7), "kernel_size = array<i64: 3, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 2>, ceil_mode = true", (2, 1, 4, 4)),
        ("avg_pool2d", (1, 2, 5, 5), "kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>", (1, 2, 2, 2)),
        ("avg_pool2d_pad_ceil", (2, 1, 6, 7), "kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, ceil_mode = true", (2, 1, 4, 4)),
        ("avg_pool2d_exclude_pad", (2, 1, 6, 7), "kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, ceil_mode = true, count_include_pad = false", (2, 1, 4, 4))]:
    op = name.split("_pad")[0].split("_exclude")[0]
    ms.append(model(name, [], [f"%r = graft.{op} %x {{{attrs}}} : {t(xs)} -> {t(os_)}"], "r", os_,
                    inputs=[("x", t(xs), True)]))
write("pooling.mlir", "max_pool2d and avg_pool2d with padding, dilation, ceil_mode, count_include_pad.", ms)

ms = []
ms.append(model("layer_norm", [("ln.weight", (4,), NORMAL), ("ln.bias", (4,), NORMAL)],
                [f"%r = graft.layer_norm %x weight %ln_weight bias %ln_bias {{normalized_shape = array<i64: 4>}} : ({t(X)}, {t((4,))}, {t((4,))}) -> {t(X)}"],
                "r", X, inputs=[("x", t(X), True)]))
ms.append(model("layer_norm_2d_no_affine", [],
                [f"%r = graft.layer_norm %x {{normalized_shape = array<i64: 3, 4>, eps = 1.0e-3 : f64}} : ({t(X)}) -> {t(X)}"],
                "r", X, inputs=[("x", t(X), True)]))
B = (4, 3, 2, 2)
bn_lines = ['%rm = graft.buffer "bn.running_mean" init <zeros> : tensor<3xf32>',
            '%rv = graft.buffer "bn.running_var" init <ones> : tensor<3xf32>',
            f"%r = graft.batch_norm %x weight %bn_weight bias %bn_bias running %rm, %rv : ({t(B)}, {t((3,))}, {t((3,))}, {t((3,))}, {t((3,))}) -> {t(B)}"]
ms.append(model("batch_norm", [("bn.weight", (3,), NORMAL), ("bn.bias", (3,), NORMAL)], bn_lines, "r", B,
                inputs=[("x", t(B), True)]))
write("normalization.mlir", "layer_norm and batch_norm (train mode: batch statistics).", ms)

ms = []
ms.append(model("dropout", [("x", (4, 8), NORMAL)],
                [f"%r = graft.dropout %x {{p = 0.3 : f64, stream = 1 : i64}} : {t((4, 8))}"], "r", (4, 8)))
ms.append(model("embedding", [("wte", (6, 3), NORMAL)],
                [f"%r = graft.embedding %wte, %i : ({t((6, 3))}, {t((2, 5), 'i64')}) -> {t((2, 5, 3))}"], "r", (2, 5, 3),
                inputs=[("i", t((2, 5), "i64"), False)]))
# padding_idx: its lookups are constants for autograd (zero gradient by
# rule), and gradcheck holds them constant too. With tied weights the padding
# row still gets the gradient of its other use.
ms.append(model("embedding_padding_idx", [("wte", (4, 3), NORMAL)],
                [f"%r = graft.embedding %wte, %i {{padding_idx = 1 : i64}} : ({t((4, 3))}, {t((3, 5), 'i64')}) -> {t((3, 5, 3))}"], "r", (3, 5, 3),
                inputs=[("i", t((3, 5), "i64"), False)]))
ms.append(model("embedding_padding_idx_tied", [("wte", (4, 3), NORMAL)],
                [f"%e = graft.embedding %wte, %i {{padding_idx = 1 : i64}} : ({t((4, 3))}, {t((2, 5), 'i64')}) -> {t((2, 5, 3))}",
                 f"%r = graft.linear %e, %wte : ({t((2, 5, 3))}, {t((4, 3))}) -> {t((2, 5, 4))}"], "r", (2, 5, 4),
                inputs=[("i", t((2, 5), "i64"), False)]))
Q, K, V = (2, 3, 4), (2, 5, 4), (2, 5, 2)
ms.append(model("attention", [("q", Q, NORMAL), ("k", K, NORMAL), ("v", V, NORMAL)],
                [f"%r = graft.scaled_dot_product_attention %q, %k, %v : ({t(Q)}, {t(K)}, {t(V)}) -> {t((2, 3, 2))}"], "r", (2, 3, 2)))
ms.append(model("attention_causal", [("q", Q, NORMAL), ("k", K, NORMAL), ("v", V, NORMAL)],
                [f"%r = graft.scaled_dot_product_attention %q, %k, %v {{is_causal = true, scale = 0.3 : f64}} : ({t(Q)}, {t(K)}, {t(V)}) -> {t((2, 3, 2))}"], "r", (2, 3, 2)))
write("dropout-embedding-attention.mlir", "dropout (same mask both ways), embedding (scatter-add, padding_idx), attention.", ms, seeds=[1])

ms = []
L = (6, 4)
for red in ["mean", "sum"]:
    ms.append(model(f"cross_entropy_{red}", [], [f"%l = graft.cross_entropy %x, %y {{reduction = #graft<reduction {red}>}} : ({t(L)}, {t((6,), 'i64')}) -> tensor<f32>"],
                    "l", (), inputs=[("x", t(L), True), ("y", t((6,), "i64"), False)]))
ms.append(model("cross_entropy_smoothing_ignore", [], [f"%l = graft.cross_entropy %x, %y {{ignore_index = 1 : i64, label_smoothing = 0.2 : f64}} : ({t(L)}, {t((6,), 'i64')}) -> tensor<f32>"],
                "l", (), inputs=[("x", t(L), True), ("y", t((6,), "i64"), False)]))
ms.append(model("cross_entropy_none", [], [f"%l = graft.cross_entropy %x, %y {{label_smoothing = 0.1 : f64, reduction = #graft<reduction none>}} : ({t(L)}, {t((6,), 'i64')}) -> {t((6,))}"],
                "l", (6,), inputs=[("x", t(L), True), ("y", t((6,), "i64"), False)]))
X4 = (2, 3, 2, 2)
ms.append(model("cross_entropy_spatial", [], [f"%l = graft.cross_entropy %x, %y {{label_smoothing = 0.1 : f64}} : ({t(X4)}, {t((2, 2, 2), 'i64')}) -> tensor<f32>"],
                "l", (), inputs=[("x", t(X4), True), ("y", t((2, 2, 2), "i64"), False)]))
ms.append(model("cross_entropy_unbatched", [], [f"%l = graft.cross_entropy %x, %y : ({t((5,))}, {t((), 'i64')}) -> tensor<f32>"],
                "l", (), inputs=[("x", t((5,)), True), ("y", t((), "i64"), False)]))
for red in ["mean", "sum"]:
    ms.append(model(f"nll_loss_{red}", [], [f"%l = graft.nll_loss %x, %y {{ignore_index = 2 : i64, reduction = #graft<reduction {red}>}} : ({t(L)}, {t((6,), 'i64')}) -> tensor<f32>"],
                    "l", (), inputs=[("x", t(L), True), ("y", t((6,), "i64"), False)]))
ms.append(model("nll_loss_none", [], [f"%l = graft.nll_loss %x, %y {{reduction = #graft<reduction none>}} : ({t(L)}, {t((6,), 'i64')}) -> {t((6,))}"],
                "l", (6,), inputs=[("x", t(L), True), ("y", t((6,), "i64"), False)]))
for red in ["mean", "sum"]:
    ms.append(model(f"mse_loss_{red}", [("p", L, NORMAL)], [f"%l = graft.mse_loss %p, %x {{reduction = #graft<reduction {red}>}} : ({t(L)}, {t(L)}) -> tensor<f32>"],
                    "l", (), inputs=[("x", t(L), True)]))
ms.append(model("mse_loss_none", [("p", L, NORMAL)], [f"%l = graft.mse_loss %p, %x {{reduction = #graft<reduction none>}} : ({t(L)}, {t(L)}) -> {t(L)}"],
                "l", L, inputs=[("x", t(L), True)]))
write("losses.mlir", "cross_entropy (ignore_index, label_smoothing, reductions, spatial, unbatched), nll_loss, mse_loss.", ms)

# Edge cases that stress the VJP rules.
ms = []
ms.append(model("matmul_both_bcast", [("a", (3, 1, 2, 4), NORMAL), ("b", (2, 4, 5), NORMAL)],
                [f"%r = graft.matmul %a, %b : ({t((3, 1, 2, 4))}, {t((2, 4, 5))}) -> {t((3, 2, 2, 5))}"], "r", (3, 2, 2, 5)))
ms.append(model("softmax_dim0", [("x", (3, 2, 2), NORMAL)], [f"%r = graft.softmax %x {{dim = 0 : i64}} : {t((3, 2, 2))}"], "r", (3, 2, 2)))
ms.append(model("sum_middle_keep_mean_last", [("x", (2, 3, 4, 2), NORMAL)],
                [f"%s = graft.sum %x {{dims = array<i64: 1, 3>, keepdim = true}} : {t((2, 3, 4, 2))} -> {t((2, 1, 4, 1))}",
                 f"%r = graft.mean %s {{dims = array<i64: 2>}} : {t((2, 1, 4, 1))} -> {t((2, 1, 1))}"], "r", (2, 1, 1)))
ms.append(model("conv2d_all", [("w", (4, 3, 2, 3), NORMAL)],
                [f"%r = graft.conv2d %x, %w {{stride = array<i64: 2, 3>, padding = array<i64: 2, 1>, dilation = array<i64: 2, 2>}} : ({t((2, 3, 7, 8))}, {t((4, 3, 2, 3))}) -> {t((2, 4, 5, 2))}"],
                "r", (2, 4, 5, 2), inputs=[("x", t((2, 3, 7, 8)), True)]))
ms.append(model("conv2d_depthwise", [("w", (6, 1, 3, 3), NORMAL), ("b", (6,), NORMAL)],
                [f"%r = graft.conv2d %x, %w, %b {{padding = array<i64: 1, 1>, groups = 3 : i64}} : ({t((1, 3, 4, 4))}, {t((6, 1, 3, 3))}, {t((6,))}) -> {t((1, 6, 4, 4))}"],
                "r", (1, 6, 4, 4), inputs=[("x", t((1, 3, 4, 4)), True)]))
ms.append(model("max_pool_overlap", [],
                [f"%r = graft.max_pool2d %x {{kernel_size = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>}} : {t((1, 2, 4, 4))} -> {t((1, 2, 4, 4))}"],
                "r", (1, 2, 4, 4), inputs=[("x", t((1, 2, 4, 4)), True)]))
ms.append(model("avg_pool_overlap", [],
                [f"%r = graft.avg_pool2d %x {{kernel_size = array<i64: 2, 3>, stride = array<i64: 1, 2>, padding = array<i64: 1, 1>, count_include_pad = false}} : {t((1, 2, 5, 5))} -> {t((1, 2, 6, 3))}"],
                "r", (1, 2, 6, 3), inputs=[("x", t((1, 2, 5, 5)), True)]))
ms.append(model("layer_norm_weight_only", [("g", (2, 3), NORMAL)],
                [f"%r = graft.layer_norm %x weight %g {{normalized_shape = array<i64: 2, 3>}} : ({t((4, 2, 3))}, {t((2, 3))}) -> {t((4, 2, 3))}"],
                "r", (4, 2, 3), inputs=[("x", t((4, 2, 3)), True)]))
bn2 = ['%rm = graft.buffer "bn.running_mean" init <zeros> : tensor<3xf32>',
       '%rv = graft.buffer "bn.running_var" init <ones> : tensor<3xf32>',
       f"%r = graft.batch_norm %x running %rm, %rv {{momentum = 0.3 : f64, eps = 1.0e-3 : f64}} : ({t((5, 3))}, {t((3,))}, {t((3,))}) -> {t((5, 3))}"]
ms.append(model("batch_norm_2d_no_affine", [], bn2, "r", (5, 3), inputs=[("x", t((5, 3)), True)]))
ms.append(model("attention_4d_causal_square", [("q", (2, 2, 4, 3), NORMAL), ("k", (2, 2, 4, 3), NORMAL), ("v", (2, 2, 4, 5), NORMAL)],
                [f"%r = graft.scaled_dot_product_attention %q, %k, %v {{is_causal = true}} : ({t((2, 2, 4, 3))}, {t((2, 2, 4, 3))}, {t((2, 2, 4, 5))}) -> {t((2, 2, 4, 5))}"], "r", (2, 2, 4, 5)))
ms.append(model("where_bcast_cond", [("a", (2, 3), NORMAL), ("b", (), NORMAL)],
                [f"%r = graft.where %m, %a, %b : ({t((3,), 'i1')}, {t((2, 3))}, {t(())}) -> {t((2, 3))}"], "r", (2, 3),
                inputs=[("m", t((3,), "i1"), False)]))
ms.append(model("pow_scalar_exponent", [("a", (2, 3), POS), ("e", (), NORMAL)],
                [f"%r = graft.pow %a, %e : ({t((2, 3))}, {t(())}) -> {t((2, 3))}"], "r", (2, 3)))
ms.append(model("slice_clamped_concat_dim0", [("x", (5, 2), NORMAL)],
                [f"%s = graft.slice %x {{dim = 0 : i64, start = 3 : i64, end = 100 : i64}} : {t((5, 2))} -> {t((2, 2))}",
                 f"%s2 = graft.slice %x {{dim = 0 : i64, start = 0 : i64, end = 5 : i64, step = 3 : i64}} : {t((5, 2))} -> {t((2, 2))}",
                 f"%r = graft.concat %s, %s2, %s {{dim = 0 : i64}} : ({t((2, 2))}, {t((2, 2))}, {t((2, 2))}) -> {t((6, 2))}"], "r", (6, 2)))
ms.append(model("embedding_repeated", [("w", (3, 4), NORMAL)],
                [f"%e = graft.embedding %w, %i : ({t((3, 4))}, {t((10,), 'i64')}) -> {t((10, 4))}",
                 f"%r = graft.tanh %e : {t((10, 4))}"], "r", (10, 4), inputs=[("i", t((10,), "i64"), False)]))
ms.append(model("cast_to_bf16_and_back", [("x", (4,), NORMAL)],
                [f"%c = graft.cast %x : {t((4,))} -> {t((4,), 'bf16')}",
                 f"%s = graft.sigmoid %c : {t((4,), 'bf16')}",
                 f"%r = graft.cast %s : {t((4,), 'bf16')} -> {t((4,))}"], "r", (4,)))
ms.append(model("ce_ignore_smoothing_3class", [], [f"%l = graft.cross_entropy %x, %y {{ignore_index = 2 : i64, label_smoothing = 0.3 : f64}} : ({t((8, 3))}, {t((8,), 'i64')}) -> tensor<f32>"],
                "l", (), inputs=[("x", t((8, 3)), True), ("y", t((8,), "i64"), False)]))
ms.append(model("hook_twice_fanout", [("x", (3,), NORMAL)],
                [f'%h = graft.grad_hook "x.h" %x : {t((3,))}',
                 f"%a = graft.mul %h, %h : ({t((3,))}, {t((3,))}) -> {t((3,))}",
                 f"%b = graft.exp %h : {t((3,))}",
                 f"%r = graft.add %a, %b : ({t((3,))}, {t((3,))}) -> {t((3,))}"], "r", (3,)))
ms.append(model("retained_intermediate_chain", [("w", (3, 3), NORMAL)],
                [f"%a = graft.matmul %w, %w : ({t((3, 3))}, {t((3, 3))}) -> {t((3, 3))}",
                 f"%b = graft.relu %a : {t((3, 3))}",
                 f"%r = graft.log_softmax %b {{dim = 1 : i64}} : {t((3, 3))}"], "r", (3, 3),
                retained=[("a", "a", t((3, 3))), ("b", "b", t((3, 3)))]))
write("edge-cases.mlir", "Harder cases for the VJP rules: broadcasting on both sides, every conv option, overlapping pools, 2-D batch_norm, 4-D causal attention, repeated indices, bf16 casts, hooks on fan-out, retained chains.", ms, seeds=[3])
