// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg{pool-taps=true}))' | FileCheck %s

// With pool-taps (the CPU), max pooling runs tap by tap, (kh, kw) in
// order: each tap an elementwise generic over the outputs that reads the
// tap's strided window of the -inf padded input (stride 2 here) and takes
// the maximum with the running one; the CPU vectorises it along ow.
// (Without the option, test/Conversion/graft-to-linalg.mlir: one window
// generic.)

// CHECK-LABEL: func.func @max_pool2d(
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x6x6xf32>)
// CHECK: %[[XP:.+]] = linalg.generic
// CHECK: %[[Y0:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x3x3xf32>)
// CHECK: %[[T0:.+]] = tensor.extract_slice %[[XP]][0, 0, 0] [1, 3, 3] [1, 2, 2]
// CHECK: %[[Y1:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[T0]] : tensor<1x3x3xf32>) outs(%[[Y0]] : tensor<1x3x3xf32>)
// CHECK: arith.maximumf %{{.+}}, %{{.+}} : f32
// CHECK: %[[T1:.+]] = tensor.extract_slice %[[XP]][0, 0, 1] [1, 3, 3] [1, 2, 2]
// CHECK: linalg.generic {{.+}} ins(%[[T1]] : tensor<1x3x3xf32>) outs(%[[Y1]] : tensor<1x3x3xf32>)
// CHECK: tensor.extract_slice %[[XP]][0, 1, 0] [1, 3, 3] [1, 2, 2]
// CHECK: tensor.extract_slice %[[XP]][0, 1, 1] [1, 3, 3] [1, 2, 2]
// CHECK-NOT: "reduction"
func.func @max_pool2d(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32> {
  %y = graft.max_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, ceil_mode = true} : tensor<1x1x5x5xf32> -> tensor<1x1x3x3xf32>
  return %y : tensor<1x1x3x3xf32>
}

// -----

// The gradient's argmax, the first maximal element of each window (-1:
// none), tap by tap likewise: each an elementwise update of (best, index)
// from the tap's window; then the same scatter-add.

// CHECK-LABEL: func.func @max_pool2d_backward(
// CHECK: %[[NONE:.+]] = linalg.fill ins(%{{.+}} : i64) outs(%{{.+}} : tensor<1x3x3xi64>)
// CHECK: %[[TAP0:.+]] = tensor.extract_slice %{{.+}}[0, 0, 0] [1, 3, 3] [1, 2, 2]
// CHECK: %[[T0:.+]]:2 = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[TAP0]] : tensor<1x3x3xf32>) outs(%{{.+}}, %[[NONE]] : tensor<1x3x3xf32>, tensor<1x3x3xi64>)
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf uno
// CHECK: tensor.extract_slice %{{.+}}[0, 0, 1] [1, 3, 3] [1, 2, 2]
// CHECK: linalg.generic {{.+}} outs(%[[T0]]#0, %[[T0]]#1 : tensor<1x3x3xf32>, tensor<1x3x3xi64>)
// CHECK: tensor.extract_slice %{{.+}}[0, 1, 0] [1, 3, 3] [1, 2, 2]
// CHECK: tensor.extract_slice %{{.+}}[0, 1, 1] [1, 3, 3] [1, 2, 2]
// CHECK: %[[ARG:.+]]:2 = linalg.generic
// CHECK: scf.for
// CHECK: tensor.extract %[[ARG]]#1
func.func @max_pool2d_backward(%g: tensor<1x1x3x3xf32>, %x: tensor<1x1x5x5xf32>) -> tensor<1x1x5x5xf32> {
  %gx = graft.max_pool2d_backward %g, %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, ceil_mode = true} : (tensor<1x1x3x3xf32>, tensor<1x1x5x5xf32>) -> tensor<1x1x5x5xf32>
  return %gx : tensor<1x1x5x5xf32>
}
