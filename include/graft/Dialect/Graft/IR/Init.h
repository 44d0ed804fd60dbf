//===- Init.h - torch.nn.init's distributions, resolved ---------*- C++ -*-===//
//
// What a parameter's initialiser (#graft.init) draws from, resolved at
// compile time from the initialiser and the parameter's shape: torch.nn.init's
// fans, gains and bounds, computed once, here, for every layer that needs
// them (the reference evaluator draws from it; `graft compile` writes it into
// the library's tensor table, where the C runtime's graft_init draws from it;
// `graft train` initialises through the evaluator).
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_DIALECT_GRAFT_IR_INIT_H
#define GRAFT_DIALECT_GRAFT_IR_INIT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <utility>

namespace graft {

class InitAttr;

/// A distribution of torch.nn.init. The kinds have the values of the C API's
/// graft_init_dist (graft_api.h).
struct InitDistribution {
  enum Kind : int32_t {
    Zero = 0,
    Constant = 1,
    Uniform = 2,
    Normal = 3,
    TruncNormal = 4
  };
  Kind kind = Zero;
  /// Constant: the value. Uniform: the bounds [p0, p1). Normal: mean p0,
  /// standard deviation p1. TruncNormal: mean p0, standard deviation p1,
  /// truncated to [p2, p3].
  double p0 = 0, p1 = 0, p2 = 0, p3 = 0;
};

/// torch.nn.init._calculate_fan_in_and_fan_out; an error for rank < 2.
llvm::Expected<std::pair<int64_t, int64_t>>
fanInAndFanOut(llvm::ArrayRef<int64_t> shape);
/// torch.nn.init.calculate_gain(nonlinearity, param).
llvm::Expected<double> calculateGain(llvm::StringRef nonlinearity,
                                     double param);
/// The distribution `init` draws a tensor of `shape` from, with PyTorch's
/// formulas in PyTorch's order of operations (so that the bounds are the
/// same doubles).
llvm::Expected<InitDistribution> resolveInit(InitAttr init,
                                             llvm::ArrayRef<int64_t> shape);

} // namespace graft

#endif
