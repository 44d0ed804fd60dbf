//===- OptimizerGoldens.h - torch.optim's numbers for the tests -*- C++ -*-===//
//
// Reads test/golden/optimizer_goldens.json (gen_optimizer_goldens.py): one
// case per optimizer configuration, a small model trained by torch.optim,
// with its inputs, losses, parameters and state after every step. Shared
// by the evaluator's test (OptimizerTest.cpp) and the generated code's
// (OptimizerJITTest.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_UNITTESTS_OPTIMIZERGOLDENS_H
#define GRAFT_UNITTESTS_OPTIMIZERGOLDENS_H

#include "graft/Evaluator/Tensor.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <cmath>
#include <ostream>
#include <string>
#include <vector>

namespace graft::optimizer_goldens {

using eval::DType;
using eval::Tensor;

inline const llvm::json::Object &goldens() {
  static llvm::json::Value root = [] {
    auto buf =
        llvm::MemoryBuffer::getFile(GRAFT_GOLDEN_DIR "/optimizer_goldens.json");
    if (!buf)
      return llvm::json::Value(nullptr);
    auto v = llvm::json::parse((*buf)->getBuffer());
    if (!v) {
      llvm::consumeError(v.takeError());
      return llvm::json::Value(nullptr);
    }
    return std::move(*v);
  }();
  static llvm::json::Object empty;
  const llvm::json::Object *o = root.getAsObject();
  return o ? *o : empty;
}

inline const llvm::json::Array &goldenArray(llvm::StringRef key) {
  static llvm::json::Array empty;
  const llvm::json::Array *a = goldens().getArray(key);
  return a ? *a : empty;
}

/// A golden tensor as `dt`: f32 values, written with 9 significant digits,
/// are rounded back to the float they were.
inline Tensor tensorFrom(const llvm::json::Value &v, DType dt) {
  const llvm::json::Object &o = *v.getAsObject();
  Tensor t;
  t.dtype = dt;
  for (const llvm::json::Value &d : *o.getArray("shape"))
    t.shape.push_back(*d.getAsInteger());
  for (const llvm::json::Value &d : *o.getArray("data"))
    t.data.push_back(dt == DType::F32 ? static_cast<float>(*d.getAsNumber())
                                      : *d.getAsNumber());
  return t;
}

/// The relative error of a tensor in the max norm, max|got - want| /
/// max|want|, at most `tol`. (Elementwise relative error would measure the
/// f32 rounding of a near-cancelling gradient element against its own tiny
/// magnitude: PyTorch and the evaluator sum in different orders.)
inline ::testing::AssertionResult close(const Tensor &got, const Tensor &want,
                                        double tol) {
  if (got.shape != want.shape)
    return ::testing::AssertionFailure()
           << "shape " << got.typeStr() << " vs " << want.typeStr();
  double scale = 0, worst = 0;
  int64_t at = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    scale = std::max(scale, std::fabs(want.data[i]));
    double err = std::fabs(got.data[i] - want.data[i]);
    if (!(err <= worst)) { // NaN counts as the worst
      worst = err;
      at = i;
    }
  }
  if (worst <= tol * scale)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "element " << at << ": " << got.data[at] << " vs torch "
         << want.data[at] << " (error " << worst << ", relative to the "
         << "tensor's max " << (scale > 0 ? worst / scale : worst) << ")";
}

struct Case {
  std::string name;
  const llvm::json::Object *json;
};

inline void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

inline std::vector<Case> cases() {
  std::vector<Case> out;
  for (const llvm::json::Value &c : goldenArray("cases"))
    out.push_back({c.getAsObject()->getString("name")->str(), c.getAsObject()});
  return out;
}

} // namespace graft::optimizer_goldens

#endif
