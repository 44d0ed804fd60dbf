//===- Lowering.h - The graft-to-linalg building blocks ---------*- C++ -*-===//
//
// The lowering of graft ops to target-neutral ops on tensors is a set of
// conversion patterns, one per op, kept by op family:
//
//   Elementwise.cpp    unary rows, GELU, arithmetic, comparisons, selects,
//                      casts, dropout; constants, identities, hook calls
//   Shapes.cpp         reshape, transpose, permute, broadcast, slices, concat
//   Reductions.cpp     sum, mean, max, argmax, softmax, log_softmax
//   Products.cpp       matmul, linear, scaled_dot_product_attention
//   Convolution.cpp    conv2d and its two gradients
//   Pooling.cpp        max/avg pooling and their gradients
//   Normalization.cpp  layer_norm, batch_norm
//   Losses.cpp         cross_entropy, nll_loss, mse_loss
//   Indexing.cpp       embedding and its gradient, one_hot
//
// Each family is written with the building blocks below:
//
//   elementwise(): one linalg.generic over the result shape; operands are
//                  read through broadcasting maps (size-1 dims map to 0);
//   reduce():      a linalg.generic with reduction iterators (two for long
//                  sums: partial sums, then their sum);
//   contract():    a batched matrix product with broadcast batch dims.
//
// Padding, dilation and slice gradients are gathers into a filled tensor
// (never strided copies). Scalar math of bf16 runs in f32.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_LIB_CONVERSION_GRAFTTOLINALG_LOWERING_H
#define GRAFT_LIB_CONVERSION_GRAFTTOLINALG_LOWERING_H

#include "graft/Conversion/Passes.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "mlir/Transforms/DialectConversion.h"

namespace graft::lowering {

using namespace mlir;
using utils::IteratorType;

using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

inline RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}
inline ArrayRef<int64_t> shapeOf(Value v) { return tensorType(v).getShape(); }
inline Type eltOf(Value v) { return tensorType(v).getElementType(); }
/// The type of an op's (first) result.
inline RankedTensorType resultType(Operation *op) {
  return cast<RankedTensorType>(op->getResult(0).getType());
}

/// Builds lowered IR at one op's location: the building blocks every op
/// family is written with.
class Lowering {
public:
  Lowering(OpBuilder &b, Location loc, const ConvertGraftToLinalgOptions &o)
      : b(b), loc(loc), convProducts(o.convProducts),
        convChunkElements(o.convChunkElements), poolTaps(o.poolTaps),
        batchLoops(o.batchProducts) {}

  //===--------------------------------------------------------------------===//
  // Scalars
  //===--------------------------------------------------------------------===//

  Value constant(Type t, double v) {
    if (auto ft = dyn_cast<FloatType>(t))
      return arith::ConstantOp::create(b, loc, t, b.getFloatAttr(ft, v));
    if (t.isIndex())
      return arith::ConstantIndexOp::create(b, loc, (int64_t)v);
    return arith::ConstantOp::create(b, loc, t,
                                     b.getIntegerAttr(t, (int64_t)v));
  }
  static Type computeType(Type t, MLIRContext *ctx) {
    return t.isBF16() ? Float32Type::get(ctx) : t;
  }
  /// Converts a scalar between element types (float, int, i1).
  Value convert(OpBuilder &bb, Value v, Type to);
  /// A constant of type `t` at `bb`'s insertion point (inside a body being
  /// built by another builder).
  Value constantIn(OpBuilder &bb, Type t, double v);

  //===--------------------------------------------------------------------===//
  // Tensors
  //===--------------------------------------------------------------------===//

  Value empty(ArrayRef<int64_t> shape, Type elt) {
    return tensor::EmptyOp::create(b, loc, shape, elt);
  }
  Value filled(ArrayRef<int64_t> shape, Type elt, double v) {
    return linalg::FillOp::create(b, loc, ValueRange{constant(elt, v)},
                                  ValueRange{empty(shape, elt)})
        .getResult(0);
  }
  Value denseConstant(RankedTensorType t, ArrayRef<double> values);

  /// `src` written into the box of `dest` at static `offsets` with
  /// `strides` (padding, dilation, slice gradients, concatenation): one
  /// generic over `dest` that gathers from `src` inside the box. (A
  /// tensor.insert_slice bufferizes to a memref.copy, whose strided form
  /// needs a runtime library the JIT does not link.)
  Value insertBox(Value src, Value dest, ArrayRef<OpFoldResult> offsets,
                  ArrayRef<OpFoldResult> strides);
  /// The box of `src` at static `offsets` with `strides` and `type`,
  /// gathered into a new tensor: a subview would need a memref.copy where a
  /// reshape wants the identity layout (see insertBox).
  Value extractBox(RankedTensorType type, Value src,
                   ArrayRef<OpFoldResult> offsets,
                   ArrayRef<OpFoldResult> strides);

