//===- Statements.cpp - Statements and blocks
//-------------------------------===//
//
// Declarations (dim, input, param, buffer), assignment, freeze, output,
// grad-mode blocks, loops, and the globals of a program.
//
//===----------------------------------------------------------------------===//

#include "Gen.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/GlobPattern.h"

#include <functional>

using namespace graft;
using namespace graft::frontend;

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

void Gen::rebindTensor(Value from, Value to) {
  for (Scope *s = scope; s; s = s->parent)
    for (auto &entry : s->vars) {
      if (entry.second.k != Val::K::Tensor || entry.second.t != from)
        continue;
      for (RegionFrame &f : regions)
        if (f.scope == s && f.seen.insert(entry.first()).second)
          f.assigned.push_back(entry.first().str());
      entry.second.t = to;
    }
}

void Gen::bind(StringRef name, Val v) {
  for (RegionFrame &f : regions)
    if (f.scope == scope)
      if (f.seen.insert(name).second)
        f.assigned.push_back(name.str());
  scope->vars[name] = std::move(v);
}

Type Gen::elementTypeNamed(StringRef name) {
  return llvm::StringSwitch<Type>(name)
      .Cases({"f32", "float32", "float"}, builder.getF32Type())
      .Cases({"f64", "float64", "double"}, builder.getF64Type())
      .Cases({"bf16", "bfloat16"}, builder.getBF16Type())
      .Cases({"i64", "int64", "long"}, builder.getI64Type())
      .Cases({"i32", "int32", "int"}, builder.getI32Type())
      .Cases({"i1", "bool"}, builder.getI1Type())
      .Default(Type());
}

FailureOr<RankedTensorType> Gen::evalType(const TypeSpec &t) {
  Type elt = elementTypeNamed(t.dtype);
  if (!elt) {
    error(t.loc, "unknown element type '" + t.dtype +
                     "'; expected f32, f64, bf16, i64, i32 or bool");
    return failure();
  }
  llvm::SmallVector<int64_t> shape;
  for (const ExprPtr &d : t.dims) {
    auto v = eval(*d);
    if (failed(v))
      return failure();
    auto n = asInt(*v, d->loc, "a dimension");
    if (failed(n))
      return failure();
    if (*n <= 0 || *n > kMaxDim) {
      error(d->loc, "dimension sizes must be positive and at most 2^31, got " +
                        Twine(*n));
      return failure();
    }
    shape.push_back(*n);
  }
  return RankedTensorType::get(shape, elt);
}

FailureOr<InitAttr> Gen::evalInit(const Expr *e, StringRef what) {
  if (!e)
    return makeInit(&ctx, InitKind::zeros);
  std::string kindName;
  const std::vector<Arg> *args = nullptr;
  static const std::vector<Arg> none;
  if (const auto *name = llvm::dyn_cast<NameExpr>(e)) {
    kindName = name->name;
    args = &none;
  } else if (const auto *call = llvm::dyn_cast<CallExpr>(e);
             call && llvm::isa<NameExpr>(*call->callee)) {
    kindName = llvm::cast<NameExpr>(*call->callee).name;
    args = &call->args;
  } else {
    error(e->loc,
          "expected an initialiser such as zeros, ones, normal(std=0.02) "
          "or kaiming_uniform(a=sqrt(5)) for " +
              what);
    return failure();
  }
  StringRef k = StringRef(kindName).rtrim('_'); // torch.nn.init.normal_
  auto kind = symbolizeInitKind(k);
  if (!kind) {
    error(e->loc, "unknown initialiser '" + kindName +
                      "'; expected zeros, ones, constant, normal, uniform, "
                      "kaiming_uniform, kaiming_normal, xavier_uniform, "
                      "xavier_normal or trunc_normal");
    return failure();
  }
  auto evaluated = evalArgs(*args);
  if (failed(evaluated))
    return failure();
  return initAttr(*kind, k, *evaluated, e->loc);
}

