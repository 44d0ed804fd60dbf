//===- GraftOps.td - Ops of the graft dialect --------------*- tablegen -*-===//
//
// Ops carry PyTorch's names. Each differentiable op names the backward node
// PyTorch records for it (its grad_fn); shapes and dtypes are checked by one
// shape function per op (lib/Dialect/Graft/IR/ShapeFunctions.cpp) that the
// verifier, the builders and the front-end share.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_OPS
#define GRAFT_OPS

include "graft/Dialect/Graft/IR/GraftDialect.td"
include "graft/Dialect/Graft/IR/GraftInterfaces.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

// Every result tensor has 1 to 2^31 elements per dimension and at most 2^34
// in all (graft::shape::checkSize): a model file cannot ask for a tensor the
// shape rules, the lowering or the memory plan would overflow on.
def Graft_SizedTensors : NativeOpTrait<"GraftSizedTensors">;

// Every element of the result is an element of an operand: views, slices,
// concatenation, copies. Integer values keep their range through such ops
// (graft::indexRangeOf follows them).
def Graft_KeepsElements : NativeOpTrait<"GraftKeepsElements">;

class Graft_Op<string mnemonic, list<Trait> traits = []>
    : Op<Graft_Dialect, mnemonic, !listconcat(traits, [Graft_SizedTensors])> {
  // Extra declarations of one op; Graft_DiffOp adds its own before them.
  code extraDecls = "";
  let extraClassDeclaration = extraDecls;
}

// An op that autograd records, with PyTorch's grad_fn name. An empty gradFn
// means the op computes its name itself (extraDecls declares getGradFnName).
// Its saved values and VJP rule are defined in VJPRules.cpp.
class Graft_DiffOp<string mnemonic, string gradFn, list<Trait> traits = []>
    : Graft_Op<mnemonic, !listconcat(traits, [
        DeclareOpInterfaceMethods<Graft_AutogradOpInterface,
                                  ["getSavedForBackward", "buildVJP"]>])> {
  let extraClassDeclaration = !if(!empty(gradFn), "",
      "::llvm::StringRef getGradFnName() { return \"" # gradFn # "\"; }\n")
      # extraDecls;
}

//===----------------------------------------------------------------------===//
// Structure: the model, its declarations and its marks
//===----------------------------------------------------------------------===//

def Graft_ModelOp : Graft_Op<"model", [
    Symbol, IsolatedFromAbove, SingleBlock, NoTerminator]> {
  let summary = "A model: declarations and the forward computation";
  let description = [{
    The unit a model file compiles to. Its single block declares inputs,
    parameters and buffers with their state_dict names, computes forward in
    program order, and marks the loss, named outputs, retained gradients and
    gradient hooks. Names of inputs, parameters and buffers are unique, and at
    most one `graft.loss` exists.

    ```mlir
    graft.model @affine {
      %x = graft.input "x" : tensor<8x4xf32>
      %w = graft.param "fc.weight" init #graft.init<kaiming_uniform> : tensor<2x4xf32>
      %y = graft.linear %x, %w : (tensor<8x4xf32>, tensor<2x4xf32>) -> tensor<8x2xf32>
      graft.output "y" %y : tensor<8x2xf32>
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
  let extraDecls = [{
    /// The value marked by graft.loss, or null.
    ::mlir::Value getLoss();
  }];
  let skipDefaultBuilders = 1;
  let builders = [OpBuilder<(ins "::llvm::StringRef":$name)>];
}

class Graft_DeclOp<string mnemonic, list<Trait> traits = []>
    : Graft_Op<mnemonic, !listconcat(traits, [HasParent<"ModelOp">])> {
  let hasVerifier = 1;
}

def Graft_InputOp : Graft_DeclOp<"input"> {
  let summary = "A named model input, fed at every step";
  let description = [{
    Declares an input (a batch of data, labels, a mask). Inputs do not require
    grad unless marked `requires_grad`, which only floating-point inputs may
    be (PyTorch: "only Tensors of floating point dtype can require
    gradients"). A marked input is a leaf whose gradient the step returns.

    ```mlir
    %x = graft.input "x" requires_grad : tensor<16x3xf32>
    %labels = graft.input "y" : tensor<16xi64>
    ```
  }];
  let arguments = (ins StrAttr:$name, UnitAttr:$requires_grad);
  let results = (outs Graft_Tensor:$result);
  let assemblyFormat = [{
    $name (`requires_grad` $requires_grad^)? attr-dict `:` type($result)
  }];
}

def Graft_ParamOp : Graft_DeclOp<"param"> {
  let summary = "A named, trainable (unless frozen) parameter";
  let description = [{
    Declares a parameter with its state_dict name and initialiser. Parameters
    are leaves that require grad, like `torch.nn.Parameter`; `frozen` is
    `requires_grad_(False)`: no gradient buffer, no optimizer state, never
    written.

    `aliases` are the parameter's further state_dict names: weight tying
    (nanoGPT's `transformer.wte.weight = lm_head.weight`) makes one
    parameter that a PyTorch state_dict lists under two names. `name` is
    the first in state_dict order, the one `named_parameters()` gives; a
    checkpoint holds the tensor under every name, and loads from any.

    ```mlir
    %w = graft.param "fc1.weight" init #graft.init<kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<512x784xf32>
    %e = graft.param "embed.weight" frozen init #graft.init<normal> : tensor<100x16xf32>
    %t = graft.param "wte.weight" aliases ["lm_head.weight"] init #graft.init<normal, {std = 2.000000e-02 : f64}> : tensor<65x32xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Graft_InitAttr:$init, UnitAttr:$frozen,
                       OptionalAttr<StrArrayAttr>:$aliases);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $name (`aliases` $aliases^)? (`frozen` $frozen^)? `init` $init attr-dict
    `:` type($result)
  }];
  let extraClassDeclaration = [{
    /// Every state_dict name of the parameter: its name, then its aliases.
    ::llvm::SmallVector<::llvm::StringRef> getStateDictNames();
    /// Whether `pred` holds for one of its state_dict names.
    bool anyName(::llvm::function_ref<bool(::llvm::StringRef)> pred) {
      return ::llvm::any_of(getStateDictNames(), pred);
    }
  }];
}

