// RUN: graft-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg))'

// Every graft op that can appear in a function lowers; what the pass
// rejects is a train-mode op without the step's seed.

func.func @dropout_without_seed(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{dropout outside a train-mode function has no seed}}
  %y = graft.dropout %x {p = 0.5 : f64, stream = 1 : i64} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// With a seed argument the same dropout lowers (no diagnostic).
func.func @dropout_with_seed(%x: tensor<4xf32>, %seed: tensor<i64> {graft.role = #graft<role seed>}) -> tensor<4xf32> {
  %y = graft.dropout %x {p = 0.5 : f64, stream = 1 : i64} : tensor<4xf32>
  return %y : tensor<4xf32>
}
