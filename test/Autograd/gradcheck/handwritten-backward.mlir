// RUN: graft gradcheck %s | FileCheck %s
//
// Models that already carry their backward pass, written by hand with the
// backward ops (graft-derive-backward is skipped when graft.gradient marks
// exist). This checks gradcheck itself and the evaluator's backward ops
// against finite differences.

// CHECK-NOT: FAIL

// CHECK-LABEL: gradcheck @embedding_scatter:
// CHECK: PASS  wte  [5, 3]
// CHECK: gradcheck @embedding_scatter: PASS (1 tensors)
graft.model @embedding_scatter {
  %w = graft.param "wte" init <normal> : tensor<5x3xf64>
  %i = graft.input "i" : tensor<4xi64>
  %r = graft.input "weights" : tensor<4x3xf64>
  %e = graft.embedding %w, %i : (tensor<5x3xf64>, tensor<4xi64>) -> tensor<4x3xf64>
  %m = graft.mul %e, %r : (tensor<4x3xf64>, tensor<4x3xf64>) -> tensor<4x3xf64>
  %l = graft.sum %m : tensor<4x3xf64> -> tensor<f64>
  graft.loss %l : tensor<f64>
  %gw = graft.embedding_backward %r, %i : (tensor<4x3xf64>, tensor<4xi64>) -> tensor<5x3xf64>
  graft.gradient "wte" %gw : tensor<5x3xf64>
}

// CHECK-LABEL: gradcheck @slice_scatter:
// CHECK: PASS  x  [2, 6]
graft.model @slice_scatter {
  %x = graft.param "x" init <normal> : tensor<2x6xf64>
  %r = graft.input "weights" : tensor<2x3xf64>
  %s = graft.slice %x {dim = 1 : i64, start = 1 : i64, end = 6 : i64, step = 2 : i64} : tensor<2x6xf64> -> tensor<2x3xf64>
  %m = graft.mul %s, %r : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
  %l = graft.sum %m : tensor<2x3xf64> -> tensor<f64>
  graft.loss %l : tensor<f64>
  %g = graft.slice_backward %r {dim = 1 : i64, start = 1 : i64, end = 6 : i64, step = 2 : i64} : tensor<2x3xf64> -> tensor<2x6xf64>
  graft.gradient "x" %g : tensor<2x6xf64>
}

// CHECK-LABEL: gradcheck @conv:
// CHECK-DAG: PASS  x  [1, 2, 5, 5]
// CHECK-DAG: PASS  w  [4, 1, 3, 3]
graft.model @conv {
  %x = graft.input "x" requires_grad : tensor<1x2x5x5xf64>
  %w = graft.param "w" init <normal> : tensor<4x1x3x3xf64>
  %r = graft.input "weights" : tensor<1x4x3x3xf64>
  %y = graft.conv2d %x, %w {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 2 : i64} : (tensor<1x2x5x5xf64>, tensor<4x1x3x3xf64>) -> tensor<1x4x3x3xf64>
  %m = graft.mul %y, %r : (tensor<1x4x3x3xf64>, tensor<1x4x3x3xf64>) -> tensor<1x4x3x3xf64>
  %l = graft.sum %m : tensor<1x4x3x3xf64> -> tensor<f64>
  graft.loss %l : tensor<f64>
  %gx = graft.conv2d_backward_input %r, %w {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 2 : i64} : (tensor<1x4x3x3xf64>, tensor<4x1x3x3xf64>) -> tensor<1x2x5x5xf64>
  %gw = graft.conv2d_backward_weight %r, %x {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 2 : i64} : (tensor<1x4x3x3xf64>, tensor<1x2x5x5xf64>) -> tensor<4x1x3x3xf64>
  graft.gradient "x" %gx : tensor<1x2x5x5xf64>
  graft.gradient "w" %gw : tensor<4x1x3x3xf64>
}