def Graft_BufferOp : Graft_DeclOp<"buffer"> {
  let summary = "A named persistent state tensor that is not trained";
  let description = [{
    A module buffer (`register_buffer`), such as BatchNorm's `running_mean`,
    `running_var` and `num_batches_tracked`. Buffers never require grad; they
    are part of the state_dict and of checkpoints, and train-mode ops update
    them.

    ```mlir
    %rm = graft.buffer "bn1.running_mean" init #graft.init<zeros> : tensor<16xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Graft_InitAttr:$init);
  let results = (outs Graft_Tensor:$result);
  let assemblyFormat = "$name `init` $init attr-dict `:` type($result)";
}

def Graft_ConstantOp : Graft_Op<"constant", [ConstantLike, Pure,
    AllTypesMatch<["value", "result"]>]> {
  let summary = "A constant tensor";
  let description = [{
    A literal. Constants never require grad.

    ```mlir
    %half = graft.constant dense<5.000000e-01> : tensor<f32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Graft_Tensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

def Graft_LossOp : Graft_Op<"loss", [HasParent<"ModelOp">]> {
  let summary = "Marks the scalar that backward starts from";
  let description = [{
    `loss.backward()`: the training program differentiates this 0-d float
    value. It must depend on a value that requires grad (checked by autograd:
    "element 0 of tensors does not require grad and does not have a grad_fn").

    ```mlir
    graft.loss %l : tensor<f32>
    ```
  }];
  let arguments = (ins Graft_ScalarFloatTensor:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

def Graft_OutputOp : Graft_Op<"output", [HasParent<"ModelOp">]> {
  let summary = "Exposes a named value to eval and predict";
  let description = [{
    A named result of the model (logits, predictions), returned by the
    generated `eval` and `predict` entry points.

    ```mlir
    graft.output "logits" %logits : tensor<16x10xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Graft_Tensor:$value);
  let assemblyFormat = "$name $value attr-dict `:` type($value)";
}

def Graft_RetainGradOp : Graft_Op<"retain_grad", [HasParent<"ModelOp">]> {
  let summary = "Keeps the gradient of a non-leaf value (`retain_grad()`)";
  let description = [{
    Requests `dL/dvalue` for a non-leaf, under the given name; the step
    exposes it like a leaf's `.grad`. Without it, the gradients of non-leaves
    are freed during backward, as in PyTorch.

    ```mlir
    graft.retain_grad "h1" %h1 : tensor<16x32xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Graft_FloatTensor:$value);
  let assemblyFormat = "$name $value attr-dict `:` type($value)";
}

def Graft_ReadGradOp : Graft_Op<"read_grad", [HasParent<"ModelOp">]> {
  let summary = "Asks for `value.grad` after backward";
  let description = [{
    The model reads the gradient of `value` after backward, under `name`
    (PyTorch's `value.grad`). For a leaf that requires grad it is that
    leaf's gradient; for a non-leaf it exists only when the value is
    retained with `graft.retain_grad` — otherwise backward derivation
    reports PyTorch's warning as an error, with its advice.

    ```mlir
    graft.read_grad "w.grad" %w : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Graft_FloatTensor:$value);
  let assemblyFormat = "$name $value attr-dict `:` type($value)";
}

def Graft_GradHookOp : Graft_Op<"grad_hook", [
    AllTypesMatch<["input", "result"]>]> {
  let summary = "A named gradient hook point (`register_hook`)";
  let description = [{
    The identity in forward. In backward, the gradient that flows into
    `input` passes through the hook named `name`: an embedding application
    may read or replace it with a callback. It records no node of its own
    (its result keeps the producer's grad_fn, as with `register_hook`).

    ```mlir
    %h = graft.grad_hook "fc1.out" %y : tensor<16x32xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Graft_FloatTensor:$input);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = "$name $input attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Grad-mode regions
//===----------------------------------------------------------------------===//

class Graft_GradModeOp<string mnemonic>
    : Graft_Op<mnemonic, [SingleBlock, RecursiveMemoryEffects]> {
  let results = (outs Variadic<Graft_Tensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "(`->` type($results)^)? $body attr-dict";
  let hasVerifier = 1;
}

def Graft_NoGradOp : Graft_GradModeOp<"no_grad"> {
  let summary = "A region run under torch.no_grad()";
  let description = [{
    Nothing inside is recorded: every value computed here has
    `requires_grad = false` and no grad_fn. Its results may be used later in
    recorded computation (they are leaves there).

    ```mlir
    %t = graft.no_grad -> tensor<4xf32> {
      %e = graft.exp %x : tensor<4xf32>
      graft.yield %e : tensor<4xf32>
    }
    ```
  }];
}

def Graft_InferenceOp
    : Graft_GradModeOp<"inference"> {
  let summary = "A region run under torch.inference_mode()";
  let description = [{
    Like `graft.no_grad`, but its results are inference tensors: recorded
    computation may not save them for backward (PyTorch: "Inference tensors
    cannot be saved for backward").

    ```mlir
    %t = graft.inference -> tensor<4xf32> {
      %r = graft.relu %x : tensor<4xf32>
      graft.yield %r : tensor<4xf32>
    }
    ```
  }];
}

def Graft_YieldOp : Graft_Op<"yield", [Pure, Terminator, ReturnLike,
    ParentOneOf<["NoGradOp", "InferenceOp"]>]> {
  let summary = "Returns values from a grad-mode region";
  let description = [{
    Terminates `graft.no_grad` and `graft.inference`; its operands are the
    region's results.

    ```mlir
    graft.yield %a, %b : tensor<4xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins Variadic<Graft_Tensor>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
  let builders = [OpBuilder<(ins), [{ /* empty */ }]>];
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class Graft_BinaryOp<string mnemonic, string gradFn, string pyExpr>
    : Graft_DiffOp<mnemonic, gradFn, [Pure, InferTypeOpAdaptor]> {
  let summary = "Elementwise `" # pyExpr # "` with broadcasting";
  let description = [{
    Computes `}] # pyExpr # [{` elementwise. The operands have the same
    element type and broadcast as in PyTorch (trailing dimensions are equal
    or 1); the result has the broadcast shape.

    ```mlir
    %r = graft.}] # mnemonic # [{ %a, %b : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$lhs, Graft_FloatTensor:$rhs);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def Graft_AddOp : Graft_BinaryOp<"add", "AddBackward0", "lhs + rhs">;
// `1 - x` is Tensor.__rsub__ (RsubBackward1) and `1 / x` is
// `x.reciprocal() * 1` (MulBackward0): the name depends on the operands.
def Graft_SubOp : Graft_BinaryOp<"sub", "", "lhs - rhs"> {
  let extraDecls = "::llvm::StringRef getGradFnName();";
}
def Graft_MulOp : Graft_BinaryOp<"mul", "MulBackward0", "lhs * rhs">;
def Graft_DivOp : Graft_BinaryOp<"div", "", "lhs / rhs"> {
  let extraDecls = "::llvm::StringRef getGradFnName();";
}
// `x ** 2` (a Python number exponent) is PowBackward0, a tensor exponent
// PowBackward1.
def Graft_PowOp : Graft_BinaryOp<"pow", "", "torch.pow(lhs, rhs)"> {
  let extraDecls = "::llvm::StringRef getGradFnName();";
}
def Graft_MaximumOp
    : Graft_BinaryOp<"maximum", "MaximumBackward0", "torch.maximum(lhs, rhs)">;
def Graft_MinimumOp
    : Graft_BinaryOp<"minimum", "MinimumBackward0", "torch.minimum(lhs, rhs)">;

// The C++ a unary row adds to its op: the binding the front-end's tables
// are built from, and the scalar formula the evaluator and the lowering
// instantiate (see graft/Dialect/Graft/IR/ScalarMath.h and UnaryOps.h).
class Graft_UnaryRowDecls<string torchName, string module, bit inPlace,
                          string body> {
  string decls = [{
    static ::graft::UnaryRow getUnaryRow() {
      return {"}] # torchName # [{", "}] # module # [{", }]
      # !if(inPlace, "true", "false") # [{};
    }
    template <typename T> static T scalar(T x) {
      using namespace ::graft::scalar;
      return }] # body # [{;
    }
  }];
}

// A unary elementwise op in one row: its mnemonic (also its torch function
// and method name), PyTorch's grad_fn name, the Python it stands for, its
// scalar formula (a C++ expression in `x`, see ScalarMath.h) and the
// torch.nn module that applies it, if any. The front-end, the evaluator and
// the lowering take it from here; its VJP is in VJPRules.cpp.
class Graft_UnaryOp<string mnemonic, string gradFn, string pyExpr,
                    string body, string module = "">
    : Graft_DiffOp<mnemonic, gradFn, [Pure, SameOperandsAndResultType]> {
  let summary = "Elementwise `" # pyExpr # "`";
  let description = [{
    Computes `}] # pyExpr # [{` elementwise on a floating-point tensor.

    ```mlir
    %r = graft.}] # mnemonic # [{ %x : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  string scalarBody = body;
  let extraDecls = Graft_UnaryRowDecls<mnemonic, module, 0, body>.decls;
}

def Graft_NegOp : Graft_UnaryOp<"neg", "NegBackward0", "-x", "-x"> {
  let hasFolder = 1;
}
def Graft_ExpOp : Graft_UnaryOp<"exp", "ExpBackward0", "torch.exp(x)", "exp(x)">;
def Graft_LogOp : Graft_UnaryOp<"log", "LogBackward0", "torch.log(x)", "log(x)">;
def Graft_SqrtOp
    : Graft_UnaryOp<"sqrt", "SqrtBackward0", "torch.sqrt(x)", "sqrt(x)">;
def Graft_RsqrtOp
    : Graft_UnaryOp<"rsqrt", "RsqrtBackward0", "torch.rsqrt(x)", "rsqrt(x)">;
def Graft_AbsOp : Graft_UnaryOp<"abs", "AbsBackward0", "torch.abs(x)", "abs(x)">;
def Graft_ReluOp : Graft_UnaryOp<"relu", "ReluBackward0", "torch.relu(x)",
    "max(x, 0)", "ReLU">;
def Graft_SiluOp : Graft_UnaryOp<"silu", "SiluBackward0", "F.silu(x)",
    "x * sigmoid(x)", "SiLU">;
def Graft_TanhOp : Graft_UnaryOp<"tanh", "TanhBackward0", "torch.tanh(x)",
    "tanh(x)", "Tanh">;
def Graft_SigmoidOp : Graft_UnaryOp<"sigmoid", "SigmoidBackward0",
    "torch.sigmoid(x)", "sigmoid(x)", "Sigmoid">;
def Graft_ErfOp : Graft_UnaryOp<"erf", "ErfBackward0", "torch.erf(x)", "erf(x)">;
def Graft_HardswishOp : Graft_UnaryOp<"hardswish", "HardswishBackward0",
    "F.hardswish(x)", "x * min(max(x + 3, 0), 6) / 6", "Hardswish">;
def Graft_HardsigmoidOp : Graft_UnaryOp<"hardsigmoid", "HardsigmoidBackward0",
    "F.hardsigmoid(x)", "min(max(x + 3, 0), 6) / 6", "Hardsigmoid">;
def Graft_Log1pOp
    : Graft_UnaryOp<"log1p", "Log1PBackward0", "torch.log1p(x)", "log1p(x)">;
def Graft_MishOp : Graft_UnaryOp<"mish", "MishBackward0", "F.mish(x)",
    "x * tanh(log1p(exp(x)))", "Mish">;
def Graft_SinOp : Graft_UnaryOp<"sin", "SinBackward0", "torch.sin(x)", "sin(x)">;
def Graft_CosOp : Graft_UnaryOp<"cos", "CosBackward0", "torch.cos(x)", "cos(x)">;

def Graft_GeluOp : Graft_DiffOp<"gelu", "GeluBackward0",
    [Pure, SameOperandsAndResultType]> {
  let summary = "Elementwise GELU, exact (erf) or tanh-approximated";
  let description = [{
    `F.gelu(x, approximate=...)`: `x * Φ(x)` with the normal CDF computed by
    erf (`none`, the default) or by PyTorch's tanh formula (`tanh`).

    ```mlir
    %g = graft.gelu %x {approximate = #graft<gelu_approximation tanh>} : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input,
      DefaultValuedAttr<Graft_GeluApproximationAttr,
                        "::graft::GeluApproximation::none">:$approximate);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

// A clamp's bounds as doubles, for the C++ that builds or evaluates it.
class Graft_ClampBoundDecls {
  string decls = [{
  std::optional<double> getLower() {
    if (auto v = getMin())
      return v->convertToDouble();
    return std::nullopt;
  }
  std::optional<double> getUpper() {
    if (auto v = getMax())
      return v->convertToDouble();
    return std::nullopt;
  }
}];
}

def Graft_ClampOp : Graft_DiffOp<"clamp", "",
    [Pure, SameOperandsAndResultType]> {
  let summary = "Elementwise clamp to `[min, max]`: clamp, clamp_min, "
                "clamp_max, hardtanh, relu6";
  let description = [{
    `torch.clamp(x, min, max)`: `min(max(x, min), max)` elementwise, NaN
    kept; either bound may be absent, not both. When `min > max` every
    element is `max`, as in PyTorch. `kind` is the function it stands for,
    which decides its gradient and its grad_fn name:

    | kind | PyTorch | bounds | gradient passes where | grad_fn |
    |---|---|---|---|---|
    | `clamp` | `torch.clamp`, `clip` | `min`, `max` or both | `min <= x <= max` | ClampBackward1 |
    | `clamp_min` | `x.clamp_min(min)` | `min` | `x >= min` | ClampMinBackward0 |
    | `clamp_max` | `x.clamp_max(max)` | `max` | `x <= max` | ClampMaxBackward0 |
    | `hardtanh` | `F.hardtanh`, `F.relu6` | both | neither `x <= min` nor `x >= max` | HardtanhBackward0 |

    (A NaN element passes no gradient through a clamp and all of it through
    hardtanh, as PyTorch's comparisons make it.)

    ```mlir
    %r = graft.clamp %x {kind = #graft<clamp_kind hardtanh>, max = 6.0 : f64, min = 0.0 : f64} : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input, Graft_ClampKindAttr:$kind,
                       OptionalAttr<F64Attr>:$min, OptionalAttr<F64Attr>:$max);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraDecls = "::llvm::StringRef getGradFnName();\n"
                   # Graft_ClampBoundDecls<>.decls;
}

def Graft_WhereOp : Graft_DiffOp<"where", "WhereBackward0",
    [Pure, InferTypeOpAdaptor]> {
  let summary = "Elementwise select: `torch.where(cond, a, b)`";
  let description = [{
    Picks `a` where `cond` is true and `b` elsewhere. The three operands
    broadcast together; `a` and `b` have the same element type.

    ```mlir
    %r = graft.where %m, %a, %b : (tensor<4x3xi1>, tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Graft_MaskTensor:$condition, Graft_FloatTensor:$lhs,
                       Graft_FloatTensor:$rhs);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $condition `,` $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def Graft_MaskedFillOp : Graft_DiffOp<"masked_fill", "MaskedFillBackward0",
    [Pure, InferTypeOpAdaptor]> {
  let summary = "`x.masked_fill(mask, value)`";
  let description = [{
    Replaces the elements of `input` where `mask` is true by `value`. The mask
    broadcasts to the shape of `input`, which is the result shape.

    ```mlir
    %r = graft.masked_fill %s, %causal {value = 0xFFF0000000000000 : f64} : (tensor<4x4xf32>, tensor<4x4xi1>) -> tensor<4x4xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input, Graft_MaskTensor:$mask,
                       F64Attr:$value);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $mask attr-dict `:` functional-type(operands, results)
  }];
}

def Graft_CompareOp : Graft_Op<"compare", [Pure, InferTypeOpAdaptor]> {
  let summary = "Elementwise comparison, giving a mask";
  let description = [{
    `a == b`, `a < b`, ... with broadcasting; operands have the same element
    type, the result is i1 and never requires grad.

    ```mlir
    %m = graft.compare lt, %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
    ```
  }];
  let arguments = (ins Graft_ComparePredicateAttr:$predicate,
                       Graft_Tensor:$lhs, Graft_Tensor:$rhs);
  let results = (outs Graft_MaskTensor:$result);
  let assemblyFormat = [{
    $predicate `,` $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def Graft_CastOp : Graft_DiffOp<"cast", "ToCopyBackward0", [Pure]> {
  let summary = "Converts the element type: `x.to(dtype)`";
  let description = [{
    Converts elementwise to the result's element type; shapes are equal.
    Only float-to-float casts are recorded by autograd (grad_fn
    `ToCopyBackward0`); a cast from an integer or i1 tensor starts a new leaf.

    ```mlir
    %f = graft.cast %labels : tensor<16xi64> -> tensor<16xf32>
    ```
  }];
  let arguments = (ins Graft_Tensor:$input);
  let results = (outs Graft_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// In-place variants
//===----------------------------------------------------------------------===//

class Graft_InPlaceOp<string mnemonic, string outOfPlace, string gradFn,
                      list<Trait> traits = []>
    : Graft_DiffOp<mnemonic, gradFn, !listconcat(traits, [
        Graft_InPlaceOpInterface,
        AllTypesMatch<["self", "result"]>])> {
  let extraDecls = "static ::llvm::StringRef getOutOfPlaceName() { return \""
                   # outOfPlace # "\"; }";
}

class Graft_InPlaceBinaryOp<string mnemonic, string outOfPlace, string gradFn,
                            string pyExpr>
    : Graft_InPlaceOp<mnemonic, outOfPlace, gradFn> {
  let summary = "In-place `" # pyExpr # "`";
  let description = [{
    `}] # pyExpr # [{`: overwrites `self` with the elementwise result. The
    result is the new version of `self`, with its shape and type; `other`
    must broadcast to that shape (PyTorch: "output with shape ... doesn't
    match the broadcast shape ...").

    ```mlir
    %y1 = graft.}] # mnemonic # [{ %y, %b : tensor<4x3xf32>, tensor<3xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$self, Graft_FloatTensor:$other);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $self `,` $other attr-dict `:` type($self) `,` type($other)
  }];
  let hasVerifier = 1;
}

def Graft_AddInPlaceOp
    : Graft_InPlaceBinaryOp<"add_", "add", "AddBackward0", "self.add_(other)">;
def Graft_SubInPlaceOp
    : Graft_InPlaceBinaryOp<"sub_", "sub", "SubBackward0", "self.sub_(other)">;
def Graft_MulInPlaceOp
    : Graft_InPlaceBinaryOp<"mul_", "mul", "MulBackward0", "self.mul_(other)">;
def Graft_DivInPlaceOp
    : Graft_InPlaceBinaryOp<"div_", "div", "DivBackward0", "self.div_(other)">;

// The in-place twin of a unary row (`x.relu_()`), with its formula.
class Graft_InPlaceUnaryOp<string mnemonic, string outOfPlace, string gradFn,
                           string pyExpr, string body>
    : Graft_InPlaceOp<mnemonic, outOfPlace, gradFn> {
  let summary = "In-place `" # pyExpr # "`";
  let description = [{
    `}] # pyExpr # [{`: overwrites `self` with the elementwise result; the
    result is the new version of `self`.

    ```mlir
    %y1 = graft.}] # mnemonic # [{ %y : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$self);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = "$self attr-dict `:` type($self)";
  let extraDecls = "static ::llvm::StringRef getOutOfPlaceName() { return \""
                   # outOfPlace # "\"; }\n"
                   # Graft_UnaryRowDecls<mnemonic, "", 1, body>.decls;
}

def Graft_ReluInPlaceOp : Graft_InPlaceUnaryOp<"relu_", "relu", "ReluBackward0",
    "self.relu_()", Graft_ReluOp.scalarBody>;
def Graft_ExpInPlaceOp : Graft_InPlaceUnaryOp<"exp_", "exp", "ExpBackward0",
    "self.exp_()", Graft_ExpOp.scalarBody>;
def Graft_SigmoidInPlaceOp : Graft_InPlaceUnaryOp<"sigmoid_", "sigmoid",
    "SigmoidBackward0", "self.sigmoid_()", Graft_SigmoidOp.scalarBody>;
def Graft_TanhInPlaceOp : Graft_InPlaceUnaryOp<"tanh_", "tanh", "TanhBackward0",
    "self.tanh_()", Graft_TanhOp.scalarBody>;
def Graft_ZeroInPlaceOp : Graft_InPlaceUnaryOp<"zero_", "zeros_like",
    "ZeroBackward0", "self.zero_()", "zeroLike(x)">;

def Graft_MaskedFillInPlaceOp : Graft_InPlaceOp<"masked_fill_", "masked_fill",
    "MaskedFillBackward0"> {
  let summary = "In-place `self.masked_fill_(mask, value)`";
  let description = [{
    Overwrites the elements of `self` where `mask` (broadcast to the shape of
    `self`) is true by `value`; the result is the new version of `self`.

    ```mlir
    %s1 = graft.masked_fill_ %s, %m {value = 0.000000e+00 : f64} : tensor<4x4xf32>, tensor<4x4xi1>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$self, Graft_MaskTensor:$mask,
                       F64Attr:$value);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = "$self `,` $mask attr-dict `:` type($self) `,` type($mask)";
  let hasVerifier = 1;
}

def Graft_ClampInPlaceOp : Graft_InPlaceOp<"clamp_", "clamp", ""> {
  let summary = "In-place clamp: `x.clamp_(min, max)`, `F.relu6(x, inplace=True)`";
  let description = [{
    Overwrites `self` with `graft.clamp` of it (same `kind`, bounds and
    gradient; the gradient is of the old version, which PyTorch saves as a
    copy); the result is the new version of `self`.

    ```mlir
    %y1 = graft.clamp_ %y {kind = #graft<clamp_kind clamp_min>, min = 0.0 : f64} : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$self, Graft_ClampKindAttr:$kind,
                       OptionalAttr<F64Attr>:$min, OptionalAttr<F64Attr>:$max);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = "$self attr-dict `:` type($self)";
  let hasVerifier = 1;
  let extraDecls = "static ::llvm::StringRef getOutOfPlaceName() { return "
                   "\"clamp\"; }\n::llvm::StringRef getGradFnName();\n"
                   # Graft_ClampBoundDecls<>.decls;
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def Graft_MatmulOp : Graft_DiffOp<"matmul", "", [Pure, InferTypeOpAdaptor]> {
  let summary = "`torch.matmul`: matrix products with batch broadcasting";
  let description = [{
    PyTorch's `@`: 1-D · 1-D is a dot product, 2-D @ 2-D a matrix product,
    and with more dimensions the leading (batch) dimensions broadcast. A 1-D
    left operand is treated as a row, a 1-D right operand as a column, and the
    added dimension is removed from the result.

    ```mlir
    %s = graft.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$lhs, Graft_FloatTensor:$rhs);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let extraDecls = "::llvm::StringRef getGradFnName();";
}

// at::linear's decomposition: addmm, mm, or a product behind a view.
def Graft_LinearOp : Graft_DiffOp<"linear", "",
    [Pure, InferTypeOpAdaptor]> {
  let summary = "`F.linear(x, weight, bias)`: x @ weight^T + bias";
  let description = [{
    `x` is `[..., in]`, `weight` is `[out, in]`, the optional `bias` is
    `[out]`; the result is `[..., out]`.

    ```mlir
    %y = graft.linear %x, %w, %b : (tensor<16x784xf32>, tensor<512x784xf32>, tensor<512xf32>) -> tensor<16x512xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input, Graft_FloatTensor:$weight,
                       Optional<Graft_FloatTensor>:$bias);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let extraDecls = "::llvm::StringRef getGradFnName();";
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class Graft_ReduceOp<string mnemonic, string pyName, string gradFn>
    : Graft_DiffOp<mnemonic, gradFn, [Pure, InferTypeOpAdaptor]> {
  let summary = "`" # pyName # "` over the given dimensions";
  let description = [{
    Reduces over `dims` (all dimensions when empty); `keepdim` keeps them
    with size 1. Dimensions are non-negative and distinct.

    ```mlir
    %s = graft.}] # mnemonic # [{ %x {dims = array<i64: 1>, keepdim = true} : tensor<4x3xf32> -> tensor<4x1xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$dims,
                       DefaultValuedAttr<BoolAttr, "false">:$keepdim);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Graft_SumOp : Graft_ReduceOp<"sum", "torch.sum", ""> {
  let extraDecls = [{
    ::llvm::StringRef getGradFnName() {
      return getDims().empty() ? "SumBackward0" : "SumBackward1";
    }
  }];
}
def Graft_MeanOp : Graft_ReduceOp<"mean", "torch.mean", ""> {
  let extraDecls = [{
    ::llvm::StringRef getGradFnName() {
      return getDims().empty() ? "MeanBackward0" : "MeanBackward1";
    }
  }];
}
def Graft_MaxOp : Graft_ReduceOp<"max", "torch.amax", "AmaxBackward0">;

def Graft_ArgmaxOp : Graft_Op<"argmax", [Pure, InferTypeOpAdaptor]> {
  let summary = "`torch.argmax(x, dim, keepdim)`: index of the maximum";
  let description = [{
    The i64 index of the first maximum along `dim`. Never requires grad.

    ```mlir
    %pred = graft.argmax %logits {dim = 1 : i64} : tensor<16x10xf32> -> tensor<16xi64>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input, I64Attr:$dim,
                       DefaultValuedAttr<BoolAttr, "false">:$keepdim);
  let results = (outs Graft_IndexTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Shape and layout
//===----------------------------------------------------------------------===//

// reshape/view/flatten, unsqueeze, squeeze and integer indexing all become
// graft.reshape: the name is read from the shapes (getGradFnName).
def Graft_ReshapeOp : Graft_DiffOp<"reshape", "", [Pure, Graft_KeepsElements]> {
  let summary = "`x.reshape(shape)` / `x.view(shape)`";
  let description = [{
    Same elements in row-major order, new static shape (the result type).
    The element counts must be equal.

    ```mlir
    %f = graft.reshape %x : tensor<16x1x28x28xf32> -> tensor<16x784xf32>
    ```
  }];
  let arguments = (ins Graft_Tensor:$input);
  let results = (outs Graft_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let extraDecls = "::llvm::StringRef getGradFnName();";
}

// `x.T` of a 2-D tensor is a permute in PyTorch (PermuteBackward0).
def Graft_TransposeOp : Graft_DiffOp<"transpose", "",
    [Pure, InferTypeOpAdaptor, Graft_KeepsElements]> {
  let summary = "`x.transpose(dim0, dim1)`";
  let description = [{
    Swaps two dimensions.

    ```mlir
    %t = graft.transpose %k {dim0 = 2 : i64, dim1 = 3 : i64} : tensor<2x4x8x16xf32> -> tensor<2x4x16x8xf32>
    ```
  }];
  let arguments = (ins Graft_Tensor:$input, I64Attr:$dim0, I64Attr:$dim1);
  let results = (outs Graft_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
  let extraDecls = "::llvm::StringRef getGradFnName();";
}

def Graft_PermuteOp : Graft_DiffOp<"permute", "PermuteBackward0",
    [Pure, InferTypeOpAdaptor, Graft_KeepsElements]> {
  let summary = "`x.permute(dims)`";
  let description = [{
    Result dimension `i` is input dimension `dims[i]`; `dims` is a
    permutation.

    ```mlir
    %p = graft.permute %x {dims = array<i64: 0, 2, 1, 3>} : tensor<2x8x4x16xf32> -> tensor<2x4x8x16xf32>
    ```
  }];
  let arguments = (ins Graft_Tensor:$input, DenseI64ArrayAttr:$dims);
  let results = (outs Graft_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Graft_BroadcastToOp : Graft_DiffOp<"broadcast_to", "ExpandBackward0",
    [Pure, Graft_KeepsElements]> {
  let summary = "`x.expand(shape)` / `torch.broadcast_to`";
  let description = [{
    Broadcasts to the result shape: trailing dimensions are equal or 1 in
    the input, and new leading dimensions may be added.

    ```mlir
    %b = graft.broadcast_to %bias : tensor<3xf32> -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Graft_Tensor:$input);
  let results = (outs Graft_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Graft_SliceOp : Graft_DiffOp<"slice", "SliceBackward0",
    [Pure, InferTypeOpAdaptor, Graft_KeepsElements]> {
  let summary = "`x[..., start:end:step, ...]` along one dimension";
  let description = [{
    Takes `start`, `start + step`, ... below `end` along `dim`. Bounds are
    non-negative and clamped to the dimension like Python slices; `step` is
    positive.

    ```mlir
    %q = graft.slice %qkv {dim = 2 : i64, start = 0 : i64, end = 64 : i64} : tensor<2x8x192xf32> -> tensor<2x8x64xf32>
    ```
  }];
  let arguments = (ins Graft_Tensor:$input, I64Attr:$dim, I64Attr:$start,
                       I64Attr:$end, DefaultValuedAttr<I64Attr, "1">:$step);
  let results = (outs Graft_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Graft_ConcatOp : Graft_DiffOp<"concat", "CatBackward0",
    [Pure, InferTypeOpAdaptor, Graft_KeepsElements]> {
  let summary = "`torch.cat(tensors, dim)`";
  let description = [{
    Joins tensors of equal rank and element type along `dim`; the other
    dimensions are equal.

    ```mlir
    %c = graft.concat %a, %b {dim = 1 : i64} : (tensor<4x2xf32>, tensor<4x3xf32>) -> tensor<4x5xf32>
    ```
  }];
  let arguments = (ins Variadic<Graft_Tensor>:$inputs, I64Attr:$dim);
  let results = (outs Graft_Tensor:$result);
  let assemblyFormat = [{
    $inputs attr-dict `:` functional-type($inputs, results)
  }];
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Neural-network ops
//===----------------------------------------------------------------------===//

class Graft_SoftmaxLikeOp<string mnemonic, string pyName, string gradFn>
    : Graft_DiffOp<mnemonic, gradFn, [Pure, SameOperandsAndResultType]> {
  let summary = "`" # pyName # "(x, dim)`";
  let description = [{
    Normalises along `dim` with the max-subtracted (numerically stable)
    formulation.

    ```mlir
    %p = graft.}] # mnemonic # [{ %x {dim = 1 : i64} : tensor<4x10xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input, I64Attr:$dim);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Graft_SoftmaxOp
    : Graft_SoftmaxLikeOp<"softmax", "F.softmax", "SoftmaxBackward0">;
def Graft_LogSoftmaxOp
    : Graft_SoftmaxLikeOp<"log_softmax", "F.log_softmax", "LogSoftmaxBackward0">;

def Graft_Conv2dOp : Graft_DiffOp<"conv2d", "ConvolutionBackward0",
    [Pure, InferTypeOpAdaptor]> {
  let summary = "`F.conv2d(x, weight, bias, stride, padding, dilation, groups)`";
  let description = [{
    2-D cross-correlation in NCHW. `weight` is `[out, in / groups, kH, kW]`,
    the optional `bias` is `[out]`; `in` and `out` are divisible by `groups`.
    Output size per spatial dimension:
    `(size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1`.

    ```mlir
    %y = graft.conv2d %x, %w, %b {padding = array<i64: 2, 2>} : (tensor<8x1x28x28xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>) -> tensor<8x6x28x28xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input, Graft_FloatTensor:$weight,
      Optional<Graft_FloatTensor>:$bias,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$stride,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$padding,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilation,
      DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

class Graft_Pool2dOp<string mnemonic, string gradFn, string pyName>
    : Graft_DiffOp<mnemonic, gradFn, [Pure, InferTypeOpAdaptor]> {
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let summary = "`" # pyName # "` over NCHW input";
}

def Graft_MaxPool2dOp : Graft_Pool2dOp<"max_pool2d",
    "MaxPool2DWithIndicesBackward0", "F.max_pool2d"> {
  let description = [{
    Maximum over `kernel_size` windows moved by `stride` (defaults to the
    kernel size), with implicit `-inf` padding (at most half the kernel) and
    `dilation`; `ceil_mode` rounds the output size up as PyTorch does.

    ```mlir
    %p = graft.max_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<8x6x28x28xf32> -> tensor<8x6x14x14xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input,
      DenseI64ArrayAttr:$kernel_size, DenseI64ArrayAttr:$stride,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$padding,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilation,
      DefaultValuedAttr<BoolAttr, "false">:$ceil_mode);
}

def Graft_AvgPool2dOp : Graft_Pool2dOp<"avg_pool2d", "AvgPool2DBackward0",
    "F.avg_pool2d"> {
  let description = [{
    Mean over `kernel_size` windows moved by `stride`, with zero padding (at
    most half the kernel); `count_include_pad` decides whether padded zeros
    count in the divisor; `ceil_mode` as in PyTorch.

    ```mlir
    %p = graft.avg_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<8x6x28x28xf32> -> tensor<8x6x14x14xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input,
      DenseI64ArrayAttr:$kernel_size, DenseI64ArrayAttr:$stride,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$padding,
      DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
      DefaultValuedAttr<BoolAttr, "true">:$count_include_pad);
}

def Graft_LayerNormOp : Graft_DiffOp<"layer_norm", "NativeLayerNormBackward0",
    [Pure, InferTypeOpAdaptor, AttrSizedOperandSegments]> {
  let summary = "`F.layer_norm(x, normalized_shape, weight, bias, eps)`";
  let description = [{
    Normalises over the trailing dimensions `normalized_shape` (biased
    variance), then scales by `weight` and shifts by `bias` (both optional,
    shaped `normalized_shape`).

    ```mlir
    %y = graft.layer_norm %x weight %g bias %b {normalized_shape = array<i64: 64>} : (tensor<2x8x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x8x64xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input,
      Optional<Graft_FloatTensor>:$weight, Optional<Graft_FloatTensor>:$bias,
      DenseI64ArrayAttr:$normalized_shape,
      DefaultValuedAttr<F64Attr, "1e-5">:$eps);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`weight` $weight^)? (`bias` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Graft_BatchNormOp : Graft_DiffOp<"batch_norm", "NativeBatchNormBackward0",
    [InferTypeOpAdaptor, AttrSizedOperandSegments]> {
  let summary = "`F.batch_norm` with running statistics";
  let description = [{
    Input `[N, C, ...]`. In train mode it normalises with the batch
    statistics of each channel (biased variance) and updates the running
    statistics, which must be `graft.buffer`s shaped `[C]`:
    `running = (1 - momentum) * running + momentum * batch` (unbiased
    variance for `running_var`). In eval mode it normalises with the running
    statistics. `weight` and `bias` (`[C]`) are optional.

    ```mlir
    %y = graft.batch_norm %x weight %g bias %b running %rm, %rv : (tensor<8x6x14x14xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<8x6x14x14xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input,
      Optional<Graft_FloatTensor>:$weight, Optional<Graft_FloatTensor>:$bias,
      Graft_FloatTensor:$running_mean, Graft_FloatTensor:$running_var,
      DefaultValuedAttr<F64Attr, "0.1">:$momentum,
      DefaultValuedAttr<F64Attr, "1e-5">:$eps,
      DefaultValuedAttr<BoolAttr, "true">:$training);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`weight` $weight^)? (`bias` $bias^)? `running` $running_mean `,` $running_var
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Graft_DropoutOp : Graft_DiffOp<"dropout", "NativeDropoutBackward0",
    [SameOperandsAndResultType]> {
  let summary = "`F.dropout(x, p)`: zeroes elements in train mode";
  let description = [{
    In train mode each element is zeroed with probability `p` and the others
    scaled by `1 / (1 - p)`; in eval mode it is the identity. The mask is a
    function of the step's seed, the op's random `stream` and the element's
    index, so another dropout with the same stream (its VJP, or a
    recomputation) sees the same mask. Front-ends number streams uniquely.

    ```mlir
    %d = graft.dropout %h {p = 1.000000e-01 : f64, stream = 3 : i64} : tensor<16x512xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input, F64Attr:$p,
                       DefaultValuedAttr<I64Attr, "0">:$stream);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Graft_EmbeddingOp : Graft_DiffOp<"embedding", "EmbeddingBackward0",
    [Pure, InferTypeOpAdaptor,
     DeclareOpInterfaceMethods<Graft_IndexingOpInterface>]> {
  let summary = "`F.embedding(indices, weight, padding_idx)`: a table lookup";
  let description = [{
    Gathers rows of `weight` (`[num, dim]`) at integer `indices`; the result
    is `indices.shape + [dim]`. The gradient of the row `padding_idx`, if
    given, is always zero.

    ```mlir
    %e = graft.embedding %wte, %tokens : (tensor<65x32xf32>, tensor<4x16xi64>) -> tensor<4x16x32xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$weight, Graft_IndexTensor:$indices,
                       OptionalAttr<I64Attr>:$padding_idx);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $weight `,` $indices attr-dict `:` functional-type(operands, results)
  }];
}

def Graft_ScaledDotProductAttentionOp : Graft_DiffOp<
    "scaled_dot_product_attention", "ScaledDotProductAttentionBackward0",
    [Pure, InferTypeOpAdaptor]> {
  let summary = "`F.scaled_dot_product_attention(q, k, v, is_causal, scale)`";
  let description = [{
    `softmax(q @ k^T * scale + mask) @ v` with `q` `[..., L, E]`, `k`
    `[..., S, E]`, `v` `[..., S, Ev]` and equal batch dimensions; the result
    is `[..., L, Ev]`. `scale` defaults to `1 / sqrt(E)`; `is_causal` masks
    the positions above the diagonal.

    ```mlir
    %a = graft.scaled_dot_product_attention %q, %k, %v {is_causal = true} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$query, Graft_FloatTensor:$key,
                       Graft_FloatTensor:$value,
                       DefaultValuedAttr<BoolAttr, "false">:$is_causal,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

// With label smoothing PyTorch adds the smoothing term last (AddBackward0).
def Graft_CrossEntropyOp : Graft_DiffOp<"cross_entropy", "",
    [Pure, InferTypeOpAdaptor,
     DeclareOpInterfaceMethods<Graft_IndexingOpInterface, ["getIgnoredIndex"]>]> {
  let summary = "`F.cross_entropy(logits, target, ignore_index, reduction, label_smoothing)`";
  let description = [{
    Log-softmax over the class dimension (1, or 0 for unbatched `[C]`
    logits) followed by the negative log-likelihood of the integer `target`
    (`[N]`, or `[N, d...]` for `[N, C, d...]` logits). Targets equal to
    `ignore_index` contribute nothing and are left out of the mean;
    `label_smoothing` mixes in the uniform distribution. With reduction
    `none` the result has the target's shape, otherwise it is 0-d.

    ```mlir
    %l = graft.cross_entropy %logits, %y {label_smoothing = 1.000000e-01 : f64} : (tensor<16x10xf32>, tensor<16xi64>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input, Graft_IndexTensor:$target,
      DefaultValuedAttr<I64Attr, "-100">:$ignore_index,
      DefaultValuedAttr<F64Attr, "0.0">:$label_smoothing,
      DefaultValuedAttr<Graft_ReductionAttr, "::graft::Reduction::mean">:$reduction);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $target attr-dict `:` functional-type(operands, results)
  }];
  let extraDecls = "::llvm::StringRef getGradFnName();";
}

def Graft_NllLossOp : Graft_DiffOp<"nll_loss", "NllLossBackward0",
    [Pure, InferTypeOpAdaptor,
     DeclareOpInterfaceMethods<Graft_IndexingOpInterface, ["getIgnoredIndex"]>]> {
  let summary = "`F.nll_loss(log_probs, target, ignore_index, reduction)`";
  let description = [{
    The negative of `input` at the target class, with the same shapes,
    `ignore_index` and reductions as `graft.cross_entropy`.

    ```mlir
    %l = graft.nll_loss %logp, %y : (tensor<16x10xf32>, tensor<16xi64>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input, Graft_IndexTensor:$target,
      DefaultValuedAttr<I64Attr, "-100">:$ignore_index,
      DefaultValuedAttr<Graft_ReductionAttr, "::graft::Reduction::mean">:$reduction);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $target attr-dict `:` functional-type(operands, results)
  }];
}

def Graft_MseLossOp : Graft_DiffOp<"mse_loss", "MseLossBackward0",
    [Pure, InferTypeOpAdaptor]> {
  let summary = "`F.mse_loss(input, target, reduction)`";
  let description = [{
    Squared differences of two tensors of the same shape and element type,
    averaged (`mean`), summed or kept (`none`).

    ```mlir
    %l = graft.mse_loss %pred, %t : (tensor<16x1xf32>, tensor<16x1xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$input, Graft_FloatTensor:$target,
      DefaultValuedAttr<Graft_ReductionAttr, "::graft::Reduction::mean">:$reduction);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $target attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Autograd plumbing
//===----------------------------------------------------------------------===//

def Graft_DetachOp : Graft_Op<"detach", [Pure, Graft_KeepsElements,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "`x.detach()`: a new leaf that does not require grad";
  let description = [{
    The same values, cut from the graph: the result is a leaf with
    `requires_grad = false`, and no gradient flows back through it. No copy
    is made (it shares storage with `input`).

    ```mlir
    %d = graft.detach %x : tensor<4xf32>
    ```
  }];
  let arguments = (ins Graft_Tensor:$input);
  let results = (outs Graft_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasFolder = 1;
}

def Graft_CloneOp : Graft_DiffOp<"clone", "CloneBackward0", [Pure,
    Graft_KeepsElements,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "`x.clone()`: a differentiable copy";
  let description = [{
    A copy with its own storage; its gradient is the identity. In-place
    writes to the clone leave `input` untouched.

    ```mlir
    %c = graft.clone %x : tensor<4xf32>
    ```
  }];
  let arguments = (ins Graft_Tensor:$input);
  let results = (outs Graft_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Backward: ops that derived gradients use
//===----------------------------------------------------------------------===//
//
// The backward graph is graft IR too: most VJP rules compose forward ops;
// these are the few PyTorch also has as dedicated backward kernels. They are
// not recorded by autograd (no double backward).

def Graft_GradientOp : Graft_Op<"gradient", [HasParent<"ModelOp">]> {
  let summary = "dL/d(value) for a leaf or a retained value: its `.grad`";
  let description = [{
    Written by the backward derivation: `value` is the gradient of the loss
    with respect to the parameter, input or retained value called `name`.
    The training program accumulates it into that `.grad` buffer.

    ```mlir
    graft.gradient "fc1.weight" %g : tensor<512x784xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Graft_FloatTensor:$value);
  let assemblyFormat = "$name $value attr-dict `:` type($value)";
}

def Graft_HookCallOp : Graft_Op<"hook_call", [
    AllTypesMatch<["grad", "result"]>]> {
  let summary = "Passes a gradient through a hook point's callback";
  let description = [{
    The backward of `graft.grad_hook`: calls the callback registered for
    `name` (if any) with the gradient, which may read or replace it; the
    result is the gradient that flows on.

    ```mlir
    %g2 = graft.hook_call "fc1.out" %g : tensor<16x32xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Graft_FloatTensor:$grad);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = "$name $grad attr-dict `:` type($result)";
}

def Graft_OneHotOp : Graft_Op<"one_hot", [Pure,
    DeclareOpInterfaceMethods<Graft_IndexingOpInterface>]> {
  let summary = "`F.one_hot(target, num_classes)`, as floats";
  let description = [{
    `result[..., c]` is 1 where `target[...] == c` and 0 elsewhere; the
    result has the target's shape plus a last dimension of `num_classes`.
    PyTorch raises for a target outside `[0, num_classes)`; the runtime
    checks model inputs before each step (`IndexingOpInterface`), and the
    lowering gives any other such target an all-zero row.

    ```mlir
    %t = graft.one_hot %y : tensor<16xi64> -> tensor<16x10xf32>
    ```
  }];
  let arguments = (ins Graft_IndexTensor:$target);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = "$target attr-dict `:` type($target) `->` type($result)";
  let hasVerifier = 1;
}

def Graft_SliceBackwardOp : Graft_Op<"slice_backward", [Pure]> {
  let summary = "The gradient of `graft.slice`: scatter into zeros";
  let description = [{
    A tensor of the result type, zero except at the positions the slice
    `dim, start, end, step` took from it, which hold `grad`.

    ```mlir
    %gx = graft.slice_backward %g {dim = 1 : i64, start = 0 : i64, end = 64 : i64} : tensor<2x64xf32> -> tensor<2x192xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$grad, I64Attr:$dim, I64Attr:$start,
                       I64Attr:$end, DefaultValuedAttr<I64Attr, "1">:$step);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `->` type($result)";
  let hasVerifier = 1;
}

class Graft_ConvBackwardOp<string mnemonic>
    : Graft_Op<mnemonic, [Pure]> {
  let arguments = (ins Graft_FloatTensor:$grad, Graft_FloatTensor:$other,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$stride,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$padding,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilation,
      DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $other attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Graft_Conv2dBackwardInputOp
    : Graft_ConvBackwardOp<"conv2d_backward_input"> {
  let summary = "dL/d(input) of `graft.conv2d` (a transposed convolution)";
  let description = [{
    Given dL/d(output) and the weight (`other`), the gradient with respect to
    the convolution's input, whose type is the result type. Attributes are
    the forward convolution's.

    ```mlir
    %gx = graft.conv2d_backward_input %g, %w {padding = array<i64: 2, 2>} : (tensor<8x6x28x28xf32>, tensor<6x1x5x5xf32>) -> tensor<8x1x28x28xf32>
    ```
  }];
}

def Graft_Conv2dBackwardWeightOp
    : Graft_ConvBackwardOp<"conv2d_backward_weight"> {
  let summary = "dL/d(weight) of `graft.conv2d`";
  let description = [{
    Given dL/d(output) and the forward input (`other`), the gradient with
    respect to the weight, whose type is the result type. Attributes are the
    forward convolution's.

    ```mlir
    %gw = graft.conv2d_backward_weight %g, %x {padding = array<i64: 2, 2>} : (tensor<8x6x28x28xf32>, tensor<8x1x28x28xf32>) -> tensor<6x1x5x5xf32>
    ```
  }];
}

def Graft_MaxPool2dBackwardOp : Graft_Op<"max_pool2d_backward", [Pure]> {
  let summary = "dL/d(input) of `graft.max_pool2d`";
  let description = [{
    Routes each output gradient to the first maximal element of its window
    in `input` (the position PyTorch's indices record), accumulating where
    windows overlap. Attributes are the forward pooling's.

    ```mlir
    %gx = graft.max_pool2d_backward %g, %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<8x6x14x14xf32>, tensor<8x6x28x28xf32>) -> tensor<8x6x28x28xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$grad, Graft_FloatTensor:$input,
      DenseI64ArrayAttr:$kernel_size, DenseI64ArrayAttr:$stride,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$padding,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilation,
      DefaultValuedAttr<BoolAttr, "false">:$ceil_mode);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $input attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Graft_AvgPool2dBackwardOp : Graft_Op<"avg_pool2d_backward", [Pure]> {
  let summary = "dL/d(input) of `graft.avg_pool2d`";
  let description = [{
    Spreads each output gradient evenly over its window (with the forward
    divisor), accumulating where windows overlap; the result type is the
    forward input's. Attributes are the forward pooling's.

    ```mlir
    %gx = graft.avg_pool2d_backward %g {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<8x6x14x14xf32> -> tensor<8x6x28x28xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$grad,
      DenseI64ArrayAttr:$kernel_size, DenseI64ArrayAttr:$stride,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$padding,
      DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
      DefaultValuedAttr<BoolAttr, "true">:$count_include_pad);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `->` type($result)";
  let hasVerifier = 1;
}

def Graft_EmbeddingBackwardOp : Graft_Op<"embedding_backward", [Pure]> {
  let summary = "dL/d(weight) of `graft.embedding`: a scatter-add";
  let description = [{
    Adds each gradient row `grad[..., :]` into row `indices[...]` of a zero
    tensor of the result type `[num_embeddings, dim]`; the row `padding_idx`,
    if given, stays zero.

    ```mlir
    %gw = graft.embedding_backward %g, %tokens : (tensor<4x16x32xf32>, tensor<4x16xi64>) -> tensor<65x32xf32>
    ```
  }];
  let arguments = (ins Graft_FloatTensor:$grad, Graft_IndexTensor:$indices,
                       OptionalAttr<I64Attr>:$padding_idx);
  let results = (outs Graft_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $indices attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

// Training configuration
//===----------------------------------------------------------------------===//

def Graft_OptimizerKind : I32EnumAttr<"OptimizerKind", "torch.optim optimizer", [
    I32EnumAttrCase<"sgd", 0>, I32EnumAttrCase<"adam", 1>,
    I32EnumAttrCase<"adamw", 2>, I32EnumAttrCase<"adadelta", 3>,
    I32EnumAttrCase<"adagrad", 4>, I32EnumAttrCase<"rmsprop", 5>,
    I32EnumAttrCase<"adamax", 6>, I32EnumAttrCase<"nadam", 7>,
    I32EnumAttrCase<"radam", 8>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::graft";
}
def Graft_OptimizerKindAttr
    : EnumAttr<Graft_Dialect, Graft_OptimizerKind, "optimizer">;

// The kinds of graft.train's `lr_schedule`, spelled as torch.optim.lr_scheduler
// names its classes; their arguments are in TrainOptions.h.
def Graft_LRScheduleKind : I32EnumAttr<"LRScheduleKind",
    "torch.optim.lr_scheduler scheduler", [
    I32EnumAttrCase<"StepLR", 0>, I32EnumAttrCase<"MultiStepLR", 1>,
    I32EnumAttrCase<"ExponentialLR", 2>, I32EnumAttrCase<"CosineAnnealingLR", 3>,
    I32EnumAttrCase<"LinearLR", 4>, I32EnumAttrCase<"ConstantLR", 5>,
    I32EnumAttrCase<"CosineAnnealingWarmRestarts", 6>,
    I32EnumAttrCase<"OneCycleLR", 7>, I32EnumAttrCase<"LambdaLR", 8>,
    I32EnumAttrCase<"ReduceLROnPlateau", 9>,
    I32EnumAttrCase<"SequentialLR", 10>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::graft";
}

def Graft_TrainOp : Graft_Op<"train", [HasParent<"ModelOp">]> {
  let summary = "How the model is trained: optimizer, groups, accumulation, clipping";
  let description = [{
    The training declaration of a model: the `torch.optim` optimizer and its
    hyper-parameters, parameter groups, gradient accumulation and gradient
    clipping, and an optional learning-rate schedule. The loss is marked
    separately by `graft.loss`. A model has at most one `graft.train`.

    Hyper-parameters carry torch.optim's names and meanings; an option that
    the optimizer does not have is an error. Every optimizer takes
    `weight_decay` and `maximize`; besides, `sgd` takes `momentum`,
    `dampening`, `nesterov`; `adam` and `adamw` `betas`, `eps`, `amsgrad`;
    `adadelta` `rho`, `eps`; `adagrad` `lr_decay`,
    `initial_accumulator_value`, `eps`; `rmsprop` `alpha`, `eps`,
    `momentum`, `centered`; `adamax` `betas`, `eps`; `nadam` `betas`, `eps`,
    `momentum_decay`, `decoupled_weight_decay`; `radam` `betas`, `eps`,
    `decoupled_weight_decay`.

    `param_groups` is an array of dictionaries, each with `params` (an array
    of state_dict name patterns, `*` matching any characters) and the
    options it overrides; parameters no group matches form the default
    group, as the first argument of a PyTorch optimizer would.

    `accumulation_steps` micro-batches are summed before each step.
    `clip_grad_norm` (with `clip_norm_type`, 2 by default) is
    `torch.nn.utils.clip_grad_norm_`; `clip_grad_value` is
    `clip_grad_value_`. `lr_schedule` is a dictionary with a `kind`
    (`StepLR`, `MultiStepLR`, `ExponentialLR`, `CosineAnnealingLR`,
    `LinearLR`, `ConstantLR`, `CosineAnnealingWarmRestarts`, `OneCycleLR`,
    `LambdaLR`, whose `lr_lambda` is a function of the step count as a tree
    (graft/Dialect/Graft/IR/LRLambda.h), or `SequentialLR`, whose
    `schedulers` are such dictionaries) and that
    scheduler's arguments, with `interval` (`"epoch"`, the default, or
    `"step"`) saying when the host steps it.

    `data` and `test` say where `graft train` reads the training and the
    held-out samples when its command line does not: a string (a data
    source for every input, as `--data`: a CSV, .npz, .safetensors or text
    file) or a dictionary from input names to sources (as `--input`),
    relative to the model file.

    ```mlir
    graft.train adamw {lr = 3.000000e-04 : f64, betas = array<f64: 0.9, 0.95>,
        weight_decay = 1.000000e-01 : f64,
        param_groups = [{params = ["*.bias", "*ln*.weight"], weight_decay = 0.000000e+00 : f64} ],
        accumulation_steps = 4 : i64, clip_grad_norm = 1.000000e+00 : f64,
        lr_schedule = {kind = "CosineAnnealingLR", T_max = 1000 : i64}}
    ```
  }];
  let arguments = (ins Graft_OptimizerKindAttr:$optimizer, F64Attr:$lr,
      OptionalAttr<F64Attr>:$momentum, OptionalAttr<F64Attr>:$dampening,
      OptionalAttr<BoolAttr>:$nesterov, OptionalAttr<F64Attr>:$weight_decay,
      OptionalAttr<BoolAttr>:$maximize, OptionalAttr<DenseF64ArrayAttr>:$betas,
      OptionalAttr<F64Attr>:$eps, OptionalAttr<BoolAttr>:$amsgrad,
      OptionalAttr<F64Attr>:$rho, OptionalAttr<F64Attr>:$alpha,
      OptionalAttr<BoolAttr>:$centered, OptionalAttr<F64Attr>:$lr_decay,
      OptionalAttr<F64Attr>:$initial_accumulator_value,
      OptionalAttr<F64Attr>:$momentum_decay,
      OptionalAttr<BoolAttr>:$decoupled_weight_decay,
      DefaultValuedAttr<TypedArrayAttrBase<DictionaryAttr,
                        "array of parameter groups">, "{}">:$param_groups,
      DefaultValuedAttr<I64Attr, "1">:$accumulation_steps,
      OptionalAttr<F64Attr>:$clip_grad_norm,
      DefaultValuedAttr<F64Attr, "2.0">:$clip_norm_type,
      OptionalAttr<F64Attr>:$clip_grad_value,
      OptionalAttr<DictionaryAttr>:$lr_schedule,
      OptionalAttr<I64Attr>:$seed,
      OptionalAttr<AnyAttrOf<[StrAttr, DictionaryAttr]>>:$data,
      OptionalAttr<AnyAttrOf<[StrAttr, DictionaryAttr]>>:$test);
  let assemblyFormat = "$optimizer attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The hyper-parameters the op sets (graft::hyperParameters(), in
    /// TrainOptions.h), as one dictionary.
    ::mlir::DictionaryAttr getHyperParameters();
  }];
  // The verifier lives here, beside the op, so the training section stays
  // self-contained. It checks torch.optim's constructor rules, with its
  // wording where it has one.
  let extraClassDefinition = [{
    ::mlir::DictionaryAttr $cppClass::getHyperParameters() {
      ::mlir::NamedAttrList own;
      for (const ::graft::HyperParameter &h : ::graft::hyperParameters())
        if (::mlir::Attribute a = (*this)->getAttr(h.name))
          own.set(h.name, a);
      return own.getDictionary(getContext());
    }

    /// Checks one set of hyper-parameters (the op's, or a group's merged
    /// over them). `where` names the group in messages.
    static ::mlir::LogicalResult verifyHyperParameters(
        ::mlir::Operation *op, ::graft::OptimizerKind kind,
        ::mlir::DictionaryAttr opts, ::llvm::StringRef where) {
      auto number = [&](::llvm::StringRef name,
                        double fallback) -> std::optional<double> {
        ::mlir::Attribute a = opts.get(name);
        if (!a)
          return fallback;
        if (auto f = ::llvm::dyn_cast<::mlir::FloatAttr>(a))
          return f.getValueAsDouble();
        if (auto i = ::llvm::dyn_cast<::mlir::IntegerAttr>(a))
          return static_cast<double>(i.getInt());
        op->emitOpError() << where << "'" << name << "' must be a number";
        return std::nullopt;
      };
      for (::mlir::NamedAttribute a : opts) {
        ::llvm::StringRef name = a.getName().getValue();
        if (name == "lr" || name == "params")
          continue;
        if (!::graft::takesHyperParameter(kind, name))
          return op->emitOpError() << where << "'" << name
                                   << "' is not an option of "
                                   << ::graft::stringifyOptimizerKind(kind);
      }
      std::optional<double> lr = number("lr", 1.0);
      if (!lr)
        return ::mlir::failure();
      if (!(*lr >= 0))
        return op->emitOpError() << where << "Invalid learning rate: " << *lr
                                 << " (expected lr >= 0)";
      std::optional<double> wd = number("weight_decay", 0.0);
      if (!wd)
        return ::mlir::failure();
      if (!(*wd >= 0))
        return op->emitOpError() << where << "Invalid weight_decay value: "
                                 << *wd << " (expected >= 0)";
      if (kind == ::graft::OptimizerKind::sgd) {
        std::optional<double> m = number("momentum", 0.0),
                              d = number("dampening", 0.0);
        if (!m || !d)
          return ::mlir::failure();
        if (!(*m >= 0))
          return op->emitOpError() << where << "Invalid momentum value: "
                                   << *m << " (expected >= 0)";
        if (!(*d >= 0))
          return op->emitOpError() << where << "Invalid dampening value: "
                                   << *d << " (expected >= 0)";
        auto nesterov =
            ::llvm::dyn_cast_or_null<::mlir::BoolAttr>(opts.get("nesterov"));
        if (nesterov && nesterov.getValue() && (*m <= 0 || *d != 0))
          return op->emitOpError()
                 << where
                 << "Nesterov momentum requires a momentum and zero "
                    "dampening (got momentum "
                 << *m << ", dampening " << *d << ")";
        return ::mlir::success();
      }
      // torch.optim's constructor checks, in its order and words.
      for (auto [name, what, fallback] :
           {std::tuple<const char *, const char *, double>{
                "momentum", "momentum", 0.0},
            {"alpha", "alpha", 0.99},
            {"lr_decay", "lr_decay", 0.0},
            {"initial_accumulator_value", "initial_accumulator_value", 0.0},
            {"momentum_decay", "momentum_decay", 4e-3}}) {
        if (!::graft::takesHyperParameter(kind, name))
          continue;
        std::optional<double> v = number(name, fallback);
        if (!v)
          return ::mlir::failure();
        if (!(*v >= 0))
          return op->emitOpError() << where << "Invalid " << what
                                   << " value: " << *v << " (expected >= 0)";
      }
      if (kind == ::graft::OptimizerKind::adadelta) {
        std::optional<double> rho = number("rho", 0.9);
        if (!rho)
          return ::mlir::failure();
        if (!(*rho >= 0 && *rho <= 1))
          return op->emitOpError() << where << "Invalid rho value: " << *rho
                                   << " (expected 0 <= rho <= 1)";
      }
      if (::mlir::Attribute b = opts.get("betas")) {
        auto betas = ::llvm::dyn_cast<::mlir::DenseF64ArrayAttr>(b);
        if (!betas || betas.size() != 2)
          return op->emitOpError()
                 << where << "betas must be two numbers (beta1, beta2)";
        for (int i = 0; i < 2; ++i)
          if (!(betas[i] >= 0 && betas[i] < 1))
            return op->emitOpError()
                   << where << "Invalid beta parameter at index " << i << ": "
                   << betas[i] << " (expected 0 <= beta < 1)";
      }
      std::optional<double> eps = number("eps", 1e-8);
      if (!eps)
        return ::mlir::failure();
      if (!(*eps >= 0))
        return op->emitOpError() << where << "Invalid epsilon value: " << *eps
                                 << " (expected >= 0)";
      return ::mlir::success();
    }

    /// Checks one lr_schedule dictionary (a SequentialLR's children too)
    /// with torch.optim.lr_scheduler's arguments and constructor checks.
    static ::mlir::LogicalResult verifySchedule(::mlir::Operation *op,
                                                ::mlir::DictionaryAttr s,
                                                bool top) {
      auto kindAttr = s.getAs<::mlir::StringAttr>("kind");
      if (!kindAttr)
        return op->emitOpError("lr_schedule needs a 'kind' (")
               << ::graft::lrScheduleKindList() << ")";
      ::llvm::StringRef k = kindAttr.getValue();
      std::optional<::graft::LRScheduleKind> kind =
          ::graft::symbolizeLRScheduleKind(k);
      if (!kind)
        return op->emitOpError("unknown lr_schedule kind '")
               << k << "'; expected " << ::graft::lrScheduleKindList();
      auto [required, optional] = ::graft::lrScheduleArguments(*kind);
      if (*kind == ::graft::LRScheduleKind::ReduceLROnPlateau) {
        // Stepped with a metric after each epoch, by itself.
        if (!top)
          return op->emitOpError("lr_schedule SequentialLR: "
                                 "ReduceLROnPlateau is stepped with a metric "
                                 "and cannot be part of a sequence");
        if (auto i = s.getAs<::mlir::StringAttr>("interval");
            i && i.getValue() != "epoch")
          return op->emitOpError("lr_schedule ReduceLROnPlateau is stepped "
                                 "with a metric after every epoch, not every "
                                 "step");
      }
      for (::llvm::StringRef r : required)
        if (!s.get(r))
          return op->emitOpError("lr_schedule ") << k << " needs '" << r << "'";
      for (::mlir::NamedAttribute a : s) {
        ::llvm::StringRef n = a.getName().getValue();
        if (n == "kind" || (top && n == "interval"))
          continue;
        if (!::llvm::is_contained(required, n) &&
            !::llvm::is_contained(optional, n))
          return op->emitOpError("lr_schedule ")
                 << k << " has no argument '" << n << "'";
        bool ok;
        const char *want;
        if (n == "milestones") {
          ok = ::llvm::isa<::mlir::DenseI64ArrayAttr>(a.getValue());
          want = "a list of integers";
        } else if (n == "schedulers") {
          ok = ::llvm::isa<::mlir::ArrayAttr>(a.getValue());
          want = "a list of schedules";
        } else if (n == "anneal_strategy" || n == "mode" ||
                   n == "threshold_mode") {
          ok = ::llvm::isa<::mlir::StringAttr>(a.getValue());
          want = "a string";
        } else if (n == "three_phase") {
          ok = ::llvm::isa<::mlir::BoolAttr>(a.getValue());
          want = "True or False";
        } else if (n == "lr_lambda") {
          std::string why = ::graft::checkLRLambda(a.getValue());
          if (!why.empty())
            return op->emitOpError("lr_schedule LambdaLR: lr_lambda: ") << why;
          continue;
        } else {
          ok = ::llvm::isa<::mlir::FloatAttr, ::mlir::IntegerAttr>(a.getValue());
          want = "a number";
        }
        if (!ok)
          return op->emitOpError("lr_schedule argument '")
                 << n << "' must be " << want;
      }
      auto number = [&](::llvm::StringRef n, double fallback) {
        ::mlir::Attribute a = s.get(n);
        if (auto f = ::llvm::dyn_cast_or_null<::mlir::FloatAttr>(a))
          return f.getValueAsDouble();
        if (auto i = ::llvm::dyn_cast_or_null<::mlir::IntegerAttr>(a))
          return static_cast<double>(i.getInt());
        return fallback;
      };
      // torch's constructor checks, in its words.
      for (::llvm::StringRef n : {"step_size", "T_max", "T_0", "T_mult",
                                  "total_steps", "epochs", "steps_per_epoch"})
        if (s.get(n) && !(number(n, 1) >= 1))
          return op->emitOpError("lr_schedule ")
                 << k << ": Expected positive integer " << n << ", but got "
                 << number(n, 1);
      if (k == "LinearLR") {
        double start = number("start_factor", 1.0 / 3),
               end = number("end_factor", 1.0);
        if (!(start > 0 && start <= 1))
          return op->emitOpError("lr_schedule LinearLR: Starting "
                                 "multiplicative factor expected to be "
                                 "greater than 0 and less or equal to 1.");
        if (!(end >= 0 && end <= 1))
          return op->emitOpError("lr_schedule LinearLR: Ending multiplicative "
                                 "factor expected to be between 0 and 1.");
      }
      if (k == "ConstantLR") {
        double factor = number("factor", 1.0 / 3);
        if (!(factor >= 0 && factor <= 1))
          return op->emitOpError("lr_schedule ConstantLR: Constant "
                                 "multiplicative factor expected to be "
                                 "between 0 and 1.");
      }
      if (k == "OneCycleLR") {
        if (!s.get("total_steps") &&
            !(s.get("epochs") && s.get("steps_per_epoch")))
          return op->emitOpError("lr_schedule OneCycleLR: You must define "
                                 "either total_steps OR (epochs AND "
                                 "steps_per_epoch)");
        double pct = number("pct_start", 0.3);
        if (!(pct >= 0 && pct <= 1))
          return op->emitOpError("lr_schedule OneCycleLR: Expected float "
                                 "between 0 and 1 pct_start, but got ")
                 << pct;
        if (auto a = s.getAs<::mlir::StringAttr>("anneal_strategy");
            a && a.getValue() != "cos" && a.getValue() != "linear")
          return op->emitOpError("lr_schedule OneCycleLR: anneal_strategy "
                                 "must by one of 'cos' or 'linear', instead "
                                 "got ")
                 << a.getValue();
      }
      if (k == "ReduceLROnPlateau") {
        // torch's constructor checks, in its words.
        if (!(number("factor", 0.1) < 1.0))
          return op->emitOpError("lr_schedule ReduceLROnPlateau: Factor "
                                 "should be < 1.0.");
        if (auto m = s.getAs<::mlir::StringAttr>("mode");
            m && m.getValue() != "min" && m.getValue() != "max")
          return op->emitOpError("lr_schedule ReduceLROnPlateau: mode ")
                 << m.getValue() << " is unknown!";
        if (auto m = s.getAs<::mlir::StringAttr>("threshold_mode");
            m && m.getValue() != "rel" && m.getValue() != "abs")
          return op->emitOpError("lr_schedule ReduceLROnPlateau: threshold "
                                 "mode ")
                 << m.getValue() << " is unknown!";
        for (::llvm::StringRef n : {"patience", "cooldown", "min_lr", "eps",
                                    "threshold"})
          if (!(number(n, 0) >= 0))
            return op->emitOpError("lr_schedule ReduceLROnPlateau: ")
                   << n << " must not be negative";
      }
      if (k == "MultiStepLR") {
        auto m = s.getAs<::mlir::DenseI64ArrayAttr>("milestones");
        if (!::llvm::is_sorted(m.asArrayRef()))
          return op->emitOpError("lr_schedule MultiStepLR: milestones must "
                                 "be increasing");
      }
      if (k == "SequentialLR") {
        auto children = s.getAs<::mlir::ArrayAttr>("schedulers");
        auto milestones = s.getAs<::mlir::DenseI64ArrayAttr>("milestones");
        if (children.empty() ||
            milestones.size() + 1 != static_cast<int64_t>(children.size()))
          return op->emitOpError(
                     "lr_schedule SequentialLR: Sequential Schedulers "
                     "expects number of schedulers provided to be one more "
                     "than the number of milestone points, but got number "
                     "of schedulers ")
                 << children.size() << " and the number of milestones to be "
                 << "equal to " << milestones.size();
        if (!::llvm::is_sorted(milestones.asArrayRef()) ||
            (!milestones.empty() && milestones[0] < 0))
          return op->emitOpError("lr_schedule SequentialLR: milestones must "
                                 "be increasing and not negative");
        for (::mlir::Attribute child : children) {
          auto d = ::llvm::dyn_cast<::mlir::DictionaryAttr>(child);
          if (!d)
            return op->emitOpError("lr_schedule SequentialLR: schedulers "
                                   "must be schedules");
          if (::mlir::failed(verifySchedule(op, d, /*top=*/false)))
            return ::mlir::failure();
        }
      }
      return ::mlir::success();
    }

    ::mlir::LogicalResult $cppClass::verify() {
      ::mlir::Operation *op = getOperation();
      for (::mlir::Operation &other : op->getBlock()->getOperations())
        if (&other != op && ::llvm::isa<$cppClass>(other) &&
            other.isBeforeInBlock(op))
          return (emitOpError("a model has at most one training declaration")
                      .attachNote(other.getLoc())
                  << "the first one is here");
      ::graft::OptimizerKind kind = getOptimizer();
      ::mlir::DictionaryAttr base = getHyperParameters();
      if (::mlir::failed(verifyHyperParameters(op, kind, base, "")))
        return ::mlir::failure();
      for (auto [i, g] : ::llvm::enumerate(getParamGroups())) {
        auto group = ::llvm::cast<::mlir::DictionaryAttr>(g);
        std::string where = "parameter group " + std::to_string(i) + ": ";
        auto params =
            ::llvm::dyn_cast_or_null<::mlir::ArrayAttr>(group.get("params"));
        if (!params || params.empty() ||
            !::llvm::all_of(params, ::llvm::IsaPred<::mlir::StringAttr>))
          return emitOpError() << where
                               << "expected 'params', a non-empty array of "
                                  "parameter name patterns";
        ::mlir::NamedAttrList merged(base);
        for (::mlir::NamedAttribute a : group)
          merged.set(a.getName(), a.getValue());
        if (::mlir::failed(verifyHyperParameters(
                op, kind, merged.getDictionary(getContext()), where)))
          return ::mlir::failure();
      }
      if (getAccumulationSteps() < 1)
        return emitOpError("accumulation_steps must be at least 1, got ")
               << getAccumulationSteps();
      if (auto c = getClipGradNorm(); c && !(c->convertToDouble() > 0))
        return emitOpError("clip_grad_norm (max_norm) must be positive, got ")
               << c->convertToDouble();
      if (!(getClipNormType().convertToDouble() > 0))
        return emitOpError("clip_norm_type must be positive, got ")
               << getClipNormType().convertToDouble();
      if (auto c = getClipGradValue(); c && !(c->convertToDouble() > 0))
        return emitOpError("clip_grad_value (clip_value) must be positive, "
                           "got ")
               << c->convertToDouble();
      if (::mlir::DictionaryAttr s = getLrScheduleAttr()) {
        if (::mlir::Attribute interval = s.get("interval")) {
          auto str = ::llvm::dyn_cast<::mlir::StringAttr>(interval);
          if (!str || (str.getValue() != "epoch" && str.getValue() != "step"))
            return emitOpError("lr_schedule interval must be \"epoch\" or "
                               "\"step\"");
        }
        if (::mlir::failed(verifySchedule(op, s, /*top=*/true)))
          return ::mlir::failure();
      }
      return ::mlir::success();
    }
  }];
}

#endif // GRAFT_OPS
