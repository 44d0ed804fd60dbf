// RUN: graft-opt %s --pass-pipeline='builtin.module(func.func(graft-gpu-fuse-parallel), graft-gpu-map-loops)' | FileCheck %s

// graft-gpu-map-loops after the fusion: the learning rate that the two
// updates read on the host is read in the one kernel they now make (the
// load and the truncation are sunk into the fused loop, whose segments
// are [0, 300) padded to 512, then [512, 522)), and the tiles of 256
// threads never straddle two segments.

// CHECK-LABEL: func.func @sgd(
// CHECK-SAME: %[[W:[a-z0-9]+]]: memref<300xf32>, %[[G:[a-z0-9]+]]: memref<300xf32>, %[[B:[a-z0-9]+]]: memref<10xf32>, %[[GB:[a-z0-9]+]]: memref<10xf32>, %[[LR:[a-z0-9]+]]: memref<f64>)
// CHECK-NOT: memref.load
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: scf.if
// CHECK-NEXT: %[[LR64:.+]] = memref.load %[[LR]][] : memref<f64>
// CHECK-NEXT: %[[S:.+]] = arith.truncf %[[LR64]] : f64 to f32
// CHECK: memref.load %[[G]]
// CHECK-NEXT: arith.mulf %[[S]],
// CHECK: memref.store %{{.+}}, %[[W]]
// CHECK: } else {
// CHECK: memref.load %[[GB]]
// CHECK-NEXT: arith.mulf %[[S]],
// CHECK: memref.store %{{.+}}, %[[B]]
// CHECK: mapping = [#gpu.loop_dim_map<processor = thread_x
// CHECK: mapping = [#gpu.loop_dim_map<processor = block_x
// CHECK-NOT: scf.parallel
func.func @sgd(%w: memref<300xf32>, %g: memref<300xf32>, %b: memref<10xf32>, %gb: memref<10xf32>, %lr: memref<f64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %c300 = arith.constant 300 : index
  %lr64 = memref.load %lr[] : memref<f64>
  %s = arith.truncf %lr64 : f64 to f32
  scf.parallel (%i) = (%c0) to (%c300) step (%c1) {
    %p = memref.load %w[%i] : memref<300xf32>
    %d = memref.load %g[%i] : memref<300xf32>
    %u = arith.mulf %s, %d : f32
    %n = arith.subf %p, %u : f32
    memref.store %n, %w[%i] : memref<300xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c10) step (%c1) {
    %p = memref.load %b[%i] : memref<10xf32>
    %d = memref.load %gb[%i] : memref<10xf32>
    %u = arith.mulf %s, %d : f32
    %n = arith.subf %p, %u : f32
    memref.store %n, %b[%i] : memref<10xf32>
    scf.reduce
  }
  return
}
