// RUN: graft gradcheck %s | FileCheck %s
//
// softmax and log_softmax.

// CHECK-NOT: FAIL

// CHECK-LABEL: gradcheck @softmax:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @softmax: PASS (1 tensors)
graft.model @softmax {
  %x = graft.param "x" init <normal> : tensor<2x3x4xf32>
  %r = graft.softmax %x {dim = 1 : i64} : tensor<2x3x4xf32>
  %weights = graft.input "weights" : tensor<2x3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %loss = graft.sum %weighted : tensor<2x3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @log_softmax:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @log_softmax: PASS (1 tensors)
graft.model @log_softmax {
  %x = graft.param "x" init <normal> : tensor<2x3x4xf32>
  %r = graft.log_softmax %x {dim = 2 : i64} : tensor<2x3x4xf32>
  %weights = graft.input "weights" : tensor<2x3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %loss = graft.sum %weighted : tensor<2x3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}
