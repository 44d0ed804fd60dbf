//===- graft.cpp - The Graft command line ---------------------------------===//
//
// `graft <subcommand> ...`. Exit codes: 0 success, 1 the input has errors
// (diagnostics were printed with file:line:col), 2 the command line is wrong.
//
//===----------------------------------------------------------------------===//

#include "Compile.h"
#include "Import.h"
#include "Load.h"
#include "Train.h"
#include "Version.h"

#include "graft/Autograd/Backward.h"
#include "graft/Autograd/Inspect.h"
#include "graft/Autograd/Passes.h"
#include "graft/Autograd/RequiresGrad.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Dialect/Graft/IR/ShapeFunctions.h"
#include "graft/Evaluator/Evaluator.h"
#include "graft/Frontend/MLIRGen.h"
#include "graft/Pipelines/Pipelines.h"
#include "graft/Target/JIT.h"
#include "graft/Target/Library.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <csignal>
#include <functional>

using namespace mlir;
namespace cl = llvm::cl;

namespace {
enum ExitCode { Ok = 0, InputError = 1, UsageError = 2 };

cl::SubCommand checkCmd("check",
                        "Parse and verify a model; print its summary");
cl::opt<std::string> checkFile(cl::Positional, cl::Required,
                               cl::desc("<model.graft | model.mlir>"),
                               cl::sub(checkCmd));

cl::SubCommand emitCmd("emit-mlir",
                       "Compile a .graft model file and print its graft IR");
cl::opt<std::string> emitFile(cl::Positional, cl::Required,
                              cl::desc("<model.graft>"), cl::sub(emitCmd));
cl::opt<std::string> emitOutput("o", cl::desc("Write the IR to <file>"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::sub(emitCmd));
cl::opt<bool> emitLocations(
    "locations", cl::desc("Print the source location of every op"),
    cl::init(false), cl::sub(emitCmd));

cl::SubCommand gradcheckCmd(
    "gradcheck",
    "Check derived gradients against central finite differences in f64");
cl::opt<std::string> gradcheckFile(cl::Positional, cl::Required,
                                   cl::desc("<model.mlir>"),
                                   cl::sub(gradcheckCmd));
cl::opt<uint64_t> gradcheckSeed(
    "seed", cl::init(0),
    cl::desc("Seed of parameter initialisation, inputs and dropout masks"),
    cl::sub(gradcheckCmd));
cl::opt<double> gradcheckEps("eps", cl::init(1e-6),
                             cl::desc("Finite-difference step (default 1e-6)"),
                             cl::sub(gradcheckCmd));
cl::opt<double> gradcheckAtol("atol", cl::init(1e-5),
                              cl::desc("Absolute tolerance (default 1e-5)"),
                              cl::sub(gradcheckCmd));
cl::opt<unsigned> gradcheckSample(
    "sample", cl::init(0),
    cl::desc("Check this many elements of each tensor, picked at random "
             "from the seed (default 0: every element)"),
    cl::sub(gradcheckCmd));
cl::opt<double> gradcheckRtol("rtol", cl::init(1e-3),
                              cl::desc("Relative tolerance (default 1e-3)"),
                              cl::sub(gradcheckCmd));

cl::SubCommand inspectCmd(
    "inspect",
    "Show what autograd does: the autograd table (default) or Graphviz DOT");
cl::opt<std::string> inspectFile(cl::Positional, cl::Required,
                                 cl::desc("<model.mlir>"),
                                 cl::sub(inspectCmd));
cl::opt<bool> inspectAutograd(
    "autograd",
    cl::desc("Print requires_grad, is_leaf, grad_fn and .grad of every named "
             "value, and why a parameter gets no gradient (the default)"),
    cl::sub(inspectCmd));
cl::opt<bool> inspectDot(
    "dot", cl::desc("Print the forward and backward graphs as Graphviz DOT"),
    cl::sub(inspectCmd));
cl::opt<bool> inspectMemory(
    "memory",
    cl::desc("Compile the model and print each entry point's planned memory: "
             "arguments, results, and the workspace of its temporaries"),
    cl::sub(inspectCmd));
cl::opt<std::string> inspectTargetCPU(
    "target-cpu", cl::init(""),
    cl::desc("With --memory: the CPU to plan for, as graft compile's "
             "--target-cpu (its vector width sets the product tiles and "
             "copies; default: the host's)"),
    cl::sub(inspectCmd));
cl::opt<bool> inspectAll("all",
                         cl::desc("With --autograd: one row for every value"),
                         cl::sub(inspectCmd));

cl::list<std::string> dimOverrides(
    "dim", cl::desc("Override a named dimension: --dim B=32"),
    cl::value_desc("NAME=VALUE"), cl::sub(checkCmd), cl::sub(emitCmd),
    cl::sub(inspectCmd), cl::sub(gradcheckCmd));

struct Subcommand {
  cl::SubCommand *cmd;
  int (*run)();
};

std::string typeStr(RankedTensorType t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t.getElementType() << graft::shape::str(t.getShape());
  return s;
}

bool isModelFile(llvm::StringRef path) {
  return llvm::sys::path::extension(path) == ".graft";
}

bool parseDims(graft::frontend::GenOptions &options) {
  return graft::cli::parseDims(dimOverrides, options);
}

int runCheck() {
  MLIRContext ctx;
  ctx.loadDialect<graft::GraftDialect>();
  graft::frontend::GenOptions options;
  if (!parseDims(options))
    return UsageError;
  if (!isModelFile(checkFile) && !options.dims.empty()) {
    llvm::errs() << "graft: error: --dim applies to .graft model files\n";
    return UsageError;
  }
  llvm::SourceMgr sm;
  SourceMgrDiagnosticHandler handler(sm, &ctx);
  OwningOpRef<ModuleOp> module = graft::cli::loadModule(ctx, sm, checkFile, options);
  if (!module)
    return InputError;
  // The autograd errors PyTorch raises at run time: in-place writes to saved
  // values, leaves or inference tensors (loadModule checked those), and a
  // backward that cannot run.
  for (auto model : module->getOps<graft::ModelOp>()) {
    OwningOpRef<Operation *> copy = model->clone();
    if (failed(graft::deriveBackward(cast<graft::ModelOp>(*copy))))
      return InputError;
  }
  auto &os = llvm::outs();
  int models = 0;
  for (auto model : module->getOps<graft::ModelOp>()) {
    ++models;
    graft::RequiresGradAnalysis ag(model);
    int64_t total = 0, trainable = 0, frozen = 0, buffers = 0;
    os << "model @" << model.getSymName() << "\n";
    for (Operation &op : model.getBody().front()) {
      if (auto in = dyn_cast<graft::InputOp>(op)) {
        os << "  input  " << in.getName() << ": " << typeStr(in.getType())
           << (in.getRequiresGrad() ? " (requires_grad)" : "");
        if (std::optional<graft::IndexRange> r = graft::indexRangeOf(in))
          os << ", values in [0, " << r->bound << ")"
             << (r->ignored ? " or " + std::to_string(*r->ignored) : "") << ": "
             << graft::describeIndexUse(*r, "N");
        os << "\n";
      } else if (auto p = dyn_cast<graft::ParamOp>(op)) {
        int64_t n = p.getType().getNumElements();
        total += n;
        (p.getFrozen() ? frozen : trainable) += n;
        os << "  param  " << p.getName() << ": " << typeStr(p.getType())
           << (p.getFrozen() ? " (frozen)" : "");
        if (p.getAliases())
          os << " (tied: also "
             << llvm::join(llvm::drop_begin(p.getStateDictNames()), ", ")
             << ")";
        os << "\n";
      } else if (auto b = dyn_cast<graft::BufferOp>(op)) {
        buffers += b.getType().getNumElements();
        os << "  buffer " << b.getName() << ": " << typeStr(b.getType())
           << "\n";
      }
    }
    os << "  parameters: " << total << " total, " << trainable
       << " trainable, " << frozen << " frozen; buffer elements: " << buffers
       << "\n";
    if (Value loss = model.getLoss())
      os << "  loss: " << (ag.requiresGrad(loss) ? "requires grad"
                                                 : "does not require grad")
         << "\n";
    else
      os << "  loss: none (inference only)\n";
  }
  if (models == 0) {
    llvm::errs() << checkFile << ": error: no graft.model found\n";
    return InputError;
  }
  return Ok;
}

int runGradcheck();
int runInspect();


//===----------------------------------------------------------------------===//
// graft gradcheck
//===----------------------------------------------------------------------===//

/// The exclusive upper bound of the values an integer input may take: the
/// class count where it is a loss target, the table size where it indexes an
/// embedding (followed through views), 2 for i1, else 4.
int64_t integerInputBound(Value v, Type elementType) {
  if (elementType.isInteger(1))
    return 2;
  int64_t bound = INT64_MAX;
  SmallVector<Value> work{v};
  while (!work.empty()) {
    Value cur = work.pop_back_val();
    for (OpOperand &use : cur.getUses()) {
      Operation *user = use.getOwner();
      unsigned idx = use.getOperandNumber();
      auto shapeOf = [](Value x) {
        return cast<RankedTensorType>(x.getType()).getShape();
      };
      if (isa<graft::CrossEntropyOp, graft::NllLossOp>(user) && idx == 1) {
        auto in = shapeOf(user->getOperand(0));
        bound = std::min(bound, in.size() == 1 ? in[0] : in[1]);
      } else if (isa<graft::EmbeddingOp>(user) && idx == 1) {
        bound = std::min(bound, shapeOf(user->getOperand(0))[0]);
      } else if (isa<graft::EmbeddingBackwardOp>(user) && idx == 1) {
        bound = std::min(bound, shapeOf(user->getResult(0))[0]);
      } else if (isa<graft::OneHotOp>(user)) {
        bound = std::min(bound, shapeOf(user->getResult(0)).back());
      } else if (isa<graft::ReshapeOp, graft::SliceOp, graft::TransposeOp,
                     graft::PermuteOp, graft::BroadcastToOp, graft::ConcatOp,
                     graft::DetachOp, graft::CloneOp>(user)) {
        work.push_back(user->getResult(0));
      }
    }
  }
  return bound == INT64_MAX ? 4 : bound;
}

/// Random inputs: floats from N(0, 1), integers uniform in a valid range.
graft::eval::Tensor randomInput(graft::InputOp in, uint64_t seed) {
  using namespace graft::eval;
  RankedTensorType type = in.getType();
  DType dt = *graft::elementTypeOf(type.getElementType());
  Tensor t = Tensor::filled(type.getShape(), dt);
  std::string key = ("input:" + in.getName()).str();
  if (isFloat(dt)) {
    for (int64_t i = 0; i < t.numel(); ++i)
      t.data[i] = initNormal(seed, key, i);
    return t;
  }
  int64_t bound = integerInputBound(in.getResult(), type.getElementType());
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data[i] = std::min<double>(
        std::floor(initUniform(seed, key, i) * static_cast<double>(bound)),
        static_cast<double>(bound - 1));
  return t;
}

/// Appends the backward pass with the lead's `graft-derive-backward` unless
/// the model already carries `graft.gradient` marks (hand-derived IR).
LogicalResult deriveBackward(ModuleOp module) {
  bool hasGradients = false;
  module.walk([&](graft::GradientOp) { hasGradients = true; });
  if (hasGradients)
    return success();
  PassManager pm(module.getContext());
  std::string errors;
  llvm::raw_string_ostream os(errors);
  if (failed(parsePassPipeline("graft.model(graft-derive-backward)", pm, os))) {
    llvm::errs() << "graft: error: cannot derive the backward pass: "
                 << errors << "\n";
    return failure();
  }
  return pm.run(module);
}

struct FDResult {
  double maxAbs = 0, maxRel = 0;
  bool pass = true;
};

int gradcheckModel(graft::ModelOp model) {
  using namespace graft::eval;
  auto &os = llvm::outs();
  uint64_t seed = gradcheckSeed;
  double eps = gradcheckEps, atol = gradcheckAtol, rtol = gradcheckRtol;
  if (!model.getLoss()) {
    llvm::errs() << "graft: error: model @" << model.getSymName()
                 << " has no graft.loss to check gradients of\n";
    return InputError;
  }
  Evaluator ev(model, Mode::Train, seed);
  ev.setComputeInF64(true);
  for (auto in : model.getBody().front().getOps<graft::InputOp>())
    ev.setInput(in.getName(), randomInput(in, seed));
  auto reportError = [&](llvm::Error e) {
    llvm::errs() << "graft: error: " << llvm::toString(std::move(e)) << "\n";
    return InputError;
  };
  if (llvm::Error e = ev.initParams())
    return reportError(std::move(e));
  if (llvm::Error e = ev.run())
    return reportError(std::move(e));

  os << "gradcheck @" << model.getSymName() << ": seed " << seed << ", eps "
     << llvm::format("%g", eps) << ", atol " << llvm::format("%g", atol)
     << ", rtol " << llvm::format("%g", rtol)
     << ", f64, train mode; detach, no_grad and padding_idx lookups held "
        "constant\n";

  // What may have a gradient: trainable parameters, inputs that require grad
  // and retained values.
  enum Kind { Param, Input, Retained };
  struct Target {
    std::string name;
    Kind kind;
    Value value;
  };
  std::vector<Target> targets;
  for (Operation &op : model.getBody().front()) {
    if (auto p = dyn_cast<graft::ParamOp>(op); p && !p.getFrozen())
      targets.push_back({p.getName().str(), Param, p.getResult()});
    else if (auto in = dyn_cast<graft::InputOp>(op); in && in.getRequiresGrad())
      targets.push_back({in.getName().str(), Input, in.getResult()});
    else if (auto r = dyn_cast<graft::RetainGradOp>(op))
      targets.push_back({r.getName().str(), Retained, r.getValue()});
  }

  SmallVector<Value> cuts;
  model.walk([&](Operation *op) {
    if (isa<graft::DetachOp, graft::NoGradOp, graft::InferenceOp>(op))
      llvm::append_range(cuts, op->getResults());
  });

  int failed = 0, checked = 0;
  for (const std::string &name : ev.gradientNames())
    if (llvm::none_of(targets, [&](const Target &t) { return t.name == name; })) {
      os << "  FAIL  " << name
         << "  graft.gradient names no trainable parameter, requires_grad "
            "input or retained value\n";
      ++failed;
    }

  for (const Target &t : targets) {
    Tensor base = t.kind == Param   ? *ev.param(t.name)
                  : t.kind == Input ? *ev.input(t.name)
                                    : ev.value(t.value);
    std::optional<Tensor> analytic = ev.gradient(t.name);
    std::string shape = base.typeStr().substr(base.typeStr().find('['));
    if (analytic && analytic->shape != base.shape) {
      os << "  FAIL  " << t.name << "  " << shape << "  gradient has shape "
         << analytic->typeStr() << "\n";
      ++failed;
      continue;
    }
    // The loss with element i of the target moved by delta.
    Evaluator probe(model, Mode::Train, seed);
    probe.setComputeInF64(true);
    probe.setStopAtLoss(true);
    for (auto in : model.getBody().front().getOps<graft::InputOp>())
      probe.setInput(in.getName(), *ev.input(in.getName()));
    for (auto p : model.getBody().front().getOps<graft::ParamOp>())
      probe.setParam(p.getName(), *ev.param(p.getName()));
    for (auto b : model.getBody().front().getOps<graft::BufferOp>())
      probe.setParam(b.getName(), *ev.param(b.getName()));
    // Autograd treats what leaves detach, no_grad and inference as
    // constants; so do the finite differences, or they would see paths that
    // backward rightly ignores (y = 2x + x.detach() has dy/dx = 2).
    for (Value cut : cuts)
      probe.setOverride(cut, ev.value(cut));
    model.walk([&](graft::EmbeddingOp e) {
      if (e.getPaddingIdx())
        probe.holdPaddingRows(e, ev.value(e.getWeight()));
    });
    auto lossAt = [&](int64_t i, double delta) -> llvm::Expected<double> {
      Tensor moved = base;
      moved.data[i] += delta;
      if (t.kind == Param)
        probe.setParam(t.name, moved);
      else if (t.kind == Input)
        probe.setInput(t.name, moved);
      else
        probe.setOverride(t.value, moved);
      if (llvm::Error e = probe.run())
        return std::move(e);
      return probe.loss()->data[0];
    };
    // The elements to check: all, or a seeded sample (a partial shuffle).
    std::vector<int64_t> elements(base.numel());
    for (int64_t i = 0; i < base.numel(); ++i)
      elements[i] = i;
    if (gradcheckSample && gradcheckSample < elements.size()) {
      for (size_t k = 0; k < gradcheckSample; ++k) {
        size_t j = k + static_cast<size_t>(
                           initUniform(seed, "sample:" + t.name, k) *
                           static_cast<double>(elements.size() - k));
        std::swap(elements[k], elements[std::min(j, elements.size() - 1)]);
      }
      elements.resize(gradcheckSample);
    }
    FDResult r;
    for (int64_t i : elements) {
      auto plus = lossAt(i, eps);
      if (!plus)
        return reportError(plus.takeError());
      auto minus = lossAt(i, -eps);
      if (!minus)
        return reportError(minus.takeError());
      double numeric = (*plus - *minus) / (2 * eps);
      double a = analytic ? analytic->data[i] : 0.0;
      double absErr = std::fabs(a - numeric);
      double relErr = numeric != 0 ? absErr / std::fabs(numeric) : absErr;
      if (!(absErr <= atol + rtol * std::fabs(numeric)))
        r.pass = false;
      r.maxAbs = std::max(r.maxAbs, std::isnan(absErr) ? INFINITY : absErr);
      r.maxRel = std::max(r.maxRel, std::isnan(relErr) ? INFINITY : relErr);
    }
    ++checked;
    if (!r.pass)
      ++failed;
    os << (r.pass ? "  PASS  " : "  FAIL  ") << t.name << "  " << shape
       << "  max abs err " << llvm::format("%.3e", r.maxAbs)
       << "  max rel err " << llvm::format("%.3e", r.maxRel)
       << (elements.size() < static_cast<size_t>(base.numel())
               ? llvm::formatv("  ({0} of {1} elements)", elements.size(),
                               base.numel())
                     .str()
               : std::string())
       << (analytic    ? ""
           : r.pass ? "  (no gradient: the loss does not depend on it)"
                    : "  (no graft.gradient, but the loss depends on it)")
       << "\n";
  }
  if (failed)
    os << "gradcheck @" << model.getSymName() << ": FAIL (" << failed << " of "
       << checked << " tensors)\n";
  else
    os << "gradcheck @" << model.getSymName() << ": PASS (" << checked
       << " tensors)\n";
  return failed ? InputError : Ok;
}

int runGradcheck() {
  DialectRegistry registry;
  registry.insert<graft::GraftDialect>();
  MLIRContext ctx(registry);
  ctx.loadDialect<graft::GraftDialect>();
  graft::registerAutogradPasses();
  llvm::SourceMgr sm;
  SourceMgrDiagnosticHandler handler(sm, &ctx);
  graft::frontend::GenOptions options;
  if (!parseDims(options))
    return UsageError;
  OwningOpRef<ModuleOp> module = graft::cli::loadModule(ctx, sm, gradcheckFile, options);
  if (!module)
    return InputError;
  if (failed(deriveBackward(*module)))
    return InputError;
  int models = 0, status = Ok;
  for (auto model : module->getOps<graft::ModelOp>()) {
    ++models;
    if (int rc = gradcheckModel(model))
      status = rc;
  }
  if (models == 0) {
    llvm::errs() << gradcheckFile << ": error: no graft.model found\n";
    return InputError;
  }
  return status;
}

//===----------------------------------------------------------------------===//
// graft inspect
//===----------------------------------------------------------------------===//

/// `graft inspect --memory`: the bytes every entry point of the lowered
/// training program needs, as planned by graft-plan-memory.
int printMemoryPlan(ModuleOp module) {
  DialectRegistry registry;
  graft::registerCodegenDialects(registry);
  module.getContext()->appendDialectRegistry(registry);
  llvm::Expected<unsigned> vectorBits = graft::cpuVectorBits(inspectTargetCPU);
  if (!vectorBits) {
    llvm::errs() << llvm::toString(vectorBits.takeError()) << "\n";
    return UsageError;
  }
  std::vector<graft::EntryPoint> entries;
  if (llvm::Error e =
          graft::lowerTrainingProgram(module, entries, [&](OpPassManager &pm) {
            graft::buildCPUPipeline(pm, *vectorBits);
          })) {
    llvm::errs() << inspectFile << ": error: " << llvm::toString(std::move(e))
                 << "\n";
    return InputError;
  }
  auto kib = [](int64_t bytes) { return llvm::format("%12.1f", bytes / 1024.0); };
  auto slotBytes = [](const std::vector<graft::TensorSlot> &slots) {
    int64_t n = 0;
    for (const graft::TensorSlot &s : slots)
      n += s.bytes();
    return n;
  };
  llvm::outs() << llvm::format("%-32s", "entry point (KiB)") << "   arguments"
               << "     results   workspace  temporaries\n";
  for (const graft::EntryPoint &ep : entries)
    llvm::outs() << llvm::format("%-32s", ep.name.c_str())
                 << kib(slotBytes(ep.args)) << kib(slotBytes(ep.results))
                 << kib(ep.workspaceBytes) << kib(ep.temporaryBytes) << "\n";
  llvm::outs() << "(workspace: the temporaries at offsets planned at compile "
                  "time, reusing the bytes of dead ones; allocated once per "
                  "context, no allocation inside a step)\n";
  return Ok;
}

int runInspect() {
  DialectRegistry registry;
  registry.insert<graft::GraftDialect>();
  MLIRContext ctx(registry);
  ctx.loadDialect<graft::GraftDialect>();
  llvm::SourceMgr sm;
  SourceMgrDiagnosticHandler handler(sm, &ctx);
  graft::frontend::GenOptions options;
  if (!parseDims(options))
    return UsageError;
  OwningOpRef<ModuleOp> module = graft::cli::loadModule(ctx, sm, inspectFile, options);
  if (!module)
    return InputError;
  auto models = llvm::to_vector(module->getOps<graft::ModelOp>());
  if (models.empty()) {
    llvm::errs() << inspectFile << ": error: no graft.model found\n";
    return InputError;
  }
  if (inspectMemory)
    return printMemoryPlan(*module);
  bool table = inspectAutograd || !inspectDot;
  for (auto [i, model] : llvm::enumerate(models)) {
    if (table) {
      if (i)
        llvm::outs() << "\n";
      graft::InspectOptions inspectOptions;
      inspectOptions.allValues = inspectAll;
      graft::printAutogradTable(model, llvm::outs(), inspectOptions);
    }
    if (inspectDot)
      graft::printAutogradDot(model, llvm::outs());
  }
  return Ok;
}

int runEmitMlir() {
  MLIRContext ctx;
  ctx.loadDialect<graft::GraftDialect>();
  graft::frontend::GenOptions options;
  if (!parseDims(options))
    return UsageError;
  llvm::SourceMgr sm;
  SourceMgrDiagnosticHandler handler(sm, &ctx);
  OwningOpRef<ModuleOp> module = graft::cli::loadModule(ctx, sm, emitFile, options);
  if (!module)
    return InputError;
  std::string err;
  auto out = openOutputFile(emitOutput, &err);
  if (!out) {
    llvm::errs() << "graft: error: " << err << "\n";
    return UsageError;
  }
  OpPrintingFlags flags;
  if (emitLocations)
    flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false)
        .useLocalScope();
  module->print(out->os(), flags);
  out->keep();
  return Ok;
}

Subcommand subcommands[] = {{&checkCmd, runCheck},
                            {&emitCmd, runEmitMlir},
                            {&inspectCmd, runInspect},
                            {&gradcheckCmd, runGradcheck},
                            {&graft::cli::trainCmd, graft::cli::runTrain},
                            {&graft::cli::predictCmd, graft::cli::runPredict},
                            {&graft::cli::benchCmd, graft::cli::runBench},
                            {&graft::cli::generateCmd, graft::cli::runGenerate},
                            {&graft::cli::compileCmd, graft::cli::runCompile},
                            {&graft::cli::importCmd, graft::cli::runImport}};

void printVersion(llvm::raw_ostream &os) {
  os << "graft " << GRAFT_VERSION << " (LLVM/MLIR " << GRAFT_LLVM_VERSION
     << ")\n";
}
} // namespace

