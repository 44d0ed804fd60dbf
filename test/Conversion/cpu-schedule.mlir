// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg, graft-fuse-elementwise), graft-cpu-schedule, canonicalize)' | FileCheck %s

// A product whose m and n do not divide the 6x64 register tile: peeled
// into full and partial tiles, every one of static shape, each an
// outer-product loop over k with the accumulator in registers.

// CHECK-LABEL: func.func @product(
// CHECK: scf.for %{{.+}} = %c0 to %c12 step %c6
// CHECK: scf.for %{{.+}} = %c0 to %c128 step %c64
// CHECK: %[[ACC:.+]] = vector.transfer_read {{.+}} : tensor<6x64xf32>, vector<6x64xf32>
// CHECK: scf.for %{{.+}} = %c0 to %c32 step %c1 iter_args(%{{.+}} = %[[ACC]]) -> (vector<6x64xf32>)
// CHECK: vector.broadcast %{{.+}} : f32 to vector<64xf32>
// CHECK: vector.fma %{{.+}} : vector<64xf32>
// The n remainder: 130 = 2 * 64 + 2.
// CHECK: vector<6x2xf32>
// The m remainder: 13 = 2 * 6 + 1.
// CHECK: vector<1x64xf32>
// CHECK: vector<1x2xf32>
func.func @product(%a: tensor<13x32xf32>, %w: tensor<32x130xf32>) -> tensor<13x130xf32> {
  %p = graft.matmul %a, %w : (tensor<13x32xf32>, tensor<32x130xf32>) -> tensor<13x130xf32>
  return %p : tensor<13x130xf32>
}

// -----

// Elementwise: one 16-lane vector per tile along the innermost dimension,
// and a static 4-lane tail (36 = 2 * 16 + 4).

// CHECK-LABEL: func.func @elementwise(
// CHECK: scf.for %{{.+}} = %c0 to %c3 step %c1
// CHECK: scf.for %{{.+}} = %c0 to %c32 step %c16
// CHECK: vector.transfer_read {{.+}} vector<1x16xf32>
// CHECK: math.tanh %{{.+}} : vector<1x16xf32>
// CHECK: math.tanh %{{.+}} : vector<1x4xf32>
func.func @elementwise(%x: tensor<3x36xf32>) -> tensor<3x36xf32> {
  %y = graft.tanh %x : tensor<3x36xf32>
  return %y : tensor<3x36xf32>
}

// -----

// Masks (i1 tensors) stay scalar: a vector of i1 is a bit mask in memory.

// CHECK-LABEL: func.func @mask(
// CHECK-NOT: vector<
// CHECK: arith.cmpf ogt, %{{.+}} : f32
func.func @mask(%x: tensor<4x32xf32>, %z: tensor<f32>) -> tensor<4x32xi1> {
  %m = graft.compare gt, %x, %z : (tensor<4x32xf32>, tensor<f32>) -> tensor<4x32xi1>
  return %m : tensor<4x32xi1>
}
