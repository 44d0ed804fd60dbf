// graft-deallocate-remaining: the buffer deallocation pipeline only where
// graft-plan-memory left allocations; elsewhere its closing cse and
// canonicalize alone.
// RUN: graft-opt %s --split-input-file --graft-deallocate-remaining | FileCheck %s
// RUN: graft-opt %s --split-input-file --graft-deallocate-remaining --graft-stats -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATS

// STATS: 1 graft-deallocate-remaining - Modules whose left allocations were given deallocations

// No allocation: nothing to deallocate; cse merges the two equal views.
// CHECK-LABEL: func.func @planned
// CHECK-SAME: (%[[W:.*]]: memref<1024xi8>, %[[OUT:.*]]: memref<16xf32>)
// CHECK: %[[V:.*]] = memref.view %[[W]]
// CHECK-NOT: memref.view
// CHECK-NOT: dealloc
// CHECK: memref.copy %[[V]], %[[OUT]]
// CHECK-NEXT: return
func.func @planned(%w: memref<1024xi8>, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c0b = arith.constant 0 : index
  %a = memref.view %w[%c0][] : memref<1024xi8> to memref<16xf32>
  %b = memref.view %w[%c0b][] : memref<1024xi8> to memref<16xf32>
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%one : f32) outs(%a : memref<16xf32>)
  memref.copy %b, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// An allocation the plan leaves (a dynamic size here): freed after its last
// use.
// CHECK-LABEL: func.func @left
// CHECK: %[[T:.*]] = memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: memref.copy %[[T]]
// CHECK: memref.dealloc %[[T]]
// CHECK-NEXT: return
func.func @left(%n: index, %out: memref<?xf32>) {
  %t = memref.alloc(%n) : memref<?xf32>
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%one : f32) outs(%t : memref<?xf32>)
  memref.copy %t, %out : memref<?xf32> to memref<?xf32>
  return
}
