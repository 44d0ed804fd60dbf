//===- JIT.cpp - Compiling and running a model in process -----------------===//

#include "graft/Target/JIT.h"
#include "graft/Autograd/Passes.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Pipelines/Pipelines.h"
#include "graft/Target/Optimize.h"
#include "graft/Target/Sanitize.h"
#include "graft/Target/ThreadRuntime.h"

#include "graft_threads.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"

#include <cstdlib>
#include <cstring>
#include "llvm/Support/TargetSelect.h"

using namespace mlir;
using namespace graft;

int64_t TensorSlot::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

static TensorSlot slotOf(Type type, DictionaryAttr attrs) {
  auto t = cast<RankedTensorType>(type);
  TensorSlot s;
  if (attrs) {
    if (auto r = attrs.getAs<RoleAttr>(kRoleAttrName))
      s.role = r.getValue();
    if (auto n = attrs.getAs<StringAttr>(kNameAttrName))
      s.name = n.str();
  }
  s.shape.assign(t.getShape().begin(), t.getShape().end());
  s.type = elementTypeOf(t.getElementType()).value_or(ElementType::I1);
  return s;
}

JITModel::~JITModel() = default;

// graft_run_hook in process (JITModel): no hooks are registered here.
static void jitRunHook(const char *, void *) {}

llvm::Error graft::lowerTrainingProgram(ModuleOp module,
                                        std::vector<EntryPoint> &entries,
                                        EntryFilter keep) {
  return lowerTrainingProgram(
      module, entries,
      [](OpPassManager &pm) {
        buildCPUPipeline(pm); // for the host's vectors
      },
      nullptr, keep);
}

llvm::Error
graft::lowerTrainingProgram(ModuleOp module, std::vector<EntryPoint> &entries,
                            llvm::function_ref<void(OpPassManager &)> pipeline,
                            TimingScope *timing, EntryFilter keep) {
  auto fail = [](const char *what) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), what);
  };
  PassManager program(module.getContext());
  program.addPass(createBuildTrainingProgram());
  if (timing)
    program.enableTiming(*timing);
  if (failed(program.run(module)))
    return fail("building the training program failed");

  if (keep)
    for (auto fn : llvm::to_vector(module.getOps<func::FuncOp>()))
      if (fn.isPublic() && !keep(fn.getSymName()) &&
          SymbolTable::symbolKnownUseEmpty(fn, module))
        fn->erase();
  for (auto fn : module.getOps<func::FuncOp>()) {
    EntryPoint ep;
    ep.name = fn.getSymName().str();
    for (auto [i, t] : llvm::enumerate(fn.getArgumentTypes()))
      ep.args.push_back(slotOf(t, fn.getArgAttrDict(i)));
    for (auto [i, t] : llvm::enumerate(fn.getResultTypes()))
      ep.results.push_back(slotOf(t, fn.getResultAttrDict(i)));
    entries.push_back(std::move(ep));
  }
  for (auto model : llvm::to_vector(module.getOps<ModelOp>()))
    model->erase();

  PassManager lower(module.getContext());
  if (timing)
    lower.enableTiming(*timing);
  pipeline(lower);
  if (failed(lower.run(module)))
    return fail("lowering to LLVM failed");
  // The names and roles live in `entries` now; LLVM has no use for them.
  // (They stay until here: the lowering finds dropout's seed by its role.)
  for (auto fn : module.getOps<LLVM::LLVMFuncOp>()) {
    fn.setArgAttrsAttr(nullptr);
    fn.setResAttrsAttr(nullptr);
    auto bytes = fn->getAttrOfType<IntegerAttr>(
        GraftDialect::WorkspaceBytesAttrHelper::getNameStr());
    auto temporaries = fn->getAttrOfType<IntegerAttr>(
        GraftDialect::TemporaryBytesAttrHelper::getNameStr());
    for (EntryPoint &ep : entries) {
      if (ep.name != fn.getSymName() || !bytes || !temporaries)
        continue;
      ep.workspaceBytes = bytes.getInt();
      ep.temporaryBytes = temporaries.getInt();
    }
    // The hook points graft-hook-points recorded (name, gradient type).
    if (auto points = fn->getAttrOfType<ArrayAttr>(
            GraftDialect::HookPointsAttrHelper::getNameStr())) {
      for (EntryPoint &ep : entries) {
        if (ep.name != fn.getSymName())
          continue;
        for (auto point : points.getAsRange<DictionaryAttr>()) {
          auto name = point.getAs<StringAttr>("name");
          auto type = point.getAs<TypeAttr>("type");
          if (!name || !type)
            continue;
          TensorSlot s = slotOf(type.getValue(), DictionaryAttr());
          s.role = Role::hook;
          s.name = name.str();
          ep.hooks.push_back(std::move(s));
        }
      }
      fn->removeAttr(GraftDialect::HookPointsAttrHelper::getNameStr());
    }
  }
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<JITModel>> JITModel::compile(ModuleOp module,
                                                            EntryFilter keep) {
  std::unique_ptr<JITModel> jit(new JITModel());
  std::vector<EntryPoint> entries;
  if (llvm::Error e = lowerTrainingProgram(module, entries, keep))
    return std::move(e);
  int64_t workspace = 0;
  for (EntryPoint &ep : entries) {
    workspace = std::max(workspace, ep.workspaceBytes);
    std::string name = ep.name;
    jit->entries[name] = std::move(ep);
  }
  // One workspace serves every entry point: calls run one at a time.
  jit->workspaceStorage.reset(new char[workspace + 64]);
  jit->workspace = reinterpret_cast<char *>(
      (reinterpret_cast<uintptr_t>(jit->workspaceStorage.get()) + 63) &
      ~uintptr_t(63));

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  // The O3 pipeline sees the host's target (its cost model tunes unrolling
  // and vectorisation), as the library's does.
  auto host = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!host)
    return host.takeError();
  auto tm = host->createTargetMachine();
  if (!tm)
    return tm.takeError();
  // `options.transformer` is a function_ref: the std::function it refers
  // to must outlive ExecutionEngine::create (ASan: stack-use-after-scope).
  // Under AddressSanitizer the generated code is checked too, against this
  // process's ASan runtime.
  llvm::TargetMachine *machine = tm->get();
  std::function<llvm::Error(llvm::Module *)> optimize =
      [machine](llvm::Module *m) -> llvm::Error {
    if (llvm::Error e = bindThreadRuntime(*m))
      return e;
    optimizeModule(*m, *machine);
    if (processHasAddressSanitizer())
      instrumentForAddressSanitizer(*m, *machine);
    return llvm::Error::success();
  };
  ExecutionEngineOptions options;
  options.transformer = optimize;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // MLIR's default writes a perf jitdump directory ($JITDUMPDIR or
  // ~/.debug/jit) per compile, never cleaned up: only when asked for.
  options.enablePerfNotificationListener = std::getenv("GRAFT_JIT_PERF");
  auto engine = ExecutionEngine::create(module, options);
  if (!engine)
    return engine.takeError();
  jit->engine = std::move(*engine);
  // Hook points call the C runtime's graft_run_hook, which this process
  // does not link: in process nothing registers hooks, so gradients pass
  // through unchanged. Parallel loops call the thread pool, which it does.
  jit->engine->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap map;
    map[interner("graft_run_hook")] = {
        llvm::orc::ExecutorAddr::fromPtr(&jitRunHook),
        llvm::JITSymbolFlags::Exported};
    for (auto [name, address] : threadRuntimeSymbols())
      map[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                             llvm::JITSymbolFlags::Exported};
    return map;
  });
  // LLVM's O3 and code generation run when a symbol is first looked up:
  // here, so that the compile time is spent (and reported) by the compile,
  // not by the first step (the first epoch of graft train read 5.8k
  // samples/s against 1M for the others).
  for (const auto &entry : jit->entries)
    if (auto fn = jit->engine->lookupPacked(entry.getKey()); !fn)
      return fn.takeError();
  return std::move(jit);
}

