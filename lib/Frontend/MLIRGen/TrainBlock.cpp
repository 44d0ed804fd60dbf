//===- TrainBlock.cpp - The train block -----------------------------------===//
//
// `train { ... }`: loss.backward(), the optimizer and its parameter groups,
// gradient accumulation and clipping, as one graft.train op.
//
//===----------------------------------------------------------------------===//

#include "Gen.h"
#include "graft/Autograd/Optimizer.h"
#include "graft/Dialect/Graft/IR/TrainOptions.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/GlobPattern.h"

using namespace graft;
using namespace graft::frontend;

namespace {
/// A torch.optim optimizer: its class name, kind and default learning rate
/// (0 where torch requires one).
struct OptimizerSpelling {
  llvm::StringLiteral name;
  OptimizerKind kind;
  double lr;
};
} // namespace

static constexpr OptimizerSpelling kOptimizers[] = {
    {"SGD", OptimizerKind::sgd, 0},
    {"Adam", OptimizerKind::adam, 1e-3},
    {"AdamW", OptimizerKind::adamw, 1e-3},
    {"Adadelta", OptimizerKind::adadelta, 1.0},
    {"Adagrad", OptimizerKind::adagrad, 1e-2},
    {"RMSprop", OptimizerKind::rmsprop, 1e-2},
    {"Adamax", OptimizerKind::adamax, 2e-3},
    {"NAdam", OptimizerKind::nadam, 2e-3},
    {"RAdam", OptimizerKind::radam, 1e-3},
};

/// "SGD, Adam, ... or RAdam", each name followed by `suffix`.
static std::string optimizerNames(StringRef suffix) {
  std::string out;
  for (auto [i, o] : llvm::enumerate(kOptimizers)) {
    if (i)
      out += i + 1 == std::size(kOptimizers) ? " or " : ", ";
    out += (o.name + suffix).str();
  }
  return out;
}

FailureOr<mlir::DictionaryAttr> Gen::genSchedule(const Expr &e) {
  const auto *call = llvm::dyn_cast<CallExpr>(&e);
  if (!call || !llvm::isa<NameExpr>(*call->callee)) {
    error(e.loc, "expected a schedule such as StepLR(step_size=30, "
                 "gamma=0.1) or CosineAnnealingLR(T_max=1000)");
    return failure();
  }
  StringRef kind = llvm::cast<NameExpr>(*call->callee).name;
  llvm::SmallVector<NamedAttribute> sched = {
      attr("kind", builder.getStringAttr(kind))};
  bool cycleMomentum = true;
  for (const Arg &a : call->args) {
    if (a.keyword.empty()) {
      error(a.loc, kind + "() takes keyword arguments only (its optimizer is "
                          "the train block's)");
      return failure();
    }
    StringRef k = a.keyword;
    if (k == "schedulers") {
      // SequentialLR's schedules: built like this one, not evaluated.
      const auto *list = llvm::dyn_cast<SequenceExpr>(a.value.get());
      if (!list) {
        error(a.loc, "schedulers must be a list of schedules, e.g. "
                     "[LinearLR(...), CosineAnnealingLR(...)]");
        return failure();
      }
      llvm::SmallVector<mlir::Attribute> children;
      for (const Arg &c : list->elements) {
        auto d = genSchedule(*c.value);
        if (failed(d))
          return failure();
        children.push_back(*d);
      }
      sched.push_back(attr(k, builder.getArrayAttr(children)));
      continue;
    }
    if (k == "lr_lambda") { // LambdaLR's function, translated, not called
      auto tree = lrLambda(*a.value);
      if (failed(tree))
        return failure();
      sched.push_back(attr(k, *tree));
      continue;
    }
    auto v = eval(*a.value);
    if (failed(v))
      return failure();
    if (k == "cycle_momentum") {
      auto b = asBool(*v, a.loc, k);
      if (failed(b))
        return failure();
      cycleMomentum = *b;
      continue;
    }
    if (v->k == Val::K::List) { // milestones
      llvm::SmallVector<int64_t> ints;
      for (const Val &x : *v->list) {
        auto n = asInt(x, a.loc, k);
        if (failed(n))
          return failure();
        ints.push_back(*n);
      }
      sched.push_back(attr(k, builder.getDenseI64ArrayAttr(ints)));
    } else if (v->k == Val::K::Str) {
      sched.push_back(attr(k, builder.getStringAttr(v->str)));
    } else if (v->k == Val::K::Bool) {
      sched.push_back(attr(k, builder.getBoolAttr(v->b)));
    } else {
      auto d = asNumber(*v, a.loc, k);
      if (failed(d))
        return failure();
      sched.push_back(attr(k, v->isInt
                                  ? mlir::Attribute(builder.getI64IntegerAttr(
                                        static_cast<int64_t>(*d)))
                                  : builder.getF64FloatAttr(*d)));
    }
  }
  if (kind == "OneCycleLR" && cycleMomentum) {
    error(e.loc, "OneCycleLR cycles the optimizer's momentum (or beta1) by "
                 "default, and the step has it compiled in");
    hint("pass cycle_momentum=False: the learning rate follows the one "
         "cycle, the momentum stays the optimizer's");
    return failure();
  }
  return builder.getDictionaryAttr(sched);
}

