//===- GraftOps.cpp - Verifiers, shape inference and folders --------------===//

#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Dialect/Graft/IR/LRLambda.h"
#include "graft/Dialect/Graft/IR/ShapeFunctions.h"
#include "graft/Dialect/Graft/IR/TrainOptions.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/ADT/bit.h"

using namespace mlir;
using namespace graft;
namespace sh = graft::shape;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace {
RankedTensorType tensorOf(Value v) {
  return v ? dyn_cast<RankedTensorType>(v.getType()) : RankedTensorType();
}
std::optional<sh::ShapeRef> optShape(Value v) {
  if (auto t = tensorOf(v))
    return t.getShape();
  return std::nullopt;
}

/// Reports a shape-rule error at `loc` (when given) as coming from `opName`.
LogicalResult shapeError(std::optional<Location> loc, StringRef opName,
                         llvm::Error err) {
  std::string msg = llvm::toString(std::move(err));
  return emitOptionalError(loc, "'", opName, "' op ", msg);
}

/// Pushes a tensor of `shape` and `elt`, or reports the rule's error.
LogicalResult pushResult(std::optional<Location> loc, StringRef opName,
                         llvm::Expected<sh::Shape> shape, Type elt,
                         SmallVectorImpl<Type> &types) {
  if (!shape)
    return shapeError(loc, opName, shape.takeError());
  types.push_back(RankedTensorType::get(*shape, elt));
  return success();
}

/// Fails unless every value is a ranked tensor (builders may be handed
/// anything; the ODS constraints report the details during verification).
LogicalResult allTensors(std::optional<Location> loc, StringRef opName,
                         ValueRange values) {
  for (Value v : values)
    if (!tensorOf(v))
      return emitOptionalError(loc, "'", opName,
                               "' op expects ranked tensor operands");
  return success();
}

LogicalResult sameElementType(std::optional<Location> loc, StringRef opName,
                              Value a, Value b) {
  Type ea = tensorOf(a).getElementType(), eb = tensorOf(b).getElementType();
  if (ea != eb)
    return emitOptionalError(loc, "'", opName,
                             "' op expects operands of the same element type, "
                             "got ",
                             ea, " and ", eb,
                             " (Graft does not promote types: insert a cast)");
  return success();
}

/// Two operands of one element type, broadcast; the result has
/// `resultElt`, or the operands' element type when null.
template <typename OpTy>
LogicalResult inferBinary(std::optional<Location> loc,
                          typename OpTy::Adaptor adaptor,
                          SmallVectorImpl<Type> &types,
                          Type resultElt = nullptr) {
  StringRef name = OpTy::getOperationName();
  Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
  if (failed(allTensors(loc, name, {lhs, rhs})) ||
      failed(sameElementType(loc, name, lhs, rhs)))
    return failure();
  return pushResult(loc, name,
                    sh::broadcast(tensorOf(lhs).getShape(),
                                  tensorOf(rhs).getShape()),
                    resultElt ? resultElt : tensorOf(lhs).getElementType(),
                    types);
}

/// state_dict keys: dot-separated segments of letters, digits, '_' and '-'
/// (a submodule that nn.Module.add_module named so, RegNet's `block1-0`),
/// the first one not starting with a digit (`blocks.0.attn.qkv.weight`).
bool isValidStateDictName(StringRef name) {
  if (name.empty())
    return false;
  SmallVector<StringRef> parts;
  name.split(parts, '.');
  for (auto [i, part] : llvm::enumerate(parts)) {
    if (part.empty())
      return false;
    if (i == 0 && llvm::isDigit(part.front()))
      return false;
    if (!llvm::all_of(part, [](char c) {
          return llvm::isAlnum(c) || c == '_' || c == '-';
        }))
      return false;
  }
  return true;
}

LogicalResult verifyDeclName(Operation *op, StringRef name) {
  if (!isValidStateDictName(name))
    return op->emitOpError("name '")
           << name
           << "' is not a state_dict key: expected dot-separated names of "
              "letters, digits, '_' and '-' such as "
              "'encoder.layers.0.fc1.weight'";
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

void ModelOp::build(OpBuilder &builder, OperationState &state, StringRef name) {
  state.addAttribute(SymbolTable::getSymbolAttrName(),
                     builder.getStringAttr(name));
  state.addRegion()->emplaceBlock();
}

Value ModelOp::getLoss() {
  for (auto loss : getBody().getOps<LossOp>())
    return loss.getValue();
  return {};
}

LogicalResult graft::verifyTensorSizes(Operation *op) {
  for (Type t : op->getResultTypes()) {
    auto tensor = dyn_cast<RankedTensorType>(t);
    if (!tensor)
      continue;
    if (llvm::Error e = shape::checkSize(tensor.getShape()))
      return op->emitOpError(llvm::toString(std::move(e)));
  }
  return success();
}

LogicalResult ModelOp::verifyRegions() {
  llvm::StringMap<Operation *> declared;
  llvm::StringMap<Operation *> outputs, retained, hooks;
  Operation *loss = nullptr;
  auto checkUnique = [](llvm::StringMap<Operation *> &seen, StringRef name,
                        Operation *op, StringRef what) -> LogicalResult {
    auto [it, inserted] = seen.try_emplace(name, op);
    if (inserted)
      return success();
    InFlightDiagnostic diag = op->emitOpError("redefinition of ")
                              << what << " '" << name << "'";
    diag.attachNote(it->second->getLoc()) << "previous definition is here";
    return diag;
  };
  WalkResult result = getBody().walk([&](Operation *op) {
    LogicalResult ok = success();
    if (auto in = dyn_cast<InputOp>(op))
      ok = checkUnique(declared, in.getName(), op, "name");
    else if (auto p = dyn_cast<ParamOp>(op)) {
      for (StringRef name : p.getStateDictNames())
        if (succeeded(ok))
          ok = checkUnique(declared, name, op, "name");
    } else if (auto b = dyn_cast<BufferOp>(op))
      ok = checkUnique(declared, b.getName(), op, "name");
    else if (auto o = dyn_cast<OutputOp>(op))
      ok = checkUnique(outputs, o.getName(), op, "output");
    else if (auto r = dyn_cast<RetainGradOp>(op))
      ok = checkUnique(retained, r.getName(), op, "retained gradient");
    else if (auto h = dyn_cast<GradHookOp>(op))
      ok = checkUnique(hooks, h.getName(), op, "gradient hook");
    else if (auto rg = dyn_cast<ReadGradOp>(op))
      ok = checkUnique(retained, rg.getName(), op, "retained gradient");
    else if (isa<LossOp>(op)) {
      if (loss) {
        op->emitOpError("a model has at most one loss")
                .attachNote(loss->getLoc())
            << "the first loss is here";
        ok = failure();
      }
      loss = op;
    }
    return failed(ok) ? WalkResult::interrupt() : WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

LogicalResult InputOp::verify() {
  if (failed(verifyDeclName(*this, getName())))
    return failure();
  Type elt = getType().getElementType();
  if (getRequiresGrad() && !isa<FloatType>(elt))
    return emitOpError("only Tensors of floating point dtype can require "
                       "gradients, but input '")
           << getName() << "' has element type " << elt;
  return success();
}

/// torch.nn.init's rule: fan-in/fan-out need at least 2 dimensions.
static LogicalResult verifyInit(Operation *op, InitAttr init,
                                RankedTensorType type) {
  InitKind k = init.getKind();
  bool needsFans = k == InitKind::kaiming_uniform ||
                   k == InitKind::kaiming_normal ||
                   k == InitKind::xavier_uniform || k == InitKind::xavier_normal;
  if (needsFans && type.getRank() < 2)
    return op->emitOpError("Fan in and fan out can not be computed for tensor "
                           "with fewer than 2 dimensions (initialiser '")
           << stringifyInitKind(k) << "' on " << type << ")";
  bool randomOrScaled = k != InitKind::zeros && k != InitKind::ones &&
                        k != InitKind::constant;
  if (randomOrScaled && !isa<FloatType>(type.getElementType()))
    return op->emitOpError("initialiser '")
           << stringifyInitKind(k)
           << "' needs a floating-point tensor, got " << type;
  return success();
}

SmallVector<StringRef> ParamOp::getStateDictNames() {
  SmallVector<StringRef> names = {getName()};
  if (std::optional<ArrayAttr> aliases = getAliases())
    for (Attribute a : *aliases)
      names.push_back(cast<StringAttr>(a).getValue());
  return names;
}

LogicalResult ParamOp::verify() {
  for (StringRef name : getStateDictNames())
    if (failed(verifyDeclName(*this, name)))
      return failure();
  return verifyInit(*this, getInit(), getType());
}

LogicalResult BufferOp::verify() {
  if (failed(verifyDeclName(*this, getName())))
    return failure();
  return verifyInit(*this, getInit(), getType());
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

template <typename OpTy>
static LogicalResult verifyGradMode(OpTy op) {
  Block &body = op.getBody().front();
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return op.emitOpError("region must end with graft.yield");
  if (yield.getValues().getTypes() != op.getResultTypes())
    return op.emitOpError("yields ")
           << yield.getValues().getTypes().size()
           << " value(s) whose types do not match its results: yielded ("
           << yield.getValues().getTypes() << "), results ("
           << op.getResultTypes() << ")";
  return success();
}
LogicalResult NoGradOp::verify() { return verifyGradMode(*this); }
LogicalResult InferenceOp::verify() { return verifyGradMode(*this); }

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

#define GRAFT_BINARY_INFER(OP)                                                 \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> l, \
                                     Adaptor a, SmallVectorImpl<Type> &t) {    \
    return inferBinary<OP>(l, a, t);                                           \
  }
GRAFT_BINARY_INFER(AddOp)
GRAFT_BINARY_INFER(SubOp)
GRAFT_BINARY_INFER(MulOp)
GRAFT_BINARY_INFER(DivOp)
GRAFT_BINARY_INFER(PowOp)
GRAFT_BINARY_INFER(MaximumOp)
GRAFT_BINARY_INFER(MinimumOp)
#undef GRAFT_BINARY_INFER

OpFoldResult NegOp::fold(FoldAdaptor) {
  if (auto inner = getInput().getDefiningOp<NegOp>())
    return inner.getInput();
  return {};
}

LogicalResult WhereOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor a, SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  if (failed(allTensors(loc, name, {a.getCondition(), a.getLhs(), a.getRhs()})) ||
      failed(sameElementType(loc, name, a.getLhs(), a.getRhs())))
    return failure();
  auto ab = sh::broadcast(tensorOf(a.getLhs()).getShape(),
                          tensorOf(a.getRhs()).getShape());
  if (!ab)
    return shapeError(loc, name, ab.takeError());
  return pushResult(loc, name,
                    sh::broadcast(tensorOf(a.getCondition()).getShape(), *ab),
                    tensorOf(a.getLhs()).getElementType(), t);
}

LogicalResult MaskedFillOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor a,
                                             SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  if (failed(allTensors(loc, name, {a.getInput(), a.getMask()})))
    return failure();
  auto input = tensorOf(a.getInput());
  if (llvm::Error e = sh::broadcastsTo(tensorOf(a.getMask()).getShape(),
                                       input.getShape()))
    return shapeError(loc, name, std::move(e));
  t.push_back(input);
  return success();
}

LogicalResult CompareOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor a, SmallVectorImpl<Type> &t) {
  return inferBinary<CompareOp>(loc, a, t, IntegerType::get(ctx, 1));
}

LogicalResult CastOp::verify() {
  if (getInput().getType().getShape() != getType().getShape())
    return emitOpError("changes the shape from ")
           << getInput().getType() << " to " << getType()
           << "; expected only the element type to change";
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// In-place variants
//===----------------------------------------------------------------------===//

/// PyTorch: the other operand broadcasts to self's shape, never beyond it.
static LogicalResult verifyInPlace(Operation *op, RankedTensorType self,
                                   RankedTensorType other, bool checkElt) {
  if (checkElt && self.getElementType() != other.getElementType())
    return op->emitOpError("expects operands of the same element type, got ")
           << self.getElementType() << " and " << other.getElementType();
  auto b = sh::broadcast(self.getShape(), other.getShape());
  if (!b) {
    return op->emitOpError(llvm::toString(b.takeError()));
  }
  if (*b != self.getShape())
    return op->emitOpError("output with shape ")
           << sh::str(self.getShape())
           << " doesn't match the broadcast shape " << sh::str(*b);
  return success();
}

LogicalResult AddInPlaceOp::verify() {
  return verifyInPlace(*this, getSelf().getType(), getOther().getType(), true);
}
LogicalResult SubInPlaceOp::verify() {
  return verifyInPlace(*this, getSelf().getType(), getOther().getType(), true);
}
LogicalResult MulInPlaceOp::verify() {
  return verifyInPlace(*this, getSelf().getType(), getOther().getType(), true);
}
LogicalResult DivInPlaceOp::verify() {
  return verifyInPlace(*this, getSelf().getType(), getOther().getType(), true);
}
LogicalResult MaskedFillInPlaceOp::verify() {
  return verifyInPlace(*this, getSelf().getType(), getMask().getType(), false);
}

/// A clamp's bounds for its kind: clamp needs one, clamp_min its min,
/// clamp_max its max, hardtanh both.
template <typename OpTy> static LogicalResult verifyClamp(OpTy op) {
  bool lo = op.getMin().has_value(), hi = op.getMax().has_value();
  switch (op.getKind()) {
  case ClampKind::clamp:
    if (!lo && !hi)
      return op.emitOpError("needs a min or a max bound");
    return success();
  case ClampKind::clamp_min:
    if (!lo || hi)
      return op.emitOpError("of kind clamp_min takes a min bound only");
    return success();
  case ClampKind::clamp_max:
    if (lo || !hi)
      return op.emitOpError("of kind clamp_max takes a max bound only");
    return success();
  case ClampKind::hardtanh:
    if (!lo || !hi)
      return op.emitOpError("of kind hardtanh needs a min and a max bound");
    return success();
  }
  llvm_unreachable("unknown clamp kind");
}
LogicalResult ClampOp::verify() { return verifyClamp(*this); }
LogicalResult ClampInPlaceOp::verify() { return verifyClamp(*this); }

//===----------------------------------------------------------------------===//
// Linear algebra and reductions
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor a, SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  if (failed(allTensors(loc, name, {a.getLhs(), a.getRhs()})) ||
      failed(sameElementType(loc, name, a.getLhs(), a.getRhs())))
    return failure();
  return pushResult(loc, name,
                    sh::matmul(tensorOf(a.getLhs()).getShape(),
                               tensorOf(a.getRhs()).getShape()),
                    tensorOf(a.getLhs()).getElementType(), t);
}

//===----------------------------------------------------------------------===//
// grad_fn names that depend on the operands
//
// PyTorch names the node its eager call records; several language
// constructs lower to one graft op, so the name is read from the operands
// and shapes (docs/Autograd.md, "grad_fn names").
//===----------------------------------------------------------------------===//

namespace {
/// A Python number mixed with a tensor: the front-end makes it a 0-d
/// graft.constant.
bool isPythonNumber(Value v) {
  auto c = v.getDefiningOp<ConstantOp>();
  return c && tensorOf(v) && tensorOf(v).getRank() == 0;
}

using Strides = SmallVector<int64_t>;

Strides contiguousStrides(ArrayRef<int64_t> shape) {
  Strides s(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * std::max<int64_t>(shape[i + 1], 1);
  return s;
}

bool isContiguous(ArrayRef<int64_t> shape, ArrayRef<int64_t> strides) {
  int64_t expected = 1;
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    if (shape[i] == 1)
      continue;
    if (strides[i] != expected)
      return false;
    expected *= shape[i];
  }
  return true;
}

/// ATen's computeStride: the strides of `newShape` as a view of a tensor
/// with `oldShape` and `oldStrides`, or nothing when reshape must copy.
std::optional<Strides> viewStrides(ArrayRef<int64_t> oldShape,
                                   ArrayRef<int64_t> oldStrides,
                                   ArrayRef<int64_t> newShape) {
  if (oldShape.empty())
    return Strides(newShape.size(), 1);
  int64_t numel = 1;
  for (int64_t d : oldShape)
    numel *= d;
  if (numel == 0)
    return contiguousStrides(newShape);
  Strides newStrides(newShape.size(), 0);
  int64_t viewD = static_cast<int64_t>(newShape.size()) - 1;
  int64_t chunkBase = oldStrides.back(), tensorNumel = 1, viewNumel = 1;
  for (int64_t d = static_cast<int64_t>(oldShape.size()) - 1; d >= 0; --d) {
    tensorNumel *= oldShape[d];
    if (d == 0 || (oldShape[d - 1] != 1 &&
                   oldStrides[d - 1] != tensorNumel * chunkBase)) {
      while (viewD >= 0 &&
             (viewNumel < tensorNumel || newShape[viewD] == 1)) {
        newStrides[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD];
        --viewD;
      }
      if (viewNumel != tensorNumel)
        return std::nullopt;
      if (d > 0) {
        chunkBase = oldStrides[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD != -1)
    return std::nullopt;
  return newStrides;
}

/// The strides `v` has in PyTorch eager mode: the ops that are views there
/// (slice, transpose, permute, expand, reshape where it can view, detach)
/// keep their input's storage; everything else makes a contiguous tensor.
Strides eagerStrides(Value v, unsigned depth = 0) {
  auto type = tensorOf(v);
  ArrayRef<int64_t> shape = type.getShape();
  Operation *def = v.getDefiningOp();
  if (!def || depth > 64)
    return contiguousStrides(shape);
  auto inputStrides = [&](Value in) { return eagerStrides(in, depth + 1); };
  if (auto s = dyn_cast<SliceOp>(def)) {
    Strides st = inputStrides(s.getInput());
    st[s.getDim()] *= s.getStep();
    return st;
  }
  if (auto t = dyn_cast<TransposeOp>(def)) {
    Strides st = inputStrides(t.getInput());
    std::swap(st[t.getDim0()], st[t.getDim1()]);
    return st;
  }
  if (auto p = dyn_cast<PermuteOp>(def)) {
    Strides in = inputStrides(p.getInput()), st;
    for (int64_t d : p.getDims())
      st.push_back(in[d]);
    return st;
  }
  if (auto b = dyn_cast<BroadcastToOp>(def)) {
    ArrayRef<int64_t> inShape = b.getInput().getType().getShape();
    Strides in = inputStrides(b.getInput()), st(shape.size(), 0);
    size_t lead = shape.size() - inShape.size();
    for (size_t i = 0; i < inShape.size(); ++i)
      st[lead + i] = inShape[i] == shape[lead + i] ? in[i] : 0;
    return st;
  }
  if (auto r = dyn_cast<ReshapeOp>(def)) {
    if (auto st = viewStrides(r.getInput().getType().getShape(),
                              inputStrides(r.getInput()), shape))
      return *st;
    return contiguousStrides(shape);
  }
  if (isa<DetachOp, GradHookOp>(def))
    return inputStrides(def->getOperand(0));
  return contiguousStrides(shape);
}

bool isEagerContiguous(Value v) {
  return isContiguous(tensorOf(v).getShape(), eagerStrides(v));
}

/// `small` is `big` with some size-1 dimensions removed: the removed
/// dimensions of `big`, matched greedily from the front.
std::optional<SmallVector<int64_t>> removedOnes(ArrayRef<int64_t> big,
                                                ArrayRef<int64_t> small) {
  if (small.size() >= big.size())
    return std::nullopt;
  SmallVector<int64_t> removed;
  size_t j = 0;
  for (size_t i = 0; i < big.size(); ++i) {
    if (j < small.size() && big[i] == small[j]) {
      ++j;
      continue;
    }
    if (big[i] != 1)
      return std::nullopt;
    removed.push_back(static_cast<int64_t>(i));
  }
  if (j != small.size())
    return std::nullopt;
  return removed;
}

/// `x[i]`, `x[:, i]`, `x[i, a:b]`: the front-end takes a slice of one along
/// each integer-indexed dimension, then one reshape drops those dimensions.
/// PyTorch applies the indices left to right, so the last one names the
/// node: SelectBackward0 for an integer, SliceBackward0 for a slice.
std::optional<StringRef> indexingName(ReshapeOp op) {
  ArrayRef<int64_t> in = op.getInput().getType().getShape();
  ArrayRef<int64_t> out = op.getType().getShape();
  auto last = op.getInput().getDefiningOp<SliceOp>();
  if (!last || out.size() >= in.size())
    return std::nullopt;
  // Dimensions that a slice of the chain cut to one element.
  SmallVector<int64_t> ones;
  for (auto s = last; s; s = s.getInput().getDefiningOp<SliceOp>())
    if (in[s.getDim()] == 1 && !llvm::is_contained(ones, s.getDim()))
      ones.push_back(s.getDim());
  size_t drop = in.size() - out.size();
  if (ones.size() > 16 || ones.size() < drop)
    return std::nullopt;
  bool any = false, withLast = false;
  for (unsigned mask = 0; mask < (1u << ones.size()); ++mask) {
    if (static_cast<size_t>(llvm::popcount(mask)) != drop)
      continue;
    SmallVector<int64_t> kept;
    bool hasLast = false;
    for (int64_t d = 0; d < static_cast<int64_t>(in.size()); ++d) {
      auto it = llvm::find(ones, d);
      if (it != ones.end() && (mask >> (it - ones.begin())) & 1) {
        hasLast |= d == static_cast<int64_t>(last.getDim());
        continue;
      }
      kept.push_back(in[d]);
    }
    if (ArrayRef<int64_t>(kept) != out)
      continue;
    any = true;
    withLast |= hasLast;
  }
  if (!any)
    return std::nullopt;
  return withLast ? StringRef("SelectBackward0") : StringRef("SliceBackward0");
}
} // namespace

StringRef SubOp::getGradFnName() {
  // `1 - x` is Tensor.__rsub__, i.e. torch.rsub(x, 1).
  return isPythonNumber(getLhs()) && !isPythonNumber(getRhs())
             ? "RsubBackward1"
             : "SubBackward0";
}

StringRef DivOp::getGradFnName() {
  // `1 / x` is Tensor.__rdiv__: x.reciprocal() * 1.
  return isPythonNumber(getLhs()) && !isPythonNumber(getRhs())
             ? "MulBackward0"
             : "DivBackward0";
}

StringRef PowOp::getGradFnName() {
  // pow.Tensor_Scalar for `x ** 2`, pow.Tensor_Tensor otherwise (`2 ** x`
  // is torch.tensor(2) ** x in 1.13's Tensor.__rpow__).
  return isPythonNumber(getRhs()) && !isPythonNumber(getLhs())
             ? "PowBackward0"
             : "PowBackward1";
}

/// PyTorch's grad_fn of a clamp, also in place (clamp_ saves the original
/// self and is ClampBackward1 as well).
static StringRef clampGradFnName(ClampKind kind) {
  switch (kind) {
  case ClampKind::clamp:
    return "ClampBackward1";
  case ClampKind::clamp_min:
    return "ClampMinBackward0";
  case ClampKind::clamp_max:
    return "ClampMaxBackward0";
  case ClampKind::hardtanh:
    return "HardtanhBackward0";
  }
  llvm_unreachable("unknown clamp kind");
}
StringRef ClampOp::getGradFnName() { return clampGradFnName(getKind()); }
StringRef ClampInPlaceOp::getGradFnName() { return clampGradFnName(getKind()); }

StringRef MatmulOp::getGradFnName() {
  int64_t l = getLhs().getType().getRank(), r = getRhs().getType().getRank();
  if (l == 1 && r == 1)
    return "DotBackward0";
  if (l == 2 && r == 1)
    return "MvBackward0";
  if (l == 2 && r == 2)
    return "MmBackward0";
  // unsqueeze(0).mm(b).squeeze_(0) (PyTorch 1.13's name; see docs).
  if (l == 1 && r == 2)
    return "SqueezeBackward3";
  // Batched and broadcast products are folded into mm/bmm behind
  // _unsafe_view, as at::matmul does (3-D @ 3-D too: only torch.bmm itself
  // records BmmBackward0).
  return "UnsafeViewBackward0";
}

StringRef LinearOp::getGradFnName() {
  int64_t rank = getInput().getType().getRank();
  if (getBias()) {
    // at::linear: addmm for 2-D input; a contiguous input of another rank is
    // flattened to 2-D, addmm'd and viewed back (_flatten_nd_linear); else
    // matmul followed by an in-place add of the bias.
    if (rank == 2)
      return "AddmmBackward0";
    return isEagerContiguous(getInput()) ? "ViewBackward0" : "AddBackward0";
  }
  // matmul(input, weight.t()).
  if (rank == 2)
    return "MmBackward0";
  if (rank == 1)
    return "SqueezeBackward3";
  return "UnsafeViewBackward0";
}

StringRef ReshapeOp::getGradFnName() {
  ArrayRef<int64_t> in = getInput().getType().getShape();
  ArrayRef<int64_t> out = getType().getShape();
  if (auto name = indexingName(*this))
    return *name;
  // x.unsqueeze(d): one size-1 dimension inserted.
  if (out.size() == in.size() + 1 && removedOnes(out, in))
    return "UnsqueezeBackward0";
  // x.squeeze(d) (one size-1 dimension removed) or x.squeeze() (all of
  // them, when there are several).
  if (auto removed = removedOnes(in, out)) {
    if (removed->size() == 1)
      return "SqueezeBackward1";
    if (!llvm::is_contained(out, 1))
      return "SqueezeBackward0";
  }
  // reshape/view/flatten: a view when the strides allow one, else a copy.
  if (viewStrides(in, eagerStrides(getInput()), out))
    return "ViewBackward0";
  return "UnsafeViewBackward0";
}

StringRef TransposeOp::getGradFnName() {
  // `x.T` is a graft.permute (PermuteBackward0), as PyTorch's numpy_T.
  return "TransposeBackward0";
}

StringRef CrossEntropyOp::getGradFnName() {
  // With label smoothing the loss is (1 - ls) * nll + ls / C * smooth.
  return getLabelSmoothing().convertToDouble() > 0.0 ? "AddBackward0"
                                                     : "NllLossBackward0";
}

LogicalResult LinearOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor a, SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  SmallVector<Value> operands = {a.getInput(), a.getWeight()};
  if (a.getBias())
    operands.push_back(a.getBias());
  if (failed(allTensors(loc, name, operands)) ||
      failed(sameElementType(loc, name, a.getInput(), a.getWeight())) ||
      (a.getBias() &&
       failed(sameElementType(loc, name, a.getInput(), a.getBias()))))
    return failure();
  return pushResult(loc, name,
                    sh::linear(tensorOf(a.getInput()).getShape(),
                               tensorOf(a.getWeight()).getShape(),
                               optShape(a.getBias())),
                    tensorOf(a.getInput()).getElementType(), t);
}

template <typename OpTy>
static LogicalResult inferReduce(std::optional<Location> loc,
                                 typename OpTy::Adaptor a,
                                 SmallVectorImpl<Type> &t) {
  StringRef name = OpTy::getOperationName();
  if (failed(allTensors(loc, name, {a.getInput()})))
    return failure();
  auto in = tensorOf(a.getInput());
  return pushResult(loc, name,
                    sh::reduce(in.getShape(), a.getDims(), a.getKeepdim()),
                    in.getElementType(), t);
}
LogicalResult SumOp::inferReturnTypes(MLIRContext *, std::optional<Location> l,
                                      Adaptor a, SmallVectorImpl<Type> &t) {
  return inferReduce<SumOp>(l, a, t);
}
LogicalResult MeanOp::inferReturnTypes(MLIRContext *, std::optional<Location> l,
                                       Adaptor a, SmallVectorImpl<Type> &t) {
  return inferReduce<MeanOp>(l, a, t);
}
LogicalResult MaxOp::inferReturnTypes(MLIRContext *, std::optional<Location> l,
                                      Adaptor a, SmallVectorImpl<Type> &t) {
  return inferReduce<MaxOp>(l, a, t);
}

LogicalResult ArgmaxOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor a, SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  if (failed(allTensors(loc, name, {a.getInput()})))
    return failure();
  int64_t dim = a.getDim();
  return pushResult(loc, name,
                    sh::reduce(tensorOf(a.getInput()).getShape(), {dim},
                               a.getKeepdim()),
                    IntegerType::get(ctx, 64), t);
}

//===----------------------------------------------------------------------===//
// Shape and layout
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  if (getInput().getType().getElementType() != getType().getElementType())
    return emitOpError("changes the element type from ")
           << getInput().getType().getElementType() << " to "
           << getType().getElementType();
  if (llvm::Error e =
          sh::reshape(getInput().getType().getShape(), getType().getShape()))
    return emitOpError(llvm::toString(std::move(e)));
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor a,
                                            SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  if (failed(allTensors(loc, name, {a.getInput()})))
    return failure();
  auto in = tensorOf(a.getInput());
  return pushResult(loc, name,
                    sh::transpose(in.getShape(), a.getDim0(), a.getDim1()),
                    in.getElementType(), t);
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  if (getDim0() == getDim1())
    return getInput();
  if (auto inner = getInput().getDefiningOp<TransposeOp>()) {
    auto same = [](int64_t a, int64_t b, int64_t c, int64_t d) {
      return (a == c && b == d) || (a == d && b == c);
    };
    if (same(getDim0(), getDim1(), inner.getDim0(), inner.getDim1()))
      return inner.getInput();
  }
  return {};
}

LogicalResult PermuteOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor a, SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  if (failed(allTensors(loc, name, {a.getInput()})))
    return failure();
  auto in = tensorOf(a.getInput());
  return pushResult(loc, name, sh::permute(in.getShape(), a.getDims()),
                    in.getElementType(), t);
}

OpFoldResult PermuteOp::fold(FoldAdaptor) {
  for (auto [i, d] : llvm::enumerate(getDims()))
    if ((int64_t)i != d)
      return {};
  return getInput();
}

LogicalResult BroadcastToOp::verify() {
  if (getInput().getType().getElementType() != getType().getElementType())
    return emitOpError("changes the element type from ")
           << getInput().getType().getElementType() << " to "
           << getType().getElementType();
  if (llvm::Error e = sh::broadcastsTo(getInput().getType().getShape(),
                                       getType().getShape()))
    return emitOpError(llvm::toString(std::move(e)));
  return success();
}

OpFoldResult BroadcastToOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc, Adaptor a,
                                        SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  if (failed(allTensors(loc, name, {a.getInput()})))
    return failure();
  auto in = tensorOf(a.getInput());
  return pushResult(loc, name,
                    sh::slice(in.getShape(), a.getDim(), a.getStart(),
                              a.getEnd(), a.getStep()),
                    in.getElementType(), t);
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  if (getStart() == 0 && getStep() == 1 && getInput().getType() == getType())
    return getInput();
  return {};
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor a, SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  if (a.getInputs().empty())
    return emitOptionalError(loc, "'", name, "' op needs at least one tensor");
  if (failed(allTensors(loc, name, a.getInputs())))
    return failure();
  SmallVector<sh::ShapeRef> shapes;
  for (Value v : a.getInputs()) {
    if (failed(sameElementType(loc, name, a.getInputs().front(), v)))
      return failure();
    shapes.push_back(tensorOf(v).getShape());
  }
  return pushResult(loc, name, sh::concat(shapes, a.getDim()),
                    tensorOf(a.getInputs().front()).getElementType(), t);
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1)
    return getInputs().front();
  return {};
}

