// RUN: graft-opt %s --split-input-file --graft-thread-regions --verify-diagnostics

// The pool runs one statically scheduled loop per region: a second loop
// (the first would need a barrier before it), or a dynamic schedule, is an
// error, not a region run differently.

func.func @two_loops(%a: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
  // expected-error @below {{Graft's thread pool runs one statically scheduled worksharing loop per parallel region}}
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        memref.store %f, %a[%i] : memref<8xf32>
        omp.yield
      }
    }
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        memref.store %f, %a[%i] : memref<8xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// -----

func.func @dynamic(%a: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
  // expected-error @below {{Graft's thread pool runs one statically scheduled worksharing loop per parallel region}}
  omp.parallel {
    omp.wsloop schedule(dynamic) {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        memref.store %f, %a[%i] : memref<8xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  return
}
