//===- Dataset.h - Labelled data for training and prediction ----*- C++ -*-===//

#ifndef GRAFT_RUNTIME_DATASET_H
#define GRAFT_RUNTIME_DATASET_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace graft {

/// Rows of `features` numbers and, when the file has them, an integer label.
struct Dataset {
  int64_t features = 0;
  std::vector<float> x;       // rows * features, row-major
  std::vector<int64_t> y;     // rows (empty without labels)
  int64_t rows() const { return features ? (int64_t)x.size() / features : 0; }
  bool hasLabels() const { return !y.empty(); }
};

/// Reads a CSV file: one sample per line, `features` numbers then, when
/// `labels` allows it, an integer class label in [0, classes). A first line
/// that does not start with a number is a header. Errors name the file,
/// line and column: wrong column count, non-numeric value, label out of
/// range, empty or missing file.
enum class Labels { Required, Optional };
llvm::Expected<Dataset> readCSV(llvm::StringRef path, int64_t features,
                                int64_t classes, Labels labels);

} // namespace graft

#endif
