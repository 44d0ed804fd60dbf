//===- Methods.cpp - Tensor methods and in-place updates ------------------===//
//
// Views and copies (x.view(...), x.transpose(...), x.to(...)),
// x.requires_grad_(), and in-place updates (x.add_(y), x.relu_()) with
// PyTorch's version and leaf rules. Their rows are in Builtins.def.
//
//===----------------------------------------------------------------------===//

#include "Gen.h"
#include "graft/Autograd/RequiresGrad.h"

#include "llvm/ADT/StringSwitch.h"

using namespace graft;
using namespace graft::frontend;

//===----------------------------------------------------------------------===//
// Views and copies
//===----------------------------------------------------------------------===//

FailureOr<std::pair<Value, llvm::SmallVector<int64_t>>>
Gen::tensorAndSizes(Call &c) {
  std::vector<CallArg> &args = c.args;
  if (args.empty() || !args[0].keyword.empty()) {
    error(c.loc, c.name + "() missing required argument 'input'");
    return failure();
  }
  auto x = asTensor(args[0].value, args[0].loc, ("." + c.name + "()").str());
  if (failed(x))
    return failure();
  llvm::ArrayRef<CallArg> sizes = llvm::ArrayRef(args).drop_front();
  if (sizes.size() == 1 && sizes[0].value.k == Val::K::List) {
    auto list = asIntList(sizes[0].value, sizes[0].loc, c.name);
    if (failed(list))
      return failure();
    return std::make_pair(*x, *list);
  }
  llvm::SmallVector<int64_t> out;
  for (const CallArg &a : sizes) {
    if (!a.keyword.empty()) {
      error(a.loc, c.name + "() got an unexpected keyword argument '" +
                       a.keyword + "'");
      return failure();
    }
    auto i = asInt(a.value, a.loc, "a size");
    if (failed(i))
      return failure();
    out.push_back(*i);
  }
  return std::make_pair(*x, out);
}

FailureOr<Val> Gen::reshapeTo(Call &c) {
  auto xs = tensorAndSizes(c);
  if (failed(xs))
    return failure();
  return reshape(xs->first, xs->second, c.loc, c.name);
}

FailureOr<Val> Gen::flatten(Call &c) {
  auto x = input(c);
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  int64_t rank = type.getRank(), s = 0, e = -1;
  for (auto [key, v] : {std::pair{"start_dim", &s}, {"end_dim", &e}}) {
    if (!c.has(key))
      continue;
    auto d = asInt(c.get(key), c.locOf(key), key);
    if (failed(d))
      return failure();
    *v = *d;
  }
  auto sd = normDim(s, rank, c.loc), ed = normDim(e, rank, c.loc);
  if (failed(sd) || failed(ed))
    return failure();
  llvm::SmallVector<int64_t> shape;
  int64_t merged = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (i < *sd || i > *ed) {
      shape.push_back(type.getDimSize(i));
      continue;
    }
    merged *= type.getDimSize(i);
    if (i == *ed)
      shape.push_back(merged);
  }
  return reshape(*x, shape, c.loc, c.name);
}

FailureOr<Val> Gen::unsqueeze(Call &c) {
  auto x = input(c);
  if (failed(x))
    return failure();
  llvm::SmallVector<int64_t> shape(typeOf(*x).getShape());
  auto d = dimArg(c, "dim", typeOf(*x).getRank() + 1);
  if (failed(d))
    return failure();
  shape.insert(shape.begin() + *d, 1);
  return reshape(*x, shape, c.loc, c.name);
}

FailureOr<Val> Gen::squeeze(Call &c) {
  auto x = input(c);
  if (failed(x))
    return failure();
  llvm::SmallVector<int64_t> shape(typeOf(*x).getShape());
  if (!c.has("dim")) {
    llvm::erase(shape, 1);
    return reshape(*x, shape, c.loc, c.name);
  }
  auto d = dimArg(c, "dim", typeOf(*x).getRank());
  if (failed(d))
    return failure();
  if (!shape.empty() && shape[*d] == 1)
    shape.erase(shape.begin() + *d);
  return reshape(*x, shape, c.loc, c.name);
}

