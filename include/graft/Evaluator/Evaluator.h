//===- Evaluator.h - Reference evaluator of graft models --------*- C++ -*-===//
//
// A plain interpreter of every graft op, written to be obviously right rather
// than fast: the oracle of the tests and of `graft gradcheck`. It computes in
// double and rounds each result to its IR element type (f32, bf16), so f32
// results match an f32 implementation closely; with `computeInF64` it does no
// rounding at all (gradcheck's f64 mode). Semantics are PyTorch's.
//
// Randomness is counter based, so the same seed gives the same numbers in
// every run and in any order of evaluation:
//  - dropout keeps element i of the op with stream s when
//    dropoutUniform(seed, s, i) >= p;
//  - parameter i of the tensor named n is initialised from
//    initUniform(seed, n, i) (two of them per element for normal draws).
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_EVALUATOR_EVALUATOR_H
#define GRAFT_EVALUATOR_EVALUATOR_H

#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Evaluator/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <optional>

namespace graft::eval {

enum class Mode { Train, Eval };

/// A uniform draw in [0, 1) from (seed, stream, index): the dropout mask.
double dropoutUniform(uint64_t seed, int64_t stream, int64_t index);
/// A uniform draw in [0, 1) from (seed, tensor name, index): initialisers.
double initUniform(uint64_t seed, llvm::StringRef name, int64_t index);
/// A standard normal draw from (seed, name, index) (Box-Muller on two
/// initUniform draws).
double initNormal(uint64_t seed, llvm::StringRef name, int64_t index);

/// A tensor of `type` initialised by `init` as torch.nn.init would (the
/// distribution of graft::resolveInit; the draws come from the seeded
/// generator).
llvm::Expected<Tensor> initTensor(InitAttr init, mlir::RankedTensorType type,
                                  uint64_t seed, llvm::StringRef name);

class Evaluator {
public:
  Evaluator(ModelOp model, Mode mode = Mode::Train, uint64_t seed = 0);

  /// Skip rounding to f32/bf16: every float is computed and kept in f64.
  void setComputeInF64(bool on) { computeInF64 = on; }
  /// Stop each run at `graft.loss` (the forward pass up to the loss; what
  /// follows, such as the backward pass, is not evaluated).
  void setStopAtLoss(bool on) { stopAtLoss = on; }
  void setInput(llvm::StringRef name, Tensor value);
  /// Sets a parameter or a buffer by its state_dict name.
  void setParam(llvm::StringRef name, Tensor value);
  /// Initialises every parameter and buffer not set yet from its
  /// `#graft.init` and the seed.
  llvm::Error initParams();
  /// Replaces the value `v` computes by `t` in the next runs (gradcheck
  /// perturbs retained non-leaves with this).
  void setOverride(mlir::Value v, Tensor t);
  void clearOverrides() { overrides.clear(); }
  /// Reads the rows at `padding_idx` of `op` from `weight` rather than from
  /// its operand. Autograd treats those lookups as constants (their gradient
  /// is zero by rule); gradcheck holds them at their unperturbed value so
  /// that finite differences agree.
  void holdPaddingRows(EmbeddingOp op, Tensor weight);
  /// The callback that `graft.hook_call "name"` passes the gradient through
  /// (none: the identity).
  void setHook(llvm::StringRef name,
               std::function<Tensor(const Tensor &)> hook);

  /// Evaluates the model once. Parameters, buffers and inputs are not
  /// changed: buffer updates (batch_norm's running statistics in train mode)
  /// are read back with buffer().
  llvm::Error run();

  /// Runs a function of the training program (`graft-build-training-program`:
  /// `@m_train_step`, `@m_step`, `@m_forward_backward`, ...): binds `args`
  /// to the arguments in order, interprets the graft ops of the body and
  /// returns the operands of `func.return`. The mode is the function's
  /// `graft.mode` ("train" or "eval"; the evaluator's mode when absent) and
  /// the seed of dropout the argument with `graft.role = #graft<role seed>`
  /// (the evaluator's seed when there is none). Parameters and inputs set on
  /// the evaluator are not used. Defined in Functions.cpp.
  llvm::Expected<std::vector<Tensor>> runFunction(mlir::func::FuncOp fn,
                                                  llvm::ArrayRef<Tensor> args);

  /// The value of `v` in the last run (v must have been computed).
  const Tensor &value(mlir::Value v) const;
  bool hasValue(mlir::Value v) const { return values.count(v); }
  std::optional<Tensor> loss() const;
  /// The value marked by `graft.gradient "name"`.
  std::optional<Tensor> gradient(llvm::StringRef name) const;
  std::optional<Tensor> output(llvm::StringRef name) const;
  /// A buffer after the run (updated running statistics), or as set.
  std::optional<Tensor> buffer(llvm::StringRef name) const;
  std::optional<Tensor> param(llvm::StringRef name) const;
  std::optional<Tensor> input(llvm::StringRef name) const;
  /// Names of the graft.gradient marks in program order.
  const std::vector<std::string> &gradientNames() const {
    return gradientOrder;
  }

private:
  llvm::Error runBlock(mlir::Block &block);
  llvm::Error evalOp(mlir::Operation *op);

  ModelOp model;
  Mode mode;
  uint64_t seed;
  bool computeInF64 = false;
  bool stopAtLoss = false;
  llvm::StringMap<Tensor> inputs, params;
  llvm::StringMap<Tensor> gradients, outputs, updatedBuffers;
  std::vector<std::string> gradientOrder;
  llvm::StringMap<std::function<Tensor(const Tensor &)>> hooks;
  llvm::DenseMap<mlir::Value, Tensor> values, overrides;
  llvm::DenseMap<mlir::Operation *, Tensor> paddingRows;
  mlir::Value lossValue;

  friend class OpEvaluator;
};

} // namespace graft::eval

#endif
