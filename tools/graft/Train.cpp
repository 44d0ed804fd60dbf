//===- Train.cpp - graft train and graft predict --------------------------===//
//
// Compiles a model's training program in process (JIT), then trains it on a
// CSV data set, or predicts with a checkpoint. The model has one float input
// (the features, [B, ...]) and one integer input (the labels, [B]); its
// first float output shaped [B, C] is the class scores.
//
//===----------------------------------------------------------------------===//

#include "Train.h"
#include "Distributed.h"
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
#include "graft/Training/Generate.h"
#include "graft/Training/Trainer.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <atomic>
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
    "train", "Compile a model and train it on data for each of its inputs "
             "(CSV, NumPy, safetensors, text)");
cl::SubCommand graft::cli::benchCmd(
    "bench", "Time an entry point of the model (default: the train step) on random data");
cl::SubCommand graft::cli::predictCmd(
    "predict", "Predict with a trained checkpoint (accuracy when labelled)");
cl::SubCommand graft::cli::generateCmd(
    "generate",
    "Sample text from a language model trained on a text by graft train");

namespace {
cl::opt<std::string>
    modelFile(cl::Positional, cl::Required, cl::desc("<model.graft>"),
              cl::sub(graft::cli::trainCmd), cl::sub(graft::cli::predictCmd),
              cl::sub(graft::cli::benchCmd), cl::sub(graft::cli::generateCmd));
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
             "across (default: GRAFT_NUM_THREADS, else OMP_NUM_THREADS, else "
             "one per core)"),
    cl::sub(graft::cli::trainCmd), cl::sub(graft::cli::predictCmd),
    cl::sub(graft::cli::benchCmd), cl::sub(graft::cli::generateCmd));
cl::opt<std::string> dataFile(
    "data",
    cl::desc("Training data (train), or the data to predict (predict, a "
             "CSV): a CSV file whose columns feed the inputs in order (a "
             "classifier: the features, then the label), .npz or "
             ".safetensors (an array per input, by name), or a .txt text "
             "for a language model (docs/CLI.md)"),
    cl::value_desc("SOURCE"), cl::sub(graft::cli::trainCmd),
    cl::sub(graft::cli::predictCmd));
cl::list<std::string> inputData(
    "input",
    cl::desc("Data of one input: NAME=FILE.npy, NAME=FILE.npz[:ARRAY], "
             "NAME=FILE.safetensors[:TENSOR] or NAME=FILE.csv (its columns); "
             "the inputs it does not name come from --data"),
    cl::value_desc("NAME=SOURCE"), cl::sub(graft::cli::trainCmd));
cl::list<std::string> testInputData(
    "test-input",
    cl::desc("Test data of one input, as --input (the rest from --test)"),
    cl::value_desc("NAME=SOURCE"), cl::sub(graft::cli::trainCmd));
cl::opt<std::string> separatorName(
    "sep", cl::init(""),
    cl::desc("Field separator of the CSV files: ',', ';', '|' or 'tab' "
             "(default: detected from the first lines)"),
    cl::sub(graft::cli::trainCmd), cl::sub(graft::cli::predictCmd));
cl::opt<std::string> testFile(
    "test",
    cl::desc("Held-out data, as --data, evaluated after each epoch (and "
             "every --eval-every steps): loss, and accuracy of a classifier"),
    cl::value_desc("SOURCE"), cl::sub(graft::cli::trainCmd));
cl::opt<unsigned> epochs("epochs", cl::init(10), cl::desc("Epochs to train"),
                         cl::sub(graft::cli::trainCmd));
cl::opt<uint64_t> trainSteps(
    "steps", cl::init(0),
    cl::desc("Optimizer steps to train, in all (across epochs; replaces "
             "--epochs); with --resume, the total"),
    cl::sub(graft::cli::trainCmd));
cl::opt<uint64_t> evalEvery(
    "eval-every", cl::init(0),
    cl::desc("Report (and evaluate --test) every N steps, besides each "
             "epoch's end"),
    cl::value_desc("N"), cl::sub(graft::cli::trainCmd));
cl::opt<bool> noShuffle(
    "no-shuffle",
    cl::desc("Batches in the data's order (default: a seeded permutation "
             "each epoch)"),
    cl::sub(graft::cli::trainCmd));
cl::opt<std::string> initFrom(
    "init",
    cl::desc("Start from the weights of a safetensors file (PyTorch "
             "state_dict names), strictly: every parameter and buffer, "
             "nothing else"),
    cl::value_desc("FILE"), cl::sub(graft::cli::trainCmd));
cl::opt<bool> initNonStrict(
    "init-non-strict",
    cl::desc("With --init: load what matches, keep the initial values of "
             "the rest, and list the missing and unexpected names"),
    cl::sub(graft::cli::trainCmd));
cl::opt<int64_t> batch("batch", cl::init(0),
                       cl::desc("Batch size: sets the model's `dim B`"),
                       cl::sub(graft::cli::trainCmd),
                       cl::sub(graft::cli::predictCmd),
                       cl::sub(graft::cli::benchCmd),
                       cl::sub(graft::cli::generateCmd));
cl::list<std::string>
    dims("dim", cl::desc("Override a named dimension: --dim T=128"),
         cl::value_desc("NAME=VALUE"), cl::sub(graft::cli::trainCmd),
         cl::sub(graft::cli::predictCmd), cl::sub(graft::cli::benchCmd),
         cl::sub(graft::cli::generateCmd));
