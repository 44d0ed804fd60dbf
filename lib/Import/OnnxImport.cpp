//===- OnnxImport.cpp - ONNX models as .graft files -----------------------===//
//
// The importer walks the graph once, in its (checked) topological order.
// Each node is either folded (its inputs are all constants: the shape
// arithmetic of exporters, Constant nodes, Shape of a value whose shape is
// known), or written as one statement of the model body, or claimed by a
// module: a Conv, Gemm, BatchNormalization, LayerNormalization or embedding
// Gather whose weights are initializers named `P.weight` (`P.bias`, ...)
// and used by that node alone becomes the module `P` (nn.Conv2d, nn.Linear,
// ...), called by the statement. The other floating-point initializers are
// `param`s of modules named after their prefixes. Values are named after
// their nodes' scopes (`/layer1/layer1.0/conv1/Conv` gives
// `layer1_0_conv1_conv`), each statement followed by its node's name.
//
//===----------------------------------------------------------------------===//

#include "graft/Import/OnnxImport.h"
#include "graft/Frontend/Lexer.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "onnx/checker.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

#include <cerrno>
#include <cfloat>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstring>
#include <functional>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

using namespace graft;
using llvm::StringRef;
using llvm::Twine;

namespace {

/// A constant known at import: shapes and their arithmetic, scalars, small
/// tensors. Values are held as doubles (exact for every int64 a shape has).
struct Const {
  int32_t dtype = onnx::TensorProto::FLOAT;
  std::vector<int64_t> shape;
  std::vector<double> values;
  int64_t numel() const { return (int64_t)values.size(); }
};

bool isIntType(int32_t t) {
  return t == onnx::TensorProto::INT64 || t == onnx::TensorProto::INT32 ||
         t == onnx::TensorProto::INT8 || t == onnx::TensorProto::UINT8 ||
         t == onnx::TensorProto::INT16 || t == onnx::TensorProto::BOOL;
}

/// The model language's name of an ONNX element type, if Graft has it.
std::optional<std::string> graftType(int32_t t) {
  switch (t) {
  case onnx::TensorProto::FLOAT:
    return "f32";
  case onnx::TensorProto::DOUBLE:
    return "f64";
  case onnx::TensorProto::BFLOAT16:
    return "bf16";
  case onnx::TensorProto::INT64:
    return "i64";
  case onnx::TensorProto::INT32:
    return "i32";
  case onnx::TensorProto::BOOL:
    return "i1";
  default:
    return std::nullopt;
  }
}

std::string typeName(int32_t t) {
  return onnx::TensorProto::DataType_IsValid(t)
             ? onnx::TensorProto::DataType_Name((onnx::TensorProto::DataType)t)
             : "type " + std::to_string(t);
}

/// Whether `s` can name a value at a statement's start (not a statement
/// word either), or, with `anywhere`, after `self.` or `output`.
bool isIdentifier(StringRef s, bool anywhere = false) {
  static const llvm::StringSet<> statementWords = {
      "dim",    "input",   "param",     "buffer", "output",
      "freeze", "no_grad", "inference", "train",  "self"};
  if (s.empty() || !(llvm::isAlpha(s[0]) || s[0] == '_'))
    return false;
  // The lexer's keywords, and `module` (a statement word at the top level).
  return llvm::all_of(s, [](char c) { return llvm::isAlnum(c) || c == '_'; }) &&
         frontend::wordKind(s) == frontend::Tok::Ident && s != "module" &&
         (anywhere || !statementWords.contains(s));
}

// Saturating conversions of a constant's values (held as doubles): a
// slice's end is INT64_MAX, which a double rounds up to 2^63.
int64_t toInt64(double x) {
  return std::isnan(x)  ? 0
         : x >= 0x1p63  ? INT64_MAX
         : x <= -0x1p63 ? INT64_MIN
                        : (int64_t)x;
}
int32_t toInt32(double x) {
  return (int32_t)std::clamp<int64_t>(toInt64(x), INT32_MIN, INT32_MAX);
}
float toFloat(double x) {
  return std::isnan(x) || std::isinf(x) ? (float)x
         : x > FLT_MAX                  ? INFINITY
         : x < -FLT_MAX                 ? -INFINITY
                                        : (float)x;
}

/// ONNX's multi-line messages on one line.
std::string oneLine(StringRef message) {
  std::string out;
  for (char c : message.trim()) {
    if (c == '\n')
      c = ' ';
    if (c != ' ' || out.empty() || out.back() != ' ')
      out += c;
  }
  return out;
}

/// The shortest decimal that reads back as the float `v` (attributes are
/// f32: 1e-05, not 9.999999747378752e-06).
std::string formatFloat(float v) {
  if (std::isinf(v))
    return v > 0 ? "float('inf')" : "-float('inf')";
  for (int p = 1; p <= 9; ++p) {
    std::string s = llvm::formatv("{0}", llvm::format("%.*g", p, v)).str();
    if (std::strtof(s.c_str(), nullptr) == v) {
      if (s.find_first_of(".e") == std::string::npos)
        s += ".0";
      return s;
    }
  }
  return llvm::formatv("{0}", llvm::format("%.9g", v)).str();
}

std::string formatDouble(double v) {
  std::string s = llvm::formatv("{0}", llvm::format("%.10g", v)).str();
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return s;
}

std::string joinInts(llvm::ArrayRef<int64_t> v) {
  std::string s;
  for (auto [i, x] : llvm::enumerate(v))
    s += (i ? ", " : "") + std::to_string(x);
  return s;
}

/// `3` when every element is 3, `(3, 5)` otherwise.
std::string sizeArg(llvm::ArrayRef<int64_t> v) {
  if (!v.empty() && llvm::all_equal(v))
    return std::to_string(v[0]);
  return "(" + joinInts(v) + ")";
}

class Importer {
public:
  Importer(StringRef path, const OnnxImportOptions &opts)
      : path(path.str()), opts(opts) {}

  llvm::Expected<ImportedModel> run(StringRef bytes);

private:
  // --- errors -------------------------------------------------------------
  llvm::Error error(const Twine &msg) const {
    return llvm::createStringError(path + ": error: " + msg);
  }
  llvm::Error nodeError(const onnx::NodeProto &n, const Twine &msg) const {
    return error("node '" + n.name() + "' (" + n.op_type() +
                 (opset ? ", opset " + Twine(opset) : Twine()) + "): " + msg);
  }

  // --- reading ------------------------------------------------------------
  llvm::Error readModel(StringRef bytes);
  llvm::Error fixInputShapes();
  llvm::Error inferShapes();
  llvm::Error isolated(StringRef what, StringRef fails,
                       llvm::function_ref<void(onnx::GraphProto &)> work,
                       onnx::GraphProto *result = nullptr) const;
  llvm::Error foldShapes();
  void findDifferentiable();
  llvm::Expected<Const> decode(const onnx::TensorProto &t) const;
  llvm::Expected<NamedTensor> weightOf(const onnx::TensorProto &t,
                                       StringRef name) const;

  // --- nodes --------------------------------------------------------------
  llvm::Error importNode(const onnx::NodeProto &n);
  llvm::Expected<bool> fold(const onnx::NodeProto &n);
  bool broadcastable(const onnx::NodeProto &n);
  llvm::Expected<int64_t> axisAttr(const onnx::NodeProto &n, int64_t dflt,
                                   int64_t rank, int64_t hi) const;
  llvm::Error emitNode(const onnx::NodeProto &n);
  /// Claims the module `prefix` for node `n` when its tensors `suffixes`
  /// (e.g. weight, bias) are initializers `prefix.suffix` that only `n`
  /// reads; returns the prefix or "".
  std::string claimModule(const onnx::NodeProto &n,
                          llvm::ArrayRef<std::pair<int, StringRef>> tensors);

  // --- values -------------------------------------------------------------
  bool isConst(StringRef v) const { return consts.count(v.str()); }
  bool isParam(StringRef v) const {
    return inits.count(v.str()) && !consts.count(v.str());
  }
  llvm::Expected<std::string> operand(const onnx::NodeProto &n, int i);
  llvm::Expected<std::vector<int64_t>> shapeOf(const onnx::NodeProto &n,
                                               StringRef v) const;
  llvm::Expected<Const> constInput(const onnx::NodeProto &n, int i) const;
  llvm::Expected<std::vector<int64_t>> intsInput(const onnx::NodeProto &n,
                                                 int i) const;
  std::string newName(const onnx::NodeProto &n, int output,
                      bool moduleCall = false);
  std::string pathExpr(StringRef dotted) const;
  void assign(const onnx::NodeProto &n, int output, const std::string &expr,
              bool moduleCall = false);

  // --- writing ------------------------------------------------------------
  llvm::Expected<std::string> write();