FailureOr<InitAttr> Gen::initAttr(InitKind kind, StringRef fn,
                                  std::vector<CallArg> &args, Loc loc) {
  llvm::SmallVector<StringRef> names;
  switch (kind) {
  case InitKind::zeros:
  case InitKind::ones:
    break;
  case InitKind::constant:
    names = {"value"};
    break;
  case InitKind::normal:
    names = {"mean", "std"};
    break;
  case InitKind::uniform:
    names = {"a", "b"};
    break;
  case InitKind::kaiming_uniform:
  case InitKind::kaiming_normal:
    names = {"a", "mode", "nonlinearity"};
    break;
  case InitKind::xavier_uniform:
  case InitKind::xavier_normal:
    names = {"gain"};
    break;
  case InitKind::trunc_normal:
    names = {"mean", "std", "a", "b"};
    break;
  }
  auto b = bindArgs(fn, names, kind == InitKind::constant ? 1 : 0, args, loc);
  if (failed(b))
    return failure();
  llvm::SmallVector<NamedAttribute> attrs;
  for (StringRef n : names) {
    if (!b->has(n))
      continue;
    const Val &v = b->get(n);
    if (n == "mode" || n == "nonlinearity") {
      auto s = asString(v, b->locOf(n), n);
      if (failed(s))
        return failure();
      attrs.push_back(attr(n, builder.getStringAttr(*s)));
    } else {
      auto x = asNumber(v, b->locOf(n), n);
      if (failed(x))
        return failure();
      attrs.push_back(attr(n, builder.getF64FloatAttr(*x)));
    }
  }
  std::string message;
  mlir::ScopedDiagnosticHandler capture(&ctx, [&](mlir::Diagnostic &d) {
    if (message.empty())
      message = d.str();
    return success();
  });
  auto dict = attrs.empty() ? mlir::DictionaryAttr()
                            : mlir::DictionaryAttr::get(&ctx, attrs);
  InitAttr init = InitAttr::getChecked([&] { return mlir::emitError(L(loc)); },
                                       &ctx, kind, dict);
  if (!init) {
    error(loc, message);
    return failure();
  }
  return init;
}

LogicalResult Gen::checkInitFits(InitKind kind, RankedTensorType type,
                                 Loc loc) {
  bool needsFans =
      kind == InitKind::kaiming_uniform || kind == InitKind::kaiming_normal ||
      kind == InitKind::xavier_uniform || kind == InitKind::xavier_normal;
  if (!needsFans || type.getRank() >= 2)
    return success();
  error(loc, "Fan in and fan out can not be computed for tensor with fewer "
             "than 2 dimensions");
  hint(stringifyInitKind(kind).str() + " needs a weight of rank 2 or more; "
                                       "use uniform or normal for biases");
  return failure();
}

FailureOr<Val> Gen::initialise(Call &c) {
  std::vector<CallArg> &args = c.args;
  if (args.empty() ||
      (!args[0].keyword.empty() && args[0].keyword != "tensor")) {
    error(c.loc, c.name + "() missing required argument 'tensor'");
    return failure();
  }
  auto x = asTensor(args[0].value, args[0].loc, "tensor");
  if (failed(x))
    return failure();
  mlir::Operation *def = x->getDefiningOp();
  if (!mlir::isa_and_nonnull<ParamOp, BufferOp>(def)) {
    error(args[0].loc, c.name + " initialises a parameter or a buffer, not "
                                "an input or a computed tensor");
    hint("apply it to a module's parameter: init.normal_(fc.weight, std=0.02)");
    return failure();
  }
  // torch.nn.init in __init__ sets the initial values; in forward it would
  // overwrite the parameter at every step, which Graft does not do.
  if ((!declaring && !constructing) || !regions.empty()) {
    error(c.loc, c.name + " sets a parameter's initial value: call it in a "
                          "model or module body (at construction, as in "
                          "__init__) or in a function given to apply(), not "
                          "in a function or block that computes");
    return failure();
  }
  std::vector<CallArg> rest(args.begin() + 1, args.end());
  // torch.nn.init.constant_(tensor, val) names its value `val`.
  for (CallArg &a : rest)
    if (a.keyword == "val")
      a.keyword = "value";
  InitKind kind = *symbolizeInitKind(c.name.drop_back());
  auto init = initAttr(kind, c.name, rest, c.loc);
  if (failed(init) || failed(checkInitFits(kind, typeOf(*x), args[0].loc)))
    return failure();
  if (auto p = mlir::dyn_cast<ParamOp>(def))
    p.setInitAttr(*init);
  else
    mlir::cast<BufferOp>(def).setInitAttr(*init);
  return args[0].value;
}

