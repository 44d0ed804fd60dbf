//===- Elementwise.cpp - graft-to-linalg: elementwise ops -----------------===//
//
// Elementwise ops are one linalg.generic each, with broadcasting maps: the
// unary rows (one pattern per row, from its scalar formula), GELU, clamps,
// arithmetic, comparisons, selects, casts and dropout. With them the ops of
// the program's structure: constants, identities (detach, clone, gradient
// hooks with nothing registered) and hook calls into the C runtime.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"
#include "ScalarValue.h"
#include "graft/Dialect/Graft/IR/UnaryOps.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace graft;
using namespace graft::lowering;

namespace {

//===----------------------------------------------------------------------===//
// Unary rows, GELU and arithmetic
//===----------------------------------------------------------------------===//

/// A unary row: its scalar formula over every element.
template <typename OpTy> FailureOr<Value> lowerUnary(OpTy op, Lowering &L) {
  return L.floatElementwise(
      op.getType(), {op->getOperand(0)},
      [](OpBuilder &b, Location l, ValueRange a) {
        return buildScalar(b, l, a[0], [](auto v) { return OpTy::scalar(v); });
      });
}

FailureOr<Value> lowerGelu(GeluOp op, Lowering &L) {
  bool tanh = op.getApproximate() == GeluApproximation::tanh;
  return L.floatElementwise(
      op.getType(), {op.getInput()},
      [tanh](OpBuilder &b, Location l, ValueRange a) {
        if (tanh)
          return buildScalar(b, l, a[0],
                             [](auto v) { return scalar::geluTanh(v); });
        return buildScalar(b, l, a[0], [](auto v) { return scalar::gelu(v); });
      });
}

/// A clamp, also in place: maximumf/minimumf with its bounds (NaN kept).
template <typename OpTy> FailureOr<Value> lowerClamp(OpTy op, Lowering &L) {
  std::optional<double> lo = op.getLower(), hi = op.getUpper();
  return L.floatElementwise(
      op.getType(), {op->getOperand(0)},
      [lo, hi](OpBuilder &b, Location l, ValueRange a) {
        Value v = a[0];
        auto bound = [&](double c) -> Value {
          return arith::ConstantOp::create(b, l, v.getType(),
                                           b.getFloatAttr(v.getType(), c));
        };
        if (lo)
          v = arith::MaximumFOp::create(b, l, v, bound(*lo));
        if (hi)
          v = arith::MinimumFOp::create(b, l, v, bound(*hi));
        return v;
      });
}

/// The scalar body of a binary arithmetic graft op (or its in-place twin).
template <typename OpTy>
Value binaryScalar(OpBuilder &b, Location l, Value x, Value y) {
  bool isFloat = isa<FloatType>(x.getType());
  if constexpr (llvm::is_one_of<OpTy, AddOp, AddInPlaceOp>::value)
    return isFloat ? arith::AddFOp::create(b, l, x, y).getResult()
                   : arith::AddIOp::create(b, l, x, y).getResult();
  if constexpr (llvm::is_one_of<OpTy, SubOp, SubInPlaceOp>::value)
    return isFloat ? arith::SubFOp::create(b, l, x, y).getResult()
                   : arith::SubIOp::create(b, l, x, y).getResult();
  if constexpr (llvm::is_one_of<OpTy, MulOp, MulInPlaceOp>::value)
    return isFloat ? arith::MulFOp::create(b, l, x, y).getResult()
                   : arith::MulIOp::create(b, l, x, y).getResult();
  if constexpr (llvm::is_one_of<OpTy, DivOp, DivInPlaceOp>::value)
    return arith::DivFOp::create(b, l, x, y);
  if constexpr (std::is_same_v<OpTy, PowOp>)
    return math::PowFOp::create(b, l, x, y);
  if constexpr (std::is_same_v<OpTy, MaximumOp>)
    return arith::MaximumFOp::create(b, l, x, y);
  if constexpr (std::is_same_v<OpTy, MinimumOp>)
    return arith::MinimumFOp::create(b, l, x, y);
}

/// Binary arithmetic with broadcasting, out-of-place and in-place.
template <typename OpTy> FailureOr<Value> lowerBinary(OpTy op, Lowering &L) {
  return L.floatElementwise(resultType(op), op->getOperands(),
                            [](OpBuilder &b, Location l, ValueRange a) {
                              return binaryScalar<OpTy>(b, l, a[0], a[1]);
                            });
}

FailureOr<Value> lowerCompare(CompareOp o, Lowering &L) {
  bool isFloat = isa<FloatType>(eltOf(o.getLhs()));
  ComparePredicate p = o.getPredicate();
  return L.elementwise(
      resultType(o).getShape(), L.b.getI1Type(), {o.getLhs(), o.getRhs()},
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        if (isFloat) {
          arith::CmpFPredicate fp[] = {
              arith::CmpFPredicate::OEQ, arith::CmpFPredicate::UNE,
              arith::CmpFPredicate::OLT, arith::CmpFPredicate::OLE,
              arith::CmpFPredicate::OGT, arith::CmpFPredicate::OGE};
          return arith::CmpFOp::create(b, l, fp[(int)p], a[0], a[1]);
        }
        arith::CmpIPredicate ip[] = {
            arith::CmpIPredicate::eq,  arith::CmpIPredicate::ne,
            arith::CmpIPredicate::slt, arith::CmpIPredicate::sle,
            arith::CmpIPredicate::sgt, arith::CmpIPredicate::sge};
        return arith::CmpIOp::create(b, l, ip[(int)p], a[0], a[1]);
      });
}

