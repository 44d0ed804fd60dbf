//===- Modules.cpp - Modules and functions ----------------------------------===//
//
// Instantiation of built-in modules (torch.nn's, with their state_dict
// names and initialisation) and user modules, and calls of instances and
// functions, inlined.
//
//===----------------------------------------------------------------------===//

#include "Gen.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace graft;
using namespace graft::frontend;

//===----------------------------------------------------------------------===//
// Modules and functions
//===----------------------------------------------------------------------===//

/// state_dict names are unique: reassigning an instance name or declaring a
/// parameter twice would give two tensors one key.
void Gen::checkUniqueName(Loc loc, StringRef name) {
  auto [it, inserted] = declared.try_emplace(name, loc);
  if (inserted)
    return;
  error(loc, "duplicate state_dict name '" + name + "'");
  note(it->second, "previous declaration is here");
}

Value Gen::declParam(Loc loc, StringRef name, RankedTensorType type,
                     InitAttr init) {
  checkUniqueName(loc, name);
  auto op = ParamOp::create(builder, L(loc), type, name, init, false);
  insertDecl(op);
  return op;
}

Value Gen::declBuffer(Loc loc, StringRef name, RankedTensorType type,
                      InitAttr init) {
  checkUniqueName(loc, name);
  auto op = BufferOp::create(builder, L(loc), type, name, init);
  insertDecl(op);
  return op;
}

/// Declarations go before all computation of the model, in declaration
/// order, so they dominate every use, including uses inside regions.
void Gen::insertDecl(mlir::Operation *op) {
  mlir::Block &body = model.getBody().front();
  if (lastDecl)
    op->moveAfter(lastDecl);
  else
    op->moveBefore(&body, body.begin());
  lastDecl = op;
}

bool Gen::canDeclare(Loc l, StringRef what) {
  if (declaring && regions.empty())
    return true;
  error(l, what + " can only be declared in a model or module body, not "
                  "inside a function, loop or block");
  return false;
}