  std::string path;
  const OnnxImportOptions &opts;
  onnx::ModelProto model;
  int64_t opset = 0;
  std::map<std::string, const onnx::TensorProto *> inits;
  std::map<std::string, int> uses; // how many node inputs read each value
  std::map<std::string, std::pair<int32_t, std::vector<int64_t>>> types;
  std::map<std::string, Const> consts;
  std::map<std::string, std::string> constOrigin; // reshaped initializers
  std::map<std::string, std::string> exprs; // ONNX value -> Graft expression
  std::set<std::string> names;              // Graft names taken
  llvm::StringMap<int> nodesInScope;        // "/layer1/layer1.0" -> nodes
  std::map<std::string, std::string> dimOfValue; // "x:0" -> "batch"
  std::vector<std::string> dimDecls, inputDecls, body;
  std::map<std::string, std::string> moduleCtors; // path -> nn.X(...)
  std::map<std::string, std::string> claimedBy;   // initializer -> module
  std::map<std::string, std::string> params;      // raw param name -> its type
  std::set<std::string> differentiable;           // values a gradient reaches
  std::vector<std::string> constBuffers; // constants written as buffers
  std::vector<std::string> constants;    // their names
  std::vector<NamedTensor> weights;
};

llvm::Error Importer::readModel(StringRef bytes) {
  if (bytes.size() > (size_t)INT_MAX)
    return error("the file is larger than the 2 GB a protobuf message may "
                 "hold");
  if (!model.ParseFromArray(bytes.data(), (int)bytes.size()))
    return error("not an ONNX model: the protobuf message does not parse "
                 "(a truncated or corrupted file?)");
  for (const auto &n : model.graph().node())
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      return nodeError(n, "ops of domain '" + n.domain() +
                              "' are not supported (only ONNX's own)");
  for (const auto &t : model.graph().initializer())
    if (t.data_location() == onnx::TensorProto::EXTERNAL)
      return error("the initializer '" + t.name() +
                   "' keeps its data in an external file, which graft import "
                   "does not read: save the model with its data inside "
                   "(onnx.save_model(m, path, save_as_external_data=False))");
  if (auto err = isolated(
          "ONNX's checker", "rejects the model",
          [&](onnx::GraphProto &) { onnx::checker::check_model(model); }))
    return err;
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  if (opset < 13 || opset > 17)
    return error("opset " + Twine(opset) +
                 " is not supported: graft import reads opsets 13 to 17 "
                 "(torch.onnx.export(..., opset_version=13))");
  for (const auto &t : model.graph().initializer())
    inits[t.name()] = &t;
  return llvm::Error::success();
}

/// Gives every input's dynamic dimensions the sizes of --dim, so that shape
/// inference gets static shapes; records the dims for the model's `dim`s.
llvm::Error Importer::fixInputShapes() {
  std::set<std::string> seen;
  auto *graph = model.mutable_graph();
  for (auto &in : *graph->mutable_input()) {
    if (inits.count(in.name()))
      continue;
    if (!in.type().has_tensor_type() || !in.type().tensor_type().has_shape())
      return error("input '" + in.name() + "' is not a tensor of known rank");
    auto *shape = in.mutable_type()->mutable_tensor_type()->mutable_shape();
    for (auto [i, d] : llvm::enumerate(*shape->mutable_dim())) {
      if (d.has_dim_value())
        continue;
      std::string name = d.dim_param();
      if (name.empty())
        return error("input '" + in.name() + "' has a dimension " + Twine(i) +
                     " of unknown size without a name: its size must be "
                     "fixed when exporting");
      auto it = opts.dims.find(name);
      if (it == opts.dims.end())
        return error("input '" + in.name() + "' has the dynamic dimension '" +
                     name + "': give its size with --dim " + name + "=N");
      if (!isIdentifier(name))
        return error("the dynamic dimension '" + name +
                     "' is not a name the model language can declare");
      d.set_dim_value(it->second);
      dimOfValue[in.name() + ":" + std::to_string(i)] = name;
      if (seen.insert(name).second)
        dimDecls.push_back("dim " + name + " = " + std::to_string(it->second));
    }
  }
  for (const auto &[name, value] : opts.dims)
    if (!seen.count(name))
      return error("--dim " + name +
                   ": the model's inputs have no dynamic "
                   "dimension named '" +
                   name + "'");
  return llvm::Error::success();
}

/// A folded constant as an ONNX tensor.
onnx::TensorProto encode(const Const &c) {
  onnx::TensorProto t;
  t.set_data_type(c.dtype);
  for (int64_t d : c.shape)
    t.add_dims(d);
  for (double v : c.values)
    switch (c.dtype) {
    case onnx::TensorProto::FLOAT:
      t.add_float_data(toFloat(v));
      break;
    case onnx::TensorProto::DOUBLE:
      t.add_double_data(v);
      break;
    case onnx::TensorProto::INT64:
      t.add_int64_data(toInt64(v));
      break;
    default:
      t.add_int32_data(toInt32(v));
      break;
    }
  return t;
}

/// Shape inference and folding, until neither learns more: the shapes
/// exporters compute (`x.view(B, T, C)` is Shape, Gather, Unsqueeze,
/// Concat) become constants, which let inference find the shapes after
/// them. Folded nodes become Constant nodes (but for reshaped initializers).
llvm::Error Importer::foldShapes() {
  std::map<std::string, Const> initConsts; // the integer initializers
  for (const auto &[name, t] : inits)
    if (isIntType(t->data_type())) {
      auto c = decode(*t);
      if (!c)
        return c.takeError();
      initConsts[name] = std::move(*c);
    }
  for (int round = 0; round < 16; ++round) {
    if (auto err = inferShapes())
      return err;
    consts = initConsts;
    constOrigin.clear();
    bool changed = false;
    for (auto &n : *model.mutable_graph()->mutable_node()) {
      auto folded = fold(n);
      if (!folded)
        return folded.takeError();
      // A reshaped initializer keeps its node: the model reads the buffer.
      if (!*folded || n.op_type() == "Constant" ||
          constOrigin.count(n.output(0)))
        continue;
      onnx::TensorProto value = encode(consts[n.output(0)]);
      n.clear_input();
      n.clear_attribute();
      n.set_op_type("Constant");
      auto *a = n.add_attribute();
      a->set_name("value");
      a->set_type(onnx::AttributeProto::TENSOR);
      *a->mutable_t() = std::move(value);
      changed = true;
    }
    if (!changed)
      break;
  }
  uses.clear();
  for (const auto &n : model.graph().node())
    for (const auto &i : n.input())
      ++uses[i];
  for (const auto &o : model.graph().output())
    ++uses[o.name()];
  findDifferentiable();
  return llvm::Error::success();
}

/// Whether input `i` of `n` carries a gradient to it when its outputs do:
/// not a condition, an index, a shape or a comparison's operand.
static bool differentiableInput(const onnx::NodeProto &n, int i) {
  static const llvm::StringSet<> none = {
      "Equal",  "Less",  "Greater", "LessOrEqual", "GreaterOrEqual",  "Not",
      "And",    "Or",    "Shape",   "Size",        "ConstantOfShape", "Range",
      "ArgMax", "ArgMin"};
  static const llvm::StringSet<> firstOnly = {"Gather",
                                              "Reshape",
                                              "Expand",
                                              "Slice",
                                              "Unsqueeze",
                                              "Squeeze",
                                              "Split",
                                              "Tile",
                                              "Dropout",
                                              "Clip",
                                              "ReduceSum",
                                              "Pad",
                                              "SoftmaxCrossEntropyLoss",
                                              "NegativeLogLikelihoodLoss"};
  StringRef op = n.op_type();
  if (none.contains(op))
    return false;
  if (firstOnly.contains(op))
    return i == 0;
  if (op == "Where")
    return i != 0;
  if (op == "BatchNormalization")
    return i <= 2;
  return true;
}

/// The values a gradient reaches from the outputs: a floating-point
/// initializer outside them (a mask only compared, nanoGPT's causal `bias`)
/// is a buffer, not a parameter.
void Importer::findDifferentiable() {
  differentiable.clear();
  for (const auto &o : model.graph().output())
    differentiable.insert(o.name());
  const auto &nodes = model.graph().node();
  for (int k = nodes.size(); k-- > 0;) {
    const auto &n = nodes[k];
    bool reached = llvm::any_of(n.output(), [&](const std::string &o) {
      auto t = types.find(o);
      bool isFloatOut = t == types.end() || !isIntType(t->second.first);
      return differentiable.count(o) && isFloatOut;
    });
    if (!reached)
      continue;
    for (int i = 0; i < n.input_size(); ++i)
      if (differentiableInput(n, i))
        differentiable.insert(n.input(i));
  }
}

/// Runs `work` (ONNX's checker or shape inference) in a child process.
/// libonnx 1.12 crashes on some malformed attributes (a zero stride divides
/// by zero in its pooling inference), and a crash there must be an error of
/// graft import, not its end (the fuzzer found it). The child sends back
/// what `work` puts in its GraphProto, or the message of the exception it
/// threw; `what` and `fails` name it in errors.
llvm::Error
Importer::isolated(StringRef what, StringRef fails,
                   llvm::function_ref<void(onnx::GraphProto &)> work,
                   onnx::GraphProto *result) const {
  int fds[2];
  if (::pipe(fds) != 0)
    return error("cannot create a pipe: " + Twine(std::strerror(errno)));
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return error("cannot fork: " + Twine(std::strerror(errno)));
  }
  if (pid == 0) {
    ::close(fds[0]);
    // Die of the signal, quietly: the parent reports it.
    for (int sig : {SIGFPE, SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGALRM})
      ::signal(sig, SIG_DFL);
    ::alarm(300);
    std::string out;
    try {
      onnx::GraphProto graph;
      work(graph);
      out = "0" + graph.SerializeAsString();
    } catch (const std::exception &e) {
      out = std::string("1") + e.what();
    }
    for (size_t done = 0; done < out.size();) {
      ssize_t n = ::write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0 && errno != EINTR)
        ::_exit(1);
      done += n > 0 ? n : 0;
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string in;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n > 0)
      in.append(buffer, n);
    else if (n == 0 || errno != EINTR)
      break;
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFSIGNALED(status))
    return error(what + " crashed on this model (" +
                 Twine(::strsignal(WTERMSIG(status))) +
                 "): an attribute or a shape in it is invalid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || in.empty())
    return error(what + " did not finish");
  if (in[0] == '1')
    return error(what + " " + fails + ": " +
                 oneLine(StringRef(in).drop_front()));
  if (result && !result->ParseFromString(in.substr(1)))
    return error(what + " returned a result that does not parse");
  return llvm::Error::success();
}

llvm::Error Importer::inferShapes() {
  model.mutable_graph()->clear_value_info();
  types.clear();
  onnx::ShapeInferenceOptions options;
  options.check_type = true;
  options.error_mode = 1;
  options.enable_data_propagation = true;
  onnx::GraphProto inferred;
  if (auto err = isolated(
          "ONNX's shape inference", "fails",
          [&](onnx::GraphProto &result) {
            onnx::shape_inference::InferShapes(
                model, onnx::OpSchemaRegistry::Instance(), options);
            *result.mutable_value_info() = model.graph().value_info();
            *result.mutable_output() = model.graph().output();
          },
          &inferred))
    return err;
  *model.mutable_graph()->mutable_value_info() = inferred.value_info();
  *model.mutable_graph()->mutable_output() = inferred.output();
  auto record = [&](const onnx::ValueInfoProto &v) {
    if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape())
      return;
    std::vector<int64_t> shape;
    for (const auto &d : v.type().tensor_type().shape().dim()) {
      if (!d.has_dim_value())
        return; // unknown: shapeOf reports it where it is needed
      shape.push_back(d.dim_value());
    }
    types[v.name()] = {v.type().tensor_type().elem_type(), shape};
  };
  for (const auto &v : model.graph().input())
    record(v);
  for (const auto &v : model.graph().value_info())
    record(v);
  for (const auto &v : model.graph().output())
    record(v);
  for (const auto &[name, t] : inits)
    types[name] = {t->data_type(),
                   std::vector<int64_t>(t->dims().begin(), t->dims().end())};
  return llvm::Error::success();
}

/// A tensor's values: its raw little-endian bytes of T, or its typed field.
template <typename T, typename Field>
void readValues(const onnx::TensorProto &t, const Field &typed,
                std::vector<double> &out) {
  if (!t.has_raw_data()) {
    out.assign(typed.begin(), typed.end());
    return;
  }
  const std::string &raw = t.raw_data();
  out.resize(raw.size() / sizeof(T));
  for (size_t i = 0; i < out.size(); ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
    out[i] = (double)v;
  }
}

llvm::Expected<Const> Importer::decode(const onnx::TensorProto &t) const {
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return error("tensor '" + t.name() +
                 "' keeps its data in an external file, which graft import "
                 "does not read (save the model with its data inside)");
  Const c;
  c.dtype = t.data_type();
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || (d && n > (int64_t(1) << 40) / d))
      return error("tensor '" + t.name() + "' has an invalid shape");
    n *= d;
    c.shape.push_back(d);
  }
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT:
    readValues<float>(t, t.float_data(), c.values);
    break;
  case onnx::TensorProto::DOUBLE:
    readValues<double>(t, t.double_data(), c.values);
    break;
  case onnx::TensorProto::INT64:
    readValues<int64_t>(t, t.int64_data(), c.values);
    break;
  case onnx::TensorProto::INT32:
    readValues<int32_t>(t, t.int32_data(), c.values);
    break;
  case onnx::TensorProto::BOOL:
  case onnx::TensorProto::UINT8:
    readValues<uint8_t>(t, t.int32_data(), c.values);
    break;
  case onnx::TensorProto::INT8:
    readValues<int8_t>(t, t.int32_data(), c.values);
    break;
  default:
    return error("tensor '" + t.name() + "' has the element type " +
                 typeName(t.data_type()) +
                 ", which graft import does not read");
  }
  if ((int64_t)c.values.size() != n)
    return error("tensor '" + t.name() + "' holds " + Twine(c.values.size()) +
                 " values for its shape [" + joinInts(c.shape) + "] of " +
                 Twine(n));
  return c;
}

/// A constant as a tensor of the weights file, in the element type Graft
/// gives its ONNX type (f32, f64, i64, i32, i1; the caller checked).
NamedTensor tensorOf(const Const &c, StringRef name) {
  NamedTensor w;
  w.name = name.str();
  w.shape = c.shape;
  switch (c.dtype) {
  case onnx::TensorProto::FLOAT:
    w.type = ElementType::F32;
    break;
  case onnx::TensorProto::DOUBLE:
    w.type = ElementType::F64;
    break;
  case onnx::TensorProto::INT32:
    w.type = ElementType::I32;
    break;
  case onnx::TensorProto::BOOL:
    w.type = ElementType::I1;
    break;
  default:
    w.type = ElementType::I64;
    break;
  }
  size_t size = elementSize(w.type);
  w.bytes.resize(c.values.size() * size);
  for (size_t k = 0; k < c.values.size(); ++k) {
    char *p = w.bytes.data() + k * size;
    double x = c.values[k];
    float f = toFloat(x);
    int32_t i32 = toInt32(x);
    int64_t i64 = toInt64(x);
    switch (w.type) {
    case ElementType::F32:
      std::memcpy(p, &f, 4);
      break;
    case ElementType::F64:
      std::memcpy(p, &x, 8);
      break;
    case ElementType::I32:
      std::memcpy(p, &i32, 4);
      break;
    case ElementType::I1:
      *p = x != 0;
      break;
    default:
      std::memcpy(p, &i64, 8);
      break;
    }
  }
  return w;
}

