//===- Train.cpp - graft train and graft predict --------------------------===//
//
// Compiles a model's training program in process (JIT), then trains it on a
// CSV data set, or predicts with a checkpoint. The model has one float input
// (the features, [B, ...]) and one integer input (the labels, [B]); its
// first float output shaped [B, C] is the class scores.
//
//===----------------------------------------------------------------------===//

#include "Train.h"
#include "Load.h"

#include "graft/Autograd/Optimizer.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Evaluator/Evaluator.h"
#include "graft/Frontend/MLIRGen.h"
#include "graft/Pipelines/Pipelines.h"
#include "graft/Runtime/Checkpoint.h"
#include "graft/Runtime/Dataset.h"
#include "graft/Target/JIT.h"
#include "graft/Training/Classifier.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <new>
#include <numeric>
#include <random>

using namespace mlir;
using namespace graft;
using namespace graft::training;
namespace cl = llvm::cl;

cl::SubCommand graft::cli::trainCmd(
    "train", "Compile a model and train it on a CSV data set");
cl::SubCommand graft::cli::benchCmd(
    "bench", "Time an entry point of the model (default: the train step) on random data");
cl::SubCommand graft::cli::predictCmd(
    "predict", "Predict with a trained checkpoint (accuracy when labelled)");

namespace {
cl::opt<std::string> modelFile(cl::Positional, cl::Required,
                               cl::desc("<model.graft>"),
                               cl::sub(graft::cli::trainCmd),
                               cl::sub(graft::cli::predictCmd),
                               cl::sub(graft::cli::benchCmd));
cl::opt<unsigned> benchSteps("steps", cl::init(50),
                             cl::desc("Timed steps (after 5 warm-up steps)"),
                             cl::sub(graft::cli::benchCmd));
cl::opt<std::string> benchEntry(
    "entry", cl::init("train_step"),
    cl::desc("Entry point to time: train_step, forward_backward, step, eval, "
             "predict, zero_grad"),
    cl::sub(graft::cli::benchCmd));
cl::opt<int> threads(
    "threads", cl::init(0),
    cl::desc("Threads the generated code splits products and large loops "
             "across (default: GRAFT_NUM_THREADS, else OMP_NUM_THREADS, else one per core)"),
    cl::sub(graft::cli::trainCmd), cl::sub(graft::cli::predictCmd),
    cl::sub(graft::cli::benchCmd));
cl::opt<std::string> dataFile(
    "data", cl::Required,
    cl::desc("CSV: one sample per line (the features, then the label), "
             "at most one header line first; blank lines are skipped, any "
             "other line that is not a sample is an error (docs/CLI.md)"),
    cl::sub(graft::cli::trainCmd), cl::sub(graft::cli::predictCmd));
cl::opt<std::string> separatorName(
    "sep", cl::init(""),
    cl::desc("Field separator of the CSV files: ',', ';', '|' or 'tab' "
             "(default: detected from the first lines)"),
    cl::sub(graft::cli::trainCmd), cl::sub(graft::cli::predictCmd));
cl::opt<std::string> testFile("test", cl::desc("CSV evaluated after each epoch"),
                              cl::sub(graft::cli::trainCmd));
cl::opt<unsigned> epochs("epochs", cl::init(10), cl::desc("Epochs to train"),
                         cl::sub(graft::cli::trainCmd));
cl::opt<int64_t> batch("batch", cl::init(0),
                       cl::desc("Batch size: sets the model's `dim B`"),
                       cl::sub(graft::cli::trainCmd),
                       cl::sub(graft::cli::predictCmd),
                       cl::sub(graft::cli::benchCmd));
cl::list<std::string> dims("dim", cl::desc("Override a named dimension: --dim T=128"),
                           cl::value_desc("NAME=VALUE"),
                           cl::sub(graft::cli::trainCmd),
                           cl::sub(graft::cli::predictCmd),
                           cl::sub(graft::cli::benchCmd));
cl::opt<uint64_t> seed("seed", cl::init(0),
                       cl::desc("Seed of initialisation, shuffling, dropout"),
                       cl::sub(graft::cli::trainCmd));
cl::opt<double> lrOverride("lr", cl::init(0),
                           cl::desc("Learning rate (default: the model's)"),
                           cl::sub(graft::cli::trainCmd));
cl::opt<std::string> checkpointOut("o", cl::init("checkpoint.safetensors"),
                                   cl::desc("Checkpoint to write"),
                                   cl::sub(graft::cli::trainCmd));
cl::opt<unsigned> checkpointEvery(
    "checkpoint-every", cl::init(0),
    cl::desc("Also write the checkpoint (-o) every N training steps, "
             "atomically (0, the default: only at the end); --resume "
             "continues from any of them"),
    cl::sub(graft::cli::trainCmd));
cl::opt<std::string> logFile("log", cl::init(""),
                             cl::desc("CSV log of loss and accuracy per epoch"),
                             cl::sub(graft::cli::trainCmd));
cl::opt<std::string> plotFile("plot", cl::init(""),
                              cl::desc("SVG plot of loss and accuracy"),
                              cl::sub(graft::cli::trainCmd));
cl::opt<std::string> resumeFrom(
    "resume", cl::init(""),
    cl::desc("Continue from a checkpoint of `graft train` (parameters, "
             "buffers, optimizer state, epoch); --epochs is the total"),
    cl::sub(graft::cli::trainCmd));
cl::opt<std::string> checkpointIn("checkpoint", cl::Required,
                                  cl::desc("Checkpoint to load"),
                                  cl::sub(graft::cli::predictCmd));

enum Exit { Ok = 0, InputError = 1, UsageError = 2 };

/// The separator --sep names (0: detect it); nullopt, after an error
/// message, when it names none.
std::optional<char> csvSeparator() {
  if (separatorName.empty())
    return 0;
  std::optional<char> sep = parseSeparator(separatorName);
  if (!sep)
    llvm::errs() << "graft: error: unknown separator '" << separatorName
                 << "' (--sep takes ',', ';', '|' or 'tab')\n";
  return sep;
}

/// Loads and compiles the model; `meta` keeps the model for its metadata.
struct Compiled {
  std::unique_ptr<MLIRContext> ctx;
  OwningOpRef<ModuleOp> meta;
  std::unique_ptr<JITModel> jit;
  Classifier info;
};

/// Compiles the model; `forData` also checks what train and predict need
/// of it (one float input, integer labels, class scores).
llvm::Expected<Compiled> compileModel(bool forData = true) {
  Compiled c;
  DialectRegistry registry;
  registerCodegenDialects(registry);
  c.ctx = std::make_unique<MLIRContext>(registry);
  c.ctx->loadAllAvailableDialects();
  llvm::SourceMgr sm;
  SourceMgrDiagnosticHandler handler(sm, c.ctx.get());
  frontend::GenOptions options;
  if (!graft::cli::parseDims(dims, options))
    return trainingError("invalid --dim (see above)");
  if (batch > 0) {
    if (llvm::any_of(options.dims, [](auto &d) { return d.first == "B"; }))
      return trainingError(
          "--batch and --dim B=... both set the batch; give one");
    options.dims.push_back({"B", batch});
  }
  OwningOpRef<ModuleOp> module =
      graft::cli::loadModule(*c.ctx, sm, modelFile, options);
  if (!module)
    return trainingError("the model has errors (see above)");
  c.meta = module->clone();
  if (forData) {
    auto info = inspectClassifier(*c.meta);
    if (!info)
      return info.takeError();
    c.info = *info;
  } else {
    auto models = c.meta->getOps<ModelOp>();
    if (models.empty())
      return trainingError("the file has no model");
    c.info.model = *models.begin();
    for (InputOp in : c.info.model.getBody().getOps<InputOp>())
      if (in.getType().getRank() > 0) {
        c.info.batch = in.getType().getDimSize(0); // the `dim B` convention
        break;
      }
  }
  auto jit = JITModel::compile(*module);
  if (!jit)
    return jit.takeError();
  c.jit = std::move(*jit);
  if (threads > 0)
    c.jit->setThreads(threads);
  return c;
}

struct EpochStats {
  double loss, testAccuracy, lr;
};

/// A line chart of loss and test accuracy per epoch.
llvm::Error writePlot(llvm::StringRef path, const std::vector<EpochStats> &h) {
  std::string svg;
  llvm::raw_string_ostream os(svg);
  const double W = 640, H = 360, L = 60, R = 60, T = 30, Bm = 40;
  double maxLoss = 1e-9;
  for (const EpochStats &e : h)
    maxLoss = std::max(maxLoss, e.loss);
  auto xAt = [&](size_t i) {
    return L + (h.size() > 1 ? (W - L - R) * i / (h.size() - 1) : 0.0);
  };
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='"
     << H << "' font-family='sans-serif' font-size='12'>\n"
     << "<rect width='100%' height='100%' fill='white'/>\n"
     << "<text x='" << W / 2 << "' y='18' text-anchor='middle'>Training loss "
     << "(blue, left) and test accuracy % (orange, right) per epoch</text>\n"
     << "<line x1='" << L << "' y1='" << H - Bm << "' x2='" << W - R
     << "' y2='" << H - Bm << "' stroke='black'/>\n"
     << "<line x1='" << L << "' y1='" << T << "' x2='" << L << "' y2='"
     << H - Bm << "' stroke='black'/>\n"
     << "<line x1='" << W - R << "' y1='" << T << "' x2='" << W - R
     << "' y2='" << H - Bm << "' stroke='black'/>\n";
  for (int k = 0; k <= 4; ++k) {
    double y = H - Bm - (H - T - Bm) * k / 4;
    os << "<text x='" << L - 6 << "' y='" << y + 4 << "' text-anchor='end'>"
       << llvm::format("%.3f", maxLoss * k / 4) << "</text>\n"
       << "<text x='" << W - R + 6 << "' y='" << y + 4 << "'>" << 25 * k
       << "</text>\n";
  }
  for (size_t i = 0; i < h.size(); ++i)
    os << "<text x='" << xAt(i) << "' y='" << H - Bm + 16
       << "' text-anchor='middle'>" << i + 1 << "</text>\n";
  auto line = [&](const char *color, auto value) {
    os << "<polyline fill='none' stroke='" << color << "' stroke-width='2' "
       << "points='";
    for (size_t i = 0; i < h.size(); ++i)
      os << xAt(i) << "," << H - Bm - (H - T - Bm) * value(h[i]) << " ";
    os << "'/>\n";
  };
  line("#1f77b4", [&](const EpochStats &e) { return e.loss / maxLoss; });
  if (!std::isnan(h.front().testAccuracy))
    line("#ff7f0e", [&](const EpochStats &e) { return e.testAccuracy / 100; });
  os << "</svg>\n";
  return graft::writeFileAtomically(path, svg);
}
} // namespace

