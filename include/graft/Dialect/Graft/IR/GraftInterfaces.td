//===- GraftInterfaces.td - Op interfaces of graft ---------*- tablegen -*-===//

#ifndef GRAFT_INTERFACES
#define GRAFT_INTERFACES

include "mlir/IR/OpBase.td"

def Graft_AutogradOpInterface : OpInterface<"AutogradOpInterface"> {
  let cppNamespace = "::graft";
  let description = [{
    An op that autograd records when one of its float operands requires grad:
    its result is then a non-leaf whose `grad_fn` has PyTorch's name. Ops that
    do not implement it (declarations, `detach`, comparisons, integer ops)
    never take part in backward.
  }];
  let methods = [
    // Every recorded op defines it (Graft_DiffOp in GraftOps.td); the default
    // only keeps DeclareOpInterfaceMethods from declaring it twice.
    InterfaceMethod<
      "PyTorch's name of the backward node this op records (e.g. `AddBackward0`).",
      "::llvm::StringRef", "getGradFnName", (ins), [{}], [{ return ""; }]>,
    InterfaceMethod<[{
        The forward values (operands or results) that the VJP reads when the
        gradients of the operands flagged in `needed` are wanted: what
        PyTorch saves for backward. Used by the static version-counter check
        and the memory planner; `buildVJP` reads nothing else from the
        forward pass.
      }],
      "::llvm::SmallVector<::mlir::Value>", "getSavedForBackward",
      (ins "::llvm::ArrayRef<bool>":$needed)>,
    InterfaceMethod<[{
        Builds the vector-Jacobian product at the builder's insertion point:
        given dL/d(result) (`resultGrads`, one per result; a null value is a
        zero gradient), sets `operandGrads[i]` to dL/d(operand i), with the
        operand's type, for every `i` with `needed[i]`; others stay null.
        Broadcast operands get their gradient summed back to their shape.
      }],
      "::llvm::LogicalResult", "buildVJP",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::ValueRange":$resultGrads,
           "::llvm::ArrayRef<bool>":$needed,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>,
  ];
}

def Graft_InPlaceOpInterface : OpInterface<"InPlaceOpInterface"> {
  let cppNamespace = "::graft";
  let description = [{
    An in-place op (PyTorch's trailing underscore: `add_`, `relu_`, ...). In
    value semantics its result is the new version of the tensor it overwrites;
    the overwritten operand's old version must not be used afterwards, and the
    static version-counter check rejects overwriting a value that backward
    needs.
  }];
  let methods = [
    InterfaceMethod<"The operand whose storage is overwritten.",
      "::mlir::OpOperand &", "getOverwrittenOperand", (ins), [{}],
      [{ return $_op->getOpOperand(0); }]>,
    StaticInterfaceMethod<"Mnemonic of the out-of-place twin (`add` for `add_`).",
      "::llvm::StringRef", "getOutOfPlaceName">,
  ];
}

def Graft_IndexingOpInterface : OpInterface<"IndexingOpInterface"> {
  let cppNamespace = "::graft";
  let description = [{
    An op that reads the values of an integer operand as positions: the
    rows of an embedding, the classes of a loss. PyTorch raises an error for
    a value out of range at run time; the generated code does not check
    values, so each integer model input that reaches such an op (through
    ops with `GraftKeepsElements`) has its valid range in the library's
    tensor table, and the runtime checks the input before every step
    (`graft::indexRangeOf`).
  }];
  let methods = [
    InterfaceMethod<"The integer operand read as positions.",
      "::mlir::Value", "getIndexOperand">,
    InterfaceMethod<"The number of positions: valid values are [0, bound).",
      "int64_t", "getIndexBound">,
    InterfaceMethod<[{
        A value outside [0, bound) that the op accepts and skips (a loss's
        `ignore_index`), if any.
      }],
      "::std::optional<int64_t>", "getIgnoredIndex", (ins), [{}],
      [{ return std::nullopt; }]>,
    InterfaceMethod<[{
        What the positions index, for messages: "the rows of
        graft.embedding", "the classes of graft.cross_entropy".
      }],
      "::std::string", "describeIndex">,
    InterfaceMethod<[{
        PyTorch's error for a value out of range, with `{}` where the value
        goes ("IndexError: Target {} is out of bounds.").
      }],
      "::llvm::StringRef", "getPyTorchIndexError">,
  ];
}

#endif // GRAFT_INTERFACES
