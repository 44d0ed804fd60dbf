//===- Methods.cpp - Tensor methods and in-place updates --------------------===//
//
// x.view(...), x.transpose(...), x.requires_grad_(), and in-place updates
// (x.add_(y), x.relu_()) with PyTorch's version and leaf rules.
//
//===----------------------------------------------------------------------===//

#include "Gen.h"
#include "graft/Autograd/RequiresGrad.h"

using namespace graft;
using namespace graft::frontend;

//===----------------------------------------------------------------------===//
// Tensor methods
//===----------------------------------------------------------------------===//

FailureOr<Val> Gen::inPlace(StringRef name, Val self, const Expr *selfExpr,
                            Loc selfLoc, std::vector<CallArg> &args, Loc loc) {
  static const char *const otherInPlace[] = {"masked_fill_", "add_", "sub_",
                                             "mul_", "div_"};
  if (!unaryBindings().inPlace.count(name) &&
      !llvm::is_contained(otherInPlace, name)) {
    error(loc, "tensor has no method '" + name + "'");
    return failure();
  }
  auto x = asFloatTensor(self, selfLoc, name);
  if (failed(x))
    return failure();
  // PyTorch: a leaf that requires grad may not be modified in place in
  // grad mode (optimizers do it under no_grad). A version of the leaf made
  // by an in-place op under no_grad (`no_grad { w.add_(1) }`) is the same
  // leaf.
  if (mode == GradMode::Grad) {
    Value id = *x;
    while (mlir::Operation *d = id.getDefiningOp()) {
      if (!mlir::isa<NoGradOp, InferenceOp>(d))
        break;
      Value outer = regionResultIdentity(d, id);
      if (!outer)
        break;
      id = outer;
    }
    mlir::Operation *def = id.getDefiningOp();
    bool leafRequiringGrad = false;
    if (auto p = mlir::dyn_cast_or_null<ParamOp>(def))
      leafRequiringGrad = !p.getFrozen();
    if (auto in = mlir::dyn_cast_or_null<InputOp>(def))
      leafRequiringGrad = in.getRequiresGrad();
    if (leafRequiringGrad) {
      error(loc, "a leaf Variable that requires grad is being used in an "
                 "in-place operation.");
      hint("use the out-of-place form (x = x." + name.drop_back().str() +
           "(...)), or modify it inside a no_grad { } block");
      return failure();
    }
  }
  mlir::Location l = L(loc);
  // The in-place op on `target`, at the insertion point.
  auto emit = [&](Value target) -> FailureOr<Value> {
    Value *x = &target;
    FailureOr<Value> r = failure();
    auto unaryInPlace = unaryBindings().inPlace.find(name);
    if (unaryInPlace != unaryBindings().inPlace.end()) {
      auto b = bindArgs(name, {}, 0, args, loc);
      if (failed(b))
        return failure();
      r = unaryInPlace->second(builder, l, *x);
    } else if (name == "masked_fill_") {
      auto b = bindArgs(name, {"mask", "value"}, 2, args, loc);
      if (failed(b))
        return failure();
      auto m = asTensor(b->get("mask"), b->locOf("mask"), "mask");
      auto v = asNumber(b->get("value"), b->locOf("value"), "value");
      if (failed(m) || failed(v))
        return failure();
      if (llvm::Error err = sh::broadcastsTo(typeOf(*m).getShape(),
                                             typeOf(*x).getShape())) {
        error(loc, name + ": " + llvm::toString(std::move(err)));
        return failure();
      }
      r = MaskedFillInPlaceOp::create(builder, l, x->getType(), *x, *m,
                                      builder.getF64FloatAttr(*v))
              ->getResult(0);
    } else {
      auto b = bindArgs(name, {"other"}, 1, args, loc);
      if (failed(b))
        return failure();
      auto pair = promotePair(Val::tensor(*x), selfLoc, b->get("other"),
                              b->locOf("other"), name);
      if (failed(pair))
        return failure();
      Value other = pair->second;
      if (typeOf(other).getElementType() != typeOf(*x).getElementType()) {
        error(b->locOf("other"), name + ": expected operands of the same "
                                        "dtype, got " + typeStr(*x) + " and " +
                                        typeStr(other));
        return failure();
      }
      auto bc = sh::broadcast(typeOf(*x).getShape(), typeOf(other).getShape());
      if (!bc) {
        error(loc, name + ": " + llvm::toString(bc.takeError()));
        return failure();
      }
      if (*bc != typeOf(*x).getShape()) {
        error(loc, "output with shape " + sh::str(typeOf(*x).getShape()) +
                       " doesn't match the broadcast shape " + sh::str(*bc));
        return failure();
      }
      mlir::Operation *op;
      if (name == "add_") op = AddInPlaceOp::create(builder, l, *x, other);
      else if (name == "sub_") op = SubInPlaceOp::create(builder, l, *x, other);
      else if (name == "mul_") op = MulInPlaceOp::create(builder, l, *x, other);
      else op = DivInPlaceOp::create(builder, l, *x, other);
      r = op->getResult(0);
    }
    return r;
  };

  // Writing through a detached alias (`d = w.detach(); d.add_(1)`) writes
  // the storage it shares with `w`: PyTorch allows it (`d` does not require
  // grad, nothing is recorded) and `w` sees the new values, with its version
  // counter bumped. It is emitted as that update of `w` under no_grad, then
  // detached again; the names of `w` and of `d` are rebound to the new
  // versions (graft-check-inplace then checks the write against what
  // backward saved of `w`).
  Value base = *x;
  while (auto det = base.getDefiningOp<DetachOp>())
    base = det.getInput();
  if (base != *x) {
    Value newBase;
    if (mode == GradMode::Grad) {
      auto block = std::make_unique<mlir::Block>();
      mlir::OpBuilder::InsertPoint ip = builder.saveInsertionPoint();
      builder.setInsertionPointToEnd(block.get());
      FailureOr<Value> r = emit(base);
      if (succeeded(r))
        YieldOp::create(builder, l, mlir::ValueRange{*r});
      builder.restoreInsertionPoint(ip);
      if (failed(r))
        return failure();
      auto region =
          NoGradOp::create(builder, l, mlir::TypeRange{r->getType()});
      region->getRegion(0).push_back(block.release());
      newBase = region->getResult(0);
    } else {
      FailureOr<Value> r = emit(base);
      if (failed(r))
        return failure();
      newBase = *r;
    }
    Value alias = DetachOp::create(builder, l, newBase.getType(), newBase);
    for (Value v = *x; v != base; v = v.getDefiningOp<DetachOp>().getInput())
      rebindTensor(v, alias);
    rebindTensor(base, newBase);
    if (selfExpr && selfExpr->kind == ExprKind::Name)
      bind(selfExpr->name, Val::tensor(alias));
    return Val::tensor(alias);
  }
  FailureOr<Value> r = emit(*x);
  if (failed(r))
    return failure();
  // The name now denotes the new version (x.add_(y) returns x), and so does
  // every other name bound to the same tensor (`a = x`).
  rebindTensor(*x, *r);
  if (selfExpr && selfExpr->kind == ExprKind::Name)
    bind(selfExpr->name, Val::tensor(*r));
  return Val::tensor(*r);
}