/// A floating-point initializer as a weight of the weights file.
llvm::Expected<NamedTensor> Importer::weightOf(const onnx::TensorProto &t,
                                               StringRef name) const {
  auto c = decode(t);
  if (!c)
    return c.takeError();
  if (c->dtype != onnx::TensorProto::FLOAT &&
      c->dtype != onnx::TensorProto::DOUBLE)
    return error("initializer '" + t.name() + "' of type " +
                 typeName(c->dtype) +
                 " is read by a node that needs a floating-point parameter");
  return tensorOf(*c, name);
}

llvm::Expected<std::vector<int64_t>> Importer::shapeOf(const onnx::NodeProto &n,
                                                       StringRef v) const {
  auto it = types.find(v.str());
  if (it == types.end())
    return nodeError(n, "the shape of '" + v +
                            "' is unknown (ONNX's shape inference could not "
                            "infer it from the input sizes)");
  return it->second.second;
}

llvm::Expected<Const> Importer::constInput(const onnx::NodeProto &n,
                                           int i) const {
  if (i >= n.input_size() || n.input(i).empty())
    return nodeError(n, "input " + Twine(i) + " is missing");
  auto it = consts.find(n.input(i));
  if (it == consts.end())
    return nodeError(n, "input " + Twine(i) + " ('" + n.input(i) +
                            "') must be a constant known at import (Graft's "
                            "shapes and attributes are static)");
  return it->second;
}

llvm::Expected<std::vector<int64_t>>
Importer::intsInput(const onnx::NodeProto &n, int i) const {
  auto c = constInput(n, i);
  if (!c)
    return c.takeError();
  std::vector<int64_t> v;
  for (double x : c->values)
    v.push_back(toInt64(x));
  return v;
}

// Attributes.
const onnx::AttributeProto *attr(const onnx::NodeProto &n, StringRef name) {
  for (const auto &a : n.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}
int64_t attrInt(const onnx::NodeProto &n, StringRef name, int64_t dflt) {
  const auto *a = attr(n, name);
  return a ? a->i() : dflt;
}
float attrFloat(const onnx::NodeProto &n, StringRef name, float dflt) {
  const auto *a = attr(n, name);
  return a ? a->f() : dflt;
}
std::vector<int64_t> attrInts(const onnx::NodeProto &n, StringRef name,
                              std::vector<int64_t> dflt = {}) {
  const auto *a = attr(n, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : dflt;
}

/// `layer1_0_conv1_conv` for the node `/layer1/layer1.0/conv1/Conv`; unique.
std::string Importer::newName(const onnx::NodeProto &n, int output,
                              bool moduleCall) {
  llvm::SmallVector<StringRef> parts;
  StringRef(n.name()).split(parts, '/', -1, /*KeepEmpty=*/false);
  std::string base;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i + 1 < parts.size() &&
        parts[i + 1].starts_with((parts[i] + ".").str()))
      continue; // /layer1/layer1.0: the second says it all
    for (char c : parts[i])
      base += llvm::isAlnum(c) ? llvm::toLower(c) : '_';
    base += '_';
  }
  if (base.empty())
    base = StringRef(n.op_type()).lower() + "_";
  base.pop_back();
  // `/relu_1/Relu` is `relu_1`; a module's call `/conv1/Conv` is `conv1_out`.
  StringRef op = StringRef(n.op_type());
  if (parts.size() >= 2) {
    std::string stem = StringRef(base).rsplit('_').first.str();
    if (moduleCall)
      base = stem + "_out";
    else if (StringRef(parts[parts.size() - 2]).starts_with_insensitive(op))
      base = stem; // the scope names the op: /dropout1/Dropout
    else if (nodesInScope[StringRef(n.name()).rsplit('/').first] == 1)
      base = stem + "_out"; // a module's one op: /avgpool/GlobalAveragePool
  }
  std::string collapsed;
  for (char c : base)
    if (c != '_' || collapsed.empty() || collapsed.back() != '_')
      collapsed += c;
  base = collapsed;
  if (!isIdentifier(base))
    base = "v_" + base;
  if (output)
    base += "_out" + std::to_string(output);
  std::string name = base;
  for (int k = 1; names.count(name); ++k)
    name = base + "_" + std::to_string(k);
  names.insert(name);
  return name;
}

/// `getattr(layer1, "0").conv1` for `layer1.0.conv1`.
std::string Importer::pathExpr(StringRef dotted) const {
  llvm::SmallVector<StringRef> parts;
  dotted.split(parts, '.');
  std::string e = parts[0].str();
  for (StringRef p : llvm::drop_begin(parts))
    e = isIdentifier(p, /*anywhere=*/true)
            ? e + "." + p.str()
            : "getattr(" + e + ", \"" + p.str() + "\")";
  return e;
}

void Importer::assign(const onnx::NodeProto &n, int output,
                      const std::string &expr, bool moduleCall) {
  std::string v = newName(n, output, moduleCall);
  body.push_back(v + " = " + expr + "  # " + n.name());
  exprs[n.output(output)] = v;
}

/// The Graft expression of node input `i`: a value's name, a parameter's
/// path, a constant written inline (a scalar; `torch.full` of a uniform
/// tensor) or as a buffer.
llvm::Expected<std::string> Importer::operand(const onnx::NodeProto &n, int i) {
  if (i >= n.input_size() || n.input(i).empty())
    return nodeError(n, "input " + Twine(i) + " is missing");
  const std::string &v = n.input(i);
  if (auto it = exprs.find(v); it != exprs.end())
    return it->second;
  if (auto it = consts.find(v); it != consts.end()) {
    const Const &c = it->second;
    bool isInt = isIntType(c.dtype);
    auto lit = [&](double x) {
      if (c.dtype == onnx::TensorProto::BOOL)
        return std::string(x != 0 ? "True" : "False");
      std::string s =
          isInt ? std::to_string(toInt64(x))
                : (c.dtype == onnx::TensorProto::FLOAT ? formatFloat(toFloat(x))
                                                       : formatDouble(x));
      return x < 0 ? "(" + s + ")" : s;
    };
    if (c.numel() == 1 && c.shape.empty())
      return lit(c.values[0]);
    auto type = graftType(c.dtype);
    if (!type)
      return nodeError(n, "the constant '" + v + "' has the element type " +
                              typeName(c.dtype) +
                              ", which Graft does not have");
    if (isInt && c.dtype != onnx::TensorProto::BOOL && c.shape.size() == 1 &&
        c.numel() >= 2) {
      double step = c.values[1] - c.values[0];
      bool arithmetic = step != 0;
      for (size_t k = 1; k < c.values.size() && arithmetic; ++k)
        arithmetic = c.values[k] - c.values[k - 1] == step;
      if (arithmetic && c.dtype == onnx::TensorProto::INT64)
        return "torch.arange(" + lit(c.values[0]) + ", " +
               lit(c.values.back() + step) +
               (step != 1 ? ", " + lit(step) : "") + ")";
    }
    if (c.numel() >= 1 && llvm::all_equal(c.values))
      return "torch.full([" + joinInts(c.shape) + "], " + lit(c.values[0]) +
             (*type == "f32" || *type == "i64" || *type == "i1"
                  ? ""
                  : ", dtype=\"" + *type + "\"") +
             ")";
    // A constant tensor of several values: a buffer, its values in the
    // weights file; under its own name when it is an initializer (a
    // registered buffer: swin's relative_position_index), else named after
    // the node that reads it.
    if (c.dtype == onnx::TensorProto::BFLOAT16)
      return nodeError(n, "a bf16 constant tensor is not supported");
    auto origin = constOrigin.find(v);
    StringRef init = origin != constOrigin.end() ? StringRef(origin->second)
                     : inits.count(v)            ? StringRef(v)
                                                 : StringRef();
    if (!init.empty() && isIdentifier(init.split('.').first) &&
        init.contains('.')) {
      const Const &source = consts[init.str()];
      if (!params.count(init.str())) {
        params[init.str()] =
            "buffer " + *type + "[" + joinInts(source.shape) + "]";
        weights.push_back(tensorOf(source, init));
      }
      return pathExpr(init) + (source.shape == c.shape
                                   ? ""
                                   : ".reshape(" + joinInts(c.shape) + ")");
    }
    std::string name = newName(n, 0) + "_const";
    names.insert(name);
    constBuffers.push_back("buffer " + name + ": " + *type + "[" +
                           joinInts(c.shape) + "] = zeros  # " + v);
    weights.push_back(tensorOf(c, name));
    constants.push_back(name);
    exprs[v] = name;
    return name;
  }
  if (auto it = inits.find(v); it != inits.end()) {
    if (!isIdentifier(StringRef(v).split('.').first))
      return nodeError(n, "the initializer '" + v +
                              "' has a name whose first part is not a "
                              "name the model language can declare");
    if (!params.count(v)) {
      auto type = graftType(it->second->data_type());
      if (!type || isIntType(it->second->data_type()))
        return nodeError(n, "the initializer '" + v + "' of type " +
                                typeName(it->second->data_type()) +
                                " is not a parameter Graft can train");
      params[v] = std::string(differentiable.count(v) ? "param " : "buffer ") +
                  *type + "[" +
                  joinInts(std::vector<int64_t>(it->second->dims().begin(),
                                                it->second->dims().end())) +
                  "]";
      auto w = weightOf(*it->second, v);
      if (!w)
        return w.takeError();
      weights.push_back(std::move(*w));
    }
    return pathExpr(v);
  }
  return nodeError(n, "reads '" + v + "', which no earlier node writes");
}

std::string
Importer::claimModule(const onnx::NodeProto &n,
                      llvm::ArrayRef<std::pair<int, StringRef>> tensors) {
  std::string prefix;
  for (auto [i, suffix] : tensors) {
    if (i >= n.input_size() || n.input(i).empty())
      continue;
    StringRef v = n.input(i);
    if (!inits.count(v.str()) || consts.count(v.str()) ||
        !v.ends_with(("." + suffix).str()) || uses[v.str()] != 1 ||
        params.count(v.str()))
      return "";
    std::string p = v.drop_back(suffix.size() + 1).str();
    if (!prefix.empty() && p != prefix)
      return "";
    prefix = p;
  }
  if (prefix.empty() || moduleCtors.count(prefix) ||
      !isIdentifier(StringRef(prefix).split('.').first))
    return "";
  for (auto [i, suffix] : tensors)
    if (i < n.input_size() && !n.input(i).empty())
      claimedBy[n.input(i)] = prefix;
  return prefix;
}

// --- folding --------------------------------------------------------------

/// Constants folded at import hold at most this many values; larger ones
/// are left to the generated code.
constexpr int64_t kMaxFolded = int64_t(1) << 24;

