// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg{conv-products=true}))' | FileCheck %s
// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg))' | FileCheck %s --check-prefix=DIRECT

// With conv-products (the CPU), an ungrouped convolution is a 2-D product
// over its patches: im2col copies, per kernel tap, the strided window of x
// it reads into col[(c, kh, kw), (n, oh, ow)] (9 taps), the product
// w[4, 27] @ col[27, 72] starts from the broadcast bias, and the
// [O, N, OH*OW] result is swapped to [N, O, OH*OW]. Without the option
// (the GPU) it stays linalg.conv_2d_nchw_fchw.

// CHECK-LABEL: func.func @conv(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3x8x8xf32>, %[[W:[^:]+]]: tensor<4x3x3x3xf32>
// CHECK: %[[W2:.+]] = tensor.reshape %[[W]]{{.+}} -> tensor<4x27xf32>
// CHECK: %[[BIAS:.+]] = linalg.generic {{.+}} outs(%{{.+}} : tensor<4x72xf32>)
// The taps of each kernel row fill that row of the patches, then the row
// goes in (chains of 3 updates, not one of 9).
// CHECK: %[[ROW:.+]] = tensor.extract_slice %{{.+}}[0, 0, 0, 0, 0, 0] [3, 1, 3, 2, 6, 6] [1, 1, 1, 1, 1, 1] : tensor<3x3x3x2x6x6xf32> to tensor<3x1x3x2x6x6xf32>
// CHECK: %[[WIN:.+]] = tensor.extract_slice %[[X]][0, 0, 0, 0] [2, 3, 6, 6] [1, 1, 1, 1]
// CHECK: %[[PLANE:.+]] = tensor.extract_slice %[[ROW]][0, 0, 0, 0, 0, 0] [3, 1, 1, 2, 6, 6] [1, 1, 1, 1, 1, 1] : tensor<3x1x3x2x6x6xf32> to tensor<3x2x6x6xf32>
// CHECK: linalg.generic {{.+}} ins(%[[WIN]] : tensor<2x3x6x6xf32>) outs(%[[PLANE]] : tensor<3x2x6x6xf32>)
// CHECK: tensor.extract_slice %[[X]][0, 0, 0, 2] [2, 3, 6, 6] [1, 1, 1, 1]
// CHECK-COUNT-9: tensor.insert_slice
// CHECK: %[[PATCHES:.+]] = tensor.insert_slice %{{.+}}[0, 2, 0, 0, 0, 0] [3, 1, 3, 2, 6, 6]
// CHECK: %[[COL:.+]] = tensor.reshape %[[PATCHES]]{{.+}} -> tensor<27x72xf32>
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

// The weight gradient, transposed: the patches [27 taps, N*OH*OW] times
// the output gradient as columns [N*OH*OW, 4 channels] (stride 2: windows
// of every other element). The 4 channels are padded to 16 columns of
// zeros, so the product's register tiles are whole vectors; the first 4
// columns of the [27, 16] product, transposed, are the gradient.

// CHECK-LABEL: func.func @weight_grad(
// CHECK-SAME: %[[GY:[^:]+]]: tensor<2x4x3x3xf32>, %[[X:[^:]+]]: tensor<2x3x8x8xf32>
// CHECK: %[[ACC:.+]] = linalg.fill {{.+}} -> tensor<27x16xf32>
// CHECK: tensor.extract_slice %[[X]][0, 0, 0, 0] [2, 3, 3, 3] [1, 1, 2, 2]
// CHECK: %[[COL:.+]] = tensor.reshape %{{.+}} -> tensor<27x18xf32>
// CHECK: %[[G3:.+]] = tensor.collapse_shape %[[GY]] {{\[}}[0], [1], [2, 3]] : tensor<2x4x3x3xf32> into tensor<2x4x9xf32>
// CHECK: %[[PAD:.+]] = linalg.fill {{.+}} -> tensor<2x9x16xf32>
// CHECK: %[[LEFT:.+]] = tensor.extract_slice %[[PAD]][0, 0, 0] [2, 9, 4] [1, 1, 1]
// CHECK: %[[T:.+]] = linalg.transpose ins(%[[G3]] : tensor<2x4x9xf32>) outs(%[[LEFT]] : tensor<2x9x4xf32>) permutation = [0, 2, 1]
// CHECK: %[[GCOLS:.+]] = tensor.insert_slice %[[T]] into %[[PAD]][0, 0, 0] [2, 9, 4] [1, 1, 1]
// CHECK: %[[G:.+]] = tensor.reshape %[[GCOLS]]{{.+}} -> tensor<18x16xf32>
// CHECK: %[[GWT:.+]] = linalg.generic {{.+}} ins(%[[COL]], %[[G]] : tensor<27x18xf32>, tensor<18x16xf32>) outs(%[[ACC]] : tensor<27x16xf32>) attrs = {graft.contraction}
// CHECK: tensor.extract %[[GWT]]
// CHECK: linalg.transpose ins(%{{.+}} : tensor<27x4xf32>) outs(%{{.+}} : tensor<4x27xf32>) permutation = [1, 0]
// CHECK: tensor.reshape %{{.+}} -> tensor<4x3x3x3xf32>
func.func @weight_grad(%gy: tensor<2x4x3x3xf32>, %x: tensor<2x3x8x8xf32>) -> tensor<4x3x3x3xf32> {
  %gw = graft.conv2d_backward_weight %gy, %x {stride = array<i64: 2, 2>} : (tensor<2x4x3x3xf32>, tensor<2x3x8x8xf32>) -> tensor<4x3x3x3xf32>
  return %gw : tensor<4x3x3x3xf32>
}