FailureOr<Val> Gen::transpose(Call &c) {
  auto x = input(c);
  if (failed(x))
    return failure();
  int64_t rank = typeOf(*x).getRank();
  auto d0 = dimArg(c, "dim0", rank);
  auto d1 = dimArg(c, "dim1", rank);
  if (failed(d0) || failed(d1))
    return failure();
  return tensorResult(
      make<TransposeOp>(c.loc, c.name, {*x},
                        {attr("dim0", builder.getI64IntegerAttr(*d0)),
                         attr("dim1", builder.getI64IntegerAttr(*d1))}));
}

FailureOr<Val> Gen::permute(Call &c) {
  auto xs = tensorAndSizes(c);
  if (failed(xs))
    return failure();
  auto &[x, dims] = *xs;
  for (int64_t &d : dims) {
    auto n = normDim(d, typeOf(x).getRank(), c.loc);
    if (failed(n))
      return failure();
    d = *n;
  }
  return tensorResult(make<PermuteOp>(
      c.loc, c.name, {x}, {attr("dims", builder.getDenseI64ArrayAttr(dims))}));
}

FailureOr<Val> Gen::expand(Call &c) {
  auto xs = tensorAndSizes(c);
  if (failed(xs))
    return failure();
  auto &[x, shape] = *xs;
  RankedTensorType type = typeOf(x);
  // -1 keeps the size of that dimension.
  int64_t offset = static_cast<int64_t>(shape.size()) - type.getRank();
  for (auto [i, d] : llvm::enumerate(shape))
    if (d == -1 && static_cast<int64_t>(i) >= offset)
      d = type.getDimSize(i - offset);
  if (llvm::Error err = sh::broadcastsTo(type.getShape(), shape)) {
    error(c.loc, c.name + ": " + llvm::toString(std::move(err)));
    return failure();
  }
  return tensorResult(
      make<BroadcastToOp>(c.loc, c.name, {x}, {},
                          RankedTensorType::get(shape, type.getElementType())));
}

FailureOr<Val> Gen::size(Call &c) {
  auto x = input(c);
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  if (c.has("dim")) {
    auto d = dimArg(c, "dim", type.getRank());
    if (failed(d))
      return failure();
    return Val::number(type.getDimSize(*d), true);
  }
  std::vector<Val> dims;
  for (int64_t d : type.getShape())
    dims.push_back(Val::number(d, true));
  return Val::listOf(std::move(dims));
}

FailureOr<Val> Gen::rank(Call &c) {
  auto x = input(c);
  if (failed(x))
    return failure();
  return Val::number(typeOf(*x).getRank(), true);
}

FailureOr<Val> Gen::numel(Call &c) {
  auto x = input(c);
  if (failed(x))
    return failure();
  return Val::number(typeOf(*x).getNumElements(), true);
}

FailureOr<Val> Gen::contiguous(Call &c) {
  // Graft's tensors are values: every one is contiguous already.
  if (failed(input(c)))
    return failure();
  return c.get("input");
}

FailureOr<Val> Gen::pieces(Call &c, Value x, int64_t dim,
                           llvm::ArrayRef<int64_t> sizes, bool drop) {
  RankedTensorType type = typeOf(x);
  std::vector<Val> out;
  int64_t start = 0;
  for (int64_t n : sizes) {
    Value piece = x;
    if (n != type.getDimSize(dim)) {
      auto r = make<SliceOp>(c.loc, c.name, {x},
                             {attr("dim", builder.getI64IntegerAttr(dim)),
                              attr("start", builder.getI64IntegerAttr(start)),
                              attr("end", builder.getI64IntegerAttr(start + n)),
                              attr("step", builder.getI64IntegerAttr(1))});
      if (failed(r))
        return failure();
      piece = *r;
    }
    start += n;
    if (drop) {
      llvm::SmallVector<int64_t> shape(type.getShape());
      shape.erase(shape.begin() + dim);
      auto r = reshape(piece, shape, c.loc, c.name);
      if (failed(r))
        return failure();
      piece = r->t;
    }
    out.push_back(Val::tensor(piece));
  }
  return Val::listOf(std::move(out));
}

