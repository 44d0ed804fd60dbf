//===- Modules.cpp - Modules and functions
//----------------------------------===//
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
  auto op = ParamOp::create(builder, L(loc), type, name, init, false,
                            /*aliases=*/nullptr);
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
  auto it = builtins().modules.find(type);
  if (it == builtins().modules.end()) {
    error(loc, "unknown built-in module '" + type + "'");
    return failure();
  }
  const BuiltinModule &row = it->second;
  llvm::SmallVector<StringRef> names;
  for (const ModuleParam &p : row.params)
    names.push_back(p.name);
  auto b = bindArgs(type, names, row.required, args, loc);
  if (failed(b))
    return failure();
  // PyTorch's defaults, where the call gives none.
  for (const ModuleParam &p : row.params)
    if (!b->values.count(p.name) && p.fallback.k != Val::K::None)
      b->values[p.name] = p.fallback;
  auto inst = std::make_shared<Instance>();
  inst->prefix = pfx;
  inst->typeName = type.str();
  inst->scope.parent = &globals;
  if (failed((this->*row.init)(*inst, *b)))
    return failure();
  Val v;
  v.k = Val::K::Inst;
  v.inst = inst;
  return v;
}

FailureOr<int64_t> Gen::positiveInt(const Instance &inst, const Bound &b,
                                    StringRef key) {
  auto v = asInt(b.get(key), b.locOf(key), key);
  if (failed(v) || *v > 0)
    return v;
  error(b.locOf(key),
        inst.typeName + ": " + key + " must be positive, got " + Twine(*v));
  return failure();
}

/// PyTorch's reset_parameters() for Linear and the convolutions:
/// kaiming_uniform(a=sqrt(5)) for the weight, uniform(+-1/sqrt(fan_in)) for
/// the bias.
static InitAttr kaimingWeight(mlir::Builder &b) {
  return makeInit(b.getContext(), InitKind::kaiming_uniform,
                  {b.getNamedAttr("a", b.getF64FloatAttr(std::sqrt(5.0)))});
}

static InitAttr fanInBias(mlir::Builder &b, int64_t fanIn) {
  double bound = fanIn > 0 ? 1.0 / std::sqrt(static_cast<double>(fanIn)) : 0;
  return makeInit(b.getContext(), InitKind::uniform,
                  {b.getNamedAttr("a", b.getF64FloatAttr(-bound)),
                   b.getNamedAttr("b", b.getF64FloatAttr(bound))});
}

LogicalResult Gen::initLinear(Instance &inst, Bound &b) {
  auto in = positiveInt(inst, b, "in_features");
  auto out = positiveInt(inst, b, "out_features");
  auto bias = asBool(b.get("bias"), b.locOf("bias"), "bias");
  if (failed(in) || failed(out) || failed(bias))
    return failure();
  auto &vars = inst.scope.vars;
  const std::string &pfx = inst.prefix;
  Type f32 = builder.getF32Type();
  vars["in_features"] = Val::number(*in, true);
  vars["out_features"] = Val::number(*out, true);
  vars["weight"] = Val::tensor(declParam(
      b.callLoc, pfx + "weight", RankedTensorType::get({*out, *in}, f32),
      kaimingWeight(builder)));
  // bias=False: the attribute is None, as register_parameter('bias', None)
  // leaves it (module.bias is not None).
  vars["bias"] = Val();
  if (*bias)
    vars["bias"] = Val::tensor(declParam(b.callLoc, pfx + "bias",
                                         RankedTensorType::get({*out}, f32),
                                         fanInBias(builder, *in)));
  return success();
}

