// RUN: graft gradcheck %s | FileCheck %s
//
// Elementwise binary ops, with broadcasting on both sides.

// CHECK-NOT: FAIL

// CHECK-LABEL: gradcheck @add:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @add: PASS (2 tensors)
graft.model @add {
  %a = graft.param "a" init <normal> : tensor<3x4xf32>
  %b = graft.param "b" init <normal> : tensor<4xf32>
  %r = graft.add %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @sub:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @sub: PASS (2 tensors)
graft.model @sub {
  %a = graft.param "a" init <normal> : tensor<3x1xf32>
  %b = graft.param "b" init <normal> : tensor<4xf32>
  %r = graft.sub %a, %b : (tensor<3x1xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @mul:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @mul: PASS (2 tensors)
graft.model @mul {
  %a = graft.param "a" init <normal> : tensor<3x4xf32>
  %b = graft.param "b" init <normal> : tensor<3x1xf32>
  %r = graft.mul %a, %b : (tensor<3x4xf32>, tensor<3x1xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @div:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @div: PASS (2 tensors)
graft.model @div {
  %a = graft.param "a" init <normal> : tensor<3x4xf32>
  %b = graft.param "b" init <uniform, {a = 5.000000e-01 : f64, b = 2.000000e+00 : f64}> : tensor<4xf32>
  %r = graft.div %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @pow:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @pow: PASS (2 tensors)
graft.model @pow {
  %a = graft.param "a" init <uniform, {a = 5.000000e-01 : f64, b = 2.000000e+00 : f64}> : tensor<3x4xf32>
  %b = graft.param "b" init <normal> : tensor<4xf32>
  %r = graft.pow %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @maximum:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @maximum: PASS (2 tensors)
graft.model @maximum {
  %a = graft.param "a" init <normal> : tensor<3x4xf32>
  %b = graft.param "b" init <normal> : tensor<3x4xf32>
  %r = graft.maximum %a, %b : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @minimum:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @minimum: PASS (2 tensors)
graft.model @minimum {
  %a = graft.param "a" init <normal> : tensor<3x4xf32>
  %b = graft.param "b" init <normal> : tensor<1x4xf32>
  %r = graft.minimum %a, %b : (tensor<3x4xf32>, tensor<1x4xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}