FailureOr<Val> Gen::split(Call &c) {
  auto x = asTensor(c.get("tensor"), c.locOf("tensor"), c.name);
  if (failed(x))
    return failure();
  auto dimOr = optionalDim(c, typeOf(*x).getRank());
  if (failed(dimOr))
    return failure();
  int64_t dim = *dimOr;
  int64_t n = typeOf(*x).getDimSize(dim);
  const Val &how = c.get("split_size_or_sections");
  Loc howLoc = c.locOf("split_size_or_sections");
  llvm::SmallVector<int64_t> sizes;
  if (how.k == Val::K::List) {
    // split(x, [2, 3, 5]): the sizes of the pieces, which cover x.
    auto list = asIntList(how, howLoc, "split_size_or_sections");
    if (failed(list))
      return failure();
    int64_t total = 0;
    for (int64_t s : *list) {
      if (s < 1) {
        error(howLoc, c.name +
                          ": split sizes must be positive (Graft's "
                          "tensors have no empty dimensions), got " +
                          Twine(s));
        return failure();
      }
      total += s;
    }
    if (total != n) {
      error(howLoc, "split_with_sizes expects split_sizes to sum exactly to " +
                        Twine(n) + " (input tensor's size at dimension " +
                        Twine(dim) +
                        "), but got split_sizes=" + sh::str(*list));
      return failure();
    }
    sizes = *list;
  } else {
    // split(x, s): pieces of s, the last one smaller.
    auto s = asInt(how, howLoc, "split_size_or_sections");
    if (failed(s))
      return failure();
    if (*s < 1) {
      error(howLoc, c.name + ": split_size must be positive, got " + Twine(*s));
      return failure();
    }
    for (int64_t start = 0; start < n; start += *s)
      sizes.push_back(std::min(*s, n - start));
  }
  return pieces(c, *x, dim, sizes, /*drop=*/false);
}

FailureOr<Val> Gen::chunk(Call &c) {
  auto x = input(c);
  auto chunks = asInt(c.get("chunks"), c.locOf("chunks"), "chunks");
  if (failed(x) || failed(chunks))
    return failure();
  if (*chunks < 1) {
    error(c.locOf("chunks"),
          "chunk expects `chunks` to be greater than 0, got: " +
              Twine(*chunks));
    return failure();
  }
  auto dimOr = optionalDim(c, typeOf(*x).getRank());
  if (failed(dimOr))
    return failure();
  int64_t dim = *dimOr;
  // PyTorch: pieces of ceil(n / chunks), so possibly fewer than `chunks`.
  int64_t n = typeOf(*x).getDimSize(dim), each = (n + *chunks - 1) / *chunks;
  llvm::SmallVector<int64_t> sizes;
  for (int64_t start = 0; start < n; start += each)
    sizes.push_back(std::min(each, n - start));
  return pieces(c, *x, dim, sizes, /*drop=*/false);
}

FailureOr<Val> Gen::unbind(Call &c) {
  auto x = input(c);
  if (failed(x))
    return failure();
  auto dimOr = optionalDim(c, typeOf(*x).getRank());
  if (failed(dimOr))
    return failure();
  int64_t dim = *dimOr;
  llvm::SmallVector<int64_t> sizes(typeOf(*x).getDimSize(dim), 1);
  return pieces(c, *x, dim, sizes, /*drop=*/true);
}