FailureOr<Val> Gen::instantiateBuiltin(StringRef type,
                                       std::vector<CallArg> &args, Loc loc,
                                       const std::string &pfx) {
  auto inst = std::make_shared<Instance>();
  inst->prefix = pfx;
  inst->typeName = type.str();
  inst->scope.parent = &globals;
  Type f32 = builder.getF32Type();
  auto set = [&](StringRef k, Val v) { inst->scope.vars[k] = std::move(v); };
  auto cfgInt = [&](Bound &b, StringRef k,
                    int64_t fallback) -> FailureOr<int64_t> {
    if (!b.has(k))
      return fallback;
    return asInt(b.get(k), b.locOf(k), k);
  };
  auto cfgBool = [&](Bound &b, StringRef k, bool fallback) -> FailureOr<bool> {
    if (!b.has(k))
      return fallback;
    return asBool(b.get(k), b.locOf(k), k);
  };
  auto cfgNum = [&](Bound &b, StringRef k, double fallback) -> FailureOr<double> {
    if (!b.has(k))
      return fallback;
    return asNumber(b.get(k), b.locOf(k), k);
  };
  auto positive = [&](Bound &b, StringRef k, int64_t v) -> LogicalResult {
    if (v > 0)
      return success();
    error(b.locOf(k), type + ": " + k + " must be positive, got " + Twine(v));
    return failure();
  };
  // PyTorch's reset_parameters(): kaiming_uniform(a=sqrt(5)) for the weight,
  // uniform(+-1/sqrt(fan_in)) for the bias.
  auto kaimingWeight = [&] {
    return makeInit(&ctx, InitKind::kaiming_uniform,
                    {attr("a", builder.getF64FloatAttr(std::sqrt(5.0)))});
  };
  auto fanInBias = [&](int64_t fanIn) {
    double bound = fanIn > 0 ? 1.0 / std::sqrt(static_cast<double>(fanIn)) : 0;
    return makeInit(&ctx, InitKind::uniform,
                    {attr("a", builder.getF64FloatAttr(-bound)),
                     attr("b", builder.getF64FloatAttr(bound))});
  };
  auto result = [&]() {
    Val v;
    v.k = Val::K::Inst;
    v.inst = inst;
    return v;
  };

  if (type == "Linear") {
    auto b = bindArgs(type, {"in_features", "out_features", "bias"}, 2, args,
                      loc);
    if (failed(b))
      return failure();
    auto in = cfgInt(*b, "in_features", 0), out = cfgInt(*b, "out_features", 0);
    auto bias = cfgBool(*b, "bias", true);
    if (failed(in) || failed(out) || failed(bias) ||
        failed(positive(*b, "in_features", *in)) ||
        failed(positive(*b, "out_features", *out)))
      return failure();
    set("in_features", Val::number(*in, true));
    set("out_features", Val::number(*out, true));
    set("weight", Val::tensor(declParam(
                      loc, pfx + "weight",
                      RankedTensorType::get({*out, *in}, f32), kaimingWeight())));
    if (*bias)
      set("bias", Val::tensor(declParam(loc, pfx + "bias",
                                        RankedTensorType::get({*out}, f32),
                                        fanInBias(*in))));
    return result();
  }
  if (type == "Conv2d") {
    auto b = bindArgs(type,
                      {"in_channels", "out_channels", "kernel_size", "stride",
                       "padding", "dilation", "groups", "bias"},
                      3, args, loc);
    if (failed(b))
      return failure();
    auto in = cfgInt(*b, "in_channels", 0), out = cfgInt(*b, "out_channels", 0);
    auto groups = cfgInt(*b, "groups", 1);
    auto bias = cfgBool(*b, "bias", true);
    auto kernel = asIntList(b->get("kernel_size"), b->locOf("kernel_size"),
                            "kernel_size");
    if (failed(in) || failed(out) || failed(groups) || failed(bias) ||
        failed(kernel) || failed(positive(*b, "in_channels", *in)) ||
        failed(positive(*b, "out_channels", *out)) ||
        failed(positive(*b, "groups", *groups)))
      return failure();
    if (kernel->size() == 1)
      kernel->push_back(kernel->front());
    if (kernel->size() != 2 || (*kernel)[0] <= 0 || (*kernel)[1] <= 0) {
      error(b->locOf("kernel_size"), "Conv2d: kernel_size must be one or two "
                                     "positive integers");
      return failure();
    }
    if (*in % *groups || *out % *groups) {
      error(b->locOf("groups"), *in % *groups
                                    ? "in_channels must be divisible by groups"
                                    : "out_channels must be divisible by "
                                      "groups");
      return failure();
    }
    for (StringRef k : {"stride", "padding", "dilation", "groups"})
      if (b->has(k))
        set(k, b->get(k));
    // Saturating: the weight's shape check reports sizes out of range.
    int64_t fanIn = graft::shape::numel({*in / *groups, (*kernel)[0],
                                        (*kernel)[1]});
    set("weight",
        Val::tensor(declParam(loc, pfx + "weight",
                              RankedTensorType::get({*out, *in / *groups,
                                                     (*kernel)[0], (*kernel)[1]},
                                                    f32),
                              kaimingWeight())));
    if (*bias)
      set("bias", Val::tensor(declParam(loc, pfx + "bias",
                                        RankedTensorType::get({*out}, f32),
                                        fanInBias(fanIn))));
    return result();
  }
  if (type == "LayerNorm") {
    auto b = bindArgs(type, {"normalized_shape", "eps", "elementwise_affine",
                             "bias"},
                      1, args, loc);
    if (failed(b))
      return failure();
    auto shape = asIntList(b->get("normalized_shape"),
                           b->locOf("normalized_shape"), "normalized_shape");
    auto eps = cfgNum(*b, "eps", 1e-5);
    auto affine = cfgBool(*b, "elementwise_affine", true);
    auto bias = cfgBool(*b, "bias", true);
    if (failed(shape) || failed(eps) || failed(affine) || failed(bias))
      return failure();
    std::vector<Val> dims;
    for (int64_t d : *shape)
      dims.push_back(Val::number(d, true));
    set("normalized_shape", Val::listOf(std::move(dims)));
    set("eps", Val::number(*eps, false));
    auto t = RankedTensorType::get(*shape, f32);
    if (*affine) {
      set("weight", Val::tensor(declParam(loc, pfx + "weight", t,
                                          makeInit(&ctx, InitKind::ones))));
      if (*bias)
        set("bias", Val::tensor(declParam(loc, pfx + "bias", t,
                                          makeInit(&ctx, InitKind::zeros))));
    }
    return result();
  }
  if (type == "BatchNorm1d" || type == "BatchNorm2d") {
    auto b = bindArgs(type, {"num_features", "eps", "momentum", "affine"}, 1,
                      args, loc);
    if (failed(b))
      return failure();
    auto n = cfgInt(*b, "num_features", 0);
    auto eps = cfgNum(*b, "eps", 1e-5), momentum = cfgNum(*b, "momentum", 0.1);
    auto affine = cfgBool(*b, "affine", true);
    if (failed(n) || failed(eps) || failed(momentum) || failed(affine) ||
        failed(positive(*b, "num_features", *n)))
      return failure();
    set("eps", Val::number(*eps, false));
    set("momentum", Val::number(*momentum, false));
    auto t = RankedTensorType::get({*n}, f32);
    if (*affine) {
      set("weight", Val::tensor(declParam(loc, pfx + "weight", t,
                                          makeInit(&ctx, InitKind::ones))));
      set("bias", Val::tensor(declParam(loc, pfx + "bias", t,
                                        makeInit(&ctx, InitKind::zeros))));
    }
    // The buffers of PyTorch's state_dict, in its order.
    set("running_mean",
        Val::tensor(declBuffer(loc, pfx + "running_mean", t,
                               makeInit(&ctx, InitKind::zeros))));
    set("running_var", Val::tensor(declBuffer(loc, pfx + "running_var", t,
                                              makeInit(&ctx, InitKind::ones))));
    set("num_batches_tracked",
        Val::tensor(declBuffer(
            loc, pfx + "num_batches_tracked",
            RankedTensorType::get({}, builder.getI64Type()),
            makeInit(&ctx, InitKind::zeros))));
    return result();
  }
  if (type == "Embedding") {
    auto b = bindArgs(type, {"num_embeddings", "embedding_dim", "padding_idx"},
                      2, args, loc);
    if (failed(b))
      return failure();
    auto n = cfgInt(*b, "num_embeddings", 0), d = cfgInt(*b, "embedding_dim", 0);
    if (failed(n) || failed(d) || failed(positive(*b, "num_embeddings", *n)) ||
        failed(positive(*b, "embedding_dim", *d)))
      return failure();
    if (b->has("padding_idx"))
      set("padding_idx", b->get("padding_idx"));
    set("weight", Val::tensor(declParam(loc, pfx + "weight",
                                        RankedTensorType::get({*n, *d}, f32),
                                        makeInit(&ctx, InitKind::normal))));
    return result();
  }
  if (type == "Dropout") {
    auto b = bindArgs(type, {"p"}, 0, args, loc);
    if (failed(b))
      return failure();
    auto p = cfgNum(*b, "p", 0.5);
    if (failed(p))
      return failure();
    set("p", Val::number(*p, false));
    return result();
  }
  if (type == "MaxPool2d") {
    auto b = bindArgs(type, {"kernel_size", "stride", "padding"}, 1, args, loc);
    if (failed(b))
      return failure();
    for (StringRef k : {"kernel_size", "stride", "padding"})
      if (b->has(k))
        set(k, b->get(k));
    return result();
  }
  if (type == "GELU" || type == "Flatten" ||
      unaryBindings().modules.count(type)) {
    auto b = bindArgs(type, type == "GELU" ? llvm::ArrayRef<StringRef>{"approximate"}
                                           : llvm::ArrayRef<StringRef>{},
                      0, args, loc);
    if (failed(b))
      return failure();
    if (b->has("approximate"))
      set("approximate", b->get("approximate"));
    return result();
  }
  error(loc, "unknown built-in module '" + type + "'");
  return failure();
}