FailureOr<Value> lowerWhere(WhereOp o, Lowering &L) {
  RankedTensorType rt = resultType(o);
  return L.elementwise(
      rt.getShape(), rt.getElementType(), o->getOperands(),
      [](OpBuilder &b, Location l, ValueRange a) {
        return arith::SelectOp::create(b, l, a[0], a[1], a[2]).getResult();
      });
}

template <typename OpTy> FailureOr<Value> lowerMaskedFill(OpTy o, Lowering &L) {
  RankedTensorType rt = resultType(o);
  Type elt = rt.getElementType();
  double v = o.getValue().convertToDouble();
  return L.elementwise(
      rt.getShape(), elt, {o->getOperand(0), o->getOperand(1)},
      [&](OpBuilder &b, Location l, ValueRange a) {
        Value c = arith::ConstantOp::create(b, l, elt, b.getFloatAttr(elt, v));
        return arith::SelectOp::create(b, l, a[1], c, a[0]).getResult();
      });
}

FailureOr<Value> lowerCast(CastOp o, Lowering &L) {
  RankedTensorType rt = resultType(o);
  Type to = rt.getElementType();
  return L.elementwise(rt.getShape(), to, {o.getInput()},
                       [&](OpBuilder &b, Location, ValueRange a) {
                         return L.convert(b, a[0], to);
                       });
}

//===----------------------------------------------------------------------===//
// Dropout
//===----------------------------------------------------------------------===//

/// The function argument that carries the step's random seed.
Value findSeed(Operation *op) {
  auto fn = op->getParentOfType<func::FuncOp>();
  if (!fn)
    return {};
  for (BlockArgument a : fn.getArguments())
    if (auto role =
            fn.getArgAttrOfType<RoleAttr>(a.getArgNumber(), kRoleAttrName);
        role && role.getValue() == Role::seed)
      return a;
  return {};
}

