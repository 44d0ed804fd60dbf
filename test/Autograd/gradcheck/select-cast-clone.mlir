// RUN: graft gradcheck %s | FileCheck %s
//
// where, masked_fill, float casts, clone, compare and argmax.

// CHECK-NOT: FAIL

// CHECK-LABEL: gradcheck @where:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @where: PASS (2 tensors)
graft.model @where {
  %m = graft.input "m" : tensor<3x4xi1>
  %a = graft.param "a" init <normal> : tensor<3x4xf32>
  %b = graft.param "b" init <normal> : tensor<4xf32>
  %r = graft.where %m, %a, %b : (tensor<3x4xi1>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @masked_fill:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @masked_fill: PASS (1 tensors)
graft.model @masked_fill {
  %m = graft.input "m" : tensor<4xi1>
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.masked_fill %x, %m {value = 2.5 : f64} : (tensor<3x4xf32>, tensor<4xi1>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @cast:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @cast: PASS (1 tensors)
graft.model @cast {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %c = graft.cast %x : tensor<3x4xf32> -> tensor<3x4xf64>
  %e = graft.exp %c : tensor<3x4xf64>
  %r = graft.cast %e : tensor<3x4xf64> -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @clone:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @clone: PASS (1 tensors)
graft.model @clone {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %c = graft.clone %x : tensor<3x4xf32>
  %r = graft.mul %c, %x : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @where_compare:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @where_compare: PASS (2 tensors)
graft.model @where_compare {
  %a = graft.param "a" init <normal> : tensor<3x4xf32>
  %b = graft.param "b" init <normal> : tensor<3x4xf32>
  %m = graft.compare gt, %a, %b : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xi1>
  %r = graft.where %m, %a, %b : (tensor<3x4xi1>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @argmax_rows:
// CHECK-DAG: PASS  w  [
// CHECK: gradcheck @argmax_rows: PASS (1 tensors)
graft.model @argmax_rows {
  %x = graft.input "x" : tensor<3x4xf32>
  %w = graft.param "w" init <normal> : tensor<5x2xf32>
  %i = graft.argmax %x {dim = 1 : i64} : tensor<3x4xf32> -> tensor<3xi64>
  %r = graft.embedding %w, %i : (tensor<5x2xf32>, tensor<3xi64>) -> tensor<3x2xf32>
  %weights = graft.input "weights" : tensor<3x2xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  %loss = graft.sum %weighted : tensor<3x2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}
