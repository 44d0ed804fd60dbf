// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(graft-parallelize-loops{min-work=1}))' | FileCheck %s
// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(graft-parallelize-loops))' | FileCheck %s --check-prefix=COST

// A loop the CPU schedule made an scf.forall becomes an scf.parallel with
// the same bounds and body; scf.for loops stay sequential.
//
// COST, the default min-work (131072 estimated operations): one store is
// not worth threads, so the forall becomes an scf.for.
// COST-LABEL: func.func @forall(
// COST-NOT: scf.parallel
// COST: scf.for
// COST-NOT: scf.forall

// CHECK-LABEL: func.func @forall(
// CHECK-SAME: %[[A:[a-z0-9]+]]: memref<12xf32>
// CHECK: scf.parallel (%[[I:.+]]) = (%{{.+}}) to (%{{.+}}) step (%{{.+}}) {
// CHECK: memref.store %{{.+}}, %[[A]][%[[I]]]
// CHECK: scf.reduce
// CHECK: scf.for
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @forall(%a: memref<12xf32>) {
  %c0 = arith.constant 0 : index
  %c6 = arith.constant 6 : index
  %c12 = arith.constant 12 : index
  %f = arith.constant 1.0 : f32
  scf.forall (%i) = (0) to (12) step (6) {
    memref.store %f, %a[%i] : memref<12xf32>
  }
  scf.for %i = %c0 to %c12 step %c6 {
    memref.store %f, %a[%i] : memref<12xf32>
  }
  return
}

// -----

// The estimate counts a nested loop's body once per iteration: 2 outer
// iterations, each of 40000 inner ones of a 4-op body (3 ops and the
// yield) and the outer terminator, are 2 x (40000 x 4 + 1) = 320002 >=
// 131072; at half the inner trip count, 160002 still is; at a fifth, 64002
// is not.

// COST-LABEL: func.func @nested(
// COST: scf.parallel
// COST: scf.parallel
// COST-NOT: scf.parallel
// COST: return
func.func @nested(%a: memref<2x40000xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8000 = arith.constant 8000 : index
  %c20000 = arith.constant 20000 : index
  %c40000 = arith.constant 40000 : index
  scf.forall (%i) in (2) {
    scf.for %j = %c0 to %c40000 step %c1 {
      %x = memref.load %a[%i, %j] : memref<2x40000xf32>
      %y = arith.addf %x, %x : f32
      memref.store %y, %a[%i, %j] : memref<2x40000xf32>
    }
  }
  scf.forall (%i) in (2) {
    scf.for %j = %c0 to %c20000 step %c1 {
      %x = memref.load %a[%i, %j] : memref<2x40000xf32>
      %y = arith.addf %x, %x : f32
      memref.store %y, %a[%i, %j] : memref<2x40000xf32>
    }
  }
  scf.forall (%i) in (2) {
    scf.for %j = %c0 to %c8000 step %c1 {
      %x = memref.load %a[%i, %j] : memref<2x40000xf32>
      %y = arith.addf %x, %x : f32
      memref.store %y, %a[%i, %j] : memref<2x40000xf32>
    }
  }
  return
}

// -----

// A forall inside a parallel loop runs on its iteration's thread: an
// scf.for (OpenMP regions do not nest).

// CHECK-LABEL: func.func @inner(
// CHECK: scf.parallel
// CHECK-NOT: scf.parallel
// CHECK: scf.for
// CHECK-NOT: scf.forall
// CHECK: return
func.func @inner(%a: memref<4x4xf32>) {
  %f = arith.constant 1.0 : f32
  scf.forall (%i) in (4) {
    scf.forall (%j) in (4) {
      memref.store %f, %a[%i, %j] : memref<4x4xf32>
    }
  }
  return
}
