//===- Evaluator.cpp - Reference evaluator of graft models ----------------===//
//
// One small function per op, on plain row-major tensors of doubles. Result
// shapes and element types are read from the (verified) IR; every loop is
// the textbook definition of the PyTorch op.
//
//===----------------------------------------------------------------------===//

#include "graft/Evaluator/Evaluator.h"
#include "graft/Dialect/Graft/IR/Init.h"
#include "graft/Dialect/Graft/IR/ShapeFunctions.h"
#include "graft/Dialect/Graft/IR/UnaryOps.h"
#include "graft_rng.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace graft;
using namespace graft::eval;
using llvm::ArrayRef;
using llvm::SmallVector;

//===----------------------------------------------------------------------===//
// Counter-based random numbers
//===----------------------------------------------------------------------===//

// graft_rng.h: the C runtime's and the generated code's definition.
double graft::eval::dropoutUniform(uint64_t seed, int64_t stream,
                                   int64_t index) {
  return graft_rng_dropout_uniform(seed, stream, index);
}

double graft::eval::initUniform(uint64_t seed, llvm::StringRef name,
                                int64_t index) {
  return graft_rng_init_uniform(
      graft_rng_init_base(seed, name.data(), name.size()), index);
}

double graft::eval::initNormal(uint64_t seed, llvm::StringRef name,
                               int64_t index) {
  return graft_rng_init_normal(
      graft_rng_init_base(seed, name.data(), name.size()), index);
}

//===----------------------------------------------------------------------===//
// Initialisers (torch.nn.init)
//===----------------------------------------------------------------------===//

