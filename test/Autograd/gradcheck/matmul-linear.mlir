// RUN: graft gradcheck %s | FileCheck %s
//
// torch.matmul in every rank combination, and F.linear.

// CHECK-NOT: FAIL

// CHECK-LABEL: gradcheck @matmul_dot:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @matmul_dot: PASS (2 tensors)
graft.model @matmul_dot {
  %a = graft.param "a" init <normal> : tensor<3xf32>
  %b = graft.param "b" init <normal> : tensor<3xf32>
  %r = graft.matmul %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
  graft.loss %r : tensor<f32>
}

// CHECK-LABEL: gradcheck @matmul_vec_mat:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @matmul_vec_mat: PASS (2 tensors)
graft.model @matmul_vec_mat {
  %a = graft.param "a" init <normal> : tensor<3xf32>
  %b = graft.param "b" init <normal> : tensor<3x2xf32>
  %r = graft.matmul %a, %b : (tensor<3xf32>, tensor<3x2xf32>) -> tensor<2xf32>
  %weights = graft.input "weights" : tensor<2xf32>
  %weighted = graft.mul %r, %weights : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %loss = graft.sum %weighted : tensor<2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @matmul_mat_vec:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @matmul_mat_vec: PASS (2 tensors)
graft.model @matmul_mat_vec {
  %a = graft.param "a" init <normal> : tensor<2x3xf32>
  %b = graft.param "b" init <normal> : tensor<3xf32>
  %r = graft.matmul %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2xf32>
  %weights = graft.input "weights" : tensor<2xf32>
  %weighted = graft.mul %r, %weights : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %loss = graft.sum %weighted : tensor<2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @matmul_mat_mat:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @matmul_mat_mat: PASS (2 tensors)
graft.model @matmul_mat_mat {
  %a = graft.param "a" init <normal> : tensor<2x3xf32>
  %b = graft.param "b" init <normal> : tensor<3x4xf32>
  %r = graft.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %weights = graft.input "weights" : tensor<2x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %loss = graft.sum %weighted : tensor<2x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @matmul_batch_bcast:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @matmul_batch_bcast: PASS (2 tensors)
graft.model @matmul_batch_bcast {
  %a = graft.param "a" init <normal> : tensor<2x1x2x3xf32>
  %b = graft.param "b" init <normal> : tensor<3x3x2xf32>
  %r = graft.matmul %a, %b : (tensor<2x1x2x3xf32>, tensor<3x3x2xf32>) -> tensor<2x3x2x2xf32>
  %weights = graft.input "weights" : tensor<2x3x2x2xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x3x2x2xf32>, tensor<2x3x2x2xf32>) -> tensor<2x3x2x2xf32>
  %loss = graft.sum %weighted : tensor<2x3x2x2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @matmul_batch_vec:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @matmul_batch_vec: PASS (2 tensors)
graft.model @matmul_batch_vec {
  %a = graft.param "a" init <normal> : tensor<2x2x3xf32>
  %b = graft.param "b" init <normal> : tensor<3xf32>
  %r = graft.matmul %a, %b : (tensor<2x2x3xf32>, tensor<3xf32>) -> tensor<2x2xf32>
  %weights = graft.input "weights" : tensor<2x2xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %loss = graft.sum %weighted : tensor<2x2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @matmul_vec_batch:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @matmul_vec_batch: PASS (2 tensors)
graft.model @matmul_vec_batch {
  %a = graft.param "a" init <normal> : tensor<3xf32>
  %b = graft.param "b" init <normal> : tensor<2x3x2xf32>
  %r = graft.matmul %a, %b : (tensor<3xf32>, tensor<2x3x2xf32>) -> tensor<2x2xf32>
  %weights = graft.input "weights" : tensor<2x2xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %loss = graft.sum %weighted : tensor<2x2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @linear:
// CHECK-DAG: PASS  fc.weight  [
// CHECK-DAG: PASS  fc.bias  [
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @linear: PASS (3 tensors)
graft.model @linear {
  %x = graft.input "x" requires_grad : tensor<2x3x4xf32>
  %fc_weight = graft.param "fc.weight" init <kaiming_uniform> : tensor<5x4xf32>
  %fc_bias = graft.param "fc.bias" init <normal> : tensor<5xf32>
  %r = graft.linear %x, %fc_weight, %fc_bias : (tensor<2x3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>
  %weights = graft.input "weights" : tensor<2x3x5xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x3x5xf32>, tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %loss = graft.sum %weighted : tensor<2x3x5xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @linear_no_bias:
// CHECK-DAG: PASS  w  [
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @linear_no_bias: PASS (2 tensors)
graft.model @linear_no_bias {
  %x = graft.input "x" requires_grad : tensor<3x4xf32>
  %w = graft.param "w" init <normal> : tensor<5x4xf32>
  %r = graft.linear %x, %w : (tensor<3x4xf32>, tensor<5x4xf32>) -> tensor<3x5xf32>
  %weights = graft.input "weights" : tensor<3x5xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x5xf32>, tensor<3x5xf32>) -> tensor<3x5xf32>
  %loss = graft.sum %weighted : tensor<3x5xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}
