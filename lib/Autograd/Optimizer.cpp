//===- Optimizer.cpp - torch.optim's update rules as graft IR -------------===//
//
// The formulas are torch.optim's single-tensor implementations (torch 1.13
// and 2.x agree on them), written op for op in the same order so that f32
// results round as PyTorch's do: scalars that torch computes in Python
// (bias corrections, step sizes, 1 - lr * weight_decay) are computed here
// in f64 and cast once to the parameter's element type, as torch's scalar
// arguments are. See docs/Optimizers.md.
//
//===----------------------------------------------------------------------===//

#include "graft/Autograd/Optimizer.h"
#include "graft/Dialect/Graft/IR/LRLambda.h"
#include "graft/Dialect/Graft/IR/TrainOptions.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace mlir;
using namespace graft;

bool graft::matchParamPattern(StringRef pattern, StringRef name) {
  // Classic glob matching with `*` only: the first piece is a prefix, the
  // last a suffix, the middle ones are found greedily left to right.
  SmallVector<StringRef> pieces;
  pattern.split(pieces, '*');
  if (pieces.size() == 1)
    return pattern == name;
  if (!name.consume_front(pieces.front()))
    return false;
  if (!name.consume_back(pieces.back()))
    return false;
  for (StringRef piece : ArrayRef<StringRef>(pieces).drop_front().drop_back()) {
    size_t at = name.find(piece);
    if (at == StringRef::npos)
      return false;
    name = name.drop_front(at + piece.size());
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Configuration
//===----------------------------------------------------------------------===//

static double numberOr(DictionaryAttr d, StringRef name, double fallback) {
  Attribute a = d.get(name);
  if (auto f = dyn_cast_or_null<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto i = dyn_cast_or_null<IntegerAttr>(a))
    return static_cast<double>(i.getInt());
  return fallback;
}
static bool boolOr(DictionaryAttr d, StringRef name, bool fallback) {
  if (auto b = dyn_cast_or_null<BoolAttr>(d.get(name)))
    return b.getValue();
  return fallback;
}

/// One group's hyper-parameters: `opts` is the op's options with the
/// group's overrides merged in; what they leave out takes torch.optim's
/// default (optimizerOptions), and an option `kind` does not take is 0.
static OptimizerGroup groupFrom(OptimizerKind kind, DictionaryAttr opts) {
  auto value = [&](StringRef name, unsigned i = 0) -> double {
    Attribute a = opts.get(name);
    if (auto b = dyn_cast_or_null<BoolAttr>(a))
      return b.getValue();
    if (auto p = dyn_cast_or_null<DenseF64ArrayAttr>(a); p && p.size() == 2)
      return p[i];
    if (a)
      return numberOr(opts, name, 0);
    const OptimizerOption *o = findOptimizerOption(kind, name);
    return o ? o->value[i] : 0;
  };
  OptimizerGroup g;
  g.lr = numberOr(opts, "lr", 1e-3);
  g.momentum = value("momentum");
  g.dampening = value("dampening");
  g.weightDecay = value("weight_decay");
  g.beta1 = value("betas", 0);
  g.beta2 = value("betas", 1);
  g.eps = value("eps");
  g.rho = value("rho");
  g.alpha = value("alpha");
  g.lrDecay = value("lr_decay");
  g.initialAccumulator = value("initial_accumulator_value");
  g.momentumDecay = value("momentum_decay");
  g.nesterov = value("nesterov") != 0;
  g.maximize = value("maximize") != 0;
  g.amsgrad = value("amsgrad") != 0;
  g.centered = value("centered") != 0;
  g.decoupledWeightDecay = value("decoupled_weight_decay") != 0;
  return g;
}

FailureOr<OptimizerConfig> OptimizerConfig::get(TrainOp train,
                                                ArrayRef<ParamOp> trainable) {
  OptimizerConfig c;
  c.kind = train.getOptimizer();
  c.params.assign(trainable.begin(), trainable.end());
  c.accumulationSteps = train.getAccumulationSteps();
  if (auto n = train.getClipGradNorm())
    c.clipGradNorm = n->convertToDouble();
  c.clipNormType = train.getClipNormType().convertToDouble();
  if (auto v = train.getClipGradValue())
    c.clipGradValue = v->convertToDouble();

  MLIRContext *ctx = train.getContext();
  DictionaryAttr base = train.getHyperParameters();
  c.groups.push_back(groupFrom(c.kind, base));
  c.groups.back().lrName = "lr";
  SmallVector<ArrayAttr> patterns;
  for (auto [i, g] : llvm::enumerate(train.getParamGroups())) {
    auto group = cast<DictionaryAttr>(g);
    NamedAttrList merged(base);
    for (NamedAttribute a : group)
      merged.set(a.getName(), a.getValue());
    c.groups.push_back(groupFrom(c.kind, merged.getDictionary(ctx)));
    c.groups.back().lrName = "group" + std::to_string(i + 1) + ".lr";
    patterns.push_back(group.getAs<ArrayAttr>("params"));
  }

  for (auto [i, param] : llvm::enumerate(c.params)) {
    ParamOp p = param; // a structured binding cannot be captured in C++17
    unsigned groupIdx = 0;
    for (auto [j, pats] : llvm::enumerate(patterns)) {
      // A tied parameter is in a group when any of its names matches.
      if (!pats || !llvm::any_of(pats, [&](Attribute a) {
            return p.anyName([&](StringRef n) {
              return matchParamPattern(cast<StringAttr>(a).getValue(), n);
            });
          }))
        continue;
      if (groupIdx != 0)
        return train.emitOpError()
               << "some parameters appear in more than one parameter group: '"
               << p.getName() << "' matches parameter groups " << groupIdx - 1
               << " and " << j;
      groupIdx = j + 1;
    }
    c.groupOf.push_back(groupIdx);
    c.groups[groupIdx].members.push_back(i);
  }
  return c;
}

SmallVector<StringRef> OptimizerConfig::stateKeys(unsigned i) const {
  const OptimizerGroup &g = groups[groupOf[i]];
  switch (kind) {
  case OptimizerKind::sgd:
    if (g.momentum != 0)
      return {"momentum_buffer"};
    return {};
  case OptimizerKind::adadelta:
    return {"square_avg", "acc_delta"};
  case OptimizerKind::adagrad:
    return {"sum"};
  case OptimizerKind::rmsprop: {
    SmallVector<StringRef> keys = {"square_avg"};
    if (g.momentum > 0)
      keys.push_back("momentum_buffer");
    if (g.centered)
      keys.push_back("grad_avg");
    return keys;
  }
  default:
    break;
  }
  if (kind == OptimizerKind::adamax)
    return {"exp_avg", "exp_inf"};
  if (kind == OptimizerKind::nadam)
    return {"mu_product", "exp_avg", "exp_avg_sq"};
  if (g.amsgrad)
    return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}

RankedTensorType OptimizerConfig::stateType(unsigned i, StringRef key) const {
  ParamOp p = params[i];
  if (kind == OptimizerKind::nadam && key == "mu_product")
    return RankedTensorType::get({}, Float32Type::get(p.getContext()));
  return cast<RankedTensorType>(p.getType());
}

//===----------------------------------------------------------------------===//
// The step
//===----------------------------------------------------------------------===//

namespace {
/// Small builders for scalar arithmetic on tensors.
struct Emitter {
  OpBuilder &b;
  Location loc;

  static Type elt(Value v) {
    return cast<RankedTensorType>(v.getType()).getElementType();
  }
  Value cst(double v, Type type) {
    auto t = RankedTensorType::get({}, type);
    return ConstantOp::create(
        b, loc, DenseElementsAttr::get(t, ArrayRef<Attribute>{FloatAttr::get(type, v)}));
  }
  Value f64(double v) { return cst(v, b.getF64Type()); }
  /// A rank-0 tensor converted to element type `type` (as torch converts a
  /// Python scalar argument to the tensor's dtype).
  Value to(Value scalar, Type type) {
    if (elt(scalar) == type)
      return scalar;
    return CastOp::create(b, loc, RankedTensorType::get({}, type), scalar);
  }
  Value add(Value x, Value y) { return AddOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return SubOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return MulOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return DivOp::create(b, loc, x, y); }
  Value pow(Value x, Value y) { return PowOp::create(b, loc, x, y); }
  Value sqrt(Value x) { return SqrtOp::create(b, loc, x); }
  Value abs(Value x) { return AbsOp::create(b, loc, x); }
  Value neg(Value x) { return NegOp::create(b, loc, x); }
  Value max(Value x, Value y) { return MaximumOp::create(b, loc, x, y); }
  Value min(Value x, Value y) { return MinimumOp::create(b, loc, x, y); }
  Value sumAll(Value x) {
    return SumOp::create(b, loc, x, ArrayRef<int64_t>{}, false);
  }
  Value maxAll(Value x) {
    return MaxOp::create(b, loc, x, ArrayRef<int64_t>{}, false);
  }
};
} // namespace

/// torch.nn.utils.clip_grad_norm_ (torch 1.13/2.x): the norm of the vector
/// of per-gradient norms, clip_coef = max_norm / (total_norm + 1e-6)
/// clamped to 1, every gradient multiplied by it.
static void clipGradNorm(Emitter &e, double maxNorm, double normType,
                         MutableArrayRef<Value> grads) {
  if (grads.empty())
    return;
  // torch stacks the per-tensor norms, so they share the gradients' dtype;
  // mixed dtypes are combined in f64.
  Type common = Emitter::elt(grads.front());
  if (!llvm::all_of(grads, [&](Value g) { return Emitter::elt(g) == common; }))
    common = e.b.getF64Type();
  bool inf = std::isinf(normType);
  SmallVector<Value> norms;
  for (Value g : grads) {
    Type t = Emitter::elt(g);
    Value n;
    if (inf)
      n = e.maxAll(e.abs(g));
    else if (normType == 2.0)
      n = e.sqrt(e.sumAll(e.mul(g, g)));
    else
      n = e.pow(e.sumAll(e.pow(e.abs(g), e.cst(normType, t))),
                e.cst(1.0 / normType, t));
    norms.push_back(e.to(n, common));
  }
  Value total;
  if (inf) {
    total = norms.front();
    for (Value n : ArrayRef<Value>(norms).drop_front())
      total = e.max(total, n);
  } else if (norms.size() == 1) {
    total = norms.front(); // the norm of a one-element vector
  } else {
    Value sum;
    for (Value n : norms) {
      Value term = normType == 2.0 ? e.mul(n, n) : e.pow(n, e.cst(normType, common));
      sum = sum ? e.add(sum, term) : term;
    }
    total = normType == 2.0 ? e.sqrt(sum)
                            : e.pow(sum, e.cst(1.0 / normType, common));
  }
  Value coef = e.div(e.cst(maxNorm, common), e.add(total, e.cst(1e-6, common)));
  Value clamped = e.min(coef, e.cst(1.0, common));
  for (Value &g : grads)
    g = e.mul(g, e.to(clamped, Emitter::elt(g)));
}

/// Adadelta, Adagrad and RMSprop after weight decay: updates `p` and
/// appends the new state (in stateKeys order) to `newState`. `lrT` is the
/// learning rate in the parameter's type, `lr` in f64.
static void emitAdaptiveStep(Emitter &e, OptimizerKind kind,
                             const OptimizerGroup &g, Value step, Value newStep,
                             Value lrT, Value lr, Value &p, Value grad,
                             ArrayRef<Value> state,
                             SmallVectorImpl<Value> &newState) {
  Type t = Emitter::elt(p);
  auto decay = [&](Value avg, double rate, Value x, Value y) {
    // avg.mul_(rate).addcmul_(x, y, value=1 - rate)
    return e.add(e.mul(avg, e.cst(rate, t)),
                 e.mul(e.mul(e.cst(1 - rate, t), x), y));
  };
  switch (kind) {
  case OptimizerKind::adadelta: {
    Value squareAvg = decay(state[0], g.rho, grad, grad);
    Value std = e.sqrt(e.add(squareAvg, e.cst(g.eps, t)));
    // acc_delta.add(eps).sqrt_().div_(std).mul_(grad)
    Value delta =
        e.mul(e.div(e.sqrt(e.add(state[1], e.cst(g.eps, t))), std), grad);
    Value accDelta = decay(state[1], g.rho, delta, delta);
    newState.append({squareAvg, accDelta});
    p = e.sub(p, e.mul(lrT, delta)); // param.add_(delta, alpha=-lr)
    return;
  }
  case OptimizerKind::adagrad: {
    // The sum starts at initial_accumulator_value (torch fills it when the
    // optimizer is built; the context's state starts at zero).
    Value sum = state[0];
    if (g.initialAccumulator != 0) {
      Value first =
          CompareOp::create(e.b, e.loc, ComparePredicate::eq, step, e.f64(0.0));
      sum = WhereOp::create(e.b, e.loc, first, e.cst(g.initialAccumulator, t),
                            sum);
    }
    sum = e.add(sum, e.mul(grad, grad)); // state_sum.addcmul_(grad, grad)
    newState.push_back(sum);
    // clr = lr / (1 + (step - 1) * lr_decay), in f64 from the new count.
    Value clr = e.div(lr, e.add(e.f64(1.0), e.mul(e.sub(newStep, e.f64(1.0)),
                                                  e.f64(g.lrDecay))));
    Value std = e.add(e.sqrt(sum), e.cst(g.eps, t));
    // param.addcdiv_(grad, std, value=-clr)
    p = e.sub(p, e.div(e.mul(e.to(clr, t), grad), std));
    return;
  }
  case OptimizerKind::rmsprop: {
    Value squareAvg = decay(state[0], g.alpha, grad, grad);
    newState.push_back(squareAvg);
    Value avg, gradAvg;
    if (g.centered) {
      // grad_avg.mul_(alpha).add_(grad, alpha=1 - alpha)
      gradAvg = e.add(e.mul(state.back(), e.cst(g.alpha, t)),
                      e.mul(e.cst(1 - g.alpha, t), grad));
      // square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
      avg = e.sqrt(e.sub(squareAvg, e.mul(gradAvg, gradAvg)));
    } else {
      avg = e.sqrt(squareAvg);
    }
    avg = e.add(avg, e.cst(g.eps, t));
    if (g.momentum > 0) {
      // buf.mul_(momentum).addcdiv_(grad, avg); param.add_(buf, alpha=-lr)
      Value buf =
          e.add(e.mul(state[1], e.cst(g.momentum, t)), e.div(grad, avg));
      newState.push_back(buf);
      p = e.sub(p, e.mul(lrT, buf));
    } else {
      // param.addcdiv_(grad, avg, value=-lr)
      p = e.sub(p, e.div(e.mul(lrT, grad), avg));
    }
    if (gradAvg)
      newState.push_back(gradAvg);
    return;
  }
  default:
    llvm_unreachable("not an adaptive optimizer");
  }
}

/// Adamax, NAdam and RAdam after weight decay: updates `p` and appends the
/// new state (in stateKeys order) to `newState`. `lr` is the learning rate
/// in f64; `step` the steps taken before this one, `newStep` with it.
static void emitAdamVariantStep(Emitter &e, OptimizerKind kind,
                                const OptimizerGroup &g, Value step,
                                Value newStep, Value lr, Value &p, Value grad,
                                ArrayRef<Value> state,
                                SmallVectorImpl<Value> &newState) {
  Type t = Emitter::elt(p);
  Value one = e.f64(1.0);
  // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
  Value expAvg = e.add(
      e.mul(state[kind == OptimizerKind::nadam ? 1 : 0], e.cst(g.beta1, t)),
      e.mul(e.cst(1 - g.beta1, t), grad));
  if (kind == OptimizerKind::adamax) {
    // exp_inf = amax(cat([exp_inf.mul_(beta2), grad.abs().add_(eps)]), 0)
    Value expInf = e.max(e.mul(state[1], e.cst(g.beta2, t)),
                         e.add(e.abs(grad), e.cst(g.eps, t)));
    newState.append({expAvg, expInf});
    // clr = lr / (1 - beta1 ** step); param.addcdiv_(exp_avg, exp_inf,
    // value=-clr)
    Value clr = e.div(lr, e.sub(one, e.pow(e.f64(g.beta1), newStep)));
    p = e.sub(p, e.div(e.mul(e.to(clr, t), expAvg), expInf));
    return;
  }
  // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
  Value expAvgSq = e.add(e.mul(state.back(), e.cst(g.beta2, t)),
                         e.mul(e.mul(e.cst(1 - g.beta2, t), grad), grad));
  Value bc2 = e.sub(one, e.pow(e.f64(g.beta2), newStep));
  if (kind == OptimizerKind::nadam) {
    // The momentum cache mu_t = beta1 * (1 - 0.5 * 0.96 ** (t *
    // momentum_decay)), in f64 as Python computes it.
    auto muAt = [&](Value s) {
      return e.mul(e.f64(g.beta1),
                   e.sub(one, e.mul(e.f64(0.5),
                                    e.pow(e.f64(0.96),
                                          e.mul(s, e.f64(g.momentumDecay))))));
    };
    Value mu = muAt(newStep), muNext = muAt(e.add(newStep, one));
    // mu_product *= mu: a float32 tensor that starts at 1 (the state starts
    // at zero, so the first step reads 1).
    Type f32 = e.b.getF32Type();
    Value first =
        CompareOp::create(e.b, e.loc, ComparePredicate::eq, step, e.f64(0.0));
    Value muProduct =
        e.mul(WhereOp::create(e.b, e.loc, first, e.cst(1.0, f32), state[0]),
              e.to(mu, f32));
    // torch 2.x: mu_product_next = mu_product.item() * mu_next, in f64.
    // (torch 1.13 multiplied by mu once more, a bug fixed in 2.0.)
    Value muProductPrev = e.to(muProduct, e.b.getF64Type());
    Value muProductNext = e.mul(muProductPrev, muNext);
    newState.append({muProduct, expAvg, expAvgSq});
    // denom = exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
    Value denom = e.add(e.sqrt(e.div(expAvgSq, e.to(bc2, t))), e.cst(g.eps, t));
    // param.addcdiv_(grad, denom, value=-lr * (1 - mu) / (1 - mu_product))
    Value c1 = e.div(e.mul(lr, e.sub(one, mu)), e.sub(one, muProductPrev));
    p = e.sub(p, e.div(e.mul(e.to(c1, t), grad), denom));
    // param.addcdiv_(exp_avg, denom,
    //                value=-lr * mu_next / (1 - mu_product_next))
    Value c2 = e.div(e.mul(lr, muNext), e.sub(one, muProductNext));
    p = e.sub(p, e.div(e.mul(e.to(c2, t), expAvg), denom));
    return;
  }
  assert(kind == OptimizerKind::radam && "not an Adam variant");
  newState.append({expAvg, expAvgSq});
  Value bc1 = e.sub(one, e.pow(e.f64(g.beta1), newStep));
  // bias_corrected_exp_avg * lr
  Value plain = e.mul(e.div(expAvg, e.to(bc1, t)), e.to(lr, t));
  // The length of the approximated simple moving average, and its maximum.
  double rhoInf = 2 / (1 - g.beta2) - 1;
  // rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
  Value rhoT = e.sub(e.f64(rhoInf), e.div(e.mul(e.mul(e.f64(2.0), newStep),
                                                e.pow(e.f64(g.beta2), newStep)),
                                          bc2));
  // rect = sqrt((rho_t - 4) * (rho_t - 2) * rho_inf /
  //             ((rho_inf - 4) * (rho_inf - 2) * rho_t))
  Value rect = e.sqrt(
      e.div(e.mul(e.mul(e.sub(rhoT, e.f64(4.0)), e.sub(rhoT, e.f64(2.0))),
                  e.f64(rhoInf)),
            e.mul(e.f64((rhoInf - 4) * (rhoInf - 2)), rhoT)));
  // adaptive_lr = sqrt(bias_correction2) / exp_avg_sq.sqrt().add_(eps):
  // torch divides a number by a tensor as tensor.reciprocal() * number.
  Value adaptive =
      e.mul(e.div(e.cst(1.0, t), e.add(e.sqrt(expAvgSq), e.cst(g.eps, t))),
            e.to(e.sqrt(bc2), t));
  Value rectified = e.mul(e.mul(plain, adaptive), e.to(rect, t));
  // Rectified once the variance is tractable (rho_t > 5).
  Value tractable =
      CompareOp::create(e.b, e.loc, ComparePredicate::gt, rhoT, e.f64(5.0));
  // param.add_(update, alpha=-1.0)
  p = e.sub(p, WhereOp::create(e.b, e.loc, tractable, rectified, plain));
}

void graft::emitOptimizerStep(OpBuilder &b, Location loc,
                              const OptimizerConfig &config,
                              bool averageAccumulated, StepValues &v) {
  Emitter e{b, loc};
  unsigned n = config.params.size();
  assert(v.params.size() == n && v.grads.size() == n && v.state.size() == n &&
         v.lrs.size() == config.groups.size() && "step values do not match");

  SmallVector<Value> grads(v.grads);
  // Accumulated micro-batch gradients are summed; their mean is the
  // gradient of the whole batch under a mean-reduced loss.
  // The count is a run-time hyper-parameter (the model's by default), so a
  // step can also be taken from one batch's gradients (divisor 1).
  if (averageAccumulated && config.accumulationSteps > 1) {
    assert(v.accumulationSteps && "the step has no accumulation_steps");
    llvm::SmallDenseMap<Type, Value> count; // per element type, cast once
    for (Value &g : grads) {
      Value &n = count[Emitter::elt(g)];
      if (!n)
        n = e.to(v.accumulationSteps, Emitter::elt(g));
      g = e.div(g, n);
    }
  }
  if (config.clipGradNorm)
    clipGradNorm(e, *config.clipGradNorm, config.clipNormType, grads);
  if (config.clipGradValue) {
    // clip_grad_value_: grad.clamp_(min=-clip_value, max=clip_value).
    for (Value &g : grads) {
      Type t = Emitter::elt(g);
      g = e.min(e.max(g, e.cst(-*config.clipGradValue, t)),
                e.cst(*config.clipGradValue, t));
    }
  }

  v.newStep = e.add(v.step, e.f64(1.0));
  // SGD's momentum buffer is created from the first gradient.
  Value firstStep;
  if (config.kind == OptimizerKind::sgd &&
      llvm::any_of(config.groups,
                   [](const OptimizerGroup &g) { return g.momentum != 0; }))
    firstStep = CompareOp::create(b, loc, ComparePredicate::eq, v.step, e.f64(0.0));

  v.newParams.clear();
  v.newState.clear();
  for (unsigned i = 0; i < n; ++i) {
    const OptimizerGroup &g = config.groups[config.groupOf[i]];
    Value p = v.params[i], grad = grads[i];
    Type t = Emitter::elt(p);
    Value lr = v.lrs[config.groupOf[i]];
    SmallVector<Value> state;
    if (g.maximize)
      grad = e.neg(grad);

    if (config.kind == OptimizerKind::sgd) {
      if (g.weightDecay != 0) // grad.add(param, alpha=weight_decay)
        grad = e.add(grad, e.mul(e.cst(g.weightDecay, t), p));
      if (g.momentum != 0) {
        Value m = e.cst(g.momentum, t);
        // buf.mul_(momentum).add_(grad, alpha=1 - dampening), or
        // clone(grad) on the first step.
        Value later = e.add(e.mul(v.state[i][0], m),
                            e.mul(e.cst(1 - g.dampening, t), grad));
        Value buf = WhereOp::create(b, loc, firstStep, grad, later);
        state.push_back(buf);
        grad = g.nesterov ? e.add(grad, e.mul(m, buf)) : buf;
      }
      // param.add_(grad, alpha=-lr)
      v.newParams.push_back(e.sub(p, e.mul(e.to(lr, t), grad)));
      v.newState.push_back(std::move(state));
      continue;
    }

    if (config.kind == OptimizerKind::adadelta ||
        config.kind == OptimizerKind::adagrad ||
        config.kind == OptimizerKind::rmsprop) {
      if (g.weightDecay != 0) // grad.add(param, alpha=weight_decay)
        grad = e.add(grad, e.mul(e.cst(g.weightDecay, t), p));
      emitAdaptiveStep(e, config.kind, g, v.step, v.newStep, e.to(lr, t), lr, p,
                       grad, v.state[i], state);
      v.newParams.push_back(p);
      v.newState.push_back(std::move(state));
      continue;
    }

    // The Adam family.
    if (g.weightDecay != 0) {
      if (config.kind == OptimizerKind::adamw ||
          g.decoupledWeightDecay) // param.mul_(1 - lr * wd)
        p = e.mul(p, e.to(e.sub(e.f64(1.0), e.mul(lr, e.f64(g.weightDecay))), t));
      else // grad.add(param, alpha=weight_decay)
        grad = e.add(grad, e.mul(e.cst(g.weightDecay, t), p));
    }
    if (config.kind == OptimizerKind::adamax ||
        config.kind == OptimizerKind::nadam ||
        config.kind == OptimizerKind::radam) {
      emitAdamVariantStep(e, config.kind, g, v.step, v.newStep, lr, p, grad,
                          v.state[i], state);
      v.newParams.push_back(p);
      v.newState.push_back(std::move(state));
      continue;
    }
    // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    Value expAvg = e.add(e.mul(v.state[i][0], e.cst(g.beta1, t)),
                         e.mul(e.cst(1 - g.beta1, t), grad));
    // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    Value expAvgSq = e.add(e.mul(v.state[i][1], e.cst(g.beta2, t)),
                           e.mul(e.mul(e.cst(1 - g.beta2, t), grad), grad));
    state.push_back(expAvg);
    state.push_back(expAvgSq);
    // Bias corrections in f64, from the new step count.
    Value bc1 = e.sub(e.f64(1.0), e.pow(e.f64(g.beta1), v.newStep));
    Value bc2 = e.sub(e.f64(1.0), e.pow(e.f64(g.beta2), v.newStep));
    Value stepSize = e.div(lr, bc1);
    Value bc2Sqrt = e.sqrt(bc2);
    Value second = expAvgSq;
    if (g.amsgrad) {
      second = e.max(v.state[i][2], expAvgSq);
      state.push_back(second);
    }
    // denom = (sqrt(v) / sqrt(bias_correction2)).add_(eps)
    Value denom = e.add(e.div(e.sqrt(second), e.to(bc2Sqrt, t)), e.cst(g.eps, t));
    // param.addcdiv_(exp_avg, denom, value=-step_size)
    v.newParams.push_back(
        e.sub(p, e.div(e.mul(e.to(stepSize, t), expAvg), denom)));
    v.newState.push_back(std::move(state));
  }
}