cl::opt<uint64_t> seed("seed", cl::init(0),
                       cl::desc("Seed of initialisation, shuffling, dropout "
                                "(default: the train block's seed, else 0)"),
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
cl::opt<unsigned> keepCheckpoints(
    "keep-checkpoints", cl::init(0),
    cl::desc("With --checkpoint-every: also keep each of the last K "
             "periodic checkpoints as <-o without .safetensors>-step<N>"
             ".safetensors (older ones are removed)"),
    cl::value_desc("K"), cl::sub(graft::cli::trainCmd));
cl::opt<std::string> logFile(
    "log", cl::init(""),
    cl::desc("CSV log: a row per report (each epoch, every --eval-every "
             "steps): step, learning rate, loss, test loss and accuracy, "
             "throughput"),
    cl::sub(graft::cli::trainCmd));
cl::opt<std::string> plotFile(
    "plot", cl::init(""),
    cl::desc("SVG plot of the loss, test loss or accuracy, and learning "
             "rate per step"),
    cl::sub(graft::cli::trainCmd));
cl::opt<std::string> resumeFrom(
    "resume", cl::init(""),
    cl::desc("Continue from a checkpoint of `graft train` (parameters, "
             "buffers, optimizer state, step); --epochs or --steps is the "
             "total"),
    cl::sub(graft::cli::trainCmd));
cl::opt<std::string> checkpointIn("checkpoint", cl::Required,
                                  cl::desc("Checkpoint to load"),
                                  cl::sub(graft::cli::predictCmd),
                                  cl::sub(graft::cli::generateCmd));
cl::opt<std::string>
    prompt("prompt",
           cl::desc("Text to continue (default: a newline, or the vocabulary's "
                    "first character)"),
           cl::sub(graft::cli::generateCmd));
cl::opt<int64_t> maxNewTokens("max-new-tokens", cl::init(500),
                              cl::desc("Characters to sample"),
                              cl::sub(graft::cli::generateCmd));
cl::opt<double> temperature(
    "temperature", cl::init(1.0),
    cl::desc("Divides the logits: below 1 more likely characters, above 1 "
             "more random ones"),
    cl::sub(graft::cli::generateCmd));
cl::opt<int64_t> topK("top-k", cl::init(0),
                      cl::desc("Sample among the k likeliest characters "
                               "(0: all)"),
                      cl::sub(graft::cli::generateCmd));
cl::opt<uint64_t> sampleSeed("seed", cl::init(0),
                             cl::desc("Seed of the sampling"),
                             cl::sub(graft::cli::generateCmd));
cl::opt<std::string>
    logitsOutput("output", cl::init(""),
                 cl::desc("The model's output of logits, when it has several"),
                 cl::sub(graft::cli::generateCmd));

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
  ModelOp model;
};

/// Compiles the model's entry points named in `entries` (`train_step`,
/// `eval`, ...; every one when empty), which `check` may add to; `check`
/// sees the model first, before the JIT's work.
llvm::Expected<Compiled>
compileModel(std::vector<std::string> &entries,
             llvm::function_ref<llvm::Error(ModelOp)> check = {}) {
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
  auto models = c.meta->getOps<ModelOp>();
  if (models.empty())
    return trainingError("the file has no model");
  c.model = *models.begin();
  if (check)
    if (llvm::Error e = check(c.model))
      return std::move(e);
  llvm::StringSet<> keep;
  for (ModelOp m : module->getOps<ModelOp>())
    for (const std::string &e : entries)
      keep.insert((m.getSymName() + "_" + e).str());
  auto jit = JITModel::compile(*module, [&](llvm::StringRef name) {
    return entries.empty() || keep.contains(name);
  });
  if (!jit)
    return jit.takeError();
  c.jit = std::move(*jit);
  if (threads > 0)
    c.jit->setThreads(threads);
  return c;
}

/// A report of the run: at an epoch's end or every --eval-every steps.
struct Report {
  uint64_t step = 0;
  unsigned epoch = 0; // the epoch it falls in, from 1
  double loss = 0;    // mean training loss since the last report
  double lr = 0;
  double samplesPerSec = 0;
  Evaluation test;
};