LogicalResult Gen::genTrain(const BlockStmt &s) {
  if (callDepth > 0 || !regions.empty() || !prefix.empty()) {
    error(s.loc, "a train block belongs to the model body");
    return failure();
  }
  if (!model.getBody().getOps<TrainOp>().empty()) {
    error(s.loc, "a model has at most one train block");
    return failure();
  }
  OptimizerKind kind = OptimizerKind::sgd;
  bool haveOptimizer = false;
  llvm::SmallVector<NamedAttribute> attrs;
  llvm::SmallVector<mlir::Attribute> groups;
  Loc optLoc = s.loc, scheduleLoc = s.loc;
  std::optional<Loc> groupsLoc; // the optimizer's own list of groups
  mlir::DictionaryAttr schedule;
  std::string interval;
  bool ok = true;

  // Keyword options of the optimizers and of param_group.
  auto options =
      [&](std::vector<CallArg> &args, bool allowLr, StringRef fn,
          llvm::SmallVectorImpl<NamedAttribute> &out) -> LogicalResult {
    for (CallArg &a : args) {
      if (a.keyword.empty()) {
        error(a.loc, fn + "() takes keyword arguments only (lr=..., ...)");
        return failure();
      }
      StringRef k = a.keyword;
      if (k == "lr" && !allowLr)
        continue;
      const HyperParameter *h = findHyperParameter(k);
      if (!h) {
        error(a.loc, fn + "() got an unexpected keyword argument '" + k + "'");
        return failure();
      }
      switch (h->type) {
      case HyperParameterType::Bool: {
        auto b = asBool(a.value, a.loc, k);
        if (failed(b))
          return failure();
        out.push_back(attr(k, builder.getBoolAttr(*b)));
        break;
      }
      case HyperParameterType::Pair: {
        if (a.value.k != Val::K::List || a.value.list->size() != 2) {
          error(a.loc, k + " must be a pair such as (0.9, 0.999)");
          return failure();
        }
        llvm::SmallVector<double> pair;
        for (const Val &v : *a.value.list) {
          auto d = asNumber(v, a.loc, k);
          if (failed(d))
            return failure();
          pair.push_back(*d);
        }
        out.push_back(attr(k, builder.getDenseF64ArrayAttr(pair)));
        break;
      }
      case HyperParameterType::Number: {
        auto d = asNumber(a.value, a.loc, k);
        if (failed(d))
          return failure();
        out.push_back(attr(k, builder.getF64FloatAttr(*d)));
        break;
      }
      }
    }
    return success();
  };

  // torch.optim's `params`: a list of parameters (all of them, one group)
  // or of group dicts, each a param_group: its parameters, by tensor or
  // name, and its options.
  auto optimizerGroups = [&](const CallArg &params,
                             StringRef fn) -> LogicalResult {
    auto nameOf = [&](const Val &v, Loc l) -> FailureOr<std::string> {
      if (v.k == Val::K::Str)
        return v.str;
      ParamOp p;
      if (v.k == Val::K::Tensor)
        p = v.t.getDefiningOp<ParamOp>();
      if (!p) {
        // torch.optim's words.
        error(l, v.k == Val::K::Tensor
                     ? Twine("can't optimize a non-leaf Tensor")
                     : "optimizer params must be parameters or their names, "
                       "got " +
                           kindName(v));
        return failure();
      }
      return p.getName().str();
    };
    auto namesOf = [&](const Val &list, Loc l,
                       llvm::SmallVectorImpl<mlir::Attribute> &out) {
      llvm::ArrayRef<Val> items(&list, 1);
      if (list.k == Val::K::List)
        items = *list.list;
      for (const Val &v : items) {
        auto n = nameOf(v, l);
        if (failed(n))
          return failure();
        out.push_back(builder.getStringAttr(*n));
      }
      return success();
    };
    if (params.value.k != Val::K::List) {
      error(params.loc, fn +
                            "'s params must be a list of parameters or of "
                            "parameter groups (dicts), got " +
                            kindName(params.value));
      return failure();
    }
    bool dicts = llvm::any_of(*params.value.list,
                              [](const Val &v) { return v.k == Val::K::Dict; });
    if (!dicts) {
      llvm::SmallVector<mlir::Attribute> names;
      if (failed(namesOf(params.value, params.loc, names)))
        return failure();
      groups.push_back(builder.getDictionaryAttr(
          {attr("params", builder.getArrayAttr(names))}));
      return success();
    }
    for (const Val &g : *params.value.list) {
      if (g.k != Val::K::Dict) {
        error(params.loc, "a parameter group is a dict {'params': [...], "
                          "...}, got " +
                              kindName(g));
        return failure();
      }
      llvm::SmallVector<mlir::Attribute> names;
      std::vector<CallArg> kw;
      bool haveParams = false;
      for (auto [k, v] : llvm::zip(*g.keys, *g.list)) {
        if (k == "params") {
          haveParams = true;
          if (failed(namesOf(v, params.loc, names)))
            return failure();
        } else {
          kw.push_back({k, params.loc, v});
        }
      }
      if (!haveParams) {
        error(params.loc, "parameter group didn't specify a value of "
                          "required optimization parameter params");
        return failure();
      }
      if (names.empty())
        continue; // an empty group updates nothing (e.g. no biases)
      llvm::SmallVector<NamedAttribute> attrsOfGroup = {
          attr("params", builder.getArrayAttr(names))};
      if (failed(options(kw, true, fn, attrsOfGroup)))
        return failure();
      groups.push_back(builder.getDictionaryAttr(attrsOfGroup));
    }
    return success();
  };

  for (const StmtPtr &st : s.body) {
    if (const auto *assign = llvm::dyn_cast<AssignStmt>(st.get());
        assign && assign->targets.size() == 1) {
      const AssignStmt &t = *assign;
      StringRef key = t.targets[0];
      if (key == "loss") {
        auto v = eval(*t.value);
        if (failed(v)) {
          ok = false;
          continue;
        }
        auto l = asTensor(*v, t.value->loc, "the loss");
        if (failed(l)) {
          ok = false;
          continue;
        }
        RankedTensorType lt = typeOf(*l);
        if (lt.getRank() != 0 ||
            !mlir::isa<mlir::FloatType>(lt.getElementType())) {
          error(t.value->loc, "grad can be implicitly created only for scalar "
                              "outputs: the loss is " +
                                  typeStr(*l));
          hint("reduce it to a 0-d float tensor, e.g. with .mean() or "
               "reduction='mean'");
          ok = false;
          continue;
        }
        LossOp::create(builder, L(t.loc), *l);
        loss = *l;
        lossLoc = t.value->loc;
        continue;
      }
      if (key == "optimizer") {
        const auto *call = llvm::dyn_cast<CallExpr>(t.value.get());
        if (!call || !llvm::isa<NameExpr>(*call->callee)) {
          error(t.value->loc,
                "expected an optimizer: " + optimizerNames("(...)") +
                    "; e.g. AdamW(lr=3e-4)");
          ok = false;
          continue;
        }
        const CallExpr &e = *call;
        StringRef n = llvm::cast<NameExpr>(*e.callee).name;
        const OptimizerSpelling *spelling =
            llvm::find_if(kOptimizers, [&](const OptimizerSpelling &o) {
              return o.name == n;
            });
        if (spelling == std::end(kOptimizers)) {
          error(e.callee->loc, "unknown optimizer '" + n + "'; expected " +
                                   optimizerNames(""));
          ok = false;
          continue;
        }
        kind = spelling->kind;
        auto args = evalArgs(e.args);
        if (failed(args)) {
          ok = false;
          continue;
        }
        // torch.optim's first argument: the parameters, or a list of
        // groups {'params': [...], 'weight_decay': 0.0, ...} (nanoGPT's
        // configure_optimizers). Without it, every parameter.
        if (!args->empty() && args->front().keyword.empty()) {
          CallArg params = args->front();
          args->erase(args->begin());
          if (failed(optimizerGroups(params, n))) {
            ok = false;
            continue;
          }
          groupsLoc = params.loc;
        }
        if (failed(options(*args, true, n, attrs))) {
          ok = false;
          continue;
        }
        haveOptimizer = true;
        optLoc = e.loc;
        bool hasLr = llvm::any_of(
            attrs, [](NamedAttribute a) { return a.getName() == "lr"; });
        if (!hasLr) {
          if (spelling->lr == 0) {
            error(e.loc, n + "() missing required argument 'lr'");
            ok = false;
            continue;
          }
          attrs.push_back(attr("lr", builder.getF64FloatAttr(spelling->lr)));
        }
        // torch.optim's defaults of its numbers, written out so the IR says
        // what runs.
        for (const OptimizerOption &o : optimizerOptions(kind)) {
          const HyperParameter *h = findHyperParameter(o.name);
          if (h->type == HyperParameterType::Bool ||
              llvm::any_of(attrs, [&](NamedAttribute a) {
                return a.getName() == o.name;
              }))
            continue;
          attrs.push_back(
              attr(o.name, h->type == HyperParameterType::Pair
                               ? mlir::Attribute(builder.getDenseF64ArrayAttr(
                                     {o.value[0], o.value[1]}))
                               : builder.getF64FloatAttr(o.value[0])));
        }
        continue;
      }
      if (key == "lr_schedule") {
        auto d = genSchedule(*t.value);
        if (failed(d)) {
          ok = false;
          continue;
        }
        schedule = *d;
        scheduleLoc = t.value->loc;
        continue;
      }
      auto v = eval(*t.value);
      if (failed(v)) {
        ok = false;
        continue;
      }
      if (key == "accumulation_steps" || key == "seed") {
        auto n = asInt(*v, t.value->loc, key);
        if (failed(n)) {
          ok = false;
          continue;
        }
        if (key == "accumulation_steps" && *n < 1) {
          error(t.value->loc,
                "accumulation_steps must be at least 1, got " + Twine(*n));
          ok = false;
          continue;
        }
        attrs.push_back(attr(key, builder.getI64IntegerAttr(*n)));
        continue;
      }
      if (key == "data" || key == "test") {
        // A source for every input, or a dict of one per input.
        if (v->k == Val::K::Str) {
          attrs.push_back(attr(key, builder.getStringAttr(v->str)));
          continue;
        }
        bool dict =
            v->k == Val::K::Dict && llvm::all_of(*v->list, [](const Val &x) {
              return x.k == Val::K::Str;
            });
        if (!dict || v->keys->empty()) {
          error(t.value->loc,
                key + " must be a data source (\"train.npz\", a CSV, "
                      ".npz, .safetensors or text file) or a dict of one "
                      "per input ({\"x\": \"x.npy\", \"y\": \"y.npy\"})");
          ok = false;
          continue;
        }
        llvm::SmallVector<mlir::NamedAttribute> entries;
        for (auto [name, source] : llvm::zip(*v->keys, *v->list))
          entries.push_back(attr(name, builder.getStringAttr(source.str)));
        attrs.push_back(attr(key, builder.getDictionaryAttr(entries)));
        continue;
      }
      if (key == "lr_schedule_interval") {
        if (v->k != Val::K::Str || (v->str != "epoch" && v->str != "step")) {
          error(t.value->loc, "lr_schedule_interval must be \"epoch\" (step "
                              "the schedule after every epoch) or \"step\" "
                              "(after every optimizer step)");
          ok = false;
          continue;
        }
        interval = v->str;
        continue;
      }
      if (key == "clip_grad_norm" || key == "clip_grad_value" ||
          key == "clip_norm_type") {
        auto d = asNumber(*v, t.value->loc, key);
        if (failed(d)) {
          ok = false;
          continue;
        }
        if (!(*d > 0)) {
          error(t.value->loc, key + " must be positive, got " + fmt(*d));
          ok = false;
          continue;
        }
        attrs.push_back(attr(key, builder.getF64FloatAttr(*d)));
        continue;
      }
      error(t.targetLocs[0], "unknown training setting '" + key +
                                 "'; expected loss, optimizer, "
                                 "accumulation_steps, clip_grad_norm, "
                                 "clip_norm_type, clip_grad_value, "
                                 "lr_schedule, lr_schedule_interval, "
                                 "seed, data or test");
      ok = false;
      continue;
    }
    const auto *exprStmt = llvm::dyn_cast<ExprStmt>(st.get());
    const auto *call =
        exprStmt ? llvm::dyn_cast<CallExpr>(exprStmt->expr.get()) : nullptr;
    if (call && llvm::isa<NameExpr>(*call->callee)) {
      const CallExpr &e = *call;
      StringRef fn = llvm::cast<NameExpr>(*e.callee).name;
      auto args = evalArgs(e.args);
      if (failed(args)) {
        ok = false;
        continue;
      }
      if (fn == "param_group") {
        // Patterns ("*.bias"), or lists of names such as nanoGPT's
        // [n for n, p in named_parameters() if p.dim() < 2].
        llvm::SmallVector<mlir::Attribute> patterns;
        llvm::SmallVector<Loc> patternLocs;
        std::vector<CallArg> kw;
        for (CallArg &a : *args) {
          if (!a.keyword.empty()) {
            kw.push_back(a);
            continue;
          }
          llvm::ArrayRef<Val> items(&a.value, 1);
          if (a.value.k == Val::K::List)
            items = *a.value.list;
          for (const Val &v : items) {
            auto p = asString(v, a.loc, "a parameter name or pattern");
            if (failed(p)) {
              ok = false;
              break;
            }
            patterns.push_back(builder.getStringAttr(*p));
            patternLocs.push_back(a.loc);
          }
        }
        if (!ok)
          continue;
        if (patterns.empty()) {
          error(e.loc, "param_group() needs at least one parameter name "
                       "pattern, e.g. param_group(\"*.bias\", "
                       "weight_decay=0.0)");
          ok = false;
          continue;
        }
        // Patterns must match a trainable parameter, or they are a typo.
        for (auto [i, p] : llvm::enumerate(patterns)) {
          StringRef pat = mlir::cast<mlir::StringAttr>(p).getValue();
          auto glob = llvm::GlobPattern::create(pat);
          bool any = false;
          if (glob)
            for (ParamOp op : model.getBody().getOps<ParamOp>())
              any |= op.anyName([&](StringRef n) { return glob->match(n); });
          else
            llvm::consumeError(glob.takeError());
          if (!any) {
            error(patternLocs[i],
                  "param_group: pattern '" + pat + "' matches no parameter");
            ok = false;
          }
        }
        llvm::SmallVector<NamedAttribute> g = {
            attr("params", builder.getArrayAttr(patterns))};
        if (failed(options(kw, true, fn, g))) {
          ok = false;
          continue;
        }
        groups.push_back(builder.getDictionaryAttr(g));
        continue;
      }
      if (fn == "clip_grad_norm") {
        auto b = bindArgs(fn, {"max_norm", "norm_type"}, 1, *args, e.loc);
        if (failed(b)) {
          ok = false;
          continue;
        }
        for (StringRef k : {"max_norm", "norm_type"}) {
          if (!b->has(k))
            continue;
          auto d = asNumber(b->get(k), b->locOf(k), k);
          if (failed(d) || !(*d > 0)) {
            if (succeeded(d))
              error(b->locOf(k), k + " must be positive");
            ok = false;
            continue;
          }
          attrs.push_back(
              attr(k == "max_norm" ? "clip_grad_norm" : "clip_norm_type",
                   builder.getF64FloatAttr(*d)));
        }
        continue;
      }
      if (fn == "lr_schedule" || symbolizeLRScheduleKind(fn)) {
        error(e.loc, "write the schedule as 'lr_schedule = " + fn + "(...)'");
        ok = false;
        continue;
      }
      error(e.callee->loc, "unknown training directive '" + fn +
                               "'; expected param_group(...) or "
                               "clip_grad_norm(...)");
      ok = false;
      continue;
    }
    error(st->loc, "expected a training setting (loss = ..., optimizer = ..., "
                   "param_group(...), accumulation_steps = ..., ...)");
    ok = false;
  }
  if (!ok)
    return failure();
  if (!haveOptimizer) {
    error(s.loc, "the train block needs an optimizer: optimizer = " +
                     optimizerNames("(...)") + ", e.g. SGD(lr=0.1)");
    return failure();
  }
  if (!interval.empty() && !schedule) {
    error(s.loc, "lr_schedule_interval is set but there is no lr_schedule");
    return failure();
  }
  if (schedule) {
    if (!interval.empty()) {
      mlir::NamedAttrList withInterval(schedule);
      withInterval.set("interval", builder.getStringAttr(interval));
      schedule = withInterval.getDictionary(&ctx);
    }
    attrs.push_back(attr("lr_schedule", schedule));
  }
  // With its own groups, torch.optim updates what they hold only: a
  // trainable parameter outside them would silently stay as it is.
  if (groupsLoc)
    for (ParamOp p : model.getBody().getOps<ParamOp>()) {
      if (p.getFrozen() || llvm::any_of(groups, [&](mlir::Attribute g) {
            auto pats =
                mlir::cast<mlir::DictionaryAttr>(g).getAs<mlir::ArrayAttr>(
                    "params");
            return llvm::any_of(pats, [&](mlir::Attribute a) {
              return p.anyName([&](StringRef n) {
                return matchParamPattern(
                    mlir::cast<mlir::StringAttr>(a).getValue(), n);
              });
            });
          }))
        continue;
      error(*groupsLoc, "parameter '" + p.getName() +
                            "' is in none of the optimizer's parameter "
                            "groups: torch.optim would never update it");
      hint("add it to a group, or freeze it (freeze " + p.getName().str() +
           ") if it is not to be trained");
      return failure();
    }
  if (!groups.empty())
    attrs.push_back(attr("param_groups", builder.getArrayAttr(groups)));
  attrs.push_back(attr("optimizer", OptimizerKindAttr::get(&ctx, kind)));
  std::string message;
  {
    mlir::ScopedDiagnosticHandler capture(&ctx, [&](mlir::Diagnostic &d) {
      if (message.empty())
        message = d.str();
      return success();
    });
    auto op = TrainOp::create(builder, L(s.loc), mlir::TypeRange(),
                              mlir::ValueRange(), attrs);
    if (failed(mlir::verify(op))) {
      StringRef msg(message);
      msg.consume_front("'graft.train' op ");
      error(msg.starts_with("lr_schedule") ? scheduleLoc : optLoc, msg);
      op->erase();
      return failure();
    }
  }
  return success();
}