//===----------------------------------------------------------------------===//
// Learning-rate schedules
//===----------------------------------------------------------------------===//

std::optional<LRSchedule> LRSchedule::get(TrainOp train) {
  DictionaryAttr d = train.getLrScheduleAttr();
  if (!d)
    return std::nullopt;
  return get(d);
}

LRSchedule LRSchedule::get(DictionaryAttr d) {
  LRSchedule s;
  s.kind = *symbolizeLRScheduleKind(d.getAs<StringAttr>("kind").getValue());
  auto integer = [&](StringRef name, int64_t fallback) {
    return static_cast<int64_t>(numberOr(d, name, static_cast<double>(fallback)));
  };
  if (auto interval = d.getAs<StringAttr>("interval"))
    s.perStep = interval.getValue() == "step";
  if (auto m = d.getAs<DenseI64ArrayAttr>("milestones"))
    s.milestones.assign(m.asArrayRef().begin(), m.asArrayRef().end());
  s.gamma = numberOr(d, "gamma", 0.1);
  switch (s.kind) {
  case Kind::StepLR:
    s.stepSize = integer("step_size", 1);
    break;
  case Kind::MultiStepLR:
  case Kind::ExponentialLR:
    break;
  case Kind::CosineAnnealingLR:
    s.tMax = integer("T_max", 1);
    s.etaMin = numberOr(d, "eta_min", 0.0);
    break;
  case Kind::LinearLR:
    s.startFactor = numberOr(d, "start_factor", 1.0 / 3);
    s.endFactor = numberOr(d, "end_factor", 1.0);
    s.totalIters = integer("total_iters", 5);
    break;
  case Kind::ConstantLR:
    s.factor = numberOr(d, "factor", 1.0 / 3);
    s.totalIters = integer("total_iters", 5);
    break;
  case Kind::CosineAnnealingWarmRestarts:
    s.t0 = integer("T_0", 1);
    s.tMult = integer("T_mult", 1);
    s.etaMin = numberOr(d, "eta_min", 0.0);
    break;
  case Kind::OneCycleLR:
    s.maxLR = numberOr(d, "max_lr", 0.0);
    s.totalSteps = d.get("total_steps")
                       ? integer("total_steps", 1)
                       : integer("epochs", 1) * integer("steps_per_epoch", 1);
    s.pctStart = numberOr(d, "pct_start", 0.3);
    if (auto a = d.getAs<StringAttr>("anneal_strategy"))
      s.cosine = a.getValue() == "cos";
    s.divFactor = numberOr(d, "div_factor", 25.0);
    s.finalDivFactor = numberOr(d, "final_div_factor", 1e4);
    s.threePhase = boolOr(d, "three_phase", false);
    break;
  case Kind::LambdaLR:
    s.lambda = d.get("lr_lambda");
    break;
  case Kind::ReduceLROnPlateau:
    s.plateau = Plateau::get(d);
    break;
  case Kind::SequentialLR:
    for (Attribute child : d.getAs<ArrayAttr>("schedulers"))
      s.schedules.push_back(get(cast<DictionaryAttr>(child)));
    break;
  }
  return s;
}