/// An SVG chart of the reports against the step: the training loss (blue)
/// and test loss (green) on the left axis, a classifier's test accuracy
/// (orange, %) on the right; below it the learning rate.
llvm::Error writePlot(llvm::StringRef path, const std::vector<Report> &h) {
  std::string svg;
  llvm::raw_string_ostream os(svg);
  const double W = 640, H = 440, L = 70, R = 60, T = 30, B1 = 300, T2 = 330,
               B2 = 410;
  double maxLoss = 1e-9, maxLR = 1e-12;
  uint64_t lastStep = std::max<uint64_t>(h.back().step, 1);
  for (const Report &r : h) {
    maxLoss = std::max(maxLoss, r.loss);
    if (!std::isnan(r.test.loss))
      maxLoss = std::max(maxLoss, r.test.loss);
    maxLR = std::max(maxLR, r.lr);
  }
  auto xAt = [&](uint64_t step) { return L + (W - L - R) * step / lastStep; };
  auto px = [](double v) { return llvm::format("%.1f", v); };
  auto frame = [&](double top, double bottom) {
    os << "<rect x='" << px(L) << "' y='" << px(top) << "' width='" << px(W - L - R)
       << "' height='" << px(bottom - top) << "' fill='none' stroke='black'/>\n";
  };
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='" << px(W) << "' height='"
     << px(H) << "' font-family='sans-serif' font-size='12'>\n"
     << "<rect width='100%' height='100%' fill='white'/>\n"
     << "<text x='" << px(W / 2) << "' y='18' text-anchor='middle'>Training loss "
     << "(blue), test loss (green), test accuracy % (orange, right)</text>\n";
  frame(T, B1);
  frame(T2, B2);
  for (int k = 0; k <= 4; ++k) {
    double y = B1 - (B1 - T) * k / 4;
    os << "<text x='" << px(L - 6) << "' y='" << px(y + 4) << "' text-anchor='end'>"
       << llvm::format("%.3f", maxLoss * k / 4) << "</text>\n"
       << "<text x='" << px(W - R + 6) << "' y='" << px(y + 4) << "'>" << 25 * k
       << "</text>\n";
  }
  os << "<text x='" << px(L - 6) << "' y='" << px(T2 + 4) << "' text-anchor='end'>"
     << llvm::format("%.3g", maxLR) << "</text>\n"
     << "<text x='" << px(L - 6) << "' y='" << px(B2 + 4)
     << "' text-anchor='end'>0</text>\n"
     << "<text x='" << px(W / 2) << "' y='" << px(T2 - 6)
     << "' text-anchor='middle'>learning rate</text>\n";
  for (int k = 0; k <= 4; ++k)
    os << "<text x='" << px(xAt(lastStep * k / 4)) << "' y='" << px(B2 + 16)
       << "' text-anchor='middle'>" << lastStep * k / 4 << "</text>\n";
  os << "<text x='" << px(W / 2) << "' y='" << px(H - 6)
     << "' text-anchor='middle'>step</text>\n";
  auto line = [&](const char *color, auto value) {
    os << "<polyline fill='none' stroke='" << color << "' stroke-width='2' "
       << "points='";
    for (const Report &r : h)
      if (std::optional<double> v = value(r))
        os << llvm::format("%.1f,%.1f ", xAt(r.step), *v);
    os << "'/>\n";
  };
  auto inLoss = [&](double v) -> std::optional<double> {
    if (std::isnan(v))
      return std::nullopt;
    return B1 - (B1 - T) * v / maxLoss;
  };
  line("#1f77b4", [&](const Report &r) { return inLoss(r.loss); });
  if (!std::isnan(h.back().test.loss))
    line("#2ca02c", [&](const Report &r) { return inLoss(r.test.loss); });
  if (!std::isnan(h.back().test.accuracy))
    line("#ff7f0e", [&](const Report &r) -> std::optional<double> {
      return B1 - (B1 - T) * r.test.accuracy / 100;
    });
  line("#7f7f7f", [&](const Report &r) -> std::optional<double> {
    return B2 - (B2 - T2) * r.lr / maxLR;
  });
  os << "</svg>\n";
  return graft::writeFileAtomically(path, svg);
}

/// Set by the interrupt signals (SIGINT, SIGTERM, SIGHUP): the run saves
/// its checkpoint after the current step and stops.
std::atomic<bool> interrupted{false};
void onInterrupt() { interrupted = true; }
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

/// The numbered checkpoint of step `step` (--keep-checkpoints): -o's path
/// without ".safetensors", then "-step<N>.safetensors".
static std::string numberedCheckpoint(uint64_t step) {
  llvm::StringRef stem(checkpointOut);
  stem.consume_back(".safetensors");
  return (stem + "-step" + llvm::Twine(step) + ".safetensors").str();
}

/// Removes all but the newest `keep` numbered checkpoints of -o (by step
/// number; those of an earlier run that this one resumed count too).
static void removeOldCheckpoints(unsigned keep) {
  namespace fs = llvm::sys::fs;
  llvm::StringRef stem(checkpointOut);
  stem.consume_back(".safetensors");
  llvm::StringRef dir = llvm::sys::path::parent_path(stem);
  std::string prefix = (llvm::sys::path::filename(stem) + "-step").str();
  std::vector<std::pair<uint64_t, std::string>> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir.empty() ? "." : dir, ec), end;
       it != end && !ec; it.increment(ec)) {
    llvm::StringRef name = llvm::sys::path::filename(it->path());
    uint64_t step;
    if (name.consume_front(prefix) && name.consume_back(".safetensors") &&
        !name.getAsInteger(10, step) &&
        it->type() == fs::file_type::regular_file)
      found.push_back({step, it->path()});
  }
  llvm::sort(found);
  for (size_t i = 0; i + keep < found.size(); ++i)
    fs::remove(found[i].second);
}

/// Where samples come from: a source for every input and NAME=SOURCE ones.
struct DataSources {
  std::string all;
  std::vector<std::string> inputs;
  bool empty() const { return all.empty() && inputs.empty(); }
};

