//===- Library.cpp - A model as a static library with a C header ----------===//
//
// Lowers like JITModel does, then translates to LLVM IR, adds one uniform
// wrapper per entry point (`void f(void **pointers)`) and the model's
// metadata as constant globals laid out as graft_api.h's structs, runs the
// O3 pipeline for the target machine, emits an object and writes it with
// Graft's C runtime object into an archive. Nothing is shelled out.
//
//===----------------------------------------------------------------------===//

#include "graft/Target/Library.h"
#include "graft/Autograd/Optimizer.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Dialect/Graft/IR/Init.h"
#include "graft/Pipelines/Pipelines.h"
#include "graft/Target/CUDA.h"
#include "graft/Target/JIT.h"
#include "graft/Target/Optimize.h"
#include "graft/Target/Sanitize.h"
#include "graft/Target/ThreadRuntime.h"
#include "graft_api.h"
#include "graft_safetensors.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#include <cmath>

using namespace mlir;
using namespace graft;

namespace {
// The descriptor's roles are graft_role's values: graft::Role (ODS) and
// graft_api.h's enum agree, value by value.
#define GRAFT_CHECK_ROLE(NAME, C)                                              \
  static_assert(static_cast<int>(Role::NAME) == GRAFT_ROLE_##C,                \
                "graft::Role::" #NAME " differs from graft_api.h");
GRAFT_CHECK_ROLE(param, PARAM)
GRAFT_CHECK_ROLE(buffer, BUFFER)
GRAFT_CHECK_ROLE(grad, GRAD)
GRAFT_CHECK_ROLE(opt_state, OPT_STATE)
GRAFT_CHECK_ROLE(hyper, HYPER)
GRAFT_CHECK_ROLE(seed, SEED)
GRAFT_CHECK_ROLE(input, INPUT)
GRAFT_CHECK_ROLE(loss, LOSS)
GRAFT_CHECK_ROLE(output, OUTPUT)
GRAFT_CHECK_ROLE(input_grad, INPUT_GRAD)
GRAFT_CHECK_ROLE(retained_grad, RETAINED_GRAD)
GRAFT_CHECK_ROLE(hook, HOOK)
#undef GRAFT_CHECK_ROLE
/// The last role the C API has (workspace is the code generator's own).
constexpr Role kLastApiRole = Role::hook;
/// A slot's dtype as safetensors names it ("F32"), from the C runtime's
/// table (ElementType is numbered as GRAFT_DTYPE_*: Checkpoint.cpp checks
/// it); GRAFT_DTYPE_ and this name are its C enumerator.
llvm::StringRef dtypeName(ElementType type) {
  return graft_st_dtype_name(static_cast<int32_t>(type));
}

/// graft_tensor_desc's index_* fields: an integer input's range, without
/// the op it came from (the lowering erases it).
struct IndexColumns {
  int64_t bound = 0; // 0: no range
  std::optional<int64_t> ignored;
  std::string use;
};

struct Tensor {
  TensorSlot slot;
  Role role;
  int dist = InitDistribution::Zero;
  double p0 = 0, p1 = 0, p2 = 0, p3 = 0;
  std::string init;
  std::vector<std::string> aliases; // a tied parameter's other names
  bool frozen = false;
  IndexColumns index; // an integer input read as positions
};

/// The widest vectors of a subtarget in bits: 512 with AVX-512, 256 with
/// AVX2, else 128.
unsigned vectorBitsOf(const llvm::MCSubtargetInfo &sti) {
  if (sti.checkFeatures("+avx512f"))
    return 512;
  return sti.checkFeatures("+avx2") ? 256 : 128;
}

llvm::Error error(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "graft: error: " + msg.str());
}

/// The native target of `triple`, or an error unless LLVM knows `cpu` for
/// it (checked on a generic subtarget: LLVM warns of an unknown CPU it is
/// given).
llvm::Expected<const llvm::Target *> knownCPUTarget(const llvm::Triple &triple,
                                                    llvm::StringRef cpu) {
  llvm::InitializeNativeTarget();
  std::string err;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, err);
  if (!target)
    return error(err);
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      target->createMCSubtargetInfo(triple, "", ""));
  if (!sti || !sti->isCPUStringValid(cpu))
    return error("unknown target CPU '" + cpu +
                 "' (llc -mcpu=help lists them)");
  return target;
}