FailureOr<Val> Gen::callMethod(Val self, Loc selfLoc, StringRef name,
                               std::vector<CallArg> &args, Loc loc,
                               const Expr *selfExpr) {
  auto x = asTensor(self, selfLoc, ("." + name + "()").str());
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  int64_t rank = type.getRank();
  auto tensorResult = [](FailureOr<Value> r) -> FailureOr<Val> {
    if (failed(r))
      return failure();
    return Val::tensor(*r);
  };
  // Varargs shapes: x.view(B, -1) or x.view([B, -1]).
  auto shapeArgs = [&]() -> FailureOr<llvm::SmallVector<int64_t>> {
    if (args.size() == 1 && args[0].value.k == Val::K::List)
      return asIntList(args[0].value, args[0].loc, name);
    llvm::SmallVector<int64_t> out;
    for (const CallArg &a : args) {
      if (!a.keyword.empty()) {
        error(a.loc, name + "() got an unexpected keyword argument '" +
                         a.keyword + "'");
        return failure();
      }
      auto i = asInt(a.value, a.loc, "a size");
      if (failed(i))
        return failure();
      out.push_back(*i);
    }
    return out;
  };

  if (StringRef(name).ends_with("_") && name != "requires_grad_")
    return inPlace(name, self, selfExpr, selfLoc, args, loc);
  if (name == "requires_grad_") {
    auto b = bindArgs(name, {"requires_grad"}, 0, args, loc);
    if (failed(b))
      return failure();
    bool on = true;
    if (b->has("requires_grad")) {
      auto v = asBool(b->get("requires_grad"), b->locOf("requires_grad"),
                      "requires_grad");
      if (failed(v))
        return failure();
      on = *v;
    }
    mlir::Operation *def = x->getDefiningOp();
    if (auto in = mlir::dyn_cast_or_null<InputOp>(def)) {
      if (on && !mlir::isa<mlir::FloatType>(type.getElementType())) {
        error(loc, "only Tensors of floating point dtype can require "
                   "gradients (input '" + in.getName() + "' is " +
                   typeStr(*x) + ")");
        hint("declare the input with a float dtype such as f32, or do not "
             "ask for its gradient");
        return failure();
      }
      in.setRequiresGrad(on);
      return self;
    }
    if (auto p = mlir::dyn_cast_or_null<ParamOp>(def)) {
      p.setFrozen(!on);
      return self;
    }
    error(loc, "you can only change requires_grad flags of leaf variables. "
               "If you want to use a computed variable in a subgraph that "
               "doesn't require differentiation use var_no_grad = "
               "var.detach().");
    hint("requires_grad_ applies to inputs and parameters; this value is "
         "computed by an op");
    return failure();
  }
  if (name == "retain_grad" || name == "register_hook") {
    std::vector<CallArg> all = {{"", selfLoc, self}};
    all.insert(all.end(), args.begin(), args.end());
    auto r = callBuiltin(name == "retain_grad" ? "retain_grad" : "grad_hook",
                         all, loc);
    if (succeeded(r) && name == "register_hook" && selfExpr &&
        selfExpr->kind == ExprKind::Name)
      bind(selfExpr->name, *r);
    return r;
  }
  if (name == "detach") {
    if (failed(bindArgs(name, {}, 0, args, loc)))
      return failure();
    return tensorResult(make<DetachOp>(loc, name, {*x}, {}, type));
  }
  if (name == "clone") {
    if (failed(bindArgs(name, {}, 0, args, loc)))
      return failure();
    return tensorResult(make<CloneOp>(loc, name, {*x}, {}, type));
  }
  if (name == "float" || name == "double" || name == "long" || name == "to") {
    Type elt;
    if (name == "float") elt = builder.getF32Type();
    else if (name == "double") elt = builder.getF64Type();
    else if (name == "long") elt = builder.getI64Type();
    else {
      auto b = bindArgs(name, {"dtype"}, 1, args, loc);
      if (failed(b))
        return failure();
      auto s = asString(b->get("dtype"), b->locOf("dtype"), "dtype");
      if (failed(s))
        return failure();
      elt = elementTypeNamed(*s);
      if (!elt) {
        error(b->locOf("dtype"), "unknown dtype '" + *s +
                                     "'; expected f32, f64, bf16, i64, i32 or "
                                     "i1");
        return failure();
      }
    }
    if (name != "to" && failed(bindArgs(name, {}, 0, args, loc)))
      return failure();
    return tensorResult(make<CastOp>(loc, "to", {*x}, {},
                                     RankedTensorType::get(type.getShape(),
                                                           elt)));
  }
  if (name == "reshape" || name == "view") {
    auto shape = shapeArgs();
    if (failed(shape))
      return failure();
    return reshape(*x, *shape, loc, name);
  }
  if (name == "flatten") {
    auto b = bindArgs(name, {"start_dim", "end_dim"}, 0, args, loc);
    if (failed(b))
      return failure();
    int64_t s = 0, e = -1;
    if (b->has("start_dim")) {
      auto v = asInt(b->get("start_dim"), b->locOf("start_dim"), "start_dim");
      if (failed(v))
        return failure();
      s = *v;
    }
    if (b->has("end_dim")) {
      auto v = asInt(b->get("end_dim"), b->locOf("end_dim"), "end_dim");
      if (failed(v))
        return failure();
      e = *v;
    }
    auto sd = normDim(s, rank, loc), ed = normDim(e, rank, loc);
    if (failed(sd) || failed(ed))
      return failure();
    llvm::SmallVector<int64_t> shape;
    int64_t merged = 1;
    for (int64_t i = 0; i < rank; ++i) {
      if (i < *sd || i > *ed)
        shape.push_back(type.getDimSize(i));
      else {
        merged *= type.getDimSize(i);
        if (i == *ed)
          shape.push_back(merged);
      }
    }
    return reshape(*x, shape, loc, name);
  }
  if (name == "unsqueeze" || name == "squeeze") {
    auto b = bindArgs(name, {"dim"}, name == "unsqueeze" ? 1 : 0, args, loc);
    if (failed(b))
      return failure();
    llvm::SmallVector<int64_t> shape(type.getShape());
    if (name == "unsqueeze") {
      auto d = asInt(b->get("dim"), b->locOf("dim"), "dim");
      if (failed(d))
        return failure();
      auto nd = normDim(*d, rank + 1, b->locOf("dim"));
      if (failed(nd))
        return failure();
      shape.insert(shape.begin() + *nd, 1);
    } else if (b->has("dim")) {
      auto d = asInt(b->get("dim"), b->locOf("dim"), "dim");
      if (failed(d))
        return failure();
      auto nd = normDim(*d, rank, b->locOf("dim"));
      if (failed(nd))
        return failure();
      if (rank > 0 && shape[*nd] == 1)
        shape.erase(shape.begin() + *nd);
    } else {
      llvm::erase(shape, 1);
    }
    return reshape(*x, shape, loc, name);
  }
  if (name == "transpose") {
    auto b = bindArgs(name, {"dim0", "dim1"}, 2, args, loc);
    if (failed(b))
      return failure();
    auto d0 = asInt(b->get("dim0"), b->locOf("dim0"), "dim0");
    auto d1 = asInt(b->get("dim1"), b->locOf("dim1"), "dim1");
    if (failed(d0) || failed(d1))
      return failure();
    auto n0 = normDim(*d0, rank, b->locOf("dim0"));
    auto n1 = normDim(*d1, rank, b->locOf("dim1"));
    if (failed(n0) || failed(n1))
      return failure();
    return tensorResult(
        make<TransposeOp>(loc, name, {*x},
                          {attr("dim0", builder.getI64IntegerAttr(*n0)),
                           attr("dim1", builder.getI64IntegerAttr(*n1))}));
  }
  if (name == "permute") {
    auto dims = shapeArgs();
    if (failed(dims))
      return failure();
    for (int64_t &d : *dims) {
      auto n = normDim(d, rank, loc);
      if (failed(n))
        return failure();
      d = *n;
    }
    return tensorResult(make<PermuteOp>(
        loc, name, {*x}, {attr("dims", builder.getDenseI64ArrayAttr(*dims))}));
  }
  if (name == "expand" || name == "broadcast_to") {
    auto shape = shapeArgs();
    if (failed(shape))
      return failure();
    // -1 keeps the size of that dimension.
    int64_t offset = static_cast<int64_t>(shape->size()) - rank;
    for (auto [i, d] : llvm::enumerate(*shape))
      if (d == -1 && static_cast<int64_t>(i) >= offset)
        d = type.getDimSize(i - offset);
    if (llvm::Error err = sh::broadcastsTo(type.getShape(), *shape)) {
      error(loc, name + ": " + llvm::toString(std::move(err)));
      return failure();
    }
    return tensorResult(make<BroadcastToOp>(
        loc, name, {*x}, {},
        RankedTensorType::get(*shape, type.getElementType())));
  }
  // Every functional op as a method: x.relu(), x.softmax(-1), x.sum(1), ...
  static const char *const asMethods[] = {
      "gelu", "sum", "mean", "amax", "max", "argmax",
      "softmax", "log_softmax", "matmul", "add", "sub", "mul", "div", "pow",
      "maximum", "minimum", "masked_fill"};
  if (llvm::is_contained(asMethods, name) ||
      unaryBindings().functions.count(name)) {
    std::vector<CallArg> all = {{"", selfLoc, self}};
    all.insert(all.end(), args.begin(), args.end());
    return callBuiltin(name, all, loc);
  }
  error(loc, "tensor has no method '" + name + "'");
  return failure();
}