/// Element-wise `f` over `a` and `b` broadcast as numpy does (the caller
/// checked their shapes with `broadcastable`).
Const broadcast(const Const &a, const Const &b,
                const std::function<double(double, double)> &f) {
  size_t rank = std::max(a.shape.size(), b.shape.size());
  auto padded = [&](const Const &c) {
    std::vector<int64_t> s(rank - c.shape.size(), 1);
    s.insert(s.end(), c.shape.begin(), c.shape.end());
    return s;
  };
  std::vector<int64_t> sa = padded(a), sb = padded(b), out(rank);
  for (size_t d = 0; d < rank; ++d)
    out[d] = sa[d] == 1 ? sb[d] : sa[d];
  Const r;
  r.dtype = a.dtype;
  r.shape = out;
  int64_t n = 1;
  for (int64_t d : out)
    n *= d;
  r.values.resize(n);
  for (int64_t k = 0; k < n; ++k) {
    int64_t rem = k, ia = 0, ib = 0, sta = 1, stb = 1;
    for (size_t d = rank; d-- > 0;) {
      int64_t idx = rem % out[d];
      rem /= out[d];
      ia += (sa[d] == 1 ? 0 : idx) * sta;
      ib += (sb[d] == 1 ? 0 : idx) * stb;
      sta *= sa[d];
      stb *= sb[d];
    }
    r.values[k] = f(a.values[ia], b.values[ib]);
  }
  return r;
}

/// The `axis` attribute of `n` (default `dflt`) over `rank` dimensions,
/// negative counted from the end, checked to lie in [0, `hi`].
llvm::Expected<int64_t> Importer::axisAttr(const onnx::NodeProto &n,
                                           int64_t dflt, int64_t rank,
                                           int64_t hi) const {
  int64_t given = attrInt(n, "axis", dflt);
  int64_t axis = given < 0 ? given + rank : given;
  if (axis < 0 || axis > hi)
    return nodeError(n, "axis " + Twine(given) + " out of range");
  return axis;
}

/// Whether `shapes` broadcast together to at most kMaxFolded values.
bool broadcastShapes(llvm::ArrayRef<std::vector<int64_t>> shapes) {
  std::vector<int64_t> out;
  for (const auto &s : shapes) {
    if (s.size() > out.size())
      out.insert(out.begin(), s.size() - out.size(), 1);
    for (size_t k = 0; k < s.size(); ++k) {
      int64_t &o = out[out.size() - s.size() + k];
      if (s[k] != 1 && o != 1 && s[k] != o)
        return false;
      if (o == 1)
        o = s[k];
    }
  }
  int64_t numel = 1;
  for (int64_t d : out) {
    if (d && numel > kMaxFolded / d)
      return false;
    numel *= d;
  }
  return true;
}

/// Whether the constant inputs of `n` broadcast together to at most
/// kMaxFolded values.
bool Importer::broadcastable(const onnx::NodeProto &n) {
  std::vector<std::vector<int64_t>> shapes;
  for (const auto &i : n.input())
    shapes.push_back(consts[i].shape);
  return broadcastShapes(shapes);
}

int64_t normAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

/// The indices ONNX's Slice keeps along a dimension of `len` elements
/// (`start` and `end` negative from the end, clamped; `step` not 0).
std::vector<int64_t> sliceIndices(int64_t len, int64_t start, int64_t end,
                                  int64_t step) {
  auto norm = [&](int64_t x) { return x < 0 ? std::max(x, -len) + len : x; };
  std::vector<int64_t> kept;
  if (step > 0) {
    int64_t b = std::min(norm(start), len), e = std::min(norm(end), len);
    for (int64_t k = b; k<e; k = step> e - k ? e : k + step)
      kept.push_back(k);
  } else {
    int64_t b = std::min(norm(start), len - 1);
    int64_t e = end < -len ? -1 : std::min(norm(end), len - 1);
    for (int64_t k = b; k > e; k = step < e - k ? e : k + step)
      kept.push_back(k);
  }
  return kept;
}

/// Folds `n` when all its inputs are constants (or it is Shape of a value
/// of known shape). Returns false when it does not fold.
llvm::Expected<bool> Importer::fold(const onnx::NodeProto &n) {
  StringRef op = n.op_type();
  if (op == "Shape") {
    auto it = types.find(n.input(0));
    if (it == types.end())
      return false;
    const auto &s = it->second.second;
    int64_t rank = s.size();
    int64_t start =
        std::clamp(normAxis(attrInt(n, "start", 0), rank), int64_t(0), rank);
    int64_t end =
        std::clamp(normAxis(attrInt(n, "end", rank), rank), int64_t(0), rank);
    Const c;
    c.dtype = onnx::TensorProto::INT64;
    for (int64_t d = start; d < end; ++d)
      c.values.push_back((double)s[d]);
    c.shape = {(int64_t)c.values.size()};
    consts[n.output(0)] = c;
    return true;
  }
  for (const auto &i : n.input())
    if (!i.empty() && !consts.count(i))
      return false;
  static const llvm::StringSet<> foldable = {"Constant",
                                             "Identity",
                                             "Cast",
                                             "Gather",
                                             "Unsqueeze",
                                             "Squeeze",
                                             "Concat",
                                             "Slice",
                                             "Reshape",
                                             "Add",
                                             "Sub",
                                             "Mul",
                                             "Div",
                                             "Mod",
                                             "Equal",
                                             "Where",
                                             "ConstantOfShape",
                                             "Range",
                                             "Neg",
                                             "Sqrt",
                                             "Transpose",
                                             "ScatterND",
                                             "Expand",
                                             "Not"};
  if (!foldable.contains(op) || n.output_size() != 1)
    return false;
  Const r;
  auto in = [&](int i) -> const Const & { return consts[n.input(i)]; };
  if (op == "Constant") {
    const auto &a = n.attribute(0);
    if (a.name() == "value") {
      auto c = decode(a.t());
      if (!c)
        return nodeError(n, llvm::toString(c.takeError()));
      r = *c;
    } else if (a.name() == "value_float" || a.name() == "value_int") {
      r.dtype = a.name() == "value_float" ? onnx::TensorProto::FLOAT
                                          : onnx::TensorProto::INT64;
      r.values = {a.name() == "value_float" ? (double)a.f() : (double)a.i()};
    } else if (a.name() == "value_ints" || a.name() == "value_floats") {
      r.dtype = a.name() == "value_floats" ? onnx::TensorProto::FLOAT
                                           : onnx::TensorProto::INT64;
      if (a.name() == "value_ints")
        r.values.assign(a.ints().begin(), a.ints().end());
      else
        r.values.assign(a.floats().begin(), a.floats().end());
      r.shape = {(int64_t)r.values.size()};
    } else {
      return nodeError(n, "a Constant given by '" + a.name() +
                              "' is not supported");
    }
  } else if (op == "Identity") {
    r = in(0);
  } else if (op == "Cast") {
    r = in(0);
    r.dtype = attrInt(n, "to", 0);
    if (isIntType(r.dtype))
      for (double &x : r.values)
        x = r.dtype == onnx::TensorProto::BOOL ? (x != 0) : std::trunc(x);
  } else if (op == "Neg" || op == "Sqrt" || op == "Not") {
    r = in(0);
    for (double &x : r.values)
      x = op == "Neg" ? -x : op == "Not" ? x == 0 : std::sqrt(x);
  } else if (op == "Gather") {
    const Const &d = in(0), &idx = in(1);
    int64_t rank = d.shape.size();
    int64_t axis = normAxis(attrInt(n, "axis", 0), rank);
    if (axis < 0 || axis >= rank)
      return nodeError(n, "axis out of range");
    int64_t outer = 1, inner = 1;
    for (int64_t k = 0; k < axis; ++k)
      outer *= d.shape[k];
    for (int64_t k = axis + 1; k < rank; ++k)
      inner *= d.shape[k];
    if ((double)outer * idx.numel() * inner > kMaxFolded)
      return false;
    r.dtype = d.dtype;
    r.shape.assign(d.shape.begin(), d.shape.begin() + axis);
    r.shape.insert(r.shape.end(), idx.shape.begin(), idx.shape.end());
    r.shape.insert(r.shape.end(), d.shape.begin() + axis + 1, d.shape.end());
    for (int64_t o = 0; o < outer; ++o)
      for (double iv : idx.values) {
        int64_t k = toInt64(iv) < 0 ? toInt64(iv) + d.shape[axis] : toInt64(iv);
        if (k < 0 || k >= d.shape[axis])
          return nodeError(n, "index " + Twine(toInt64(iv)) + " out of range");
        for (int64_t j = 0; j < inner; ++j)
          r.values.push_back(d.values[(o * d.shape[axis] + k) * inner + j]);
      }
  } else if (op == "Unsqueeze" || op == "Squeeze") {
    r = in(0);
    std::vector<int64_t> axes;
    if (n.input_size() > 1) {
      auto a = intsInput(n, 1);
      if (!a)
        return a.takeError();
      axes = *a;
    }
    if (op == "Unsqueeze") {
      int64_t rank = r.shape.size() + axes.size();
      for (int64_t &a : axes)
        a = normAxis(a, rank);
      llvm::sort(axes);
      for (int64_t a : axes)
        r.shape.insert(r.shape.begin() + std::min<int64_t>(a, r.shape.size()),
                       1);
    } else {
      int64_t rank = r.shape.size();
      for (int64_t &a : axes)
        a = normAxis(a, rank);
      std::vector<int64_t> s;
      for (int64_t k = 0; k < rank; ++k)
        if (axes.empty() ? r.shape[k] != 1 : !llvm::is_contained(axes, k))
          s.push_back(r.shape[k]);
      r.shape = s;
    }
  } else if (op == "Concat") {
    // Blocks of `inner` values along the axis, `outer` times.
    r = in(0);
    int64_t rank = r.shape.size();
    int64_t axis = normAxis(attrInt(n, "axis", 0), rank);
    if (axis < 0 || axis >= rank)
      return nodeError(n, "axis out of range");
    int64_t outer = 1;
    for (int64_t k = 0; k < axis; ++k)
      outer *= r.shape[k];
    std::vector<int64_t> inner(n.input_size(), 1);
    for (int i = 0; i < n.input_size(); ++i) {
      const auto &si = in(i).shape;
      if ((int64_t)si.size() != rank)
        return nodeError(n, "inputs of different ranks");
      for (int64_t k = 0; k < rank; ++k)
        if (k != axis && si[k] != r.shape[k])
          return nodeError(n, "inputs differ in dimension " + Twine(k));
      for (int64_t k = axis; k < rank; ++k)
        inner[i] *= si[k];
      if (i)
        r.shape[axis] += si[axis];
    }
    r.values.clear();
    for (int64_t o = 0; o < outer; ++o)
      for (int i = 0; i < n.input_size(); ++i)
        r.values.insert(r.values.end(), in(i).values.begin() + o * inner[i],
                        in(i).values.begin() + (o + 1) * inner[i]);
  } else if (op == "Expand") {
    auto target = intsInput(n, 1);
    if (!target)
      return target.takeError();
    Const shape;
    shape.shape = *target;
    int64_t numel = 1;
    for (int64_t d : *target) {
      if (d < 0 || (d && numel > kMaxFolded / d))
        return false;
      numel *= d;
    }
    shape.values.assign(numel, 0);
    if (!broadcastShapes({in(0).shape, shape.shape}))
      return false;
    r = broadcast(in(0), shape, [](double a, double) { return a; });
  } else if (op == "ScatterND") {
    // Constant masks built by assignments (swin's shifted windows).
    const Const &idx = in(1), &updates = in(2);
    r = in(0);
    int64_t rank = r.shape.size();
    if (idx.shape.empty() || attr(n, "reduction"))
      return false;
    int64_t depth = idx.shape.back();
    if (depth < 1 || depth > rank)
      return nodeError(n, "indices of depth " + Twine(depth) + " for rank " +
                              Twine(rank));
    int64_t slice = 1;
    for (int64_t k = depth; k < rank; ++k)
      slice *= r.shape[k];
    int64_t count = idx.numel() / depth;
    if (updates.numel() != count * slice)
      return nodeError(n, "updates hold " + Twine(updates.numel()) +
                              " values for " + Twine(count * slice));
    for (int64_t u = 0; u < count; ++u) {
      int64_t offset = 0;
      for (int64_t k = 0; k < depth; ++k) {
        int64_t at = toInt64(idx.values[u * depth + k]);
        at = at < 0 ? at + r.shape[k] : at;
        if (at < 0 || at >= r.shape[k])
          return nodeError(n, "index " + Twine(at) + " out of range");
        offset = offset * r.shape[k] + at;
      }
      std::copy_n(updates.values.begin() + u * slice, slice,
                  r.values.begin() + offset * slice);
    }
  } else if (op == "Slice" || op == "Transpose") {
    // Each output element's source: the indices kept along each axis.
    const Const &d = in(0);
    int64_t rank = d.shape.size();
    std::vector<std::vector<int64_t>> kept(rank);
    std::vector<int64_t> perm(rank);
    for (int64_t k = 0; k < rank; ++k) {
      perm[k] = op == "Transpose" ? rank - 1 - k : k;
      for (int64_t x = 0; x < d.shape[k]; ++x)
        kept[k].push_back(x);
    }
    if (op == "Transpose") {
      perm = attrInts(n, "perm", perm);
      if ((int64_t)perm.size() != rank)
        return nodeError(n, "perm has " + Twine(perm.size()) + " entries");
      for (int64_t p : perm)
        if (p < 0 || p >= rank)
          return nodeError(n, "perm entry " + Twine(p) + " out of range");
    } else {
      auto starts = intsInput(n, 1), ends = intsInput(n, 2);
      if (!starts || !ends)
        return llvm::joinErrors(starts.takeError(), ends.takeError());
      std::vector<int64_t> axes, steps(starts->size(), 1);
      for (size_t k = 0; k < starts->size(); ++k)
        axes.push_back(k);
      for (auto [input, values] :
           {std::pair<int, std::vector<int64_t> *>{3, &axes}, {4, &steps}})
        if (n.input_size() > input && !n.input(input).empty()) {
          auto c = intsInput(n, input);
          if (!c)
            return c.takeError();
          *values = *c;
        }
      if (axes.size() != starts->size() || ends->size() != starts->size() ||
          steps.size() != starts->size())
        return nodeError(n, "starts, ends, axes and steps differ in length");
      for (size_t k = 0; k < axes.size(); ++k) {
        int64_t axis = normAxis(axes[k], rank);
        if (axis < 0 || axis >= rank || steps[k] == 0)
          return nodeError(n, "axis " + Twine(axes[k]) + " or step " +
                                  Twine(steps[k]) + " out of range");
        kept[axis] =
            sliceIndices(d.shape[axis], (*starts)[k], (*ends)[k], steps[k]);
      }
    }
    r.dtype = d.dtype;
    int64_t numel = 1;
    for (int64_t k = 0; k < rank; ++k) {
      r.shape.push_back(kept[perm[k]].size());
      numel *= r.shape.back();
    }
    std::vector<int64_t> strides(rank, 1);
    for (int64_t k = rank - 1; k > 0; --k)
      strides[k - 1] = strides[k] * d.shape[k];
    for (int64_t flat = 0; flat < numel; ++flat) {
      int64_t rem = flat, source = 0;
      for (int64_t k = rank; k-- > 0;) {
        int64_t at = rem % r.shape[k];
        rem /= r.shape[k];
        source += kept[perm[k]][at] * strides[perm[k]];
      }
      r.values.push_back(d.values[source]);
    }
  } else if (op == "Reshape") {
    r = in(0);
    auto s = intsInput(n, 1);
    if (!s)
      return s.takeError();
    int64_t known = 1, infer = -1;
    r.shape.clear();
    for (auto [k, d] : llvm::enumerate(*s)) {
      if (d == -1)
        infer = k;
      else
        known *= d == 0 ? in(0).shape[k] : d;
      r.shape.push_back(d == 0 ? in(0).shape[k] : d);
    }
    if (infer >= 0)
      r.shape[infer] = known ? r.numel() / known : 0;
  } else if ((op == "Add" || op == "Sub" || op == "Mul" || op == "Div" ||
              op == "Mod" || op == "Equal" || op == "Where") &&
             !broadcastable(n)) {
    return false;
  } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" ||
             op == "Mod" || op == "Equal") {
    bool isInt = isIntType(in(0).dtype);
    // Mod: the sign of the divisor's (Python's %), or of the dividend's
    // with fmod=1 (C's fmod).
    bool fmod = attrInt(n, "fmod", 0);
    r = broadcast(in(0), in(1), [&](double a, double b) -> double {
      if (op == "Add")
        return a + b;
      if (op == "Sub")
        return a - b;
      if (op == "Mul")
        return a * b;
      if (op == "Equal")
        return a == b;
      if (op == "Mod") {
        if (b == 0)
          return 0;
        double r = std::fmod(a, b);
        return !fmod && r != 0 && (r < 0) != (b < 0) ? r + b : r;
      }
      return isInt ? (b ? std::trunc(a / b) : 0) : a / b;
    });
    if (op == "Equal")
      r.dtype = onnx::TensorProto::BOOL;
  } else if (op == "Where") {
    Const ab = broadcast(in(1), in(2), [](double a, double) { return a; });
    Const c = broadcast(in(0), ab, [](double c, double) { return c; });
    Const a = broadcast(in(1), c, [](double a, double) { return a; });
    Const b = broadcast(in(2), c, [](double b, double) { return b; });
    r = a;
    for (size_t k = 0; k < r.values.size(); ++k)
      r.values[k] = c.values[k] ? a.values[k] : b.values[k];
  } else if (op == "ConstantOfShape") {
    auto s = intsInput(n, 0);
    if (!s)
      return s.takeError();
    int64_t numel = 1;
    for (int64_t d : *s) {
      if (d < 0)
        return nodeError(n, "a negative size " + Twine(d));
      if (d && numel > kMaxFolded / d)
        return false;
      numel *= d;
    }
    r.shape = *s;
    r.dtype = onnx::TensorProto::FLOAT;
    double v = 0;
    if (const auto *a = attr(n, "value")) {
      auto c = decode(a->t());
      if (!c)
        return c.takeError();
      r.dtype = c->dtype;
      v = c->values.empty() ? 0 : c->values[0];
    }
    r.values.assign(numel, v);
  } else if (op == "Range") {
    double start = in(0).values[0], limit = in(1).values[0],
           delta = in(2).values[0];
    if (delta == 0 || std::isnan(start) || std::isnan(limit) ||
        std::isnan(delta))
      return nodeError(n, "Range from " + formatDouble(start) + " to " +
                              formatDouble(limit) + " by " +
                              formatDouble(delta));
    if (std::ceil((limit - start) / delta) > kMaxFolded)
      return false;
    r.dtype = in(0).dtype;
    for (double x = start; delta > 0 ? x < limit : x > limit; x += delta)
      r.values.push_back(x);
    r.shape = {(int64_t)r.values.size()};
  }
  if (r.numel() > kMaxFolded)
    return false;
  // An initializer only reshaped (swin's relative_position_index.view(-1))
  // stays the registered buffer it is when the model reads it.
  static const llvm::StringSet<> reshaping = {"Identity", "Reshape", "Squeeze",
                                              "Unsqueeze", "Flatten"};
  if (reshaping.contains(op) && r.dtype == in(0).dtype) {
    auto origin = constOrigin.find(n.input(0));
    if (origin != constOrigin.end())
      constOrigin[n.output(0)] = origin->second;
    else if (inits.count(n.input(0)))
      constOrigin[n.output(0)] = n.input(0);
  }
  consts[n.output(0)] = std::move(r);
  return true;
}

