// graft-gpu-map-loops: a serial scatter loop whose iterations write disjoint
// planes (a pooling gradient) runs one thread per iteration; one whose
// iterations may collide (an embedding gradient: rows picked by token ids)
// stays serial, in a one-thread kernel.
// RUN: graft-opt %s -graft-gpu-map-loops | FileCheck %s

// CHECK-LABEL: func.func @pool_backward
// CHECK: scf.parallel (%[[BLOCK:.*]]) = (%{{.*}}) to (%{{.*}}) step
// CHECK: scf.parallel (%[[T:.*]]) = (%{{.*}}) to (%{{.*}}) step
// CHECK: %[[PLANE:.*]] = arith.addi
// CHECK: scf.for
// CHECK: memref.load %{{.*}}[%[[PLANE]],
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[PLANE]],
// CHECK: {mapping = [#gpu.loop_dim_map<processor = thread_x
// CHECK: {mapping = [#gpu.loop_dim_map<processor = block_x
func.func @pool_backward(%ws: memref<4096xi8>, %dy: memref<8x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c256 = arith.constant 256 : index
  %idx = memref.view %ws[%c0][] : memref<4096xi8> to memref<8x4xi64>
  %dx = memref.view %ws[%c256][] : memref<4096xi8> to memref<8x16xf32>
  scf.for %p = %c0 to %c8 step %c1 {
    scf.for %w = %c0 to %c4 step %c1 {
      %i64 = memref.load %idx[%p, %w] : memref<8x4xi64>
      %i = arith.index_cast %i64 : i64 to index
      %g = memref.load %dy[%p, %w] : memref<8x4xf32>
      %old = memref.load %dx[%p, %i] : memref<8x16xf32>
      %new = arith.addf %old, %g : f32
      memref.store %new, %dx[%p, %i] : memref<8x16xf32>
    }
  }
  return
}

// CHECK-LABEL: func.func @embedding_backward
// CHECK: scf.parallel (%{{.*}}) = (%[[Z:.*]]) to (%[[ONE:.*]]) step
// CHECK: scf.for %[[TOK:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[ROW:.*]] = memref.load %{{.*}}[%[[TOK]]]
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[ROW]], %{{.*}}]
func.func @embedding_backward(%ids: memref<16xindex>, %dy: memref<16x8xf32>, %dw: memref<100x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  scf.for %t = %c0 to %c16 step %c1 {
    %row = memref.load %ids[%t] : memref<16xindex>
    scf.for %j = %c0 to %c8 step %c1 {
      %g = memref.load %dy[%t, %j] : memref<16x8xf32>
      %old = memref.load %dw[%row, %j] : memref<100x8xf32>
      %new = arith.addf %old, %g : f32
      memref.store %new, %dw[%row, %j] : memref<100x8xf32>
    }
  }
  return
}

// The written plane overlaps a buffer the body reads: not disjoint.
// CHECK-LABEL: func.func @overlapping_views
// CHECK: scf.for %[[P:.*]] = %{{.*}} to %c8 step
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[P]], %{{.*}}]
func.func @overlapping_views(%ws: memref<4096xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %a = memref.view %ws[%c0][] : memref<4096xi8> to memref<8x4xf32>
  %b = memref.view %ws[%c4][] : memref<4096xi8> to memref<8x4xf32>
  scf.for %p = %c0 to %c8 step %c1 {
    %v = memref.load %b[%c0, %c0] : memref<8x4xf32>
    memref.store %v, %a[%p, %c0] : memref<8x4xf32>
  }
  return
}
