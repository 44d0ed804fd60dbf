//===- Evaluator.cpp - Reference evaluator of graft models ----------------===//
//
// One small function per op, on plain row-major tensors of doubles, in a
// file per op family (OpEvaluator.h); this file holds the driver. Result
// shapes and element types are read from the (verified) IR; every loop is
// the textbook definition of the PyTorch op.
//
//===----------------------------------------------------------------------===//

#include "OpEvaluator.h"
#include "graft_rng.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace graft;
using namespace graft::eval;
using llvm::Error;

//===----------------------------------------------------------------------===//
// Counter-based random numbers
//===----------------------------------------------------------------------===//

// graft_rng.h: the C runtime's and the generated code's definition.
double graft::eval::dropoutUniform(uint64_t seed, int64_t stream,
                                   int64_t index) {
  return graft_rng_dropout_uniform(seed, stream, index);
}

double graft::eval::initUniform(uint64_t seed, llvm::StringRef name,
                                int64_t index) {
  return graft_rng_init_uniform(
      graft_rng_init_base(seed, name.data(), name.size()), index);
}

double graft::eval::initNormal(uint64_t seed, llvm::StringRef name,
                               int64_t index) {
  return graft_rng_init_normal(
      graft_rng_init_base(seed, name.data(), name.size()), index);
}

//===----------------------------------------------------------------------===//
// Initialisers (torch.nn.init)
//===----------------------------------------------------------------------===//

llvm::Expected<Tensor> graft::eval::initTensor(InitAttr init,
                                               RankedTensorType type,
                                               uint64_t seed,
                                               llvm::StringRef name) {
  std::optional<DType> dt = elementTypeOf(type.getElementType());
  if (!dt)
    return err("unsupported element type");
  Tensor t = Tensor::filled(type.getShape(), *dt);
  auto uniform = [&](double lo, double hi) {
    for (int64_t i = 0; i < t.numel(); ++i)
      t.data[i] = lo + (hi - lo) * initUniform(seed, name, i);
  };
  auto normal = [&](double mean, double std) {
    for (int64_t i = 0; i < t.numel(); ++i)
      t.data[i] = mean + std * initNormal(seed, name, i);
  };
  llvm::Expected<InitDistribution> dist = resolveInit(init, type.getShape());
  if (!dist)
    return dist.takeError();
  switch (dist->kind) {
  case InitDistribution::Zero:
    break;
  case InitDistribution::Constant:
    std::fill(t.data.begin(), t.data.end(), dist->p0);
    break;
  case InitDistribution::Uniform:
    uniform(dist->p0, dist->p1);
    break;
  case InitDistribution::Normal:
    normal(dist->p0, dist->p1);
    break;
  case InitDistribution::TruncNormal: {
    uint64_t base = graft_rng_init_base(seed, name.data(), name.size());
    for (int64_t i = 0; i < t.numel(); ++i)
      t.data[i] = graft_rng_init_trunc_normal(base, i, dist->p0, dist->p1,
                                              dist->p2, dist->p3);
    break;
  }
  }
  for (double &x : t.data)
    x = roundTo(t.dtype, x);
  return t;
}

//===----------------------------------------------------------------------===//
// The evaluator
//===----------------------------------------------------------------------===//

Evaluator::Evaluator(ModelOp model, Mode mode, uint64_t seed)
    : model(model), mode(mode), seed(seed) {}

void Evaluator::setInput(llvm::StringRef name, Tensor value) {
  inputs[name] = std::move(value);
}
void Evaluator::setParam(llvm::StringRef name, Tensor value) {
  params[name] = std::move(value);
}
void Evaluator::setOverride(Value v, Tensor t) { overrides[v] = std::move(t); }
void Evaluator::holdPaddingRows(EmbeddingOp op, Tensor weight) {
  paddingRows[op] = std::move(weight);
}
void Evaluator::setHook(llvm::StringRef name,
                        std::function<Tensor(const Tensor &)> hook) {
  hooks[name] = std::move(hook);
}

llvm::Error Evaluator::initParams() {
  for (Operation &op : model.getBody().front()) {
    InitAttr init;
    llvm::StringRef name;
    RankedTensorType type;
    if (auto p = dyn_cast<ParamOp>(op)) {
      init = p.getInit();
      name = p.getName();
      type = p.getType();
    } else if (auto b = dyn_cast<BufferOp>(op)) {
      init = b.getInit();
      name = b.getName();
      type = b.getType();
    } else {
      continue;
    }
    if (params.count(name))
      continue;
    auto t = initTensor(init, type, seed, name);
    if (!t)
      return err(llvm::formatv("cannot initialise '{0}': {1}", name,
                               llvm::toString(t.takeError())));
    params[name] = std::move(*t);
  }
  return llvm::Error::success();
}

const Tensor &Evaluator::value(Value v) const {
  auto it = values.find(v);
  assert(it != values.end() && "value not computed");
  return it->second;
}

static std::optional<Tensor> lookup(const llvm::StringMap<Tensor> &m,
                                    llvm::StringRef name) {
  auto it = m.find(name);
  if (it == m.end())
    return std::nullopt;
  return it->second;
}

