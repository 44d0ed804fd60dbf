// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(graft-parallelize-loops))' | FileCheck %s

// A loop the CPU schedule marked (a graft.parallel fused location) becomes
// an scf.parallel with the same bounds and body; unmarked loops, and marked
// ones that carry values, stay sequential.

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