// -----

// The input gradient: the patches' gradient w^T @ gy, then col2im: tap by
// tap, each plane added into the window of the padded input gradient it
// came from; the padding is cut off at the end.

// CHECK-LABEL: func.func @input_grad(
// CHECK: %[[WT:.+]] = linalg.transpose ins(%{{.+}} : tensor<4x27xf32>) outs(%{{.+}} : tensor<27x4xf32>)
// CHECK: %[[GCOL:.+]] = linalg.generic {{.+}} ins(%[[WT]], %{{.+}} : tensor<27x4xf32>, tensor<4x128xf32>) {{.+}} attrs = {graft.contraction}
// CHECK: %[[GCOL6:.+]] = tensor.reshape %[[GCOL]]{{.+}} -> tensor<3x3x3x2x8x8xf32>
// CHECK: %[[ZERO:.+]] = linalg.fill {{.+}} -> tensor<2x3x10x10xf32>
// Each kernel row's taps add into the band of rows they read, then the
// band goes back.
// CHECK: %[[BAND:.+]] = tensor.extract_slice %[[ZERO]][0, 0, 0, 0] [2, 3, 8, 10] [1, 1, 1, 1]
// CHECK: %[[P0:.+]] = tensor.extract_slice %[[GCOL6]][0, 0, 0, 0, 0, 0] [3, 1, 1, 2, 8, 8]
// CHECK: %[[W0:.+]] = tensor.extract_slice %[[BAND]][0, 0, 0, 0] [2, 3, 8, 8] [1, 1, 1, 1]
// CHECK: %[[S0:.+]] = linalg.generic {{.+}} ins(%[[P0]] : tensor<3x2x8x8xf32>) outs(%[[W0]] : tensor<2x3x8x8xf32>)
// CHECK: arith.addf
// CHECK: tensor.insert_slice %[[S0]] into %[[BAND]][0, 0, 0, 0] [2, 3, 8, 8] [1, 1, 1, 1]
// CHECK-COUNT-10: tensor.insert_slice
// CHECK: tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 2, 0] [2, 3, 8, 10] [1, 1, 1, 1]
// CHECK: tensor.extract %{{.+}} : tensor<2x3x10x10xf32>
// CHECK: return %{{.+}} : tensor<2x3x8x8xf32>
func.func @input_grad(%gy: tensor<2x4x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32> {
  %gx = graft.conv2d_backward_input %gy, %w {padding = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32>
  return %gx : tensor<2x3x8x8xf32>
}

// -----

// A convolution whose patches would take more than conv-chunk-elements
// (default 2^18; here 64*3*3 taps x 64*64 outputs = 2.4M an image) runs
// over its batch in chunks of images (here one): an scf.for whose
// iteration slices its images out of the input and writes its outputs
// into the result (test/Conversion/graft-to-linalg-conv-chunks.mlir).

// CHECK-LABEL: func.func @large(
// CHECK-SAME: %[[X:[^:]+]]: tensor<8x64x66x66xf32>
// CHECK: scf.for %[[N0:[^ ]+]] = %{{.+}} iter_args(%[[Y:[^ ]+]] = %{{.+}}) -> (tensor<8x64x64x64xf32>)
// CHECK: tensor.extract_slice %[[X]][%[[N0]], 0, 0, 0] [1, 64, 66, 66] [1, 1, 1, 1]
// CHECK: attrs = {graft.contraction}
// CHECK: tensor.insert_slice %{{.+}} into %[[Y]][%[[N0]], 0, 0, 0] [1, 64, 64, 64] [1, 1, 1, 1]
// CHECK-NOT: linalg.conv_2d
func.func @large(%x: tensor<8x64x66x66xf32>, %w: tensor<64x64x3x3xf32>) -> tensor<8x64x64x64xf32> {
  %y = graft.conv2d %x, %w : (tensor<8x64x66x66xf32>, tensor<64x64x3x3xf32>) -> tensor<8x64x64x64xf32>
  return %y : tensor<8x64x64x64xf32>
}

// -----

// A grouped convolution is one ungrouped convolution per group: an scf.for
// over the 2 groups slices each group's 2 input channels and 3 filters,
// takes the product over that group's patches, and writes the group's 3
// output channels.

// CHECK-LABEL: func.func @grouped(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x4x6x6xf32>, %[[W:[^:]+]]: tensor<6x2x3x3xf32>
// CHECK: %[[Y:.+]] = scf.for %[[G:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<2x6x4x4xf32>)
// CHECK: %[[XG:.+]] = tensor.extract_slice %[[X]][0, %{{.+}}, 0, 0] [2, 2, 6, 6] [1, 1, 1, 1]
// CHECK: %[[WG:.+]] = tensor.extract_slice %[[W]][%{{.+}}, 0, 0, 0] [3, 2, 3, 3] [1, 1, 1, 1]
// CHECK: tensor.reshape %[[WG]]{{.+}} -> tensor<3x18xf32>
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<3x18xf32>, tensor<18x32xf32>) {{.+}} attrs = {graft.contraction}
// CHECK: %[[NEXT:.+]] = tensor.insert_slice %{{.+}} into %[[ACC]][0, %{{.+}}, 0, 0] [2, 3, 4, 4] [1, 1, 1, 1]
// CHECK: scf.yield %[[NEXT]]
// CHECK: return %[[Y]]
// DIRECT-LABEL: func.func @grouped(
// DIRECT-NOT: scf.for
// DIRECT: linalg.generic
func.func @grouped(%x: tensor<2x4x6x6xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<2x6x4x4xf32> {
  %y = graft.conv2d %x, %w {groups = 2 : i64} : (tensor<2x4x6x6xf32>, tensor<6x2x3x3xf32>) -> tensor<2x6x4x4xf32>
  return %y : tensor<2x6x4x4xf32>
}

// -----

// A depthwise convolution (one input channel a group; here 2 outputs each)
// sums its taps in elementwise generics: each tap's strided window of the
// padded input [N, C, OH, OW] times its weights [C, M], at most 16 taps a
// generic (a 5x5 kernel: 16, then 9), each adding onto the last's result.

// CHECK-LABEL: func.func @depthwise(
// CHECK-SAME: %[[W:[^:]+]]: tensor<6x1x5x5xf32>
// CHECK: %[[W3:.+]] = tensor.reshape %[[W]]{{.+}} -> tensor<3x2x25xf32>
// CHECK: %[[WIN0:.+]] = tensor.extract_slice %{{.+}}[0, 0, 0, 0] [2, 3, 4, 4] [1, 1, 2, 2] : tensor<2x3x12x12xf32> to tensor<2x3x4x4xf32>
// CHECK: %[[W0:.+]] = tensor.extract_slice %[[W3]][0, 0, 0] [3, 2, 1] [1, 1, 1] : tensor<3x2x25xf32> to tensor<3x2xf32>
// CHECK: %[[ZERO:.+]] = linalg.fill {{.+}} -> tensor<2x3x2x4x4xf32>
// CHECK: %[[PART:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%[[WIN0]], {{.+}}, %[[W0]], {{.+}}, tensor<3x2xf32>) outs(%[[ZERO]] : tensor<2x3x2x4x4xf32>)
// CHECK: %[[SUM:.+]] = linalg.generic {{.+}} ins({{.+}}, tensor<3x2xf32>) outs(%[[PART]] : tensor<2x3x2x4x4xf32>)
// CHECK: tensor.reshape %[[SUM]]{{.+}} -> tensor<2x6x4x4xf32>
// CHECK-NOT: graft.contraction
// CHECK: return
func.func @depthwise(%x: tensor<2x3x8x8xf32>, %w: tensor<6x1x5x5xf32>) -> tensor<2x6x4x4xf32> {
  %y = graft.conv2d %x, %w {stride = array<i64: 2, 2>, padding = array<i64: 2, 2>, groups = 3 : i64} : (tensor<2x3x8x8xf32>, tensor<6x1x5x5xf32>) -> tensor<2x6x4x4xf32>
  return %y : tensor<2x6x4x4xf32>
}

// -----

// Its input gradient by phases of the stride: the inputs (2q + rh, 2q + rw)
// of phase (rh, rw) take terms from the same taps, kh with rh + 1 - kh even
// (1 for rh = 0; 0 and 2 for rh = 1), each at gy's rows q + (rh + 1 - kh) / 2
// (gy padded by one row and column after). A phase is one tap generic of
// M x its taps terms (2, 4, 4, 8), written to its strided box of gx; the
// zeros a dilated gradient would add are never summed.

// CHECK-LABEL: func.func @depthwise_input_grad(
// CHECK: %[[GQ:.+]] = tensor.reshape %{{.+}} -> tensor<2x3x2x3x3xf32>
// CHECK: %[[WIN:.+]] = tensor.extract_slice %[[GQ]][0, 0, 0, 0, 0] [2, 3, 1, 2, 2] [1, 1, 1, 1, 1] : tensor<2x3x2x3x3xf32> to tensor<2x3x2x2xf32>
// CHECK: %[[P00:.+]] = linalg.generic {{.+}} ins(%[[WIN]], %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}} : tensor<2x3x2x2xf32>, tensor<2x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>) outs(%{{.+}} : tensor<2x3x2x2xf32>)
// CHECK: %[[GX0:.+]] = tensor.insert_slice %[[P00]] into %{{.+}}[0, 0, 0, 0] [2, 3, 2, 2] [1, 1, 2, 2]
// CHECK: %[[GX1:.+]] = tensor.insert_slice %{{.+}} into %[[GX0]][0, 0, 0, 1] [2, 3, 2, 2] [1, 1, 2, 2]
// CHECK: %[[GX2:.+]] = tensor.insert_slice %{{.+}} into %[[GX1]][0, 0, 1, 0] [2, 3, 2, 2] [1, 1, 2, 2]
// CHECK: %[[GX:.+]] = tensor.insert_slice %{{.+}} into %[[GX2]][0, 0, 1, 1] [2, 3, 2, 2] [1, 1, 2, 2]
// CHECK: return %[[GX]]
func.func @depthwise_input_grad(%g: tensor<2x6x2x2xf32>, %w: tensor<6x1x3x3xf32>) -> tensor<2x3x4x4xf32> {
  %gx = graft.conv2d_backward_input %g, %w {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 3 : i64} : (tensor<2x6x2x2xf32>, tensor<6x1x3x3xf32>) -> tensor<2x3x4x4xf32>
  return %gx : tensor<2x3x4x4xf32>
}

// -----

// Its weight gradient: each tap's products with the output gradient summed
// over (n, oh) for every ow, the taps' sums the outputs of one generic
// ([C, M, OW] each; ow parallel and innermost), then each summed over ow
// into its column of [C, M, KH*KW].

// CHECK-LABEL: func.func @depthwise_weight_grad(
// CHECK-SAME: %[[GY:[^:]+]]: tensor<2x3x4x4xf32>
// CHECK: %[[GY5:.+]] = tensor.reshape %[[GY]]{{.+}} -> tensor<2x3x1x4x4xf32>
// CHECK: %[[WIN0:.+]] = tensor.extract_slice %{{.+}}[0, 0, 0, 0] [2, 3, 4, 4] [1, 1, 1, 1] : tensor<2x3x6x6xf32> to tensor<2x3x4x4xf32>
// CHECK: %[[PARTS:.+]]:9 = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]} ins(%[[GY5]], %[[WIN0]], {{.+}}) outs({{.+}} : {{.+}}tensor<3x1x4xf32>)
// CHECK: %[[SUM0:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[PARTS]]#0 : tensor<3x1x4xf32>) outs(%{{.+}} : tensor<3x1xf32>)
// CHECK: tensor.insert_slice %[[SUM0]] into %{{.+}}[0, 0, 0] [3, 1, 1] [1, 1, 1] : tensor<3x1xf32> into tensor<3x1x9xf32>
// CHECK-COUNT-8: tensor.insert_slice
// CHECK: %[[GW:.+]] = tensor.reshape %{{.+}} -> tensor<3x1x3x3xf32>
// CHECK: return %[[GW]]
func.func @depthwise_weight_grad(%g: tensor<2x3x4x4xf32>, %x: tensor<2x3x4x4xf32>) -> tensor<3x1x3x3xf32> {
  %gw = graft.conv2d_backward_weight %g, %x {padding = array<i64: 1, 1>, groups = 3 : i64} : (tensor<2x3x4x4xf32>, tensor<2x3x4x4xf32>) -> tensor<3x1x3x3xf32>
  return %gw : tensor<3x1x3x3xf32>
}