/// The sources a train block's `data` or `test` declares (a string or a
/// dict of one per input), relative to the model file.
static DataSources declaredSources(mlir::Attribute declared) {
  llvm::StringRef dir = llvm::sys::path::parent_path(modelFile);
  auto resolve = [&](llvm::StringRef path) {
    if (llvm::sys::path::is_absolute(path) || dir.empty())
      return path.str();
    llvm::SmallString<256> full(dir);
    llvm::sys::path::append(full, path);
    return std::string(full);
  };
  DataSources s;
  if (auto str = llvm::dyn_cast_if_present<mlir::StringAttr>(declared))
    s.all = resolve(str.getValue());
  else if (auto dict =
               llvm::dyn_cast_if_present<mlir::DictionaryAttr>(declared))
    for (mlir::NamedAttribute entry : dict)
      s.inputs.push_back(
          (entry.getName().strref() + "=" +
           resolve(llvm::cast<mlir::StringAttr>(entry.getValue()).getValue()))
              .str());
  return s;
}

/// "x from train.csv, y from train.csv"
static std::string describeSources(const Samples &s) {
  std::string out;
  for (const Samples::Input &in : s.inputs)
    out += (out.empty() ? "" : ", ") + in.name + " from " + in.source;
  return out;
}

/// graft train, alone or as one rank of an MPI job (then rank 0 alone
/// prints, writes checkpoints, the log and the plot).
static int trainRun(graft::cli::MPIJob *job) {
  llvm::raw_ostream &out =
      job && job->rank() != 0 ? llvm::nulls() : llvm::outs();
  bool writer = !job || job->rank() == 0;
  auto report = [](llvm::Error e) {
    llvm::errs() << llvm::toString(std::move(e)) << "\n";
    return InputError;
  };
  auto usage = [](const llvm::Twine &msg) {
    llvm::errs() << "graft: error: " << msg << "\n";
    return UsageError;
  };
  {
    llvm::StringRef inputs[] = {modelFile, dataFile, testFile, initFrom};
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
  if (lrOverride.getNumOccurrences() &&
      !(lrOverride >= 0 && std::isfinite(lrOverride))) {
    llvm::errs() << "graft: error: Invalid learning rate: " << lrOverride
                 << " (--lr must be finite and >= 0)\n";
    return UsageError;
  }
  if (!initFrom.empty() && !resumeFrom.empty())
    return usage("--init and --resume both give the starting state; give "
                 "one (--resume continues a run, --init starts one from "
                 "given weights)");
  if (initNonStrict && initFrom.empty())
    return usage("--init-non-strict needs --init FILE");
  if (keepCheckpoints && !checkpointEvery)
    return usage("--keep-checkpoints needs --checkpoint-every N");
  if (trainSteps.getNumOccurrences() && epochs.getNumOccurrences())
    return usage("--steps and --epochs both say how long to train; give one");

  // A resumed run reads its text with the checkpoint's vocabulary.
  DataOptions dataOptions;
  dataOptions.separator = *sep;
  if (!resumeFrom.empty()) {
    std::map<std::string, std::string> meta;
    auto tensors = readSafetensors(resumeFrom, &meta);
    if (!tensors)
      return report(tensors.takeError());
    if (meta.count("graft.vocab")) {
      auto v = Vocabulary::parse(meta["graft.vocab"]);
      if (!v)
        return report(v.takeError());
      dataOptions.vocab = std::move(*v);
    }
  }
  // The data is read and checked against the model before it is compiled.
  Samples trainData;
  std::string dataName = "the data";
  std::optional<Samples> testData;
  std::optional<Classifier> classifier;
  uint64_t runSeed = seed;
  // The train step, or its parts where a step accumulates micro-batches;
  // eval where there is test data.
  std::vector<std::string> entries = {"train_step"};
  auto compiled = compileModel(entries, [&](ModelOp model) -> llvm::Error {
    if (llvm::Error e = Trainer::checkTrainable(model))
      return e;
    // The command line's seed and data, else the train block's.
    TrainOp train = *model.getBody().getOps<TrainOp>().begin();
    if (train.getAccumulationSteps() > 1 || job)
      entries.insert(entries.end(), {"zero_grad", "forward_backward", "step"});
    if (!seed.getNumOccurrences() && train.getSeed())
      runSeed = *train.getSeed();
    DataSources data{dataFile, inputData}, test{testFile, testInputData};
    if (data.empty())
      data = declaredSources(train.getDataAttr());
    if (test.empty())
      test = declaredSources(train.getTestAttr());
    if (data.empty())
      return trainingError("graft train needs data: --data SOURCE, or "
                           "--input NAME=SOURCE for each input, or data = "
                           "... in the train block (graft train --help)");
    auto d = loadSamples(model, data.all, data.inputs, dataOptions);
    if (!d)
      return d.takeError();
    if (!data.all.empty())
      dataName = data.all;
    trainData = std::move(*d);
    if (!test.empty()) {
      DataOptions testOptions = dataOptions;
      testOptions.vocab = trainData.vocab;
      testOptions.disjointWindows = true;
      testOptions.dataFlag = "--test";
      testOptions.inputFlag = "--test-input";
      auto t = loadSamples(model, test.all, test.inputs, testOptions);
      if (!t)
        return t.takeError();
      testData = std::move(*t);
      entries.push_back("eval");
    }
    auto c = inspectClassifier(model);
    if (c && c->labels)
      classifier = *c;
    else if (!c)
      llvm::consumeError(c.takeError());
    return llvm::Error::success();
  });
  if (!compiled)
    return report(compiled.takeError());
  JITModel &jit = *compiled->jit;
  ModelOp model = compiled->model;
  std::string name = model.getSymName().str();

  Trainer::Options options;
  options.seed = runSeed;
  options.shuffle = !noShuffle;
  if (lrOverride.getNumOccurrences())
    options.lr = lrOverride;
  if (job) {
    options.comm = &job->comm();
    options.wantsStop = [] { return interrupted.load(); };
  }

  auto created = Trainer::create(jit, model, trainData, dataName, options);
  if (!created)
    return report(created.takeError());
  Trainer &trainer = **created;
  std::string initReport;
  if (!initFrom.empty())
    if (llvm::Error e = trainer.initFrom(initFrom, !initNonStrict, &initReport))
      return report(std::move(e));
  if (!resumeFrom.empty())
    if (llvm::Error e = trainer.resume(resumeFrom))
      return report(std::move(e));
  if (llvm::Error e = trainer.shareState())
    return report(std::move(e));
  if (const Plateau *p = trainer.plateau(); p && p->maxMode && !classifier)
    return report(trainingError(
        "ReduceLROnPlateau(mode='max') follows the test accuracy of each "
        "epoch: it needs a classifier"));
  if (const Plateau *p = trainer.plateau(); p && p->maxMode && !testData)
    return report(trainingError(
        "ReduceLROnPlateau(mode='max') follows the test accuracy of each "
        "epoch: pass --test DATA (mode 'min' follows the training loss)"));
  // A text's vocabulary goes into every checkpoint, for graft generate.
  std::map<std::string, std::string> metadata;
  if (trainData.vocab)
    metadata["graft.vocab"] = trainData.vocab->str();

  int64_t total = 0, trainable = 0, frozen = 0;
  for (ParamOp p : model.getBody().getOps<ParamOp>()) {
    int64_t n = p.getType().getNumElements();
    total += n;
    (p.getFrozen() ? frozen : trainable) += n;
  }
  // Samples an optimizer step takes: its batches (accumulation_steps) of B
  // on each rank.
  int64_t B = trainer.batch() * trainer.microBatches() * trainer.ranks(),
          steps = trainer.stepsPerEpoch();
  // Tokens per sample, for a language model's throughput.
  int64_t tokens =
      trainData.vocab ? trainData.inputs.front().column.width() : 0;
  out << "model " << name << " (" << modelFile << ")\n"
      << "  parameters: " << total << " total, " << trainable << " trainable, "
      << frozen << " frozen\n"
      << "  optimizer: "
      << stringifyOptimizerKind(trainer.trainOp().getOptimizer()) << ", lr "
      << trainer.baseLR() << "; batch " << trainer.batch()
      << (trainer.microBatches() > 1
              ? ", " + std::to_string(trainer.microBatches()) +
                    " batches a step (accumulation_steps)"
              : std::string())
      << "\n";
  if (job)
    out << "  data parallel: " << job->size() << " ranks (MPI), a step " << B
        << " samples, " << B / job->size()
        << " each; gradients summed in rank order\n";
  out << "  planned memory of the train step's state, inputs and results: "
      << llvm::format("%.1f KiB", trainer.plannedBytes() / 1024.0) << "\n";
  std::string testCount =
      testData ? ", " + std::to_string(testData->rows) + " test samples" : "";
  if (classifier && trainData.inputs.size() == 2 && !trainData.vocab)
    out << "  data: " << trainData.rows << " training samples" << testCount
        << ", " << classifier->featureCount << " features, "
        << classifier->classes << " classes\n";
  else if (trainData.vocab)
    out << "  data: " << trainData.rows << " windows of " << tokens
        << " characters + 1" << testCount << "; vocabulary of "
        << trainData.vocab->chars.size() << " characters ("
        << trainData.inputs.front().source << ")\n";
  else
    out << "  data: " << trainData.rows << " training samples" << testCount
        << " (" << describeSources(trainData) << ")\n";
  if (trainData.rows % B)
    out << "  note: the last " << trainData.rows % B << " of " << trainData.rows
        << " samples make no whole " << (B > trainer.batch() ? "step" : "batch")
        << " of " << B << " and are left out of each epoch (drop_last=True)\n";
  if (!initReport.empty())
    out << "  " << initReport << "\n";

  // Under mpirun a rank's stdout is a pseudo-terminal whatever mpirun's own is:
  // no progress bar there.
  bool tty = !job && llvm::sys::Process::StandardOutIsDisplayed();
  std::vector<Report> history;
  // How long the run is: --steps, or --epochs whole epochs.
  uint64_t lastStep =
      trainSteps ? (uint64_t)trainSteps : (uint64_t)epochs * (uint64_t)steps;
  unsigned lastEpoch = trainSteps ? (unsigned)((trainSteps + steps - 1) / steps)
                                  : (unsigned)epochs;
  auto interruptedRun = [&]() -> int {
    out << "interrupted after step " << trainer.step()
        << ": checkpoint saved to " << checkpointOut
        << " (--resume it to go on)\n";
    out.flush();
    return 130; // the shell's status of a run ended by SIGINT
  };
  auto failedSave = [&](llvm::Error e) -> int {
    if (tty)
      out << "\n";
    // An interrupt during a save removes its temporary (the write then
    // fails): the run saves once more, then stops as interrupted.
    if (interrupted) {
      llvm::consumeError(std::move(e));
      e = trainer.save(checkpointOut, metadata);
      if (!e)
        return interruptedRun();
    }
    out.flush();
    llvm::errs() << llvm::toString(std::move(e)) << "\n"
                 << "graft: error: training stopped after step "
                 << trainer.step() << ": the checkpoint could not be written\n";
    return InputError;
  };
  // A periodic checkpoint: -o, and with --keep-checkpoints a numbered copy
  // of which the newest K stay.
  auto savePeriodic = [&]() -> llvm::Error {
    if (llvm::Error e = trainer.save(checkpointOut, metadata))
      return e;
    if (!keepCheckpoints)
      return llvm::Error::success();
    if (llvm::Error e =
            trainer.save(numberedCheckpoint(trainer.step()), metadata))
      return e;
    removeOldCheckpoints(keepCheckpoints);
    return llvm::Error::success();
  };
  unsigned firstEpoch = trainer.firstEpoch();
  if (trainer.step() >= lastStep)
    out << "the checkpoint has already trained " << trainer.step() << " steps ("
        << firstEpoch << " epochs); nothing to do for "
        << (trainSteps ? "--steps " + std::to_string(trainSteps)
                       : "--epochs " + std::to_string(epochs))
        << "\n";
  // Ctrl-C (and SIGTERM, SIGHUP) end the run after its step, saved.
  llvm::sys::SetInterruptFunction(onInterrupt);
  auto runStart = std::chrono::steady_clock::now();
  auto lastReport = runStart;
  double lossSinceReport = 0;
  int64_t stepsSinceReport = 0;
  uint64_t runSteps = 0;
  // A report after `step`: the mean loss since the last, and an
  // evaluation of the test data.
  auto makeReport = [&](unsigned epoch, double loss) -> llvm::Expected<Report> {
    auto now = std::chrono::steady_clock::now();
    double secs = std::chrono::duration<double>(now - lastReport).count();
    Report r;
    r.step = trainer.step();
    r.epoch = epoch + 1;
    r.loss = loss;
    r.lr = trainer.learningRate();
    r.samplesPerSec = stepsSinceReport * B / std::max(secs, 1e-9);
    if (testData) {
      auto ev =
          evaluate(jit, model, trainer.arguments(), *testData, classifier);
      if (!ev)
        return ev.takeError();
      r.test = *ev;
    }
    lossSinceReport = 0;
    stepsSinceReport = 0;
    lastReport = std::chrono::steady_clock::now();
    history.push_back(r);
    return r;
  };
  auto printReport = [&](const Report &r, bool epochEnd) {
    out << (tty ? "\r" : "");
    if (epochEnd)
      out << "epoch " << r.epoch << "/" << lastEpoch;
    else
      out << "step " << r.step << " (epoch " << r.epoch << ")";
    out << ": loss " << llvm::format("%.4f", r.loss);
    if (!std::isnan(r.test.loss))
      out << ", test loss " << llvm::format("%.4f", r.test.loss);
    if (trainData.vocab && !std::isnan(r.test.loss))
      out << ", test perplexity "
          << llvm::format("%.2f", std::exp(r.test.loss));
    if (!std::isnan(r.test.accuracy))
      out << ", test accuracy " << llvm::format("%.2f%%", r.test.accuracy);
    out << ", lr " << llvm::format("%g", r.lr) << ", "
        << llvm::format("%.0f", r.samplesPerSec) << " samples/s";
    if (tokens)
      out << ", " << llvm::format("%.0f", r.samplesPerSec * tokens)
          << " tokens/s";
    out << (tty ? "          " : "") << "\n";
  };
  for (unsigned epoch = firstEpoch;
       epoch < lastEpoch && trainer.step() < lastStep; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    // A failed checkpoint stops the run (its message names the step).
    bool saveFailed = false;
    auto afterStep = [&](int64_t s, int64_t first,
                         double lossSum) -> llvm::Expected<bool> {
      ++runSteps;
      lossSinceReport += trainer.lastLoss();
      ++stepsSinceReport;
      // Distributed, every rank stops after the same step.
      if (job ? trainer.stopAgreed() : interrupted.load())
        return false;
      // One due at the epoch's last step is written after the epoch's
      // bookkeeping (a plateau's step), below.
      if (checkpointEvery && trainer.step() % checkpointEvery == 0 &&
          s + 1 < steps)
        if (llvm::Error e = savePeriodic()) {
          saveFailed = true;
          return std::move(e);
        }
      if (evalEvery && trainer.step() % evalEvery == 0 && s + 1 < steps &&
          trainer.step() < lastStep) {
        auto r = makeReport(epoch, lossSinceReport / stepsSinceReport);
        if (!r)
          return r.takeError();
        printReport(*r, false);
      } else if (tty) {
        double secs = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start).count();
        int done = (int)(30 * (s + 1) / steps);
        out << "\repoch " << epoch + 1 << "/" << lastEpoch << " ["
            << std::string(done, '#') << std::string(30 - done, '.') << "] "
            << s + 1 << "/" << steps << "  loss "
            << llvm::format("%.4f", lossSum / (s + 1 - first)) << "  "
            << llvm::format("%.0f", (s + 1 - first) * B / std::max(secs, 1e-9))
            << " samples/s";
        out.flush();
      }
      return true;
    };
    auto result = trainer.runEpoch(epoch, lastStep, afterStep);
    if (!result)
      return saveFailed ? failedSave(result.takeError())
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
                   << checkpointOut << " is left as it was"
                   << (trainer.savedStep() != UINT64_MAX
                           ? ", from step " +
                                 std::to_string(trainer.savedStep())
                           : std::string())
                   << ")\n"
                   << "note: lower the learning rate, check the data for "
                      "huge or non-finite values, or clip gradients "
                      "(clip_grad_norm in the train block)\n";
      return InputError;
    }
    if (result->stopped) {
      if (tty)
        out << "\n";
      if (llvm::Error e = trainer.save(checkpointOut, metadata))
        return failedSave(std::move(e));
      return interruptedRun();
    }
    bool epochEnd = trainer.step() % steps == 0;
    if (!epochEnd) { // --steps ended the run inside the epoch
      if (stepsSinceReport) {
        auto r = makeReport(epoch, lossSinceReport / stepsSinceReport);
        if (!r)
          return report(r.takeError());
        printReport(*r, false);
      }
      break;
    }
    auto r = makeReport(epoch, result->meanLoss);
    if (!r)
      return report(r.takeError());
    // ReduceLROnPlateau's scheduler.step(metric), after the validation.
    if (const Plateau *p = trainer.plateau())
      trainer.endEpoch(p->maxMode ? r->test.accuracy : r->loss);
    if (checkpointEvery && trainer.step() % checkpointEvery == 0)
      if (llvm::Error e = savePeriodic())
        return failedSave(std::move(e));
    printReport(*r, true);
  }
  llvm::sys::SetInterruptFunction(nullptr);

  if (trainer.savedStep() != trainer.step())
    if (llvm::Error e = trainer.save(checkpointOut, metadata))
      return report(std::move(e));
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - runStart)
          .count();
  out << "trained " << runSteps << " steps in " << llvm::format("%.1f", secs)
      << " s (" << llvm::format("%.0f", runSteps * B / std::max(secs, 1e-9))
      << " samples/s); step " << trainer.step() << " in all\n";
  if (job && runSteps)
    out << "collectives on rank 0, a step: "
        << llvm::format("%.2f", 1000 * trainer.summingSeconds() / runSteps)
        << " ms summing "
        << llvm::format("%.2f", trainer.gradientBytes() / 1048576.0)
        << " MiB of gradients, "
        << llvm::format("%.2f", 1000 * trainer.waitingSeconds() / runSteps)
        << " ms waiting for the other ranks' batches\n";
  out << "checkpoint: " << checkpointOut << "\n";
  if (!logFile.empty() && writer) {
    std::string csv =
        "epoch,step,lr,loss,test_loss,test_accuracy,samples_per_s\n";
    llvm::raw_string_ostream os(csv);
    for (const Report &r : history)
      os << llvm::formatv("{0},{1},", r.epoch, r.step)
         << llvm::format("%.9g", r.lr)
         << llvm::formatv(",{0:f6},{1:f6},{2:f4},{3:f1}\n", r.loss, r.test.loss,
                          r.test.accuracy, r.samplesPerSec);
    if (llvm::Error e = graft::writeFileAtomically(logFile, csv))
      return report(std::move(e));
    out << "log: " << logFile << "\n";
  }
  if (!plotFile.empty() && !history.empty() && writer) {
    if (llvm::Error e = writePlot(plotFile, history))
      return report(std::move(e));
    out << "plot: " << plotFile << "\n";
  }
  if (!history.empty() && !std::isnan(history.back().test.accuracy))
    out << "final test accuracy: "
        << llvm::format("%.2f%%", history.back().test.accuracy) << "\n";
  if (!history.empty() && !std::isnan(history.back().test.loss)) {
    auto best =
        llvm::min_element(history, [](const Report &a, const Report &b) {
          return a.test.loss < b.test.loss;
        });
    out << "best test loss: " << llvm::format("%.4f", best->test.loss)
        << " (step " << best->step << ")\n";
  }
  return Ok;
}

