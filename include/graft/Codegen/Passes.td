//===- Passes.td - Code generation passes of Graft -------*- tablegen -*-===//

#ifndef GRAFT_CODEGEN_PASSES
#define GRAFT_CODEGEN_PASSES

include "mlir/Pass/PassBase.td"

def FuseElementwise : Pass<"graft-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Fuses elementwise producers into consumers without recomputation";
  let description = [{
    Fuses an all-parallel `linalg.generic` into the generic that consumes
    it when the producer has no other use and the consumer reads it through
    an indexing map that uses every loop of the consumer: each producer
    element is then computed exactly once inside the fused loop nest. Chains
    of elementwise ops (bias + ReLU, the optimizer's update formulas, loss
    gradients) and elementwise ops feeding a row reduction (`sum(exp(x))`)
    fuse.

    A long sum's first stage reads its operand through a
    `tensor.expand_shape` that splits the reduced dims (the lowering sums
    more than 512 terms in two stages, for accuracy). When an all-parallel
    generic with no other use produces that operand, the producer is
    rewritten on the split shape (upstream's fold of a reshape by
    expansion, allowed for that case only), and then fuses as it would
    into the unsplit sum. Producers that read an operand through a
    broadcast (a constant index) cannot be expanded and stay separate.

    Upstream's `linalg-fuse-elementwise-ops` also fuses a producer into a
    consumer whose map leaves loops out, such as a contraction reading
    `softmax(x) - onehot(y)` as one of its factors: the producer is then
    recomputed once per iteration of the missing loop (K times for a
    product) and the contraction loses its schedule. This pass refuses that
    fusion; the product's operands are materialised once instead.

    Example: `relu(x + b)` is two all-parallel generics, an add whose only
    use is a max; after the pass one generic's body adds, then takes the max:

    ```mlir
    %0 = linalg.generic {... ["parallel", "parallel"]} ins(%x, %b ...) // add
    %1 = linalg.generic {... ["parallel", "parallel"]} ins(%0 ...)      // max
    // becomes
    %1 = linalg.generic {... ["parallel", "parallel"]} ins(%x, %b ...) {
      ^bb0(%a: f32, %c: f32, %o: f32):
        %s = arith.addf %a, %c : f32
        %r = arith.maximumf %s, %zero : f32
        linalg.yield %r : f32
    }
    ```
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::affine::AffineDialect"];
}

def CPUStrategy : Pass<"graft-cpu-strategy", "::mlir::ModuleOp"> {
  let summary = "Chooses how each matrix product, and each large op with reductions, runs on the CPU";
  let description = [{
    Puts the CPU strategy's choice on every matrix product (a
    `linalg.generic` marked `graft.contraction`, on tensors) as a
    `#graft.lowering_config`: the register tile, the tile loop order, the
    loop threads split (`threads`, the outer tile loop) and the operand
    copied into padded rows (see `graft::cpu::planProduct`,
    include/graft/Codegen/CPUStrategy.h). Likewise on every other large op
    with reductions on tensors (a convolution, pooling with its argmax, a
    long reduction): its first parallel dim of two or more iterations
    tiled by one (a vector of outputs for a reduction that vectorises
    across them), that loop split by threads (`planThreadSplit`).
    `graft-cpu-schedule` carries the choices out; an op that already has a
    config (written by hand in a test, say) keeps it. Elementwise ops,
    transposes and sums over outer dims get theirs on buffers, from
    `graft-cpu-vectorize` (`planVectorTiles`).

    A tile's rows stay in vector registers across the k loop only as one
    vector or a power-of-two number of whole ones (LLVM splits a
    loop-carried `<48 x float>` into 128-bit pieces, spilled every k
    step). When the columns past the last whole tile are not such a width
    (112 = 64 + 48), the product is split there (`linalg::splitOp`): the
    second part, planned for its own width, writes its columns into the
    first part's result, and a fill or broadcast init is split with it.

    ```mlir
    %r = linalg.generic {graft.contraction, ...} ins(%a, %b : tensor<64x512xf32>, tensor<512x256xf32>) ...
    // becomes, for vector-bits=512:
    %r = linalg.generic {graft.contraction,
        graft.lowering_config = #graft.lowering_config<tile_sizes = [6, 64, 0]
                                                       pad_operands = [1] threads = 0>, ...}
    ```
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "unsigned", /*default=*/"512",
           "The widest vectors in bits (512: AVX-512, 256: AVX2)">
  ];
  let dependentDialects = ["::graft::GraftDialect"];
}

def CPUSchedule : Pass<"graft-cpu-schedule", "::mlir::ModuleOp"> {
  let summary = "Tiles and vectorises products, splits large reductions, for the CPU";
  let description = [{
    The CPU schedule, on tensors, before bufferization:

    - **Matrix products** marked `graft.contraction` by the lowering
      (every 2-D product, iterated m, n, k) are tiled as their
      `#graft.lowering_config` says (`graft-cpu-strategy`'s choice, made
      here for a product that has none). The strategy's choices: 6x64
      register tiles (24 AVX-512 accumulators, for two 512-bit FMA pipes;
      6x16 and 12 accumulators with `vector-bits=256`, for AVX2's 16
      registers; a product with fewer columns gets fewer vectors a row, a
      power of two of them, and more rows, for the same accumulators and 16
      rows at most: 12x32, 16x16) over k steps of 1, the m and n loops
      peeled. Columns past the last whole tile that a tile could not keep
      in registers (48, three vectors a row) were split off by the
      strategy as a product of their own. An
      init that is a fill or a broadcast (a bias) is fused into the tiles,
      so the result is written once, never initialised in memory and read
      back; another init is read tile by tile. The transform-dialect
      schedule in `CPUSchedule.cpp` then vectorises each tile to
      `vector.contract`, hoists the accumulator out of the k loop (a fused
      init's write forwards to it: the accumulator starts as a constant or
      the bias's columns) and lowers the
      contraction to outer products (one broadcast and four FMAs per row
      and k step). The product is tiled in two steps: first the outer
      dim of the loop order into blocks of the register tile, an
      `scf.forall` over the whole blocks (its iterations write disjoint
      blocks of the result: threads may split it) and a partial block
      after it, then each block into register tiles, peeled likewise, so
      every tile has a static shape. The row-block loop is outer; the
      column-block loop is instead when there are fewer than four row
      blocks and more column blocks (a convolution with few output
      channels), or when B would not stay in half of a 1 MiB L2 while
      every row block reads it and A has under a quarter of B's columns as
      rows (a convolution's patches: B is then read once).
      When B's rows lie a multiple of 1 KiB apart (n = 256, 512, a 64x64
      image's pixels) and more than one row block reads B, B is first
      copied (`linalg.copy` into a `bufferization.alloc_tensor`) into
      rows one cache line wider: a tile's k loop reads one line per row
      down a column of B, and rows 1 KiB apart fall into a few of the
      caches' sets (the 512^3 product on AVX2: 63% of the FMA peak
      before, 82% after, the copy included). With AVX2 (`vector-bits`
      below 512) B is instead packed, as BLAS packs it, where at least four
      register tiles of rows read each panel, row blocks are outside, the
      tile divides n and k >= 16 (`pack_operands`): an `expand_shape` to
      `[k, n / 16, 16]` and a copy into `[n / 16, k, 16]`, and each
      register tile reads its panel (`[j floordiv 16, 0, 0] [1, k, 16]`), so
      its k loop reads memory in order (the 512^3 product on a Zen 3 core:
      65-71 GFLOP/s padded, 73-84 packed, alternating runs).
    - **Other large ops with reductions** (pooling windows with their
      argmax, grouped convolutions, long reductions) are split across
      threads: the first parallel dim is tiled by one, the tile loop an
      `scf.forall`;
      each output is still reduced by one thread, in order. Sums over outer
      dims are left to `graft-cpu-vectorize`. A reduction whose innermost
      loop reduces and whose one parallel dim is its output's last (a
      convolution's bias gradient: a sum over batch and image per channel)
      is split a vector of outputs at a time, for `graft-cpu-vectorize`.

    Elementwise ops are vectorised later, on buffers, by
    `graft-cpu-vectorize`. The `schedule` option names a file holding a
    transform-dialect module whose `@__transform_main` replaces the built-in
    vectorisation of the product tiles, for experiments with graft-opt.

    ```mlir
    %r = linalg.generic {...} attrs = {graft.contraction} // 512x512x512
    // becomes, per 4x64 tile of the result:
    scf.for %k = %c0 to %c512 step %c1 iter_args(%acc = %init) -> (vector<4x64xf32>) {
      %a = vector.transfer_read ... : tensor<4x1xf32>, vector<4x1xf32>
      ...  // four broadcasts, 16 vector.fma on vector<16xf32> after lowering
    }
    ```
  }];
  let options = [
    Option<"scheduleFile", "schedule", "std::string", /*default=*/"\"\"",
           "A transform-dialect file replacing the vectorisation of product tiles">,
    Option<"vectorBits", "vector-bits", "unsigned", /*default=*/"512",
           "The target's vector width: 512 (AVX-512: 32 registers, 4x64 "
           "product tiles, 16x16 transposes by shuffles), 256 (AVX2: 16 "
           "registers, 6x16 tiles), 128">
  ];
  let dependentDialects = [
    "::graft::GraftDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
    "::mlir::transform::TransformDialect", "::mlir::affine::AffineDialect",
    "::mlir::bufferization::BufferizationDialect"];
}

def CPUVectorize : Pass<"graft-cpu-vectorize", "::mlir::ModuleOp"> {
  let summary = "Tiles and vectorises elementwise loops and transposes on buffers";
  let description = [{
    After bufferization and `graft-plan-memory`: elementwise ops
    (all-parallel `linalg.generic` with static shapes, `linalg.fill`) and
    2-D `linalg.transpose` on buffers are tiled to one vector along the
    innermost dimension (16 f32 or 8 f64 at 512 bits; square blocks for
    transposes), peeled so that every tile has a static shape (no masks),
    and vectorised. The tiles are the strategy's (`planVectorTiles`,
    recorded on the op as a `#graft.lowering_config`), or the op's own
    config when it has one; the loop of its `threads` dim (the outermost
    parallel loop of more than one tile, from 32768 elements on) is an
    `scf.forall`.

    It runs on buffers so that memory planning sees whole elementwise ops:
    an optimizer's update of a parameter or a moment is then written in the
    state's own storage, with no temporary and no trailing copy.

    Ops that read or write i1 buffers stay scalar (a vector of i1 is a bit
    mask in memory, a memref of i1 a byte per element), except for a 0-d
    i1 input, which is loaded once and broadcast. Sums over outer dims (a
    linear layer's bias gradient) vectorise along the innermost dim, the
    columns outside and the rows inside in order. A reduction whose
    innermost loop reduces and whose one parallel dim is its output's last
    (a convolution's bias gradient, per channel over batch and image)
    vectorises across that dim: each step gathers one element of a vector
    of outputs and updates their running values, so each lane reduces its
    output in the loops' order, bit for bit as the scalar loops did, with
    independent chains instead of one (MNIST's two bias gradients went from
    4.5% to 1.9% of its step). Transposed tiles, partial blocks
    included, are row reads, register shuffles and row writes. A read of every other element (a stride-2
    window: 2x2 max pooling) is a masked contiguous read of the span and a
    shuffle of the even lanes, not a scalar load per lane. f32
    `math.tanh`, `math.erf` and `math.exp` become upstream's polynomial and
    rational approximations in arith ops (vectorised; LLVM lowers them on
    vectors to one libm call per lane: tanh was 43% of the GPT example's
    step, erf and exp 22% of the GPT benchmark's). Over [-20, 20]: exp
    within 1 ulp, erf 4 ulp, tanh 4.5 ulp of libm in double.

    ```mlir
    linalg.generic ... ins(%x : memref<3x36xf32>) outs(%y : memref<3x36xf32>)
    // becomes
    scf.for %i = %c0 to %c3 step %c1 {
      scf.for %j = %c0 to %c32 step %c16 {  // vector<1x16xf32>
      ...                                   // then a vector<1x4xf32> tail
    ```
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "unsigned", /*default=*/"512",
           "The target's vector width: 512, 256 or 128">
  ];
  let dependentDialects = [
    "::graft::GraftDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::affine::AffineDialect", "::mlir::memref::MemRefDialect"];
}

def OutlineKernels : Pass<"graft-outline-kernels", "::mlir::ModuleOp"> {
  let summary = "Moves each loop nest of an entry point into a function, one per distinct body";
  let description = [{
    Runs on the CPU pipeline's loops (after `graft-parallelize-loops`,
    before the OpenMP and LLVM conversions). Every top-level op with regions
    of an entry point (a product's tiled loop nest, a fused elementwise
    loop, a reduction) becomes a call to a private function, its
    *kernel*, which takes the buffers and scalars the nest uses; constants
    and the views it reads through (subviews, reshapes, casts) are
    recomputed inside, so every kernel argument is a scalar or a statically
    shaped, identity-layout memref. Kernels whose bodies are identical (the
    layers of a stack, the forward in `train_step`, `forward_backward`,
    `eval` and `predict`) are one function.

    A loop that runs a sequence of nests each iteration, one of them split
    across threads (a convolution's chunks of the batch), stays in the
    entry point, and each nest in its body becomes a kernel called per
    iteration (with the iteration's index as an argument): outlined whole,
    the loop would be one large function again (LeNet's step took 16 s to
    compile, 12 of them in LLVM's O3).

    Why: LLVM's time is superlinear in a function's size (OpenMP outlining
    rescans the whole function per parallel region; O3's passes), so one
    function per entry point made a 100-layer model take minutes to compile.
    With kernels, each function is the size of one op, and a model whose
    layers repeat compiles each distinct layer once. Kernels are
    `noinline` and internal: inlined back, the entry points would be one
    function again.

    ```mlir
    func.func @m_predict(%x: memref<32x64xf32>, %y: memref<32x64xf32>) {
      scf.parallel (%i) = (%c0) to (%c32) step (%c1) { ... }
    }
    // becomes
    func.func private @__graft_kernel(%arg0: memref<32x64xf32>,
        %arg1: memref<32x64xf32>) attributes {graft.kernel, ...} {
      %c0 = arith.constant 0 : index
      ...
      scf.parallel (%i) = (%c0) to (%c32) step (%c1) { ... }
      return
    }
    func.func @m_predict(%x: memref<32x64xf32>, %y: memref<32x64xf32>) {
      call @__graft_kernel(%x, %y) : (memref<32x64xf32>, memref<32x64xf32>) -> ()
    }
    ```
  }];
  let dependentDialects = [
    "::mlir::func::FuncDialect", "::mlir::LLVM::LLVMDialect"];
}

def ExpandBF16 : Pass<"graft-expand-bf16", "::mlir::ModuleOp"> {
  let summary = "Rewrites f32 <-> bf16 conversions as integer bit operations";
  let description = [{
    bf16 tensors are computed in f32 (the lowering widens every bf16
    operand and rounds every bf16 result once; the optimizer's f64
    hyper-parameters round from f64). LLVM lowers the rounding,
    `arith.truncf` from f32 or f64 to bf16, to a call to the compiler
    runtime's `__truncsfbf2` or `__truncdfbf2` on CPUs without AVX512_BF16,
    functions neither the JIT nor GCC 12's libgcc provides: a bf16 model
    failed to load with "Symbols not found: [ __truncdfbf2, __truncsfbf2 ]".
    This pass, run on the CPU pipeline before the lowering to LLVM,
    rewrites the conversions between f32 and bf16, on scalars and vectors,
    as upstream's bf16 expansion does: the widening as a shift of the bits,
    the rounding to nearest even as integer arithmetic on them (NaN kept a
    quiet NaN). Conversions between f64 and bf16 go through f32 (f64 to
    f32 to bf16 is also how the reference evaluator rounds). Other types
    are untouched.

    ```mlir
    %h = arith.truncf %x : f32 to bf16
    // becomes
    %b = arith.bitcast %x : f32 to i32
    ... // + 0x7fff + ((%b >> 16) & 1), NaN selected apart
    %t = arith.trunci %s : i32 to i16
    %h = arith.bitcast %t : i16 to bf16
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def StridedCopies : Pass<"graft-strided-copies", "::mlir::func::FuncOp"> {
  let summary = "Rewrites copies between non-contiguous buffers as linalg.copy, lowered to loops";
  let description = [{
    Bufferization writes a tensor inserted into part of another (a padded
    convolution's input, an im2col row of taps) as a `memref.copy` into a
    strided view. The LLVM lowering turns a copy between contiguous buffers
    into a `memcpy`, but one between strided views into a call to
    `memrefCopy`, a function of MLIR's runner library that neither a
    generated library nor the JIT has: torchvision's resnet18 failed to
    load with "Symbols not found: [ memrefCopy ]". This pass, run on the
    CPU pipeline after bufferization and before `convert-linalg-to-loops`,
    rewrites every copy with a non-contiguous side as a `linalg.copy`, which
    becomes a loop nest. Contiguous copies, views with an offset included,
    stay `memref.copy` (a `memcpy`).

    ```mlir
    memref.copy %a, %b : memref<2x64x8x8xf32> to memref<2x64x8x8xf32, strided<[6400, 100, 10, 1]>>
    // becomes
    linalg.copy ins(%a : memref<2x64x8x8xf32>) outs(%b : memref<2x64x8x8xf32, strided<[6400, 100, 10, 1]>>)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def ParallelizeLoops : Pass<"graft-parallelize-loops", "::mlir::func::FuncOp"> {
  let summary = "Turns the CPU schedule's scf.forall loops into scf.parallel where they are worth threads, into scf.for elsewhere";
  let description = [{
    The CPU schedule states which loops threads may split by making them
    `scf.forall`: the loops whose iterations write disjoint parts of their
    results (the row or column blocks of a product, the outer tile loop of
    a large elementwise op, the first parallel dim of a large reduction).
    Bufferization keeps them. This pass, after bufferization, turns each
    one-dimensional `scf.forall` on buffers into an `scf.parallel`, which
    `convert-scf-to-openmp` then splits across threads, or into an
    `scf.for` where it is not worth threads. Work is split by disjoint
    outputs only, never by reductions, so the results are bit-identical
    whatever the thread count.

    The cost model: a loop whose estimated work (operations executed,
    counting a nested loop's body once per iteration where its bounds are
    constants) is below `min-work` stays sequential: handing it to other
    threads would cost more than it saves. A forall inside a parallel loop
    runs on its iteration's thread (OpenMP regions do not nest here). A
    forall still on tensors, or of several dims, is an error: the schedule
    makes neither.

    ```mlir
    scf.forall (%i) = (0) to (126) step (6) { ... }
    // becomes
    scf.parallel (%i) = (%c0) to (%c126) step (%c6) { ... }
    ```
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"131072",
           "Fewest estimated operations a loop runs to be split across threads">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def ThreadRegions : Pass<"graft-thread-regions", "::mlir::ModuleOp"> {
  let summary = "Fits each OpenMP region to Graft's thread pool: its blocks from its work, no barrier";
  let description = [{
    Runs after `convert-scf-to-openmp`. Graft's parallel loops do not run on
    an OpenMP runtime but on the C runtime's thread pool
    (`lib/Runtime/c/graft_threads.c`), which implements the calls LLVM's
    OpenMPIRBuilder emits for one form of region: an `omp.parallel` holding
    one `omp.wsloop` with the static schedule. The pool splits the loop
    into blocks that the calling thread and the workers claim one at a
    time, so that nobody waits for a worker that has not started.

    For each region this pass checks that form, makes the loop `nowait`
    (the region's end joins the blocks; a barrier would make the caller
    wait for every worker), and sets `num_threads`, which the pool reads as
    the most blocks the loop is worth: its estimated work (as in
    `graft-parallelize-loops`) over `work-per-block`, at least two and at
    most its iterations. The pool uses fewer when it has fewer threads.

    ```mlir
    omp.parallel {
      omp.wsloop {
        omp.loop_nest (%i) : index = (%c0) to (%c126) step (%c6) { ... }
      }
      omp.terminator
    }
    // becomes
    %blocks = arith.constant 12 : i32
    omp.parallel num_threads(%blocks : i32) {
      omp.wsloop nowait { ... }
      omp.terminator
    }
    ```
  }];
  let options = [
    Option<"workPerBlock", "work-per-block", "int64_t", /*default=*/"65536",
           "Estimated operations a block of a parallel loop should run at least">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::omp::OpenMPDialect"];
}

def SplitEmptyTensors : Pass<"graft-split-empty-tensors"> {
  let summary = "Gives each use of a tensor.empty its own tensor.empty";
  let description = [{
    CSE merges identical `tensor.empty` ops: in a training step, one
    `tensor.empty() : tensor<32x64xf32>` ends up as the destination of
    hundreds of ops. One-shot bufferization and empty-tensor elimination
    then treat all of them as aliases of one value and compare every pair:
    their time grew with the cube of the model's depth (a 100-layer MLP
    spent 38 s there). This pass, run just before them, gives each use its
    own copy, at the same place, so the analysis stays linear; except that
    a `tensor.extract_slice` of the empty and the next `tensor.insert_slice`
    into it at the same offsets, sizes and strides (a peeled product tile,
    computed from the slice and written back where it came from) keep
    sharing one, which lets bufferization write the tile in place. It
    changes no semantics: an empty tensor's contents are undefined either
    way.

    ```mlir
    %e = tensor.empty() : tensor<4xf32>
    %a = linalg.fill ins(%c0 : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
    %b = linalg.fill ins(%c1 : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
    // becomes
    %e1 = tensor.empty() : tensor<4xf32>
    %e0 = tensor.empty() : tensor<4xf32>
    %a = linalg.fill ins(%c0 : f32) outs(%e0 : tensor<4xf32>) -> tensor<4xf32>
    %b = linalg.fill ins(%c1 : f32) outs(%e1 : tensor<4xf32>) -> tensor<4xf32>
    ```
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def PlanMemory : Pass<"graft-plan-memory", "::mlir::ModuleOp"> {
  let summary = "Plans every temporary buffer of an entry point into one workspace";
  let description = [{
    Runs on bufferized entry points after `buffer-results-to-out-params`
    (with `add-result-attr`). It does two things:

    1. **Static memory planning.** Every statically shaped `memref.alloc`
       in the function body (activations, saved values, gradients of
       intermediates, scratch) gets a live range, from its first use to its
       last use, following every alias (views, loop-carried buffers). The
       ranges are packed first-fit into one workspace, 64-byte aligned,
       reusing the bytes of buffers that are dead; each alloc becomes a
       `memref.view` of a new last argument, `memref<Nxi8>` with
       `graft.role = #graft<role workspace>`. The function records the planned size as
       `graft.workspace_bytes`, and the sum of its temporaries (what they
       would take without reuse) as `graft.temporary_bytes`. The caller allocates the workspace once, so
       a step allocates nothing. An allocation inside a sequential loop
       (a convolution's chunks of the batch) is planned too: one buffer
       for every iteration, live while the loop runs, unless it is yielded
       to the next iteration. Allocations inside a loop whose iterations
       threads split (each thread needs its own) are left to the
       deallocation pipeline.

    2. **In-place state.** A result with the role and name of an argument
       (a parameter, gradient, buffer or optimizer state) may be passed the
       argument's own storage. The pass checks that this is safe: the
       out-parameters are written only by the trailing copies that
       `buffer-results-to-out-params` inserts, after every other operation,
       and no trailing copy reads an argument whose storage an earlier copy
       overwrote. Trailing copies that read a state argument (a model
       output that is a parameter, `output w`: its value before the step)
       move before the copies that write state. Copies from an argument
       into its own result are removed.
       A function that breaks the rule is an error. Then a result computed
       into a temporary and copied out at the end is computed in its
       out-parameter directly where that is safe (for state: no read of
       the argument after the first write, except the elementwise update
       itself or the copy that starts an accumulation): callers must give
       a state result its argument's storage.

    Example: `relu(x @ w1) @ w2` needs the hidden activation `h` only until
    the second product has read it; a later temporary of the same size
    reuses its bytes.

    ```mlir
    %h = memref.alloc() : memref<128x512xf32>
    // becomes
    %h = memref.view %workspace[%c0][] : memref<262144xi8> to memref<128x512xf32>
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def DeallocateRemaining : Pass<"graft-deallocate-remaining", "::mlir::ModuleOp"> {
  let summary = "Runs the buffer deallocation pipeline where allocations are left";
  let description = [{
    After `graft-plan-memory` the temporaries of an entry point are views
    of its workspace; what the plan leaves (an allocation in a loop whose
    iterations threads split, or of a dynamic size) needs deallocation.
    This pass runs MLIR's buffer deallocation pipeline (`expand-realloc`,
    `ownership-based-buffer-deallocation`, its simplification and
    lowering, with `canonicalize` between and `cse`, `canonicalize` at the
    end) when the module still has a `memref.alloc` or `memref.realloc`,
    and otherwise only its closing `cse` and `canonicalize`. Graft's
    models leave none: on every example and benchmark the lowered code is
    the same either way (up to the names of constant globals), and the
    pipeline took a quarter of a large model's compile (an unrolled
    two-layer LSTM: about 9 of 40 s). `--graft-stats` counts the modules
    it deallocated.

    ```mlir
    %t = memref.alloc(%n) : memref<?xf32>
    ... uses of %t
    // gets, after the last use
    memref.dealloc %t : memref<?xf32>
    ```
  }];
}

def GPUParallelFirst : Pass<"graft-gpu-parallel-first", "::mlir::ModuleOp"> {
  let summary = "Interchanges linalg.generic loops: parallel dims outermost";
  let description = [{
    CUDA pipeline. The CPU lowering orders some products m-k-n for a
    contiguous inner loop; on the GPU every parallel dim should become
    threads, with the reductions looping inside each. This pass interchanges
    the loops of every `linalg.generic` so its parallel dims come first, in
    their order, then the reduction dims. Fails, naming the op, when linalg
    cannot interchange them.

    ```mlir
    iterator_types = ["parallel", "reduction", "parallel"]
    // becomes
    iterator_types = ["parallel", "parallel", "reduction"]
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def GPUFuseParallel : Pass<"graft-gpu-fuse-parallel", "::mlir::func::FuncOp"> {
  let summary = "Fuses neighbouring independent loop nests into one GPU kernel";
  let description = [{
    Part of the CUDA pipeline, between `convert-linalg-to-parallel-loops`
    and `graft-gpu-map-loops`, which makes one kernel of every top-level
    `scf.parallel` of a host function. Loop nests that touch different
    buffers (the optimizer's per-parameter updates, the gradients of
    independent weights) are fused into one 1-D `scf.parallel`, so they run
    as one launch: a "multi-tensor" kernel.

    The pass walks the top-level block and grows runs of loop nests without
    results (no `scf.reduce` operands) with static bounds. Each buffer is
    traced through views to its root: a function argument is the storage of
    its tensor (the runtime gives each `graft.role`/`graft.name` its own,
    and a state result its argument's), any other root (the workspace
    argument, an allocation, a global) is one buffer whose views conflict
    unless both are `memref.view`s at static, disjoint byte ranges. A nest
    joins the run when, for every other nest of the run, neither writes what
    the other touches (the host scalars it uses count as reads: the map pass
    reads them in the kernel), or when the only conflicts are elementwise:
    both nests iterate the same space and access the shared buffer only as
    `m[i0, ..., in]` of their own induction variables, through the same
    view; such nests form a group whose bodies run one after the other in
    the same thread (the momentum update, then the parameter update that
    reads it). An op between the nests that has no memory effects stays
    where it is; so does an op whose effects are known and do not touch what
    the earlier nests of the run touch (the nests move after it). Anything
    else ends the run (a call, a conflicting copy or store, the
    terminator), and so does reaching `max-operands`. A nest with
    reductions or dynamic bounds is not fused: it is such an op.

    The groups of a run of two or more nests become segments of the fused
    loop, each padded to a multiple of `segment-align` (graft-gpu-map-loops'
    thread block, so no block straddles two segments). Inside, a chain of
    `scf.if` on the linear index picks the segment, a guard skips its
    padding, and the index is delinearized into the nest's induction
    variables, innermost fastest (consecutive threads still walk contiguous
    memory). The fused loop takes the place of the run's last nest.

    ```mlir
    scf.parallel (%i) = (%c0) to (%c100) step (%c1) { A(%i) }
    scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) { B(%i, %j) }
    // becomes (segments [0, 100) padded to 256, then [256, 288))
    scf.parallel (%x) = (%c0) to (%c288) step (%c1) {
      %s0 = arith.cmpi ult, %x, %c256 : index
      scf.if %s0 {
        %in = arith.cmpi ult, %x, %c100 : index
        scf.if %in { A(%x) }
      } else {
        %l = arith.subi %x, %c256 : index
        %j = arith.remui %l, %c8 : index
        %i = arith.divui %l, %c8 : index
        B(%i, %j)
      }
    }
    ```
  }];
  let options = [
    Option<"segmentAlign", "segment-align", "int64_t", /*default=*/"256",
           "Each segment starts at a multiple of this many iterations (the "
           "threads per block of graft-gpu-map-loops)">,
    Option<"maxOperands", "max-operands", "unsigned", /*default=*/"256",
           "The most values from above a fused loop may use (the kernel's "
           "parameters once outlined; constants are not counted)">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def GPUMapLoops : Pass<"graft-gpu-map-loops", "::mlir::ModuleOp"> {
  let summary = "Tiles scf.parallel loop nests into GPU blocks and threads";
  let description = [{
    CUDA pipeline, after `convert-linalg-to-parallel-loops`, on the host
    functions' top-level code:

    - Serial code that touches memory (a reduction left serial, the
      initialisation of a 0-d result) is wrapped in a one-iteration
      `scf.parallel`: a one-thread kernel, since every buffer lives on the
      device. `gpu.launch` ops built earlier (`graft-gpu-schedule`) stay.
    - Scalars read from buffers on the host (the learning rate, the loss in
      its gradient) are read inside the loop nests that use them, after a
      check that nothing writes the buffer in between (else an error).
    - Parallel loops nested in a nest run sequentially in each thread.
    - Each top-level `scf.parallel` is tiled: its innermost dim into up to
      256 threads (`threadIdx.x` walks contiguous memory), the dim before it
      into what is left of 256. Tiles map to `blockIdx.x/y/z` from the
      innermost dim out (further dims loop in each thread), in-tile dims to
      `threadIdx.x/y`; partial tiles are guarded. `convert-parallel-loops-
      to-gpu` then makes each nest a `gpu.launch`.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def GPUDeviceMemory : Pass<"graft-gpu-device-memory", "::mlir::ModuleOp"> {
  let summary = "Makes the host functions' buffers device buffers";
  let description = [{
    CUDA pipeline, after kernel outlining: every buffer the host functions
    allocate becomes a device buffer (`gpu.alloc`/`gpu.dealloc`), copies
    between buffers device copies (`gpu.memcpy`), and copies of a 32-bit
    splat constant (zero_grad's zeros) `gpu.memset`. A host constant a
    kernel reads (gpt's causal mask) is copied to a device buffer at the
    start of the function and freed at its end. The entry points' arguments
    are device pointers (the CUDA runtime maps them). Fails, naming the op,
    when host code is left that would read or write a device buffer: no
    silent host access to device memory.

    ```mlir
    memref.copy %zeros, %grad : memref<512xf32> to memref<512xf32>
    // becomes (%zeros a splat constant)
    gpu.memset %grad, %cst : memref<512xf32>, f32
    ```
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def GPUMergeModules : Pass<"graft-gpu-merge-modules", "::mlir::ModuleOp"> {
  let summary = "Puts every outlined kernel into one gpu.module";
  let description = [{
    CUDA pipeline, after `gpu-kernel-outlining`, which makes a `gpu.module`
    per kernel. Each module is compiled and assembled on its own, per chip,
    and loaded on its own at run time, so a model with hundreds of kernels
    paid for hundreds of ptxas runs and module loads. This pass moves every
    kernel into one `gpu.module @graft_kernels`, renamed after its old
    module (a unique symbol), and points each `gpu.launch_func` at it.
    Other symbols of the modules (globals a kernel reads) are kept once;
    two different ones with one name are an error.

    ```mlir
    gpu.module @f_kernel { gpu.func @f_kernel(...) kernel {...} }
    gpu.module @f_kernel_0 { gpu.func @f_kernel(...) kernel {...} }
    gpu.launch_func @f_kernel_0::@f_kernel ...
    // becomes
    gpu.module @graft_kernels {
      gpu.func @f_kernel(...) kernel {...}
      gpu.func @f_kernel_0(...) kernel {...}
    }
    gpu.launch_func @graft_kernels::@f_kernel_0 ...
    ```
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def GPUFoldTransposes : Pass<"graft-gpu-fold-transposes", "::mlir::func::FuncOp"> {
  let summary = "Makes products read the sources of transposed copies";
  let description = [{
    Runs in the CUDA pipeline on bufferized functions, after
    `graft-gpu-parallel-first`. The CPU lowering materialises transposes so
    that its products read contiguous rows (`linalg.transpose ins(%w)
    outs(%wt)`, then a product reading %wt); the GPU's product kernel
    stages tiles through shared memory and reads %w through the composed
    map as well. A transposed buffer that only transposes write and only
    products (`C += A * B` generics with static shapes) read, each product
    reading what the latest transpose before it wrote, whose source nothing
    overwrites in between, is dropped with its transposes: the products
    read the sources through the permuted maps. Named convolutions and
    contractions are first made generics, as `graft-gpu-strategy` does. Runs
    before that pass, whose choice of kernel depends on the maps a product
    reads through.

    ```mlir
    linalg.transpose ins(%w : memref<48x32xf32>) outs(%wt : memref<32x48xf32>) permutation = [1, 0]
    linalg.generic {indexing_maps = [(m, n, k) -> (m, k), (m, n, k) -> (k, n), ...]}
        ins(%x, %wt : memref<64x32xf32>, memref<32x48xf32>) ...
    // becomes
    linalg.generic {indexing_maps = [(m, n, k) -> (m, k), (m, n, k) -> (n, k), ...]}
        ins(%x, %w : memref<64x32xf32>, memref<48x32xf32>) ...
    ```
  }];
}

def GPUStrategy : Pass<"graft-gpu-strategy", "::mlir::func::FuncOp"> {
  let summary = "Chooses the GPU kernel of each product and long reduction";
  let description = [{
    Runs in the CUDA pipeline on bufferized functions, after
    `graft-gpu-fold-transposes`. Puts the GPU strategy's choice on each
    top-level `linalg.generic` that a kernel of `graft-gpu-schedule` takes,
    as a `#graft.gpu_config` (see `graft::gpu::planProduct` and
    `planReduction`, include/graft/Codegen/GPUStrategy.h). Named
    convolutions and contractions (`linalg.conv_2d_nchw_fchw`, ...) are
    first made generics, so that the product kernel takes them too. An op
    that already has a config (written by hand in a test, say) keeps it;
    an op left without one is lowered one thread per output.

    - **Products** (`C += A * B`: parallel dims then reduction dims, a body
      `out + a * b`; the parallel dims only A reads are the rows m, those
      only B reads the columns n, the others a batch): `product` with tiles
      of C of 64x64, else 32x32, whichever is the largest that still gives
      every multiprocessor a block; else 16x16 tiles whose k loop 4 groups
      of threads share for k >= 256 (2 for k >= 64). On the tensor cores
      (`tf32=1`, f32 products), `tensor_core_product` with 128x128 tiles
      too. A product with so few outputs that 16x16 tiles leave more than
      half of the multiprocessors idle and a k of at least 256 is a few
      long dot products: a warp each (`row_reduction`) when its rows are
      read contiguously. More row tiles or batch entries than CUDA's grid
      holds (65535): no config.
    - **Reductions** (`out combine f(ins)`, combine addf, maximumf,
      minimumf, maxnumf or minnumf, `out` used only there): to one value,
      `full_reduction`; rows of at least 32 read along a contiguous dim,
      `row_reduction`; other reductions of at least 64 elements per
      output, `column_reduction`; shorter ones, none.

    ```mlir
    linalg.generic {... iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %b : memref<256x100xf32>, memref<100x192xf32>) ...
    // becomes, with multiprocessors=132 (192 tiles of 16x16; k = 100 split
    // between two groups of threads):
    linalg.generic {..., graft.gpu_config = #graft.gpu_config<product tile = 16 slices = 2>}
        ins(%a, %b : memref<256x100xf32>, memref<100x192xf32>) ...
    ```
  }];
  let options = [
    Option<"products", "products", "bool", /*default=*/"true",
           "Give products tiled kernels">,
    Option<"reductions", "reductions", "bool", /*default=*/"true",
           "Give long reductions warp and block kernels">,
    Option<"multiprocessors", "multiprocessors", "unsigned",
           /*default=*/"132",
           "Multiprocessors to fill: below this many 64x64 tiles, products "
           "use 32x32 tiles (132 on an H100 or H200)">,
    Option<"tf32", "tf32", "bool", /*default=*/"false",
           "Run f32 products on the tensor cores in TF32 (PyTorch's "
           "allow_tf32; sm_80 and later)">
  ];
  let dependentDialects = ["::graft::GraftDialect"];
}

def GPUSchedule : Pass<"graft-gpu-schedule", "::mlir::func::FuncOp"> {
  let summary = "Lowers products and reductions to tiled GPU kernels";
  let description = [{
    Runs in the CUDA pipeline on bufferized functions, after
    `graft-gpu-strategy` and before `convert-linalg-to-parallel-loops`
    (which lowers what this pass leaves to one thread per output). It
    replaces each top-level `linalg.generic` that has a `#graft.gpu_config`
    (the strategy's choice) with a `gpu.launch` of the kernel it names; an
    op the kernel cannot take (a config written by hand on another op) is
    an error.

    1. **Products** (`product`, `tensor_core_product`: `C += A * B`,
       parallel dims then reduction dims `k`, a body that is `out + a * b`;
       batch dims are delinearized from `blockIdx.z`). Each block of 16x16
       threads computes a BMxBN tile of C (the config's `tile`), each
       thread a (BM/16)x(BN/16) register tile; `slices` groups of 16x16
       threads take turns over the k steps and their sums meet in shared
       memory, in order. The k dim runs in steps of 16: the block
       stages the A and B tiles in shared memory (padded by one element, so
       neither the staging stores nor the reads conflict on banks; the
       staging loads walk each operand's contiguous dim), `gpu.barrier`, and
       every thread accumulates outer products from shared memory into
       registers (`math.fma`); the next step's tiles are loaded into
       registers before this step's multiply-adds (prefetch), so the global
       memory latency hides behind them. Edges are guarded (any M, N, K).

    2. **Reductions** whose body is `out combine f(ins)` with `combine`
       addf, maximumf, minimumf, maxnumf or minnumf and `out` used only
       there (anything else the body uses from outside must be a buffer or
       a constant):
       - `row_reduction` (softmax's and LayerNorm's rows): a warp per output; each lane folds every 32nd element,
         then the lanes combine with `gpu.shuffle xor` (a butterfly: every
         lane ends with the result) and lane 0 updates the output;
       - `column_reduction` (a bias gradient: consecutive outputs read
         consecutive elements): blocks of 32 outputs x 32 slices, each
         thread folds every 32nd element of its column, the slices meet in
         shared memory and one thread per output combines them in order;
       - `full_reduction`, everything to one value (a loss): one block of 1024 threads; warps
         shuffle, warp results meet in shared memory, warp 0 shuffles them.

    Summation order differs from the CPU's serial order; results agree to
    f32 rounding.

    **Tensor cores** (`tensor_core_product`: f32 products with
    `graft-gpu-strategy{tf32=1}`, PyTorch's `allow_tf32`; off by default)
    run in TF32. The staging rounds each element to TF32 (`nvvm.convert.float.to.tf32`,
    round to nearest, ties away: `cvt.rna`) as it stores it in shared
    memory, padded by 8 elements (the fragment reads are then free of bank
    conflicts). The 8 warps of the block tile it 2x4; each warp multiplies
    its (BM/2)x(BN/4) part with `nvgpu.mma.sync` (m16n8k8, TF32 operands,
    f32 accumulators: `mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32`),
    reading its A and B fragments from shared memory. TF32 keeps 10 bits of
    mantissa: products agree with f32 to about 1e-3 relative, as PyTorch's
    and cuBLAS's TF32 do.

    ```mlir
    linalg.generic {... iterator_types = ["parallel", "parallel", "reduction"],
                    graft.gpu_config = #graft.gpu_config<product tile = 64>}
        ins(%a, %b : memref<128x784xf32>, memref<784x512xf32>)
        outs(%c : memref<128x512xf32>) {...}
    // becomes
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c8, %gy = %c2, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c16, %sy = %c16, %sz = %c1)
               workgroup(%as : memref<16x65xf32, #gpu.address_space<workgroup>>,
                         %bs : memref<16x65xf32, #gpu.address_space<workgroup>>) {
      %acc = scf.for %k0 = %c0 to %c784 step %c16 iter_args(...) {
        ... stage A and B tiles; gpu.barrier
        ... 16 x (4x4 multiply-adds from shared memory); gpu.barrier
      }
      ... C[m, n] += acc, guarded
    }
    ```
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::nvgpu::NVGPUDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

#endif // GRAFT_CODEGEN_PASSES