/// An output of graft train may be a new path or a regular file that is
/// none of the inputs: it is replaced (atomically), so a device, a FIFO, a
/// directory, a symbolic link (whose link would be replaced by a file) or
/// the data being read is refused before any work is done.
static llvm::Error checkOutput(llvm::StringRef what, llvm::StringRef path,
                               llvm::ArrayRef<llvm::StringRef> inputs) {
  namespace fs = llvm::sys::fs;
  fs::file_status link;
  if (fs::status(path, link, /*follow=*/false))
    return llvm::Error::success(); // a new file
  auto refuse = [&](const llvm::Twine &why) {
    return trainingError("refusing to write " + what + " to " + path + ": " +
                         why);
  };
  if (fs::is_symlink_file(link))
    return refuse("it is a symbolic link (give the path it points to)");
  if (!fs::is_regular_file(link))
    return refuse(fs::is_directory(link)
                      ? "it is a directory"
                      : "it is not a regular file (a device, FIFO or socket)");
  for (llvm::StringRef in : inputs) {
    bool same = false;
    if (!in.empty() && !fs::equivalent(path, in, same) && same)
      return refuse("it is an input of this run (" + in + ")");
  }
  return llvm::Error::success();
}

int graft::cli::runTrain() {
  auto &out = llvm::outs();
  auto report = [](llvm::Error e) {
    llvm::errs() << llvm::toString(std::move(e)) << "\n";
    return InputError;
  };
  {
    llvm::StringRef inputs[] = {modelFile, dataFile, testFile};
    std::pair<llvm::StringRef, std::string> outputs[] = {
        {"the checkpoint (-o)", checkpointOut},
        {"the log (--log)", logFile},
        {"the plot (--plot)", plotFile}};
    for (auto &[what, path] : outputs)
      if (!path.empty())
        if (llvm::Error e = checkOutput(what, path, inputs))
          return report(std::move(e));
  }
  std::optional<char> sep = csvSeparator();
  if (!sep)
    return UsageError;
  auto compiled = compileModel();
  if (!compiled)
    return report(compiled.takeError());
  JITModel &jit = *compiled->jit;
  Classifier &info = compiled->info;
  std::string name = info.model.getSymName().str();
  if (llvm::Error e = ClassifierTrainer::checkTrainable(info))
    return report(std::move(e));

  auto trainData = readCSV(dataFile, info.featureCount, info.classes,
                           Labels::Required, *sep);
  if (!trainData)
    return report(trainData.takeError());
  std::optional<Dataset> testData;
  if (!testFile.empty()) {
    auto t = readCSV(testFile, info.featureCount, info.classes,
                     Labels::Required, *sep);
    if (!t)
      return report(t.takeError());
    testData = std::move(*t);
  }
  if (lrOverride.getNumOccurrences() &&
      !(lrOverride >= 0 && std::isfinite(lrOverride))) {
    llvm::errs() << "graft: error: Invalid learning rate: " << lrOverride
                 << " (--lr must be finite and >= 0)\n";
    return UsageError;
  }
  std::optional<double> lr;
  if (lrOverride.getNumOccurrences())
    lr = lrOverride;
  auto created =
      ClassifierTrainer::create(jit, info, *trainData, dataFile, seed, lr);
  if (!created)
    return report(created.takeError());
  ClassifierTrainer &trainer = **created;
  if (!resumeFrom.empty())
    if (llvm::Error e = trainer.resume(resumeFrom))
      return report(std::move(e));
  if (const Plateau *p = trainer.plateau(); p && p->maxMode && !testData)
    return report(trainingError(
        "ReduceLROnPlateau(mode='max') follows the test accuracy of each "
        "epoch: pass --test DATA (mode 'min' follows the training loss)"));

  int64_t total = 0, trainable = 0, frozen = 0;
  for (ParamOp p : info.model.getBody().getOps<ParamOp>()) {
    int64_t n = p.getType().getNumElements();
    total += n;
    (p.getFrozen() ? frozen : trainable) += n;
  }
  out << "model " << name << " (" << modelFile << ")\n"
      << "  parameters: " << total << " total, " << trainable << " trainable, "
      << frozen << " frozen\n"
      << "  optimizer: "
      << stringifyOptimizerKind(trainer.trainOp().getOptimizer()) << ", lr "
      << trainer.baseLR() << "; batch " << info.batch << "\n"
      << "  planned memory of the train step's state, inputs and results: "
      << llvm::format("%.1f KiB", trainer.plannedBytes() / 1024.0) << "\n"
      << "  data: " << trainData->rows() << " training samples"
      << (testData
              ? (", " + llvm::Twine(testData->rows()) + " test samples").str()
              : std::string())
      << ", " << info.featureCount << " features, " << info.classes
      << " classes\n";

  bool tty = llvm::sys::Process::StandardOutIsDisplayed();
  std::vector<EpochStats> history;
  int64_t B = info.batch, steps = trainer.stepsPerEpoch();
  auto checkpointFailed = [&](llvm::Error e) {
    if (tty)
      out << "\n";
    out.flush();
    llvm::errs() << llvm::toString(std::move(e)) << "\n"
                 << "graft: error: training stopped after step "
                 << trainer.step() << ": the checkpoint could not be written\n";
    return InputError;
  };
  unsigned firstEpoch = trainer.firstEpoch();
  if (firstEpoch >= epochs)
    out << "the checkpoint has already trained " << firstEpoch
        << " epochs; nothing to do for --epochs " << epochs << "\n";
  for (unsigned epoch = firstEpoch; epoch < epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    // A failed checkpoint stops the run (its message names the step).
    bool saveFailed = false;
    auto afterStep = [&](int64_t s, int64_t first,
                         double lossSum) -> llvm::Error {
      // One due at the epoch's last step is written after the epoch's
      // bookkeeping (a plateau's step), below.
      if (checkpointEvery && trainer.step() % checkpointEvery == 0 &&
          s + 1 < steps)
        if (llvm::Error e = trainer.save(checkpointOut)) {
          saveFailed = true;
          return e;
        }
      if (tty) {
        double secs = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start).count();
        int done = (int)(30 * (s + 1) / steps);
        out << "\repoch " << epoch + 1 << "/" << epochs << " ["
            << std::string(done, '#') << std::string(30 - done, '.') << "] "
            << s + 1 << "/" << steps << "  loss "
            << llvm::format("%.4f", lossSum / (s + 1 - first)) << "  "
            << llvm::format("%.0f", (s + 1 - first) * B / std::max(secs, 1e-9))
            << " samples/s";
        out.flush();
      }
      return llvm::Error::success();
    };
    auto result = trainer.runEpoch(epoch, afterStep);
    if (!result)
      return saveFailed ? checkpointFailed(result.takeError())
                        : report(result.takeError());
    if (auto d = result->diverged) {
      // Divergence: nothing after this step is worth keeping, and the
      // checkpoint at -o (if any) stays the last good one.
      if (tty)
        out << "\n";
      out.flush();
      llvm::errs() << "graft: error: the loss of step " << d->step << " (epoch "
                   << epoch + 1 << ", batch " << d->batch << ") is "
                   << (std::isnan(d->loss) ? "nan" : "inf")
                   << "; training stopped and no checkpoint was written ("
                   << checkpointOut << " is left as it was)\n"
                   << "note: lower the learning rate, check the data for "
                      "huge or non-finite values, or clip gradients "
                      "(clip_grad_norm in the train block)\n";
      return InputError;
    }
    double secs = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - start).count();
    EpochStats stats{result->meanLoss, NAN, trainer.learningRate()};
    if (testData) {
      auto pred = predictAll(jit, info, trainer.arguments(), *testData);
      if (!pred)
        return report(pred.takeError());
      stats.testAccuracy = accuracy(*pred, *testData);
    }
    // ReduceLROnPlateau's scheduler.step(metric), after the validation.
    if (const Plateau *p = trainer.plateau())
      trainer.endEpoch(p->maxMode ? stats.testAccuracy : stats.loss);
    if (checkpointEvery && trainer.step() % checkpointEvery == 0)
      if (llvm::Error e = trainer.save(checkpointOut))
        return checkpointFailed(std::move(e));
    history.push_back(stats);
    out << (tty ? "\r" : "") << "epoch " << epoch + 1 << "/" << epochs
        << ": loss " << llvm::format("%.4f", stats.loss);
    if (testData)
      out << ", test accuracy " << llvm::format("%.2f%%", stats.testAccuracy);
    out << ", lr " << llvm::format("%g", stats.lr) << ", "
        << llvm::format("%.0f", result->steps * B / std::max(secs, 1e-9))
        << " samples/s" << (tty ? "          " : "") << "\n";
  }

  if (trainer.savedStep() != trainer.step())
    if (llvm::Error e = trainer.save(checkpointOut))
      return report(std::move(e));
  out << "checkpoint: " << checkpointOut << "\n";
  if (!logFile.empty()) {
    std::string csv = "epoch,loss,test_accuracy,lr\n";
    llvm::raw_string_ostream os(csv);
    for (size_t i = 0; i < history.size(); ++i)
      os << llvm::formatv("{0},{1:f6},{2:f4},", i + 1, history[i].loss,
                          history[i].testAccuracy)
         << llvm::format("%.9g\n", history[i].lr);
    if (llvm::Error e = graft::writeFileAtomically(logFile, csv))
      return report(std::move(e));
    out << "log: " << logFile << "\n";
  }
  if (!plotFile.empty() && !history.empty()) {
    if (llvm::Error e = writePlot(plotFile, history))
      return report(std::move(e));
    out << "plot: " << plotFile << "\n";
  }
  if (testData && !history.empty())
    out << "final test accuracy: "
        << llvm::format("%.2f%%", history.back().testAccuracy) << "\n";
  return Ok;
}

