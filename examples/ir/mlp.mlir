// The MLP of bench/ written directly in the graft dialect (what the
// front-end produces for examples/mlp.graft, minus locations):
// x[128,784] -> Linear 512 -> ReLU -> Linear 512 -> ReLU -> Linear 10
// -> cross_entropy.
graft.model @mlp {
  %x = graft.input "x" : tensor<128x784xf32>
  %y = graft.input "y" : tensor<128xi64>
  %w1 = graft.param "fc1.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<512x784xf32>
  %b1 = graft.param "fc1.bias" init <uniform, {a = -0.035714285714285712 : f64, b = 0.035714285714285712 : f64}> : tensor<512xf32>
  %w2 = graft.param "fc2.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<512x512xf32>
  %b2 = graft.param "fc2.bias" init <uniform, {a = -0.044194173824159223 : f64, b = 0.044194173824159223 : f64}> : tensor<512xf32>
  %w3 = graft.param "fc3.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<10x512xf32>
  %b3 = graft.param "fc3.bias" frozen init <zeros> : tensor<10xf32>
  %h1 = graft.linear %x, %w1, %b1 : (tensor<128x784xf32>, tensor<512x784xf32>, tensor<512xf32>) -> tensor<128x512xf32>
  %a1 = graft.relu %h1 : tensor<128x512xf32>
  %h2 = graft.linear %a1, %w2, %b2 : (tensor<128x512xf32>, tensor<512x512xf32>, tensor<512xf32>) -> tensor<128x512xf32>
  %a2 = graft.relu %h2 : tensor<128x512xf32>
  %logits = graft.linear %a2, %w3, %b3 : (tensor<128x512xf32>, tensor<10x512xf32>, tensor<10xf32>) -> tensor<128x10xf32>
  %loss = graft.cross_entropy %logits, %y : (tensor<128x10xf32>, tensor<128xi64>) -> tensor<f32>
  graft.output "logits" %logits : tensor<128x10xf32>
  graft.loss %loss : tensor<f32>
}