/// `name = Module(args)` and `name = [Module(args) for i in range(n)]`:
/// instantiation with the state_dict prefix of the name.
FailureOr<Val> Gen::instantiate(const Expr &e, const std::string &pfx) {
  if (e.kind == ExprKind::ListComp) {
    auto iterable = eval(*e.rhs);
    if (failed(iterable))
      return failure();
    if (iterable->k != Val::K::List) {
      error(e.rhs->loc, "expected a list or range(...) to iterate over");
      return failure();
    }
    auto list = std::make_shared<Instance>();
    list->prefix = pfx;
    list->typeName = "ModuleList";
    for (auto [i, item] : llvm::enumerate(*iterable->list)) {
      bind(e.name, item);
      auto v = instantiate(*e.lhs, pfx + std::to_string(i) + ".");
      if (failed(v))
        return failure();
      if (v->k != Val::K::Inst) {
        error(e.lhs->loc, "a list of modules must contain module instances");
        return failure();
      }
      list->children.push_back(v->inst);
    }
    Val r;
    r.k = Val::K::Inst;
    r.inst = list;
    return r;
  }
  if (e.kind == ExprKind::List) {
    auto list = std::make_shared<Instance>();
    list->prefix = pfx;
    list->typeName = "ModuleList";
    for (auto [i, a] : llvm::enumerate(e.args)) {
      auto v = instantiate(*a.value, pfx + std::to_string(i) + ".");
      if (failed(v))
        return failure();
      if (v->k != Val::K::Inst)
        return eval(e); // not a module list: an ordinary list
      list->children.push_back(v->inst);
    }
    Val r;
    r.k = Val::K::Inst;
    r.inst = list;
    return r;
  }
  if (e.kind != ExprKind::Call || e.lhs->kind != ExprKind::Name)
    return eval(e);
  Val *shadow = scope->lookup(e.lhs->name);
  bool isBuiltinModule = !shadow && !modules.count(e.lhs->name) &&
                         !e.lhs->name.empty() && llvm::isUpper(e.lhs->name[0]);
  if (!shadow && (modules.count(e.lhs->name) || isBuiltinModule)) {
    if (e.lhs->name == "Sequential" || e.lhs->name == "ModuleList") {
      auto seq = std::make_shared<Instance>();
      seq->prefix = pfx;
      seq->typeName = e.lhs->name;
      std::vector<const Expr *> items;
      if (e.lhs->name == "ModuleList" && e.args.size() == 1)
        for (const Arg &a : e.args[0].value->args)
          items.push_back(a.value.get());
      else
        for (const Arg &a : e.args)
          items.push_back(a.value.get());
      for (auto [i, item] : llvm::enumerate(items)) {
        auto v = instantiate(*item, pfx + std::to_string(i) + ".");
        if (failed(v))
          return failure();
        if (v->k != Val::K::Inst) {
          error(item->loc, e.lhs->name + " takes module instances, got " +
                               kindName(*v));
          return failure();
        }
        seq->children.push_back(v->inst);
      }
      Val r;
      r.k = Val::K::Inst;
      r.inst = seq;
      return r;
    }
    auto args = evalArgs(e.args);
    if (failed(args))
      return failure();
    auto it = modules.find(e.lhs->name);
    if (it == modules.end()) {
      auto type = eval(*e.lhs); // reports unknown names with a suggestion
      if (failed(type))
        return failure();
      return instantiateBuiltin(e.lhs->name, *args, e.loc, pfx);
    }
    const ModuleDecl &decl = *it->second;
    if (callDepth > 64) {
      error(e.loc, "modules nested too deeply (recursive instantiation?)");
      return failure();
    }
    auto inst = std::make_shared<Instance>();
    inst->prefix = pfx;
    inst->typeName = decl.name;
    inst->decl = &decl;
    inst->scope.parent = &globals;
    // Bind the module's parameters like a function's.
    std::vector<StringRef> names;
    size_t required = 0;
    for (const Arg &p : decl.params) {
      names.push_back(p.keyword);
      if (!p.value)
        required = names.size();
    }
    auto b = bindArgs(decl.name, names, required, *args, e.loc);
    if (failed(b))
      return failure();
    Scope *savedScope = scope;
    std::string savedPrefix = prefix;
    bool savedDeclaring = declaring;
    auto savedRegions = std::move(regions);
    regions.clear();
    scope = &inst->scope;
    for (const Arg &p : decl.params) {
      if (b->values.count(p.keyword)) {
        inst->scope.vars[p.keyword] = b->get(p.keyword);
      } else {
        scope = savedScope;
        auto v = eval(*p.value);
        scope = &inst->scope;
        if (failed(v))
          return failure();
        inst->scope.vars[p.keyword] = *v;
      }
    }
    prefix = pfx;
    declaring = true;
    ++callDepth;
    LogicalResult ok = success();
    for (const StmtPtr &s : decl.body) {
      if (s->kind == StmtKind::Def)
        continue; // methods
      if (failed(genStmt(*s, nullptr)))
        ok = failure();
    }
    --callDepth;
    scope = savedScope;
    prefix = savedPrefix;
    declaring = savedDeclaring;
    regions = std::move(savedRegions);
    if (failed(ok))
      return failure();
    Val r;
    r.k = Val::K::Inst;
    r.inst = inst;
    return r;
  }
  return eval(e);
}