int graft::cli::runPredict() {
  auto report = [](llvm::Error e) {
    llvm::errs() << llvm::toString(std::move(e)) << "\n";
    return InputError;
  };
  std::optional<char> sep = csvSeparator();
  if (!sep)
    return UsageError;
  auto compiled = compileModel();
  if (!compiled)
    return report(compiled.takeError());
  Classifier &info = compiled->info;
  auto data = readCSV(dataFile, info.featureCount, info.classes,
                      Labels::Optional, *sep);
  if (!data)
    return report(data.takeError());
  auto tensors = readSafetensors(checkpointIn);
  if (!tensors)
    return report(tensors.takeError());

  // The state predict needs, from the checkpoint, checked name by name.
  const EntryPoint *ep = compiled->jit->entryPoint(
      (info.model.getSymName() + "_predict").str());
  std::vector<Storage> state = slotsOf(ep->args);
  if (llvm::Error e = loadState(state, {Role::param, Role::buffer}, *tensors,
                                checkpointIn, info.model))
    return report(std::move(e));
  auto pred = predictAll(*compiled->jit, info, state, *data);
  if (!pred)
    return report(pred.takeError());
  if (data->hasLabels()) {
    llvm::outs() << "accuracy: " << llvm::format("%.2f%%", accuracy(*pred, *data))
                 << " (" << data->rows() << " samples)\n";
    return Ok;
  }
  for (int64_t p : *pred)
    llvm::outs() << p << "\n";
  return Ok;
}