/// Conv1d, Conv2d and ConvTranspose2d: the weight (out, in / groups, *k),
/// transposed (in, out / groups, *k), with _ConvNd.reset_parameters' init,
/// whose fan-in is the weight's (dimension 1 times the kernel).
LogicalResult Gen::initConv(Instance &inst, Bound &b) {
  StringRef type = inst.typeName;
  bool transposed = type.starts_with("ConvTranspose");
  size_t spatial = type.ends_with("1d") ? 1 : 2;
  auto in = positiveInt(inst, b, "in_channels");
  auto out = positiveInt(inst, b, "out_channels");
  auto groups = positiveInt(inst, b, "groups");
  auto bias = asBool(b.get("bias"), b.locOf("bias"), "bias");
  auto kernel =
      asIntList(b.get("kernel_size"), b.locOf("kernel_size"), "kernel_size");
  auto mode =
      asString(b.get("padding_mode"), b.locOf("padding_mode"), "padding_mode");
  if (failed(in) || failed(out) || failed(groups) || failed(bias) ||
      failed(kernel) || failed(mode))
    return failure();
  if (*mode != "zeros") {
    error(b.locOf("padding_mode"), type + ": padding_mode '" + *mode +
                                       "' is not supported; Graft pads "
                                       "with zeros");
    return failure();
  }
  if (kernel->size() == 1)
    kernel->resize(spatial, kernel->front());
  if (kernel->size() != spatial ||
      llvm::any_of(*kernel, [](int64_t k) { return k <= 0; })) {
    error(b.locOf("kernel_size"),
          type + ": kernel_size must be " +
              (spatial == 1 ? "a positive integer"
                            : "one or two positive integers"));
    return failure();
  }
  if (*in % *groups || *out % *groups) {
    error(b.locOf("groups"), *in % *groups
                                 ? "in_channels must be divisible by groups"
                                 : "out_channels must be divisible by groups");
    return failure();
  }
  auto &vars = inst.scope.vars;
  const std::string &pfx = inst.prefix;
  Type f32 = builder.getF32Type();
  // The geometry the call gives (b.locs: not the defaults), for forward.
  for (StringRef k :
       {"stride", "padding", "dilation", "groups", "output_padding"})
    if (b.locs.count(k))
      vars[k] = b.get(k);
  llvm::SmallVector<int64_t> shape = {transposed ? *in : *out,
                                      (transposed ? *out : *in) / *groups};
  llvm::append_range(shape, *kernel);
  // Saturating: the weight's shape check reports sizes out of range.
  int64_t fanIn = graft::shape::numel(llvm::ArrayRef(shape).drop_front());
  vars["weight"] = Val::tensor(declParam(b.callLoc, pfx + "weight",
                                         RankedTensorType::get(shape, f32),
                                         kaimingWeight(builder)));
  vars["bias"] = Val();
  if (*bias)
    vars["bias"] = Val::tensor(declParam(b.callLoc, pfx + "bias",
                                         RankedTensorType::get({*out}, f32),
                                         fanInBias(builder, fanIn)));
  return success();
}

LogicalResult Gen::initLayerNorm(Instance &inst, Bound &b) {
  auto shape = asIntList(b.get("normalized_shape"), b.locOf("normalized_shape"),
                         "normalized_shape");
  auto eps = asNumber(b.get("eps"), b.locOf("eps"), "eps");
  auto affine = asBool(b.get("elementwise_affine"),
                       b.locOf("elementwise_affine"), "elementwise_affine");
  auto bias = asBool(b.get("bias"), b.locOf("bias"), "bias");
  if (failed(shape) || failed(eps) || failed(affine) || failed(bias))
    return failure();
  auto &vars = inst.scope.vars;
  const std::string &pfx = inst.prefix;
  std::vector<Val> dims;
  for (int64_t d : *shape)
    dims.push_back(Val::number(d, true));
  vars["normalized_shape"] = Val::listOf(std::move(dims));
  vars["eps"] = Val::number(*eps, false);
  auto t = RankedTensorType::get(*shape, builder.getF32Type());
  if (*affine) {
    vars["weight"] = Val::tensor(declParam(b.callLoc, pfx + "weight", t,
                                           makeInit(&ctx, InitKind::ones)));
    if (*bias)
      vars["bias"] = Val::tensor(declParam(b.callLoc, pfx + "bias", t,
                                           makeInit(&ctx, InitKind::zeros)));
  }
  return success();
}

LogicalResult Gen::initGroupNorm(Instance &inst, Bound &b) {
  auto groups = positiveInt(inst, b, "num_groups");
  auto channels = positiveInt(inst, b, "num_channels");
  auto eps = asNumber(b.get("eps"), b.locOf("eps"), "eps");
  auto affine = asBool(b.get("affine"), b.locOf("affine"), "affine");
  if (failed(groups) || failed(channels) || failed(eps) || failed(affine))
    return failure();
  if (*channels % *groups) {
    error(b.callLoc, "num_channels must be divisible by num_groups");
    return failure();
  }
  auto &vars = inst.scope.vars;
  vars["num_groups"] = Val::number(*groups, true);
  vars["eps"] = Val::number(*eps, false);
  auto t = RankedTensorType::get({*channels}, builder.getF32Type());
  if (*affine) {
    vars["weight"] = Val::tensor(declParam(b.callLoc, inst.prefix + "weight", t,
                                           makeInit(&ctx, InitKind::ones)));
    vars["bias"] = Val::tensor(declParam(b.callLoc, inst.prefix + "bias", t,
                                         makeInit(&ctx, InitKind::zeros)));
  }
  return success();
}