// --- statements -----------------------------------------------------------

llvm::Error Importer::importNode(const onnx::NodeProto &n) {
  auto folded = fold(n);
  if (!folded)
    return folded.takeError();
  if (*folded)
    return llvm::Error::success();
  return emitNode(n);
}

/// The attributes each op is imported with; any other is an error, not
/// dropped (storage_order only orders MaxPool's indices, which are refused
/// when read; stash_type is LayerNormalization's internal precision).
const llvm::StringMap<llvm::StringSet<>> &knownAttributes() {
  static const llvm::StringMap<llvm::StringSet<>> known = {
      {"Conv",
       {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}},
      {"Gemm", {"alpha", "beta", "transA", "transB"}},
      {"BatchNormalization", {"epsilon", "momentum", "training_mode"}},
      {"LayerNormalization", {"axis", "epsilon", "stash_type"}},
      {"MaxPool",
       {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads",
        "storage_order", "strides"}},
      {"AveragePool",
       {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads",
        "strides"}},
      {"Dropout", {"seed"}},
      {"Flatten", {"axis"}},
      {"Transpose", {"perm"}},
      {"Softmax", {"axis"}},
      {"LogSoftmax", {"axis"}},
      {"ReduceMean", {"axes", "keepdims"}},
      {"ReduceMax", {"axes", "keepdims"}},
      {"ReduceSum", {"keepdims", "noop_with_empty_axes"}},
      {"Concat", {"axis"}},
      {"Split", {"axis"}},
      {"Gather", {"axis"}},
      {"Cast", {"to"}},
      {"LeakyRelu", {"alpha"}},
      {"HardSigmoid", {"alpha", "beta"}},
      {"Pad", {"mode"}},
      {"Reshape", {"allowzero"}},
      {"SoftmaxCrossEntropyLoss", {"ignore_index", "reduction"}},
      {"NegativeLogLikelihoodLoss", {"ignore_index", "reduction"}},
  };
  return known;
}