static llvm::Error err(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

llvm::Expected<Tensor> graft::eval::initTensor(InitAttr init,
                                               RankedTensorType type,
                                               uint64_t seed,
                                               llvm::StringRef name) {
  std::optional<DType> dt = dtypeOf(type.getElementType());
  if (!dt)
    return err("unsupported element type");
  Tensor t = Tensor::filled(type.getShape(), *dt);
  auto uniform = [&](double lo, double hi) {
    for (int64_t i = 0; i < t.numel(); ++i)
      t.data[i] = lo + (hi - lo) * initUniform(seed, name, i);
  };
  auto normal = [&](double mean, double std) {
    for (int64_t i = 0; i < t.numel(); ++i)
      t.data[i] = mean + std * initNormal(seed, name, i);
  };
  llvm::Expected<InitDistribution> dist = resolveInit(init, type.getShape());
  if (!dist)
    return dist.takeError();
  switch (dist->kind) {
  case InitDistribution::Zero:
    break;
  case InitDistribution::Constant:
    std::fill(t.data.begin(), t.data.end(), dist->p0);
    break;
  case InitDistribution::Uniform:
    uniform(dist->p0, dist->p1);
    break;
  case InitDistribution::Normal:
    normal(dist->p0, dist->p1);
    break;
  }
  for (double &x : t.data)
    x = roundTo(t.dtype, x);
  return t;
}

//===----------------------------------------------------------------------===//
// Indexing helpers
//===----------------------------------------------------------------------===//

namespace {
/// For each linear index of `out`, the linear index of the element of a
/// tensor of shape `in` that broadcasting maps to it.
std::vector<int64_t> broadcastMap(ArrayRef<int64_t> out, ArrayRef<int64_t> in) {
  std::vector<int64_t> map(numelOf(out));
  std::vector<int64_t> inStrides = stridesOf(in);
  size_t lead = out.size() - in.size();
  std::vector<int64_t> idx(out.size(), 0);
  for (size_t lin = 0; lin < map.size(); ++lin) {
    int64_t off = 0;
    for (size_t d = 0; d < in.size(); ++d)
      if (in[d] != 1)
        off += idx[lead + d] * inStrides[d];
    map[lin] = off;
    for (int64_t d = static_cast<int64_t>(out.size()) - 1; d >= 0; --d) {
      if (++idx[d] < out[d])
        break;
      idx[d] = 0;
    }
  }
  return map;
}

/// The multi-index of linear index `lin` in `shape`.
std::vector<int64_t> unravel(int64_t lin, ArrayRef<int64_t> shape) {
  std::vector<int64_t> idx(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    idx[d] = shape[d] ? lin % shape[d] : 0;
    lin = shape[d] ? lin / shape[d] : 0;
  }
  return idx;
}

/// Sizes before, at and after `dim`.
struct Split {
  int64_t outer, n, inner;
};
Split splitAt(ArrayRef<int64_t> shape, int64_t dim) {
  return {numelOf(shape.take_front(dim)), shape[dim],
          numelOf(shape.drop_front(dim + 1))};
}

int64_t normDim(int64_t dim, int64_t rank) {
  return dim < 0 ? dim + rank : dim;
}

double nan() { return std::numeric_limits<double>::quiet_NaN(); }
double inf() { return std::numeric_limits<double>::infinity(); }
} // namespace

//===----------------------------------------------------------------------===//
// The evaluator
//===----------------------------------------------------------------------===//

Evaluator::Evaluator(ModelOp model, Mode mode, uint64_t seed)
    : model(model), mode(mode), seed(seed) {}

void Evaluator::setInput(llvm::StringRef name, Tensor value) {
  inputs[name] = std::move(value);
}
void Evaluator::setParam(llvm::StringRef name, Tensor value) {
  params[name] = std::move(value);
}
void Evaluator::setOverride(Value v, Tensor t) { overrides[v] = std::move(t); }
void Evaluator::holdPaddingRows(EmbeddingOp op, Tensor weight) {
  paddingRows[op] = std::move(weight);
}
void Evaluator::setHook(llvm::StringRef name,
                        std::function<Tensor(const Tensor &)> hook) {
  hooks[name] = std::move(hook);
}

llvm::Error Evaluator::initParams() {
  for (Operation &op : model.getBody().front()) {
    InitAttr init;
    llvm::StringRef name;
    RankedTensorType type;
    if (auto p = dyn_cast<ParamOp>(op)) {
      init = p.getInit();
      name = p.getName();
      type = p.getType();
    } else if (auto b = dyn_cast<BufferOp>(op)) {
      init = b.getInit();
      name = b.getName();
      type = b.getType();
    } else {
      continue;
    }
    if (params.count(name))
      continue;
    auto t = initTensor(init, type, seed, name);
    if (!t)
      return err(llvm::formatv("cannot initialise '{0}': {1}", name,
                               llvm::toString(t.takeError())));
    params[name] = std::move(*t);
  }
  return llvm::Error::success();
}

const Tensor &Evaluator::value(Value v) const {
  auto it = values.find(v);
  assert(it != values.end() && "value not computed");
  return it->second;
}

static std::optional<Tensor> lookup(const llvm::StringMap<Tensor> &m,
                                    llvm::StringRef name) {
  auto it = m.find(name);
  if (it == m.end())
    return std::nullopt;
  return it->second;
}

std::optional<Tensor> Evaluator::loss() const {
  if (!lossValue || !values.count(lossValue))
    return std::nullopt;
  return values.lookup(lossValue);
}
std::optional<Tensor> Evaluator::gradient(llvm::StringRef name) const {
  return lookup(gradients, name);
}
std::optional<Tensor> Evaluator::output(llvm::StringRef name) const {
  return lookup(outputs, name);
}
std::optional<Tensor> Evaluator::buffer(llvm::StringRef name) const {
  if (auto t = lookup(updatedBuffers, name))
    return t;
  return lookup(params, name);
}
std::optional<Tensor> Evaluator::param(llvm::StringRef name) const {
  return lookup(params, name);
}
std::optional<Tensor> Evaluator::input(llvm::StringRef name) const {
  return lookup(inputs, name);
}

llvm::Error Evaluator::run() {
  values.clear();
  gradients.clear();
  outputs.clear();
  updatedBuffers.clear();
  gradientOrder.clear();
  lossValue = nullptr;
  return runBlock(model.getBody().front());
}

llvm::Error Evaluator::runBlock(Block &block) {
  for (Operation &op : block) {
    if (llvm::Error e = evalOp(&op))
      return e;
    if (stopAtLoss && isa<LossOp>(op))
      break;
  }
  return llvm::Error::success();
}

namespace graft::eval {
/// Evaluates one op: reads operands from the evaluator, writes results.
class OpEvaluator {
public:
  OpEvaluator(Evaluator &ev, Operation *op) : ev(ev), op(op) {}

  llvm::Error error(const llvm::Twine &msg) {
    std::string where;
    llvm::raw_string_ostream os(where);
    if (auto fl = op->getLoc()->findInstanceOf<FileLineColLoc>())
      os << fl.getFilename().getValue() << ":" << fl.getLine() << ":"
         << fl.getColumn() << ": ";
    else
      os << op->getLoc() << ": ";
    return err(where + "'" + op->getName().getStringRef() + "': " + msg);
  }

  const Tensor &in(unsigned i) { return ev.values[op->getOperand(i)]; }
  const Tensor &in(Value v) { return ev.values[v]; }
  RankedTensorType resultType(unsigned i = 0) {
    return cast<RankedTensorType>(op->getResult(i).getType());
  }
  /// An empty result tensor of the op's result type.
  Tensor result(unsigned i = 0, double fill = 0.0) {
    return Tensor::filled(resultType(i).getShape(),
                          *dtypeOf(resultType(i).getElementType()), fill);
  }
  /// Rounds to the result's element type and stores it.
  void set(Tensor t, unsigned i = 0) {
    RankedTensorType type = resultType(i);
    t.dtype = *dtypeOf(type.getElementType());
    t.shape.assign(type.getShape().begin(), type.getShape().end());
    if (!isFloat(t.dtype) || !ev.computeInF64)
      for (double &x : t.data)
        x = roundTo(t.dtype, x);
    ev.values[op->getResult(i)] = std::move(t);
  }

  template <typename F> llvm::Error unary(F f) {
    Tensor r = in(0);
    for (double &x : r.data)
      x = f(x);
    set(std::move(r));
    return llvm::Error::success();
  }

  /// `f(a, b)` with `a` and `b` broadcast to the result shape.
  template <typename F> llvm::Error binary(Value a, Value b, F f) {
    Tensor r = result();
    auto ma = broadcastMap(r.shape, in(a).shape);
    auto mb = broadcastMap(r.shape, in(b).shape);
    for (int64_t i = 0; i < r.numel(); ++i)
      r.data[i] = f(in(a).data[ma[i]], in(b).data[mb[i]]);
    set(std::move(r));
    return llvm::Error::success();
  }
  template <typename F> llvm::Error binary(F f) {
    return binary(op->getOperand(0), op->getOperand(1), f);
  }

  llvm::Error eval();

private:
  llvm::Error matmul(const Tensor &a, const Tensor &b);
  llvm::Error reduce(ArrayRef<int64_t> dims, int kind);
  llvm::Error conv2d(Conv2dOp c);
  llvm::Error convBackwardInput(Conv2dBackwardInputOp c);
  llvm::Error convBackwardWeight(Conv2dBackwardWeightOp c);
  llvm::Error pool(Operation *, bool isMax, bool backward);
  llvm::Error layerNorm(LayerNormOp ln);
  llvm::Error batchNorm(BatchNormOp bn);
  llvm::Error attention(ScaledDotProductAttentionOp a);
  llvm::Error classLoss(const Tensor &x, const Tensor &target,
                        int64_t ignoreIndex, double smoothing,
                        Reduction reduction, bool logSoftmaxFirst);
  llvm::Error softmax(int64_t dim, bool log);
  llvm::Error slice(const Tensor &x, int64_t dim, int64_t start, int64_t end,
                    int64_t step, bool backward);

  Evaluator &ev;
  Operation *op;
};
} // namespace graft::eval

llvm::Error Evaluator::evalOp(Operation *op) {
  OpEvaluator oe(*this, op);
  for (Value v : op->getOperands())
    if (!values.count(v))
      return oe.error("operand has no value (evaluated out of order?)");
  if (llvm::Error e = oe.eval())
    return e;
  for (Value r : op->getResults()) {
    auto it = overrides.find(r);
    if (it == overrides.end())
      continue;
    if (it->second.shape != values[r].shape ||
        it->second.numel() != values[r].numel())
      return oe.error("override of shape " + it->second.typeStr() +
                      " for a value of shape " + values[r].typeStr());
    Tensor t = it->second;
    t.dtype = values[r].dtype;
    values[r] = std::move(t);
  }
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

llvm::Error OpEvaluator::matmul(const Tensor &a0, const Tensor &b0) {
  std::vector<int64_t> as = a0.shape, bs = b0.shape;
  if (as.size() == 1)
    as.insert(as.begin(), 1);
  if (bs.size() == 1)
    bs.push_back(1);
  int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  std::vector<int64_t> ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  std::vector<int64_t> batch(std::max(ab.size(), bb.size()), 1);
  for (size_t i = 0; i < batch.size(); ++i) {
    int64_t da = i < batch.size() - ab.size() ? 1 : ab[i - (batch.size() - ab.size())];
    int64_t db = i < batch.size() - bb.size() ? 1 : bb[i - (batch.size() - bb.size())];
    batch[i] = da == 1 ? db : da;
  }
  auto mapA = broadcastMap(batch, ab), mapB = broadcastMap(batch, bb);
  Tensor r = result();
  int64_t nb = numelOf(batch);
  for (int64_t bi = 0; bi < nb; ++bi) {
    const double *pa = a0.data.data() + mapA[bi] * m * k;
    const double *pb = b0.data.data() + mapB[bi] * k * n;
    double *pr = r.data.data() + bi * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t l = 0; l < k; ++l)
          s += pa[i * k + l] * pb[l * n + j];
        pr[i * n + j] = s;
      }
  }
  set(std::move(r));
  return llvm::Error::success();
}