std::optional<Tensor> Evaluator::loss() const {
  if (!lossValue || !values.count(lossValue))
    return std::nullopt;
  return values.lookup(lossValue);
}
std::optional<Tensor> Evaluator::gradient(llvm::StringRef name) const {
  return lookup(gradients, name);
}
std::optional<Tensor> Evaluator::output(llvm::StringRef name) const {
  return lookup(outputs, name);
}
std::optional<Tensor> Evaluator::buffer(llvm::StringRef name) const {
  if (auto t = lookup(updatedBuffers, name))
    return t;
  return lookup(params, name);
}
std::optional<Tensor> Evaluator::param(llvm::StringRef name) const {
  return lookup(params, name);
}
std::optional<Tensor> Evaluator::input(llvm::StringRef name) const {
  return lookup(inputs, name);
}

llvm::Error Evaluator::run() {
  values.clear();
  gradients.clear();
  outputs.clear();
  updatedBuffers.clear();
  gradientOrder.clear();
  lossValue = nullptr;
  return runBlock(model.getBody().front());
}

llvm::Error Evaluator::runBlock(Block &block) {
  for (Operation &op : block) {
    if (llvm::Error e = evalOp(&op))
      return e;
    if (stopAtLoss && isa<LossOp>(op))
      break;
  }
  return llvm::Error::success();
}

llvm::Error Evaluator::evalOp(Operation *op) {
  OpEvaluator oe(*this, op);
  for (Value v : op->getOperands())
    if (!values.count(v))
      return oe.error("operand has no value (evaluated out of order?)");
  if (llvm::Error e = oe.eval())
    return e;
  for (Value r : op->getResults()) {
    auto it = overrides.find(r);
    if (it == overrides.end())
      continue;
    if (it->second.shape != values[r].shape ||
        it->second.numel() != values[r].numel())
      return oe.error("override of shape " + it->second.typeStr() +
                      " for a value of shape " + values[r].typeStr());
    Tensor t = it->second;
    t.dtype = values[r].dtype;
    values[r] = std::move(t);
  }
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// The op dispatch, and the model's own ops
//===----------------------------------------------------------------------===//

llvm::Error OpEvaluator::eval() {
  for (auto family :
       {&OpEvaluator::evalModel, &OpEvaluator::evalElementwise,
        &OpEvaluator::evalShapes, &OpEvaluator::evalReductions,
        &OpEvaluator::evalProducts, &OpEvaluator::evalConvolution,
        &OpEvaluator::evalPooling, &OpEvaluator::evalNormalization,
        &OpEvaluator::evalLosses, &OpEvaluator::evalIndexing})
    if (std::optional<llvm::Error> e = (this->*family)())
      return std::move(*e);
  return error("the reference evaluator does not support this op");
}

std::optional<llvm::Error> OpEvaluator::evalModel() {
  return llvm::TypeSwitch<Operation *, std::optional<llvm::Error>>(op)
      .Case([&](InputOp o) -> Error {
        auto it = ev.inputs.find(o.getName());
        if (it == ev.inputs.end())
          return error("no value given for input '" + o.getName() + "'");
        if (llvm::ArrayRef<int64_t>(it->second.shape) !=
                o.getType().getShape() ||
            it->second.numel() != o.getType().getNumElements())
          return error(
              "input '" + o.getName() + "' given as " + it->second.typeStr() +
              ", expected shape " +
              Tensor::filled(o.getType().getShape(), DType::F64).typeStr());
        set(it->second);
        return ok();
      })
      .Case<ParamOp, BufferOp>([&](auto o) -> Error {
        auto it = ev.params.find(o.getName());
        if (it == ev.params.end())
          return error("no value given for '" + o.getName() +
                       "' (call initParams() or setParam())");
        if (llvm::ArrayRef<int64_t>(it->second.shape) !=
                o.getType().getShape() ||
            it->second.numel() != o.getType().getNumElements())
          return error(
              "'" + o.getName() + "' given as " + it->second.typeStr() +
              ", expected shape " +
              Tensor::filled(o.getType().getShape(), DType::F64).typeStr());
        set(it->second);
        return ok();
      })
      .Case([&](LossOp o) {
        ev.lossValue = o.getValue();
        return ok();
      })
      .Case([&](OutputOp o) {
        ev.outputs[o.getName()] = in(o.getValue());
        return ok();
      })
      // Marks and the optimizer declaration: nothing to compute.
      .Case<RetainGradOp, ReadGradOp, TrainOp>([&](auto) { return ok(); })
      .Case([&](GradientOp o) {
        if (!ev.gradients.count(o.getName()))
          ev.gradientOrder.push_back(o.getName().str());
        ev.gradients[o.getName()] = in(o.getValue());
        return ok();
      })
      .Case<NoGradOp, InferenceOp>([&](auto o) -> Error {
        Block &body = o.getBody().front();
        if (Error e = ev.runBlock(body))
          return e;
        auto yield = cast<YieldOp>(body.getTerminator());
        for (auto [i, v] : llvm::enumerate(yield.getValues()))
          set(ev.values[v], i);
        return ok();
      })
      .Case([&](YieldOp) { return ok(); })
      .Default([](Operation *) { return std::nullopt; });
}
