// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg{conv-products=true conv-chunk-elements=2000}),canonicalize)' | FileCheck %s

// With conv-products, a convolution whose patches would take more than
// conv-chunk-elements runs over its batch in chunks of images: here each
// image's patches are 27 x 36 = 972 elements, so at most 2 images a chunk
// (1944); 5 images are an scf.for over two chunks of 2, whose iteration
// slices its images out of the input and writes its outputs into the
// result, then a tail of 1 image. The IR does not grow with the batch.

// CHECK-LABEL: func.func @conv(
// CHECK-SAME: %[[X:[^:]+]]: tensor<5x3x8x8xf32>
// CHECK: %[[LOOP:.+]] = scf.for %[[N0:[^ ]+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[Y:[^ ]+]] = %{{.+}}) -> (tensor<5x4x6x6xf32>)
// CHECK: tensor.extract_slice %[[X]][%[[N0]], 0, 0, 0] [2, 3, 8, 8] [1, 1, 1, 1]
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<4x27xf32>, tensor<27x72xf32>) outs(%{{.+}} : tensor<4x72xf32>) attrs = {graft.contraction}
// CHECK: %[[CHUNK:.+]] = tensor.insert_slice %{{.+}} into %[[Y]][%[[N0]], 0, 0, 0] [2, 4, 6, 6] [1, 1, 1, 1]
// CHECK: scf.yield %[[CHUNK]]
// CHECK: tensor.extract_slice %[[X]][4, 0, 0, 0] [1, 3, 8, 8] [1, 1, 1, 1]
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<4x27xf32>, tensor<27x36xf32>) outs(%{{.+}} : tensor<4x36xf32>) attrs = {graft.contraction}
// CHECK: %[[ALL:.+]] = tensor.insert_slice %{{.+}} into %[[LOOP]][4, 0, 0, 0] [1, 4, 6, 6] [1, 1, 1, 1]
// CHECK: return %[[ALL]]
// CHECK-NOT: linalg.conv_2d
func.func @conv(%x: tensor<5x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<5x4x6x6xf32> {
  %y = graft.conv2d %x, %w, %b : (tensor<5x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<5x4x6x6xf32>
  return %y : tensor<5x4x6x6xf32>
}

// -----

// The weight gradient sums the chunks' products: the loop carries the
// accumulator [27 taps, 16 (4 channels padded)], and each chunk's product
// (its patches times its output gradient as columns) adds onto it.

// CHECK-LABEL: func.func @weight_grad(
// CHECK-SAME: %[[GY:[^:]+]]: tensor<5x4x6x6xf32>, %[[X:[^:]+]]: tensor<5x3x8x8xf32>
// CHECK: %[[ZERO:.+]] = linalg.fill {{.+}} -> tensor<27x16xf32>
// CHECK: %[[LOOP:.+]] = scf.for %[[N0:[^ ]+]] = %{{.+}} iter_args(%[[ACC:[^ ]+]] = %[[ZERO]]) -> (tensor<27x16xf32>)
// CHECK: tensor.extract_slice %[[X]][%[[N0]], 0, 0, 0] [2, 3, 8, 8]
// CHECK: tensor.extract_slice %[[GY]][%[[N0]], 0, 0, 0] [2, 4, 6, 6]
// CHECK: %[[SUM:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<27x72xf32>, tensor<72x16xf32>) outs(%[[ACC]] : tensor<27x16xf32>) attrs = {graft.contraction}
// CHECK: scf.yield %[[SUM]]
// CHECK: tensor.extract_slice %[[X]][4, 0, 0, 0] [1, 3, 8, 8]
// CHECK: tensor.extract_slice %[[GY]][4, 0, 0, 0] [1, 4, 6, 6]
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<27x36xf32>, tensor<36x16xf32>) outs(%[[LOOP]] : tensor<27x16xf32>) attrs = {graft.contraction}
// CHECK: return %{{.+}} : tensor<4x3x3x3xf32>
func.func @weight_grad(%gy: tensor<5x4x6x6xf32>, %x: tensor<5x3x8x8xf32>) -> tensor<4x3x3x3xf32> {
  %gw = graft.conv2d_backward_weight %gy, %x : (tensor<5x4x6x6xf32>, tensor<5x3x8x8xf32>) -> tensor<4x3x3x3xf32>
  return %gw : tensor<4x3x3x3xf32>
}

// -----

// The input gradient: each chunk's patch gradient w^T @ gy, folded back
// into its images (col2im), written into the chunk's images of the result.
// For one image the output gradient is a view ([1, 4, 6, 6] as [4, 36]),
// not a copy.

// CHECK-LABEL: func.func @input_grad(
// CHECK-SAME: %[[GY:[^:]+]]: tensor<5x4x6x6xf32>
// CHECK: %[[LOOP:.+]] = scf.for %[[N0:[^ ]+]] = %{{.+}} iter_args(%[[GX:[^ ]+]] = %{{.+}}) -> (tensor<5x3x8x8xf32>)
// CHECK: tensor.extract_slice %[[GY]][%[[N0]], 0, 0, 0] [2, 4, 6, 6]
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<27x4xf32>, tensor<4x72xf32>) outs(%{{.+}} : tensor<27x72xf32>) attrs = {graft.contraction}
// CHECK: %[[CHUNK:.+]] = tensor.insert_slice %{{.+}} into %[[GX]][%[[N0]], 0, 0, 0] [2, 3, 8, 8]
// CHECK: scf.yield %[[CHUNK]]
// CHECK: %[[ONE:.+]] = tensor.extract_slice %[[GY]][4, 0, 0, 0] [1, 4, 6, 6]
// CHECK: %[[G:.+]] = tensor.collapse_shape %[[ONE]] {{\[}}[0, 1], [2, 3]] : tensor<1x4x6x6xf32> into tensor<4x36xf32>
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %[[G]] : tensor<27x4xf32>, tensor<4x36xf32>) outs(%{{.+}} : tensor<27x36xf32>) attrs = {graft.contraction}
// CHECK: %[[ALL:.+]] = tensor.insert_slice %{{.+}} into %[[LOOP]][4, 0, 0, 0] [1, 3, 8, 8]
// CHECK: return %[[ALL]]
func.func @input_grad(%gy: tensor<5x4x6x6xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<5x3x8x8xf32> {
  %gx = graft.conv2d_backward_input %gy, %w : (tensor<5x4x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<5x3x8x8xf32>
  return %gx : tensor<5x3x8x8xf32>
}
