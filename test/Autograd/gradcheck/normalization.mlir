// RUN: graft gradcheck %s | FileCheck %s
//
// layer_norm and batch_norm (train mode: batch statistics).

// CHECK-NOT: FAIL

// CHECK-LABEL: gradcheck @layer_norm:
// CHECK-DAG: PASS  ln.weight  [
// CHECK-DAG: PASS  ln.bias  [
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @layer_norm: PASS (3 tensors)
graft.model @layer_norm {
  %x = graft.input "x" requires_grad : tensor<2x3x4xf32>
  %ln_weight = graft.param "ln.weight" init <normal> : tensor<4xf32>
  %ln_bias = graft.param "ln.bias" init <normal> : tensor<4xf32>
  %r = graft.layer_norm %x weight %ln_weight bias %ln_bias {normalized_shape = array<i64: 4>} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %weights = graft.input "weights" : tensor<2x3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %loss = graft.sum %weighted : tensor<2x3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @layer_norm_2d_no_affine:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @layer_norm_2d_no_affine: PASS (1 tensors)
graft.model @layer_norm_2d_no_affine {
  %x = graft.input "x" requires_grad : tensor<2x3x4xf32>
  %r = graft.layer_norm %x {normalized_shape = array<i64: 3, 4>, eps = 1.0e-3 : f64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %weights = graft.input "weights" : tensor<2x3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %loss = graft.sum %weighted : tensor<2x3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @batch_norm:
// CHECK-DAG: PASS  bn.weight  [
// CHECK-DAG: PASS  bn.bias  [
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @batch_norm: PASS (3 tensors)
graft.model @batch_norm {
  %x = graft.input "x" requires_grad : tensor<4x3x2x2xf32>
  %bn_weight = graft.param "bn.weight" init <normal> : tensor<3xf32>
  %bn_bias = graft.param "bn.bias" init <normal> : tensor<3xf32>
  %rm = graft.buffer "bn.running_mean" init <zeros> : tensor<3xf32>
  %rv = graft.buffer "bn.running_var" init <ones> : tensor<3xf32>
  %r = graft.batch_norm %x weight %bn_weight bias %bn_bias running %rm, %rv : (tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<4x3x2x2xf32>
  %weights = graft.input "weights" : tensor<4x3x2x2xf32>
  %weighted = graft.mul %r, %weights : (tensor<4x3x2x2xf32>, tensor<4x3x2x2xf32>) -> tensor<4x3x2x2xf32>
  %loss = graft.sum %weighted : tensor<4x3x2x2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}
