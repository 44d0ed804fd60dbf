//===- Classifier.h - Training and predicting with a classifier -*- C++ -*-===//
//
// A classifier: a model with one float input (the features, [B, ...]), one
// integer input (the labels, [B]) and a float output of class scores
// ([B, C]). `graft predict` asks it for predictions in batches; `graft
// train` trains it as any model (Trainer.h) and reports its accuracy.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_TRAINING_CLASSIFIER_H
#define GRAFT_TRAINING_CLASSIFIER_H

#include "graft/Runtime/Dataset.h"
#include "graft/Training/State.h"

namespace graft::training {

/// A classifier model's inputs and scores.
struct Classifier {
  ModelOp model;
  InputOp features, labels;
  std::string scores; // the [B, C] output
  int64_t batch = 0, featureCount = 0, classes = 0;
};

/// `model` as a classifier, or an error that says what it lacks.
llvm::Expected<Classifier> inspectClassifier(ModelOp model);

/// Runs `predict` over `data` in batches, with the parameters and buffers
/// of `state`; the last batch is padded and its padding ignored. Returns
/// the predicted class of every row.
llvm::Expected<std::vector<int64_t>> predictAll(JITModel &jit, Classifier c,
                                                std::vector<Storage> &state,
                                                const Dataset &data);

/// The percentage of `pred` equal to the data's labels.
double accuracy(const std::vector<int64_t> &pred, const Dataset &data);

} // namespace graft::training

#endif
