// MLIR 22 crashes parsing this (upstream); the pass fuzzer skips it.
func.func @f(%a: tensor<3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %r = linalg.broadcast ins(%a : tensor<3xf32>) outs(%b : tensor<2x3xf32>) dimensions = 1
  return %r : tensor<2x3xf32>
}