/// splitmix64's finaliser on i64 values: graft_rng_mix64 of
/// lib/Runtime/c/graft_rng.h as IR (JITTest's dropout models check that
/// the masks equal the evaluator's, which calls graft_rng.h).
Value mix64(OpBuilder &b, Location l, Value z) {
  auto c = [&](uint64_t v) -> Value {
    return arith::ConstantOp::create(b, l, b.getI64Type(),
                                     b.getI64IntegerAttr((int64_t)v));
  };
  auto xorShift = [&](Value v, uint64_t s) -> Value {
    return arith::XOrIOp::create(b, l, v,
                                 arith::ShRUIOp::create(b, l, v, c(s)));
  };
  z = arith::AddIOp::create(b, l, z, c(0x9e3779b97f4a7c15ULL));
  z = arith::MulIOp::create(b, l, xorShift(z, 30), c(0xbf58476d1ce4e5b9ULL));
  z = arith::MulIOp::create(b, l, xorShift(z, 27), c(0x94d049bb133111ebULL));
  return xorShift(z, 31);
}

FailureOr<Value> lowerDropout(DropoutOp op, Lowering &L) {
  double p = op.getP().convertToDouble();
  RankedTensorType t = op.getType();
  if (p == 0)
    return op.getInput();
  if (p == 1)
    return L.filled(t.getShape(), t.getElementType(), 0.0);
  Value seed = findSeed(op);
  assert(seed && "checkDropout holds");
  Value seedScalar = tensor::ExtractOp::create(L.b, L.loc, seed, ValueRange{});
  // Keep an element when its uniform draw is >= p:
  // (bits >> 11) >= ceil(p 2^53).
  uint64_t threshold = (uint64_t)std::ceil(p * 9007199254740992.0);
  double scale = 1.0 / (1.0 - p);
  ArrayRef<int64_t> shape = t.getShape();
  return L.floatElementwise(
      t, {op.getInput()}, [&](OpBuilder &bb, Location l, ValueRange a) {
        // Row-major linear index of the element.
        Value linear = arith::ConstantIndexOp::create(bb, l, 0);
        for (size_t d = 0; d < shape.size(); ++d) {
          Value i = linalg::IndexOp::create(bb, l, d);
          linear = arith::AddIOp::create(
              bb, l,
              arith::MulIOp::create(
                  bb, l, linear,
                  arith::ConstantIndexOp::create(bb, l, shape[d])),
              i);
        }
        Value idx = arith::IndexCastOp::create(bb, l, bb.getI64Type(), linear);
        Value stream = arith::ConstantOp::create(
            bb, l, bb.getI64Type(), bb.getI64IntegerAttr(op.getStream()));
        // mix64(mix64(mix64(seed) ^ stream) ^ index), as the evaluator draws
        // it.
        Value s1 =
            arith::XOrIOp::create(bb, l, mix64(bb, l, seedScalar), stream);
        Value s2 = arith::XOrIOp::create(bb, l, mix64(bb, l, s1), idx);
        Value bits = arith::ShRUIOp::create(
            bb, l, mix64(bb, l, s2),
            arith::ConstantOp::create(bb, l, bb.getI64Type(),
                                      bb.getI64IntegerAttr(11)));
        Value keep = arith::CmpIOp::create(
            bb, l, arith::CmpIPredicate::uge, bits,
            arith::ConstantOp::create(
                bb, l, bb.getI64Type(),
                bb.getI64IntegerAttr((int64_t)threshold)));
        Type ft = a[0].getType();
        Value scaled = arith::MulFOp::create(
            bb, l, a[0],
            arith::ConstantOp::create(bb, l, ft, bb.getFloatAttr(ft, scale)));
        return arith::SelectOp::create(bb, l, keep, scaled,
                                       arith::ConstantOp::create(
                                           bb, l, ft, bb.getFloatAttr(ft, 0.0)))
            .getResult();
      });
}

//===----------------------------------------------------------------------===//
// Constants, identities and hook calls
//===----------------------------------------------------------------------===//

/// Splat constants with more elements than this lower to a linalg.fill.
constexpr int64_t kMaxSplatConstant = 4096;

