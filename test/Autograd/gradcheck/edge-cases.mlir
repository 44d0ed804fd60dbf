// RUN: graft gradcheck %s | FileCheck %s
// RUN: graft gradcheck --seed 3 %s | FileCheck %s
//
// Harder cases for the VJP rules: broadcasting on both sides, every conv option, overlapping pools, 2-D batch_norm, 4-D causal attention, repeated indices, bf16 casts, hooks on fan-out, retained chains.

// CHECK-NOT: FAIL

// CHECK-LABEL: gradcheck @matmul_both_bcast:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @matmul_both_bcast: PASS (2 tensors)
graft.model @matmul_both_bcast {
  %a = graft.param "a" init <normal> : tensor<3x1x2x4xf32>
  %b = graft.param "b" init <normal> : tensor<2x4x5xf32>
  %r = graft.matmul %a, %b : (tensor<3x1x2x4xf32>, tensor<2x4x5xf32>) -> tensor<3x2x2x5xf32>
  %weights = graft.input "weights" : tensor<3x2x2x5xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x2x2x5xf32>, tensor<3x2x2x5xf32>) -> tensor<3x2x2x5xf32>
  %loss = graft.sum %weighted : tensor<3x2x2x5xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @softmax_dim0:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @softmax_dim0: PASS (1 tensors)
graft.model @softmax_dim0 {
  %x = graft.param "x" init <normal> : tensor<3x2x2xf32>
  %r = graft.softmax %x {dim = 0 : i64} : tensor<3x2x2xf32>
  %weights = graft.input "weights" : tensor<3x2x2xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x2x2xf32>, tensor<3x2x2xf32>) -> tensor<3x2x2xf32>
  %loss = graft.sum %weighted : tensor<3x2x2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @sum_middle_keep_mean_last:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @sum_middle_keep_mean_last: PASS (1 tensors)
graft.model @sum_middle_keep_mean_last {
  %x = graft.param "x" init <normal> : tensor<2x3x4x2xf32>
  %s = graft.sum %x {dims = array<i64: 1, 3>, keepdim = true} : tensor<2x3x4x2xf32> -> tensor<2x1x4x1xf32>
  %r = graft.mean %s {dims = array<i64: 2>} : tensor<2x1x4x1xf32> -> tensor<2x1x1xf32>
  %weights = graft.input "weights" : tensor<2x1x1xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x1x1xf32>, tensor<2x1x1xf32>) -> tensor<2x1x1xf32>
  %loss = graft.sum %weighted : tensor<2x1x1xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @conv2d_all:
// CHECK-DAG: PASS  w  [
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @conv2d_all: PASS (2 tensors)
graft.model @conv2d_all {
  %x = graft.input "x" requires_grad : tensor<2x3x7x8xf32>
  %w = graft.param "w" init <normal> : tensor<4x3x2x3xf32>
  %r = graft.conv2d %x, %w {stride = array<i64: 2, 3>, padding = array<i64: 2, 1>, dilation = array<i64: 2, 2>} : (tensor<2x3x7x8xf32>, tensor<4x3x2x3xf32>) -> tensor<2x4x5x2xf32>
  %weights = graft.input "weights" : tensor<2x4x5x2xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x4x5x2xf32>, tensor<2x4x5x2xf32>) -> tensor<2x4x5x2xf32>
  %loss = graft.sum %weighted : tensor<2x4x5x2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @conv2d_depthwise:
// CHECK-DAG: PASS  w  [
// CHECK-DAG: PASS  b  [
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @conv2d_depthwise: PASS (3 tensors)
graft.model @conv2d_depthwise {
  %x = graft.input "x" requires_grad : tensor<1x3x4x4xf32>
  %w = graft.param "w" init <normal> : tensor<6x1x3x3xf32>
  %b = graft.param "b" init <normal> : tensor<6xf32>
  %r = graft.conv2d %x, %w, %b {padding = array<i64: 1, 1>, groups = 3 : i64} : (tensor<1x3x4x4xf32>, tensor<6x1x3x3xf32>, tensor<6xf32>) -> tensor<1x6x4x4xf32>
  %weights = graft.input "weights" : tensor<1x6x4x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<1x6x4x4xf32>, tensor<1x6x4x4xf32>) -> tensor<1x6x4x4xf32>
  %loss = graft.sum %weighted : tensor<1x6x4x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @max_pool_overlap:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @max_pool_overlap: PASS (1 tensors)