int graft::cli::runTrain() {
  auto job = MPIJob::join();
  if (!job) {
    llvm::errs() << llvm::toString(job.takeError()) << "\n";
    return InputError;
  }
  int rc = trainRun(job->get());
  // A failed rank ends the job: the others may be waiting for it in a
  // collective. An interrupt is agreed by every rank, which stop alike.
  if (*job && rc != Ok && rc != 130)
    (*job)->abort(rc);
  return rc;
}

int graft::cli::runPredict() {
  auto report = [](llvm::Error e) {
    llvm::errs() << llvm::toString(std::move(e)) << "\n";
    return InputError;
  };
  std::optional<char> sep = csvSeparator();
  if (!sep)
    return UsageError;
  if (dataFile.empty()) {
    llvm::errs() << "graft: error: graft predict needs --data FILE.csv\n";
    return UsageError;
  }
  Classifier info;
  std::optional<Dataset> data;
  std::vector<std::string> entries = {"predict"};
  auto compiled = compileModel(entries, [&](ModelOp model) -> llvm::Error {
    auto c = inspectClassifier(model);
    if (!c)
      return c.takeError();
    info = *c;
    auto d =
        readCSV(dataFile, classifierColumns(info.featureCount, info.classes),
                Labels::Optional, *sep);
    if (!d)
      return d.takeError();
    data = std::move(*d);
    return llvm::Error::success();
  });
  if (!compiled)
    return report(compiled.takeError());
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
  std::vector<std::string> entries = {benchEntry};
  auto compiled = compileModel(entries);
  if (!compiled)
    return report(compiled.takeError());
  double compileSecs = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - compileStart)
                           .count();
  ModelOp model = compiled->model;
  int64_t batchSize = 0; // the `dim B` convention: the first input's first dim
  for (InputOp in : model.getBody().getOps<InputOp>())
    if (in.getType().getRank() > 0) {
      batchSize = in.getType().getDimSize(0);
      break;
    }
  std::string fn = (model.getSymName() + "_" + benchEntry).str();
  const EntryPoint *ep = compiled->jit->entryPoint(fn);
  if (!ep)
    return report(trainingError("model '" + model.getSymName() +
                                "' has no entry point '" + fn +
                                "' to time (a train { } block makes "
                                "train_step, forward_backward and step)"));
  std::vector<Storage> args = slotsOf(ep->args), results = slotsOf(ep->results);
  std::mt19937_64 rng(0);
  std::normal_distribution<float> normal;
  for (Storage &a : args) {
    if (a.slot.role == Role::param || a.slot.role == Role::buffer) {
      if (llvm::Error e = initialise(a, model, 0))
        return report(std::move(e));
    } else if (a.slot.role == Role::input && isFloat(a.slot.type)) {
      eval::Tensor t;
      t.data.resize(a.slot.numel());
      for (double &v : t.data)
        v = normal(rng);
      store(a, t);
    } else if (a.slot.role == Role::input && a.slot.type == ElementType::I64) {
      // In the range the model reads it in (0 and 1 where nothing bounds it).
      uint64_t bound = 2;
      for (InputOp in : model.getBody().getOps<InputOp>())
        if (in.getName() == a.slot.name)
          if (std::optional<IndexRange> r = indexRangeOf(in.getResult()))
            bound = (uint64_t)r->bound;
      for (int64_t i = 0; i < a.slot.numel(); ++i)
        a.i64()[i] = (int64_t)(rng() % bound);
    } else if (a.slot.role == Role::hyper &&
               a.slot.name == "accumulation_steps") {
      for (TrainOp train : model.getBody().getOps<TrainOp>())
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
  llvm::outs() << "model " << model.getSymName() << ": compile "
               << llvm::format("%.2f", compileSecs) << " s, " << benchEntry
               << " " << llvm::format("%.3f", 1000 * secs / benchSteps)
               << " ms (mean of " << benchSteps << " steps, batch " << batchSize
               << ")";
  // The last step's loss: a check that the random inputs were valid.
  for (Storage &r : results)
    if (r.slot.role == Role::loss && r.slot.type == ElementType::F32)
      llvm::outs() << ", loss " << llvm::format("%.4f", r.f32()[0]);
  llvm::outs() << "\n";
  return Ok;
}

int graft::cli::runGenerate() {
  auto report = [](llvm::Error e) {
    llvm::errs() << llvm::toString(std::move(e)) << "\n";
    return InputError;
  };
  auto usage = [](const llvm::Twine &msg) {
    llvm::errs() << "graft: error: " << msg << "\n";
    return UsageError;
  };
  if (!(temperature > 0 && std::isfinite(temperature)))
    return usage("--temperature must be a finite number above 0");
  if (topK < 0)
    return usage("--top-k must be 0 (every character) or more");
  if (maxNewTokens < 0)
    return usage("--max-new-tokens must be 0 or more");
  std::map<std::string, std::string> meta;
  auto weights = readSafetensors(checkpointIn, &meta);
  if (!weights)
    return report(weights.takeError());
  if (!meta.count("graft.vocab"))
    return report(trainingError(
        checkpointIn + " has no vocabulary (graft.vocab): graft generate "
                       "samples from a model graft train trained on a text"));
  auto vocab = Vocabulary::parse(meta["graft.vocab"]);
  if (!vocab)
    return report(vocab.takeError());
  std::string context = prompt.getNumOccurrences() ? std::string(prompt) : "";
  if (context.empty())
    context =
        llvm::is_contained(vocab->chars, '\n') ? "\n" : vocab->decode({0});
  auto tokens = vocab->encode("--prompt", context);
  if (!tokens)
    return report(tokens.takeError());
  std::vector<std::string> entries = {"predict"};
  auto compiled = compileModel(entries);
  if (!compiled)
    return report(compiled.takeError());
  auto gen = Generator::create(*compiled->jit, compiled->model, *weights,
                               checkpointIn, logitsOutput);
  if (!gen)
    return report(gen.takeError());
  if ((int64_t)vocab->chars.size() > (*gen)->vocabSize())
    return report(trainingError(checkpointIn + " has a vocabulary of " +
                                llvm::Twine(vocab->chars.size()) +
                                " characters; the model's logits "
                                "cover " +
                                llvm::Twine((*gen)->vocabSize()) +
                                " (give the --dim it was trained with)"));
  SamplingOptions options;
  options.maxNewTokens = maxNewTokens;
  options.temperature = temperature;
  options.topK = topK;
  options.seed = sampleSeed;
  auto &out = llvm::outs();
  out << context;
  int64_t V = vocab->chars.size();
  llvm::Error e = (*gen)->run(*tokens, options, [&](int64_t t) {
    if (t >= V) // a logit the text never trained: padding of the vocabulary
      t = 0;
    out << vocab->decode({t});
    out.flush();
    return true;
  });
  out << "\n";
  if (e)
    return report(std::move(e));
  return Ok;
}