/// The distribution torch.nn.init draws `t` from, for the tensor table.
llvm::Error resolveInit(Tensor &t, InitAttr init, RankedTensorType type) {
  llvm::raw_string_ostream(t.init) << init;
  llvm::Expected<InitDistribution> dist = graft::resolveInit(init, type.getShape());
  if (!dist)
    return error(llvm::toString(dist.takeError()));
  t.dist = dist->kind, t.p0 = dist->p0, t.p1 = dist->p1, t.p2 = dist->p2,
  t.p3 = dist->p3;
  return llvm::Error::success();
}

std::string identifier(llvm::StringRef s) {
  std::string out;
  for (char c : s)
    out += std::isalnum(static_cast<unsigned char>(c)) ? std::toupper(c) : '_';
  return out;
}

std::string cString(llvm::StringRef s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string shapeText(llvm::ArrayRef<int64_t> shape) {
  std::string s = "{";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + std::to_string(d);
  return s + "}";
}
} // namespace

llvm::Expected<std::string>
graft::compileLibrary(ModuleOp module, const LibraryOptions &options) {
  // The model and what only it knows: initialisers, frozen, learning rates.
  SmallVector<ModelOp> models(module.getOps<ModelOp>());
  if (models.empty())
    return error("the file has no model");
  ModelOp model;
  if (options.modelName.empty()) {
    if (models.size() > 1)
      return error("the file has " + llvm::Twine(models.size()) +
                   " models; pick one with --model");
    model = models.front();
  } else {
    for (ModelOp m : models)
      if (m.getSymName() == options.modelName)
        model = m;
    if (!model)
      return error("the file has no model '" + options.modelName + "'");
  }
  std::string name = model.getSymName().str();
  for (ModelOp m : models)
    if (m != model)
      m->erase();

  llvm::StringMap<std::pair<InitAttr, RankedTensorType>> inits;
  llvm::StringSet<> frozen;
  llvm::StringMap<std::vector<std::string>> aliases;
  for (Operation &op : model.getBody().front()) {
    if (auto p = dyn_cast<ParamOp>(op)) {
      inits[p.getName()] = {p.getInit(), p.getType()};
      if (p.getFrozen())
        frozen.insert(p.getName());
      // (The names outlive the loop: drop_begin of a temporary would not.)
      SmallVector<StringRef> names = p.getStateDictNames();
      for (StringRef a : llvm::drop_begin(names))
        aliases[p.getName()].push_back(a.str());
    } else if (auto b = dyn_cast<BufferOp>(op)) {
      inits[b.getName()] = {b.getInit(), b.getType()};
    }
  }
  // The range of each integer input read as positions, checked by the
  // runtime before each step (the lowering below replaces the graft ops).
  llvm::StringMap<IndexColumns> indexRanges;
  for (InputOp in : model.getBody().getOps<InputOp>())
    if (std::optional<IndexRange> r = indexRangeOf(in.getResult()))
      indexRanges[in.getName()] = {r->bound, r->ignored, describeIndexUse(*r)};
  llvm::StringMap<double> lrs;
  int64_t accumulationSteps = 1;
  for (TrainOp train : model.getBody().getOps<TrainOp>()) {
    FailureOr<OptimizerConfig> config = OptimizerConfig::get(train, {});
    if (failed(config))
      return error("the train block of '" + name + "' is invalid");
    for (const OptimizerGroup &g : config->groups)
      lrs[g.lrName] = g.lr;
    accumulationSteps = config->accumulationSteps;
  }

  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string cpu = options.targetCPU, features;
  if (cpu.empty() || cpu == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    for (auto &f : llvm::sys::getHostCPUFeatures())
      features += (features.empty() ? "" : ",") +
                  std::string(f.second ? "+" : "-") + f.first().str();
  }
  llvm::Expected<const llvm::Target *> known = knownCPUTarget(triple, cpu);
  if (!known)
    return known.takeError();
  const llvm::Target *target = *known;
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, targetOptions, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    return error("cannot create a target machine for " + cpu);
  // The schedule's tiles follow the target's vectors.
  unsigned vectorBits = 128;
  // The instruction-set extensions the code may use, which graft_create
  // checks the CPU for (the runtime knows these names: graft_runtime.c).
  std::string requiredFeatures;
  {
    std::unique_ptr<llvm::MCSubtargetInfo> sti(
        target->createMCSubtargetInfo(triple, cpu, features));
    vectorBits = vectorBitsOf(*sti);
    if (triple.isX86())
      for (const char *f : {"sse3", "ssse3", "sse4.1", "sse4.2", "popcnt",
                            "avx", "avx2", "fma", "f16c", "bmi", "bmi2",
                            "avx512f", "avx512cd", "avx512bw", "avx512dq",
                            "avx512vl", "avx512ifma", "avx512vbmi",
                            "avx512vbmi2", "avx512vnni", "avx512bitalg",
                            "avx512vpopcntdq", "avx512bf16", "avx512fp16",
                            "avxvnni", "amx-tile", "amx-bf16", "amx-int8"})
        if (sti->checkFeatures(std::string("+") + f))
          requiredFeatures += (requiredFeatures.empty() ? "" : ",") +
                              std::string(f);
  }

  std::vector<EntryPoint> entries;
  bool cuda = options.target == "cuda";
  if (!cuda && options.target != "cpu")
    return error("unknown target '" + options.target + "' (cpu or cuda)");
  std::vector<GPUImage> gpuImages;
  TimingScope noTiming;
  TimingScope &timing = options.timing ? *options.timing : noTiming;
  GPUOptions gpu;
  gpu.tf32 = options.allowTF32;
  if (llvm::Error e =
          cuda ? lowerTrainingProgramForCUDA(module, entries, gpu, gpuImages)
               : lowerTrainingProgram(
                     module, entries,
                     [&](OpPassManager &pm) {
                       buildCPUPipeline(pm, vectorBits);
                     },
                     options.timing))
    return std::move(e);

  // The context's tensors: one per role and name, ordered by role.
  std::vector<Tensor> tensors;
  auto find = [&](const TensorSlot &s) -> int {
    for (auto [i, t] : llvm::enumerate(tensors))
      if (t.slot.role == s.role && t.slot.name == s.name)
        return (int)i;
    return -1;
  };
  // Hook points (graft_run_hook's names) are tensors too, so that
  // graft_register_grad_hook finds them (their storage is never written).
  for (const EntryPoint &ep : entries)
    for (const auto *list : {&ep.args, &ep.results, &ep.hooks})
      for (const TensorSlot &s : *list) {
        int i = find(s);
        if (i >= 0) {
          if (tensors[i].slot.shape != s.shape || tensors[i].slot.type != s.type)
            return error("'" + s.name + "' (" + stringifyRole(s.role).str() +
                         ") has different types in different entry points");
          continue;
        }
        Tensor t;
        t.slot = s;
        t.role = s.role;
        if (t.role > kLastApiRole)
          return error("role '" + stringifyRole(s.role).str() +
                       "' has no graft_role");
        tensors.push_back(t);
      }
  // Grouped by role, in slot order within each role.
  std::vector<Tensor> byRole;
  for (int role = 0; role <= static_cast<int>(kLastApiRole); ++role)
    for (const Tensor &t : tensors)
      if (static_cast<int>(t.role) == role)
        byRole.push_back(t);
  tensors = std::move(byRole);
  for (Tensor &t : tensors) {
    if (t.role == Role::param || t.role == Role::buffer) {
      auto it = inits.find(t.slot.name);
      if (it == inits.end())
        return error("no declaration of '" + t.slot.name + "'");
      if (llvm::Error e = resolveInit(t, it->second.first, it->second.second))
        return std::move(e);
      t.frozen = frozen.contains(t.slot.name);
      t.aliases = aliases.lookup(t.slot.name);
    } else if (t.role == Role::input) {
      t.index = indexRanges.lookup(t.slot.name);
    } else if (t.role == Role::hook) {
      t.init = "a hook point: gradients go to its hooks";
    } else if (t.role == Role::hyper) {
      t.dist = InitDistribution::Constant;
      t.p0 = t.slot.name == "accumulation_steps" ? (double)accumulationSteps
                                                 : lrs.lookup(t.slot.name);
      t.init = "the model's " + t.slot.name;
    }
  }

  // LLVM IR.
  llvm::LLVMContext llctx;
  TimingScope translating = timing.nest("translation to LLVM IR");
  std::unique_ptr<llvm::Module> ir = translateModuleToLLVMIR(module, llctx, name);
  translating.stop();
  if (!ir)
    return error("translating '" + name + "' to LLVM IR failed");
  if (llvm::Error e = bindThreadRuntime(*ir))
    return std::move(e);
  if (cuda)
    if (llvm::Error e = addCUDAEntryShims(*ir, entries))
      return std::move(e);

  ir->setDataLayout(tm->createDataLayout());
  ir->setTargetTriple(triple);
  for (llvm::Function &f : *ir)
    if (!f.isDeclaration()) {
      f.addFnAttr("target-cpu", cpu);
      if (!features.empty())
        f.addFnAttr("target-features", features);
    }

  // Metadata and wrappers.
  auto *ptrTy = llvm::PointerType::get(llctx, 0);
  auto *i32 = llvm::Type::getInt32Ty(llctx);
  auto *i64 = llvm::Type::getInt64Ty(llctx);
  auto *f64 = llvm::Type::getDoubleTy(llctx);
  auto privateConst = [&](llvm::Constant *init, const llvm::Twine &n) {
    auto *gv = new llvm::GlobalVariable(*ir, init->getType(), true,
                                        llvm::GlobalValue::PrivateLinkage,
                                        init, n);
    gv->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    return gv;
  };
  auto str = [&](llvm::StringRef s) -> llvm::Constant * {
    return privateConst(llvm::ConstantDataArray::getString(llctx, s), ".str");
  };
  auto ci32 = [&](int64_t v) { return llvm::ConstantInt::get(i32, v); };
  auto ci64 = [&](int64_t v) { return llvm::ConstantInt::get(i64, v); };
  llvm::Constant *null = llvm::ConstantPointerNull::get(ptrTy);

  auto *tensorTy = llvm::StructType::create(
      llctx, {ptrTy, i32, i32,   i32, i32, ptrTy, i64, i64,   f64, f64,
              f64,   f64, ptrTy, i32, i32, i64,   i64, ptrTy, i32, ptrTy},
      "graft_tensor_desc");
  auto *entryTy = llvm::StructType::create(
      llctx, {ptrTy, ptrTy, i32, i32, ptrTy, ptrTy, i64}, "graft_entry_desc");
  SmallVector<llvm::Type *> modelFields = {ptrTy, i32, i32, ptrTy, ptrTy};
  modelFields.append(8, i32);
  modelFields.append({ptrTy, ptrTy}); // target_cpu, target_features
  auto *modelTy = llvm::StructType::create(llctx, modelFields, "graft_model_desc");

  SmallVector<llvm::Constant *> tensorInits;
  for (const Tensor &t : tensors) {
    llvm::Constant *shape = null;
    if (!t.slot.shape.empty())
      shape = privateConst(llvm::ConstantDataArray::get(
                               llctx, llvm::ArrayRef<uint64_t>(
                                          (const uint64_t *)t.slot.shape.data(),
                                          t.slot.shape.size())),
                           ".shape");
    llvm::Constant *aliasTable = null;
    if (!t.aliases.empty()) {
      SmallVector<llvm::Constant *> names;
      for (const std::string &a : t.aliases)
        names.push_back(str(a));
      aliasTable =
          privateConst(llvm::ConstantArray::get(
                           llvm::ArrayType::get(ptrTy, names.size()), names),
                       ".aliases");
    }
    tensorInits.push_back(llvm::ConstantStruct::get(
        tensorTy, {str(t.slot.name),
                   ci32(static_cast<int>(t.role)),
                   ci32((int)t.slot.type),
                   ci32(t.slot.shape.size()),
                   ci32(t.dist),
                   shape,
                   ci64(t.slot.numel()),
                   ci64(t.slot.bytes()),
                   llvm::ConstantFP::get(f64, t.p0),
                   llvm::ConstantFP::get(f64, t.p1),
                   llvm::ConstantFP::get(f64, t.p2),
                   llvm::ConstantFP::get(f64, t.p3),
                   str(t.init),
                   ci32(t.frozen),
                   ci32(t.index.ignored.has_value()),
                   ci64(t.index.bound),
                   ci64(t.index.ignored.value_or(0)),
                   t.index.bound ? str(t.index.use) : null,
                   ci32(t.aliases.size()),
                   aliasTable}));
  }
  auto *tensorTable = privateConst(
      llvm::ConstantArray::get(llvm::ArrayType::get(tensorTy, tensors.size()),
                               tensorInits),
      "graft.tensors");

  int special[6] = {-1, -1, -1, -1, -1, -1};
  const char *suffixes[6] = {"_forward_backward", "_zero_grad", "_step",
                             "_train_step", "_eval", "_predict"};
  SmallVector<llvm::Constant *> entryInits;
  auto *voidTy = llvm::Type::getVoidTy(llctx);
  for (auto [e, ep] : llvm::enumerate(entries)) {
    llvm::Function *fn = ir->getFunction(ep.name);
    // Arguments, results, then the planned workspace (graft-plan-memory).
    size_t n = ep.args.size() + ep.results.size() + 1;
    if (!fn || fn->arg_size() != n ||
        llvm::any_of(fn->args(), [](llvm::Argument &a) {
          return !a.getType()->isPointerTy();
        }))
      return error("entry point '" + ep.name +
                   "' does not have the bare-pointer signature");
    auto *wrapper = llvm::Function::Create(
        llvm::FunctionType::get(voidTy, {ptrTy}, false),
        llvm::GlobalValue::InternalLinkage, "graft.packed." + ep.name, *ir);
    wrapper->addFnAttr("target-cpu", cpu);
    if (!features.empty())
      wrapper->addFnAttr("target-features", features);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(llctx, "entry", wrapper));
    SmallVector<llvm::Value *> callArgs;
    for (size_t i = 0; i < n; ++i)
      callArgs.push_back(b.CreateLoad(
          ptrTy, b.CreateConstInBoundsGEP1_64(ptrTy, wrapper->getArg(0), i)));
    b.CreateCall(fn, callArgs);
    b.CreateRetVoid();

    auto indices = [&](const std::vector<TensorSlot> &slots) -> llvm::Constant * {
      if (slots.empty())
        return null;
      SmallVector<uint32_t> idx;
      for (const TensorSlot &s : slots)
        idx.push_back(find(s));
      return privateConst(llvm::ConstantDataArray::get(llctx, llvm::ArrayRef<uint32_t>(idx)),
                          ".slots");
    };
    entryInits.push_back(llvm::ConstantStruct::get(
        entryTy, {str(ep.name), wrapper, ci32(ep.args.size()),
                  ci32(ep.results.size()), indices(ep.args),
                  indices(ep.results), ci64(ep.workspaceBytes)}));
    for (int k = 0; k < 6; ++k)
      if (ep.name == name + suffixes[k])
        special[k] = (int)e;
  }
  auto *entryTable = privateConst(
      llvm::ConstantArray::get(llvm::ArrayType::get(entryTy, entries.size()),
                               entryInits),
      "graft.entries");
  SmallVector<llvm::Constant *> modelInit = {
      str(name), ci32(tensors.size()), ci32(entries.size()), tensorTable,
      entryTable};
  for (int k = 0; k < 6; ++k)
    modelInit.push_back(ci32(special[k]));
  modelInit.push_back(ci32(5)); // GRAFT_ABI_VERSION
  modelInit.push_back(ci32(accumulationSteps));
  modelInit.push_back(str(cpu));
  modelInit.push_back(str(requiredFeatures));
  new llvm::GlobalVariable(*ir, modelTy, true,
                           llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantStruct::get(modelTy, modelInit),
                           "graft_model_" + name);

  if (llvm::verifyModule(*ir, &llvm::errs()))
    return error("the LLVM IR of '" + name + "' is invalid");
  TimingScope optimizing = timing.nest("LLVM O3");
  optimizeModule(*ir, *tm);
  optimizing.stop();
  if (options.sanitizeAddress) {
    TimingScope instrumenting = timing.nest("AddressSanitizer");
    instrumentForAddressSanitizer(*ir, *tm);
  }

  llvm::SmallVector<char, 0> object;
  {
    llvm::raw_svector_ostream os(object);
    TimingScope emitting = timing.nest("LLVM code generation");
    llvm::legacy::PassManager pm;
    if (tm->addPassesToEmitFile(pm, os, nullptr,
                                llvm::CodeGenFileType::ObjectFile))
      return error("the target machine cannot emit an object file");
    pm.run(*ir);
  }

  // The archive and the header.
  if (std::error_code ec = llvm::sys::fs::create_directories(options.outputDir))
    return error("cannot create " + options.outputDir + ": " + ec.message());
  llvm::SmallString<256> lib(options.outputDir), header(options.outputDir);
  llvm::sys::path::append(lib, "lib" + name + ".a");
  llvm::sys::path::append(header, name + ".h");
  std::string objectName = name + ".o";
  std::vector<llvm::NewArchiveMember> members;
  members.emplace_back(llvm::MemoryBufferRef(
      llvm::StringRef(object.data(), object.size()), objectName));
  members.emplace_back(
      llvm::MemoryBufferRef(options.runtimeObject, "graft_runtime.o"));
  if (cuda)
    members.emplace_back(
        llvm::MemoryBufferRef(options.cudaRuntimeObject, "graft_cuda.o"));
  if (llvm::Error e = llvm::writeArchive(
          lib, members, llvm::SymtabWritingMode::NormalSymtab,
          llvm::object::Archive::K_GNU, /*Deterministic=*/true,
          /*Thin=*/false))
    return std::move(e);

  std::string h;
  llvm::raw_string_ostream os(h);
  std::string up = identifier(name);
  os << "/* " << name << ".h: generated by `graft compile`; do not edit.\n"
     << " * The C API of model '" << name << "' in lib" << name
     << ".a (target CPU " << cpu << "). See docs/CAPI.md. */\n"
     << options.apiHeader << "\n"
     << (cuda ? options.cudaApiHeader : llvm::StringRef()) << (cuda ? "\n" : "")
     << "#ifndef GRAFT_MODEL_" << up << "_H\n#define GRAFT_MODEL_" << up
     << "_H\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
     << "/* The model's descriptor: pass it to graft_create. */\n"
     << "extern const graft_model_desc graft_model_" << name << ";\n\n"
     << "static inline graft_status " << name
     << "_create(graft_context **ctx) {\n  return graft_create(&graft_model_"
     << name << ", ctx);\n}\n\n"
     << "#define " << up << "_TENSOR_COUNT " << tensors.size() << "\n\n"
     << "/* The context's tensors, by index: role, state_dict name, dtype,\n"
     << " * shape and initialiser.\n";
  for (auto [i, t] : llvm::enumerate(tensors))
    os << llvm::formatv(" * {0,3} {1,-13} {2,-28} {3} {4}{5}{6}\n", i,
                        stringifyRole(t.role), t.slot.name,
                        dtypeName(t.slot.type), shapeText(t.slot.shape),
                        t.init.empty() ? "" : "  init ", t.init);
  os << " */\nenum " << name << "_tensor {\n";
  std::vector<std::string> ids;
  for (auto [i, t] : llvm::enumerate(tensors)) {
    std::string id = up + "_" + identifier(stringifyRole(t.role)) + "_" +
                     identifier(t.slot.name);
    if (llvm::is_contained(ids, id))
      id += "_" + std::to_string(i);
    ids.push_back(id);
    os << "  " << id << " = " << i << ",\n";
    // A tied parameter under its other state_dict names too.
    for (const std::string &a : t.aliases)
      os << "  " << up << "_" << identifier(stringifyRole(t.role)) << "_"
         << identifier(a) << " = " << i << ", /* tied to " << t.slot.name
         << " */\n";
  }
  os << "};\n\n";
  for (auto [i, t] : llvm::enumerate(tensors)) {
    const std::string &id = ids[i];
    os << "#define " << id << "_NAME " << cString(t.slot.name) << "\n"
       << "#define " << id << "_DTYPE GRAFT_DTYPE_" << dtypeName(t.slot.type)
       << "\n"
       << "#define " << id << "_RANK " << t.slot.shape.size() << "\n";
    if (!t.slot.shape.empty())
      os << "#define " << id << "_SHAPE " << shapeText(t.slot.shape) << "\n";
    for (auto [d, size] : llvm::enumerate(t.slot.shape))
      os << "#define " << id << "_SHAPE_" << d << " " << size << "\n";
    os << "#define " << id << "_NUMEL " << t.slot.numel() << "\n"
       << "#define " << id << "_NBYTES " << t.slot.bytes() << "\n";
  }
  os << "\n/* The entry points (called through graft_train_step etc.): their\n"
     << " * arguments, then results, as tensor indices. */\n";
  for (const EntryPoint &ep : entries) {
    os << " /* " << ep.name << "(";
    for (auto [i, s] : llvm::enumerate(ep.args))
      os << (i ? ", " : "") << find(s);
    os << ") -> (";
    for (auto [i, s] : llvm::enumerate(ep.results))
      os << (i ? ", " : "") << find(s);
    os << ") */\n";
  }
  os << "\n#ifdef __cplusplus\n}\n#endif\n#endif\n";
  std::error_code ec;
  llvm::raw_fd_ostream hout(header, ec);
  if (ec)
    return error("cannot write " + header + ": " + ec.message());
  hout << h;
  hout.close();
  if (hout.has_error())
    return error("cannot write " + header);
  if (cuda && options.emitPTX)
    if (llvm::Error e = writePTX(options.outputDir, name, gpuImages))
      return std::move(e);
  return name;
}

llvm::Expected<unsigned> graft::cpuVectorBits(llvm::StringRef cpu) {
  if (cpu.empty() || cpu == "native")
    return hostVectorBits();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  llvm::Expected<const llvm::Target *> target = knownCPUTarget(triple, cpu);
  if (!target)
    return target.takeError();
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      (*target)->createMCSubtargetInfo(triple, cpu, ""));
  return vectorBitsOf(*sti);
}
