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
}

def CheckInPlace : Pass<"graft-check-inplace", "ModelOp"> {
  let summary = "PyTorch's version-counter checks, done statically";
  let description = [{
    Reports, at compile time, the in-place errors PyTorch raises at run time:

    - an in-place op (in grad mode) on a leaf that requires grad, or on a view
      of one: "a leaf Variable that requires grad is being used in an
      in-place operation.";
    - an in-place op that overwrites a value (or a view of it) that an earlier
      recorded op saved for backward, naming both places: "one of the
      variables needed for gradient computation has been modified by an
      inplace operation: [torch.FloatTensor [3]], which is output 0 of
      ExpBackward0, is at version 1; expected version 0 instead.";
    - a value made in a `graft.inference` region saved by recorded
      computation ("Inference tensors cannot be saved for backward"), or
      updated in place outside inference mode;
    - a use of a tensor's old version after it was overwritten in place
      (the front-end rebinds names to the new version).

    Only ops on the backward path count, as in PyTorch, where the error comes
    from `backward()`: `add` then `mul_` on its result passes (add saves
    nothing), `exp` then `add_` on its result fails (exp saves its result).
    Views (`reshape`, `transpose`, `permute`, `broadcast_to`, `slice`) and
    `detach` share storage with their input; `clone` does not.
  }];
  let dependentDialects = ["::graft::GraftDialect"];
}

def DeriveBackward : Pass<"graft-derive-backward", "ModelOp"> {
  let summary = "Appends the backward pass of the loss to the model";
  let description = [{
    Derives dL/d(leaf) for every leaf that requires grad, by reverse-mode
    differentiation over the recorded ops, as `loss.backward()` does:

    - starts from dL/dL = 1 at `graft.loss`;
    - visits recorded ops in reverse program order and calls each op's VJP
      rule (`AutogradOpInterface::buildVJP`); gradients of a value used
      several times are summed;
    - differentiates only the paths from the loss to leaves that require
      grad: subgraphs behind `detach`, `no_grad`/`inference` regions, frozen
      parameters and integer values are never visited, and only the
      operands that need a gradient get one;
    - passes gradients through `graft.hook_call` at hook points;
    - marks each result with `graft.gradient "name" %g`: trainable
      parameters, inputs marked `requires_grad` and retained values
      (`graft.retain_grad`). A leaf that requires grad but does not reach
      the loss gets none (its `.grad` stays None).

    A loss that requires no grad is the error PyTorch raises in
    `backward()`: "element 0 of tensors does not require grad and does not
    have a grad_fn". `retain_grad` on a value that does not require grad is
    "can't retain_grad on Tensor that has requires_grad=False".

    Before:
    ```mlir
    %w = graft.param "w" init <ones> : tensor<3xf32>
    %e = graft.exp %w : tensor<3xf32>
    %l = graft.sum %e : tensor<3xf32> -> tensor<f32>
    graft.loss %l : tensor<f32>
    ```
    After (appended):
    ```mlir
    %one = graft.constant dense<1.0> : tensor<f32>
    %gs = graft.broadcast_to %one : tensor<f32> -> tensor<3xf32>
    %gw = graft.mul %gs, %e : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    graft.gradient "w" %gw : tensor<3xf32>
    ```
  }];
  let dependentDialects = ["::graft::GraftDialect"];
}

def BuildTrainingProgram : Pass<"graft-build-training-program", "::mlir::ModuleOp"> {
  let summary = "Builds the entry points of the training program of each model";
  let description = [{
    Turns each `graft.model @m` into the functions a training loop calls,
    with all state passed explicitly (value semantics; code generation
    places it in static buffers):

    | function | does | mode |
    |---|---|---|
    | `@m_forward_backward(params, buffers, grads, inputs, seed)` | forward, backward, `grads + dL/dparams` (accumulates, like `loss.backward()`); returns the loss, the new grads, the updated buffers, then the gradients of `requires_grad` inputs and retained values | train |
    | `@m_zero_grad()` | the zero gradients (`optimizer.zero_grad()`) | |
    | `@m_eval(params, buffers, inputs)` | forward only; returns the loss (when the model has one) and the outputs | eval |
    | `@m_predict(params, buffers, inputs)` | forward of the outputs only, with only the inputs they need; nothing is kept for backward | eval |
    | `@m_step(params, grads, opt_state, hyper)` | with a `graft.train`: grads / accumulation_steps, clipping, one fused torch.optim update of every trainable parameter with a gradient; returns the new params, then the new opt_state | |
    | `@m_train_step(params, buffers, opt_state, inputs, seed, hyper)` | with a `graft.train`: zero_grad, forward, backward and step fused (fresh gradients, no division); returns the loss, the new params, buffers and opt_state, then the outputs | train |

    Every argument and result carries `graft.role`, a `#graft<role ...>`
    (`param`, `buffer`, `grad`, `input`, `seed`, `loss`, `output`,
    `input_grad`, `retained_grad`, `opt_state`, `hyper`: the C API's
    `graft_role`, checked at compile time) and `graft.name` (its state_dict
    name; `step` or `<param>.<torch state key>` for `opt_state`, `lr` or
    `group<i>.lr` for the learning rates in `hyper`), which is how the
    C API and the JIT find them. Train-mode functions make BatchNorm's
    running-statistics update explicit and return the new buffers; in eval
    mode `graft.dropout` is the identity and BatchNorm uses its running
    statistics (`training = false`). Frozen parameters have no gradient and
    no optimizer state and are never written; the optimizer's formulas,
    groups, accumulation, clipping and schedules are in docs/Optimizers.md.

    The model itself stays in the module: it is the metadata (names,
    initialisers, frozen flags) the code generator and the CLI read.
  }];
  let dependentDialects = ["::graft::GraftDialect",
                           "::mlir::func::FuncDialect"];
}

#endif // GRAFT_AUTOGRAD_PASSES