LogicalResult Gen::genSetAttr(const SetAttrStmt &s) {
  const MemberExpr &target = *s.target;
  // Parameters are declared at construction: so are their ties.
  if ((!declaring && !constructing) || !regions.empty()) {
    error(s.loc, "an attribute is assigned (weight tying) in a model or "
                 "module body, as in __init__, not in a function or block "
                 "that computes");
    return failure();
  }
  auto object = eval(*target.object);
  if (failed(object))
    return failure();
  if (object->k != Val::K::Inst) {
    error(target.object->loc, "cannot assign to an attribute of " +
                                  kindName(*object) +
                                  ": only a module's parameter can be assigned "
                                  "(weight tying)");
    hint("tie two modules' parameters as nanoGPT does: "
         "transformer.wte.weight = lm_head.weight");
    return failure();
  }
  Instance &inst = *object->inst;
  std::string name = inst.prefix + target.name;
  auto it = inst.scope.vars.find(target.name);
  ParamOp old;
  if (it != inst.scope.vars.end() && it->second.k == Val::K::Tensor)
    old = it->second.t.getDefiningOp<ParamOp>();
  if (!old) {
    error(target.loc,
          "'" + name +
              "' is not a parameter: only a module's "
              "parameter can be assigned another one (weight tying)");
    hint("tie two modules' parameters as nanoGPT does: "
         "transformer.wte.weight = lm_head.weight");
    return failure();
  }
  auto value = eval(*s.value);
  if (failed(value))
    return failure();
  ParamOp source;
  if (value->k == Val::K::Tensor)
    source = value->t.getDefiningOp<ParamOp>();
  if (!source) {
    // torch.nn.Module.__setattr__'s words.
    error(s.value->loc,
          "cannot assign '" +
              (value->k == Val::K::Tensor ? StringRef("a computed tensor")
                                          : kindName(*value)) +
              "' as parameter '" + target.name +
              "' (torch.nn.Parameter or None expected)");
    hint("assign another module's parameter: weight tying makes one "
         "parameter under two state_dict names");
    return failure();
  }
  if (source == old)
    return success();
  if (source.getType() != old.getType()) {
    error(s.loc, "cannot tie '" + name + "' (" + typeStr(old) + ") to '" +
                     source.getName() + "' (" + typeStr(source) +
                     "): a tied parameter keeps its module's shape and dtype");
    hint("tie parameters of one shape, e.g. an embedding's weight [vocab, "
         "n_embd] and an output Linear(n_embd, vocab)'s weight");
    return failure();
  }
  tieParams(old, source, s.loc);
  return success();
}

