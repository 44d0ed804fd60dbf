// RUN: graft gradcheck %s | FileCheck %s
//
// max_pool2d and avg_pool2d with padding, dilation, ceil_mode, count_include_pad.

// CHECK-NOT: FAIL

// CHECK-LABEL: gradcheck @max_pool2d:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @max_pool2d: PASS (1 tensors)
graft.model @max_pool2d {
  %x = graft.input "x" requires_grad : tensor<1x2x5x5xf32>
  %r = graft.max_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<1x2x5x5xf32> -> tensor<1x2x2x2xf32>
  %weights = graft.input "weights" : tensor<1x2x2x2xf32>
  %weighted = graft.mul %r, %weights : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %loss = graft.sum %weighted : tensor<1x2x2x2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @max_pool2d_pad_ceil:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @max_pool2d_pad_ceil: PASS (1 tensors)
graft.model @max_pool2d_pad_ceil {
  %x = graft.input "x" requires_grad : tensor<2x1x6x7xf32>
  %r = graft.max_pool2d %x {kernel_size = array<i64: 3, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 2>, ceil_mode = true} : tensor<2x1x6x7xf32> -> tensor<2x1x4x4xf32>
  %weights = graft.input "weights" : tensor<2x1x4x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x1x4x4xf32>, tensor<2x1x4x4xf32>) -> tensor<2x1x4x4xf32>
  %loss = graft.sum %weighted : tensor<2x1x4x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @avg_pool2d:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @avg_pool2d: PASS (1 tensors)
graft.model @avg_pool2d {
  %x = graft.input "x" requires_grad : tensor<1x2x5x5xf32>
  %r = graft.avg_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<1x2x5x5xf32> -> tensor<1x2x2x2xf32>
  %weights = graft.input "weights" : tensor<1x2x2x2xf32>
  %weighted = graft.mul %r, %weights : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %loss = graft.sum %weighted : tensor<1x2x2x2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @avg_pool2d_pad_ceil:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @avg_pool2d_pad_ceil: PASS (1 tensors)
graft.model @avg_pool2d_pad_ceil {
  %x = graft.input "x" requires_grad : tensor<2x1x6x7xf32>
  %r = graft.avg_pool2d %x {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, ceil_mode = true} : tensor<2x1x6x7xf32> -> tensor<2x1x4x4xf32>
  %weights = graft.input "weights" : tensor<2x1x4x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x1x4x4xf32>, tensor<2x1x4x4xf32>) -> tensor<2x1x4x4xf32>
  %loss = graft.sum %weighted : tensor<2x1x4x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @avg_pool2d_exclude_pad:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @avg_pool2d_exclude_pad: PASS (1 tensors)
graft.model @avg_pool2d_exclude_pad {
  %x = graft.input "x" requires_grad : tensor<2x1x6x7xf32>
  %r = graft.avg_pool2d %x {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, ceil_mode = true, count_include_pad = false} : tensor<2x1x6x7xf32> -> tensor<2x1x4x4xf32>
  %weights = graft.input "weights" : tensor<2x1x4x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x1x4x4xf32>, tensor<2x1x4x4xf32>) -> tensor<2x1x4x4xf32>
  %loss = graft.sum %weighted : tensor<2x1x4x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}
