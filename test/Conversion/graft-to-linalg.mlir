// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg))' | FileCheck %s

// The structure of the lowerings of linear layers, convolution, pooling, attention,
// normalisation and scatter ops (their numbers are checked against the
// reference evaluator by GraftCodegenTests).

// CHECK-LABEL: func.func @conv2d_padded_bias(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x2x5x5xf32>, %[[W:[a-z0-9]+]]: tensor<3x2x3x3xf32>, %[[B:[a-z0-9]+]]: tensor<3xf32>
// Zero padding: a 7x7 gather of the 5x5 input.
// CHECK: %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x2x7x7xf32>)
// CHECK: %[[XP:.+]] = linalg.generic {{.+}} ins(%[[Z]] : tensor<1x2x7x7xf32>)
// CHECK: tensor.extract %[[X]]
// CHECK: %[[Y:.+]] = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[XP]], %[[W]] : tensor<1x2x7x7xf32>, tensor<3x2x3x3xf32>)
// CHECK: %[[B3:.+]] = tensor.reshape %[[B]]({{.+}}) : (tensor<3xf32>, tensor<3xi64>) -> tensor<3x1x1xf32>
// CHECK: linalg.generic {{.+}} ins(%[[Y]], %[[B3]] : tensor<1x3x3x3xf32>, tensor<3x1x1xf32>)
// CHECK: arith.addf
func.func @conv2d_padded_bias(%x: tensor<1x2x5x5xf32>, %w: tensor<3x2x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x3x3x3xf32> {
  %y = graft.conv2d %x, %w, %b {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>, tensor<3xf32>) -> tensor<1x3x3x3xf32>
  return %y : tensor<1x3x3x3xf32>
}

// -----

// CHECK-DAG: #[[GX:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 * 2 + d6 * 2, d4 * 2 + d7 * 2)>
// CHECK-DAG: #[[GW:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
// CHECK-DAG: #[[GY:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-LABEL: func.func @conv2d_grouped(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x4x6x6xf32>, %[[W:[a-z0-9]+]]: tensor<4x2x2x2xf32>
// CHECK: %[[X5:.+]] = tensor.reshape %[[X]]({{.+}}) : (tensor<1x4x6x6xf32>, tensor<5xi64>) -> tensor<1x2x2x6x6xf32>
// CHECK: %[[W5:.+]] = tensor.reshape %[[W]]({{.+}}) : (tensor<4x2x2x2xf32>, tensor<5xi64>) -> tensor<2x2x2x2x2xf32>
// CHECK: %[[Y5:.+]] = linalg.generic {indexing_maps = [#[[GX]], #[[GW]], #[[GY]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%[[X5]], %[[W5]] :
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: tensor.reshape %[[Y5]]({{.+}}) : (tensor<1x2x2x2x2xf32>, tensor<4xi64>) -> tensor<1x4x2x2xf32>
func.func @conv2d_grouped(%x: tensor<1x4x6x6xf32>, %w: tensor<4x2x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %y = graft.conv2d %x, %w {stride = array<i64: 2, 2>, dilation = array<i64: 2, 2>, groups = 2 : i64} : (tensor<1x4x6x6xf32>, tensor<4x2x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %y : tensor<1x4x2x2xf32>
}

// -----

// CHECK-DAG: #[[TG:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 - d6 * 2 + 2, d4 - d7 * 2 + 2)>
// CHECK-DAG: #[[TW:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d5, d2, d6, d7)>
// CHECK-LABEL: func.func @conv2d_backward_input(
// CHECK-SAME: %[[G:[a-z0-9]+]]: tensor<1x4x2x2xf32>, %[[W:[a-z0-9]+]]: tensor<4x2x2x2xf32>
// The gradient dilated by the stride (every other element) into 8x8 zeros.
// CHECK: %[[GD:.+]] = linalg.generic {{.+}} outs(%{{.+}} : tensor<1x4x8x8xf32>)
// CHECK: arith.remsi
// CHECK: tensor.extract %[[G]]
// CHECK: %[[GD5:.+]] = tensor.reshape %[[GD]]
// CHECK: %[[W5:.+]] = tensor.reshape %[[W]]
// CHECK: %[[GX:.+]] = linalg.generic {indexing_maps = [#[[TG]], #[[TW]], #{{.+}}], {{.+}} ins(%[[GD5]], %[[W5]] : tensor<1x2x2x8x8xf32>, tensor<2x2x2x2x2xf32>) outs(%{{.+}} : tensor<1x2x2x6x6xf32>)
// CHECK: tensor.reshape %[[GX]]({{.+}}) : (tensor<1x2x2x6x6xf32>, tensor<4xi64>) -> tensor<1x4x6x6xf32>
func.func @conv2d_backward_input(%g: tensor<1x4x2x2xf32>, %w: tensor<4x2x2x2xf32>) -> tensor<1x4x6x6xf32> {
  %gx = graft.conv2d_backward_input %g, %w {stride = array<i64: 2, 2>, dilation = array<i64: 2, 2>, groups = 2 : i64} : (tensor<1x4x2x2xf32>, tensor<4x2x2x2xf32>) -> tensor<1x4x6x6xf32>
  return %gx : tensor<1x4x6x6xf32>
}

// -----

// CHECK-DAG: #[[WG:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d5, d0, d1, d6, d7)>
// CHECK-DAG: #[[WX:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d5, d0, d2, d6 * 2 + d3 * 2, d7 * 2 + d4 * 2)>
// CHECK-LABEL: func.func @conv2d_backward_weight(
// CHECK: %[[GW:.+]] = linalg.generic {indexing_maps = [#[[WG]], #[[WX]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK: tensor.reshape %[[GW]]({{.+}}) -> tensor<4x2x2x2xf32>
func.func @conv2d_backward_weight(%g: tensor<1x4x2x2xf32>, %x: tensor<1x4x6x6xf32>) -> tensor<4x2x2x2xf32> {
  %gw = graft.conv2d_backward_weight %g, %x {stride = array<i64: 2, 2>, dilation = array<i64: 2, 2>, groups = 2 : i64} : (tensor<1x4x2x2xf32>, tensor<1x4x6x6xf32>) -> tensor<4x2x2x2xf32>
  return %gw : tensor<4x2x2x2xf32>
}

// -----

// CHECK-DAG: #[[PW:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 2 + d3, d2 * 2 + d4)>
// CHECK-DAG: #[[PK:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d3, d4)>
// CHECK-LABEL: func.func @max_pool2d(
// ceil_mode: the 5x5 planes padded to 6x6 with -inf.
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.+}} : tensor<1x6x6xf32>)
// CHECK: %[[XP:.+]] = linalg.generic
// CHECK: %[[K:.+]] = tensor.empty() : tensor<2x2xf32>
// CHECK: linalg.generic {indexing_maps = [#[[PW]], #[[PK]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%[[XP]], %[[K]] : tensor<1x6x6xf32>, tensor<2x2xf32>) outs(%{{.+}} : tensor<1x3x3xf32>)
// CHECK: arith.maximumf
func.func @max_pool2d(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32> {
  %y = graft.max_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, ceil_mode = true} : tensor<1x1x5x5xf32> -> tensor<1x1x3x3xf32>
  return %y : tensor<1x1x3x3xf32>
}