  /// The map reading an operand of `shape` at an iteration point of
  /// `rank` dims whose trailing dims line up with the operand's (NumPy
  /// broadcasting: a size-1 operand dim reads index 0).
  AffineMap broadcastMap(ArrayRef<int64_t> shape, ArrayRef<int64_t> iterShape);

  /// result[i] = body(operands[i]...) over `shape`, with broadcasting.
  Value elementwise(ArrayRef<int64_t> shape, Type resultElt,
                    ValueRange operands, BodyFn body);

  /// `v` with its elements converted to `elt`.
  Value castElements(Value v, Type elt);

  /// Like elementwise(), with float math done in f32 for bf16.
  Value floatElementwise(RankedTensorType resultType, ValueRange operands,
                         BodyFn body);

  enum class Combine { Sum, Max };
  /// Reduces `input` over `dims` (all when empty); keepdim keeps size-1 dims.
  /// Long sums run in two stages (see the definition), for accuracy.
  Value reduce(Value input, ArrayRef<int64_t> dims, bool keepdim, Combine kind);
  /// One linalg.generic reducing `input` over the dims marked `reduced`,
  /// into the compute type (f32 for bf16).
  Value reduceOnce(Value input, ArrayRef<bool> reduced, Combine kind);

  Value reshape(Value v, ArrayRef<int64_t> shape) {
    auto to = RankedTensorType::get(shape, eltOf(v));
    if (to == v.getType())
      return v;
    auto shapeType =
        RankedTensorType::get({(int64_t)shape.size()}, b.getI64Type());
    SmallVector<double> dims(shape.begin(), shape.end());
    return tensor::ReshapeOp::create(b, loc, to, v,
                                     denseConstant(shapeType, dims));
  }

  Value transpose(Value v, ArrayRef<int64_t> perm) {
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(shapeOf(v)[p]);
    return linalg::TransposeOp::create(b, loc, v, empty(shape, eltOf(v)), perm)
        .getResult()[0];
  }