/// RNN, LSTM, GRU and their cells: per layer and direction, weight_ih_l<k>
/// [gates * hidden, input], weight_hh_l<k> [gates * hidden, hidden],
/// bias_ih_l<k>, bias_hh_l<k> (suffixed _reverse for the reverse
/// direction; no suffix in a cell), all uniform(+-1/sqrt(hidden)), as
/// reset_parameters() draws them.
LogicalResult Gen::initRNN(Instance &inst, Bound &b) {
  StringRef type = inst.typeName;
  bool cell = type.ends_with("Cell");
  StringRef kind = cell ? type.drop_back(4) : type;
  auto in = positiveInt(inst, b, "input_size");
  auto hidden = positiveInt(inst, b, "hidden_size");
  auto bias = asBool(b.get("bias"), b.locOf("bias"), "bias");
  if (failed(in) || failed(hidden) || failed(bias))
    return failure();
  auto &vars = inst.scope.vars;
  std::string mode = kind.str();
  if (kind == "RNN") {
    auto nl = asString(b.get("nonlinearity"), b.locOf("nonlinearity"),
                       "nonlinearity");
    if (failed(nl))
      return failure();
    if (*nl != "tanh" && *nl != "relu") {
      error(b.locOf("nonlinearity"), "Unknown nonlinearity '" + *nl +
                                         "'. Select from 'tanh' or 'relu'.");
      return failure();
    }
    mode = *nl == "tanh" ? "RNN_TANH" : "RNN_RELU";
    vars["nonlinearity"] = Val::string(*nl);
  }
  int64_t layers = 1, dirs = 1, proj = 0;
  if (!cell) {
    auto l = positiveInt(inst, b, "num_layers");
    auto bidirectional = asBool(b.get("bidirectional"),
                                b.locOf("bidirectional"), "bidirectional");
    auto batchFirst =
        asBool(b.get("batch_first"), b.locOf("batch_first"), "batch_first");
    auto dropout = asNumber(b.get("dropout"), b.locOf("dropout"), "dropout");
    if (failed(l) || failed(bidirectional) || failed(batchFirst) ||
        failed(dropout))
      return failure();
    if (*dropout < 0 || *dropout > 1) {
      error(b.locOf("dropout"), "dropout should be a number in range [0, 1] "
                                "representing the probability of an element "
                                "being zeroed");
      return failure();
    }
    if (b.has("proj_size")) {
      auto p = asInt(b.get("proj_size"), b.locOf("proj_size"), "proj_size");
      if (failed(p))
        return failure();
      // torch's checks, in its words.
      if (*p < 0) {
        error(b.locOf("proj_size"), "proj_size should be a positive integer "
                                    "or zero to disable projections");
        return failure();
      }
      if (*p >= *hidden) {
        error(b.locOf("proj_size"), "proj_size has to be smaller than "
                                    "hidden_size");
        return failure();
      }
      if (*p && kind != "LSTM") {
        error(b.locOf("proj_size"), "proj_size argument is only supported "
                                    "for LSTM, not RNN or GRU");
        return failure();
      }
      proj = *p;
    }
    layers = *l;
    dirs = *bidirectional ? 2 : 1;
    for (StringRef k :
         {"num_layers", "batch_first", "dropout", "bidirectional"})
      vars[k] = b.get(k);
  }
  vars["mode"] = Val::string(mode);
  vars["input_size"] = Val::number(*in, true);
  vars["hidden_size"] = Val::number(*hidden, true);
  vars["proj_size"] = Val::number(proj, true);
  // With proj_size, h (and so each layer's output) has proj_size features.
  int64_t out = proj ? proj : *hidden;
  int64_t gates = rnnGates(kind);
  double bound = 1.0 / std::sqrt(static_cast<double>(*hidden));
  InitAttr init =
      makeInit(&ctx, InitKind::uniform,
               {builder.getNamedAttr("a", builder.getF64FloatAttr(-bound)),
                builder.getNamedAttr("b", builder.getF64FloatAttr(bound))});
  Type f32 = builder.getF32Type();
  std::vector<Val> all;
  for (int64_t l = 0; l < layers; ++l)
    for (int64_t d = 0; d < dirs; ++d) {
      std::string suffix =
          cell ? "" : "_l" + std::to_string(l) + (d ? "_reverse" : "");
      int64_t inputs = l == 0 ? *in : out * dirs;
      std::vector<Val> group;
      auto declare = [&](StringRef what, llvm::ArrayRef<int64_t> shape) {
        std::string name = (what + suffix).str();
        Val p = Val::tensor(declParam(b.callLoc, inst.prefix + name,
                                      RankedTensorType::get(shape, f32), init));
        vars[name] = p;
        group.push_back(p);
      };
      declare("weight_ih", {gates * *hidden, inputs});
      declare("weight_hh", {gates * *hidden, out});
      if (*bias) {
        declare("bias_ih", {gates * *hidden});
        declare("bias_hh", {gates * *hidden});
      }
      if (proj)
        declare("weight_hr", {proj, *hidden});
      all.push_back(Val::listOf(std::move(group)));
    }
  if (!cell)
    vars["weights"] = Val::listOf(std::move(all));
  return success();
}

