//===- JITBuffer.h - Tensors in the generated code's layout -----*- C++ -*-===//
//
// A buffer for one argument or result of a JIT-compiled entry point, filled
// from and read as the evaluator's tensors, and a call of an entry point
// with them. Shared by the tests that run
// generated code (JITTest.cpp, OptimizerJITTest.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_UNITTESTS_JITBUFFER_H
#define GRAFT_UNITTESTS_JITBUFFER_H

#include "graft/Evaluator/Tensor.h"
#include "graft/Target/JIT.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace graft {

/// Tensor storage in the generated code's layout.
struct Buffer {
  TensorSlot slot;
  std::vector<char> bytes;
  explicit Buffer(const TensorSlot &s) : slot(s), bytes(s.bytes()) {}

  void set(const eval::Tensor &t) {
    ASSERT_EQ((int64_t)t.data.size(), slot.numel()) << slot.name;
    for (int64_t i = 0; i < slot.numel(); ++i) {
      double v = t.data[i];
      switch (slot.type) {
      case ElementType::F32:
        ((float *)bytes.data())[i] = (float)v;
        break;
      case ElementType::F64:
        ((double *)bytes.data())[i] = v;
        break;
      case ElementType::I64:
        ((int64_t *)bytes.data())[i] = (int64_t)v;
        break;
      case ElementType::I32:
        ((int32_t *)bytes.data())[i] = (int32_t)v;
        break;
      case ElementType::I1:
        ((bool *)bytes.data())[i] = v != 0;
        break;
      case ElementType::BF16: {
        // The evaluator's tensors of bf16 hold bf16 values: the top half
        // of their f32 bits.
        float f = (float)v;
        uint32_t bits;
        std::memcpy(&bits, &f, sizeof bits);
        ((uint16_t *)bytes.data())[i] = (uint16_t)(bits >> 16);
        break;
      }
      }
    }
  }
  double at(int64_t i) const {
    switch (slot.type) {
    case ElementType::F32:
      return ((const float *)bytes.data())[i];
    case ElementType::F64:
      return ((const double *)bytes.data())[i];
    case ElementType::I64:
      return (double)((const int64_t *)bytes.data())[i];
    case ElementType::I32:
      return ((const int32_t *)bytes.data())[i];
    case ElementType::I1:
      return ((const bool *)bytes.data())[i];
    case ElementType::BF16: {
      uint32_t bits = (uint32_t)((const uint16_t *)bytes.data())[i] << 16;
      float f;
      std::memcpy(&f, &bits, sizeof f);
      return f;
    }
    }
    return NAN;
  }
};

/// Calls the entry point `ep` of `jit` on `args` (filled by the caller);
/// its results, one buffer each.
inline llvm::Expected<std::vector<Buffer>>
callEntry(JITModel &jit, const EntryPoint &ep, std::vector<Buffer> &args) {
  std::vector<Buffer> results;
  for (const TensorSlot &s : ep.results)
    results.emplace_back(s);
  std::vector<void *> argPtrs, resultPtrs;
  for (Buffer &b : args)
    argPtrs.push_back(b.bytes.data());
  for (Buffer &b : results)
    resultPtrs.push_back(b.bytes.data());
  if (llvm::Error e = jit.call(ep.name, argPtrs, resultPtrs))
    return std::move(e);
  return results;
}

} // namespace graft

#endif