FailureOr<Val> Gen::callInstance(Instance &inst, std::vector<CallArg> &args,
                                 Loc loc) {
  auto var = [&](StringRef k) { return inst.scope.vars.lookup(k); };
  auto forward1 = [&](StringRef fn,
                      std::vector<CallArg> extra = {}) -> FailureOr<Val> {
    if (args.size() != 1 || !args[0].keyword.empty()) {
      error(loc, inst.typeName + ".forward() takes 1 positional argument but " +
                     Twine(args.size()) + " were given");
      return failure();
    }
    std::vector<CallArg> all = {args[0]};
    all.insert(all.end(), extra.begin(), extra.end());
    return callBuiltin(fn, all, loc);
  };
  StringRef t = inst.typeName;
  if (inst.decl) {
    for (const StmtPtr &s : inst.decl->body)
      if (s->kind == StmtKind::Def && s->func->name == "forward")
        return callFunction(*s->func, &inst.scope, args, loc, &inst);
    error(loc, "module '" + t + "' has no forward method to call");
    return failure();
  }
  if (t == "Sequential") {
    if (args.size() != 1) {
      error(loc, "Sequential takes one input");
      return failure();
    }
    Val cur = args[0].value;
    for (auto &child : inst.children) {
      std::vector<CallArg> a = {{"", args[0].loc, cur}};
      auto r = callInstance(*child, a, loc);
      if (failed(r))
        return failure();
      cur = *r;
    }
    return cur;
  }
  if (t == "ModuleList") {
    error(loc, "a list of modules is not callable; iterate over it (for "
               "block in blocks { x = block(x) })");
    return failure();
  }
  if (t == "Linear") {
    std::vector<CallArg> extra = {{"", loc, var("weight")}};
    if (inst.scope.vars.count("bias"))
      extra.push_back({"", loc, var("bias")});
    return forward1("linear", extra);
  }
  if (t == "Conv2d") {
    std::vector<CallArg> extra = {{"", loc, var("weight")}};
    if (inst.scope.vars.count("bias"))
      extra.push_back({"bias", loc, var("bias")});
    for (StringRef k : {"stride", "padding", "dilation", "groups"})
      if (inst.scope.vars.count(k))
        extra.push_back({k.str(), loc, var(k)});
    return forward1("conv2d", extra);
  }
  if (t == "LayerNorm") {
    std::vector<CallArg> extra = {{"", loc, var("normalized_shape")}};
    for (StringRef k : {"weight", "bias", "eps"})
      if (inst.scope.vars.count(k))
        extra.push_back({k.str(), loc, var(k)});
    return forward1("layer_norm", extra);
  }
  if (t == "BatchNorm1d" || t == "BatchNorm2d") {
    std::vector<CallArg> extra = {{"", loc, var("running_mean")},
                                  {"", loc, var("running_var")}};
    for (StringRef k : {"weight", "bias", "momentum", "eps"})
      if (inst.scope.vars.count(k))
        extra.push_back({k.str(), loc, var(k)});
    if (args.size() == 1 && args[0].value.k == Val::K::Tensor) {
      int64_t rank = typeOf(args[0].value.t).getRank();
      bool ok = t == "BatchNorm2d" ? rank == 4 : (rank == 2 || rank == 3);
      if (!ok) {
        error(loc, "expected " +
                       Twine(t == "BatchNorm2d" ? "4D" : "2D or 3D") +
                       " input (got " + Twine(rank) + "D input)");
        return failure();
      }
    }
    return forward1("batch_norm", extra);
  }
  if (t == "Embedding") {
    std::vector<CallArg> extra = {{"", loc, var("weight")}};
    if (inst.scope.vars.count("padding_idx"))
      extra.push_back({"padding_idx", loc, var("padding_idx")});
    return forward1("embedding", extra);
  }
  if (t == "Dropout")
    return forward1("dropout", {{"p", loc, var("p")}});
  if (t == "MaxPool2d") {
    std::vector<CallArg> extra;
    for (StringRef k : {"kernel_size", "stride", "padding"})
      if (inst.scope.vars.count(k))
        extra.push_back({k.str(), loc, var(k)});
    return forward1("max_pool2d", extra);
  }
  auto unaryModule = unaryBindings().modules.find(t);
  if (unaryModule != unaryBindings().modules.end())
    return forward1(unaryModule->second);
  if (t == "GELU") {
    std::vector<CallArg> extra;
    if (inst.scope.vars.count("approximate"))
      extra.push_back({"approximate", loc, var("approximate")});
    return forward1("gelu", extra);
  }
  if (t == "Flatten") {
    if (args.size() != 1) {
      error(loc, "Flatten takes one input");
      return failure();
    }
    std::vector<CallArg> a = {{"", loc, Val::number(1, true)}};
    return callMethod(args[0].value, args[0].loc, "flatten", a, loc, nullptr);
  }
  error(loc, "'" + t + "' object is not callable");
  return failure();
}