void JITModel::setThreads(int threads) { graft_threads_set(threads); }

const EntryPoint *JITModel::entryPoint(llvm::StringRef name) const {
  auto it = entries.find(name);
  return it == entries.end() ? nullptr : &it->second;
}

llvm::Error JITModel::call(llvm::StringRef name, llvm::ArrayRef<void *> args,
                           llvm::ArrayRef<void *> results) {
  const EntryPoint *ep = entryPoint(name);
  if (!ep)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "no entry point '%s'", name.str().c_str());
  if (args.size() != ep->args.size() || results.size() != ep->results.size())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "'%s' takes %zu arguments and %zu results, got %zu and %zu",
        name.str().c_str(), ep->args.size(), ep->results.size(), args.size(),
        results.size());
  // Bare-pointer convention, results as trailing out-parameters: the packed
  // interface takes the address of each pointer.
  SmallVector<void *> pointers(args.begin(), args.end());
  pointers.append(results.begin(), results.end());
  pointers.push_back(workspace);
  // A state result runs in its argument's storage (graft-plan-memory
  // writes it in place and drops copies of an argument onto itself): a
  // caller that passes separate storage gets the argument copied into the
  // result's first, and the result's storage passed for both.
  for (auto [r, result] : llvm::enumerate(ep->results))
    for (auto [a, arg] : llvm::enumerate(ep->args))
      if (arg.role == result.role && arg.name == result.name &&
          pointers[a] != results[r]) {
        std::memcpy(results[r], pointers[a], result.bytes());
        pointers[a] = results[r];
      }
  SmallVector<void *> packed;
  for (void *&p : pointers)
    packed.push_back(&p);
  return engine->invokePacked(name, packed);
}