//===----------------------------------------------------------------------===//
// Neural-network ops
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::verify() {
  if (llvm::Error e = sh::checkDim(getDim(), getType().getRank()))
    return emitOpError(llvm::toString(std::move(e)));
  return success();
}
LogicalResult LogSoftmaxOp::verify() {
  if (llvm::Error e = sh::checkDim(getDim(), getType().getRank()))
    return emitOpError(llvm::toString(std::move(e)));
  return success();
}

LogicalResult Conv2dOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor a, SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  SmallVector<Value> operands = {a.getInput(), a.getWeight()};
  if (a.getBias())
    operands.push_back(a.getBias());
  if (failed(allTensors(loc, name, operands)))
    return failure();
  for (Value v : operands)
    if (failed(sameElementType(loc, name, a.getInput(), v)))
      return failure();
  return pushResult(loc, name,
                    sh::conv2d(tensorOf(a.getInput()).getShape(),
                               tensorOf(a.getWeight()).getShape(),
                               optShape(a.getBias()), a.getStride(),
                               a.getPadding(), a.getDilation(), a.getGroups()),
                    tensorOf(a.getInput()).getElementType(), t);
}

LogicalResult MaxPool2dOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor a,
                                            SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  if (failed(allTensors(loc, name, {a.getInput()})))
    return failure();
  auto in = tensorOf(a.getInput());
  return pushResult(loc, name,
                    sh::pool2d(in.getShape(), a.getKernelSize(), a.getStride(),
                               a.getPadding(), a.getDilation(),
                               a.getCeilMode()),
                    in.getElementType(), t);
}