FailureOr<Val> Gen::stack(Call &c) {
  const Val &list = c.get("tensors");
  if (list.k != Val::K::List || list.list->empty()) {
    error(c.locOf("tensors"), "stack expects a non-empty list of tensors");
    return failure();
  }
  llvm::SmallVector<Value> inputs;
  for (auto [i, v] : llvm::enumerate(*list.list)) {
    auto t = asTensor(v, c.locOf("tensors"), "stack()");
    if (failed(t))
      return failure();
    if (!inputs.empty() &&
        typeOf(*t).getShape() != typeOf(inputs[0]).getShape()) {
      error(c.locOf("tensors"),
            "stack expects each tensor to be equal size, but got " +
                sh::str(typeOf(inputs[0]).getShape()) + " at entry 0 and " +
                sh::str(typeOf(*t).getShape()) + " at entry " + Twine(i));
      return failure();
    }
    inputs.push_back(*t);
  }
  auto dimOr = optionalDim(c, typeOf(inputs[0]).getRank() + 1);
  if (failed(dimOr))
    return failure();
  int64_t dim = *dimOr;
  // torch.stack is cat of the tensors, each with a new dimension of 1.
  llvm::SmallVector<int64_t> shape(typeOf(inputs[0]).getShape());
  shape.insert(shape.begin() + dim, 1);
  for (Value &v : inputs) {
    auto r = reshape(v, shape, c.loc, c.name);
    if (failed(r))
      return failure();
    v = r->t;
  }
  return tensorResult(make<ConcatOp>(
      c.loc, c.name, inputs, {attr("dim", builder.getI64IntegerAttr(dim))}));
}

FailureOr<Val> Gen::detach(Call &c) {
  auto x = input(c);
  if (failed(x))
    return failure();
  return tensorResult(make<DetachOp>(c.loc, c.name, {*x}, {}, x->getType()));
}

FailureOr<Val> Gen::clone(Call &c) {
  auto x = input(c);
  if (failed(x))
    return failure();
  return tensorResult(make<CloneOp>(c.loc, c.name, {*x}, {}, x->getType()));
}

FailureOr<Val> Gen::cast(Call &c) {
  auto x = input(c);
  if (failed(x))
    return failure();
  Type elt = llvm::StringSwitch<Type>(c.name)
                 .Case("float", builder.getF32Type())
                 .Case("double", builder.getF64Type())
                 .Case("long", builder.getI64Type())
                 .Default(Type());
  if (c.name == "to") {
    auto s = asString(c.get("dtype"), c.locOf("dtype"), "dtype");
    if (failed(s))
      return failure();
    elt = elementTypeNamed(*s);
    if (!elt) {
      error(c.locOf("dtype"), "unknown dtype '" + *s +
                                  "'; expected f32, f64, bf16, i64, i32 or "
                                  "i1");
      return failure();
    }
  }
  return tensorResult(
      make<CastOp>(c.loc, "to", {*x}, {},
                   RankedTensorType::get(typeOf(*x).getShape(), elt)));
}

//===----------------------------------------------------------------------===//
// requires_grad_
//===----------------------------------------------------------------------===//

FailureOr<Val> Gen::requiresGrad(Call &c) {
  auto x = input(c);
  if (failed(x))
    return failure();
  bool on = true;
  if (c.has("requires_grad")) {
    auto v = asBool(c.get("requires_grad"), c.locOf("requires_grad"),
                    "requires_grad");
    if (failed(v))
      return failure();
    on = *v;
  }
  mlir::Operation *def = x->getDefiningOp();
  if (auto in = mlir::dyn_cast_or_null<InputOp>(def)) {
    if (on && !mlir::isa<mlir::FloatType>(typeOf(*x).getElementType())) {
      error(c.loc, "only Tensors of floating point dtype can require "
                   "gradients (input '" +
                       in.getName() + "' is " + typeStr(*x) + ")");
      hint("declare the input with a float dtype such as f32, or do not "
           "ask for its gradient");
      return failure();
    }
    in.setRequiresGrad(on);
    return c.get("input");
  }
  if (auto p = mlir::dyn_cast_or_null<ParamOp>(def)) {
    p.setFrozen(!on);
    return c.get("input");
  }
  error(c.loc, "you can only change requires_grad flags of leaf variables. "
               "If you want to use a computed variable in a subgraph that "
               "doesn't require differentiation use var_no_grad = "
               "var.detach().");
  hint("requires_grad_ applies to inputs and parameters; this value is "
       "computed by an op");
  return failure();
}

