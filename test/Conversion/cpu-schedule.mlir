// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg, graft-fuse-elementwise), graft-cpu-schedule, canonicalize)' | FileCheck %s

// A product whose m and n do not divide the 4x64 register tile: peeled
// into full and partial tiles, every one of static shape, each an
// outer-product loop over k with the accumulator in registers.

// CHECK-LABEL: func.func @product(
// CHECK: scf.for %{{.+}} = %c0 to %c12 step %c4
// CHECK: scf.for %{{.+}} = %c0 to %c128 step %c64
// CHECK: %[[ACC:.+]] = vector.transfer_read {{.+}} : tensor<4x64xf32>, vector<4x64xf32>
// CHECK: scf.for %{{.+}} = %c0 to %c32 step %c1 iter_args(%{{.+}} = %[[ACC]]) -> (vector<4x64xf32>)
// CHECK: vector.broadcast %{{.+}} : f32 to vector<64xf32>
// CHECK: vector.fma %{{.+}} : vector<64xf32>
// The n remainder: 130 = 2 * 64 + 2.
// CHECK: vector<4x2xf32>
// The m remainder: 13 = 3 * 4 + 1.
// CHECK: vector<1x64xf32>
// CHECK: vector<1x2xf32>
func.func @product(%a: tensor<13x32xf32>, %w: tensor<32x130xf32>) -> tensor<13x130xf32> {
  %p = graft.matmul %a, %w : (tensor<13x32xf32>, tensor<32x130xf32>) -> tensor<13x130xf32>
  return %p : tensor<13x130xf32>
}