LogicalResult AvgPool2dOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor a,
                                            SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  if (failed(allTensors(loc, name, {a.getInput()})))
    return failure();
  auto in = tensorOf(a.getInput());
  int64_t ones[] = {1, 1};
  return pushResult(loc, name,
                    sh::pool2d(in.getShape(), a.getKernelSize(), a.getStride(),
                               a.getPadding(), ones, a.getCeilMode()),
                    in.getElementType(), t);
}

/// Attributes hold two values each (the shape rule checks it).
sh::Pool2dWindow graft::poolWindow(Operation *op) {
  auto pair = [](ArrayRef<int64_t> v) { return std::array{v[0], v[1]}; };
  sh::Pool2dWindow w;
  auto common = [&](auto pool) {
    w.kernel = pair(pool.getKernelSize());
    w.stride = pair(pool.getStride());
    w.padding = pair(pool.getPadding());
    w.dilation = {1, 1};
  };
  auto max = [&](auto pool) {
    common(pool);
    w.dilation = pair(pool.getDilation());
  };
  auto avg = [&](auto pool) {
    common(pool);
    w.countIncludePad = pool.getCountIncludePad();
  };
  llvm::TypeSwitch<Operation *>(op)
      .Case<MaxPool2dOp, MaxPool2dBackwardOp>(max)
      .Case<AvgPool2dOp, AvgPool2dBackwardOp>(avg)
      .Default([](Operation *) {
        llvm_unreachable("poolWindow of an op that does not pool");
      });
  return w;
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor a,
                                            SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  SmallVector<Value> operands = {a.getInput()};
  for (Value v : {a.getWeight(), a.getBias()})
    if (v)
      operands.push_back(v);
  if (failed(allTensors(loc, name, operands)))
    return failure();
  for (Value v : operands)
    if (failed(sameElementType(loc, name, a.getInput(), v)))
      return failure();
  if (a.getEps().convertToDouble() <= 0)
    return emitOptionalError(loc, "'", name, "' op eps must be positive");
  auto in = tensorOf(a.getInput());
  if (llvm::Error e =
          sh::layerNorm(in.getShape(), a.getNormalizedShape(),
                        optShape(a.getWeight()), optShape(a.getBias())))
    return shapeError(loc, name, std::move(e));
  t.push_back(in);
  return success();
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor a,
                                            SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  SmallVector<Value> operands = {a.getInput(), a.getRunningMean(),
                                 a.getRunningVar()};
  for (Value v : {a.getWeight(), a.getBias()})
    if (v)
      operands.push_back(v);
  if (failed(allTensors(loc, name, operands)))
    return failure();
  for (Value v : operands)
    if (failed(sameElementType(loc, name, a.getInput(), v)))
      return failure();
  auto in = tensorOf(a.getInput());
  if (llvm::Error e = sh::batchNorm(
          in.getShape(), optShape(a.getWeight()), optShape(a.getBias()),
          tensorOf(a.getRunningMean()).getShape(),
          tensorOf(a.getRunningVar()).getShape()))
    return shapeError(loc, name, std::move(e));
  t.push_back(in);
  return success();
}