FailureOr<Val> Gen::callFunction(const FunctionDecl &fn, Scope *parent,
                                 std::vector<CallArg> &args, Loc loc,
                                 Instance *self) {
  if (callDepth > 64) {
    error(loc, "maximum recursion depth exceeded while calling '" + fn.name +
                   "'");
    return failure();
  }
  std::vector<StringRef> names;
  size_t required = 0;
  for (const Arg &p : fn.params) {
    names.push_back(p.keyword);
    if (!p.value)
      required = names.size();
  }
  auto b = bindArgs(fn.name, names, required, args, loc);
  if (failed(b))
    return failure();
  Scope local;
  local.parent = parent ? parent : &globals;
  for (const Arg &p : fn.params) {
    if (b->values.count(p.keyword)) {
      local.vars[p.keyword] = b->get(p.keyword);
      continue;
    }
    auto v = eval(*p.value);
    if (failed(v))
      return failure();
    local.vars[p.keyword] = *v;
  }
  bool noGrad = llvm::is_contained(fn.decorators, "no_grad");
  bool inference = llvm::is_contained(fn.decorators, "inference_mode") ||
                   llvm::is_contained(fn.decorators, "inference");
  for (auto [d, l] : llvm::zip(fn.decorators, fn.decoratorLocs))
    if (d != "no_grad" && d != "inference_mode" && d != "inference") {
      error(l, "unknown decorator '@" + d +
                   "'; expected @no_grad or @inference_mode");
      return failure();
    }

  Scope *savedScope = scope;
  bool savedDeclaring = declaring;
  GradMode savedMode = mode;
  auto savedRegions = std::move(regions);
  regions.clear();
  scope = &local;
  declaring = false;
  ++callDepth;
  ReturnSignal ret;
  LogicalResult ok = success();
  if (noGrad || inference) {
    // The decorator form: the whole body is one grad-mode region.
    mlir::Location l = L(fn.loc);
    auto block = std::make_unique<mlir::Block>();
    mlir::OpBuilder::InsertPoint ip = builder.saveInsertionPoint();
    builder.setInsertionPointToEnd(block.get());
    mode = inference ? GradMode::Inference : GradMode::NoGrad;
    ok = genBlock(fn.body, &ret);
    llvm::SmallVector<Value> yielded;
    if (succeeded(ok) && ret.value.k == Val::K::Tensor)
      yielded.push_back(ret.value.t);
    if (succeeded(ok) && ret.value.k != Val::K::Tensor &&
        ret.value.k != Val::K::None) {
      error(fn.loc, "a no_grad function must return a tensor or nothing");
      ok = failure();
    }
    YieldOp::create(builder, l, yielded);
    builder.restoreInsertionPoint(ip);
    mlir::TypeRange types(yielded);
    mlir::Operation *op =
        inference ? InferenceOp::create(builder, l, types).getOperation()
                  : NoGradOp::create(builder, l, types).getOperation();
    op->getRegion(0).push_back(block.release());
    if (!yielded.empty())
      ret.value = Val::tensor(op->getResult(0));
  } else {
    ok = genBlock(fn.body, &ret);
  }
  --callDepth;
  scope = savedScope;
  declaring = savedDeclaring;
  mode = savedMode;
  regions = std::move(savedRegions);
  if (failed(ok))
    return failure();
  return ret.value;
}