// -----

// CHECK-LABEL: func.func @max_pool2d_backward(
// CHECK-SAME: %[[G:[a-z0-9]+]]: tensor<1x1x3x3xf32>
// CHECK: %[[G3:.+]] = tensor.reshape %[[G]]
// The first maximal element of each window, as a window index (-1: none).
// CHECK: %[[NONE:.+]] = linalg.fill ins(%c-1_i64 : i64)
// CHECK: %[[ARG:.+]]:2 = linalg.generic {{.+}} outs(%{{.+}}, %[[NONE]] : tensor<1x3x3xf32>, tensor<1x3x3xi64>)
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf uno
// Then a scatter-add over the output positions.
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for {{.+}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<1x5x5xf32>)
// CHECK: tensor.extract %[[ARG]]#1
// CHECK: %[[OLD:.+]] = tensor.extract %[[ACC]]
// CHECK: %[[GV:.+]] = tensor.extract %[[G3]]
// CHECK: arith.addf %[[OLD]], %[[GV]]
// CHECK: tensor.insert %{{.+}} into %[[ACC]]
func.func @max_pool2d_backward(%g: tensor<1x1x3x3xf32>, %x: tensor<1x1x5x5xf32>) -> tensor<1x1x5x5xf32> {
  %gx = graft.max_pool2d_backward %g, %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, ceil_mode = true} : (tensor<1x1x3x3xf32>, tensor<1x1x5x5xf32>) -> tensor<1x1x5x5xf32>
  return %gx : tensor<1x1x5x5xf32>
}

