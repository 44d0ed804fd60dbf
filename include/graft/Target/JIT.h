//===- JIT.h - Compiling and running a model in process ---------*- C++ -*-===//

#ifndef GRAFT_TARGET_JIT_H
#define GRAFT_TARGET_JIT_H

#include "graft/Dialect/Graft/IR/GraftEnums.h"
#include "graft/Support/ElementType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/LogicalResult.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir {
class ExecutionEngine;
class ModuleOp;
class OpPassManager;
class TimingScope;
using llvm::LogicalResult;
} // namespace mlir

namespace graft {

/// One argument or result of an entry point: a tensor with a role (param,
/// buffer, grad, input, seed, opt_state, hyper, loss, output, ...) and its
/// state_dict name.
struct TensorSlot {
  Role role = Role::input;
  std::string name;
  std::vector<int64_t> shape;
  ElementType type;
  int64_t numel() const;
  size_t bytes() const { return numel() * elementSize(type); }
};

struct EntryPoint {
  std::string name;
  std::vector<TensorSlot> args, results;
  /// The bytes of the planned workspace (graft-plan-memory) that every call
  /// passes after the results: the step's temporaries, allocated once.
  int64_t workspaceBytes = 0;
  /// What the temporaries would take without reuse (the planner's input).
  int64_t temporaryBytes = 0;
  /// The hook points its code calls graft_run_hook at (role "hook"; the
  /// gradient's type), from the function's graft.hook_points.
  std::vector<TensorSlot> hooks;
};

/// Which entry points to build, by name (`mnist_train_step`); by default
/// every one.
using EntryFilter = llvm::function_ref<bool(llvm::StringRef name)>;

/// Builds the training program of every graft.model in `module` and lowers
/// it to the LLVM dialect (the CPU pipeline), in place; `entries` receives
/// each entry point's arguments and results, in module order.
llvm::Error lowerTrainingProgram(mlir::ModuleOp module,
                                 std::vector<EntryPoint> &entries,
                                 EntryFilter keep = {});

/// The same with another pipeline from the training program's functions to
/// the LLVM dialect (the GPU pipeline: graft/Pipelines/GPU.h).
/// With `timing`, each pass's time is recorded under it. Entry points that
/// `keep` rejects are dropped before the lowering.
llvm::Error
lowerTrainingProgram(mlir::ModuleOp module, std::vector<EntryPoint> &entries,
                     llvm::function_ref<void(mlir::OpPassManager &)> pipeline,
                     mlir::TimingScope *timing = nullptr,
                     EntryFilter keep = {});

/// The training program of a module's models, compiled to native code in
/// process (MLIR's ExecutionEngine, LLVM's O3 pipeline, host CPU).
class JITModel {
public:
  /// Builds the training program of every graft.model in `module`, lowers
  /// it and compiles it. `module` is rewritten in place. Only the entry
  /// points `keep` accepts are compiled (a caller that runs the train step
  /// alone need not compile forward_backward and step, which it repeats).
  static llvm::Expected<std::unique_ptr<JITModel>>
  compile(mlir::ModuleOp module, EntryFilter keep = {});
  ~JITModel();

  const EntryPoint *entryPoint(llvm::StringRef name) const;

  /// The threads the calling thread's entry-point calls split their work
  /// across (<= 0: the default, GRAFT_NUM_THREADS or OMP_NUM_THREADS, else
  /// one per core; lib/Runtime/c/graft_threads.h).
  void setThreads(int threads);
  const llvm::StringMap<EntryPoint> &entryPoints() const { return entries; }

  /// Runs an entry point. `args` and `results` point at the storage of each
  /// tensor, in signature order, densely laid out in row-major order; the
  /// results are written there. A state result (same role and name as an
  /// argument) runs in its argument's storage: pass the same pointer for
  /// both to update in place; separate storage costs a copy of the argument
  /// into the result first. Calls use one workspace owned by the JITModel:
  /// not reentrant.
  llvm::Error call(llvm::StringRef name, llvm::ArrayRef<void *> args,
                   llvm::ArrayRef<void *> results);

private:
  JITModel() = default;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  llvm::StringMap<EntryPoint> entries;
  std::unique_ptr<char[]> workspaceStorage;
  char *workspace = nullptr; // 64-byte aligned, in workspaceStorage
};

} // namespace graft

#endif
