// RUN: graft gradcheck %s | FileCheck %s
//
// conv2d with bias, stride, padding, dilation and groups.

// CHECK-NOT: FAIL

// CHECK-LABEL: gradcheck @conv2d:
// CHECK-DAG: PASS  conv.weight  [
// CHECK-DAG: PASS  conv.bias  [
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @conv2d: PASS (3 tensors)
graft.model @conv2d {
  %x = graft.input "x" requires_grad : tensor<2x3x5x6xf32>
  %conv_weight = graft.param "conv.weight" init <normal> : tensor<4x3x3x2xf32>
  %conv_bias = graft.param "conv.bias" init <normal> : tensor<4xf32>
  %r = graft.conv2d %x, %conv_weight, %conv_bias : (tensor<2x3x5x6xf32>, tensor<4x3x3x2xf32>, tensor<4xf32>) -> tensor<2x4x3x5xf32>
  %weights = graft.input "weights" : tensor<2x4x3x5xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x4x3x5xf32>, tensor<2x4x3x5xf32>) -> tensor<2x4x3x5xf32>
  %loss = graft.sum %weighted : tensor<2x4x3x5xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @conv2d_strided:
// CHECK-DAG: PASS  conv.weight  [
// CHECK-DAG: PASS  conv.bias  [
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @conv2d_strided: PASS (3 tensors)
graft.model @conv2d_strided {
  %x = graft.input "x" requires_grad : tensor<1x2x7x7xf32>
  %conv_weight = graft.param "conv.weight" init <normal> : tensor<3x2x3x3xf32>
  %conv_bias = graft.param "conv.bias" init <normal> : tensor<3xf32>
  %r = graft.conv2d %x, %conv_weight, %conv_bias {stride = array<i64: 2, 1>, padding = array<i64: 1, 2>, dilation = array<i64: 2, 1>} : (tensor<1x2x7x7xf32>, tensor<3x2x3x3xf32>, tensor<3xf32>) -> tensor<1x3x3x9xf32>
  %weights = graft.input "weights" : tensor<1x3x3x9xf32>
  %weighted = graft.mul %r, %weights : (tensor<1x3x3x9xf32>, tensor<1x3x3x9xf32>) -> tensor<1x3x3x9xf32>
  %loss = graft.sum %weighted : tensor<1x3x3x9xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @conv2d_groups:
// CHECK-DAG: PASS  conv.weight  [
// CHECK-DAG: PASS  conv.bias  [
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @conv2d_groups: PASS (3 tensors)
graft.model @conv2d_groups {
  %x = graft.input "x" requires_grad : tensor<2x4x5x5xf32>
  %conv_weight = graft.param "conv.weight" init <normal> : tensor<6x2x3x3xf32>
  %conv_bias = graft.param "conv.bias" init <normal> : tensor<6xf32>
  %r = graft.conv2d %x, %conv_weight, %conv_bias {padding = array<i64: 1, 1>, groups = 2 : i64} : (tensor<2x4x5x5xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<2x6x5x5xf32>
  %weights = graft.input "weights" : tensor<2x6x5x5xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x6x5x5xf32>, tensor<2x6x5x5xf32>) -> tensor<2x6x5x5xf32>
  %loss = graft.sum %weighted : tensor<2x6x5x5xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}