void Gen::tieParams(ParamOp target, ParamOp source, Loc l) {
  // PyTorch's state_dict lists the parameter under both names, in module
  // order, and named_parameters() under the first: the op declared first
  // stays and keeps its name; the other's names become aliases. The values
  // are source's (its initialiser), as is requires_grad.
  ParamOp kept = target->isBeforeInBlock(source) ? target : source;
  ParamOp gone = kept == target ? source : target;
  llvm::SmallVector<StringRef> names = kept.getStateDictNames();
  llvm::append_range(names, gone.getStateDictNames());
  kept.setAliasesAttr(
      builder.getStrArrayAttr(llvm::ArrayRef(names).drop_front()));
  kept.setInitAttr(source.getInit());
  kept.setFrozen(source.getFrozen());
  gone.getResult().replaceAllUsesWith(kept.getResult());
  replaceEverywhere(gone.getResult(), kept.getResult());
  if (lastDecl == gone.getOperation())
    lastDecl = gone->getPrevNode();
  gone->moveBefore(&tiedAway, tiedAway.end());
  tiedAwayAt.push_back({gone.getOperation(), l});
}

void Gen::replaceEverywhere(Value from, Value to) {
  llvm::SmallPtrSet<const void *, 32> seen;
  std::function<void(Val &)> visit = [&](Val &v) {
    if (v.k == Val::K::Tensor && v.t == from)
      v.t = to;
    if (v.list && seen.insert(v.list.get()).second)
      for (Val &item : *v.list)
        visit(item);
    if (v.inst && seen.insert(v.inst.get()).second) {
      for (auto &entry : v.inst->scope.vars)
        visit(entry.getValue());
      for (auto &child : v.inst->children) {
        Val c;
        c.inst = child;
        visit(c);
      }
    }
  };
  for (Scope *s = scope; s; s = s->parent)
    for (auto &entry : s->vars)
      visit(entry.getValue());
}

void Gen::releaseTiedAway() {
  for (auto [op, l] : tiedAwayAt) {
    if (!op->use_empty()) {
      error(l, "parameter '" + mlir::cast<ParamOp>(op).getName() +
                   "' is tied to another here, after a value was taken "
                   "from it that is used later");
      hint("tie parameters before the module body uses them");
    }
    op->dropAllUses();
  }
  tiedAwayAt.clear();
  while (!tiedAway.empty())
    tiedAway.front().erase();
}

LogicalResult Gen::genInput(const InputStmt &s) {
  if (!canDeclare(s.loc, "inputs"))
    return failure();
  if (!prefix.empty()) {
    error(s.loc, "inputs are declared in the model, not in a module");
    return failure();
  }
  auto type = evalType(*s.type);
  if (failed(type))
    return failure();
  if (s.requiresGrad && !mlir::isa<mlir::FloatType>(type->getElementType())) {
    error(s.loc, "only Tensors of floating point dtype can require gradients "
                 "(input '" +
                     s.name + "' is " + llvm::StringRef(s.type->dtype) + ")");
    hint("integer inputs such as labels and token ids never have "
         "gradients; remove 'requires_grad' or declare a float dtype");
    return failure();
  }
  if (auto it = declared.find(s.name); it != declared.end()) {
    error(s.loc, "duplicate input '" + s.name + "'");
    note(it->second, "previous declaration is here");
    return failure();
  }
  if (scope->vars.count(s.name)) {
    error(s.loc, "'" + s.name + "' is already defined");
    return failure();
  }
  declared[s.name] = s.loc;
  auto op = InputOp::create(builder, L(s.loc), *type, s.name, s.requiresGrad);
  insertDecl(op);
  bind(s.name, Val::tensor(op));
  return success();
}

LogicalResult Gen::genParamOrBuffer(const ParamStmt &s) {
  bool isParam = !s.isBuffer();
  if (!canDeclare(s.loc, isParam ? "parameters" : "buffers"))
    return failure();
  auto type = evalType(*s.type);
  if (failed(type))
    return failure();
  if (isParam && !mlir::isa<mlir::FloatType>(type->getElementType())) {
    error(s.type->loc, "Only Tensors of floating point and complex dtype can "
                       "require gradients (parameter '" +
                           s.name + "' is " + llvm::StringRef(s.type->dtype) +
                           ")");
    hint("use a buffer for integer state");
    return failure();
  }
  if (isParam && !s.init) {
    error(s.loc, "parameter '" + s.name + "' needs an initialiser (param " +
                     s.name + ": TYPE = normal(std=0.02), zeros, ...)");
    return failure();
  }
  auto init = evalInit(s.init.get(), "'" + s.name + "'");
  if (failed(init))
    return failure();
  std::string full = prefix + s.name;
  if (scope->vars.count(s.name)) {
    error(s.loc, "'" + s.name + "' is already defined in this module");
    return failure();
  }
  if (failed(
          checkInitFits(init->getKind(), *type, s.init ? s.init->loc : s.loc)))
    return failure();
  Value v = isParam ? declParam(s.loc, full, *type, *init)
                    : declBuffer(s.loc, full, *type, *init);
  bind(s.name, Val::tensor(v));
  return success();
}

