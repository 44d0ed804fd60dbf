// RUN: graft-opt %graft_src_root/examples/ir/mlp.mlir --graft-annotate-requires-grad --graft-derive-backward --graft-stats -o /dev/null 2>&1 | FileCheck %s

// The autograd passes' counts on examples/ir/mlp.mlir (three linear layers,
// two relus, the loss; fc3.bias frozen: see docs/Passes.md#statistics):
// five leaves that require grad, six recorded ops, each differentiated,
// none pruned, five gradients exposed.

// CHECK: Statistics Collected
// CHECK-DAG: 6 graft-annotate-requires-grad {{ *}}- Ops recorded for backward (non-leaf results)
// CHECK-DAG: 5 graft-annotate-requires-grad {{ *}}- Leaves that require grad
// CHECK-DAG: 6 graft-derive-backward {{ *}}- Recorded ops differentiated
// CHECK-DAG: 5 graft-derive-backward {{ *}}- Gradients exposed (graft.gradient)
// CHECK-NOT: pruned