llvm::Error Importer::emitNode(const onnx::NodeProto &n) {
  StringRef op = n.op_type();
  auto x = [&](int i) { return operand(n, i); };
  // An optional input: None when the node leaves it out.
  auto xOrNone = [&](int i) -> llvm::Expected<std::string> {
    if (i >= n.input_size() || n.input(i).empty())
      return std::string("None");
    return operand(n, i);
  };
  // The node as a call of the module `p` it claimed, built by `ctor`.
  auto callModule = [&](const std::string &p, std::string ctor,
                        const std::string &arg) {
    moduleCtors[p] = std::move(ctor);
    assign(n, 0, pathExpr(p) + "(" + arg + ")", /*moduleCall=*/true);
    return llvm::Error::success();
  };
  const auto &known = knownAttributes();
  for (const auto &a : n.attribute()) {
    auto it = known.find(op);
    if (it == known.end() || !it->second.contains(a.name()))
      return nodeError(n, "its attribute '" + a.name() +
                              "' is not supported by graft import");
  }
  // Outputs beyond the first that anything reads: an error unless the op
  // below writes them.
  auto onlyFirstOutputUsed = [&]() -> llvm::Error {
    for (int k = 1; k < n.output_size(); ++k)
      if (!n.output(k).empty() && uses[n.output(k)])
        return nodeError(n, "its output " + Twine(k) + " ('" + n.output(k) +
                                "') is read, which graft import does not "
                                "support");
    return llvm::Error::success();
  };
  auto pads2 = [&](std::vector<int64_t> &pads, size_t rank) -> llvm::Error {
    if (attr(n, "auto_pad") && attr(n, "auto_pad")->s() != "NOTSET")
      return nodeError(n, "auto_pad '" + attr(n, "auto_pad")->s() +
                              "' is not supported: export with explicit pads");
    pads = attrInts(n, "pads", std::vector<int64_t>(2 * rank, 0));
    for (size_t d = 0; d < rank; ++d)
      if (pads[d] != pads[d + rank])
        return nodeError(n, "its pads [" + joinInts(pads) +
                                "] differ at the start and the end of a "
                                "dimension; Graft pads both ends alike");
    pads.resize(rank);
    return llvm::Error::success();
  };

  static const std::map<std::string, std::string> unary = {
      {"Relu", "F.relu"},           {"Sigmoid", "torch.sigmoid"},
      {"Tanh", "torch.tanh"},       {"Erf", "torch.erf"},
      {"Exp", "torch.exp"},         {"Log", "torch.log"},
      {"Sqrt", "torch.sqrt"},       {"Abs", "torch.abs"},
      {"Sin", "torch.sin"},         {"Cos", "torch.cos"},
      {"HardSwish", "F.hardswish"}, {"Softplus", "F.softplus"}};
  static const std::map<std::string, std::string> binary = {
      {"Add", "+"},          {"Sub", "-"},
      {"Mul", "*"},          {"Div", "/"},
      {"Pow", "**"},         {"Equal", "=="},
      {"Less", "<"},         {"Greater", ">"},
      {"LessOrEqual", "<="}, {"GreaterOrEqual", ">="}};

  if (auto it = unary.find(op.str()); it != unary.end()) {
    auto a = x(0);
    if (!a)
      return a.takeError();
    assign(n, 0, it->second + "(" + *a + ")");
    return llvm::Error::success();
  }
  if (auto it = binary.find(op.str()); it != binary.end()) {
    auto a = x(0), b = x(1);
    if (!a || !b)
      return llvm::joinErrors(a.takeError(), b.takeError());
    if (op == "Div" && isIntType(types[n.input(0)].first))
      return nodeError(n, "integer division of tensors is not supported");
    assign(n, 0, *a + " " + it->second + " " + *b);
    return llvm::Error::success();
  }
  if (op == "Neg" || op == "Reciprocal") {
    auto a = x(0);
    if (!a)
      return a.takeError();
    assign(n, 0, op == "Neg" ? "-" + *a : "1.0 / " + *a);
    return llvm::Error::success();
  }
  if (op == "HardSigmoid") {
    auto a = x(0);
    if (!a)
      return a.takeError();
    float alpha = attrFloat(n, "alpha", 0.2f),
          beta = attrFloat(n, "beta", 0.5f);
    if (alpha == 1.0f / 6 && beta == 0.5f)
      assign(n, 0, "F.hardsigmoid(" + *a + ")");
    else
      assign(n, 0,
             "torch.clamp(" + *a + " * " + formatFloat(alpha) + " + " +
                 formatFloat(beta) + ", min=0.0, max=1.0)");
    return llvm::Error::success();
  }
  if (op == "Pad") {
    auto a = x(0);
    auto pads = intsInput(n, 1);
    if (!a || !pads)
      return llvm::joinErrors(a.takeError(), pads.takeError());
    // PyTorch writes a Pad of zeros before an average pooling.
    if (llvm::any_of(*pads, [](int64_t p) { return p != 0; }))
      return nodeError(n, "padding [" + joinInts(*pads) +
                              "] is not supported (a Pad of zeros is)");
    exprs[n.output(0)] = *a;
    return llvm::Error::success();
  }
  if (op == "LeakyRelu") {
    auto a = x(0);
    if (!a)
      return a.takeError();
    assign(n, 0,
           "F.leaky_relu(" + *a + ", " +
               formatFloat(attrFloat(n, "alpha", 0.01f)) + ")");
    return llvm::Error::success();
  }
  if (op == "Identity") {
    auto a = x(0);
    if (!a)
      return a.takeError();
    exprs[n.output(0)] = *a;
    return llvm::Error::success();
  }
  if (op == "Max" || op == "Min") {
    if (n.input_size() != 2)
      return nodeError(n, "only two inputs are supported");
    auto a = x(0), b = x(1);
    if (!a || !b)
      return llvm::joinErrors(a.takeError(), b.takeError());
    assign(n, 0,
           std::string(op == "Max" ? "torch.maximum(" : "torch.minimum(") + *a +
               ", " + *b + ")");
    return llvm::Error::success();
  }
  if (op == "Clip") {
    auto a = x(0);
    if (!a)
      return a.takeError();
    std::string args;
    for (auto [k, kw] : {std::pair<int, StringRef>{1, "min"}, {2, "max"}})
      if (n.input_size() > k && !n.input(k).empty()) {
        auto c = constInput(n, k);
        if (!c)
          return c.takeError();
        args += ", " + kw.str() + "=" + formatFloat(toFloat(c->values[0]));
      }
    assign(n, 0, "torch.clamp(" + *a + args + ")");
    return llvm::Error::success();
  }
  if (op == "Where") {
    auto c = x(0), a = x(1), b = x(2);
    if (!c || !a || !b)
      return llvm::joinErrors(llvm::joinErrors(c.takeError(), a.takeError()),
                              b.takeError());
    assign(n, 0, "torch.where(" + *c + ", " + *a + ", " + *b + ")");
    return llvm::Error::success();
  }
  if (op == "MatMul") {
    auto a = x(0), b = x(1);
    if (!a || !b)
      return llvm::joinErrors(a.takeError(), b.takeError());
    assign(n, 0, *a + " @ " + *b);
    return llvm::Error::success();
  }
  if (op == "Gemm") {
    float alpha = attrFloat(n, "alpha", 1), beta = attrFloat(n, "beta", 1);
    bool transA = attrInt(n, "transA", 0), transB = attrInt(n, "transB", 0);
    auto a = x(0);
    if (!a)
      return a.takeError();
    if (alpha == 1 && beta == 1 && !transA && transB) {
      std::string p = claimModule(n, {{1, "weight"}, {2, "bias"}});
      if (!p.empty()) {
        const auto &w = inits[n.input(1)]->dims();
        bool bias = n.input_size() > 2 && !n.input(2).empty();
        if (w.size() == 2) {
          return callModule(p,
                            "nn.Linear(" + std::to_string(w[1]) + ", " +
                                std::to_string(w[0]) +
                                (bias ? "" : ", bias=False") + ")",
                            *a);
        }
      }
    }
    auto b = x(1);
    if (!b)
      return b.takeError();
    std::string e =
        (transA ? *a + ".T" : *a) + " @ " + (transB ? *b + ".T" : *b);
    if (alpha != 1)
      e = formatFloat(alpha) + " * (" + e + ")";
    if (n.input_size() > 2 && !n.input(2).empty()) {
      auto c = x(2);
      if (!c)
        return c.takeError();
      e += " + " + (beta != 1 ? formatFloat(beta) + " * " + *c : *c);
    }
    assign(n, 0, e);
    return llvm::Error::success();
  }
  if (op == "Conv") {
    auto a = x(0);
    if (!a)
      return a.takeError();
    auto ws = shapeOf(n, n.input(1));
    if (!ws)
      return ws.takeError();
    size_t rank = ws->size() - 2;
    if (rank != 1 && rank != 2)
      return nodeError(n, Twine(rank) +
                              "-d convolutions are not supported (1-d and "
                              "2-d are)");
    std::vector<int64_t> pads;
    if (auto err = pads2(pads, rank))
      return err;
    std::vector<int64_t> ones(rank, 1);
    auto strides = attrInts(n, "strides", ones),
         dil = attrInts(n, "dilations", ones);
    int64_t groups = attrInt(n, "group", 1);
    std::vector<int64_t> k(ws->begin() + 2, ws->end());
    std::string opts2;
    if (strides != ones)
      opts2 += ", stride=" + sizeArg(strides);
    if (llvm::any_of(pads, [](int64_t p) { return p != 0; }))
      opts2 += ", padding=" + sizeArg(pads);
    if (dil != ones)
      opts2 += ", dilation=" + sizeArg(dil);
    if (groups != 1)
      opts2 += ", groups=" + std::to_string(groups);
    bool bias = n.input_size() > 2 && !n.input(2).empty();
    std::string p = claimModule(n, {{1, "weight"}, {2, "bias"}});
    if (!p.empty()) {
      return callModule(p,
                        std::string(rank == 2 ? "nn.Conv2d(" : "nn.Conv1d(") +
                            std::to_string((*ws)[1] * groups) + ", " +
                            std::to_string((*ws)[0]) + ", " + sizeArg(k) +
                            opts2 + (bias ? "" : ", bias=False") + ")",
                        *a);
    }
    auto w = x(1), b = xOrNone(2);
    if (!w || !b)
      return llvm::joinErrors(w.takeError(), b.takeError());
    assign(n, 0,
           std::string(rank == 2 ? "F.conv2d(" : "F.conv1d(") + *a + ", " + *w +
               ", " + *b + opts2 + ")");
    return llvm::Error::success();
  }
  if (op == "BatchNormalization") {
    if (auto err = onlyFirstOutputUsed())
      return err;
    auto a = x(0);
    if (!a)
      return a.takeError();
    auto s = shapeOf(n, n.input(0));
    if (!s)
      return s.takeError();
    std::string p = claimModule(
        n,
        {{1, "weight"}, {2, "bias"}, {3, "running_mean"}, {4, "running_var"}});
    if (p.empty() || s->size() < 2 || s->size() > 4)
      return nodeError(
          n, "a batch norm is imported as PyTorch's BatchNorm1d/2d: its "
             "scale, bias, mean and variance must be initializers "
             "P.weight, P.bias, P.running_mean and P.running_var read by "
             "this node alone, over a 2-d to 4-d input (export the model "
             "with training=torch.onnx.TrainingMode.TRAINING)");
    // ONNX's momentum weighs the running statistic, PyTorch's the batch's.
    float m = attrFloat(n, "momentum", 0.9f);
    double torchMomentum = 1.0 - std::strtod(formatFloat(m).c_str(), nullptr);
    std::string momentum =
        llvm::formatv("{0}", llvm::format("%.10g", torchMomentum)).str();
    std::string optsStr;
    float eps = attrFloat(n, "epsilon", 1e-5f);
    if (eps != 1e-5f)
      optsStr += ", eps=" + formatFloat(eps);
    if (momentum != "0.1")
      optsStr += ", momentum=" + momentum;
    // The state_dict's counter, which ONNX does not carry.
    NamedTensor counter;
    counter.name = p + ".num_batches_tracked";
    counter.type = ElementType::I64;
    counter.bytes.assign(8, 0);
    weights.push_back(counter);
    return callModule(
        p,
        std::string(s->size() == 4 ? "nn.BatchNorm2d(" : "nn.BatchNorm1d(") +
            std::to_string((*s)[1]) + optsStr + ")",
        *a);
  }
  if (op == "LayerNormalization") {
    if (auto err = onlyFirstOutputUsed())
      return err;
    auto a = x(0);
    auto s = shapeOf(n, n.input(0));
    if (!a || !s)
      return llvm::joinErrors(a.takeError(), s.takeError());
    auto axisOr = axisAttr(n, -1, s->size(), s->size() - 1);
    if (!axisOr)
      return axisOr.takeError();
    int64_t axis = *axisOr;
    std::vector<int64_t> normalized(s->begin() + axis, s->end());
    std::string eps = formatFloat(attrFloat(n, "epsilon", 1e-5f));
    std::string p = claimModule(n, {{1, "weight"}, {2, "bias"}});
    bool bias = n.input_size() > 2 && !n.input(2).empty();
    if (!p.empty()) {
      return callModule(p,
                        "nn.LayerNorm(" + sizeArg(normalized) +
                            (eps == "1e-05" ? "" : ", eps=" + eps) +
                            (bias ? "" : ", bias=False") + ")",
                        *a);
    }
    auto w = x(1), b = xOrNone(2);
    if (!w || !b)
      return llvm::joinErrors(w.takeError(), b.takeError());
    assign(n, 0,
           "F.layer_norm(" + *a + ", [" + joinInts(normalized) + "], " + *w +
               ", " + *b + ", eps=" + eps + ")");
    return llvm::Error::success();
  }
  if (op == "Dropout") {
    if (auto err = onlyFirstOutputUsed())
      return err;
    auto a = x(0);
    if (!a)
      return a.takeError();
    double ratio = 0.5;
    if (n.input_size() > 1 && !n.input(1).empty()) {
      auto c = constInput(n, 1);
      if (!c)
        return c.takeError();
      ratio = c->values[0];
    }
    bool training = false;
    if (n.input_size() > 2 && !n.input(2).empty()) {
      auto c = constInput(n, 2);
      if (!c)
        return c.takeError();
      training = c->values[0] != 0;
    }
    // Without training_mode ONNX's Dropout is the identity.
    if (!training) {
      exprs[n.output(0)] = *a;
      return llvm::Error::success();
    }
    assign(n, 0,
           "F.dropout(" + *a + ", p=" + formatFloat(toFloat(ratio)) + ")");
    return llvm::Error::success();
  }
  if (op == "MaxPool" || op == "AveragePool") {
    if (auto err = onlyFirstOutputUsed())
      return err;
    auto a = x(0);
    if (!a)
      return a.takeError();
    auto k = attrInts(n, "kernel_shape");
    if (k.size() != 2)
      return nodeError(n, "only 2-d pooling is supported");
    std::vector<int64_t> pads;
    if (auto err = pads2(pads, 2))
      return err;
    auto strides = attrInts(n, "strides", {1, 1});
    auto dil = attrInts(n, "dilations", {1, 1});
    std::string e =
        std::string(op == "MaxPool" ? "F.max_pool2d(" : "F.avg_pool2d(") + *a +
        ", " + sizeArg(k);
    if (strides != k)
      e += ", stride=" + sizeArg(strides);
    if (pads != std::vector<int64_t>{0, 0})
      e += ", padding=" + sizeArg(pads);
    if (dil != std::vector<int64_t>{1, 1})
      e += ", dilation=" + sizeArg(dil);
    if (attrInt(n, "ceil_mode", 0))
      e += ", ceil_mode=True";
    if (op == "AveragePool" && pads != std::vector<int64_t>{0, 0} &&
        !attrInt(n, "count_include_pad", 0))
      return nodeError(n, "average pooling that leaves the padding out of "
                          "the count (count_include_pad=0) is not supported");
    assign(n, 0, e + ")");
    return llvm::Error::success();
  }
  if (op == "GlobalAveragePool") {
    auto a = x(0);
    auto s = shapeOf(n, n.input(0));
    if (!a || !s)
      return llvm::joinErrors(a.takeError(), s.takeError());
    if (s->size() != 4)
      return nodeError(n, "only 4-d inputs are supported");
    assign(n, 0, "F.adaptive_avg_pool2d(" + *a + ", 1)");
    return llvm::Error::success();
  }
  if (op == "Flatten") {
    auto a = x(0);
    auto s = shapeOf(n, n.input(0));
    if (!a || !s)
      return llvm::joinErrors(a.takeError(), s.takeError());
    auto axisOr = axisAttr(n, 1, s->size(), s->size());
    if (!axisOr)
      return axisOr.takeError();
    int64_t axis = *axisOr;
    if (axis == 1)
      assign(n, 0, "torch.flatten(" + *a + ", 1)");
    else if (axis == 0)
      assign(n, 0, *a + ".reshape(1, -1)");
    else
      assign(n, 0,
             *a + ".flatten(0, " + std::to_string(axis - 1) + ").flatten(1)");
    return llvm::Error::success();
  }
  if (op == "Reshape" || op == "Expand") {
    auto a = x(0);
    auto out = shapeOf(n, n.output(0));
    if (!a || !out)
      return llvm::joinErrors(a.takeError(), out.takeError());
    assign(n, 0,
           *a + (op == "Reshape" ? ".reshape(" : ".expand(") + joinInts(*out) +
               ")");
    return llvm::Error::success();
  }
  if (op == "Transpose") {
    auto a = x(0);
    auto s = shapeOf(n, n.input(0));
    if (!a || !s)
      return llvm::joinErrors(a.takeError(), s.takeError());
    std::vector<int64_t> perm;
    for (int64_t d = s->size(); d-- > 0;)
      perm.push_back(d);
    perm = attrInts(n, "perm", perm);
    assign(n, 0, *a + ".permute(" + joinInts(perm) + ")");
    return llvm::Error::success();
  }
  if (op == "Softmax" || op == "LogSoftmax") {
    auto a = x(0);
    if (!a)
      return a.takeError();
    assign(n, 0,
           std::string(op == "Softmax" ? "F.softmax(" : "F.log_softmax(") + *a +
               ", dim=" + std::to_string(attrInt(n, "axis", -1)) + ")");
    return llvm::Error::success();
  }
  if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax") {
    auto a = x(0);
    auto s = shapeOf(n, n.input(0));
    if (!a || !s)
      return llvm::joinErrors(a.takeError(), s.takeError());
    std::vector<int64_t> axes = attrInts(n, "axes");
    if (op == "ReduceSum" && n.input_size() > 1 && !n.input(1).empty()) {
      auto c = intsInput(n, 1);
      if (!c)
        return c.takeError();
      axes = *c;
    }
    if (axes.empty()) {
      if (attrInt(n, "noop_with_empty_axes", 0)) {
        exprs[n.output(0)] = *a;
        return llvm::Error::success();
      }
      for (int64_t d = 0; d < (int64_t)s->size(); ++d)
        axes.push_back(d);
    }
    for (int64_t &d : axes)
      d = normAxis(d, s->size());
    llvm::sort(axes);
    std::string fn = op == "ReduceMean"  ? "mean"
                     : op == "ReduceSum" ? "sum"
                                         : "amax";
    std::string dims =
        axes.size() == 1 ? std::to_string(axes[0]) : "(" + joinInts(axes) + ")";
    assign(n, 0,
           "torch." + fn + "(" + *a + ", dim=" + dims +
               (attrInt(n, "keepdims", 1) ? ", keepdim=True" : "") + ")");
    return llvm::Error::success();
  }
  if (op == "Concat") {
    std::string list;
    for (int i = 0; i < n.input_size(); ++i) {
      auto a = x(i);
      if (!a)
        return a.takeError();
      list += (i ? ", " : "") + *a;
    }
    assign(n, 0,
           "torch.cat([" + list +
               "], dim=" + std::to_string(attrInt(n, "axis", 0)) + ")");
    return llvm::Error::success();
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    auto a = x(0);
    auto s = shapeOf(n, n.input(0));
    if (!a || !s)
      return llvm::joinErrors(a.takeError(), s.takeError());
    std::vector<int64_t> axes;
    if (n.input_size() > 1 && !n.input(1).empty()) {
      auto c = intsInput(n, 1);
      if (!c)
        return c.takeError();
      axes = *c;
    }
    std::string e = *a;
    if (op == "Unsqueeze") {
      for (int64_t &d : axes)
        d = normAxis(d, s->size() + axes.size());
      llvm::sort(axes);
      for (int64_t d : axes)
        e += ".unsqueeze(" + std::to_string(d) + ")";
    } else {
      if (axes.empty())
        for (auto [d, size] : llvm::enumerate(*s))
          if (size == 1)
            axes.push_back(d);
      for (int64_t &d : axes)
        d = normAxis(d, s->size());
      llvm::sort(axes);
      for (int64_t d : llvm::reverse(axes))
        e += ".squeeze(" + std::to_string(d) + ")";
    }
    assign(n, 0, e);
    return llvm::Error::success();
  }
  if (op == "Slice") {
    auto a = x(0);
    auto s = shapeOf(n, n.input(0));
    if (!a || !s)
      return llvm::joinErrors(a.takeError(), s.takeError());
    auto starts = intsInput(n, 1), ends = intsInput(n, 2);
    if (!starts || !ends)
      return llvm::joinErrors(starts.takeError(), ends.takeError());
    std::vector<int64_t> axes, steps(starts->size(), 1);
    for (size_t k = 0; k < starts->size(); ++k)
      axes.push_back(k);
    if (n.input_size() > 3 && !n.input(3).empty()) {
      auto c = intsInput(n, 3);
      if (!c)
        return c.takeError();
      axes = *c;
    }
    if (n.input_size() > 4 && !n.input(4).empty()) {
      auto c = intsInput(n, 4);
      if (!c)
        return c.takeError();
      steps = *c;
    }
    std::vector<std::string> index(s->size(), ":");
    for (size_t k = 0; k < axes.size(); ++k) {
      int64_t d = normAxis(axes[k], s->size());
      if (d < 0 || d >= (int64_t)s->size())
        return nodeError(n, "axis " + Twine(axes[k]) + " out of range");
      int64_t len = (*s)[d];
      if (steps[k] <= 0)
        return nodeError(n, "a slice with a step of " + Twine(steps[k]) +
                                " is not supported (positive steps are)");
      int64_t b = std::clamp(normAxis((*starts)[k], len), int64_t(0), len);
      int64_t e = std::clamp(normAxis((*ends)[k], len), int64_t(0), len);
      index[d] = (b ? std::to_string(b) : "") + ":" +
                 (e < len ? std::to_string(e) : "") +
                 (steps[k] != 1 ? ":" + std::to_string(steps[k]) : "");
    }
    while (index.size() > 1 && index.back() == ":")
      index.pop_back();
    assign(n, 0, *a + "[" + llvm::join(index, ", ") + "]");
    return llvm::Error::success();
  }
  if (op == "Split") {
    auto a = x(0);
    auto s = shapeOf(n, n.input(0));
    if (!a || !s)
      return llvm::joinErrors(a.takeError(), s.takeError());
    auto axisOr = axisAttr(n, 0, s->size(), s->size() - 1);
    if (!axisOr)
      return axisOr.takeError();
    int64_t axis = *axisOr;
    std::vector<int64_t> sizes;
    if (n.input_size() > 1 && !n.input(1).empty()) {
      auto c = intsInput(n, 1);
      if (!c)
        return c.takeError();
      sizes = *c;
    } else {
      for (int k = 0; k < n.output_size(); ++k)
        sizes.push_back((*s)[axis] / n.output_size());
    }
    std::string lhs;
    for (int k = 0; k < n.output_size(); ++k) {
      std::string v = newName(n, k);
      exprs[n.output(k)] = v;
      lhs += (k ? ", " : "") + v;
    }
    body.push_back(lhs + " = " + *a + ".split([" + joinInts(sizes) +
                   "], dim=" + std::to_string(axis) + ")  # " + n.name());
    return llvm::Error::success();
  }
  if (op == "Gather") {
    auto s = shapeOf(n, n.input(0));
    if (!s)
      return s.takeError();
    auto axisOr = axisAttr(n, 0, s->size(), s->size() - 1);
    if (!axisOr)
      return axisOr.takeError();
    int64_t axis = *axisOr;
    if (isConst(n.input(1)) && consts[n.input(1)].shape.empty()) {
      auto idx = constInput(n, 1);
      if (!idx)
        return idx.takeError();
      auto a = x(0);
      if (!a)
        return a.takeError();
      std::vector<std::string> index(axis + 1, ":");
      index[axis] = std::to_string(toInt64(idx->values[0]));
      assign(n, 0, *a + "[" + llvm::join(index, ", ") + "]");
      return llvm::Error::success();
    }
    auto idx = x(1);
    if (!idx)
      return idx.takeError();
    if (axis != 0 || s->size() != 2) {
      auto is = shapeOf(n, n.input(1));
      if (!is)
        return is.takeError();
      if (is->size() != 1)
        return nodeError(n, "a gather of a tensor of indices is supported as "
                            "an embedding lookup (axis 0 of a 2-d table) or "
                            "with 1-d indices");
      auto table = x(0);
      if (!table)
        return table.takeError();
      assign(n, 0,
             "torch.index_select(" + *table + ", " + std::to_string(axis) +
                 ", " + *idx + ")");
      return llvm::Error::success();
    }
    std::string p = claimModule(n, {{0, "weight"}});
    if (!p.empty()) {
      return callModule(p,
                        "nn.Embedding(" + std::to_string((*s)[0]) + ", " +
                            std::to_string((*s)[1]) + ")",
                        *idx);
    }
    auto table = x(0);
    if (!table)
      return table.takeError();
    assign(n, 0, "F.embedding(" + *idx + ", " + *table + ")");
    return llvm::Error::success();
  }
  if (op == "SoftmaxCrossEntropyLoss" || op == "NegativeLogLikelihoodLoss") {
    if (auto err = onlyFirstOutputUsed())
      return err;
    if (n.input_size() > 2 && !n.input(2).empty())
      return nodeError(n, "class weights are not supported");
    auto a = x(0), y = x(1);
    if (!a || !y)
      return llvm::joinErrors(a.takeError(), y.takeError());
    std::string e =
        std::string(op == "SoftmaxCrossEntropyLoss" ? "F.cross_entropy("
                                                    : "F.nll_loss(") +
        *a + ", " + *y;
    if (const auto *ig = attr(n, "ignore_index"))
      e += ", ignore_index=" + std::to_string(ig->i());
    if (const auto *r = attr(n, "reduction"); r && r->s() != "mean")
      e += ", reduction=\"" + r->s() + "\"";
    assign(n, 0, e + ")");
    return llvm::Error::success();
  }
  if (op == "Cast") {
    auto a = x(0);
    if (!a)
      return a.takeError();
    int32_t from = types.count(n.input(0)) ? types[n.input(0)].first : 0;
    int32_t to = attrInt(n, "to", 0);
    if (from == to) {
      exprs[n.output(0)] = *a;
      return llvm::Error::success();
    }
    static const std::map<int32_t, std::string> casts = {
        {onnx::TensorProto::FLOAT, ".float()"},
        {onnx::TensorProto::DOUBLE, ".double()"},
        {onnx::TensorProto::INT64, ".long()"}};
    auto it = casts.find(to);
    if (it == casts.end())
      return nodeError(n, "a cast to " + typeName(to) + " is not supported");
    assign(n, 0, *a + it->second);
    return llvm::Error::success();
  }
  return nodeError(n, "the op " + op +
                          " is not supported by graft import (docs/Import.md "
                          "lists the ops it reads)");
}