Plateau Plateau::get(DictionaryAttr d) {
  Plateau p;
  if (auto m = d.getAs<StringAttr>("mode"))
    p.maxMode = m.getValue() == "max";
  if (auto m = d.getAs<StringAttr>("threshold_mode"))
    p.relative = m.getValue() == "rel";
  p.factor = numberOr(d, "factor", 0.1);
  p.threshold = numberOr(d, "threshold", 1e-4);
  p.minLR = numberOr(d, "min_lr", 0.0);
  p.eps = numberOr(d, "eps", 1e-8);
  p.patience = static_cast<int64_t>(numberOr(d, "patience", 10));
  p.cooldown = static_cast<int64_t>(numberOr(d, "cooldown", 0));
  // torch's _init_is_better: the worst value of the mode.
  p.best = p.maxMode ? -INFINITY : INFINITY;
  return p;
}

void Plateau::step(double metric, MutableArrayRef<double> lrs) {
  // torch's is_better, in its order of operations.
  bool better = maxMode ? (relative ? metric > best * (threshold + 1)
                                    : metric > best + threshold)
                        : (relative ? metric < best * (1 - threshold)
                                    : metric < best - threshold);
  if (better) {
    best = metric;
    badEpochs = 0;
  } else {
    ++badEpochs;
  }
  if (cooldownCounter > 0) { // in cooldown: bad epochs do not count
    --cooldownCounter;
    badEpochs = 0;
  }
  if (badEpochs > patience) {
    for (double &lr : lrs) {
      double reduced = std::max(lr * factor, minLR);
      if (lr - reduced > eps)
        lr = reduced;
    }
    cooldownCounter = cooldown;
    badEpochs = 0;
  }
}