  /// Broadcasts `v` to `shape` (NumPy rules).
  Value broadcastTo(Value v, ArrayRef<int64_t> shape) {
    if (shapeOf(v) == shape)
      return v;
    return elementwise(
        shape, eltOf(v), {v},
        [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  }

  /// Batched matrix product a [..., M, K] @ c [..., K, N] with broadcast
  /// batch dims, accumulated onto `init` (zeros when null).
  ///
  /// A 2-D product iterates (m, n, k) and is marked `graft.contraction`:
  /// the CPU schedule tiles it for registers and vectorises it
  /// (graft-cpu-schedule). With `batchLoops` (the CPU), a batched product
  /// is an scf.for over its flattened batch of such 2-D products of slices
  /// (batchLoop). Otherwise batched products iterate (batch..., m, k, n):
  /// without a schedule, the innermost loop then walks rows of `c` and of
  /// the result contiguously (the GPU schedule takes the batch dims as
  /// they are).
  Value contract(Value a, Value c, ArrayRef<int64_t> outShape, Value init = {});

  /// `acc` += a @ c, batched, as a loop over the flattened batch: iteration
  /// i takes the 2-D slices of a, c and acc at batch index i (a broadcast
  /// batch dim of an operand at 0) and accumulates a 2-D product into the
  /// slice of acc. Each output sums its terms in k order, as the batched
  /// generic does.
  Value batchLoop(Value a, Value c, ArrayRef<int64_t> outShape, Value acc);

  /// Softmax (or log-softmax) along `dim`, max-subtracted.
  Value softmax(Value x, int64_t dim, bool log);

  /// Reads `table` at the integer `index` along its last dim: out[..., ] =
  /// table[..., index[...]], for index tensors shaped like table minus its
  /// last dim. An out-of-range index reads `outOfRange`, never memory.
  Value gatherLast(Value table, Value index, double outOfRange);

  OpBuilder &b;
  Location loc;
  /// Ungrouped convolutions lower to 2-D products over their patches
  /// (im2col), which the CPU schedule tiles for registers.
  bool convProducts;
  /// The most patch elements one chunk of such a convolution's batch
  /// copies out at a time.
  int64_t convChunkElements;
  /// Max pooling (and its argmax) reads its kernel tap by tap: the taps'
  /// strided windows are the inputs of one elementwise generic, which the
  /// CPU vectorises.
  bool poolTaps;
  /// Batched products run as a loop over the batch of 2-D products, which
  /// the CPU schedule tiles for registers.
  bool batchLoops;
};

//===----------------------------------------------------------------------===//
// Helpers shared by several families
//===----------------------------------------------------------------------===//

/// Static sizes, offsets or strides.
SmallVector<OpFoldResult> indexAttrs(OpBuilder &b, ArrayRef<int64_t> v);

/// `x` written into a tensor of `shape` filled with `fill`, at `offsets`, with
/// `strides` between consecutive elements (padding and dilation at once).
Value embed(Lowering &L, Value x, ArrayRef<int64_t> shape, double fill,
            ArrayRef<int64_t> offsets, ArrayRef<int64_t> strides);

/// The box of `x` at `offsets` of `sizes`.
Value extractBox(Lowering &L, Value x, ArrayRef<int64_t> offsets,
                 ArrayRef<int64_t> sizes);

/// One linalg.generic: `inits` updated from `inputs` by `body` (which gets the
/// input and init block arguments and returns the new init values).
SmallVector<Value> generic(
    Lowering &L, ValueRange inputs, ValueRange inits, ArrayRef<AffineMap> maps,
    ArrayRef<IteratorType> iters,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body);

inline AffineMap mapOf(MLIRContext *ctx, unsigned dims,
                       ArrayRef<AffineExpr> e) {
  return AffineMap::get(dims, 0, e, ctx);
}

/// Builds a loop nest over [0, bounds) carrying one tensor; `body` gets the
/// induction variables and the carried tensor and returns its next value.
Value loopNest(
    Lowering &L, ArrayRef<int64_t> bounds, Value init,
    function_ref<Value(OpBuilder &, Location, ValueRange, Value)> body);

/// An index constant.
inline Value idx(OpBuilder &b, Location l, int64_t v) {
  return arith::ConstantIndexOp::create(b, l, v);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// The lowering of one op to the value that replaces its result.
template <typename OpTy> using LowerFn = FailureOr<Value> (*)(OpTy, Lowering &);

/// One op's conversion pattern: `lower` builds its replacement before it.
/// Ops are lowered with their original operands, which the one-shot driver
/// has already replaced by their producers' lowered values.
template <typename OpTy>
class OpLowering final : public OpConversionPattern<OpTy> {
public:
  OpLowering(MLIRContext *ctx, const ConvertGraftToLinalgOptions &options,
             LowerFn<OpTy> lower)
      : OpConversionPattern<OpTy>(ctx), options(options), lower(lower) {}

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Lowering L(rewriter, op.getLoc(), options);
    FailureOr<Value> r = lower(op, L);
    if (failed(r))
      return failure();
    rewriter.replaceOp(op, *r);
    return success();
  }

private:
  ConvertGraftToLinalgOptions options;
  LowerFn<OpTy> lower;
};

/// Adds the pattern lowering OpTy with `lower`.
template <typename OpTy>
void addLowering(RewritePatternSet &patterns,
                 const ConvertGraftToLinalgOptions &options,
                 LowerFn<OpTy> lower) {
  patterns.add<OpLowering<OpTy>>(patterns.getContext(), options, lower);
}

/// The patterns of each family, from its file.
void populateElementwisePatterns(RewritePatternSet &patterns,
                                 const ConvertGraftToLinalgOptions &options);
void populateShapesPatterns(RewritePatternSet &patterns,
                            const ConvertGraftToLinalgOptions &options);
void populateReductionsPatterns(RewritePatternSet &patterns,
                                const ConvertGraftToLinalgOptions &options);
void populateProductsPatterns(RewritePatternSet &patterns,
                              const ConvertGraftToLinalgOptions &options);
void populateConvolutionPatterns(RewritePatternSet &patterns,
                                 const ConvertGraftToLinalgOptions &options);
void populatePoolingPatterns(RewritePatternSet &patterns,
                             const ConvertGraftToLinalgOptions &options);
void populateNormalizationPatterns(RewritePatternSet &patterns,
                                   const ConvertGraftToLinalgOptions &options);
void populateLossesPatterns(RewritePatternSet &patterns,
                            const ConvertGraftToLinalgOptions &options);
void populateIndexingPatterns(RewritePatternSet &patterns,
                              const ConvertGraftToLinalgOptions &options);

/// What the patterns assume of ops they lower, checked before any rewriting
/// (an error at the op when it does not hold).
LogicalResult checkDropout(DropoutOp op);
LogicalResult checkHookCall(HookCallOp op);

} // namespace graft::lowering

#endif
