// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(graft-parallelize-loops{min-work=1}))' | FileCheck %s
// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(graft-parallelize-loops))' | FileCheck %s --check-prefix=COST

// A loop the CPU schedule marked (a graft.parallel fused location) becomes
// an scf.parallel with the same bounds and body; unmarked loops, and marked
// ones that carry values, stay sequential.
//
// COST, the default min-work (131072 estimated operations): two stores
// are not worth threads.
// COST-LABEL: func.func @marked(
// COST-NOT: scf.parallel

// CHECK-LABEL: func.func @marked(
// CHECK-SAME: %[[A:[a-z0-9]+]]: memref<12xf32>
// CHECK: scf.parallel (%[[I:.+]]) = (%c0) to (%c12) step (%c6) {
// CHECK: memref.store %{{.+}}, %[[A]][%[[I]]]
// CHECK: scf.reduce
// CHECK: scf.for
// CHECK: scf.for {{.+}} iter_args
func.func @marked(%a: memref<12xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c6 = arith.constant 6 : index
  %c12 = arith.constant 12 : index
  %f = arith.constant 1.0 : f32
  scf.for %i = %c0 to %c12 step %c6 {
    memref.store %f, %a[%i] : memref<12xf32>
  } loc(fused<"graft.parallel">["x.graft":1:1])
  scf.for %i = %c0 to %c12 step %c6 {
    memref.store %f, %a[%i] : memref<12xf32>
  }
  %s = scf.for %i = %c0 to %c12 step %c6 iter_args(%acc = %f) -> (f32) {
    %x = memref.load %a[%i] : memref<12xf32>
    %y = arith.addf %acc, %x : f32
    scf.yield %y : f32
  } loc(fused<"graft.parallel">["x.graft":2:1])
  return %s : f32
}

// -----

// The estimate counts a nested loop's body once per iteration: 2 outer
// iterations, each of 40000 inner ones of a 4-op body (3 ops and the
// yield) and the outer yield, are 2 x (40000 x 4 + 1) = 320002 >= 131072;
// at half the inner trip count, 160002 still is; at a fifth, 64002 is not.

// COST-LABEL: func.func @nested(
// COST: scf.parallel
// COST: scf.parallel
// COST-NOT: scf.parallel
// COST: return
func.func @nested(%a: memref<2x40000xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8000 = arith.constant 8000 : index
  %c20000 = arith.constant 20000 : index
  %c40000 = arith.constant 40000 : index
  scf.for %i = %c0 to %c2 step %c1 {
    scf.for %j = %c0 to %c40000 step %c1 {
      %x = memref.load %a[%i, %j] : memref<2x40000xf32>
      %y = arith.addf %x, %x : f32
      memref.store %y, %a[%i, %j] : memref<2x40000xf32>
    }
  } loc(fused<"graft.parallel">["x.graft":1:1])
  scf.for %i = %c0 to %c2 step %c1 {
    scf.for %j = %c0 to %c20000 step %c1 {
      %x = memref.load %a[%i, %j] : memref<2x40000xf32>
      %y = arith.addf %x, %x : f32
      memref.store %y, %a[%i, %j] : memref<2x40000xf32>
    }
  } loc(fused<"graft.parallel">["x.graft":2:1])
  scf.for %i = %c0 to %c2 step %c1 {
    scf.for %j = %c0 to %c8000 step %c1 {
      %x = memref.load %a[%i, %j] : memref<2x40000xf32>
      %y = arith.addf %x, %x : f32
      memref.store %y, %a[%i, %j] : memref<2x40000xf32>
    }
  } loc(fused<"graft.parallel">["x.graft":3:1])
  return
}
