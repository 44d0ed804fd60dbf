// RUN: graft gradcheck %s | FileCheck %s
//
// Views and layout: reshape, transpose, permute, broadcast_to, slice, concat.

// CHECK-NOT: FAIL

// CHECK-LABEL: gradcheck @reshape:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @reshape: PASS (1 tensors)
graft.model @reshape {
  %x = graft.param "x" init <normal> : tensor<2x3x4xf32>
  %r = graft.reshape %x : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %weights = graft.input "weights" : tensor<6x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<6x4xf32>
  %loss = graft.sum %weighted : tensor<6x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @transpose:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @transpose: PASS (1 tensors)
graft.model @transpose {
  %x = graft.param "x" init <normal> : tensor<2x3x4xf32>
  %r = graft.transpose %x {dim0 = 0 : i64, dim1 = 2 : i64} : tensor<2x3x4xf32> -> tensor<4x3x2xf32>
  %weights = graft.input "weights" : tensor<4x3x2xf32>
  %weighted = graft.mul %r, %weights : (tensor<4x3x2xf32>, tensor<4x3x2xf32>) -> tensor<4x3x2xf32>
  %loss = graft.sum %weighted : tensor<4x3x2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @permute:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @permute: PASS (1 tensors)
graft.model @permute {
  %x = graft.param "x" init <normal> : tensor<2x3x4xf32>
  %r = graft.permute %x {dims = array<i64: 1, 2, 0>} : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
  %weights = graft.input "weights" : tensor<3x4x2xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4x2xf32>, tensor<3x4x2xf32>) -> tensor<3x4x2xf32>
  %loss = graft.sum %weighted : tensor<3x4x2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @broadcast_to:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @broadcast_to: PASS (1 tensors)
graft.model @broadcast_to {
  %x = graft.param "x" init <normal> : tensor<3x1xf32>
  %r = graft.broadcast_to %x : tensor<3x1xf32> -> tensor<2x3x4xf32>
  %weights = graft.input "weights" : tensor<2x3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %loss = graft.sum %weighted : tensor<2x3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @slice:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @slice: PASS (1 tensors)
graft.model @slice {
  %x = graft.param "x" init <normal> : tensor<2x3x4xf32>
  %r = graft.slice %x {dim = 2 : i64, start = 1 : i64, end = 4 : i64, step = 2 : i64} : tensor<2x3x4xf32> -> tensor<2x3x2xf32>
  %weights = graft.input "weights" : tensor<2x3x2xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x3x2xf32>, tensor<2x3x2xf32>) -> tensor<2x3x2xf32>
  %loss = graft.sum %weighted : tensor<2x3x2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @concat:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @concat: PASS (2 tensors)
graft.model @concat {
  %a = graft.param "a" init <normal> : tensor<2x3x4xf32>
  %b = graft.param "b" init <normal> : tensor<2x2x4xf32>
  %r = graft.concat %a, %b, %a {dim = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x2x4xf32>, tensor<2x3x4xf32>) -> tensor<2x8x4xf32>
  %weights = graft.input "weights" : tensor<2x8x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x8x4xf32>, tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %loss = graft.sum %weighted : tensor<2x8x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}