/// The interrupt signals this process was started with ignored: SIGHUP
/// under nohup, SIGINT in a shell's background job. InitLLVM installs LLVM's
/// handlers for them, which would remove a checkpoint's temporary file (and
/// then return, the signal still ignored: the checkpoint write fails);
/// `nohup graft train` must instead train on and write its checkpoints.
/// Called before InitLLVM, it returns a function that ignores them again.
static std::function<void()> keepIgnoredSignalsIgnored() {
  std::vector<int> ignored;
  for (int sig : {SIGHUP, SIGINT, SIGTERM, SIGUSR2}) {
    struct sigaction old;
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN)
      ignored.push_back(sig);
  }
  return [ignored] {
    for (int sig : ignored)
      ::signal(sig, SIG_IGN);
  };
}

int main(int argc, char **argv) {
  auto reignore = keepIgnoredSignalsIgnored();
  llvm::InitLLVM init(argc, argv);
  reignore();
  cl::SetVersionPrinter(printVersion);
  const char *overview =
      "Graft: an ahead-of-time autograd compiler\n\n"
      "  graft <subcommand> [options] <file>\n"
      "  graft <subcommand> --help\n";

  // Reject unknown subcommands ourselves: cl would take them for files.
  if (argc >= 2 && argv[1][0] != '-') {
    bool known = llvm::any_of(subcommands, [&](const Subcommand &s) {
      return s.cmd->getName() == argv[1];
    });
    if (!known) {
      llvm::errs() << "graft: error: unknown subcommand '" << argv[1]
                   << "'; run 'graft --help' for the list\n";
      return UsageError;
    }
  }
  std::vector<cl::SubCommand *> modelCommands;
  for (const Subcommand &s : subcommands)
    modelCommands.push_back(s.cmd);
  graft::cli::addModelLimitOptions(modelCommands);
  // LLVM's and MLIR's own options live at the top level: `graft --help`
  // lists Graft's (as LLVM's tools hide theirs); --help-hidden shows them.
  for (auto &[name, option] :
       cl::getRegisteredOptions(cl::SubCommand::getTopLevel()))
    if (name != "help" && name != "help-list" && name != "version")
      option->setHiddenFlag(cl::ReallyHidden);
  std::string errors;
  llvm::raw_string_ostream errStream(errors);
  if (!cl::ParseCommandLineOptions(argc, argv, overview, &errStream)) {
    llvm::errs() << errors;
    return UsageError;
  }
  for (const Subcommand &s : subcommands)
    if (*s.cmd)
      return s.run();
  llvm::errs() << "graft: error: no subcommand given; run 'graft --help'\n";
  return UsageError;
}
