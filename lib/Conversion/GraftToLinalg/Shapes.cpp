//===- Shapes.cpp - graft-to-linalg: views, slices and concatenation ------===//
//
// Reshapes are tensor.reshape, transposes linalg.transpose and broadcasts
// a copying generic. Slices, their gradients and concatenation gather
// through boxes (insertBox, extractBox), never strided copies.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"

using namespace graft;
using namespace graft::lowering;

namespace {

FailureOr<Value> lowerReshape(ReshapeOp o, Lowering &L) {
  return L.reshape(o.getInput(), resultType(o).getShape());
}

FailureOr<Value> lowerTranspose(TransposeOp o, Lowering &L) {
  SmallVector<int64_t> perm;
  for (int64_t i = 0; i < tensorType(o.getInput()).getRank(); ++i)
    perm.push_back(i);
  std::swap(perm[o.getDim0()], perm[o.getDim1()]);
  return L.transpose(o.getInput(), perm);
}

FailureOr<Value> lowerPermute(PermuteOp o, Lowering &L) {
  return L.transpose(o.getInput(), o.getDims());
}

FailureOr<Value> lowerBroadcastTo(BroadcastToOp o, Lowering &L) {
  return L.broadcastTo(o.getInput(), resultType(o).getShape());
}

/// The box of a slice along `dim`, [start, ...) with `step`, of the tensor
/// of rank `rank`, with the slice's `sizes`.
struct SliceBox {
  SmallVector<OpFoldResult> offsets, strides, sizes;

  SliceBox(OpBuilder &b, int64_t rank, ArrayRef<int64_t> sliceShape,
           int64_t dim, int64_t start, int64_t step)
      : offsets(rank, b.getIndexAttr(0)), strides(rank, b.getIndexAttr(1)) {
    for (int64_t d : sliceShape)
      sizes.push_back(b.getIndexAttr(d));
    offsets[dim] = b.getIndexAttr(start);
    strides[dim] = b.getIndexAttr(step);
  }
};

FailureOr<Value> lowerSlice(SliceOp o, Lowering &L) {
  RankedTensorType rt = resultType(o);
  SliceBox box(L.b, rt.getRank(), rt.getShape(), o.getDim(), o.getStart(),
               o.getStep());
  return L.extractBox(rt, o.getInput(), box.offsets, box.strides);
}

FailureOr<Value> lowerSliceBackward(SliceBackwardOp o, Lowering &L) {
  RankedTensorType rt = resultType(o);
  Value zeros = L.filled(rt.getShape(), rt.getElementType(), 0.0);
  SliceBox box(L.b, rt.getRank(), shapeOf(o.getGrad()), o.getDim(),
               o.getStart(), o.getStep());
  return L.insertBox(o.getGrad(), zeros, box.offsets, box.strides);
}

FailureOr<Value> lowerConcat(ConcatOp o, Lowering &L) {
  RankedTensorType rt = resultType(o);
  Value acc = L.empty(rt.getShape(), rt.getElementType());
  int64_t offset = 0;
  for (Value in : o.getInputs()) {
    SliceBox box(L.b, rt.getRank(), shapeOf(in), o.getDim(), offset, 1);
    acc = L.insertBox(in, acc, box.offsets, box.strides);
    offset += shapeOf(in)[o.getDim()];
  }
  return acc;
}

} // namespace

void graft::lowering::populateShapesPatterns(
    RewritePatternSet &patterns, const ConvertGraftToLinalgOptions &options) {
  addLowering<ReshapeOp>(patterns, options, lowerReshape);
  addLowering<TransposeOp>(patterns, options, lowerTranspose);
  addLowering<PermuteOp>(patterns, options, lowerPermute);
  addLowering<BroadcastToOp>(patterns, options, lowerBroadcastTo);
  addLowering<SliceOp>(patterns, options, lowerSlice);
  addLowering<SliceBackwardOp>(patterns, options, lowerSliceBackward);
  addLowering<ConcatOp>(patterns, options, lowerConcat);
}