LogicalResult BatchNormOp::verify() {
  // In a model the running statistics are its buffers; in the functions of
  // the training program they are arguments.
  bool inModel = (*this)->getParentOfType<ModelOp>() != nullptr;
  for (auto [what, v] : {std::pair{"running_mean", getRunningMean()},
                         {"running_var", getRunningVar()}})
    if (inModel && !v.getDefiningOp<BufferOp>())
      return emitOpError(what) << " must be a graft.buffer: train mode "
                                  "updates it in place";
  double m = getMomentum().convertToDouble(), eps = getEps().convertToDouble();
  if (m < 0 || m > 1)
    return emitOpError("momentum must be in [0, 1], got ") << m;
  if (eps <= 0)
    return emitOpError("eps must be positive, got ") << eps;
  return success();
}

LogicalResult DropoutOp::verify() {
  double p = getP().convertToDouble();
  if (!(p >= 0 && p <= 1))
    return emitOpError("dropout probability has to be between 0 and 1, but "
                       "got ")
           << p;
  return success();
}

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor a,
                                            SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  if (failed(allTensors(loc, name, {a.getWeight(), a.getIndices()})))
    return failure();
  auto w = tensorOf(a.getWeight());
  auto shape = sh::embedding(w.getShape(), tensorOf(a.getIndices()).getShape());
  if (shape && a.getPaddingIdx()) {
    int64_t p = *a.getPaddingIdx(), n = w.getShape()[0];
    if (p < 0 || p >= n)
      return emitOptionalError(loc, "'", name, "' op padding_idx ", p,
                               " must be within num_embeddings [0, ", n, ")");
  }
  return pushResult(loc, name, std::move(shape), w.getElementType(), t);
}

LogicalResult ScaledDotProductAttentionOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor a,
    SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  if (failed(allTensors(loc, name, {a.getQuery(), a.getKey(), a.getValue()})) ||
      failed(sameElementType(loc, name, a.getQuery(), a.getKey())) ||
      failed(sameElementType(loc, name, a.getQuery(), a.getValue())))
    return failure();
  if (a.getScale() && a.getScale()->convertToDouble() <= 0)
    return emitOptionalError(loc, "'", name, "' op scale must be positive");
  return pushResult(loc, name,
                    sh::attention(tensorOf(a.getQuery()).getShape(),
                                  tensorOf(a.getKey()).getShape(),
                                  tensorOf(a.getValue()).getShape()),
                    tensorOf(a.getQuery()).getElementType(), t);
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

template <typename OpTy>
static LogicalResult inferClassLoss(std::optional<Location> loc,
                                    typename OpTy::Adaptor a,
                                    SmallVectorImpl<Type> &t) {
  StringRef name = OpTy::getOperationName();
  if (failed(allTensors(loc, name, {a.getInput(), a.getTarget()})))
    return failure();
  auto in = tensorOf(a.getInput());
  return pushResult(loc, name,
                    sh::classLoss(in.getShape(),
                                  tensorOf(a.getTarget()).getShape(),
                                  a.getReduction() != Reduction::none),
                    in.getElementType(), t);
}