/// MultiheadAttention: in_proj_weight [3E, E] (xavier_uniform),
/// in_proj_bias [3E] (zeros), and out_proj, a Linear [E, E] whose bias is
/// zeroed, as _reset_parameters() leaves them.
LogicalResult Gen::initMultiheadAttention(Instance &inst, Bound &b) {
  auto e = positiveInt(inst, b, "embed_dim");
  auto heads = positiveInt(inst, b, "num_heads");
  auto bias = asBool(b.get("bias"), b.locOf("bias"), "bias");
  auto dropout = asNumber(b.get("dropout"), b.locOf("dropout"), "dropout");
  if (failed(e) || failed(heads) || failed(bias) || failed(dropout))
    return failure();
  if (*e % *heads) {
    error(b.locOf("num_heads"), "embed_dim must be divisible by num_heads");
    return failure();
  }
  for (StringRef k : {"add_bias_kv", "add_zero_attn"}) {
    auto on = asBool(b.get(k), b.locOf(k), k);
    if (failed(on))
      return failure();
    if (*on) {
      error(b.locOf(k), "MultiheadAttention: " + k + "=True is not supported");
      return failure();
    }
  }
  // Keys and values of other sizes (kdim, vdim) get their own projections,
  // as torch's _qkv_same_embed_dim = False registers them.
  int64_t dims[2] = {*e, *e};
  const char *dimNames[] = {"kdim", "vdim"};
  for (auto [i, k] : llvm::enumerate(dimNames)) {
    if (!b.has(k))
      continue;
    auto d = asInt(b.get(k), b.locOf(k), k);
    if (failed(d))
      return failure();
    if (*d <= 0) {
      error(b.locOf(k), Twine(k) + " must be positive, got " + Twine(*d));
      return failure();
    }
    dims[i] = *d;
  }
  auto &vars = inst.scope.vars;
  for (StringRef k : {"embed_dim", "num_heads", "dropout", "batch_first"})
    vars[k] = b.get(k);
  vars["head_dim"] = Val::number(*e / *heads, true);
  Type f32 = builder.getF32Type();
  const std::string &pfx = inst.prefix;
  if (dims[0] == *e && dims[1] == *e) {
    vars["in_proj_weight"] =
        Val::tensor(declParam(b.callLoc, pfx + "in_proj_weight",
                              RankedTensorType::get({3 * *e, *e}, f32),
                              makeInit(&ctx, InitKind::xavier_uniform)));
  } else {
    for (auto [name, in] : {std::pair<StringRef, int64_t>{"q_proj_weight", *e},
                            {"k_proj_weight", dims[0]},
                            {"v_proj_weight", dims[1]}})
      vars[name] = Val::tensor(declParam(
          b.callLoc, pfx + name.str(), RankedTensorType::get({*e, in}, f32),
          makeInit(&ctx, InitKind::xavier_uniform)));
  }
  if (*bias)
    vars["in_proj_bias"] = Val::tensor(declParam(
        b.callLoc, pfx + "in_proj_bias", RankedTensorType::get({3 * *e}, f32),
        makeInit(&ctx, InitKind::zeros)));
  auto out = std::make_shared<Instance>();
  out->prefix = pfx + "out_proj.";
  out->typeName = "Linear";
  out->scope.parent = &globals;
  out->scope.vars["in_features"] = Val::number(*e, true);
  out->scope.vars["out_features"] = Val::number(*e, true);
  out->scope.vars["weight"] = Val::tensor(
      declParam(b.callLoc, out->prefix + "weight",
                RankedTensorType::get({*e, *e}, f32), kaimingWeight(builder)));
  if (*bias)
    out->scope.vars["bias"] = Val::tensor(declParam(
        b.callLoc, out->prefix + "bias", RankedTensorType::get({*e}, f32),
        makeInit(&ctx, InitKind::zeros)));
  Val o;
  o.k = Val::K::Inst;
  o.inst = out;
  vars["out_proj"] = o;
  return success();
}

