graft.model @frozen_all {
  %x = graft.input "x" : tensor<8x4xf32>
  %w = graft.param "fc.weight" frozen init <kaiming_uniform> : tensor<2x4xf32>
  %y = graft.linear %x, %w : (tensor<8x4xf32>, tensor<2x4xf32>) -> tensor<8x2xf32>
  %l = graft.sum %y : tensor<8x2xf32> -> tensor<f32>
  graft.loss %l : tensor<f32>
}
