// RUN: graft-opt %s --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg, graft-fuse-elementwise), graft-cpu-schedule{vector-bits=256}, canonicalize)' | FileCheck %s

// With AVX2's 16 registers (vector-bits=256): 6x16 product tiles, 12
// accumulators of two 8-lane vectors per row.

// CHECK-LABEL: func.func @product(
// CHECK: %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : vector<6x16xf32>
// CHECK: scf.forall (%{{.+}}) = (0) to (12) step (6)
// CHECK: scf.for %{{.+}} = %c0 to %c32 step %c16
// CHECK: scf.for %{{.+}} = %c0 to %c8 step %c1 iter_args(%{{.+}} = %[[ZERO]]) -> (vector<6x16xf32>)
// CHECK: vector.fma %{{.+}} : vector<16xf32>
func.func @product(%a: tensor<12x8xf32>, %w: tensor<8x32xf32>) -> tensor<12x32xf32> {
  %p = graft.matmul %a, %w : (tensor<12x8xf32>, tensor<8x32xf32>) -> tensor<12x32xf32>
  return %p : tensor<12x32xf32>
}

// B packed into panels of the tile's 16 columns (pack_operands): each
// register tile's k loop reads its panel's rows one after another, not a
// line per row of B down a column. The panel of the columns at %[[J]] is
// panel %[[J]] floordiv 16.

// CHECK-LABEL: func.func @packed(
// CHECK-SAME: %[[A:.+]]: tensor<24x32xf32>, %[[W:.+]]: tensor<32x64xf32>
// CHECK: %[[ROWS:.+]] = tensor.expand_shape %[[W]] {{\[}}[0], [1, 2]] output_shape [32, 4, 16]
// CHECK: %[[BUF:.+]] = bufferization.alloc_tensor() : tensor<4x32x16xf32>
// CHECK: %[[PANELS:.+]] = linalg.generic {{.+}} ins(%[[ROWS]] : tensor<32x4x16xf32>) outs(%[[BUF]] : tensor<4x32x16xf32>)
// CHECK: scf.forall (%{{.+}}) = (0) to (24) step (6)
// CHECK: scf.for %[[J:.+]] = %c0 to %c64 step %c16
// CHECK: %[[P:.+]] = affine.apply #{{.+}}(%[[J]])
// CHECK: %[[PANEL:.+]] = tensor.extract_slice %[[PANELS]][%[[P]], 0, 0] [1, 32, 16] [1, 1, 1] : tensor<4x32x16xf32> to tensor<32x16xf32>
// CHECK: scf.for %[[K:.+]] = %c0 to %c32 step %c1
// CHECK: tensor.extract_slice %[[PANEL]][%[[K]], 0] [1, 16] [1, 1]
// CHECK: vector.fma %{{.+}} : vector<16xf32>
func.func @packed(%a: tensor<24x32xf32>, %w: tensor<32x64xf32>) -> tensor<24x64xf32> {
  %p = graft.matmul %a, %w : (tensor<24x32xf32>, tensor<32x64xf32>) -> tensor<24x64xf32>
  return %p : tensor<24x64xf32>
}
