//===- Tensor.cpp - Tensors of the reference evaluator --------------------===//

#include "graft/Evaluator/Tensor.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cassert>
#include <cmath>
#include <cstring>

using namespace graft::eval;

llvm::StringRef graft::eval::name(DType t) {
  switch (t) {
  case DType::F32:
    return "f32";
  case DType::F64:
    return "f64";
  case DType::BF16:
    return "bf16";
  case DType::I64:
    return "i64";
  case DType::I32:
    return "i32";
  case DType::I1:
    return "i1";
  }
  return "?";
}

static double roundBF16(double x) {
  float f = static_cast<float>(x);
  if (std::isnan(f))
    return x;
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  bits += 0x7FFFu + ((bits >> 16) & 1u); // round to nearest even
  bits &= 0xFFFF0000u;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

double graft::eval::roundTo(DType t, double x) {
  switch (t) {
  case DType::F64:
    return x;
  case DType::F32:
    return static_cast<double>(static_cast<float>(x));
  case DType::BF16:
    return roundBF16(x);
  case DType::I64:
    return std::isfinite(x) ? std::trunc(x) : 0.0;
  case DType::I32:
    return std::isfinite(x) ? static_cast<double>(static_cast<int32_t>(
                                  static_cast<int64_t>(std::trunc(x))))
                            : 0.0;
  case DType::I1:
    return x != 0.0 ? 1.0 : 0.0;
  }
  return x;
}

int64_t graft::eval::numelOf(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::vector<int64_t> graft::eval::stridesOf(llvm::ArrayRef<int64_t> shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

Tensor::Tensor(std::vector<int64_t> shape, DType dtype,
               std::vector<double> data)
    : shape(std::move(shape)), dtype(dtype), data(std::move(data)) {
  assert(numelOf(this->shape) == numel() && "shape and data disagree");
}

Tensor Tensor::filled(llvm::ArrayRef<int64_t> shape, DType dtype,
                      double fill) {
  Tensor t;
  t.shape.assign(shape.begin(), shape.end());
  t.dtype = dtype;
  t.data.assign(numelOf(shape), fill);
  return t;
}

std::string Tensor::typeStr() const {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << name(dtype) << "[";
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? ", " : "") << shape[i];
  os << "]";
  return s;
}

std::string Tensor::str() const {
  std::string s = typeStr() + " {";
  llvm::raw_string_ostream os(s);
  for (int64_t i = 0; i < numel(); ++i)
    os << (i ? ", " : "") << llvm::format("%.17g", data[i]);
  os << "}";
  return s;
}
