// RUN: graft-opt %s --verify-diagnostics --pass-pipeline='builtin.module(graft-cpu-vectorize{vector-bits=200})'

// The vector width is a whole number of 128-bit lanes.

// expected-error @+1 {{vector-bits must be a multiple of 128, not 200}}
module {
  func.func @f(%x: memref<4xf32>) {
    return
  }
}