/// kind: 0 sum, 1 mean, 2 amax.
llvm::Error OpEvaluator::reduce(ArrayRef<int64_t> dims0, int kind) {
  const Tensor &x = in(0);
  std::vector<bool> reduced(x.rank(), dims0.empty());
  for (int64_t d : dims0)
    reduced[normDim(d, x.rank())] = true;
  std::vector<int64_t> kept; // keepdim shape
  int64_t count = 1;
  for (int64_t d = 0; d < x.rank(); ++d) {
    kept.push_back(reduced[d] ? 1 : x.shape[d]);
    if (reduced[d])
      count *= x.shape[d];
  }
  std::vector<int64_t> keptStrides = stridesOf(kept);
  Tensor r = result(0, kind == 2 ? -inf() : 0.0);
  for (int64_t lin = 0; lin < x.numel(); ++lin) {
    auto idx = unravel(lin, x.shape);
    int64_t o = 0;
    for (int64_t d = 0; d < x.rank(); ++d)
      if (!reduced[d])
        o += idx[d] * keptStrides[d];
    double v = x.data[lin];
    if (kind == 2)
      r.data[o] = (std::isnan(v) || std::isnan(r.data[o]))
                      ? nan()
                      : std::max(r.data[o], v);
    else
      r.data[o] += v;
  }
  if (kind == 1)
    for (double &v : r.data)
      v /= static_cast<double>(count);
  set(std::move(r));
  return llvm::Error::success();
}

llvm::Error OpEvaluator::softmax(int64_t dim, bool log) {
  const Tensor &x = in(0);
  Split s = splitAt(x.shape, normDim(dim, x.rank()));
  Tensor r = x;
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      auto at = [&](int64_t j) { return (o * s.n + j) * s.inner + i; };
      double mx = -inf();
      for (int64_t j = 0; j < s.n; ++j)
        mx = std::max(mx, x.data[at(j)]);
      if (std::isinf(mx))
        mx = 0;
      double sum = 0;
      for (int64_t j = 0; j < s.n; ++j)
        sum += std::exp(x.data[at(j)] - mx);
      for (int64_t j = 0; j < s.n; ++j)
        r.data[at(j)] = log ? x.data[at(j)] - mx - std::log(sum)
                            : std::exp(x.data[at(j)] - mx) / sum;
    }
  set(std::move(r));
  return llvm::Error::success();
}

