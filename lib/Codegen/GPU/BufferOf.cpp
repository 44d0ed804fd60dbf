//===- BufferOf.cpp - Which bytes a memref value addresses ----------------===//

#include "GPU/BufferOf.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using graft::Buffer;

/// The bytes of one element of `t`, or 0 when unknown.
static int64_t elementBytes(Type t) {
  if (t.isIndex())
    return 8;
  if (t.isIntOrFloat())
    return llvm::divideCeil(t.getIntOrFloatBitWidth(), 8);
  return 0;
}

std::optional<Buffer> graft::bufferOf(Value v) {
  Buffer b;
  // Every view on the way stays within its source, so the range of the
  // view on the root bounds what `v` addresses.
  bool contained = true;
  Operation *onRoot = nullptr;
  unsigned views = 0;
  Value cur = v;
  while (Operation *def = cur.getDefiningOp()) {
    if (isa<memref::AllocOp, memref::AllocaOp>(def))
      break;
    if (auto global = dyn_cast<memref::GetGlobalOp>(def)) {
      b.root = global.getNameAttr().getAsOpaquePointer();
      return b;
    }
    if (auto transpose = dyn_cast<memref::TransposeOp>(def))
      cur = transpose.getIn();
    else if (auto view = dyn_cast<ViewLikeOpInterface>(def))
      cur = view.getViewSource();
    else
      return std::nullopt;
    contained &= isa<memref::ViewOp, memref::SubViewOp, memref::ExpandShapeOp,
                     memref::CollapseShapeOp, memref::CastOp,
                     memref::ReshapeOp, memref::TransposeOp>(def);
    onRoot = def;
    ++views;
  }
  if (auto arg = dyn_cast<BlockArgument>(cur)) {
    auto fn = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
    if (!fn || arg.getOwner() != &fn.getBody().front())
      return std::nullopt;
    unsigned n = arg.getArgNumber();
    auto role = fn.getArgAttrOfType<graft::RoleAttr>(n, graft::kRoleAttrName);
    auto name = fn.getArgAttrOfType<StringAttr>(n, graft::kNameAttrName);
    b.root = role && name ? ArrayAttr::get(fn.getContext(), {role, name})
                                .getAsOpaquePointer()
                          : arg.getAsOpaquePointer();
  } else {
    b.root = cur.getAsOpaquePointer();
  }
  b.direct = views == 0;
  // A memref.view at a constant byte shift with a static shape on the root
  // covers [shift, shift + its bytes).
  auto view = dyn_cast_or_null<memref::ViewOp>(onRoot);
  std::optional<int64_t> shift =
      view ? getConstantIntValue(view.getByteShift()) : std::nullopt;
  if (view && shift && contained && view.getType().hasStaticShape()) {
    MemRefType t = view.getType();
    if (int64_t bytes = elementBytes(t.getElementType())) {
      b.begin = *shift;
      b.end = *shift + t.getNumElements() * bytes;
      b.offset = *shift;
      b.direct = views == 1;
    }
  }
  return b;
}

bool graft::mayOverlap(Value a, Value b) {
  std::optional<Buffer> x = bufferOf(a), y = bufferOf(b);
  return !x || !y ||
         (x->root == y->root && x->begin < y->end && y->begin < x->end);
}
