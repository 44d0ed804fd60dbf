//===- Passes.td - Conversion passes of Graft --------------*- tablegen -*-===//

#ifndef GRAFT_CONVERSION_PASSES
#define GRAFT_CONVERSION_PASSES

include "mlir/Pass/PassBase.td"

def HookPoints : Pass<"graft-hook-points", "::mlir::ModuleOp"> {
  let summary = "Prepares the backward's hook points (graft.hook_call) for a target";
  let description = [{
    A `graft.hook_call` is where the embedding application's gradient hooks
    run, in the middle of the backward (PyTorch's `h.register_hook` on a
    non-leaf, and every `retain_grad` value). Runs before
    `convert-graft-to-linalg`, which lowers one function at a time and so
    cannot declare module-level symbols.

    With `target=cpu` each function records its hook points as
    `graft.hook_points` (name and gradient type: the library's
    `GRAFT_ROLE_HOOK` tensors) and the module declares the C runtime's
    `graft_run_hook(name, data)`, which `convert-graft-to-linalg` calls
    with a private copy of the gradient:

    ```mlir
    // before
    func.func @m_forward_backward(...) {
      %g2 = graft.hook_call "h" %g : tensor<4x8xf32>
    // after
    func.func @m_forward_backward(...) attributes {graft.hook_points = [
        {name = "h", type = tensor<4x8xf32>} ]} { ... }
    func.func private @graft_run_hook(!llvm.ptr, !llvm.ptr)
    ```

    With `target=cuda` the host cannot be called inside the compiled
    backward: a retained value's hook point (`graft.retained`) becomes the
    identity (its hooks run on the retained copy after `forward_backward`),
    and a `register_hook` point is an error naming the hook. Two hook points
    of one name with different gradient types are an error on any target.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "cpu or cuda">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def ConvertGraftToLinalg : Pass<"convert-graft-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Lowers graft ops in functions to linalg, tensor, arith and math";
  let description = [{
    Lowers every graft op inside the functions of the training program to
    target-neutral ops on tensors, shared by the CPU and GPU pipelines:

    - elementwise ops with broadcasting, casts, comparisons and selects to
      `linalg.generic` with broadcasting indexing maps (which
      `graft-fuse-elementwise` fuses into producers and consumers);
    - reductions to `linalg.generic` with reduction iterators;
    - `matmul` / `linear` to contractions (`linalg.matmul` for plain 2-D
      products, which the CPU schedule tiles and vectorises);
    - views to `linalg.transpose`, `tensor.reshape`, `tensor.extract_slice`;
    - composite ops (softmax, normalisations, attention, losses) to the
      generics of their formula, numerically stable (max-subtracted);
    - dropout to a counter-based hash of (seed, stream, element index), bit
      for bit the reference evaluator's mask;
    - scatter-like backward ops (pooling, embedding) to `scf.for` nests.

    With `conv-products` (the CPU pipeline), ungrouped convolutions and
    their gradients become 2-D products over the patches (im2col), which
    `graft-cpu-schedule` tiles for registers like any matrix product:

    - forward: `col[(c,kh,kw), (n,oh,ow)] = xp[n, c, oh*s + kh*d, ...]`,
      `y = w[O, C*KH*KW] @ col` starting from the bias, then
      `[O, N, OH*OW] -> [N, O, OH*OW]`;
    - weight gradient, transposed: `col @ gy[N*OH*OW, O]`, the output
      gradient's channels padded with zero columns to a multiple of 16;
    - input gradient: `gcol = w^T @ gy`, then each input element gathers
      the patch entries it was copied to (col2im).

    Each output sums its terms in the order of the direct convolution's
    loops. The batch runs in chunks of images whose patches take at most
    `conv-chunk-elements` (at least one image a chunk): an `scf.for` over
    the whole chunks, each slicing its images out of the operands
    (`tensor.extract_slice`) and writing its part of the result
    (`tensor.insert_slice`; the weight gradient is carried and summed
    across chunks), then the tail. The patches stay cache-sized and the IR
    does not grow with the batch.

    A grouped convolution is one such convolution per group, in an
    `scf.for` over the groups that slices each group's channels and filters
    and writes its part of the result. A depthwise one (one input channel a
    group) and its input gradient instead sum their kernel taps in
    elementwise generics over the outputs, each tap's strided window times
    its weights, at most 16 taps a generic, in the direct loops' order (the
    input gradient one sum per phase of the stride, into its strided box); its
    weight gradient sums each tap's products over the batch and rows for
    every column (outer dims reduced, vectorised along the columns), then
    over the columns.

    With `pool-taps` (the CPU pipeline), max pooling and the argmax that
    its gradient scatters to read their kernel tap by tap: one elementwise
    generic over the outputs whose inputs are the taps' strided windows of
    the padded input, (kh, kw) in order, and whose body updates the running
    maximum (and its index) from each in that order; it vectorises along
    ow, in one pass over the outputs, and visits each window in the order
    of the window loops, so the results are the same.

    With `batch-products` (the CPU pipeline), a batched matrix product
    (attention's `q @ k^T` and `att @ v`, their gradients) is an `scf.for`
    over its flattened batch whose iteration multiplies the 2-D slices
    (`tensor.extract_slice`; a broadcast batch dim at 0) into the slice of
    the result (`tensor.insert_slice`): a 2-D product that
    `graft-cpu-schedule` tiles for registers. Without it the product is one
    generic over (batch..., m, k, n).

    Without the options (the GPU pipeline, which runs convolutions
    as implicit GEMM, a thread per pooling output, batched products with
    the batch on `blockIdx.z`) convolutions stay `linalg.conv_2d_nchw_fchw`
    and generics, pooling one window generic.

    The lowering is a set of conversion patterns, one per op, in a file per
    op family (`lib/Conversion/GraftToLinalg/`;
    `graft::populateGraftToLinalgPatterns`), applied by the one-shot
    dialect conversion driver with the graft dialect illegal. Before any
    rewriting the pass checks each op: an op with no pattern is "not
    supported by the CPU code generator yet", a train-mode dropout needs
    the step's seed argument, a hook call the runtime's dispatcher; each is
    one error at the op.
  }];
  let options = [
    Option<"convProducts", "conv-products", "bool", /*default=*/"false",
           "Lower convolutions to products over patches (im2col), per group when grouped">,
    Option<"convChunkElements", "conv-chunk-elements", "int64_t",
           /*default=*/"262144",
           "With conv-products: the most patch elements a chunk of the batch "
           "copies out at a time">,
    Option<"poolTaps", "pool-taps", "bool", /*default=*/"false",
           "Lower max pooling and its argmax tap by tap (elementwise generics)">,
    Option<"batchProducts", "batch-products", "bool", /*default=*/"false",
           "Lower batched products to a loop over the batch of 2-D products">
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect"];
}

#endif // GRAFT_CONVERSION_PASSES