llvm::Error OpEvaluator::slice(const Tensor &x, int64_t dim, int64_t start,
                               int64_t end, int64_t step, bool backward) {
  // `x` is the sliced tensor in forward and the gradient in backward; `full`
  // is the shape of the tensor being sliced.
  Tensor r = result();
  const std::vector<int64_t> &full = backward ? r.shape : x.shape;
  dim = normDim(dim, static_cast<int64_t>(full.size()));
  int64_t size = full[dim];
  start = std::clamp<int64_t>(start, 0, size);
  end = std::clamp<int64_t>(end, start, size);
  Split fs = splitAt(full, dim);
  int64_t taken = (end - start + step - 1) / step;
  for (int64_t o = 0; o < fs.outer; ++o)
    for (int64_t j = 0; j < taken; ++j)
      for (int64_t i = 0; i < fs.inner; ++i) {
        int64_t fullAt = (o * fs.n + start + j * step) * fs.inner + i;
        int64_t smallAt = (o * taken + j) * fs.inner + i;
        if (backward)
          r.data[fullAt] = x.data[smallAt];
        else
          r.data[smallAt] = x.data[fullAt];
      }
  set(std::move(r));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

namespace {
struct ConvGeom {
  int64_t n, c, h, w;      // input
  int64_t o, cg, kh, kw;   // weight: [o, c / groups, kh, kw]
  int64_t oh, ow;          // output
  int64_t sh, sw, ph, pw, dh, dw, groups;
  int64_t xAt(int64_t ni, int64_t ci, int64_t y, int64_t x) const {
    return ((ni * c + ci) * h + y) * w + x;
  }
  int64_t wAt(int64_t oi, int64_t ci, int64_t y, int64_t x) const {
    return ((oi * cg + ci) * kh + y) * kw + x;
  }
  int64_t yAt(int64_t ni, int64_t oi, int64_t y, int64_t x) const {
    return ((ni * o + oi) * oh + y) * ow + x;
  }
  /// Calls f(x index, w index, y index) for every term of the convolution.
  template <typename F> void forEach(F f) const {
    int64_t og = o / groups;
    for (int64_t ni = 0; ni < n; ++ni)
      for (int64_t oi = 0; oi < o; ++oi) {
        int64_t g = oi / og;
        for (int64_t y = 0; y < oh; ++y)
          for (int64_t x = 0; x < ow; ++x)
            for (int64_t ci = 0; ci < cg; ++ci)
              for (int64_t ky = 0; ky < kh; ++ky)
                for (int64_t kx = 0; kx < kw; ++kx) {
                  int64_t iy = y * sh - ph + ky * dh;
                  int64_t ix = x * sw - pw + kx * dw;
                  if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                    continue;
                  f(xAt(ni, g * cg + ci, iy, ix), wAt(oi, ci, ky, kx),
                    yAt(ni, oi, y, x));
                }
      }
  }
};

ConvGeom convGeom(ArrayRef<int64_t> x, ArrayRef<int64_t> w,
                  ArrayRef<int64_t> y, ArrayRef<int64_t> stride,
                  ArrayRef<int64_t> padding, ArrayRef<int64_t> dilation,
                  int64_t groups) {
  return {x[0],      x[1],      x[2],       x[3],       w[0],
          w[1],      w[2],      w[3],       y[2],       y[3],
          stride[0], stride[1], padding[0], padding[1], dilation[0],
          dilation[1], groups};
}
} // namespace

llvm::Error OpEvaluator::conv2d(Conv2dOp c) {
  const Tensor &x = in(c.getInput()), &w = in(c.getWeight());
  Tensor r = result();
  ConvGeom g = convGeom(x.shape, w.shape, r.shape, c.getStride(),
                        c.getPadding(), c.getDilation(), c.getGroups());
  g.forEach([&](int64_t xi, int64_t wi, int64_t yi) {
    r.data[yi] += x.data[xi] * w.data[wi];
  });
  if (c.getBias()) {
    const Tensor &b = in(c.getBias());
    int64_t plane = g.oh * g.ow;
    for (int64_t i = 0; i < r.numel(); ++i)
      r.data[i] += b.data[(i / plane) % g.o];
  }
  set(std::move(r));
  return llvm::Error::success();
}

llvm::Error OpEvaluator::convBackwardInput(Conv2dBackwardInputOp c) {
  const Tensor &gy = in(c.getGrad()), &w = in(c.getOther());
  Tensor r = result();
  ConvGeom g = convGeom(r.shape, w.shape, gy.shape, c.getStride(),
                        c.getPadding(), c.getDilation(), c.getGroups());
  g.forEach([&](int64_t xi, int64_t wi, int64_t yi) {
    r.data[xi] += gy.data[yi] * w.data[wi];
  });
  set(std::move(r));
  return llvm::Error::success();
}

llvm::Error OpEvaluator::convBackwardWeight(Conv2dBackwardWeightOp c) {
  const Tensor &gy = in(c.getGrad()), &x = in(c.getOther());
  Tensor r = result();
  ConvGeom g = convGeom(x.shape, r.shape, gy.shape, c.getStride(),
                        c.getPadding(), c.getDilation(), c.getGroups());
  g.forEach([&](int64_t xi, int64_t wi, int64_t yi) {
    r.data[wi] += gy.data[yi] * x.data[xi];
  });
  set(std::move(r));
  return llvm::Error::success();
}

/// max_pool2d / avg_pool2d and their backward ops. In backward, operand 0 is
/// the output gradient and (max only) operand 1 the forward input.
llvm::Error OpEvaluator::pool(Operation *, bool isMax, bool backward) {
  shape::Pool2dWindow w = poolWindow(op);
  Tensor r = result();
  // Input-side and output-side shapes.
  std::vector<int64_t> inShape =
      backward ? (isMax ? in(1).shape : r.shape) : in(0).shape;
  std::vector<int64_t> outShape = backward ? in(0).shape : r.shape;
  const Tensor &x = isMax ? (backward ? in(1) : in(0)) : in(0);
  int64_t planes = inShape.size() == 4 ? inShape[0] * inShape[1] : inShape[0];
  int64_t H = inShape[inShape.size() - 2], W = inShape.back();
  int64_t OH = outShape[outShape.size() - 2], OW = outShape.back();
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox) {
        int64_t outAt = (p * OH + oy) * OW + ox;
        if (isMax) {
          double best = -inf();
          int64_t bestAt = -1;
          for (int64_t ky = 0; ky < w.kernel[0]; ++ky)
            for (int64_t kx = 0; kx < w.kernel[1]; ++kx) {
              int64_t iy = w.inputIndex(0, oy, ky);
              int64_t ix = w.inputIndex(1, ox, kx);
              if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                continue;
              int64_t at = (p * H + iy) * W + ix;
              double v = x.data[at];
              // PyTorch's CPU kernel: starting from the first element of the
              // window, take an element when it is greater or NaN.
              if (bestAt < 0 || v > best || std::isnan(v)) {
                best = v;
                bestAt = at;
              }
            }
          if (backward) {
            if (bestAt >= 0)
              r.data[bestAt] += in(0).data[outAt];
          } else {
            r.data[outAt] = best;
          }
          continue;
        }
        // avg: PyTorch's window and divisor.
        shape::Pool2dWindow::AvgTaps t = w.avgTaps(H, W, oy, ox);
        double divisor = static_cast<double>(t.divisor);
        double sum = 0;
        for (int64_t iy = t.y0; iy < t.y1; ++iy)
          for (int64_t ix = t.x0; ix < t.x1; ++ix) {
            int64_t at = (p * H + iy) * W + ix;
            if (backward)
              r.data[at] += in(0).data[outAt] / divisor;
            else
              sum += x.data[at];
          }
        if (!backward)
          r.data[outAt] = sum / divisor;
      }
  set(std::move(r));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Normalisation, attention, losses
//===----------------------------------------------------------------------===//

llvm::Error OpEvaluator::layerNorm(LayerNormOp ln) {
  const Tensor &x = in(ln.getInput());
  int64_t m = numelOf(ln.getNormalizedShape());
  int64_t rows = x.numel() / m;
  double eps = ln.getEps().convertToDouble();
  Tensor r = x;
  for (int64_t row = 0; row < rows; ++row) {
    const double *p = x.data.data() + row * m;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < m; ++i)
      mean += p[i];
    mean /= m;
    for (int64_t i = 0; i < m; ++i)
      var += (p[i] - mean) * (p[i] - mean);
    var /= m;
    double rstd = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < m; ++i) {
      double v = (p[i] - mean) * rstd;
      if (ln.getWeight())
        v *= in(ln.getWeight()).data[i];
      if (ln.getBias())
        v += in(ln.getBias()).data[i];
      r.data[row * m + i] = v;
    }
  }
  set(std::move(r));
  return llvm::Error::success();
}

