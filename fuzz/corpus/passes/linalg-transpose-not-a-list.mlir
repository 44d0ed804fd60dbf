// MLIR 22 crashes parsing this (upstream); the pass fuzzer skips it.
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %r = linalg.transpose ins(%a : tensor<2x3xf32>) outs(%b : tensor<3x2xf32>) permutation = "x"
  return %r : tensor<3x2xf32>
}
