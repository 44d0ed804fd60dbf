//===- ThreadRuntime.cpp - The runtime the parallel loops call ------------===//

#include "graft/Target/ThreadRuntime.h"

#include "graft_threads.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/InstrTypes.h"
#include "llvm/IR/Module.h"

using namespace llvm;

namespace {
/// What a call to runtime function `function` must pass as argument
/// `index` (between `least` and `most`), and what `what` says otherwise:
/// the static schedule (kmp_sch_static), a unit step, at most one argument
/// (the OpenMPIRBuilder packs a region's captures into one struct).
struct ConstantArg {
  StringRef function;
  unsigned index;
  int64_t most, least;
  const char *what;
};
constexpr ConstantArg kConstantArgs[] = {
    {"__kmpc_fork_call", 1, 1, 0, "more than one argument"},
    {"__kmpc_for_static_init_8u", 2, 34, 34, "a schedule other than static"},
    {"__kmpc_for_static_init_8u", 7, 1, 1, "a step other than one"},
};

Error unsupported(const Function &f, StringRef with = "") {
  std::string call = f.getName().str();
  if (!with.empty())
    call += " with " + with.str();
  return createStringError(inconvertibleErrorCode(),
                           "the parallel loops call " + call +
                               ", which Graft's thread pool "
                               "(graft_threads.c) does not implement");
}
} // namespace

ArrayRef<std::pair<StringRef, void *>> graft::threadRuntimeSymbols() {
  static const std::pair<StringRef, void *> symbols[] = {
      {"graft_kmpc_global_thread_num",
       reinterpret_cast<void *>(&graft_kmpc_global_thread_num)},
      {"graft_kmpc_push_num_threads",
       reinterpret_cast<void *>(&graft_kmpc_push_num_threads)},
      {"graft_kmpc_fork_call", reinterpret_cast<void *>(&graft_kmpc_fork_call)},
      {"graft_kmpc_for_static_init_8u",
       reinterpret_cast<void *>(&graft_kmpc_for_static_init_8u)},
      {"graft_kmpc_for_static_fini",
       reinterpret_cast<void *>(&graft_kmpc_for_static_fini)},
  };
  return symbols;
}

Error graft::bindThreadRuntime(Module &ir) {
  SmallVector<Function *> calls;
  for (Function &f : ir.functions())
    if (f.getName().starts_with("__kmpc_"))
      calls.push_back(&f);
  for (Function *f : calls) {
    std::string renamed = ("graft" + f->getName().drop_front(1)).str();
    if (!llvm::is_contained(llvm::make_first_range(threadRuntimeSymbols()),
                            renamed))
      return unsupported(*f);
    for (const ConstantArg &arg : kConstantArgs) {
      if (arg.function != f->getName())
        continue;
      for (User *user : f->users()) {
        auto *call = dyn_cast<CallBase>(user);
        auto *value =
            call && call->arg_size() > arg.index
                ? dyn_cast<ConstantInt>(call->getArgOperand(arg.index))
                : nullptr;
        if (!value || value->getSExtValue() > arg.most ||
            value->getSExtValue() < arg.least)
          return unsupported(*f, arg.what);
      }
    }
    f->setName(renamed);
  }
  return Error::success();
}