//===----------------------------------------------------------------------===//
// In-place updates
//===----------------------------------------------------------------------===//

FailureOr<Value> Gen::inPlaceOther(Call &c, Value x) {
  auto pair = promotePair(Val::tensor(x), c.locOf("input"), c.get("other"),
                          c.locOf("other"), c.name);
  if (failed(pair))
    return failure();
  Value other = pair->second;
  if (typeOf(other).getElementType() != typeOf(x).getElementType()) {
    error(c.locOf("other"), c.name +
                                ": expected operands of the same "
                                "dtype, got " +
                                typeStr(x) + " and " + typeStr(other));
    return failure();
  }
  auto bc = sh::broadcast(typeOf(x).getShape(), typeOf(other).getShape());
  if (!bc) {
    error(c.loc, c.name + ": " + llvm::toString(bc.takeError()));
    return failure();
  }
  if (*bc != typeOf(x).getShape()) {
    error(c.loc, "output with shape " + sh::str(typeOf(x).getShape()) +
                     " doesn't match the broadcast shape " + sh::str(*bc));
    return failure();
  }
  return other;
}

FailureOr<Val> Gen::maskedFillInPlace(Call &c) {
  auto m = asTensor(c.get("mask"), c.locOf("mask"), "mask");
  auto v = asNumber(c.get("value"), c.locOf("value"), "value");
  if (failed(m) || failed(v))
    return failure();
  return inPlace(c, [&](Value x) -> FailureOr<Value> {
    if (llvm::Error err =
            sh::broadcastsTo(typeOf(*m).getShape(), typeOf(x).getShape())) {
      error(c.loc, c.name + ": " + llvm::toString(std::move(err)));
      return failure();
    }
    return MaskedFillInPlaceOp::create(builder, L(c.loc), x.getType(), x, *m,
                                       builder.getF64FloatAttr(*v))
        ->getResult(0);
  });
}

FailureOr<Val> Gen::inPlace(Call &c,
                            llvm::function_ref<FailureOr<Value>(Value)> emit) {
  auto x = asFloatTensor(c.get("input"), c.locOf("input"), c.name);
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
      error(c.loc, "a leaf Variable that requires grad is being used in an "
                   "in-place operation.");
      hint(c.name.ends_with("_")
               ? "use the out-of-place form (x = x." +
                     c.name.drop_back().str() +
                     "(...)), or modify it inside a no_grad { } block"
               : std::string("use inplace=False, or modify it inside a "
                             "no_grad { } block"));
      return failure();
    }
  }
  mlir::Location l = L(c.loc);

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
      auto region = NoGradOp::create(builder, l, mlir::TypeRange{r->getType()});
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
    if (const auto *self = llvm::dyn_cast_or_null<NameExpr>(c.selfExpr))
      bind(self->name, Val::tensor(alias));
    return Val::tensor(alias);
  }
  FailureOr<Value> r = emit(*x);
  if (failed(r))
    return failure();
  // The name now denotes the new version (x.add_(y) returns x), and so does
  // every other name bound to the same tensor (`a = x`).
  rebindTensor(*x, *r);
  if (const auto *self = llvm::dyn_cast_or_null<NameExpr>(c.selfExpr))
    bind(self->name, Val::tensor(*r));
  return Val::tensor(*r);
}