FailureOr<Value> lowerConstant(ConstantOp c, Lowering &L) {
  // A large splat fills an empty tensor: a dense constant would be
  // materialised element by element at compile time (a 2^31-element
  // splat is an 8 GiB global).
  auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
  auto t = dyn_cast<RankedTensorType>(c.getType());
  if (dense && dense.isSplat() && t && t.hasStaticShape() &&
      t.getNumElements() > kMaxSplatConstant) {
    Value v = arith::ConstantOp::create(
        L.b, L.loc, cast<TypedAttr>(dense.getSplatValue<Attribute>()));
    return linalg::FillOp::create(
               L.b, L.loc, ValueRange{v},
               ValueRange{L.empty(t.getShape(), t.getElementType())})
        .getResult(0);
  }
  return arith::ConstantOp::create(L.b, L.loc, cast<TypedAttr>(c.getValue()))
      .getResult();
}

/// Ops that only matter to autograd: their operand flows on.
template <typename OpTy> FailureOr<Value> lowerIdentity(OpTy o, Lowering &) {
  return o->getOperand(0);
}

/// The C runtime's hook dispatcher, `graft_run_hook(name, data)`.
func::FuncOp hookDispatcher(HookCallOp o) {
  auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
      o, StringAttr::get(o.getContext(), "graft_run_hook"));
  auto ptr = LLVM::LLVMPointerType::get(o.getContext());
  if (!callee || callee.getFunctionType() !=
                     FunctionType::get(o.getContext(), {ptr, ptr}, {}))
    return {};
  return callee;
}

/// A hook point: the C runtime's `graft_run_hook(name, data)` (declared by
/// graft-hook-points) runs the hooks registered for `name` on a private
/// copy of the gradient, in place, and what they leave there flows on:
///
///   %copy = bufferization.alloc_tensor() copy(%g)
///   %buf = bufferization.to_buffer %copy
///   func.call @graft_run_hook(<"name\0">, <%buf's aligned pointer>)
///   %r = bufferization.to_tensor %buf restrict writable
///
/// The copy is the hook's own buffer (the gradient's may be shared or
/// read later); `restrict writable` lets the ops that read %r bufferize on
/// it. The name is a constant tensor of bytes (a memref.global once
/// bufferized); both pointers pass as `!llvm.ptr`.
FailureOr<Value> lowerHookCall(HookCallOp o, Lowering &L) {
  func::FuncOp callee = hookDispatcher(o);
  assert(callee && "checkHookCall holds");
  (void)callee;
  OpBuilder &b = L.b;
  Location loc = L.loc;
  auto ptr = LLVM::LLVMPointerType::get(b.getContext());
  auto type = cast<RankedTensorType>(o.getType());
  auto copy = bufferization::AllocTensorOp::create(b, loc, type, ValueRange{},
                                                   /*copy=*/o.getGrad());
  auto memType = MemRefType::get(type.getShape(), type.getElementType());
  Value buf = bufferization::ToBufferOp::create(b, loc, memType, copy);

  SmallVector<int8_t> bytes(o.getName().begin(), o.getName().end());
  bytes.push_back(0);
  auto nameType = RankedTensorType::get({(int64_t)bytes.size()}, b.getI8Type());
  Value nameTensor = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(nameType, ArrayRef<int8_t>(bytes)));
  Value nameBuf = bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(nameType.getShape(), b.getI8Type()), nameTensor,
      /*read_only=*/true);
  auto pointer = [&](Value m) -> Value {
    Value i = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, m);
    Value n = arith::IndexCastOp::create(b, loc, b.getI64Type(), i);
    return LLVM::IntToPtrOp::create(b, loc, ptr, n);
  };
  func::CallOp::create(b, loc, callee,
                       ValueRange{pointer(nameBuf), pointer(buf)});
  auto result = bufferization::ToTensorOp::create(b, loc, type, buf);
  result.setRestrict(true);
  result.setWritable(true);
  return result.getResult();
}

