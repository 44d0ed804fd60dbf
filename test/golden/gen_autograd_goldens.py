#!/usr/bin/python3
"""Writes autograd_goldens.json: the seed's worked autograd examples run by
PyTorch, with the equivalent graft IR. EvaluatorTest derives the backward
pass of each IR (graft-derive-backward), evaluates it and compares values
and gradients with these.

Run with Debian's PyTorch:  /usr/bin/python3 test/golden/gen_autograd_goldens.py
"""
import json
import os

import torch

EXAMPLES = []


def example(name, doc, ir, inputs, values, grads):
    """inputs: {name: tensor} fed to graft.input/graft.param of that name;
    values: {output name: tensor}; grads: {leaf or retained name: tensor or
    None (no .grad)}."""
    def enc(t):
        return None if t is None else {"shape": list(t.shape),
                                       "data": [float(v) for v in t.detach().reshape(-1)]}
    EXAMPLES.append({"name": name, "doc": doc, "ir": ir,
                     "inputs": {k: enc(v) for k, v in inputs.items()},
                     "values": {k: enc(v) for k, v in values.items()},
                     "gradients": {k: enc(v) for k, v in grads.items()}})


# y = 2x, z = 3 + x.detach(), r = y + z: dr/dx = 2.
x = torch.tensor([1., 2., 3.], requires_grad=True)
y = 2 * x
z = 3 + x.detach()
r = y + z
r.sum().backward()
example("detach", "y = 2x, z = 3 + x.detach(), r = y + z gives dr/dx = 2", """
graft.model @detach {
  %x = graft.input "x" requires_grad : tensor<3xf32>
  %two = graft.constant dense<2.0> : tensor<f32>
  %three = graft.constant dense<3.0> : tensor<f32>
  %y = graft.mul %two, %x : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
  %xd = graft.detach %x : tensor<3xf32>
  %z = graft.add %three, %xd : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
  %r = graft.add %y, %z : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %l = graft.sum %r : tensor<3xf32> -> tensor<f32>
  graft.output "r" %r : tensor<3xf32>
  graft.loss %l : tensor<f32>
}
""", {"x": x}, {"r": r}, {"x": x.grad})

# clone is differentiable (identity gradient): x + x.clone() gives x.grad = 2.
x = torch.tensor([1.5, -2.0], requires_grad=True)
r = x + x.clone()
r.sum().backward()
example("clone", "r = x + x.clone() gives x.grad = 2", """
graft.model @clone {
  %x = graft.input "x" requires_grad : tensor<2xf32>
  %c = graft.clone %x : tensor<2xf32>
  %r = graft.add %x, %c : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %l = graft.sum %r : tensor<2xf32> -> tensor<f32>
  graft.output "r" %r : tensor<2xf32>
  graft.loss %l : tensor<f32>
}
""", {"x": x}, {"r": r}, {"x": x.grad})

# An in-place write to a clone leaves the original alone: c = x.clone();
# c.mul_(2) gives x.grad = 2 and x unchanged.
x = torch.tensor([1., 2., 3.], requires_grad=True)
c = x.clone()
c.mul_(2)
c.sum().backward()
example("clone_inplace", "c = x.clone(); c.mul_(2) gives x.grad = 2, x unchanged", """
graft.model @clone_inplace {
  %x = graft.input "x" requires_grad : tensor<3xf32>
  %two = graft.constant dense<2.0> : tensor<f32>
  %c = graft.clone %x : tensor<3xf32>
  %c1 = graft.mul_ %c, %two : tensor<3xf32>, tensor<f32>
  %l = graft.sum %c1 : tensor<3xf32> -> tensor<f32>
  graft.output "x" %x : tensor<3xf32>
  graft.output "c" %c1 : tensor<3xf32>
  graft.loss %l : tensor<f32>
}
""", {"x": x}, {"x": x, "c": c}, {"x": x.grad})

# retain_grad on a non-leaf; no_grad results are constants; a frozen
# parameter and a value without grad get no .grad.
x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
w = torch.nn.Parameter(torch.tensor([1.0, 2.0, -0.5]))
f = torch.nn.Parameter(torch.tensor([3.0, 3.0, 3.0]), requires_grad=False)
e = torch.tensor([1.0, 1.0, 1.0])
g = e + 1  # requires_grad False: a leaf without grad
h = x * w
h.retain_grad()
with torch.no_grad():
    n = x * 2
r = h * n * f * g
l = r.sum()
l.backward()
example("retain_no_grad_frozen",
        "retain_grad on h = x * w; n = 2x under no_grad is a constant; frozen f gets no grad", """
graft.model @retain_no_grad_frozen {
  %x = graft.input "x" requires_grad : tensor<3xf32>
  %e = graft.input "e" : tensor<3xf32>
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %f = graft.param "f" frozen init <ones> : tensor<3xf32>
  %one = graft.constant dense<1.0> : tensor<f32>
  %two = graft.constant dense<2.0> : tensor<f32>
  %g = graft.add %e, %one : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %h = graft.mul %x, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  graft.retain_grad "h" %h : tensor<3xf32>
  graft.read_grad "h.grad" %h : tensor<3xf32>
  %n = graft.no_grad -> tensor<3xf32> {
    %n0 = graft.mul %x, %two : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
    graft.yield %n0 : tensor<3xf32>
  }
  %r0 = graft.mul %h, %n : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %r1 = graft.mul %r0, %f : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %r = graft.mul %r1, %g : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %l = graft.sum %r : tensor<3xf32> -> tensor<f32>
  graft.output "r" %r : tensor<3xf32>
  graft.loss %l : tensor<f32>
}
""", {"x": x, "e": e, "w": w, "f": f}, {"r": r},
        {"x": x.grad, "w": w.grad, "h": h.grad, "f": f.grad})