int graft::cli::runBench() {
  auto report = [](llvm::Error e) {
    llvm::errs() << llvm::toString(std::move(e)) << "\n";
    return InputError;
  };
  auto compileStart = std::chrono::steady_clock::now();
  auto compiled = compileModel(/*forData=*/false);
  if (!compiled)
    return report(compiled.takeError());
  double compileSecs = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - compileStart)
                           .count();
  Classifier &info = compiled->info;
  std::string fn = (info.model.getSymName() + "_" + benchEntry).str();
  const EntryPoint *ep = compiled->jit->entryPoint(fn);
  if (!ep)
    return report(trainingError("model '" + info.model.getSymName() +
                                "' has no entry point '" + fn +
                                "' to time (a train { } block makes "
                                "train_step, forward_backward and step)"));
  std::vector<Storage> args = slotsOf(ep->args), results = slotsOf(ep->results);
  std::mt19937_64 rng(0);
  std::normal_distribution<float> normal;
  for (Storage &a : args) {
    if (a.slot.role == Role::param || a.slot.role == Role::buffer) {
      if (llvm::Error e = initialise(a, info.model, 0))
        return report(std::move(e));
    } else if (a.slot.role == Role::input && a.slot.type == ElementType::F32) {
      for (int64_t i = 0; i < a.slot.numel(); ++i)
        a.f32()[i] = normal(rng);
    } else if (a.slot.role == Role::input && a.slot.type == ElementType::I64) {
      // In the range the model reads it in (0 and 1 where nothing bounds it).
      uint64_t bound = 2;
      for (InputOp in : info.model.getBody().getOps<InputOp>())
        if (in.getName() == a.slot.name)
          if (std::optional<IndexRange> r = indexRangeOf(in.getResult()))
            bound = (uint64_t)r->bound;
      for (int64_t i = 0; i < a.slot.numel(); ++i)
        a.i64()[i] = (int64_t)(rng() % bound);
    } else if (a.slot.role == Role::hyper &&
               a.slot.name == "accumulation_steps") {
      for (TrainOp train : info.model.getBody().getOps<TrainOp>())
        a.f64()[0] = (double)train.getAccumulationSteps();
    } else if (a.slot.role == Role::hyper) {
      a.f64()[0] = 0.01;
    }
  }
  std::vector<void *> ap = pointers(args), rp = resultPointers(args, results);
  auto run = [&](unsigned n) -> llvm::Error {
    for (unsigned i = 0; i < n; ++i)
      if (llvm::Error e = compiled->jit->call(fn, ap, rp))
        return e;
    return llvm::Error::success();
  };
  if (llvm::Error e = run(5))
    return report(std::move(e));
  auto start = std::chrono::steady_clock::now();
  if (llvm::Error e = run(benchSteps))
    return report(std::move(e));
  double secs = std::chrono::duration<double>(
                    std::chrono::steady_clock::now() - start).count();
  llvm::outs() << "model " << info.model.getSymName() << ": compile "
               << llvm::format("%.2f", compileSecs) << " s, " << benchEntry << " "
               << llvm::format("%.3f", 1000 * secs / benchSteps)
               << " ms (mean of " << benchSteps << " steps, batch "
               << info.batch << ")";
  // The last step's loss: a check that the random inputs were valid.
  for (Storage &r : results)
    if (r.slot.role == Role::loss && r.slot.type == ElementType::F32)
      llvm::outs() << ", loss " << llvm::format("%.4f", r.f32()[0]);
  llvm::outs() << "\n";
  return Ok;
}