LogicalResult Gen::genAssign(const AssignStmt &s) {
  if (s.targets.size() == 1) {
    FailureOr<Val> v = declaring && regions.empty()
                           ? instantiate(*s.value, prefix + s.targets[0] + ".")
                           : eval(*s.value);
    if (failed(v)) {
      bind(s.targets[0], Val::poison());
      return failure();
    }
    bind(s.targets[0], *v);
    return success();
  }
  auto v = eval(*s.value);
  if (failed(v)) {
    for (const std::string &t : s.targets)
      bind(t, Val::poison());
    return failure();
  }
  if (v->k != Val::K::List || v->list->size() != s.targets.size()) {
    error(s.loc, "cannot unpack " + Twine(kindName(*v)) + " into " +
                     Twine(s.targets.size()) + " names");
    for (const std::string &t : s.targets)
      bind(t, Val::poison());
    return failure();
  }
  for (auto [t, item] : llvm::zip(s.targets, *v->list))
    bind(t, item);
  return success();
}

LogicalResult Gen::genFreeze(const FreezeStmt &s) {
  for (auto [pattern, l] : llvm::zip(s.patterns, s.patternLocs)) {
    auto glob = llvm::GlobPattern::create(pattern);
    if (!glob) {
      llvm::consumeError(glob.takeError());
      error(l, "invalid pattern '" + pattern + "'");
      return failure();
    }
    // `fc1` freezes the instance fc1 (every name under `fc1.`), `fc1.weight`
    // one parameter, `features.*` a pattern.
    unsigned matched = 0;
    // A tied parameter is matched by any of its names.
    std::string instance = prefix + pattern;
    for (ParamOp p : model.getBody().getOps<ParamOp>()) {
      if (p.anyName([&](StringRef n) {
            return glob->match(n) || n.starts_with(instance + ".") ||
                   n == instance;
          })) {
        p.setFrozen(true);
        ++matched;
      }
    }
    if (!matched) {
      error(l, "freeze: '" + pattern +
                   "' matches no parameter declared so "
                   "far");
      hint("freeze names a parameter (fc1.weight), a module instance (fc1) "
           "or a pattern (features.*), after its declaration");
      return failure();
    }
  }
  return success();
}

LogicalResult Gen::genOutput(const OutputStmt &s) {
  Val v;
  Loc l = s.loc;
  if (s.value) {
    auto r = eval(*s.value);
    if (failed(r))
      return failure();
    v = *r;
    l = s.value->loc;
    bind(s.name, v);
  } else {
    Val *p = scope->lookup(s.name);
    if (!p) {
      unknownName(s.loc, s.name);
      return failure();
    }
    v = *p;
  }
  auto t = asTensor(v, l, "an output");
  if (failed(t))
    return failure();
  if (!regions.empty() || callDepth > 0) {
    error(s.loc, "outputs are declared at the model level");
    return failure();
  }
  for (OutputOp o : model.getBody().getOps<OutputOp>())
    if (o.getName() == s.name) {
      error(s.loc, "duplicate output '" + s.name + "'");
      return failure();
    }
  OutputOp::create(builder, L(s.loc), s.name, *t);
  return success();
}