# The gradients of hardswish and hardsigmoid at and around their kinks.
# hardswish: 0 below -3 (and -0.5 at exactly -3), x / 3 + 1/2 between, 1
# from 3 on; hardsigmoid: g / 6 strictly between -3 and 3, 0 at and beyond
# them. 16 elements, so that every one takes PyTorch's vectorised kernel
# (hardswish's scalar tail gives 1.5 at 3).
for op in ["hardswish", "hardsigmoid"]:
    x = torch.tensor([-4., -3., -2.5, -1., 0., 0.5, 2., 2.9999, 3., 3.5, 5.,
                      -3.0001, 1., -0.5, 2.5, 4.], requires_grad=True)
    r = getattr(torch.nn.functional, op)(x)
    r.sum().backward()
    example(f"{op}_kinks", f"F.{op}'s gradient on both sides of -3 and 3", f"""
graft.model @{op}_kinks {{
  %x = graft.input "x" requires_grad : tensor<16xf32>
  %r = graft.{op} %x : tensor<16xf32>
  %l = graft.sum %r : tensor<16xf32> -> tensor<f32>
  graft.output "r" %r : tensor<16xf32>
  graft.loss %l : tensor<f32>
}}
""", {"x": x}, {"r": r}, {"x": x.grad})

# The clamps at and around their bounds: torch.clamp and clamp_min/max pass
# the gradient at a bound (min <= x <= max), hardtanh and relu6 do not; the
# in-place forms (relu6 on a non-leaf, inplace=True) differentiate the old
# version; with min > max every element is max.
CLAMP_X = [-2., -1., -0.5, 0., 0.5, 1., 1.5, 2., 2.5, 6., 7., -1.0001, 1.9999,
           5.9999, 6.0001, 3.]
for name, fn, attrs in [
        ("clamp", lambda x: torch.clamp(x, -1., 2.), "clamp_kind clamp>, min = -1.0 : f64, max = 2.0 : f64"),
        ("clamp_min", lambda x: x.clamp_min(0.5), "clamp_kind clamp_min>, min = 0.5 : f64"),
        ("clamp_max", lambda x: torch.clamp(x, max=1.5), "clamp_kind clamp>, max = 1.5 : f64"),
        ("clamp_max_method", lambda x: x.clamp_max(1.5), "clamp_kind clamp_max>, max = 1.5 : f64"),
        ("clamp_empty_range", lambda x: torch.clamp(x, 2., -1.), "clamp_kind clamp>, min = 2.0 : f64, max = -1.0 : f64"),
        ("hardtanh", lambda x: torch.nn.functional.hardtanh(x, -1., 2.), "clamp_kind hardtanh>, min = -1.0 : f64, max = 2.0 : f64"),
        ("relu6", torch.nn.functional.relu6, "clamp_kind hardtanh>, min = 0.0 : f64, max = 6.0 : f64")]:
    x = torch.tensor(CLAMP_X, requires_grad=True)
    r = fn(x)
    r.sum().backward()
    example(f"{name}_bounds", f"{name}'s values and gradient at and around its bounds", f"""
graft.model @{name}_bounds {{
  %x = graft.input "x" requires_grad : tensor<16xf32>
  %r = graft.clamp %x {{kind = #graft<{attrs}}} : tensor<16xf32>
  %l = graft.sum %r : tensor<16xf32> -> tensor<f32>
  graft.output "r" %r : tensor<16xf32>
  graft.loss %l : tensor<f32>
}}
""", {"x": x}, {"r": r}, {"x": x.grad})

for name, fn, attrs in [
        ("relu6_inplace", lambda y: torch.nn.functional.relu6(y, inplace=True),
         "clamp_kind hardtanh>, min = 0.0 : f64, max = 6.0 : f64"),
        ("clamp_inplace", lambda y: y.clamp_(-1., 2.), "clamp_kind clamp>, min = -1.0 : f64, max = 2.0 : f64")]:
    x = torch.tensor(CLAMP_X, requires_grad=True)
    y = x * 2
    r = fn(y)
    (r * r).sum().backward()
    example(name, f"{name} on a non-leaf: the gradient of the old version", f"""
graft.model @{name} {{
  %x = graft.input "x" requires_grad : tensor<16xf32>
  %two = graft.constant dense<2.0> : tensor<f32>
  %y = graft.mul %x, %two : (tensor<16xf32>, tensor<f32>) -> tensor<16xf32>
  %r = graft.clamp_ %y {{kind = #graft<{attrs}}} : tensor<16xf32>
  %sq = graft.mul %r, %r : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %l = graft.sum %sq : tensor<16xf32> -> tensor<f32>
  graft.output "r" %r : tensor<16xf32>
  graft.loss %l : tensor<f32>
}}
""", {"x": x}, {"r": r}, {"x": x.grad})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "autograd_goldens.json")
with open(path, "w") as fh:
    json.dump({"generator": "test/golden/gen_autograd_goldens.py",
               "torch": torch.__version__, "examples": EXAMPLES}, fh, indent=1)
    fh.write("\n")
print(f"wrote {len(EXAMPLES)} examples to {path}")
