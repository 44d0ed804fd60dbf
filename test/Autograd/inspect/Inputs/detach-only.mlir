graft.model @detach_only {
  %x = graft.input "x" requires_grad : tensor<3xf32>
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %d = graft.detach %w : tensor<3xf32> loc("detach-only.graft":3:7)
  %p = graft.mul %x, %d : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %l = graft.sum %p : tensor<3xf32> -> tensor<f32>
  graft.loss %l : tensor<f32>
}
