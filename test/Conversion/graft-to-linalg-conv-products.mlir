// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg{conv-products=true}))' | FileCheck %s
// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg))' | FileCheck %s --check-prefix=DIRECT

// With conv-products (the CPU), an ungrouped convolution is a 2-D product
// over its patches: im2col gathers col[(c, kh, kw), (n, oh, ow)], the
// product w[4, 27] @ col[27, 72] starts from the broadcast bias, and the
// [O, N, OH*OW] result is swapped to [N, O, OH*OW]. Without the option
// (the GPU) it stays linalg.conv_2d_nchw_fchw.

// CHECK-LABEL: func.func @conv(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3x8x8xf32>, %[[W:[^:]+]]: tensor<4x3x3x3xf32>
// CHECK: %[[BIAS:.+]] = linalg.generic {{.+}} outs(%{{.+}} : tensor<4x72xf32>)
// CHECK: %[[PATCHES:.+]] = linalg.generic {{.+}} ins(%[[X]] : tensor<2x3x8x8xf32>) outs(%{{.+}} : tensor<3x3x3x2x6x6xf32>)
// CHECK: %[[COL:.+]] = tensor.reshape %[[PATCHES]]{{.+}} -> tensor<27x72xf32>
// CHECK: %[[W2:.+]] = tensor.reshape %[[W]]{{.+}} -> tensor<4x27xf32>
// CHECK: %[[Y2:.+]] = linalg.generic {{.+}} ins(%[[W2]], %[[COL]] : tensor<4x27xf32>, tensor<27x72xf32>) outs(%[[BIAS]] : tensor<4x72xf32>) attrs = {graft.contraction}
// CHECK: %[[Y3:.+]] = tensor.reshape %[[Y2]]{{.+}} -> tensor<4x2x36xf32>
// CHECK: linalg.generic {{.+}} ins(%[[Y3]] : tensor<4x2x36xf32>) outs(%{{.+}} : tensor<2x4x36xf32>)
// CHECK-NOT: linalg.conv_2d
// DIRECT-LABEL: func.func @conv(
// DIRECT: linalg.conv_2d_nchw_fchw
func.func @conv(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<2x4x6x6xf32> {
  %y = graft.conv2d %x, %w, %b : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x6x6xf32>
  return %y : tensor<2x4x6x6xf32>
}

// -----

// The weight gradient: the output gradient as [O, N*OH*OW] times the
// transposed patches (strided: oh*2 + kh).

// CHECK-LABEL: func.func @weight_grad(
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
// CHECK: %[[COLT:.+]] = linalg.transpose ins(%{{.+}} : tensor<27x18xf32>) outs(%{{.+}} : tensor<18x27xf32>)
// CHECK: %[[GW:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %[[COLT]] : tensor<4x18xf32>, tensor<18x27xf32>) {{.+}} attrs = {graft.contraction}
// CHECK: tensor.reshape %[[GW]]{{.+}} -> tensor<4x3x3x3xf32>
func.func @weight_grad(%gy: tensor<2x4x3x3xf32>, %x: tensor<2x3x8x8xf32>) -> tensor<4x3x3x3xf32> {
  %gw = graft.conv2d_backward_weight %gy, %x {stride = array<i64: 2, 2>} : (tensor<2x4x3x3xf32>, tensor<2x3x8x8xf32>) -> tensor<4x3x3x3xf32>
  return %gw : tensor<4x3x3x3xf32>
}

// -----

// The input gradient: the patches' gradient w^T @ gy, then col2im, a
// gather over (kh, kw) that sums into each (padded) input element.

// CHECK-LABEL: func.func @input_grad(
// CHECK: %[[WT:.+]] = linalg.transpose ins(%{{.+}} : tensor<4x27xf32>) outs(%{{.+}} : tensor<27x4xf32>)
// CHECK: %[[GCOL:.+]] = linalg.generic {{.+}} ins(%[[WT]], %{{.+}} : tensor<27x4xf32>, tensor<4x128xf32>) {{.+}} attrs = {graft.contraction}
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%{{.+}} : tensor<3x3x3x2x12x12xf32>) outs(%{{.+}} : tensor<2x3x10x10xf32>)
// CHECK: tensor.extract %{{.+}} : tensor<2x3x10x10xf32>
// CHECK: return %{{.+}} : tensor<2x3x8x8xf32>
func.func @input_grad(%gy: tensor<2x4x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32> {
  %gx = graft.conv2d_backward_input %gy, %w {padding = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32>
  return %gx : tensor<2x3x8x8xf32>
}
