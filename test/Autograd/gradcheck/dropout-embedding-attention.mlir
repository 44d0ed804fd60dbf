// RUN: graft gradcheck %s | FileCheck %s
// RUN: graft gradcheck --seed 1 %s | FileCheck %s
//
// dropout (same mask both ways), embedding (scatter-add, padding_idx), attention.

// CHECK-NOT: FAIL

// CHECK-LABEL: gradcheck @dropout:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @dropout: PASS (1 tensors)
graft.model @dropout {
  %x = graft.param "x" init <normal> : tensor<4x8xf32>
  %r = graft.dropout %x {p = 0.3 : f64, stream = 1 : i64} : tensor<4x8xf32>
  %weights = graft.input "weights" : tensor<4x8xf32>
  %weighted = graft.mul %r, %weights : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %loss = graft.sum %weighted : tensor<4x8xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @embedding:
// CHECK-DAG: PASS  wte  [
// CHECK: gradcheck @embedding: PASS (1 tensors)
graft.model @embedding {
  %i = graft.input "i" : tensor<2x5xi64>
  %wte = graft.param "wte" init <normal> : tensor<6x3xf32>
  %r = graft.embedding %wte, %i : (tensor<6x3xf32>, tensor<2x5xi64>) -> tensor<2x5x3xf32>
  %weights = graft.input "weights" : tensor<2x5x3xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x5x3xf32>, tensor<2x5x3xf32>) -> tensor<2x5x3xf32>
  %loss = graft.sum %weighted : tensor<2x5x3xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @embedding_padding_idx:
// CHECK-DAG: PASS  wte  [
// CHECK: gradcheck @embedding_padding_idx: PASS (1 tensors)
graft.model @embedding_padding_idx {
  %i = graft.input "i" : tensor<3x5xi64>
  %wte = graft.param "wte" init <normal> : tensor<4x3xf32>
  %r = graft.embedding %wte, %i {padding_idx = 1 : i64} : (tensor<4x3xf32>, tensor<3x5xi64>) -> tensor<3x5x3xf32>
  %weights = graft.input "weights" : tensor<3x5x3xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x5x3xf32>, tensor<3x5x3xf32>) -> tensor<3x5x3xf32>
  %loss = graft.sum %weighted : tensor<3x5x3xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @embedding_padding_idx_tied:
// CHECK-DAG: PASS  wte  [
// CHECK: gradcheck @embedding_padding_idx_tied: PASS (1 tensors)
graft.model @embedding_padding_idx_tied {
  %i = graft.input "i" : tensor<2x5xi64>
  %wte = graft.param "wte" init <normal> : tensor<4x3xf32>
  %e = graft.embedding %wte, %i {padding_idx = 1 : i64} : (tensor<4x3xf32>, tensor<2x5xi64>) -> tensor<2x5x3xf32>
  %r = graft.linear %e, %wte : (tensor<2x5x3xf32>, tensor<4x3xf32>) -> tensor<2x5x4xf32>
  %weights = graft.input "weights" : tensor<2x5x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x5x4xf32>, tensor<2x5x4xf32>) -> tensor<2x5x4xf32>
  %loss = graft.sum %weighted : tensor<2x5x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @attention:
// CHECK-DAG: PASS  q  [
// CHECK-DAG: PASS  k  [
// CHECK-DAG: PASS  v  [
// CHECK: gradcheck @attention: PASS (3 tensors)
graft.model @attention {
  %q = graft.param "q" init <normal> : tensor<2x3x4xf32>
  %k = graft.param "k" init <normal> : tensor<2x5x4xf32>
  %v = graft.param "v" init <normal> : tensor<2x5x2xf32>
  %r = graft.scaled_dot_product_attention %q, %k, %v : (tensor<2x3x4xf32>, tensor<2x5x4xf32>, tensor<2x5x2xf32>) -> tensor<2x3x2xf32>
  %weights = graft.input "weights" : tensor<2x3x2xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x3x2xf32>, tensor<2x3x2xf32>) -> tensor<2x3x2xf32>
  %loss = graft.sum %weighted : tensor<2x3x2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @attention_causal:
// CHECK-DAG: PASS  q  [
// CHECK-DAG: PASS  k  [
// CHECK-DAG: PASS  v  [
// CHECK: gradcheck @attention_causal: PASS (3 tensors)
graft.model @attention_causal {
  %q = graft.param "q" init <normal> : tensor<2x3x4xf32>
  %k = graft.param "k" init <normal> : tensor<2x5x4xf32>
  %v = graft.param "v" init <normal> : tensor<2x5x2xf32>
  %r = graft.scaled_dot_product_attention %q, %k, %v {is_causal = true, scale = 0.3 : f64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>, tensor<2x5x2xf32>) -> tensor<2x3x2xf32>
  %weights = graft.input "weights" : tensor<2x3x2xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x3x2xf32>, tensor<2x3x2xf32>) -> tensor<2x3x2xf32>
  %loss = graft.sum %weighted : tensor<2x3x2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}