// -----

// CHECK-LABEL: func.func @avg_pool2d(
// CHECK: %[[S:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK: arith.addf
// count_include_pad = false with ceil_mode: PyTorch's divisors.
// CHECK: %[[DIV:.+]] = arith.constant dense<{{\[\[}}4.000000e+00, 6.000000e+00, 2.000000e+00], [6.000000e+00, 9.000000e+00, 3.000000e+00], [2.000000e+00, 3.000000e+00, 1.000000e+00]]> : tensor<3x3xf32>
// CHECK: linalg.generic {{.+}} ins(%[[S]], %[[DIV]] : tensor<1x3x3xf32>, tensor<3x3xf32>)
// CHECK: arith.divf
func.func @avg_pool2d(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x3x3xf32> {
  %y = graft.avg_pool2d %x {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, ceil_mode = true, count_include_pad = false} : tensor<1x1x4x4xf32> -> tensor<1x1x3x3xf32>
  return %y : tensor<1x1x3x3xf32>
}

// -----

// CHECK-LABEL: func.func @embedding_backward(
// CHECK-SAME: %[[G:[a-z0-9]+]]: tensor<3x4xf32>, %[[I:[a-z0-9]+]]: tensor<3xi64>
// CHECK: %[[Z:.+]] = linalg.fill {{.+}} -> tensor<5x4xf32>
// CHECK: scf.for %[[R:.+]] = {{.+}} iter_args(%{{.+}} = %[[Z]]) -> (tensor<5x4xf32>)
// CHECK: scf.for %[[D:.+]] = {{.+}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<5x4xf32>)
// CHECK: %[[ROW:.+]] = arith.index_cast
// CHECK: %[[PAD:.+]] = arith.constant 2 : index
// CHECK-NEXT: arith.cmpi ne, %[[ROW]], %[[PAD]] : index
// CHECK: tensor.extract %[[G]][%[[R]], %[[D]]]
// CHECK: tensor.insert %{{.+}} into %[[ACC]]
func.func @embedding_backward(%g: tensor<3x4xf32>, %i: tensor<3xi64>) -> tensor<5x4xf32> {
  %gw = graft.embedding_backward %g, %i {padding_idx = 2 : i64} : (tensor<3x4xf32>, tensor<3xi64>) -> tensor<5x4xf32>
  return %gw : tensor<5x4xf32>
}

// -----

// CHECK-LABEL: func.func @attention_causal(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[K:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[V:[a-z0-9]+]]: tensor<2x3x4xf32>
// CHECK: %[[KT:.+]] = linalg.transpose ins(%[[K]] : tensor<2x3x4xf32>)
// CHECK: %[[S:.+]] = linalg.generic {{.+}} ins(%[[Q]], %[[KT]] : tensor<2x3x4xf32>, tensor<2x4x3xf32>)
// Scale 1/sqrt(4), and -inf above the diagonal.
// CHECK: linalg.generic {{.+}} ins(%[[S]] : tensor<2x3x3xf32>)
// CHECK: arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[I:.+]] = linalg.index 1 : index
// CHECK-DAG: %[[J:.+]] = linalg.index 2 : index
// CHECK: %[[ABOVE:.+]] = arith.cmpi sgt, %[[J]], %[[I]] : index
// CHECK: arith.select %[[ABOVE]], %{{.+}}, %{{.+}} : f32
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: %[[P:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<2x3x3xf32>, tensor<2x3x1xf32>)
// CHECK: arith.divf
// CHECK: linalg.generic {{.+}} ins(%[[P]], %[[V]] : tensor<2x3x3xf32>, tensor<2x3x4xf32>)
func.func @attention_causal(%q: tensor<2x3x4xf32>, %k: tensor<2x3x4xf32>, %v: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %a = graft.scaled_dot_product_attention %q, %k, %v {is_causal = true} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %a : tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @batch_norm_eval(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[RM:[a-z0-9]+]]: tensor<3xf32>, %[[RV:[a-z0-9]+]]: tensor<3xf32>
// Running statistics, no reduction.
// CHECK-NOT: reduction
// CHECK: %[[M:.+]] = tensor.reshape %[[RM]]({{.+}}) : (tensor<3xf32>, tensor<2xi64>) -> tensor<3x1xf32>
// CHECK: %[[VAR:.+]] = tensor.reshape %[[RV]]({{.+}}) : (tensor<3xf32>, tensor<2xi64>) -> tensor<3x1xf32>
// CHECK: linalg.generic {{.+}} ins(%[[X]], %[[M]], %[[VAR]] :
// CHECK: math.sqrt
// CHECK-NOT: reduction
// CHECK: return
func.func @batch_norm_eval(%x: tensor<2x3x4xf32>, %rm: tensor<3xf32>, %rv: tensor<3xf32>) -> tensor<2x3x4xf32> {
  %y = graft.batch_norm %x running %rm, %rv {training = false} : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// -----

// A linear layer whose batch is smaller than the layer: y^T = w @ x^T from
// the bias broadcast along rows, then transposed, so that x and y (64x512
// and 64x256) are transposed instead of w (256x512).

// CHECK-LABEL: func.func @linear_batch_transposed(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<64x512xf32>, %[[W:[a-z0-9]+]]: tensor<256x512xf32>, %[[B:[a-z0-9]+]]: tensor<256xf32>
// CHECK: %[[B2:.+]] = tensor.reshape %[[B]]({{.+}}) : (tensor<256xf32>, tensor<2xi64>) -> tensor<256x1xf32>
// CHECK: %[[INIT:.+]] = linalg.generic {{.+}} ins(%[[B2]] : tensor<256x1xf32>) outs(%{{.+}} : tensor<256x64xf32>)
// CHECK: %[[XT:.+]] = linalg.transpose ins(%[[X]] : tensor<64x512xf32>) outs(%{{.+}} : tensor<512x64xf32>) permutation = [1, 0]
// CHECK: %[[YT:.+]] = linalg.generic {{.+}} ins(%[[W]], %[[XT]] : tensor<256x512xf32>, tensor<512x64xf32>) outs(%[[INIT]] : tensor<256x64xf32>) attrs = {graft.contraction}
// CHECK: %[[Y:.+]] = linalg.transpose ins(%[[YT]] : tensor<256x64xf32>) outs(%{{.+}} : tensor<64x256xf32>) permutation = [1, 0]
// CHECK: return %[[Y]]
func.func @linear_batch_transposed(%x: tensor<64x512xf32>, %w: tensor<256x512xf32>, %b: tensor<256xf32>) -> tensor<64x256xf32> {
  %y = graft.linear %x, %w, %b : (tensor<64x512xf32>, tensor<256x512xf32>, tensor<256xf32>) -> tensor<64x256xf32>
  return %y : tensor<64x256xf32>
}

// -----

// Fewer than 64 rows (they would be the product's columns): x @ w^T.

// CHECK-LABEL: func.func @linear_small_batch(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<48x512xf32>, %[[W:[a-z0-9]+]]: tensor<256x512xf32>
// CHECK: %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<48x256xf32>)
// CHECK: %[[WT:.+]] = linalg.transpose ins(%[[W]] : tensor<256x512xf32>) outs(%{{.+}} : tensor<512x256xf32>) permutation = [1, 0]
// CHECK: %[[Y:.+]] = linalg.generic {{.+}} ins(%[[X]], %[[WT]] : tensor<48x512xf32>, tensor<512x256xf32>) outs(%[[Z]] : tensor<48x256xf32>) attrs = {graft.contraction}
// CHECK: return %[[Y]]
func.func @linear_small_batch(%x: tensor<48x512xf32>, %w: tensor<256x512xf32>) -> tensor<48x256xf32> {
  %y = graft.linear %x, %w : (tensor<48x512xf32>, tensor<256x512xf32>) -> tensor<48x256xf32>
  return %y : tensor<48x256xf32>
}

// -----

// A sum of more than 512 terms runs in two stages (for f32 accuracy). Batch
// norm's statistics over N, H, W of 8x16x64x64 (32768 terms a channel):
// the first stage keeps an inner part of about sqrt(32768) = 181 terms, W
// and a factor 2 of H, and sums the rest (N and H / 2, 256 terms) a whole
// row of W at a time; the second sums the 128 partial sums of a channel.

// CHECK-LABEL: func.func @long_sum(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<8x16x64x64xf32>
// CHECK: %[[SPLIT:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3], [4]] output_shape [8, 16, 32, 2, 64]
// CHECK: %[[PARTIAL:.+]] = linalg.generic {{.+}}iterator_types = ["reduction", "parallel", "reduction", "parallel", "parallel"]} ins(%[[SPLIT]] : tensor<8x16x32x2x64xf32>) outs(%{{.+}} : tensor<16x2x64xf32>)
// CHECK: %[[SUM:.+]] = linalg.generic {{.+}}iterator_types = ["parallel", "reduction", "reduction"]} ins(%[[PARTIAL]] : tensor<16x2x64xf32>) outs(%{{.+}} : tensor<16xf32>)
// CHECK: return %[[SUM]]
func.func @long_sum(%x: tensor<8x16x64x64xf32>) -> tensor<16xf32> {
  %s = graft.sum %x {dims = array<i64: 0, 2, 3>} : tensor<8x16x64x64xf32> -> tensor<16xf32>
  return %s : tensor<16xf32>
}

// -----

// 512 terms or fewer: one generic. A sum over a dim with no divisor near
// its square root (1019, a prime) stays one generic too.

// CHECK-LABEL: func.func @short_sums(
// CHECK-NOT: tensor.expand_shape
// CHECK: linalg.generic {{.+}}iterator_types = ["reduction", "reduction"]} ins(%{{.+}} : tensor<4x128xf32>)
// CHECK-NOT: tensor.expand_shape
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "reduction"]} ins(%{{.+}} : tensor<4x1019xf32>)
func.func @short_sums(%x: tensor<4x128xf32>, %y: tensor<4x1019xf32>) -> (tensor<f32>, tensor<4xf32>) {
  %s = graft.sum %x : tensor<4x128xf32> -> tensor<f32>
  %t = graft.sum %y {dims = array<i64: 1>} : tensor<4x1019xf32> -> tensor<4xf32>
  return %s, %t : tensor<f32>, tensor<4xf32>
}

// -----

// A bf16 sum accumulates in f32 (each term widened) and rounds once, at the
// end, to bf16: in bf16 a running sum keeps 8 significant bits.

// CHECK-LABEL: func.func @bf16_sum(
// CHECK: %[[ACC:.+]] = linalg.generic {{.+}}ins(%{{.+}} : tensor<4x64xbf16>) outs(%{{.+}} : tensor<4xf32>)
// CHECK: ^bb0(%[[IN:.+]]: bf16, %[[OUT:.+]]: f32):
// CHECK: %[[WIDE:.+]] = arith.extf %[[IN]] : bf16 to f32
// CHECK: arith.addf %[[OUT]], %[[WIDE]] : f32
// CHECK: %[[R:.+]] = linalg.generic {{.+}}ins(%[[ACC]] : tensor<4xf32>) outs(%{{.+}} : tensor<4xbf16>)
// CHECK: arith.truncf %{{.+}} : f32 to bf16
// CHECK: return %[[R]]
func.func @bf16_sum(%x: tensor<4x64xbf16>) -> tensor<4xbf16> {
  %s = graft.sum %x {dims = array<i64: 1>} : tensor<4x64xbf16> -> tensor<4xbf16>
  return %s : tensor<4xbf16>
}