// --- the file -------------------------------------------------------------

llvm::Expected<std::string> Importer::write() {
  // The tree of modules: a path's children are its submodules and params.
  // Children in the order of the initializers (the state_dict's).
  struct Node {
    std::vector<std::pair<std::string, Node>> children;
    std::string ctor, paramType;
  };
  Node root;
  auto insert = [&](StringRef dotted) -> Node & {
    llvm::SmallVector<StringRef> parts;
    dotted.split(parts, '.');
    Node *node = &root;
    for (StringRef p : parts) {
      auto it = llvm::find_if(node->children,
                              [&](const auto &c) { return c.first == p; });
      if (it == node->children.end()) {
        node->children.emplace_back(p.str(), Node());
        it = std::prev(node->children.end());
      }
      node = &it->second;
    }
    return *node;
  };
  for (const auto &t : model.graph().initializer()) {
    if (auto it = params.find(t.name()); it != params.end())
      insert(t.name()).paramType = it->second;
    if (auto it = claimedBy.find(t.name()); it != claimedBy.end())
      insert(it->second).ctor = moduleCtors[it->second];
  }

  std::string classes;
  std::map<std::string, std::string> classOfBody;
  std::set<std::string> classNames;
  std::function<llvm::Expected<std::string>(const Node &, StringRef, StringRef,
                                            bool)>
      member = [&](const Node &node, StringRef name, StringRef path,
                   bool top) -> llvm::Expected<std::string> {
    std::string target =
        top ? name.str()
            : (isIdentifier(name, /*anywhere=*/true) ? "self." + name.str()
                                                     : "");
    if (!node.paramType.empty() && !node.children.empty())
      return error("'" + path + "' is both a tensor and a module prefix");
    if (!node.paramType.empty()) {
      if (!isIdentifier(name, /*anywhere=*/true))
        return error("the parameter '" + path +
                     "' has a last name part the model language cannot "
                     "declare");
      auto [kind, type] = StringRef(node.paramType).split(' ');
      return (kind + " " + name + ": " + type + " = zeros").str();
    }
    std::string value = node.ctor;
    if (!node.children.empty()) {
      if (!node.ctor.empty())
        return error("'" + path +
                     "' is a built-in module whose tensors other nodes read "
                     "as well");
      std::string body;
      for (const auto &[child, sub] : node.children) {
        auto line = member(sub, child, (path + "." + child).str(), false);
        if (!line)
          return line.takeError();
        body += "  " + *line + "\n";
      }
      auto it = classOfBody.find(body);
      if (it == classOfBody.end()) {
        // Named after the path's last part (`Attn` for h.0.attn), with
        // the part before a number (`Layer1_0` for layer1.0).
        llvm::SmallVector<StringRef> parts;
        path.split(parts, '.');
        std::string cls;
        for (size_t k = parts.size(); k-- > 0;) {
          std::string part;
          for (char c : parts[k])
            part += llvm::isAlnum(c) ? c : '_';
          cls = llvm::toUpper(part[0]) + part.substr(1) +
                (cls.empty() ? "" : "_" + cls);
          if (llvm::isAlpha(part[0]))
            break;
        }
        if (!llvm::isAlpha(cls[0]))
          cls = "M" + cls;
        // Not a name the body reads: `F.relu` must stay torch's F.
        static const llvm::StringSet<> taken = {"F",    "nn",   "torch",
                                                "math", "init", "graft"};
        if (taken.contains(cls) || names.count(cls))
          cls += "_module";
        std::string base = cls;
        for (int k = 1; classNames.count(cls); ++k)
          cls = base + "_" + std::to_string(k);
        classNames.insert(cls);
        classes += "module " + cls + " {\n" + body + "}\n\n";
        it = classOfBody.emplace(body, cls).first;
      }
      value = it->second + "()";
    }
    if (target.empty())
      return "setattr(self, \"" + name.str() + "\", " + value + ")";
    return target + " = " + value;
  };

  std::string decls;
  for (const auto &[child, sub] : root.children) {
    if (!isIdentifier(child))
      return error("the top-level name '" + child +
                   "' is not one the model language can declare");
    auto line = member(sub, child, child, true);
    if (!line)
      return line.takeError();
    decls += "  " + *line + "\n";
  }

  std::string name = opts.name;
  if (name.empty()) {
    for (char c : llvm::sys::path::stem(path))
      name += llvm::isAlnum(c) ? c : '_';
    if (!isIdentifier(name) && !name.empty())
      name[0] = llvm::toUpper(name[0]); // model.onnx: Model
    if (!isIdentifier(name))
      name = "m_" + name;
  }
  if (!isIdentifier(name))
    return error("the model name '" + name + "' is not an identifier");

  std::string out;
  llvm::raw_string_ostream os(out);
  os << "# Imported by graft import from " << opts.source << " (ONNX IR "
     << model.ir_version() << ", opset " << opset;
  if (!model.producer_name().empty())
    os << ", written by " << model.producer_name()
       << (model.producer_version().empty() ? "" : " ")
       << model.producer_version();
  os << ").\n# Parameters and buffers start at zero here: train with --init "
        "and the weights\n# graft import wrote (docs/Import.md).\n\n";
  for (const auto &d : dimDecls)
    os << d << "\n";
  if (!dimDecls.empty())
    os << "\n";
  os << classes;
  os << "model " << name << " {\n";
  for (const auto &d : inputDecls)
    os << "  " << d << "\n";
  os << decls;
  for (const auto &b : constBuffers)
    os << "  " << b << "\n";
  os << "\n";
  for (const auto &s : body)
    os << "  " << s << "\n";
  for (const auto &o : model.graph().output()) {
    auto it = exprs.find(o.name());
    if (it == exprs.end())
      return error("the graph output '" + o.name() +
                   "' is a constant or an input; Graft's outputs are "
                   "computed values");
    std::string oname;
    for (char c : o.name())
      oname += llvm::isAlnum(c) ? c : '_';
    if (!isIdentifier(oname, /*anywhere=*/true))
      oname = "out_" + oname;
    os << "  output " << oname << " = " << it->second << "\n";
  }
  if (!opts.freeze.empty())
    os << "  freeze " << llvm::join(opts.freeze, ", ") << "\n";
  if (!opts.loss.empty())
    os << "\n  train {\n    loss = " << opts.loss
       << "\n    optimizer = " << opts.optimizer << "\n  }\n";
  os << "}\n";
  return out;
}