/// no_grad and inference regions only matter to autograd: their bodies
/// are inlined.
template <typename OpTy>
class InlineGradModeRegion final : public OpConversionPattern<OpTy> {
public:
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Block &body = op->getRegion(0).front();
    auto yield = cast<YieldOp>(body.getTerminator());
    SmallVector<Value> values(yield.getValues());
    rewriter.eraseOp(yield);
    rewriter.inlineBlockBefore(&body, op);
    rewriter.replaceOp(op, values);
    return success();
  }
};

} // namespace

LogicalResult graft::lowering::checkDropout(DropoutOp op) {
  double p = op.getP().convertToDouble();
  if (p == 0 || p == 1 || findSeed(op))
    return success();
  return op.emitError("dropout outside a train-mode function has no seed");
}

LogicalResult graft::lowering::checkHookCall(HookCallOp op) {
  if (hookDispatcher(op))
    return success();
  return op.emitError("hook point '")
         << op.getName()
         << "' needs func.func private @graft_run_hook(!llvm.ptr, "
            "!llvm.ptr) in the module (run graft-hook-points first)";
}

void graft::lowering::populateElementwisePatterns(
    RewritePatternSet &patterns, const ConvertGraftToLinalgOptions &options) {
  forEachUnaryOp([&](auto *tag) {
    using Op = std::remove_pointer_t<decltype(tag)>;
    addLowering<Op>(patterns, options, lowerUnary<Op>);
  });
  addLowering<GeluOp>(patterns, options, lowerGelu);
  addLowering<ClampOp>(patterns, options, lowerClamp<ClampOp>);
  addLowering<ClampInPlaceOp>(patterns, options, lowerClamp<ClampInPlaceOp>);
  addLowering<AddOp>(patterns, options, lowerBinary<AddOp>);
  addLowering<SubOp>(patterns, options, lowerBinary<SubOp>);
  addLowering<MulOp>(patterns, options, lowerBinary<MulOp>);
  addLowering<DivOp>(patterns, options, lowerBinary<DivOp>);
  addLowering<PowOp>(patterns, options, lowerBinary<PowOp>);
  addLowering<MaximumOp>(patterns, options, lowerBinary<MaximumOp>);
  addLowering<MinimumOp>(patterns, options, lowerBinary<MinimumOp>);
  addLowering<AddInPlaceOp>(patterns, options, lowerBinary<AddInPlaceOp>);
  addLowering<SubInPlaceOp>(patterns, options, lowerBinary<SubInPlaceOp>);
  addLowering<MulInPlaceOp>(patterns, options, lowerBinary<MulInPlaceOp>);
  addLowering<DivInPlaceOp>(patterns, options, lowerBinary<DivInPlaceOp>);
  addLowering<CompareOp>(patterns, options, lowerCompare);
  addLowering<WhereOp>(patterns, options, lowerWhere);
  addLowering<MaskedFillOp>(patterns, options, lowerMaskedFill<MaskedFillOp>);
  addLowering<MaskedFillInPlaceOp>(patterns, options,
                                   lowerMaskedFill<MaskedFillInPlaceOp>);
  addLowering<CastOp>(patterns, options, lowerCast);
  addLowering<DropoutOp>(patterns, options, lowerDropout);
  addLowering<ConstantOp>(patterns, options, lowerConstant);
  addLowering<DetachOp>(patterns, options, lowerIdentity<DetachOp>);
  addLowering<CloneOp>(patterns, options, lowerIdentity<CloneOp>);
  addLowering<GradHookOp>(patterns, options, lowerIdentity<GradHookOp>);
  addLowering<HookCallOp>(patterns, options, lowerHookCall);
  patterns
      .add<InlineGradModeRegion<NoGradOp>, InlineGradModeRegion<InferenceOp>>(
          patterns.getContext());
}