mlir::Operation *Gen::endGradModeRegion(mlir::Location l, bool inference,
                                        std::unique_ptr<mlir::Block> block,
                                        mlir::OpBuilder::InsertPoint ip,
                                        mlir::ValueRange yielded) {
  YieldOp::create(builder, l, yielded);
  builder.restoreInsertionPoint(ip);
  mlir::TypeRange types(yielded);
  mlir::Operation *op =
      inference ? InferenceOp::create(builder, l, types).getOperation()
                : NoGradOp::create(builder, l, types).getOperation();
  op->getRegion(0).push_back(block.release());
  return op;
}

LogicalResult Gen::genGradMode(const BlockStmt &s) {
  bool inference = s.getKind() == StmtKind::Inference;
  mlir::Location l = L(s.loc);
  auto block = std::make_unique<mlir::Block>();
  mlir::OpBuilder::InsertPoint ip = builder.saveInsertionPoint();
  builder.setInsertionPointToEnd(block.get());
  GradMode savedMode = mode;
  if (mode != GradMode::Inference)
    mode = inference ? GradMode::Inference : GradMode::NoGrad;
  regions.push_back({scope, {}, {}});
  LogicalResult ok = genBlock(s.body, nullptr);
  RegionFrame frame = std::move(regions.back());
  regions.pop_back();
  mode = savedMode;
  // Every tensor name (re)bound in the block and defined inside it leaves
  // the block as a result.
  llvm::SmallVector<std::string> names;
  llvm::SmallVector<Value> yielded;
  for (const std::string &n : frame.assigned) {
    Val *v = scope->vars.count(n) ? &scope->vars[n] : nullptr;
    if (!v || v->k != Val::K::Tensor)
      continue;
    mlir::Operation *def = v->t.getDefiningOp();
    if (!def || !block->findAncestorOpInBlock(*def))
      continue;
    names.push_back(n);
    yielded.push_back(v->t);
  }
  mlir::Operation *op =
      endGradModeRegion(l, inference, std::move(block), ip, yielded);
  for (auto [n, r] : llvm::zip(names, op->getResults()))
    bind(n, Val::tensor(r));
  return ok;
}

FailureOr<std::vector<Val>> Gen::iterate(const Val &v, Loc l) {
  if (v.k == Val::K::List)
    return *v.list;
  if (v.k == Val::K::Dict) { // its keys, as Python iterates a dict
    std::vector<Val> keys;
    for (const std::string &k : *v.keys)
      keys.push_back(Val::string(k));
    return keys;
  }
  if (v.k == Val::K::Inst && !v.inst->children.empty()) {
    std::vector<Val> items;
    for (auto &c : v.inst->children) {
      Val m;
      m.k = Val::K::Inst;
      m.inst = c;
      items.push_back(m);
    }
    return items;
  }
  if (v.k != Val::K::Poison)
    error(l, "cannot iterate over " + Twine(kindName(v)) +
                 "; expected a list, a dict, a list of modules or range(n)");
  return failure();
}

LogicalResult Gen::bindTargets(llvm::ArrayRef<std::string> targets,
                               const Val &item, Loc l) {
  if (targets.size() == 1) {
    bind(targets.front(), item);
    return success();
  }
  if (item.k != Val::K::List || item.list->size() != targets.size()) {
    error(l, "cannot unpack " + Twine(kindName(item)) + " into " +
                 Twine(targets.size()) + " loop variables");
    return failure();
  }
  for (auto [t, v] : llvm::zip(targets, *item.list))
    bind(t, v);
  return success();
}

LogicalResult Gen::comprehend(const Comprehension &loop, Loc l,
                              llvm::function_ref<LogicalResult()> body) {
  auto iterable = eval(*loop.iterable);
  if (failed(iterable))
    return failure();
  auto items = iterate(*iterable, loop.iterable->loc);
  if (failed(items))
    return failure();
  for (const Val &item : *items) {
    if (failed(bindTargets(loop.targets, item, l)))
      return failure();
    if (loop.cond) {
      auto c = eval(*loop.cond);
      if (failed(c))
        return failure();
      auto keep =
          truthOf(*c, loop.cond->loc, "the condition of the comprehension");
      if (failed(keep))
        return failure();
      if (!*keep)
        continue;
    }
    if (failed(body()))
      return failure();
  }
  return success();
}