llvm::Expected<ImportedModel> Importer::run(StringRef bytes) {
  if (auto err = readModel(bytes))
    return std::move(err);
  if (auto err = fixInputShapes())
    return std::move(err);
  if (auto err = foldShapes())
    return std::move(err);
  // Inputs, in order, with their named dims.
  for (const auto &in : model.graph().input()) {
    if (inits.count(in.name()))
      continue;
    if (!isIdentifier(in.name()))
      return error("the input '" + in.name() +
                   "' has a name the model language cannot declare: export "
                   "with input_names=[...]");
    int32_t et = in.type().tensor_type().elem_type();
    auto type = graftType(et);
    if (!type)
      return error("the input '" + in.name() + "' has the element type " +
                   typeName(et) + ", which Graft does not have");
    std::string dims;
    for (auto [i, d] : llvm::enumerate(in.type().tensor_type().shape().dim())) {
      auto it = dimOfValue.find(in.name() + ":" + std::to_string(i));
      dims +=
          (i ? ", " : "") +
          (it != dimOfValue.end() ? it->second : std::to_string(d.dim_value()));
    }
    inputDecls.push_back("input " + in.name() + ": " + *type + "[" + dims +
                         "]");
    exprs[in.name()] = in.name();
    names.insert(in.name());
  }
  for (const auto &t : opts.targets) {
    auto [tname, ttype] = StringRef(t).split('=');
    if (!isIdentifier(tname) || ttype.empty())
      return error("--target " + t +
                   ": expected NAME=TYPE, e.g. "
                   "target=i64[batch]");
    inputDecls.push_back(("input " + tname + ": " + ttype).str());
    names.insert(tname.str());
  }
  // Top-level names of the initializers are taken by their instances.
  for (const auto &[name, t] : inits)
    names.insert(StringRef(name).split('.').first.str());
  for (const auto &n : model.graph().node())
    if (n.op_type() != "Constant")
      ++nodesInScope[StringRef(n.name()).rsplit('/').first];
  for (const auto &n : model.graph().node())
    if (auto err = importNode(n))
      return std::move(err);
  for (const auto &[name, module] : claimedBy) {
    auto w = weightOf(*inits[name], name);
    if (!w)
      return w.takeError();
    weights.push_back(std::move(*w));
  }
  // The weights in the initializers' order (the state_dict's), a batch
  // norm's counter after its running variance, constants last.
  std::map<std::string, double> position;
  for (const auto &[k, t] : llvm::enumerate(model.graph().initializer()))
    position[t.name()] = k;
  auto rank = [&](const NamedTensor &w) {
    if (auto it = position.find(w.name); it != position.end())
      return it->second;
    StringRef prefix = StringRef(w.name).rsplit('.').first;
    if (auto it = position.find((prefix + ".running_var").str());
        it != position.end())
      return it->second + 0.5;
    return double(position.size());
  };
  std::vector<std::pair<double, size_t>> order;
  for (auto [k, w] : llvm::enumerate(weights))
    order.emplace_back(rank(w), k);
  llvm::sort(order);
  std::vector<NamedTensor> sorted;
  for (auto [r, k] : order)
    sorted.push_back(std::move(weights[k]));
  weights = std::move(sorted);
  auto text = write();
  if (!text)
    return text.takeError();
  ImportedModel result;
  result.text = std::move(*text);
  result.weights = std::move(weights);
  result.constants = std::move(constants);
  return result;
}

} // namespace

llvm::Expected<ImportedModel>
graft::importOnnx(StringRef path, StringRef bytes,
                  const OnnxImportOptions &options) {
  return Importer(path, options).run(bytes);
}
