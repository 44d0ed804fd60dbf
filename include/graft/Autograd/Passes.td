//===- Passes.td - Autograd passes -------------------------*- tablegen -*-===//

#ifndef GRAFT_AUTOGRAD_PASSES
#define GRAFT_AUTOGRAD_PASSES

include "mlir/Pass/PassBase.td"

def AnnotateRequiresGrad : Pass<"graft-annotate-requires-grad", "ModelOp"> {
  let summary = "Marks every value that requires grad, with its grad_fn";
  let description = [{
    Runs the requires-grad analysis (PyTorch's rules, decided statically) and
    writes its result onto the IR so that it can be read and tested:

    - `graft.requires_grad`: the op's result requires grad;
    - `graft.grad_fn = "AddBackward0"`: the result is a non-leaf, recorded
      with PyTorch's backward node name.

    A value requires grad when it is a parameter that is not frozen, an input
    marked `requires_grad`, or the float result of a recorded op (one that
    implements `AutogradOpInterface`) with an operand that requires grad —
    unless it is computed inside `graft.no_grad` / `graft.inference`, or by
    `graft.detach`. Nothing else requires grad.

    Before:
    ```mlir
    %x = graft.input "x" requires_grad : tensor<3xf32>
    %e = graft.input "e" : tensor<3xf32>
    %y = graft.mul %x, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %f = graft.add %e, %e : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    ```
    After:
    ```mlir
    %x = graft.input "x" requires_grad {graft.requires_grad} : tensor<3xf32>
    %e = graft.input "e" : tensor<3xf32>
    %y = graft.mul %x, %x {graft.grad_fn = "MulBackward0", graft.requires_grad} : ...
    %f = graft.add %e, %e : ...
    ```
  }];
  let dependentDialects = ["::graft::GraftDialect"];
  let statistics = [
    Statistic<"numRecorded", "recorded-ops",
              "Ops recorded for backward (non-leaf results)">,
    Statistic<"numTrainable", "trainable-leaves",
              "Leaves that require grad">,
  ];
}

#endif // GRAFT_AUTOGRAD_PASSES
