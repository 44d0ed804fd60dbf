//===- Passes.td - Conversion passes of Graft --------------*- tablegen -*-===//

#ifndef GRAFT_CONVERSION_PASSES
#define GRAFT_CONVERSION_PASSES

include "mlir/Pass/PassBase.td"

def ConvertGraftToLinalg : Pass<"convert-graft-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Lowers graft ops in functions to linalg, tensor, arith and math";
  let description = [{
    Lowers every graft op inside the functions of the training program to
    target-neutral ops on tensors, shared by the CPU and GPU pipelines:

    - elementwise ops with broadcasting, casts, comparisons and selects to
      `linalg.generic` with broadcasting indexing maps (which
      `linalg-fuse-elementwise-ops` fuses into producers and consumers);
    - reductions to `linalg.generic` with reduction iterators;
    - `matmul` / `linear` to contractions (`linalg.matmul` for plain 2-D
      products, which the CPU schedule tiles and vectorises);
    - views to `linalg.transpose`, `tensor.reshape`, `tensor.extract_slice`;
    - composite ops (softmax, normalisations, attention, losses) to the
      generics of their formula, numerically stable (max-subtracted);
    - dropout to a counter-based hash of (seed, stream, element index), bit
      for bit the reference evaluator's mask;
    - scatter-like backward ops (pooling, embedding) to `scf.for` nests.

    An op it cannot lower is an error at the op's location.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect"];
}

#endif // GRAFT_CONVERSION_PASSES