llvm::Error OpEvaluator::batchNorm(BatchNormOp bn) {
  const Tensor &x = in(bn.getInput());
  const Tensor &rm = in(bn.getRunningMean()), &rv = in(bn.getRunningVar());
  int64_t n = x.shape[0], c = x.shape[1];
  int64_t spatial = numelOf(ArrayRef<int64_t>(x.shape).drop_front(2));
  int64_t count = n * spatial;
  double eps = bn.getEps().convertToDouble();
  double momentum = bn.getMomentum().convertToDouble();
  // F.batch_norm's `training` flag, and the module's mode: batch statistics
  // only when both say train (the model body leaves the flag at true).
  bool train = ev.mode == Mode::Train && bn.getTraining();
  Tensor r = x;
  Tensor newMean = rm, newVar = rv;
  for (int64_t ci = 0; ci < c; ++ci) {
    auto at = [&](int64_t ni, int64_t s) { return (ni * c + ci) * spatial + s; };
    double mean, var;
    if (train) {
      if (count <= 1)
        return error(llvm::formatv("Expected more than 1 value per channel "
                                   "when training, got input size {0}",
                                   x.typeStr()));
      mean = 0;
      for (int64_t ni = 0; ni < n; ++ni)
        for (int64_t s = 0; s < spatial; ++s)
          mean += x.data[at(ni, s)];
      mean /= count;
      var = 0;
      for (int64_t ni = 0; ni < n; ++ni)
        for (int64_t s = 0; s < spatial; ++s)
          var += (x.data[at(ni, s)] - mean) * (x.data[at(ni, s)] - mean);
      double unbiased = var / (count - 1);
      var /= count;
      newMean.data[ci] = (1 - momentum) * rm.data[ci] + momentum * mean;
      newVar.data[ci] = (1 - momentum) * rv.data[ci] + momentum * unbiased;
    } else {
      mean = rm.data[ci];
      var = rv.data[ci];
    }
    double rstd = 1.0 / std::sqrt(var + eps);
    double w = bn.getWeight() ? in(bn.getWeight()).data[ci] : 1.0;
    double b = bn.getBias() ? in(bn.getBias()).data[ci] : 0.0;
    for (int64_t ni = 0; ni < n; ++ni)
      for (int64_t s = 0; s < spatial; ++s)
        r.data[at(ni, s)] = (x.data[at(ni, s)] - mean) * rstd * w + b;
  }
  set(std::move(r));
  if (train) {
    for (auto [v, t] : {std::make_pair(bn.getRunningMean(), &newMean),
                        std::make_pair(bn.getRunningVar(), &newVar)}) {
      auto buf = v.getDefiningOp<BufferOp>();
      if (!buf)
        return error("running statistics must be graft.buffer values");
      if (!ev.computeInF64)
        for (double &d : t->data)
          d = roundTo(t->dtype, d);
      ev.updatedBuffers[buf.getName()] = std::move(*t);
    }
    // torch.nn.BatchNorm counts its train-mode calls in num_batches_tracked,
    // the buffer beside running_mean (as the training program does).
    auto meanBuf = bn.getRunningMean().getDefiningOp<BufferOp>();
    llvm::StringRef meanName = meanBuf.getName();
    if (meanName.ends_with("running_mean")) {
      std::string count =
          (meanName.drop_back(strlen("running_mean")) + "num_batches_tracked")
              .str();
      if (std::optional<Tensor> c = ev.buffer(count)) {
        for (double &d : c->data)
          d += 1;
        ev.updatedBuffers[count] = std::move(*c);
      }
    }
  }
  return llvm::Error::success();
}

llvm::Error OpEvaluator::attention(ScaledDotProductAttentionOp a) {
  const Tensor &q = in(a.getQuery()), &k = in(a.getKey()), &v = in(a.getValue());
  int64_t L = q.shape[q.rank() - 2], E = q.shape.back();
  int64_t S = k.shape[k.rank() - 2], Ev = v.shape.back();
  int64_t batch = q.numel() / (L * E);
  double scale = a.getScale() ? a.getScale()->convertToDouble()
                              : 1.0 / std::sqrt(static_cast<double>(E));
  Tensor r = result();
  std::vector<double> w(S);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < L; ++i) {
      double mx = -inf();
      for (int64_t j = 0; j < S; ++j) {
        double s = 0;
        for (int64_t e = 0; e < E; ++e)
          s += q.data[(b * L + i) * E + e] * k.data[(b * S + j) * E + e];
        s *= scale;
        if (a.getIsCausal() && j > i)
          s = -inf();
        w[j] = s;
        mx = std::max(mx, s);
      }
      double sum = 0;
      for (int64_t j = 0; j < S; ++j)
        sum += (w[j] = std::isinf(mx) ? nan() : std::exp(w[j] - mx));
      for (int64_t e = 0; e < Ev; ++e) {
        double o = 0;
        for (int64_t j = 0; j < S; ++j)
          o += w[j] / sum * v.data[(b * S + j) * Ev + e];
        r.data[(b * L + i) * Ev + e] = o;
      }
    }
  set(std::move(r));
  return llvm::Error::success();
}

