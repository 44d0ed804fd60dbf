// No RUN line: the default pipeline (the whole CPU pipeline) would run on
// OpenMP ops, which MLIR 22's ownership-based-buffer-deallocation breaks
// (PassFuzzer.cpp: hitsUpstreamDeallocationBug).
func.func @dynamic(%a: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
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
