graft.model @loss_without_grad {
  %x = graft.input "x" : tensor<3xf32>
  %s = graft.sum %x : tensor<3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
}