LogicalResult Gen::initBatchNorm(Instance &inst, Bound &b) {
  auto n = positiveInt(inst, b, "num_features");
  auto eps = asNumber(b.get("eps"), b.locOf("eps"), "eps");
  auto momentum = asNumber(b.get("momentum"), b.locOf("momentum"), "momentum");
  auto affine = asBool(b.get("affine"), b.locOf("affine"), "affine");
  if (failed(n) || failed(eps) || failed(momentum) || failed(affine))
    return failure();
  auto &vars = inst.scope.vars;
  const std::string &pfx = inst.prefix;
  Loc loc = b.callLoc;
  vars["eps"] = Val::number(*eps, false);
  vars["momentum"] = Val::number(*momentum, false);
  auto t = RankedTensorType::get({*n}, builder.getF32Type());
  if (*affine) {
    vars["weight"] = Val::tensor(
        declParam(loc, pfx + "weight", t, makeInit(&ctx, InitKind::ones)));
    vars["bias"] = Val::tensor(
        declParam(loc, pfx + "bias", t, makeInit(&ctx, InitKind::zeros)));
  }
  // The buffers of PyTorch's state_dict, in its order.
  vars["running_mean"] = Val::tensor(declBuffer(
      loc, pfx + "running_mean", t, makeInit(&ctx, InitKind::zeros)));
  vars["running_var"] = Val::tensor(
      declBuffer(loc, pfx + "running_var", t, makeInit(&ctx, InitKind::ones)));
  vars["num_batches_tracked"] =
      Val::tensor(declBuffer(loc, pfx + "num_batches_tracked",
                             RankedTensorType::get({}, builder.getI64Type()),
                             makeInit(&ctx, InitKind::zeros)));
  return success();
}

LogicalResult Gen::initEmbedding(Instance &inst, Bound &b) {
  auto n = positiveInt(inst, b, "num_embeddings");
  auto d = positiveInt(inst, b, "embedding_dim");
  if (failed(n) || failed(d))
    return failure();
  auto &vars = inst.scope.vars;
  if (b.has("padding_idx"))
    vars["padding_idx"] = b.get("padding_idx");
  vars["weight"] = Val::tensor(
      declParam(b.callLoc, inst.prefix + "weight",
                RankedTensorType::get({*n, *d}, builder.getF32Type()),
                makeInit(&ctx, InitKind::normal)));
  return success();
}

LogicalResult Gen::initConfig(Instance &inst, Bound &b) {
  // An argument the forward function does not take would be dropped: an
  // error where the call gives it (nn.NLLLoss(weight=w)).
  const BuiltinModule &row = builtins().modules.find(inst.typeName)->second;
  const Builtin &fn = builtins().functions.find(row.forward)->second;
  for (auto &kv : b.values) {
    StringRef key = kv.getKey();
    if (b.locs.count(key) && key != "inplace" &&
        !llvm::is_contained(fn.params, key) &&
        kv.getValue().k != Val::K::None) {
      error(b.locOf(key), "nn." + inst.typeName + ": '" + key +
                              "' is not supported (" + row.forward + " takes " +
                              llvm::join(fn.params, ", ") + ")");
      return failure();
    }
    if (kv.getValue().k != Val::K::None)
      inst.scope.vars[key] = kv.getValue();
  }
  return success();
}

/// nn.ModuleDict(dict(wte=nn.Embedding(...), h=nn.ModuleList(...))), as
/// nanoGPT's GPT.__init__ writes it, or nn.ModuleDict({'wte': ...}): each
/// module named by its key, read as an attribute (transformer.wte).
FailureOr<Val> Gen::instantiateModuleDict(const CallExpr &e,
                                          const std::string &pfx) {
  const Expr *dict = e.args.size() == 1 ? e.args[0].value.get() : nullptr;
  // The modules, by name: instantiated with their state_dict prefix, so
  // read from the source rather than evaluated.
  std::vector<std::pair<std::string, const Arg *>> items;
  const auto *call = llvm::dyn_cast_or_null<CallExpr>(dict);
  const auto *callee =
      call ? llvm::dyn_cast<NameExpr>(call->callee.get()) : nullptr;
  if (callee && callee->name == "dict" &&
      llvm::none_of(call->args, [](const Arg &a) {
        return a.keyword.empty() || a.keyword == "**";
      })) {
    for (const Arg &a : call->args)
      items.push_back({a.keyword, &a});
  } else if (const auto *literal = llvm::dyn_cast_or_null<DictExpr>(dict)) {
    for (size_t i = 0; i + 1 < literal->items.size(); i += 2) {
      const Expr &key = *literal->items[i].value;
      if (!llvm::isa<StringExpr>(key)) {
        error(key.loc, "ModuleDict's keys are written as strings here "
                       "('wte': nn.Embedding(...))");
        return failure();
      }
      items.push_back(
          {llvm::cast<StringExpr>(key).value, &literal->items[i + 1]});
    }
  } else {
    error(e.loc, "ModuleDict takes dict(name=module, ...) or "
                 "{'name': module, ...}");
    return failure();
  }
  auto inst = std::make_shared<Instance>();
  inst->prefix = pfx;
  inst->typeName = "ModuleDict";
  for (auto &[name, a] : items) {
    checkUniqueName(a->loc, pfx + name);
    auto v = instantiate(*a->value, pfx + name + ".");
    if (failed(v))
      return failure();
    if (v->k != Val::K::Inst) {
      error(a->loc, "ModuleDict takes module instances, got " + kindName(*v));
      return failure();
    }
    inst->scope.vars[name] = *v;
  }
  Val r;
  r.k = Val::K::Inst;
  r.inst = inst;
  return r;
}

