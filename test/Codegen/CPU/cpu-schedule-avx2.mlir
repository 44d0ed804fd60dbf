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