/// cross_entropy (logSoftmaxFirst) and nll_loss with class-index targets.
llvm::Error OpEvaluator::classLoss(const Tensor &x, const Tensor &target,
                                   int64_t ignoreIndex, double smoothing,
                                   Reduction reduction, bool logSoftmaxFirst) {
  int64_t n = x.rank() == 1 ? 1 : x.shape[0];
  int64_t c = x.rank() == 1 ? x.shape[0] : x.shape[1];
  int64_t spatial = x.rank() <= 2 ? 1 : numelOf(ArrayRef<int64_t>(x.shape).drop_front(2));
  std::vector<double> per(n * spatial, 0.0);
  double total = 0, count = 0;
  for (int64_t ni = 0; ni < n; ++ni)
    for (int64_t s = 0; s < spatial; ++s) {
      auto at = [&](int64_t ci) { return (ni * c + ci) * spatial + s; };
      int64_t t = static_cast<int64_t>(target.data[ni * spatial + s]);
      if (t == ignoreIndex)
        continue;
      if (t < 0 || t >= c)
        return error(llvm::formatv("Target {0} is out of bounds.", t));
      std::vector<double> logp(c);
      double lse = 0;
      if (logSoftmaxFirst) {
        double mx = -inf();
        for (int64_t ci = 0; ci < c; ++ci)
          mx = std::max(mx, x.data[at(ci)]);
        double sum = 0;
        for (int64_t ci = 0; ci < c; ++ci)
          sum += std::exp(x.data[at(ci)] - mx);
        lse = mx + std::log(sum);
      }
      for (int64_t ci = 0; ci < c; ++ci)
        logp[ci] = x.data[at(ci)] - lse;
      double l = -logp[t];
      if (smoothing > 0) {
        double smooth = 0;
        for (int64_t ci = 0; ci < c; ++ci)
          smooth -= logp[ci];
        l = (1 - smoothing) * l + smoothing / c * smooth;
      }
      per[ni * spatial + s] = l;
      total += l;
      count += 1;
    }
  Tensor r = result();
  if (reduction == Reduction::none)
    r.data = per;
  else
    r.data[0] = reduction == Reduction::sum ? total : total / count;
  set(std::move(r));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// The op switch
//===----------------------------------------------------------------------===//

llvm::Error OpEvaluator::eval() {
  using llvm::Error;
  auto ok = [] { return Error::success(); };
  auto identity = [&](Value v) {
    set(in(v));
    return ok();
  };
  // Unary elementwise ops: their row's formula.
  if (std::optional<Error> e = visitUnaryOp<Error>(op, [&](auto *tag) {
        using Op = std::remove_pointer_t<decltype(tag)>;
        return unary([](double x) { return Op::scalar(x); });
      }))
    return std::move(*e);
  return llvm::TypeSwitch<Operation *, Error>(op)
      // Declarations and marks.
      .Case([&](InputOp o) -> Error {
        auto it = ev.inputs.find(o.getName());
        if (it == ev.inputs.end())
          return error("no value given for input '" + o.getName() + "'");
        if (llvm::ArrayRef<int64_t>(it->second.shape) !=
                o.getType().getShape() ||
            it->second.numel() != o.getType().getNumElements())
          return error("input '" + o.getName() + "' given as " +
                       it->second.typeStr() + ", expected shape " +
                       Tensor::filled(o.getType().getShape(), DType::F64)
                           .typeStr());
        set(it->second);
        return ok();
      })
      .Case<ParamOp, BufferOp>([&](auto o) -> Error {
        auto it = ev.params.find(o.getName());
        if (it == ev.params.end())
          return error("no value given for '" + o.getName() +
                       "' (call initParams() or setParam())");
        if (llvm::ArrayRef<int64_t>(it->second.shape) !=
                o.getType().getShape() ||
            it->second.numel() != o.getType().getNumElements())
          return error("'" + o.getName() + "' given as " +
                       it->second.typeStr() + ", expected shape " +
                       Tensor::filled(o.getType().getShape(), DType::F64)
                           .typeStr());
        set(it->second);
        return ok();
      })
      .Case([&](ConstantOp o) -> Error {
        auto dense = dyn_cast<DenseElementsAttr>(o.getValue());
        if (!dense)
          return error("only dense constants are supported");
        Tensor r = result();
        int64_t i = 0;
        if (isa<FloatType>(dense.getElementType())) {
          for (const llvm::APFloat &f : dense.getValues<llvm::APFloat>())
            r.data[i++] = f.convertToDouble();
        } else {
          bool isBool = dense.getElementType().isInteger(1);
          for (const llvm::APInt &v : dense.getValues<llvm::APInt>())
            r.data[i++] = isBool ? static_cast<double>(v.getZExtValue())
                                 : static_cast<double>(v.getSExtValue());
        }
        set(std::move(r));
        return ok();
      })
      .Case([&](LossOp o) {
        ev.lossValue = o.getValue();
        return ok();
      })
      .Case([&](OutputOp o) {
        ev.outputs[o.getName()] = in(o.getValue());
        return ok();
      })
      // Marks and the optimizer declaration: nothing to compute.
      .Case<RetainGradOp, ReadGradOp, TrainOp>([&](auto) { return ok(); })
      .Case([&](GradientOp o) {
        if (!ev.gradients.count(o.getName()))
          ev.gradientOrder.push_back(o.getName().str());
        ev.gradients[o.getName()] = in(o.getValue());
        return ok();
      })
      .Case([&](GradHookOp o) { return identity(o.getInput()); })
      .Case([&](HookCallOp o) -> Error {
        auto it = ev.hooks.find(o.getName());
        if (it == ev.hooks.end())
          return identity(o.getGrad());
        Tensor t = it->second(in(o.getGrad()));
        if (t.shape != in(o.getGrad()).shape)
          return error("hook '" + o.getName() + "' returned " + t.typeStr() +
                       " for a gradient " + in(o.getGrad()).typeStr());
        set(std::move(t));
        return ok();
      })
      .Case<NoGradOp, InferenceOp>([&](auto o) -> Error {
        Block &body = o.getBody().front();
        if (Error e = ev.runBlock(body))
          return e;
        auto yield = cast<YieldOp>(body.getTerminator());
        for (auto [i, v] : llvm::enumerate(yield.getValues()))
          set(ev.values[v], i);
        return ok();
      })
      .Case([&](YieldOp) { return ok(); })
      // Elementwise.
      .Case<AddOp, AddInPlaceOp>([&](auto) {
        return binary([](double a, double b) { return a + b; });
      })
      .Case<SubOp, SubInPlaceOp>([&](auto) {
        return binary([](double a, double b) { return a - b; });
      })
      .Case<MulOp, MulInPlaceOp>([&](auto) {
        return binary([](double a, double b) { return a * b; });
      })
      .Case<DivOp, DivInPlaceOp>([&](auto) {
        return binary([](double a, double b) { return a / b; });
      })
      .Case([&](PowOp) {
        return binary([](double a, double b) { return std::pow(a, b); });
      })
      .Case([&](MaximumOp) {
        return binary([](double a, double b) {
          return std::isnan(a) || std::isnan(b) ? nan() : std::max(a, b);
        });
      })
      .Case([&](MinimumOp) {
        return binary([](double a, double b) {
          return std::isnan(a) || std::isnan(b) ? nan() : std::min(a, b);
        });
      })
      .Case([&](GeluOp o) {
        if (o.getApproximate() == GeluApproximation::tanh)
          return unary([](double x) { return scalar::geluTanh(x); });
        return unary([](double x) { return scalar::gelu(x); });
      })
      .Case([&](WhereOp o) {
        Tensor r = result();
        auto mc = broadcastMap(r.shape, in(o.getCondition()).shape);
        auto ma = broadcastMap(r.shape, in(o.getLhs()).shape);
        auto mb = broadcastMap(r.shape, in(o.getRhs()).shape);
        for (int64_t i = 0; i < r.numel(); ++i)
          r.data[i] = in(o.getCondition()).data[mc[i]] != 0
                          ? in(o.getLhs()).data[ma[i]]
                          : in(o.getRhs()).data[mb[i]];
        set(std::move(r));
        return ok();
      })
      .Case<MaskedFillOp, MaskedFillInPlaceOp>([&](auto o) {
        double value = o.getValue().convertToDouble();
        return binary(op->getOperand(0), o.getMask(),
                      [value](double x, double m) { return m != 0 ? value : x; });
      })
      .Case([&](CompareOp o) {
        ComparePredicate p = o.getPredicate();
        return binary([p](double a, double b) -> double {
          switch (p) {
          case ComparePredicate::eq:
            return a == b;
          case ComparePredicate::ne:
            return a != b;
          case ComparePredicate::lt:
            return a < b;
          case ComparePredicate::le:
            return a <= b;
          case ComparePredicate::gt:
            return a > b;
          case ComparePredicate::ge:
            return a >= b;
          }
          return 0.0;
        });
      })
      .Case([&](CastOp o) { return identity(o.getInput()); })
      // Linear algebra and reductions.
      .Case([&](MatmulOp o) { return matmul(in(o.getLhs()), in(o.getRhs())); })
      .Case([&](LinearOp o) {
        const Tensor &x = in(o.getInput()), &w = in(o.getWeight());
        int64_t k = w.shape[1], out = w.shape[0], rows = x.numel() / k;
        Tensor r = result();
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < out; ++j) {
            double s = o.getBias() ? in(o.getBias()).data[j] : 0.0;
            double dot = 0;
            for (int64_t l = 0; l < k; ++l)
              dot += x.data[i * k + l] * w.data[j * k + l];
            r.data[i * out + j] = dot + s;
          }
        set(std::move(r));
        return ok();
      })
      .Case([&](SumOp o) { return reduce(o.getDims(), 0); })
      .Case([&](MeanOp o) { return reduce(o.getDims(), 1); })
      .Case([&](MaxOp o) { return reduce(o.getDims(), 2); })
      .Case([&](ArgmaxOp o) {
        const Tensor &x = in(0);
        Split s = splitAt(x.shape, normDim(o.getDim(), x.rank()));
        Tensor r = result();
        for (int64_t a = 0; a < s.outer; ++a)
          for (int64_t i = 0; i < s.inner; ++i) {
            int64_t best = 0;
            for (int64_t j = 1; j < s.n; ++j) {
              double v = x.data[(a * s.n + j) * s.inner + i];
              double b = x.data[(a * s.n + best) * s.inner + i];
              if (!std::isnan(b) && (v > b || std::isnan(v)))
                best = j;
            }
            r.data[a * s.inner + i] = best;
          }
        set(std::move(r));
        return ok();
      })
      // Shapes.
      .Case<ReshapeOp, DetachOp, CloneOp>(
          [&](auto o) { return identity(o.getInput()); })
      .Case([&](TransposeOp o) {
        const Tensor &x = in(0);
        SmallVector<int64_t> perm;
        for (int64_t d = 0; d < x.rank(); ++d)
          perm.push_back(d);
        std::swap(perm[normDim(o.getDim0(), x.rank())],
                  perm[normDim(o.getDim1(), x.rank())]);
        Tensor r = result();
        auto xs = stridesOf(x.shape);
        for (int64_t lin = 0; lin < r.numel(); ++lin) {
          auto idx = unravel(lin, r.shape);
          int64_t off = 0;
          for (int64_t d = 0; d < x.rank(); ++d)
            off += idx[d] * xs[perm[d]];
          r.data[lin] = x.data[off];
        }
        set(std::move(r));
        return ok();
      })
      .Case([&](PermuteOp o) {
        const Tensor &x = in(0);
        Tensor r = result();
        auto xs = stridesOf(x.shape);
        for (int64_t lin = 0; lin < r.numel(); ++lin) {
          auto idx = unravel(lin, r.shape);
          int64_t off = 0;
          for (int64_t d = 0; d < x.rank(); ++d)
            off += idx[d] * xs[normDim(o.getDims()[d], x.rank())];
          r.data[lin] = x.data[off];
        }
        set(std::move(r));
        return ok();
      })
      .Case([&](BroadcastToOp o) {
        Tensor r = result();
        auto m = broadcastMap(r.shape, in(0).shape);
        for (int64_t i = 0; i < r.numel(); ++i)
          r.data[i] = in(0).data[m[i]];
        set(std::move(r));
        return ok();
      })
      .Case([&](SliceOp o) {
        return slice(in(0), o.getDim(), o.getStart(), o.getEnd(), o.getStep(),
                     false);
      })
      .Case([&](SliceBackwardOp o) {
        return slice(in(0), o.getDim(), o.getStart(), o.getEnd(), o.getStep(),
                     true);
      })
      .Case([&](ConcatOp o) {
        Tensor r = result();
        int64_t dim = normDim(o.getDim(), r.rank());
        Split rs = splitAt(r.shape, dim);
        int64_t offset = 0;
        for (Value v : o.getInputs()) {
          const Tensor &t = in(v);
          Split ts = splitAt(t.shape, dim);
          for (int64_t a = 0; a < ts.outer; ++a)
            for (int64_t j = 0; j < ts.n; ++j)
              for (int64_t i = 0; i < ts.inner; ++i)
                r.data[(a * rs.n + offset + j) * rs.inner + i] =
                    t.data[(a * ts.n + j) * ts.inner + i];
          offset += ts.n;
        }
        set(std::move(r));
        return ok();
      })
      // Neural-network ops.
      .Case([&](SoftmaxOp o) { return softmax(o.getDim(), false); })
      .Case([&](LogSoftmaxOp o) { return softmax(o.getDim(), true); })
      .Case([&](Conv2dOp o) { return conv2d(o); })
      .Case([&](Conv2dBackwardInputOp o) { return convBackwardInput(o); })
      .Case([&](Conv2dBackwardWeightOp o) { return convBackwardWeight(o); })
      .Case([&](MaxPool2dOp) { return pool(op, true, false); })
      .Case([&](AvgPool2dOp) { return pool(op, false, false); })
      .Case([&](MaxPool2dBackwardOp) { return pool(op, true, true); })
      .Case([&](AvgPool2dBackwardOp) { return pool(op, false, true); })
      .Case([&](LayerNormOp o) { return layerNorm(o); })
      .Case([&](BatchNormOp o) { return batchNorm(o); })
      .Case([&](DropoutOp o) {
        double p = o.getP().convertToDouble();
        Tensor r = in(0);
        if (ev.mode == Mode::Train)
          for (int64_t i = 0; i < r.numel(); ++i)
            r.data[i] = dropoutUniform(ev.seed, o.getStream(), i) < p
                            ? 0.0
                            : r.data[i] / (1.0 - p);
        set(std::move(r));
        return ok();
      })
      .Case([&](EmbeddingOp o) -> Error {
        const Tensor &w = in(o.getWeight()), &idx = in(o.getIndices());
        int64_t num = w.shape[0], dim = w.shape[1];
        std::optional<int64_t> pad;
        if (auto p = o.getPaddingIdx())
          pad = static_cast<int64_t>(*p) < 0 ? static_cast<int64_t>(*p) + num
                                              : static_cast<int64_t>(*p);
        auto held = ev.paddingRows.find(op);
        Tensor r = result();
        for (int64_t i = 0; i < idx.numel(); ++i) {
          int64_t row = static_cast<int64_t>(idx.data[i]);
          if (row < 0 || row >= num)
            return error(llvm::formatv("index {0} is out of range for an "
                                       "embedding of {1} rows", row, num));
          const Tensor &from = pad && row == *pad && held != ev.paddingRows.end()
                                   ? held->second
                                   : w;
          for (int64_t j = 0; j < dim; ++j)
            r.data[i * dim + j] = from.data[row * dim + j];
        }
        set(std::move(r));
        return ok();
      })
      .Case([&](EmbeddingBackwardOp o) -> Error {
        const Tensor &g = in(o.getGrad()), &idx = in(o.getIndices());
        Tensor r = result();
        int64_t num = r.shape[0], dim = r.shape[1];
        std::optional<int64_t> pad;
        if (auto p = o.getPaddingIdx())
          pad = static_cast<int64_t>(*p) < 0 ? static_cast<int64_t>(*p) + num
                                              : static_cast<int64_t>(*p);
        for (int64_t i = 0; i < idx.numel(); ++i) {
          int64_t row = static_cast<int64_t>(idx.data[i]);
          if (row < 0 || row >= num)
            return error(llvm::formatv("index {0} is out of range for an "
                                       "embedding of {1} rows", row, num));
          if (pad && row == *pad)
            continue;
          for (int64_t j = 0; j < dim; ++j)
            r.data[row * dim + j] += g.data[i * dim + j];
        }
        set(std::move(r));
        return ok();
      })
      .Case([&](OneHotOp o) {
        Tensor r = result();
        int64_t c = r.shape.back();
        const Tensor &t = in(0);
        for (int64_t i = 0; i < t.numel(); ++i) {
          int64_t k = static_cast<int64_t>(t.data[i]);
          if (k >= 0 && k < c)
            r.data[i * c + k] = 1.0;
        }
        set(std::move(r));
        return ok();
      })
      .Case([&](ScaledDotProductAttentionOp o) { return attention(o); })
      .Case([&](CrossEntropyOp o) {
        return classLoss(in(0), in(1), static_cast<int64_t>(o.getIgnoreIndex()),
                         o.getLabelSmoothing().convertToDouble(),
                         o.getReduction(), true);
      })
      .Case([&](NllLossOp o) {
        return classLoss(in(0), in(1), static_cast<int64_t>(o.getIgnoreIndex()),
                         0.0, o.getReduction(), false);
      })
      .Case([&](MseLossOp o) {
        const Tensor &a = in(0), &b = in(1);
        Tensor r = result();
        double total = 0;
        std::vector<double> per(a.numel());
        for (int64_t i = 0; i < a.numel(); ++i)
          total += per[i] = (a.data[i] - b.data[i]) * (a.data[i] - b.data[i]);
        if (o.getReduction() == Reduction::none)
          r.data = per;
        else
          r.data[0] = o.getReduction() == Reduction::sum ? total
                                                          : total / a.numel();
        set(std::move(r));
        return ok();
      })
      .Default([&](Operation *) {
        return error("the reference evaluator does not support this op");
      });
}
