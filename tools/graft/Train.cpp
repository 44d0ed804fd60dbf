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

/// 64-byte aligned allocations, as the C runtime's context gives its
/// tensors: the generated code's 512-bit loads of a row then never straddle
/// two cache lines (with malloc's 16-byte alignment they do at three of the
/// four offsets a buffer can start at).
template <class T> struct CacheLineAligned {
  using value_type = T;
  CacheLineAligned() = default;
  template <class U> CacheLineAligned(const CacheLineAligned<U> &) {}
  T *allocate(size_t n) {
    return static_cast<T *>(::operator new(n * sizeof(T), std::align_val_t(64)));
  }
  void deallocate(T *p, size_t) { ::operator delete(p, std::align_val_t(64)); }
  bool operator==(const CacheLineAligned &) const { return true; }
  bool operator!=(const CacheLineAligned &) const { return false; }
};

/// Tensor storage laid out as the generated code expects.
struct Storage {
  TensorSlot slot;
  std::vector<char, CacheLineAligned<char>> bytes;
  explicit Storage(const TensorSlot &s) : slot(s), bytes(s.bytes(), 0) {}
  float *f32() { return reinterpret_cast<float *>(bytes.data()); }
  int64_t *i64() { return reinterpret_cast<int64_t *>(bytes.data()); }
  double *f64() { return reinterpret_cast<double *>(bytes.data()); }
};

/// Writes an evaluator tensor (f64 values) into storage of any type.
void store(Storage &s, const eval::Tensor &t) {
  for (int64_t i = 0; i < s.slot.numel(); ++i) {
    double v = t.data[i];
    switch (s.slot.type) {
    case ElementType::F32: s.f32()[i] = (float)v; break;
    case ElementType::F64: s.f64()[i] = v; break;
    case ElementType::I64: s.i64()[i] = (int64_t)v; break;
    case ElementType::I32: ((int32_t *)s.bytes.data())[i] = (int32_t)v; break;
    case ElementType::I1: ((bool *)s.bytes.data())[i] = v != 0; break;
    case ElementType::BF16: break; // rejected when the model is checked
    }
  }
}

/// What `train` and `predict` need to know about the model.
struct ModelInfo {
  ModelOp model;
  InputOp features, labels;
  std::string scores; // the [B, C] output
  int64_t batch = 0, featureCount = 0, classes = 0;
};

llvm::Error modelError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "graft: error: " + msg.str());
}

llvm::Expected<ModelInfo> inspectModel(ModuleOp module) {
  ModelInfo info;
  auto models = module.getOps<ModelOp>();
  if (models.empty())
    return modelError("the file has no model");
  info.model = *models.begin();
  for (InputOp in : info.model.getBody().getOps<InputOp>()) {
    RankedTensorType t = in.getType();
    if (isa<FloatType>(t.getElementType()) && !info.features)
      info.features = in;
    else if (isa<IntegerType>(t.getElementType()) && !info.labels)
      info.labels = in;
    else
      return modelError("model '" + info.model.getSymName() +
                        "' has more inputs than features and labels ('" +
                        in.getName() + "'); train and predict need exactly one "
                        "float input and one integer label input");
  }
  if (!info.features || info.features.getType().getRank() < 1)
    return modelError("model '" + info.model.getSymName() +
                      "' needs a float input shaped [B, ...]");
  if (!info.features.getType().getElementType().isF32())
    return modelError("train and predict read f32 features; input '" +
                      info.features.getName() + "' is not f32");
  RankedTensorType ft = info.features.getType();
  info.batch = ft.getDimSize(0);
  info.featureCount = ft.getNumElements() / info.batch;
  if (info.labels && (info.labels.getType().getRank() != 1 ||
                      info.labels.getType().getDimSize(0) != info.batch))
    return modelError("the label input '" + info.labels.getName() +
                      "' must be shaped [B]");
  for (OutputOp out : info.model.getBody().getOps<OutputOp>()) {
    auto t = cast<RankedTensorType>(out.getValue().getType());
    if (isa<FloatType>(t.getElementType()) && t.getRank() == 2 &&
        t.getDimSize(0) == info.batch) {
      info.scores = out.getName().str();
      info.classes = t.getDimSize(1);
      break;
    }
  }
  if (info.scores.empty())
    return modelError("model '" + info.model.getSymName() +
                      "' needs an output of class scores shaped [B, C]");
  return info;
}