// CHECK-LABEL: gradcheck @pools:
// CHECK-DAG: PASS  x  [1, 1, 5, 5]
// CHECK-DAG: PASS  z  [1, 1, 5, 5]
graft.model @pools {
  %x = graft.input "x" requires_grad : tensor<1x1x5x5xf64>
  %z = graft.input "z" requires_grad : tensor<1x1x5x5xf64>
  %rx = graft.input "rx" : tensor<1x1x3x3xf64>
  %rz = graft.input "rz" : tensor<1x1x3x3xf64>
  %p = graft.max_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x1x5x5xf64> -> tensor<1x1x3x3xf64>
  %q = graft.avg_pool2d %z {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, ceil_mode = true, count_include_pad = false} : tensor<1x1x5x5xf64> -> tensor<1x1x3x3xf64>
  %pm = graft.mul %p, %rx : (tensor<1x1x3x3xf64>, tensor<1x1x3x3xf64>) -> tensor<1x1x3x3xf64>
  %qm = graft.mul %q, %rz : (tensor<1x1x3x3xf64>, tensor<1x1x3x3xf64>) -> tensor<1x1x3x3xf64>
  %s = graft.add %pm, %qm : (tensor<1x1x3x3xf64>, tensor<1x1x3x3xf64>) -> tensor<1x1x3x3xf64>
  %l = graft.sum %s : tensor<1x1x3x3xf64> -> tensor<f64>
  graft.loss %l : tensor<f64>
  %gx = graft.max_pool2d_backward %rx, %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : (tensor<1x1x3x3xf64>, tensor<1x1x5x5xf64>) -> tensor<1x1x5x5xf64>
  %gz = graft.avg_pool2d_backward %rz {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, ceil_mode = true, count_include_pad = false} : tensor<1x1x3x3xf64> -> tensor<1x1x5x5xf64>
  graft.gradient "x" %gx : tensor<1x1x5x5xf64>
  graft.gradient "z" %gz : tensor<1x1x5x5xf64>
}

// Cross-entropy written out: d/dx of -sum(log_softmax(x) * one_hot(y)) is
// softmax(x) * rowsum(one_hot) - one_hot(y).
// CHECK-LABEL: gradcheck @one_hot_ce:
// CHECK: PASS  x  [3, 4]
graft.model @one_hot_ce {
  %x = graft.param "x" init <normal> : tensor<3x4xf64>
  %y = graft.input "y" : tensor<3xi64>
  %oh = graft.one_hot %y : tensor<3xi64> -> tensor<3x4xf64>
  %lp = graft.log_softmax %x {dim = 1 : i64} : tensor<3x4xf64>
  %t = graft.mul %lp, %oh : (tensor<3x4xf64>, tensor<3x4xf64>) -> tensor<3x4xf64>
  %s = graft.sum %t : tensor<3x4xf64> -> tensor<f64>
  %l = graft.neg %s : tensor<f64>
  graft.loss %l : tensor<f64>
  %sm = graft.softmax %x {dim = 1 : i64} : tensor<3x4xf64>
  %g = graft.sub %sm, %oh : (tensor<3x4xf64>, tensor<3x4xf64>) -> tensor<3x4xf64>
  graft.gradient "x" %g : tensor<3x4xf64>
}

// A hook point: with no callback registered, hook_call is the identity.
// CHECK-LABEL: gradcheck @hook:
// CHECK: PASS  x  [3]
graft.model @hook {
  %x = graft.param "x" init <normal> : tensor<3xf64>
  %r = graft.input "weights" : tensor<3xf64>
  %h = graft.grad_hook "x.hook" %x : tensor<3xf64>
  %m = graft.mul %h, %r : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
  %l = graft.sum %m : tensor<3xf64> -> tensor<f64>
  graft.loss %l : tensor<f64>
  %g = graft.hook_call "x.hook" %r : tensor<3xf64>
  graft.gradient "x" %g : tensor<3xf64>
}
