//===- Goldens.h - PyTorch's numbers for the unit tests ---------*- C++ -*-===//
//
// Reads the JSON goldens of test/golden/ (written by its gen_*.py scripts
// with Debian's PyTorch): tensors, cases, and the comparison the tests
// share. optimizer_goldens.json: one case per optimizer configuration, a
// small model trained by torch.optim, with its inputs, losses, parameters
// and state after every step (OptimizerTest.cpp, OptimizerJITTest.cpp).
// frontend_goldens.json: the front-end's decompositions
// (FrontendGoldensTest.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_UNITTESTS_GOLDENS_H
#define GRAFT_UNITTESTS_GOLDENS_H

#include "graft/Evaluator/Tensor.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <cmath>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace graft::goldens {

using eval::DType;
using eval::Tensor;

/// test/golden/`file`, parsed once; empty when it is missing or broken
/// (the tests that read it then find no cases and say so).
inline const llvm::json::Object &goldenFile(llvm::StringRef file) {
  static std::map<std::string, llvm::json::Value> files;
  auto [it, inserted] = files.try_emplace(file.str(), nullptr);
  if (inserted) {
    auto buf = llvm::MemoryBuffer::getFile(GRAFT_GOLDEN_DIR "/" + file);
    if (buf) {
      auto v = llvm::json::parse((*buf)->getBuffer());
      if (v)
        it->second = std::move(*v);
      else
        llvm::consumeError(v.takeError());
    }
  }
  static llvm::json::Object empty;
  const llvm::json::Object *o = it->second.getAsObject();
  return o ? *o : empty;
}

/// The array `key` of a golden file.
inline const llvm::json::Array &goldenArray(llvm::StringRef file,
                                            llvm::StringRef key) {
  static llvm::json::Array empty;
  const llvm::json::Array *a = goldenFile(file).getArray(key);
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
  if (worst <= tol * scale || worst == 0)
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

/// The named cases of a golden file (its "cases" array).
inline std::vector<Case> casesOf(llvm::StringRef file) {
  std::vector<Case> out;
  for (const llvm::json::Value &c : goldenArray(file, "cases"))
    out.push_back({c.getAsObject()->getString("name")->str(), c.getAsObject()});
  return out;
}

} // namespace graft::goldens

#endif