/// `name = Module(args)` and `name = [Module(args) for i in range(n)]`:
/// instantiation with the state_dict prefix of the name.
FailureOr<Val> Gen::instantiate(const Expr &e, const std::string &pfx) {
  if (const auto *comp = llvm::dyn_cast<ListCompExpr>(&e)) {
    auto list = std::make_shared<Instance>();
    list->prefix = pfx;
    list->typeName = "ModuleList";
    // A list of modules, or (when the first item is none) of values, as
    // nanoGPT's [p for n, p in param_dict.items() if p.dim() >= 2].
    std::vector<Val> values;
    if (failed(comprehend(comp->loop, comp->loc, [&]() -> LogicalResult {
          // ModuleList indices count the modules kept.
          auto v =
              instantiate(*comp->element,
                          pfx + std::to_string(list->children.size()) + ".");
          if (failed(v))
            return failure();
          bool module = v->k == Val::K::Inst;
          if (module ? !values.empty() : !list->children.empty()) {
            error(comp->element->loc, "a list holds module instances or "
                                      "values, not both");
            return failure();
          }
          if (module)
            list->children.push_back(v->inst);
          else
            values.push_back(std::move(*v));
          return success();
        })))
      return failure();
    if (!values.empty())
      return Val::listOf(std::move(values));
    Val r;
    r.k = Val::K::Inst;
    r.inst = list;
    return r;
  }
  if (const auto *written = llvm::dyn_cast<ListExpr>(&e)) {
    auto list = std::make_shared<Instance>();
    list->prefix = pfx;
    list->typeName = "ModuleList";
    for (auto [i, a] : llvm::enumerate(written->elements)) {
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
  if (!llvm::isa<CallExpr>(e))
    return eval(e);
  const auto &call = llvm::cast<CallExpr>(e);
  // The module type: a name (`Linear`, a user module) or a built-in one
  // through the nn namespace (`nn.Linear`).
  std::string typeName;
  bool isBuiltinModule = false;
  const auto *member = llvm::dyn_cast<MemberExpr>(call.callee.get());
  if (const auto *name = llvm::dyn_cast<NameExpr>(call.callee.get())) {
    if (scope->lookup(name->name))
      return eval(e);
    typeName = name->name;
    isBuiltinModule = !modules.count(typeName) && !typeName.empty() &&
                      llvm::isUpper(typeName[0]);
  } else if (member && llvm::isa<NameExpr>(*member->object)) {
    // Only a namespace's member can be a module type (x.view(...) is not);
    // a namespace is a name, whose evaluation has no effect.
    auto base = eval(*member->object);
    if (failed(base))
      return failure();
    if (base->k != Val::K::Namespace)
      return eval(e);
    auto type = namespaceMember(base->str, *member);
    if (failed(type))
      return failure();
    if (type->k != Val::K::ModType || type->builtinModule.empty())
      return eval(e);
    typeName = type->builtinModule;
    isBuiltinModule = true;
  } else {
    return eval(e);
  }
  if (modules.count(typeName) || isBuiltinModule) {
    // nn.ModuleList([Block(c) for _ in range(n)]): the comprehension's list.
    if (typeName == "ModuleList" && call.args.size() == 1 &&
        llvm::isa<ListCompExpr>(*call.args[0].value))
      return instantiate(*call.args[0].value, pfx);
    if (typeName == "ModuleDict")
      return instantiateModuleDict(call, pfx);
    if (typeName == "Sequential" || typeName == "ModuleList") {
      auto seq = std::make_shared<Instance>();
      seq->prefix = pfx;
      seq->typeName = typeName;
      std::vector<const Expr *> items;
      if (typeName == "ModuleList" && !call.args.empty()) {
        // Its modules are built here, named by their place in it: the
        // list must be written in place.
        const auto *list =
            llvm::dyn_cast<SequenceExpr>(call.args[0].value.get());
        if (call.args.size() != 1 || !list) {
          error(call.args[0].loc,
                "ModuleList takes a list of modules written in place: "
                "nn.ModuleList([Block(c) for _ in range(n)]) or "
                "nn.ModuleList([A(), B()])");
          return failure();
        }
        for (const Arg &a : list->elements)
          items.push_back(a.value.get());
      } else {
        for (const Arg &a : call.args)
          items.push_back(a.value.get());
      }
      for (auto [i, item] : llvm::enumerate(items)) {
        auto v = instantiate(*item, pfx + std::to_string(i) + ".");
        if (failed(v))
          return failure();
        if (v->k != Val::K::Inst) {
          error(item->loc,
                typeName + " takes module instances, got " + kindName(*v));
          return failure();
        }
        seq->children.push_back(v->inst);
      }
      Val r;
      r.k = Val::K::Inst;
      r.inst = seq;
      return r;
    }
    auto args = evalArgs(call.args);
    if (failed(args))
      return failure();
    auto it = modules.find(typeName);
    if (it == modules.end()) {
      auto type = eval(*call.callee); // reports unknown names with a suggestion
      if (failed(type))
        return failure();
      return instantiateBuiltin(typeName, *args, e.loc, pfx);
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
    // `self`, as __init__ and the methods of a PyTorch module spell the
    // instance (self.n_head). The instance does not own itself: a
    // non-owning pointer, its owner being the name it is assigned to.
    Val selfVal;
    selfVal.k = Val::K::Inst;
    selfVal.inst =
        std::shared_ptr<Instance>(std::shared_ptr<Instance>(), inst.get());
    inst->scope.vars["self"] = selfVal;
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
    ++constructingModule;
    LogicalResult ok = success();
    for (const StmtPtr &s : decl.body) {
      if (llvm::isa<DefStmt>(*s))
        continue; // methods
      if (failed(genStmt(*s, nullptr)))
        ok = failure();
    }
    --constructingModule;
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
  StringRef t = inst.typeName;
  if (inst.decl) {
    for (const StmtPtr &s : inst.decl->body)
      if (auto *def = llvm::dyn_cast<DefStmt>(s.get());
          def && def->func->name == "forward")
        return callFunction(*def->func, &inst.scope, args, loc, &inst);
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
  auto it = builtins().modules.find(t);
  if (it == builtins().modules.end()) {
    if (t == "ModuleList")
      error(loc, "a list of modules is not callable; iterate over it (for "
                 "block in blocks { x = block(x) })");
    else
      error(loc, "'" + t + "' object is not callable");
    return failure();
  }
  const BuiltinModule &row = it->second;
  // forward()'s arguments, as PyTorch's forward() takes them.
  llvm::SmallVector<StringRef> names;
  size_t required = 0;
  for (const ModuleParam &p : row.inputs) {
    names.push_back(p.name);
    if (p.required)
      required = names.size();
  }
  auto in = bindArgs((t + ".forward").str(), names, required, args, loc);
  if (failed(in))
    return failure();
  const Val &first = in->get(names.front());
  if (!row.ranks.empty() && first.k == Val::K::Tensor) {
    int64_t rank = typeOf(first.t).getRank();
    if (!llvm::is_contained(row.ranks, rank)) {
      std::string ranks;
      for (auto [i, r] : llvm::enumerate(row.ranks))
        ranks += (i ? " or " : "") + std::to_string(r) + "D";
      error(loc,
            "expected " + ranks + " input (got " + Twine(rank) + "D input)");
      return failure();
    }
  }
  // inplace=True (nn.ReLU(inplace=True)): the in-place method, which
  // rebinds every name of the input to the result, as PyTorch overwrites it;
  // a function that takes `inplace` itself (F.relu6) is given it.
  const Builtin &fn = builtins().functions.find(row.forward)->second;
  if (auto v = inst.scope.vars.find("inplace");
      v != inst.scope.vars.end() && v->second.k == Val::K::Bool &&
      v->second.b && !llvm::is_contained(fn.params, "inplace")) {
    std::string method = (row.forward + "_").str();
    if (!builtins().methods.count(method)) {
      error(loc, t + "(inplace=True) has no in-place form in Graft: " +
                     row.forward + "_ does not exist");
      hint("use inplace=False: the result is the same unless the input is "
           "read again after the call");
      return failure();
    }
    std::vector<CallArg> none;
    return callMethod(first, in->locOf(names.front()), method, none, loc,
                      nullptr);
  }
  // forward(x): the row's function of the inputs given and the instance's
  // attributes, by keyword.
  std::vector<CallArg> all;
  for (StringRef n : names)
    if (in->has(n))
      all.push_back({n.str(), in->locOf(n), in->get(n)});
  for (StringRef p : fn.params)
    if (auto v = inst.scope.vars.find(p);
        v != inst.scope.vars.end() && !in->has(p))
      all.push_back({p.str(), loc, v->second});
  return callBuiltin(row.forward, all, loc);
}

/// module.apply(fn), as nn.Module.apply: fn(m) for every module under
/// `inst`, children first, then `inst` itself. fn initialises parameters
/// (torch.nn.init), as at construction.
LogicalResult Gen::applyToModules(Instance &inst, const Val &fn, Loc l,
                                  llvm::SmallPtrSetImpl<Instance *> &seen) {
  if (fn.k != Val::K::Func) {
    error(l, Twine("apply() takes a function, got ") + kindName(fn));
    return failure();
  }
  if (!seen.insert(&inst).second)
    return success();
  std::vector<Instance *> children;
  for (auto &child : inst.children)
    children.push_back(child.get());
  // The attributes that are modules, in state_dict order.
  std::vector<Instance *> attributes;
  for (auto &kv : inst.scope.vars)
    if (kv.getKey() != "self" && kv.getValue().k == Val::K::Inst)
      attributes.push_back(kv.getValue().inst.get());
  llvm::sort(attributes,
             [](Instance *a, Instance *b) { return a->prefix < b->prefix; });
  llvm::append_range(children, attributes);
  for (Instance *child : children)
    if (failed(applyToModules(*child, fn, l, seen)))
      return failure();
  if (inst.typeName == "Model")
    return success(); // the model itself is not a module here
  Val self;
  self.k = Val::K::Inst;
  self.inst = std::shared_ptr<Instance>(std::shared_ptr<Instance>(), &inst);
  std::vector<CallArg> args = {{"", l, self}};
  ++constructing;
  auto r = callFunction(*fn.fn, fn.fnScope, args, l, fn.inst.get());
  --constructing;
  return failure(failed(r));
}

/// apply(fn) in a model body: fn over every module the model declares.
FailureOr<Val> Gen::applyFn(Call &c) {
  Instance all;
  all.typeName = "Model";
  for (Scope *s = scope; s && s != &globals; s = s->parent)
    for (auto &kv : s->vars)
      if (kv.getValue().k == Val::K::Inst)
        all.children.push_back(kv.getValue().inst);
  llvm::sort(all.children, [](const auto &a, const auto &b) {
    return a->prefix < b->prefix;
  });
  llvm::SmallPtrSet<Instance *, 16> seen;
  if (failed(applyToModules(all, c.get("fn"), c.locOf("fn"), seen)))
    return failure();
  return Val();
}

/// isinstance(module, nn.Linear), a type or a tuple of types.
FailureOr<Val> Gen::isInstance(Call &c) {
  const Val &obj = c.get("obj"), &info = c.get("classinfo");
  std::vector<Val> types =
      info.k == Val::K::List ? *info.list : std::vector<Val>{info};
  bool match = false;
  for (const Val &t : types) {
    if (t.k != Val::K::ModType) {
      error(c.locOf("classinfo"), "isinstance() arg 2 must be a module type "
                                  "or a tuple of them (nn.Linear, Block)");
      return failure();
    }
    StringRef name =
        t.mod ? StringRef(t.mod->name) : StringRef(t.builtinModule);
    match |= obj.k == Val::K::Inst && obj.inst->typeName == name;
  }
  return Val::boolean(match);
}

FailureOr<Val> Gen::callFunction(const FunctionDecl &fn, Scope *parent,
                                 std::vector<CallArg> &args, Loc loc,
                                 Instance *self) {
  if (callDepth > 64) {
    error(loc,
          "maximum recursion depth exceeded while calling '" + fn.name + "'");
    return failure();
  }
  // A method written as Python writes it, def forward(self, x): `self` is
  // the instance (a name in its scope), not an argument.
  llvm::ArrayRef<Arg> params = fn.params;
  if (self && !params.empty() && params.front().keyword == "self")
    params = params.drop_front();
  std::vector<StringRef> names;
  size_t required = 0;
  for (const Arg &p : params) {
    names.push_back(p.keyword);
    if (!p.value)
      required = names.size();
  }
  auto b = bindArgs(fn.name, names, required, args, loc);
  if (failed(b))
    return failure();
  Scope local;
  local.parent = parent ? parent : &globals;
  for (const Arg &p : params) {
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

  // A function that a module's body calls (self.init_weights()) is
  // __init__'s: it may initialise parameters.
  bool initialising = constructingModule && declaring && regions.empty();
  Scope *savedScope = scope;
  bool savedDeclaring = declaring;
  GradMode savedMode = mode;
  auto savedRegions = std::move(regions);
  regions.clear();
  scope = &local;
  declaring = false;
  constructing += initialising;
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
    mlir::Operation *op =
        endGradModeRegion(l, inference, std::move(block), ip, yielded);
    if (!yielded.empty())
      ret.value = Val::tensor(op->getResult(0));
  } else {
    ok = genBlock(fn.body, &ret);
  }
  --callDepth;
  constructing -= initialising;
  scope = savedScope;
  declaring = savedDeclaring;
  mode = savedMode;
  regions = std::move(savedRegions);
  if (failed(ok))
    return failure();
  return ret.value;
}