/// Loads and compiles the model; `meta` keeps the model for its metadata.
struct Compiled {
  std::unique_ptr<MLIRContext> ctx;
  OwningOpRef<ModuleOp> meta;
  std::unique_ptr<JITModel> jit;
  ModelInfo info;
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
    return modelError("invalid --dim (see above)");
  if (batch > 0) {
    if (llvm::any_of(options.dims, [](auto &d) { return d.first == "B"; }))
      return modelError("--batch and --dim B=... both set the batch; give one");
    options.dims.push_back({"B", batch});
  }
  OwningOpRef<ModuleOp> module =
      graft::cli::loadModule(*c.ctx, sm, modelFile, options);
  if (!module)
    return modelError("the model has errors (see above)");
  c.meta = module->clone();
  if (forData) {
    auto info = inspectModel(*c.meta);
    if (!info)
      return info.takeError();
    c.info = *info;
  } else {
    auto models = c.meta->getOps<ModelOp>();
    if (models.empty())
      return modelError("the file has no model");
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

/// Initial values of a parameter or buffer, from its #graft.init and the
/// seed (PyTorch's torch.nn.init formulas; see the evaluator).
llvm::Error initialise(Storage &s, ModelOp model, uint64_t seed) {
  InitAttr init;
  RankedTensorType type;
  for (Operation &op : model.getBody().front()) {
    if (auto p = dyn_cast<ParamOp>(op); p && p.getName() == s.slot.name)
      init = p.getInit(), type = p.getType();
    else if (auto b = dyn_cast<BufferOp>(op); b && b.getName() == s.slot.name)
      init = b.getInit(), type = b.getType();
  }
  if (!init)
    return modelError("no declaration of '" + s.slot.name + "'");
  auto t = eval::initTensor(init, type, seed, s.slot.name);
  if (!t)
    return t.takeError();
  store(s, *t);
  return llvm::Error::success();
}

std::vector<Storage> slotsOf(const std::vector<TensorSlot> &slots) {
  std::vector<Storage> out;
  for (const TensorSlot &s : slots)
    out.emplace_back(s);
  return out;
}

std::vector<void *> pointers(std::vector<Storage> &v) {
  std::vector<void *> p;
  for (Storage &s : v)
    p.push_back(s.bytes.data());
  return p;
}

/// The result pointers of a call: a result with the role and name of an
/// argument (the state a step updates) is given the argument's storage, so
/// the state is updated in place (JITModel::call would otherwise copy the
/// argument over first).
std::vector<void *> resultPointers(std::vector<Storage> &args,
                                   std::vector<Storage> &results) {
  std::vector<void *> p = pointers(results);
  for (auto [r, result] : llvm::enumerate(results))
    for (Storage &a : args)
      if (a.slot.role == result.slot.role && a.slot.name == result.slot.name)
        p[r] = a.bytes.data();
  return p;
}

/// Runs `predict` over `data` in batches; the last batch is padded and its
/// padding ignored. Returns the predicted class of every row.
llvm::Expected<std::vector<int64_t>>
predictAll(JITModel &jit, ModelInfo &info, std::vector<Storage> &state,
           const Dataset &data) {
  std::string fn = (info.model.getSymName() + "_predict").str();
  const EntryPoint *ep = jit.entryPoint(fn);
  std::vector<Storage> args = slotsOf(ep->args), results = slotsOf(ep->results);
  // Parameters and buffers by name, from the training state.
  for (Storage &a : args)
    for (Storage &s : state)
      if (s.slot.name == a.slot.name && s.slot.role == a.slot.role)
        a.bytes = s.bytes;
  Storage *x = nullptr, *scores = nullptr;
  for (Storage &a : args)
    if (a.slot.role == Role::input && a.slot.name == info.features.getName())
      x = &a;
  for (Storage &r : results)
    if (r.slot.name == info.scores)
      scores = &r;
  if (!x || !scores)
    return modelError("the predict entry point lacks the features or scores");
  std::vector<int64_t> predictions;
  int64_t B = info.batch, F = info.featureCount, C = info.classes;
  std::vector<void *> ap = pointers(args), rp = pointers(results);
  for (int64_t start = 0; start < data.rows(); start += B) {
    for (int64_t i = 0; i < B; ++i) {
      int64_t row = std::min(start + i, data.rows() - 1);
      std::memcpy(x->f32() + i * F, data.x.data() + row * F, F * sizeof(float));
    }
    if (llvm::Error e = jit.call(fn, ap, rp))
      return std::move(e);
    for (int64_t i = 0; i < B && start + i < data.rows(); ++i) {
      const float *row = scores->f32() + i * C;
      predictions.push_back(std::max_element(row, row + C) - row);
    }
  }
  return predictions;
}

/// Fills every slot with one of `roles` from the checkpoint `tensors`
/// (optimizer state under "optimizer.<name>"), checking names, shapes and
/// dtypes.
llvm::Error loadState(std::vector<Storage> &slots, llvm::ArrayRef<Role> roles,
                      const std::vector<NamedTensor> &tensors,
                      llvm::StringRef path) {
  for (Storage &st : slots) {
    if (!llvm::is_contained(roles, st.slot.role))
      continue;
    std::string key = st.slot.role == Role::opt_state
                          ? "optimizer." + st.slot.name
                          : st.slot.name;
    auto it = llvm::find_if(tensors,
                            [&](const NamedTensor &t) { return t.name == key; });
    if (it == tensors.end())
      return modelError(path + " has no tensor '" + key +
                        "' that the model needs");
    if (it->shape != st.slot.shape || it->type != st.slot.type)
      return modelError(path + ": tensor '" + key +
                        "' does not match the model's declaration (shape or "
                        "dtype differs)");
    st.bytes.assign(it->bytes.begin(), it->bytes.end());
  }
  return llvm::Error::success();
}

double accuracy(const std::vector<int64_t> &pred, const Dataset &data) {
  int64_t right = 0;
  for (size_t i = 0; i < pred.size(); ++i)
    right += pred[i] == data.y[i];
  return 100.0 * right / (double)pred.size();
}

struct EpochStats {
  double loss, testAccuracy;
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
    return modelError("refusing to write " + what + " to " + path + ": " + why);
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
  ModelInfo &info = compiled->info;
  std::string name = info.model.getSymName().str();
  auto trains = info.model.getBody().getOps<TrainOp>();
  if (trains.empty() || !info.labels)
    return report(modelError("model '" + name + "' has no train { } block "
                             "with a loss and labels: nothing to train"));
  TrainOp train = *trains.begin();

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
  if (trainData->rows() < info.batch)
    return report(modelError(dataFile + " has " +
                             llvm::Twine(trainData->rows()) +
                             " samples, fewer than one batch of " +
                             llvm::Twine(info.batch)));

  std::string fn = name + "_train_step";
  const EntryPoint *ep = jit.entryPoint(fn);
  if (!ep)
    return report(modelError("no train step was built for '" + name + "'"));
  std::vector<Storage> args = slotsOf(ep->args), results = slotsOf(ep->results);

  // Initial state.
  int64_t total = 0, trainable = 0, frozen = 0;
  for (ParamOp p : info.model.getBody().getOps<ParamOp>()) {
    int64_t n = p.getType().getNumElements();
    total += n;
    (p.getFrozen() ? frozen : trainable) += n;
  }
  if (lrOverride.getNumOccurrences() &&
      !(lrOverride >= 0 && std::isfinite(lrOverride))) {
    llvm::errs() << "graft: error: Invalid learning rate: " << lrOverride
                 << " (--lr must be finite and >= 0)\n";
    return UsageError;
  }
  double modelLR = train.getLr().convertToDouble();
  double baseLR = lrOverride.getNumOccurrences() ? (double)lrOverride : modelLR;
  // Each learning rate's own base, as torch.optim's param_groups keep it:
  // the default group's is --lr (or the model's); a param_group with its
  // own lr keeps it, one that inherits the default follows --lr. Schedules
  // scale every group's base (initial_lr) alike.
  llvm::StringMap<double> groupLR;
  {
    FailureOr<OptimizerConfig> config = OptimizerConfig::get(train, {});
    if (failed(config))
      return report(modelError("the train block of '" + name + "' is invalid"));
    for (const OptimizerGroup &g : config->groups)
      groupLR[g.lrName] = g.lrName == "lr" || g.lr == modelLR ? baseLR : g.lr;
  }
  Storage *x = nullptr, *y = nullptr, *seedArg = nullptr, *loss = nullptr;
  std::vector<Storage *> lrs;
  for (Storage &a : args) {
    Role role = a.slot.role;
    if (role == Role::param || role == Role::buffer) {
      if (llvm::Error e = initialise(a, info.model, seed))
        return report(std::move(e));
    } else if (role == Role::input) {
      (a.slot.name == info.features.getName() ? x : y) = &a;
    } else if (role == Role::seed) {
      seedArg = &a;
    } else if (role == Role::hyper &&
               llvm::StringRef(a.slot.name).ends_with("lr")) {
      lrs.push_back(&a);
    }
  }
  unsigned firstEpoch = 0;
  int64_t firstStep = 0; // of epoch firstEpoch: a checkpoint inside an epoch
  if (!resumeFrom.empty()) {
    std::map<std::string, std::string> meta;
    auto tensors = readSafetensors(resumeFrom, &meta);
    if (!tensors)
      return report(tensors.takeError());
    if (meta["graft.model"] != name)
      return report(modelError(resumeFrom + " is a checkpoint of model '" +
                               meta["graft.model"] + "', not '" + name + "'"));
    if (meta["graft.content"] == "weights" || !meta.count("graft.seed"))
      return report(modelError(
          resumeFrom + " holds weights only, no run state (steps, seed, "
                       "optimizer state): it cannot resume a run"));
    if (meta["graft.seed"] != std::to_string(seed))
      return report(modelError(resumeFrom + " was trained with --seed " +
                               meta["graft.seed"] +
                               "; resume with the same seed"));
    // graft train records its steps and the whole epochs among them (a
    // checkpoint of --checkpoint-every may end inside an epoch); a
    // checkpoint of the C API (graft_save) its steps only. They must agree
    // with this data set, so that a damaged or edited checkpoint cannot
    // make the replay below run billions of shuffles.
    uint64_t savedSteps = 0;
    int64_t perEpoch = trainData->rows() / info.batch;
    if (llvm::StringRef(meta["graft.steps"]).getAsInteger(10, savedSteps) ||
        perEpoch <= 0)
      return report(modelError(resumeFrom + ": bad graft.steps '" +
                               meta["graft.steps"] + "'"));
    if (meta.count("graft.epochs")) {
      if (llvm::StringRef(meta["graft.epochs"]).getAsInteger(10, firstEpoch))
        return report(modelError(resumeFrom + ": bad graft.epochs '" +
                                 meta["graft.epochs"] + "'"));
      if (savedSteps / (uint64_t)perEpoch != firstEpoch)
        return report(modelError(
            resumeFrom + ": its graft.epochs (" + meta["graft.epochs"] +
            ") and graft.steps (" + meta["graft.steps"] +
            ") disagree for this data set (" + std::to_string(perEpoch) +
            " steps an epoch): the checkpoint is damaged or from other data"));
    } else if (savedSteps / (uint64_t)perEpoch > UINT_MAX) {
      return report(modelError(
          resumeFrom + ": its graft.steps (" + meta["graft.steps"] +
          ") is more epochs of this data set (" + std::to_string(perEpoch) +
          " steps each) than graft train runs"));
    }
    firstEpoch = savedSteps / perEpoch;
    firstStep = savedSteps % perEpoch;
    if (llvm::Error e =
            loadState(args, {Role::param, Role::buffer, Role::opt_state},
                      *tensors, resumeFrom))
      return report(std::move(e));
  }
  for (Storage &r : results)
    if (r.slot.role == Role::loss)
      loss = &r;
  size_t planned = 0;
  for (Storage &s : args)
    planned += s.bytes.size();
  for (Storage &s : results)
    planned += s.bytes.size();

  out << "model " << name << " (" << modelFile << ")\n"
      << "  parameters: " << total << " total, " << trainable << " trainable, "
      << frozen << " frozen\n"
      << "  optimizer: " << stringifyOptimizerKind(train.getOptimizer())
      << ", lr " << baseLR << "; batch " << info.batch << "\n"
      << "  planned memory of the train step's state, inputs and results: "
      << llvm::format("%.1f KiB", planned / 1024.0) << "\n"
      << "  data: " << trainData->rows() << " training samples"
      << (testData ? (", " + llvm::Twine(testData->rows()) + " test samples").str()
                   : std::string())
      << ", " << info.featureCount << " features, " << info.classes
      << " classes\n";

  bool tty = llvm::sys::Process::StandardOutIsDisplayed();
  std::mt19937_64 rng(seed);
  std::vector<int64_t> order(trainData->rows());
  std::iota(order.begin(), order.end(), 0);
  std::vector<EpochStats> history;
  std::vector<void *> ap = pointers(args), rp = resultPointers(args, results);
  int64_t B = info.batch, F = info.featureCount;
  int64_t steps = trainData->rows() / B; // the last partial batch is dropped
  // A resumed run replays the shuffles it skips, so that it continues bit
  // for bit as an uninterrupted run would.
  for (unsigned epoch = 0; epoch < std::min(firstEpoch, epochs.getValue());
       ++epoch)
    std::shuffle(order.begin(), order.end(), rng);
  uint64_t step = (uint64_t)firstEpoch * steps + firstStep;
  // The checkpoint: parameters and buffers under their state_dict names,
  // optimizer state under "optimizer.", and the run state, with the keys
  // graft_save writes (graft_runtime.c), so that the C API's graft_load
  // resumes it too. graft.epochs counts whole epochs; a checkpoint of
  // --checkpoint-every inside an epoch has more steps than they hold.
  uint64_t savedStep = UINT64_MAX;
  auto saveCheckpoint = [&]() -> llvm::Error {
    std::vector<NamedTensor> tensors;
    for (Storage &a : args) {
      if (a.slot.role != Role::param && a.slot.role != Role::buffer &&
          a.slot.role != Role::opt_state)
        continue;
      std::string key = a.slot.role == Role::opt_state
                            ? "optimizer." + a.slot.name
                            : a.slot.name;
      tensors.push_back({key, a.slot.type, a.slot.shape,
                         std::vector<char>(a.bytes.begin(), a.bytes.end())});
    }
    std::map<std::string, std::string> meta = {
        {"graft.model", name},
        {"graft.content", "full"},
        {"graft.epochs", std::to_string(step / steps)},
        {"graft.steps", std::to_string(step)},
        {"graft.seed", std::to_string(seed)}};
    for (Storage &a : args)
      if (a.slot.role == Role::hyper)
        llvm::raw_string_ostream(meta["graft.hyper." + a.slot.name])
            << llvm::format("%.17g", a.f64()[0]);
    if (llvm::Error e = writeSafetensors(checkpointOut, tensors, meta))
      return e;
    savedStep = step;
    return llvm::Error::success();
  };
  auto checkpointFailed = [&](llvm::Error e) {
    if (tty)
      out << "\n";
    out.flush();
    llvm::errs() << llvm::toString(std::move(e)) << "\n"
                 << "graft: error: training stopped after step " << step
                 << ": the checkpoint could not be written\n";
    return InputError;
  };
  if (firstEpoch >= epochs)
    out << "the checkpoint has already trained " << firstEpoch
        << " epochs; nothing to do for --epochs " << epochs << "\n";
  for (unsigned epoch = firstEpoch; epoch < epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    for (Storage *s : lrs)
      s->f64()[0] = scheduledLR(train, epoch, groupLR.lookup(s->slot.name));
    auto start = std::chrono::steady_clock::now();
    double lossSum = 0;
    // A resumed run continues inside the epoch its checkpoint ended in.
    int64_t first = epoch == firstEpoch ? firstStep : 0;
    for (int64_t s = first; s < steps; ++s) {
      for (int64_t i = 0; i < B; ++i) {
        int64_t row = order[s * B + i];
        std::memcpy(x->f32() + i * F, trainData->x.data() + row * F,
                    F * sizeof(float));
        y->i64()[i] = trainData->y[row];
      }
      if (seedArg)
        seedArg->i64()[0] = (int64_t)(seed * 1000003 + step);
      if (llvm::Error e = jit.call(fn, ap, rp))
        return report(std::move(e));
      if (!std::isfinite(loss->f32()[0])) {
        // Divergence: nothing after this step is worth keeping, and the
        // checkpoint at -o (if any) stays the last good one.
        if (tty)
          out << "\n";
        out.flush();
        llvm::errs() << "graft: error: the loss of step " << step + 1
                     << " (epoch " << epoch + 1 << ", batch " << s + 1
                     << ") is " << (std::isnan(loss->f32()[0]) ? "nan" : "inf")
                     << "; training stopped and no checkpoint was written ("
                     << checkpointOut << " is left as it was)\n"
                     << "note: lower the learning rate, check the data for "
                        "huge or non-finite values, or clip gradients "
                        "(clip_grad_norm in the train block)\n";
        return InputError;
      }
      lossSum += loss->f32()[0];
      ++step;
      if (checkpointEvery && step % checkpointEvery == 0)
        if (llvm::Error e = saveCheckpoint())
          return checkpointFailed(std::move(e));
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
    }
    double secs = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - start).count();
    EpochStats stats{lossSum / (steps - first), NAN};
    if (testData) {
      auto pred = predictAll(jit, info, args, *testData);
      if (!pred)
        return report(pred.takeError());
      stats.testAccuracy = accuracy(*pred, *testData);
    }
    history.push_back(stats);
    out << (tty ? "\r" : "") << "epoch " << epoch + 1 << "/" << epochs
        << ": loss " << llvm::format("%.4f", stats.loss);
    if (testData)
      out << ", test accuracy " << llvm::format("%.2f%%", stats.testAccuracy);
    out << ", " << llvm::format("%.0f", (steps - first) * B / std::max(secs, 1e-9))
        << " samples/s" << (tty ? "          " : "") << "\n";
  }

  if (savedStep != step)
    if (llvm::Error e = saveCheckpoint())
      return report(std::move(e));
  out << "checkpoint: " << checkpointOut << "\n";
  if (!logFile.empty()) {
    std::string csv = "epoch,loss,test_accuracy\n";
    for (size_t i = 0; i < history.size(); ++i)
      csv += llvm::formatv("{0},{1:f6},{2:f4}\n", i + 1, history[i].loss,
                           history[i].testAccuracy)
                 .str();
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
  ModelInfo &info = compiled->info;
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
  if (llvm::Error e =
          loadState(state, {Role::param, Role::buffer}, *tensors, checkpointIn))
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
  ModelInfo &info = compiled->info;
  std::string fn = (info.model.getSymName() + "_" + benchEntry).str();
  const EntryPoint *ep = compiled->jit->entryPoint(fn);
  if (!ep)
    return report(modelError("model '" + info.model.getSymName() +
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
