// RUN: graft gradcheck %s | FileCheck %s
// RUN: graft gradcheck --seed 7 %s | FileCheck %s
//
// Derived gradients of whole models, with the autograd rules that decide
// which gradients exist: retained non-leaves (perturbed themselves), hooks,
// detach, no_grad and inference cuts, frozen parameters, fan-out and in-place
// versions.

// CHECK-NOT: FAIL

// An MLP with a retained hidden activation and a hook point.
// CHECK-LABEL: gradcheck @mlp:
// CHECK-DAG: PASS  fc1.weight  [5, 4]
// CHECK-DAG: PASS  fc1.bias  [5]
// CHECK-DAG: PASS  fc2.weight  [3, 5]
// CHECK-DAG: PASS  x  [6, 4]
// CHECK-DAG: PASS  h1  [6, 5]
// CHECK-DAG: PASS  logits  [6, 3]
// CHECK: gradcheck @mlp: PASS (6 tensors)
graft.model @mlp {
  %x = graft.input "x" requires_grad : tensor<6x4xf32>
  %y = graft.input "y" : tensor<6xi64>
  %w1 = graft.param "fc1.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<5x4xf32>
  %b1 = graft.param "fc1.bias" init <uniform, {a = -0.5 : f64, b = 0.5 : f64}> : tensor<5xf32>
  %w2 = graft.param "fc2.weight" init <xavier_normal> : tensor<3x5xf32>
  %h = graft.linear %x, %w1, %b1 : (tensor<6x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<6x5xf32>
  %h1 = graft.tanh %h : tensor<6x5xf32>
  graft.retain_grad "h1" %h1 : tensor<6x5xf32>
  %hk = graft.grad_hook "h1.hook" %h1 : tensor<6x5xf32>
  %d = graft.dropout %hk {p = 0.2 : f64, stream = 1 : i64} : tensor<6x5xf32>
  %logits = graft.linear %d, %w2 : (tensor<6x5xf32>, tensor<3x5xf32>) -> tensor<6x3xf32>
  graft.retain_grad "logits" %logits : tensor<6x3xf32>
  %l = graft.cross_entropy %logits, %y : (tensor<6x3xf32>, tensor<6xi64>) -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// The seed's example: y = 2x, z = 3 + x.detach(), r = y + z; dr/dx = 2.
// The detached branch and a no_grad branch contribute nothing; a frozen
// parameter gets no gradient and is not checked.
// CHECK-LABEL: gradcheck @cuts:
// CHECK-DAG: PASS  x  [3]
// CHECK-DAG: PASS  w  [3]
// CHECK-NOT: frozen
// CHECK: gradcheck @cuts: PASS (2 tensors)
graft.model @cuts {
  %x = graft.input "x" requires_grad : tensor<3xf32>
  %w = graft.param "w" init <normal> : tensor<3xf32>
  %f = graft.param "frozen" frozen init <normal> : tensor<3xf32>
  %two = graft.constant dense<2.0> : tensor<f32>
  %three = graft.constant dense<3.0> : tensor<f32>
  %y = graft.mul %x, %two : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %xd = graft.detach %x : tensor<3xf32>
  %z = graft.add %xd, %three : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %r = graft.add %y, %z : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %n = graft.no_grad -> tensor<3xf32> {
    %e = graft.exp %w : tensor<3xf32>
    graft.yield %e : tensor<3xf32>
  }
  %rn = graft.mul %r, %n : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %rw = graft.mul %rn, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %rf = graft.mul %rw, %f : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %l = graft.sum %rf : tensor<3xf32> -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// Fan-out (gradients summed), a clone written in place, and in-place ops
// that PyTorch accepts (add then mul_ on its result).
// CHECK-LABEL: gradcheck @fanout_inplace:
// CHECK-DAG: PASS  a  [2, 3]
// CHECK-DAG: PASS  b  [3]
// CHECK: gradcheck @fanout_inplace: PASS (2 tensors)
graft.model @fanout_inplace {
  %a = graft.param "a" init <normal> : tensor<2x3xf32>
  %b = graft.param "b" init <normal> : tensor<3xf32>
  %s = graft.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %s1 = graft.mul_ %s, %b : tensor<2x3xf32>, tensor<3xf32>
  %c = graft.clone %a : tensor<2x3xf32>
  %c1 = graft.relu_ %c : tensor<2x3xf32>
  %p = graft.mul %s1, %c1 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %q = graft.mul %p, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %l = graft.mean %q : tensor<2x3xf32> -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// An inference region's result is a constant to the backward; being an
// inference tensor it is only added in (nothing may save it for backward).
// CHECK-LABEL: gradcheck @inference_branch:
// CHECK-DAG: PASS  w  [3]
// CHECK: gradcheck @inference_branch: PASS (1 tensors)
graft.model @inference_branch {
  %w = graft.param "w" init <normal> : tensor<3xf32>
  %n = graft.inference -> tensor<3xf32> {
    %e = graft.exp %w : tensor<3xf32>
    graft.yield %e : tensor<3xf32>
  }
  %s = graft.mul %w, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %r = graft.add %s, %n : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %weights = graft.input "weights" : tensor<3xf32>
  %weighted = graft.mul %r, %weights : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %l = graft.sum %weighted : tensor<3xf32> -> tensor<f32>
  graft.loss %l : tensor<f32>
}
