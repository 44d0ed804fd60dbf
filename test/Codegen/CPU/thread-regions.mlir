// RUN: graft-opt %s --split-input-file --graft-thread-regions | FileCheck %s
// RUN: graft-opt %s --split-input-file --graft-thread-regions='work-per-block=1000000000' | FileCheck %s --check-prefix=SMALL

// A region as convert-scf-to-openmp makes it: its loop becomes nowait (the
// pool joins the blocks at the region's end), and num_threads its most
// blocks: 12 iterations of a 10000-iteration loop over a 4-op body and a
// yield, 12 x (10000 x 4 + 1) = 480012 estimated operations, over 65536
// per block: 7. With a huge work-per-block, two (the fewest).

// CHECK-LABEL: func.func @region(
// CHECK: %[[N:.+]] = arith.constant 7 : i32
// CHECK: omp.parallel num_threads(%[[N]] : i32) {
// CHECK-NEXT: omp.wsloop nowait {
// CHECK-NEXT: omp.loop_nest
// SMALL-LABEL: func.func @region(
// SMALL: arith.constant 2 : i32
func.func @region(%a: memref<12x10000xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c12 = arith.constant 12 : index
  %c10000 = arith.constant 10000 : index
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c12) step (%c1) {
        scf.for %j = %c0 to %c10000 step %c1 {
          %x = memref.load %a[%i, %j] : memref<12x10000xf32>
          %y = arith.addf %x, %x : f32
          memref.store %y, %a[%i, %j] : memref<12x10000xf32>
        }
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// -----

// More blocks than iterations are never asked for: 3 iterations.

// CHECK-LABEL: func.func @few_iterations(
// CHECK: %[[N:.+]] = arith.constant 3 : i32
// CHECK: omp.parallel num_threads(%[[N]] : i32)
func.func @few_iterations(%a: memref<3x100000xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c100000 = arith.constant 100000 : index
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c3) step (%c1) {
        scf.for %j = %c0 to %c100000 step %c1 {
          %x = memref.load %a[%i, %j] : memref<3x100000xf32>
          memref.store %x, %a[%i, %j] : memref<3x100000xf32>
        }
        omp.yield
      }
    }
    omp.terminator
  }
  return
}
