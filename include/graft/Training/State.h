//===- State.h - A compiled model's tensors on the host ---------*- C++ -*-===//
//
// The storage of the tensors an entry point of a JIT-compiled model reads
// and writes, laid out as the generated code expects; their initial values
// (the model's #graft.init); and their checkpoints (safetensors with
// PyTorch's state_dict names, optimizer state under "optimizer.", and the
// run state graft_save writes).
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_TRAINING_STATE_H
#define GRAFT_TRAINING_STATE_H

#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Runtime/Checkpoint.h"
#include "graft/Target/JIT.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <new>
#include <string>
#include <vector>

namespace graft::eval {
struct Tensor;
} // namespace graft::eval

namespace graft::training {

/// 64-byte aligned allocations, as the C runtime's context gives its
/// tensors: the generated code's 512-bit loads of a row then never straddle
/// two cache lines (with malloc's 16-byte alignment they do at three of the
/// four offsets a buffer can start at).
template <class T> struct CacheLineAligned {
  using value_type = T;
  CacheLineAligned() = default;
  template <class U> CacheLineAligned(const CacheLineAligned<U> &) {}
  T *allocate(size_t n) {
    return static_cast<T *>(
        ::operator new(n * sizeof(T), std::align_val_t(64)));
  }
  void deallocate(T *p, size_t) { ::operator delete(p, std::align_val_t(64)); }
  bool operator==(const CacheLineAligned &) const { return true; }
  bool operator!=(const CacheLineAligned &) const { return false; }
};

/// One tensor of an entry point: its slot and its bytes.
struct Storage {
  TensorSlot slot;
  std::vector<char, CacheLineAligned<char>> bytes;
  explicit Storage(const TensorSlot &s) : slot(s), bytes(s.bytes(), 0) {}
  float *f32() { return reinterpret_cast<float *>(bytes.data()); }
  int64_t *i64() { return reinterpret_cast<int64_t *>(bytes.data()); }
  double *f64() { return reinterpret_cast<double *>(bytes.data()); }
  const double *f64() const {
    return reinterpret_cast<const double *>(bytes.data());
  }
};

/// Zeroed storage for each slot.
std::vector<Storage> slotsOf(const std::vector<TensorSlot> &slots);
/// The data pointers of `v`, in order.
std::vector<void *> pointers(std::vector<Storage> &v);
/// The result pointers of a call: a result with the role and name of an
/// argument (the state a step updates) is given the argument's storage, so
/// the state is updated in place (JITModel::call would otherwise copy the
/// argument over first).
std::vector<void *> resultPointers(std::vector<Storage> &args,
                                   std::vector<Storage> &results);

/// Copies into each of `to` the bytes of the slot of `from` with its role
/// and name, if any: an entry point's parameters and buffers from another's
/// (the training state).
void copyState(std::vector<Storage> &to, const std::vector<Storage> &from);

/// Writes an evaluator tensor (f64 values) into storage of any type, each
/// value rounded to it (bf16 to nearest even).
void store(Storage &s, const eval::Tensor &t);

/// Initial values of a parameter or buffer of `model`, from its #graft.init
/// and the seed (PyTorch's torch.nn.init formulas; see the evaluator).
llvm::Error initialise(Storage &s, ModelOp model, uint64_t seed);

/// The checkpoint's names of a state tensor of `model`: its state_dict name
/// (a tied parameter's every name, the first first), or "optimizer.<name>"
/// for optimizer state.
std::vector<std::string> checkpointKeys(const TensorSlot &slot, ModelOp model);

/// Fills every slot with one of `roles` from the checkpoint `tensors`,
/// checking names, shapes and dtypes (a tied parameter from any of its
/// names; under several, they must hold the same values); `path` names the
/// checkpoint in errors. With `missing`, a tensor the file lacks is added
/// to it (its first key) and its slot left as it was, instead of an error.
llvm::Error loadState(std::vector<Storage> &slots, llvm::ArrayRef<Role> roles,
                      const std::vector<NamedTensor> &tensors,
                      llvm::StringRef path, ModelOp model,
                      std::vector<std::string> *missing = nullptr);

/// The parameters, buffers and optimizer state among `slots`, under their
/// checkpoint keys (a tied parameter under each).
std::vector<NamedTensor> stateTensors(const std::vector<Storage> &slots,
                                      ModelOp model);

/// The run state a full checkpoint records beside the tensors, under the
/// keys graft_save writes (graft_runtime.c), so that the C API's graft_load
/// resumes it too.
struct RunState {
  std::string model;
  /// Steps taken, and the whole epochs among them (a checkpoint written
  /// inside an epoch has more steps than they hold).
  uint64_t steps = 0, epochs = 0;
  uint64_t seed = 0;
  /// The hyper-parameters' values, by name.
  std::map<std::string, double> hyper;
  /// More keys of graft train's run (the epoch's loss so far, a
  /// ReduceLROnPlateau's state), written as they are.
  std::map<std::string, std::string> extra;

  std::map<std::string, std::string> metadata() const;
};

/// An error whose message starts "graft: error: ".
llvm::Error trainingError(const llvm::Twine &msg);

} // namespace graft::training

#endif
