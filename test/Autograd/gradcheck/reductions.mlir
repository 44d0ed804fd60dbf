// RUN: graft gradcheck %s | FileCheck %s
//
// sum, mean and amax over all, some and kept dimensions; amax ties.

// CHECK-NOT: FAIL

// CHECK-LABEL: gradcheck @sum_all:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @sum_all: PASS (1 tensors)
graft.model @sum_all {
  %x = graft.param "x" init <normal> : tensor<2x3x4xf32>
  %r = graft.sum %x : tensor<2x3x4xf32> -> tensor<f32>
  graft.loss %r : tensor<f32>
}

// CHECK-LABEL: gradcheck @sum_dims:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @sum_dims: PASS (1 tensors)
graft.model @sum_dims {
  %x = graft.param "x" init <normal> : tensor<2x3x4xf32>
  %r = graft.sum %x {dims = array<i64: 0, 2>} : tensor<2x3x4xf32> -> tensor<3xf32>
  %weights = graft.input "weights" : tensor<3xf32>
  %weighted = graft.mul %r, %weights : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %loss = graft.sum %weighted : tensor<3xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @sum_keepdim:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @sum_keepdim: PASS (1 tensors)
graft.model @sum_keepdim {
  %x = graft.param "x" init <normal> : tensor<2x3x4xf32>
  %r = graft.sum %x {dims = array<i64: 1>, keepdim = true} : tensor<2x3x4xf32> -> tensor<2x1x4xf32>
  %weights = graft.input "weights" : tensor<2x1x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x1x4xf32>, tensor<2x1x4xf32>) -> tensor<2x1x4xf32>
  %loss = graft.sum %weighted : tensor<2x1x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @mean_all:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @mean_all: PASS (1 tensors)
graft.model @mean_all {
  %x = graft.param "x" init <normal> : tensor<2x3x4xf32>
  %r = graft.mean %x : tensor<2x3x4xf32> -> tensor<f32>
  graft.loss %r : tensor<f32>
}

// CHECK-LABEL: gradcheck @mean_dims:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @mean_dims: PASS (1 tensors)
graft.model @mean_dims {
  %x = graft.param "x" init <normal> : tensor<2x3x4xf32>
  %r = graft.mean %x {dims = array<i64: 0, 2>} : tensor<2x3x4xf32> -> tensor<3xf32>
  %weights = graft.input "weights" : tensor<3xf32>
  %weighted = graft.mul %r, %weights : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %loss = graft.sum %weighted : tensor<3xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @mean_keepdim:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @mean_keepdim: PASS (1 tensors)
graft.model @mean_keepdim {
  %x = graft.param "x" init <normal> : tensor<2x3x4xf32>
  %r = graft.mean %x {dims = array<i64: 1>, keepdim = true} : tensor<2x3x4xf32> -> tensor<2x1x4xf32>
  %weights = graft.input "weights" : tensor<2x1x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x1x4xf32>, tensor<2x1x4xf32>) -> tensor<2x1x4xf32>
  %loss = graft.sum %weighted : tensor<2x1x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @max_all:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @max_all: PASS (1 tensors)
graft.model @max_all {
  %x = graft.param "x" init <normal> : tensor<2x3x4xf32>
  %r = graft.max %x : tensor<2x3x4xf32> -> tensor<f32>
  graft.loss %r : tensor<f32>
}

// CHECK-LABEL: gradcheck @max_dims:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @max_dims: PASS (1 tensors)
graft.model @max_dims {
  %x = graft.param "x" init <normal> : tensor<2x3x4xf32>
  %r = graft.max %x {dims = array<i64: 0, 2>} : tensor<2x3x4xf32> -> tensor<3xf32>
  %weights = graft.input "weights" : tensor<3xf32>
  %weighted = graft.mul %r, %weights : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %loss = graft.sum %weighted : tensor<3xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @max_keepdim:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @max_keepdim: PASS (1 tensors)
graft.model @max_keepdim {
  %x = graft.param "x" init <normal> : tensor<2x3x4xf32>
  %r = graft.max %x {dims = array<i64: 1>, keepdim = true} : tensor<2x3x4xf32> -> tensor<2x1x4xf32>
  %weights = graft.input "weights" : tensor<2x1x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x1x4xf32>, tensor<2x1x4xf32>) -> tensor<2x1x4xf32>
  %loss = graft.sum %weighted : tensor<2x1x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @max_ties:
// CHECK-DAG: PASS  w  [
// CHECK: gradcheck @max_ties: PASS (1 tensors)
graft.model @max_ties {
  %w = graft.param "w" init <ones> : tensor<2x4xf32>
  %c = graft.constant dense<[[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 1.0, -1.0]]> : tensor<2x4xf32>
  %x = graft.mul %c, %w : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %r = graft.max %x {dims = array<i64: 1>} : tensor<2x4xf32> -> tensor<2xf32>
  %weights = graft.input "weights" : tensor<2xf32>
  %weighted = graft.mul %r, %weights : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %loss = graft.sum %weighted : tensor<2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}