graft.model @max_pool_overlap {
  %x = graft.input "x" requires_grad : tensor<1x2x4x4xf32>
  %r = graft.max_pool2d %x {kernel_size = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %weights = graft.input "weights" : tensor<1x2x4x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %loss = graft.sum %weighted : tensor<1x2x4x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @avg_pool_overlap:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @avg_pool_overlap: PASS (1 tensors)
graft.model @avg_pool_overlap {
  %x = graft.input "x" requires_grad : tensor<1x2x5x5xf32>
  %r = graft.avg_pool2d %x {kernel_size = array<i64: 2, 3>, stride = array<i64: 1, 2>, padding = array<i64: 1, 1>, count_include_pad = false} : tensor<1x2x5x5xf32> -> tensor<1x2x6x3xf32>
  %weights = graft.input "weights" : tensor<1x2x6x3xf32>
  %weighted = graft.mul %r, %weights : (tensor<1x2x6x3xf32>, tensor<1x2x6x3xf32>) -> tensor<1x2x6x3xf32>
  %loss = graft.sum %weighted : tensor<1x2x6x3xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @layer_norm_weight_only:
// CHECK-DAG: PASS  g  [
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @layer_norm_weight_only: PASS (2 tensors)
graft.model @layer_norm_weight_only {
  %x = graft.input "x" requires_grad : tensor<4x2x3xf32>
  %g = graft.param "g" init <normal> : tensor<2x3xf32>
  %r = graft.layer_norm %x weight %g {normalized_shape = array<i64: 2, 3>} : (tensor<4x2x3xf32>, tensor<2x3xf32>) -> tensor<4x2x3xf32>
  %weights = graft.input "weights" : tensor<4x2x3xf32>
  %weighted = graft.mul %r, %weights : (tensor<4x2x3xf32>, tensor<4x2x3xf32>) -> tensor<4x2x3xf32>
  %loss = graft.sum %weighted : tensor<4x2x3xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @batch_norm_2d_no_affine:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @batch_norm_2d_no_affine: PASS (1 tensors)
graft.model @batch_norm_2d_no_affine {
  %x = graft.input "x" requires_grad : tensor<5x3xf32>
  %rm = graft.buffer "bn.running_mean" init <zeros> : tensor<3xf32>
  %rv = graft.buffer "bn.running_var" init <ones> : tensor<3xf32>
  %r = graft.batch_norm %x running %rm, %rv {momentum = 0.3 : f64, eps = 1.0e-3 : f64} : (tensor<5x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<5x3xf32>
  %weights = graft.input "weights" : tensor<5x3xf32>
  %weighted = graft.mul %r, %weights : (tensor<5x3xf32>, tensor<5x3xf32>) -> tensor<5x3xf32>
  %loss = graft.sum %weighted : tensor<5x3xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @attention_4d_causal_square:
// CHECK-DAG: PASS  q  [
// CHECK-DAG: PASS  k  [
// CHECK-DAG: PASS  v  [
// CHECK: gradcheck @attention_4d_causal_square: PASS (3 tensors)
graft.model @attention_4d_causal_square {
  %q = graft.param "q" init <normal> : tensor<2x2x4x3xf32>
  %k = graft.param "k" init <normal> : tensor<2x2x4x3xf32>
  %v = graft.param "v" init <normal> : tensor<2x2x4x5xf32>
  %r = graft.scaled_dot_product_attention %q, %k, %v {is_causal = true} : (tensor<2x2x4x3xf32>, tensor<2x2x4x3xf32>, tensor<2x2x4x5xf32>) -> tensor<2x2x4x5xf32>
  %weights = graft.input "weights" : tensor<2x2x4x5xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x2x4x5xf32>, tensor<2x2x4x5xf32>) -> tensor<2x2x4x5xf32>
  %loss = graft.sum %weighted : tensor<2x2x4x5xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @where_bcast_cond:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @where_bcast_cond: PASS (2 tensors)
graft.model @where_bcast_cond {
  %m = graft.input "m" : tensor<3xi1>
  %a = graft.param "a" init <normal> : tensor<2x3xf32>
  %b = graft.param "b" init <normal> : tensor<f32>
  %r = graft.where %m, %a, %b : (tensor<3xi1>, tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %weights = graft.input "weights" : tensor<2x3xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %loss = graft.sum %weighted : tensor<2x3xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @pow_scalar_exponent:
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  e  [
// CHECK: gradcheck @pow_scalar_exponent: PASS (2 tensors)
graft.model @pow_scalar_exponent {
  %a = graft.param "a" init <uniform, {a = 5.000000e-01 : f64, b = 2.000000e+00 : f64}> : tensor<2x3xf32>
  %e = graft.param "e" init <normal> : tensor<f32>
  %r = graft.pow %a, %e : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %weights = graft.input "weights" : tensor<2x3xf32>
  %weighted = graft.mul %r, %weights : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %loss = graft.sum %weighted : tensor<2x3xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @slice_clamped_concat_dim0:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @slice_clamped_concat_dim0: PASS (1 tensors)
graft.model @slice_clamped_concat_dim0 {
  %x = graft.param "x" init <normal> : tensor<5x2xf32>
  %s = graft.slice %x {dim = 0 : i64, start = 3 : i64, end = 100 : i64} : tensor<5x2xf32> -> tensor<2x2xf32>
  %s2 = graft.slice %x {dim = 0 : i64, start = 0 : i64, end = 5 : i64, step = 3 : i64} : tensor<5x2xf32> -> tensor<2x2xf32>
  %r = graft.concat %s, %s2, %s {dim = 0 : i64} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<6x2xf32>
  %weights = graft.input "weights" : tensor<6x2xf32>
  %weighted = graft.mul %r, %weights : (tensor<6x2xf32>, tensor<6x2xf32>) -> tensor<6x2xf32>
  %loss = graft.sum %weighted : tensor<6x2xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @embedding_repeated:
// CHECK-DAG: PASS  w  [
// CHECK: gradcheck @embedding_repeated: PASS (1 tensors)
graft.model @embedding_repeated {
  %i = graft.input "i" : tensor<10xi64>
  %w = graft.param "w" init <normal> : tensor<3x4xf32>
  %e = graft.embedding %w, %i : (tensor<3x4xf32>, tensor<10xi64>) -> tensor<10x4xf32>
  %r = graft.tanh %e : tensor<10x4xf32>
  %weights = graft.input "weights" : tensor<10x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<10x4xf32>, tensor<10x4xf32>) -> tensor<10x4xf32>
  %loss = graft.sum %weighted : tensor<10x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @cast_to_bf16_and_back:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @cast_to_bf16_and_back: PASS (1 tensors)
graft.model @cast_to_bf16_and_back {
  %x = graft.param "x" init <normal> : tensor<4xf32>
  %c = graft.cast %x : tensor<4xf32> -> tensor<4xbf16>
  %s = graft.sigmoid %c : tensor<4xbf16>
  %r = graft.cast %s : tensor<4xbf16> -> tensor<4xf32>
  %weights = graft.input "weights" : tensor<4xf32>
  %weighted = graft.mul %r, %weights : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %loss = graft.sum %weighted : tensor<4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @ce_ignore_smoothing_3class:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @ce_ignore_smoothing_3class: PASS (1 tensors)
graft.model @ce_ignore_smoothing_3class {
  %x = graft.input "x" requires_grad : tensor<8x3xf32>
  %y = graft.input "y" : tensor<8xi64>
  %l = graft.cross_entropy %x, %y {ignore_index = 2 : i64, label_smoothing = 0.3 : f64} : (tensor<8x3xf32>, tensor<8xi64>) -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// CHECK-LABEL: gradcheck @hook_twice_fanout:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @hook_twice_fanout: PASS (1 tensors)
graft.model @hook_twice_fanout {
  %x = graft.param "x" init <normal> : tensor<3xf32>
  %h = graft.grad_hook "x.h" %x : tensor<3xf32>
  %a = graft.mul %h, %h : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %b = graft.exp %h : tensor<3xf32>
  %r = graft.add %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %weights = graft.input "weights" : tensor<3xf32>
  %weighted = graft.mul %r, %weights : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %loss = graft.sum %weighted : tensor<3xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @retained_intermediate_chain:
// CHECK-DAG: PASS  w  [
// CHECK-DAG: PASS  a  [
// CHECK-DAG: PASS  b  [
// CHECK: gradcheck @retained_intermediate_chain: PASS (3 tensors)
graft.model @retained_intermediate_chain {
  %w = graft.param "w" init <normal> : tensor<3x3xf32>
  %a = graft.matmul %w, %w : (tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
  %b = graft.relu %a : tensor<3x3xf32>
  %r = graft.log_softmax %b {dim = 1 : i64} : tensor<3x3xf32>
  graft.retain_grad "a" %a : tensor<3x3xf32>
  graft.retain_grad "b" %b : tensor<3x3xf32>
  %weights = graft.input "weights" : tensor<3x3xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
  %loss = graft.sum %weighted : tensor<3x3xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}
