//===- Classifier.cpp - Training and predicting with a classifier ---------===//

#include "graft/Training/Classifier.h"
#include "graft/Autograd/Optimizer.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <type_traits>

using namespace mlir;
using namespace graft;
using namespace graft::training;

llvm::Expected<Classifier> graft::training::inspectClassifier(ModelOp model) {
  Classifier info;
  info.model = model;
  for (InputOp in : info.model.getBody().getOps<InputOp>()) {
    RankedTensorType t = in.getType();
    if (isa<FloatType>(t.getElementType()) && !info.features)
      info.features = in;
    else if (isa<IntegerType>(t.getElementType()) && !info.labels)
      info.labels = in;
    else
      return trainingError("model '" + info.model.getSymName() +
                           "' has more inputs than features and labels ('" +
                           in.getName() +
                           "'); train and predict need exactly one float "
                           "input and one integer label input");
  }
  if (!info.features || info.features.getType().getRank() < 1)
    return trainingError("model '" + info.model.getSymName() +
                         "' needs a float input shaped [B, ...]");
  if (!info.features.getType().getElementType().isF32())
    return trainingError("train and predict read f32 features; input '" +
                         info.features.getName() + "' is not f32");
  RankedTensorType ft = info.features.getType();
  info.batch = ft.getDimSize(0);
  info.featureCount = ft.getNumElements() / info.batch;
  if (info.labels && (info.labels.getType().getRank() != 1 ||
                      info.labels.getType().getDimSize(0) != info.batch))
    return trainingError("the label input '" + info.labels.getName() +
                         "' must be shaped [B]");
  for (OutputOp out : info.model.getBody().getOps<OutputOp>()) {
    auto t = cast<RankedTensorType>(out.getValue().getType());
    if (isa<FloatType>(t.getElementType()) && t.getRank() == 2 &&
        t.getDimSize(0) == info.batch) {
      info.scores = out.getName().str();
      info.classes = t.getDimSize(1);
      break;
    }
  }
  if (info.scores.empty())
    return trainingError("model '" + info.model.getSymName() +
                         "' needs an output of class scores shaped [B, C]");
  return info;
}

llvm::Expected<std::vector<int64_t>>
graft::training::predictAll(JITModel &jit, Classifier c,
                            std::vector<Storage> &state, const Dataset &data) {
  std::string fn = (c.model.getSymName() + "_predict").str();
  const EntryPoint *ep = jit.entryPoint(fn);
  std::vector<Storage> args = slotsOf(ep->args), results = slotsOf(ep->results);
  // Parameters and buffers by name, from the training state.
  copyState(args, state);
  Storage *x = nullptr, *scores = nullptr;
  for (Storage &a : args)
    if (a.slot.role == Role::input && a.slot.name == c.features.getName())
      x = &a;
  for (Storage &r : results)
    if (r.slot.name == c.scores)
      scores = &r;
  if (!x || !scores)
    return trainingError(
        "the predict entry point lacks the features or scores");
  std::vector<int64_t> predictions;
  int64_t B = c.batch, F = c.featureCount, C = c.classes;
  std::vector<void *> ap = pointers(args), rp = pointers(results);
  for (int64_t start = 0; start < data.rows(); start += B) {
    for (int64_t i = 0; i < B; ++i) {
      int64_t row = std::min(start + i, data.rows() - 1);
      std::memcpy(x->f32() + i * F, data.x.data() + row * F, F * sizeof(float));
    }
    if (llvm::Error e = jit.call(fn, ap, rp))
      return std::move(e);
    for (int64_t i = 0; i < B && start + i < data.rows(); ++i) {
      const float *row = scores->f32() + i * C;
      predictions.push_back(std::max_element(row, row + C) - row);
    }
  }
  return predictions;
}

double graft::training::accuracy(const std::vector<int64_t> &pred,
                                 const Dataset &data) {
  int64_t right = 0;
  for (size_t i = 0; i < pred.size(); ++i)
    right += pred[i] == data.y[i];
  return 100.0 * right / (double)pred.size();
}