LogicalResult Gen::genFor(const ForStmt &s, ReturnSignal *ret) {
  auto iterable = eval(*s.iterable);
  if (failed(iterable))
    return failure();
  auto items = iterate(*iterable, s.iterable->loc);
  if (failed(items))
    return failure();
  for (const Val &item : *items) {
    if (failed(bindTargets(s.targets, item, s.loc)))
      return failure();
    if (failed(genBlock(s.body, ret)))
      return failure();
    if (ret && ret->returned)
      break;
  }
  return success();
}

LogicalResult Gen::genBlock(const Block &block, ReturnSignal *ret) {
  LogicalResult result = success();
  for (const StmtPtr &s : block) {
    if (diags.tooMany())
      return failure();
    if (failed(genStmt(*s, ret)))
      result = failure();
    if (ret && ret->returned)
      break;
  }
  return result;
}

LogicalResult Gen::genStmt(const Stmt &s, ReturnSignal *ret) {
  switch (s.getKind()) {
  case StmtKind::Dim: {
    const auto &dim = llvm::cast<DimStmt>(s);
    if (!declaring || callDepth > 0) {
      error(dim.loc, "dimensions are declared at the top level or in a model");
      return failure();
    }
    auto v = eval(*dim.value);
    if (failed(v))
      return failure();
    auto n = asInt(*v, dim.value->loc, "a dimension");
    if (failed(n))
      return failure();
    int64_t size = *n;
    for (auto &[name, value] : options.dims)
      if (name == dim.name) {
        size = value;
        usedDimOverrides.insert(name);
      }
    if (size <= 0) {
      error(dim.value->loc, "dimension '" + dim.name +
                                "' must be positive, got " + Twine(size));
      return failure();
    }
    bind(dim.name, Val::number(size, true));
    return success();
  }
  case StmtKind::Input:
    return genInput(llvm::cast<InputStmt>(s));
  case StmtKind::Param:
  case StmtKind::Buffer:
    return genParamOrBuffer(llvm::cast<ParamStmt>(s));
  case StmtKind::Assign: {
    const auto &assign = llvm::cast<AssignStmt>(s);
    if (assign.targets.size() == 1 && assign.targets[0] == "lr_schedule") {
      // lr_schedule = Kind(args): handled by genTrain, which does not
      // evaluate it.
      error(s.loc, "lr_schedule is set inside a train block");
      return failure();
    }
    return genAssign(assign);
  }
  case StmtKind::ExprStmt: {
    auto v = eval(*llvm::cast<ExprStmt>(s).expr);
    return failure(failed(v));
  }
  case StmtKind::Return: {
    if (!ret) {
      error(s.loc, "'return' outside a function");
      return failure();
    }
    ret->returned = true;
    if (const ExprPtr &value = llvm::cast<ReturnStmt>(s).value) {
      auto v = eval(*value);
      if (failed(v))
        return failure();
      ret->value = *v;
    }
    return success();
  }
  case StmtKind::Output:
    return genOutput(llvm::cast<OutputStmt>(s));
  case StmtKind::Freeze:
    return genFreeze(llvm::cast<FreezeStmt>(s));
  case StmtKind::NoGrad:
  case StmtKind::Inference:
    return genGradMode(llvm::cast<BlockStmt>(s));
  case StmtKind::For:
    return genFor(llvm::cast<ForStmt>(s), ret);
  case StmtKind::Def:
  case StmtKind::Class: {
    Val f;
    std::string name;
    if (const auto *def = llvm::dyn_cast<DefStmt>(&s)) {
      f.k = Val::K::Func;
      f.fn = def->func.get();
      f.fnScope = scope;
      name = def->func->name;
    } else {
      const RecordDecl *record = llvm::cast<ClassStmt>(s).record.get();
      f.k = Val::K::Record;
      f.record = record;
      f.fnScope = scope; // where the defaults are evaluated
      f.str = name = record->name;
    }
    if (scope->vars.count(name)) {
      error(s.loc, "'" + name + "' is already defined");
      return failure();
    }
    bind(name, f);
    return success();
  }
  case StmtKind::Train:
    return genTrain(llvm::cast<BlockStmt>(s));
  case StmtKind::If: {
    const auto &ifStmt = llvm::cast<IfStmt>(s);
    // Decided when compiling: only the branch taken is generated.
    for (const Branch &b : ifStmt.branches) {
      auto c = eval(*b.cond);
      if (failed(c))
        return failure();
      auto taken = truthOf(*c, b.cond->loc, "the condition of 'if'");
      if (failed(taken))
        return failure();
      if (*taken)
        return genBlock(b.body, ret);
    }
    return genBlock(ifStmt.orelse, ret);
  }
  case StmtKind::SetAttr:
    return genSetAttr(llvm::cast<SetAttrStmt>(s));
  case StmtKind::SetItem: {
    // d[key] = value: only dicts (tensors are values in the graph).
    const auto &set = llvm::cast<SetItemStmt>(s);
    const IndexExpr &target = *set.target;
    auto dict = eval(*target.object);
    if (failed(dict))
      return failure();
    if (dict->k != Val::K::Dict) {
      error(s.loc, "item assignment is for dicts here, not " + kindName(*dict));
      if (dict->k == Val::K::Tensor)
        hint("a tensor is a value of the graph: write its new value with "
             "torch.where(mask, value, x) or x.masked_fill(mask, value)");
      return failure();
    }
    auto key = dictKey(target);
    if (failed(key))
      return failure();
    auto value = eval(*set.value);
    if (failed(value))
      return failure();
    dict->setItem(*key, std::move(*value));
    return success();
  }
  case StmtKind::Assert: {
    const auto &check = llvm::cast<AssertStmt>(s);
    auto c = eval(*check.cond);
    if (failed(c))
      return failure();
    auto holds = truthOf(*c, check.cond->loc, "the condition of 'assert'");
    if (failed(holds) || *holds)
      return failure(failed(holds));
    std::string message = "AssertionError";
    if (check.message) {
      auto m = eval(*check.message);
      if (failed(m))
        return failure();
      message += ": " + (m->k == Val::K::Str   ? m->str
                         : m->k == Val::K::Num ? fmt(m->num)
                                               : kindName(*m).str());
    }
    error(s.loc, message);
    return failure();
  }
  }
  return failure();
}

void Gen::declareGlobals(const Program &p) {
  for (const auto &m : p.modules) {
    auto [it, inserted] = modules.try_emplace(m->name, m.get());
    if (!inserted) {
      error(m->loc, "duplicate module '" + m->name + "'");
      note(it->second->loc, "previous definition is here");
    }
  }
  scope = &globals;
  declaring = true;
  for (const StmtPtr &s : p.globals) {
    if (const auto *def = llvm::dyn_cast<DefStmt>(s.get())) {
      const FunctionDecl &fn = *def->func;
      if (globals.vars.count(fn.name)) {
        error(s->loc, "duplicate function '" + fn.name + "'");
        continue;
      }
      Val f;
      f.k = Val::K::Func;
      f.fn = &fn;
      f.fnScope = &globals;
      globals.vars[fn.name] = f;
      continue;
    }
    if (const auto *dim = llvm::dyn_cast<DimStmt>(s.get());
        dim && globals.vars.count(dim->name)) {
      error(s->loc, "duplicate dimension '" + dim->name + "'");
      continue;
    }
    (void)genStmt(*s, nullptr);
  }
}
