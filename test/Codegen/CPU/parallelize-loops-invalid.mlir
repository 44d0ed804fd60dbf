// RUN: graft-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(graft-parallelize-loops))'

// The pass runs after bufferization: a forall still on tensors, or over
// two dims, is not a form the CPU schedule makes.

func.func @on_tensors(%t: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{graft-parallelize-loops takes one-dimensional scf.forall loops on buffers}}
  %r = scf.forall (%i) in (8) shared_outs(%o = %t) -> (tensor<8xf32>) {
    %s = tensor.extract_slice %o[%i] [1] [1] : tensor<8xf32> to tensor<1xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %s into %o[%i] [1] [1] : tensor<1xf32> into tensor<8xf32>
    }
  }
  return %r : tensor<8xf32>
}

// -----

func.func @two_dims(%a: memref<4x4xf32>) {
  %f = arith.constant 1.0 : f32
  // expected-error @+1 {{graft-parallelize-loops takes one-dimensional scf.forall loops on buffers}}
  scf.forall (%i, %j) in (4, 4) {
    memref.store %f, %a[%i, %j] : memref<4x4xf32>
  }
  return
}
