graft.model @bad {
  %x = graft.input "x" : tensor<8x3xf32>
  %w = graft.param "fc.weight" init <kaiming_uniform> : tensor<2x4xf32>
  %y = graft.linear %x, %w : (tensor<8x3xf32>, tensor<2x4xf32>) -> tensor<8x2xf32>
}