LogicalResult CrossEntropyOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor a,
                                               SmallVectorImpl<Type> &t) {
  double ls = a.getLabelSmoothing().convertToDouble();
  if (!(ls >= 0 && ls <= 1))
    return emitOptionalError(loc, "'", getOperationName(),
                             "' op label_smoothing must be between 0.0 and "
                             "1.0. Got: ",
                             ls);
  return inferClassLoss<CrossEntropyOp>(loc, a, t);
}

LogicalResult NllLossOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor a, SmallVectorImpl<Type> &t) {
  return inferClassLoss<NllLossOp>(loc, a, t);
}

LogicalResult MseLossOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor a, SmallVectorImpl<Type> &t) {
  StringRef name = getOperationName();
  if (failed(allTensors(loc, name, {a.getInput(), a.getTarget()})) ||
      failed(sameElementType(loc, name, a.getInput(), a.getTarget())))
    return failure();
  auto in = tensorOf(a.getInput());
  if (in.getShape() != tensorOf(a.getTarget()).getShape())
    return emitOptionalError(loc, "'", name, "' op input ",
                             sh::str(in.getShape()), " and target ",
                             sh::str(tensorOf(a.getTarget()).getShape()),
                             " must have the same shape");
  if (a.getReduction() == Reduction::none)
    t.push_back(in);
  else
    t.push_back(RankedTensorType::get({}, in.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Autograd plumbing
//===----------------------------------------------------------------------===//

OpFoldResult DetachOp::fold(FoldAdaptor) {
  if (auto inner = getInput().getDefiningOp<DetachOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

//===----------------------------------------------------------------------===//
// Backward ops: each checks itself against the forward op's shape rule
//===----------------------------------------------------------------------===//

/// `grad` must have the shape the forward op produced (`forward`).
static LogicalResult verifyGradShape(Operation *op, llvm::Expected<sh::Shape> forward,
                                     RankedTensorType grad) {
  if (!forward)
    return op->emitOpError(llvm::toString(forward.takeError()));
  if (ArrayRef<int64_t>(*forward) != grad.getShape())
    return op->emitOpError("gradient shape ")
           << sh::str(grad.getShape())
           << " does not match the forward result shape " << sh::str(*forward);
  return success();
}

static LogicalResult verifySameElementType(Operation *op, Type a, Type b) {
  auto ea = cast<ShapedType>(a).getElementType();
  auto eb = cast<ShapedType>(b).getElementType();
  if (ea != eb)
    return op->emitOpError("expects the same element type, got ")
           << ea << " and " << eb;
  return success();
}

LogicalResult OneHotOp::verify() {
  ArrayRef<int64_t> t = getTarget().getType().getShape();
  ArrayRef<int64_t> r = getType().getShape();
  if (r.size() != t.size() + 1 || r.drop_back() != t || r.back() < 1)
    return emitOpError("result must be the target shape ")
           << sh::str(t) << " plus a class dimension, got " << sh::str(r);
  return success();
}

LogicalResult SliceBackwardOp::verify() {
  if (failed(verifySameElementType(*this, getGrad().getType(), getType())))
    return failure();
  return verifyGradShape(*this,
                         sh::slice(getType().getShape(), getDim(), getStart(),
                                   getEnd(), getStep()),
                         getGrad().getType());
}

LogicalResult Conv2dBackwardInputOp::verify() {
  if (failed(verifySameElementType(*this, getGrad().getType(), getType())))
    return failure();
  return verifyGradShape(
      *this,
      sh::conv2d(getType().getShape(), getOther().getType().getShape(),
                 std::nullopt, getStride(), getPadding(), getDilation(),
                 getGroups()),
      getGrad().getType());
}

LogicalResult Conv2dBackwardWeightOp::verify() {
  if (failed(verifySameElementType(*this, getGrad().getType(), getType())))
    return failure();
  return verifyGradShape(
      *this,
      sh::conv2d(getOther().getType().getShape(), getType().getShape(),
                 std::nullopt, getStride(), getPadding(), getDilation(),
                 getGroups()),
      getGrad().getType());
}

LogicalResult MaxPool2dBackwardOp::verify() {
  if (getInput().getType() != getType())
    return emitOpError("result type ")
           << getType() << " must be the forward input's, "
           << getInput().getType();
  return verifyGradShape(*this,
                         sh::pool2d(getType().getShape(), getKernelSize(),
                                    getStride(), getPadding(), getDilation(),
                                    getCeilMode()),
                         getGrad().getType());
}

LogicalResult AvgPool2dBackwardOp::verify() {
  if (failed(verifySameElementType(*this, getGrad().getType(), getType())))
    return failure();
  int64_t ones[] = {1, 1};
  return verifyGradShape(*this,
                         sh::pool2d(getType().getShape(), getKernelSize(),
                                    getStride(), getPadding(), ones,
                                    getCeilMode()),
                         getGrad().getType());
}

LogicalResult EmbeddingBackwardOp::verify() {
  if (failed(verifySameElementType(*this, getGrad().getType(), getType())))
    return failure();
  auto forward =
      sh::embedding(getType().getShape(), getIndices().getType().getShape());
  std::optional<int64_t> pad;
  if (getPaddingIdx())
    pad = static_cast<int64_t>(*getPaddingIdx());
  if (forward && pad && (*pad < 0 || *pad >= getType().getShape()[0]))
    return emitOpError("padding_idx ")
           << *pad << " must be within num_embeddings [0, "
           << getType().getShape()[0] << ")";
  return verifyGradShape(*this, std::move(forward), getGrad().getType());
}

//===----------------------------------------------------------------------===//
// Index ranges (IndexingOpInterface)
//===----------------------------------------------------------------------===//

Value EmbeddingOp::getIndexOperand() { return getIndices(); }
int64_t EmbeddingOp::getIndexBound() {
  return getWeight().getType().getDimSize(0);
}
std::string EmbeddingOp::describeIndex() {
  return "the rows of graft.embedding";
}
StringRef EmbeddingOp::getPyTorchIndexError() {
  return "IndexError: index out of range in self";
}

/// The class dimension of a loss's `[N, C, d...]` or unbatched `[C]` input.
static int64_t classCount(Value input) {
  auto t = cast<RankedTensorType>(input.getType());
  return t.getDimSize(t.getRank() == 1 ? 0 : 1);
}

Value CrossEntropyOp::getIndexOperand() { return getTarget(); }
int64_t CrossEntropyOp::getIndexBound() { return classCount(getInput()); }
std::optional<int64_t> CrossEntropyOp::getIgnoredIndex() {
  return static_cast<int64_t>(getIgnoreIndex());
}
std::string CrossEntropyOp::describeIndex() {
  return "the classes of graft.cross_entropy";
}
StringRef CrossEntropyOp::getPyTorchIndexError() {
  return "IndexError: Target {} is out of bounds.";
}

Value NllLossOp::getIndexOperand() { return getTarget(); }
int64_t NllLossOp::getIndexBound() { return classCount(getInput()); }
std::optional<int64_t> NllLossOp::getIgnoredIndex() {
  return static_cast<int64_t>(getIgnoreIndex());
}
std::string NllLossOp::describeIndex() {
  return "the classes of graft.nll_loss";
}
StringRef NllLossOp::getPyTorchIndexError() {
  return "IndexError: Target {} is out of bounds.";
}

Value OneHotOp::getIndexOperand() { return getTarget(); }
int64_t OneHotOp::getIndexBound() { return getType().getShape().back(); }
std::string OneHotOp::describeIndex() { return "the classes of graft.one_hot"; }
StringRef OneHotOp::getPyTorchIndexError() {
  return "RuntimeError: Class values must be smaller than num_classes.";
}

std::optional<graft::IndexRange> graft::indexRangeOf(Value value) {
  std::optional<IndexRange> range;
  bool ignoredEverywhere = true;
  SmallVector<Value> work = {value};
  DenseSet<Value> seen = {value};
  auto follow = [&](Value next) {
    if (seen.insert(next).second)
      work.push_back(next);
  };
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (user->hasTrait<OpTrait::GraftKeepsElements>()) {
        llvm::for_each(user->getResults(), follow);
        continue;
      }
      // A value a region yields (no_grad, inference_mode) is its op's result.
      if (user->hasTrait<OpTrait::ReturnLike>()) {
        Operation *parent = user->getParentOp();
        if (parent && parent->getNumResults() == user->getNumOperands())
          follow(parent->getResult(use.getOperandNumber()));
        continue;
      }
      // A cast to an integer type at least as wide keeps every value.
      if (auto cast = dyn_cast<CastOp>(user)) {
        auto from = dyn_cast<IntegerType>(getElementTypeOrSelf(v));
        auto to = dyn_cast<IntegerType>(getElementTypeOrSelf(cast.getType()));
        if (from && to && from.getWidth() > 1 &&
            to.getWidth() >= from.getWidth())
          follow(cast.getResult());
        continue;
      }
      auto indexing = dyn_cast<IndexingOpInterface>(user);
      if (!indexing || indexing.getIndexOperand() != v)
        continue;
      int64_t bound = indexing.getIndexBound();
      std::optional<int64_t> ignored = indexing.getIgnoredIndex();
      if (ignored && *ignored >= 0 && *ignored < bound)
        ignored.reset(); // in range: it adds nothing
      if (!range) {
        range = IndexRange{bound, ignored, indexing};
        ignoredEverywhere = ignored.has_value();
        continue;
      }
      // A value every use accepts: below each bound, and the ignored value
      // only when every use skips the same one.
      if (bound < range->bound ||
          (bound == range->bound && !ignored && range->ignored))
        range->bound = bound, range->use = indexing;
      if (!ignored || ignored != range->ignored)
        ignoredEverywhere = false;
    }
  }
  if (range && !ignoredEverywhere)
    range->ignored.reset();
  return range;
}

std::string graft::describeIndexUse(const IndexRange &range, StringRef value) {
  IndexingOpInterface use = range.use;
  std::string text = use.describeIndex();
  llvm::raw_string_ostream os(text);
  if (auto file = use->getLoc()->findInstanceOf<FileLineColLoc>())
    os << " at " << file.getFilename().getValue() << ":" << file.getLine()
       << ":" << file.getColumn();
  auto [before, after] = use.getPyTorchIndexError().split("{}");
  os << " (" << before;
  if (use.getPyTorchIndexError().contains("{}"))
    os << value;
  os << after << ")";
  return text;
}

#define GET_OP_CLASSES
#include "graft/Dialect/Graft/IR/GraftOps.cpp.inc"
