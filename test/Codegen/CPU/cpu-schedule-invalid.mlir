// RUN: graft-opt %s --verify-diagnostics --pass-pipeline='builtin.module(graft-cpu-schedule{vector-bits=100})'

// The vector width is a whole number of 128-bit lanes.

// expected-error @+1 {{vector-bits must be a multiple of 128, not 100}}
module {
  func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}
