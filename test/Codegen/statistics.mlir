// RUN: graft-opt %s --graft-stats --graft-cpu-pipeline=vector-bits=512 -o /dev/null 2>&1 | FileCheck %s
// RUN: graft-opt %s --graft-cpu-pipeline=vector-bits=512 -o /dev/null 2>&1 | FileCheck %s --check-prefix=QUIET --allow-empty

// Each pass's counts (graft-opt --graft-stats): one 64x512x256 product
// (tiled for registers, B copied into padded rows, its row blocks a forall
// worth threads), the elementwise ops after it (fused, vectorised, their
// forall not worth threads), the temporaries planned into the workspace.

// CHECK: Statistics Collected
// CHECK-DAG: 1 graft-cpu-schedule {{ *}}- Product operands copied into padded rows
// CHECK-DAG: 1 graft-cpu-schedule {{ *}}- Products whose blocks threads split (scf.forall)
// CHECK-DAG: 1 graft-cpu-schedule {{ *}}- Products tiled into register tiles
// CHECK-DAG: 1 graft-cpu-strategy {{ *}}- Products given a lowering config
// CHECK-DAG: 2 graft-cpu-vectorize {{ *}}- Ops tiled into vectors
// CHECK-DAG: 2 graft-cpu-vectorize {{ *}}- Tiles vectorised
// CHECK-DAG: 1 graft-fuse-elementwise {{ *}}- Producers fused into their consumers
// CHECK-DAG: 1 graft-parallelize-loops {{ *}}- scf.forall loops made scf.parallel (threads split them)
// CHECK-DAG: 1 graft-parallelize-loops {{ *}}- scf.forall loops made scf.for (not worth threads, or nested)
// CHECK-DAG: 2 graft-plan-memory {{ *}}- Allocations made views of the workspace
// CHECK-DAG: 622592 graft-plan-memory {{ *}}- Workspace bytes, all entry points together
// CHECK-DAG: 1 graft-thread-regions {{ *}}- OpenMP regions fitted to the thread pool
// CHECK-NOT: Tiles left to scalar loops

// Without the flag, nothing.
// QUIET-NOT: Statistics

func.func @step(%a: tensor<64x512xf32>, %w: tensor<512x256xf32>) -> tensor<64x256xf32> {
  %p = graft.matmul %a, %w : (tensor<64x512xf32>, tensor<512x256xf32>) -> tensor<64x256xf32>
  %r = graft.relu %p : tensor<64x256xf32>
  %s = graft.add %r, %r : (tensor<64x256xf32>, tensor<64x256xf32>) -> tensor<64x256xf32>
  return %s : tensor<64x256xf32>
}