/// torch's cosine annealing from `start` to `end`, `pct` of the way.
static double annealCos(double start, double end, double pct) {
  return end + (start - end) / 2.0 * (std::cos(M_PI * pct) + 1);
}

double graft::scheduledLR(const LRSchedule &s, int64_t epoch, double baseLR) {
  using Kind = LRSchedule::Kind;
  auto e = static_cast<double>(epoch);
  switch (s.kind) {
  case Kind::StepLR:
    return baseLR * std::pow(s.gamma, static_cast<double>(epoch / s.stepSize));
  case Kind::MultiStepLR: {
    // bisect_right(milestones, epoch): the milestones passed.
    auto passed =
        llvm::count_if(s.milestones, [&](int64_t m) { return m <= epoch; });
    return baseLR * std::pow(s.gamma, static_cast<double>(passed));
  }
  case Kind::ExponentialLR:
    return baseLR * std::pow(s.gamma, e);
  case Kind::CosineAnnealingLR:
    return s.etaMin +
           (baseLR - s.etaMin) *
               (1 + std::cos(M_PI * e / static_cast<double>(s.tMax))) / 2;
  case Kind::LinearLR: {
    double done = static_cast<double>(std::min(epoch, s.totalIters));
    return baseLR * (s.startFactor + (s.endFactor - s.startFactor) * done /
                                         static_cast<double>(s.totalIters));
  }
  case Kind::ConstantLR:
    return baseLR * (s.factor + (epoch >= s.totalIters) * (1 - s.factor));
  case Kind::CosineAnnealingWarmRestarts: {
    // torch's recursion: T_cur counts up and restarts at T_i, which grows
    // by T_mult at each restart.
    int64_t tCur = epoch, tI = s.t0;
    while (tCur >= tI) {
      tCur -= tI;
      tI *= s.tMult;
    }
    return s.etaMin + (baseLR - s.etaMin) *
                          (1 + std::cos(M_PI * static_cast<double>(tCur) /
                                        static_cast<double>(tI))) /
                          2;
  }
  case Kind::OneCycleLR: {
    double initial = s.maxLR / s.divFactor;
    double minimum = initial / s.finalDivFactor;
    auto total = static_cast<double>(s.totalSteps);
    struct Phase {
      double endStep, startLR, endLR;
    };
    SmallVector<Phase, 3> phases;
    if (s.threePhase)
      phases = {{s.pctStart * total - 1, initial, s.maxLR},
                {2 * s.pctStart * total - 2, s.maxLR, initial},
                {total - 1, initial, minimum}};
    else
      phases = {{s.pctStart * total - 1, initial, s.maxLR},
                {total - 1, s.maxLR, minimum}};
    // torch raises past total_steps; its value there holds here.
    e = std::min(e, total);
    double startStep = 0;
    for (auto [i, phase] : llvm::enumerate(phases)) {
      if (e <= phase.endStep || i + 1 == phases.size()) {
        double pct = (e - startStep) / (phase.endStep - startStep);
        return s.cosine ? annealCos(phase.startLR, phase.endLR, pct)
                        : (phase.endLR - phase.startLR) * pct + phase.startLR;
      }
      startStep = phase.endStep;
    }
    llvm_unreachable("no phase");
  }
  case Kind::LambdaLR:
    return baseLR * evaluateLRLambda(s.lambda, e);
  case Kind::ReduceLROnPlateau: // its state decides (Plateau::step)
    return baseLR;
  case Kind::SequentialLR: {
    // The schedule of the last milestone passed, from its own epoch 0 (torch
    // calls step(0) on it there).
    size_t idx =
        llvm::count_if(s.milestones, [&](int64_t m) { return m <= epoch; });
    int64_t start = idx ? s.milestones[idx - 1] : 0;
    return scheduledLR(s.schedules[idx], epoch - start, baseLR);
  }
  }
  llvm_unreachable("unknown schedule");
}

double graft::scheduledLR(TrainOp train, int64_t epoch, double baseLR) {
  if (std::optional<LRSchedule> s = LRSchedule::get(train))
    return scheduledLR(*s, epoch, baseLR);
  return baseLR;
}
