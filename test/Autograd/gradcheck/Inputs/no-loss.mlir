graft.model @no_loss {
  %x = graft.input "x" requires_grad : tensor<3xf32>
  %y = graft.exp %x : tensor<3xf32>
  graft.output "y" %y : tensor<3xf32>
}
