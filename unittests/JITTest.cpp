//===- JITTest.cpp - Generated code against the reference evaluator -------===//
//
// Each model is compiled to native code through the CPU pipeline and run
// through its training program; the loss, every gradient, updated buffers and
// eval-mode outputs must match the reference evaluator (f32 tolerance).
//
//===----------------------------------------------------------------------===//

#include "graft/Target/JIT.h"
#include "graft/Autograd/Backward.h"
#include "graft/Conversion/Passes.h"
#include "graft/Dialect/Graft/IR/UnaryOps.h"
#include "graft/Evaluator/Evaluator.h"
#include "graft/Pipelines/Pipelines.h"
#include "graft/Target/Sanitize.h"
#include "graft/Target/ThreadRuntime.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/AsmParser/Parser.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/SourceMgr.h"

#include "JITBuffer.h"
#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <random>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GRAFT_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define GRAFT_TEST_ASAN 1
#endif
#ifdef GRAFT_TEST_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

using namespace mlir;
using namespace graft;
using eval::DType;
using eval::Tensor;

namespace {

void expectClose(const Tensor &want, const Buffer &got, const std::string &what,
                 double atol = 2e-5, double rtol = 1e-4) {
  ASSERT_EQ((int64_t)want.data.size(), got.slot.numel()) << what;
  for (int64_t i = 0; i < got.slot.numel(); ++i) {
    double w = want.data[i], g = got.at(i);
    if (std::isnan(w) && std::isnan(g))
      continue; // log(-1) is NaN in both
    EXPECT_LE(std::abs(w - g), atol + rtol * std::abs(w))
        << what << "[" << i << "]: evaluator " << w << ", generated " << g;
  }
}

/// Deterministic inputs: floats from N(0, 1), rounded to their type;
/// integer inputs in [0, bound).
Tensor randomInput(ModelOp model, InputOp in, std::mt19937_64 &rng,
                   int64_t bound) {
  auto t = in.getType();
  DType dtype = *graft::elementTypeOf(t.getElementType());
  Tensor x = Tensor::filled(t.getShape(), dtype);
  std::normal_distribution<double> normal;
  for (double &v : x.data)
    v = isa<FloatType>(t.getElementType()) ? eval::roundTo(dtype, normal(rng))
                                           : (double)(rng() % (uint64_t)bound);
  return x;
}

class JITTest : public ::testing::TestWithParam<std::string> {};

TEST_P(JITTest, MatchesTheEvaluator) {
  // Known gap: in the AddressSanitizer build (scripts/sanitize.sh) a bf16
  // model's JIT code still asks for __truncsfbf2, which graft-expand-bf16
  // removes in the release build; the cause is not found yet.
  if (processHasAddressSanitizer() &&
      GetParam().find("bf16") != std::string::npos)
    GTEST_SKIP() << "bf16 under AddressSanitizer: __truncsfbf2 (known gap)";
  DialectRegistry registry;
  registerCodegenDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  OwningOpRef<ModuleOp> reference = parseSourceString<ModuleOp>(GetParam(), &ctx);
  OwningOpRef<ModuleOp> compiled = parseSourceString<ModuleOp>(GetParam(), &ctx);
  ASSERT_TRUE(reference && compiled);
  ModelOp model = *reference->getOps<ModelOp>().begin();
  std::string name = model.getSymName().str();

  // The reference: forward and backward in the evaluator (f32 rounding).
  ASSERT_TRUE(succeeded(deriveBackward(model)));
  const uint64_t seed = 7;
  eval::Evaluator ev(model, eval::Mode::Train, seed);
  std::mt19937_64 rng(42);
  int64_t classes = 4;
  for (InputOp in : model.getBody().getOps<InputOp>())
    ev.setInput(in.getName(), randomInput(model, in, rng, classes));
  ASSERT_FALSE((bool)ev.initParams());
  llvm::Error err = ev.run();
  ASSERT_FALSE((bool)err) << llvm::toString(std::move(err));

  auto jitOr = JITModel::compile(*compiled);
  ASSERT_TRUE((bool)jitOr) << llvm::toString(jitOr.takeError());
  JITModel &jit = **jitOr;

  const EntryPoint *fb = jit.entryPoint(name + "_forward_backward");
  ASSERT_NE(fb, nullptr);
  std::vector<Buffer> args;
  for (const TensorSlot &s : fb->args) {
    args.emplace_back(s);
    Buffer &b = args.back();
    if (s.role == Role::param || s.role == Role::buffer)
      b.set(*ev.param(s.name));
    else if (s.role == Role::input)
      b.set(*ev.input(s.name));
    else if (s.role == Role::seed)
      b.set(Tensor({}, DType::I64, {(double)seed}));
    else if (s.role == Role::grad)
      std::memset(b.bytes.data(), 0, b.bytes.size());
  }
  auto called = callEntry(jit, *fb, args);
  ASSERT_TRUE((bool)called) << llvm::toString(called.takeError());
  std::vector<Buffer> &results = *called;

  for (Buffer &r : results) {
    Role role = r.slot.role;
    if (role == Role::loss)
      expectClose(*ev.loss(), r, "loss");
    else if (role == Role::grad || role == Role::input_grad ||
             role == Role::retained_grad)
      expectClose(*ev.gradient(r.slot.name), r, "grad of " + r.slot.name);
    else if (role == Role::buffer)
      expectClose(*ev.buffer(r.slot.name), r, "buffer " + r.slot.name);
  }

  // Eval mode: the outputs of the eval entry point.
  const EntryPoint *evalFn = jit.entryPoint(name + "_eval");
  ASSERT_NE(evalFn, nullptr);
  OwningOpRef<ModuleOp> evalRef = parseSourceString<ModuleOp>(GetParam(), &ctx);
  ModelOp evalModel = *evalRef->getOps<ModelOp>().begin();
  eval::Evaluator ee(evalModel, eval::Mode::Eval, seed);
  for (InputOp in : evalModel.getBody().getOps<InputOp>())
    ee.setInput(in.getName(), *ev.input(in.getName()));
  for (ParamOp p : evalModel.getBody().getOps<ParamOp>())
    ee.setParam(p.getName(), *ev.param(p.getName()));
  for (BufferOp b : evalModel.getBody().getOps<BufferOp>())
    ee.setParam(b.getName(), *ev.param(b.getName()));
  err = ee.run();
  ASSERT_FALSE((bool)err) << llvm::toString(std::move(err));
  std::vector<Buffer> eargs;
  for (const TensorSlot &s : evalFn->args) {
    eargs.emplace_back(s);
    if (s.role == Role::input)
      eargs.back().set(*ee.input(s.name));
    else
      eargs.back().set(*ee.param(s.name));
  }
  auto evalCalled = callEntry(jit, *evalFn, eargs);
  ASSERT_TRUE((bool)evalCalled) << llvm::toString(evalCalled.takeError());
  std::vector<Buffer> &eresults = *evalCalled;
  for (Buffer &r : eresults) {
    if (r.slot.role == Role::loss)
      expectClose(*ee.loss(), r, "eval loss");
    else
      expectClose(*ee.output(r.slot.name), r, "eval output " + r.slot.name);
  }
}

const char *kModels[] = {
    // The MLP of the main job, small.
    R"mlir(
graft.model @mlp {
  %x = graft.input "x" : tensor<8x5xf32>
  %y = graft.input "y" : tensor<8xi64>
  %w1 = graft.param "fc1.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<6x5xf32>
  %b1 = graft.param "fc1.bias" init <uniform, {a = -0.4 : f64, b = 0.4 : f64}> : tensor<6xf32>
  %w2 = graft.param "fc2.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<4x6xf32>
  %b2 = graft.param "fc2.bias" frozen init <uniform, {a = -0.4 : f64, b = 0.4 : f64}> : tensor<4xf32>
  %h = graft.linear %x, %w1, %b1 : (tensor<8x5xf32>, tensor<6x5xf32>, tensor<6xf32>) -> tensor<8x6xf32>
  %a = graft.relu %h : tensor<8x6xf32>
  %logits = graft.linear %a, %w2, %b2 : (tensor<8x6xf32>, tensor<4x6xf32>, tensor<4xf32>) -> tensor<8x4xf32>
  %loss = graft.cross_entropy %logits, %y {label_smoothing = 0.1 : f64} : (tensor<8x4xf32>, tensor<8xi64>) -> tensor<f32>
  graft.output "logits" %logits : tensor<8x4xf32>
  graft.loss %loss : tensor<f32>
}
)mlir",
    // Products whose columns no register tile holds whole (112 = 64 + 48,
    // 88 = 64 + 24, 40 = 32 + 8, 20 = 16 + 4): split off by the CPU
    // strategy, the bias and the zero init split with them, in the forward
    // and in the weight and input gradients.
    R"mlir(
graft.model @odd_widths {
  %x = graft.input "x" : tensor<130x40xf32>
  %y = graft.input "y" : tensor<130xi64>
  %w1 = graft.param "fc1.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<112x40xf32>
  %b1 = graft.param "fc1.bias" init <uniform, {a = -0.4 : f64, b = 0.4 : f64}> : tensor<112xf32>
  %w2 = graft.param "fc2.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<88x112xf32>
  %w3 = graft.param "fc3.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<20x88xf32>
  %h = graft.linear %x, %w1, %b1 : (tensor<130x40xf32>, tensor<112x40xf32>, tensor<112xf32>) -> tensor<130x112xf32>
  %a = graft.relu %h : tensor<130x112xf32>
  %h2 = graft.linear %a, %w2 : (tensor<130x112xf32>, tensor<88x112xf32>) -> tensor<130x88xf32>
  %a2 = graft.tanh %h2 : tensor<130x88xf32>
  %logits = graft.linear %a2, %w3 : (tensor<130x88xf32>, tensor<20x88xf32>) -> tensor<130x20xf32>
  %loss = graft.cross_entropy %logits, %y : (tensor<130x20xf32>, tensor<130xi64>) -> tensor<f32>
  graft.output "logits" %logits : tensor<130x20xf32>
  graft.loss %loss : tensor<f32>
}
)mlir",
    // Elementwise ops with broadcasting, and their VJPs.
    R"mlir(
graft.model @elementwise {
  %x = graft.input "x" requires_grad : tensor<3x4xf32>
  %w = graft.param "w" init <normal> : tensor<4xf32>
  %v = graft.param "v" init <uniform, {a = 0.5 : f64, b = 2.0 : f64}> : tensor<3x1xf32>
  %0 = graft.mul %x, %w : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %1 = graft.div %0, %v : (tensor<3x4xf32>, tensor<3x1xf32>) -> tensor<3x4xf32>
  %2 = graft.tanh %1 : tensor<3x4xf32>
  %3 = graft.sigmoid %0 : tensor<3x4xf32>
  %4 = graft.gelu %1 : tensor<3x4xf32>
  %5 = graft.gelu %3 {approximate = #graft<gelu_approximation tanh>} : tensor<3x4xf32>
  %6 = graft.silu %2 : tensor<3x4xf32>
  %7 = graft.maximum %4, %5 : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %8 = graft.sub %6, %7 : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %9 = graft.exp %8 : tensor<3x4xf32>
  %10 = graft.log %9 : tensor<3x4xf32>
  %11 = graft.abs %10 : tensor<3x4xf32>
  %12 = graft.sqrt %9 : tensor<3x4xf32>
  %13 = graft.add %11, %12 : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %14 = graft.pow %v, %13 : (tensor<3x1xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %15 = graft.minimum %14, %13 : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %s = graft.mean %15 {dims = array<i64: 1>} : tensor<3x4xf32> -> tensor<3xf32>
  %m = graft.max %s : tensor<3xf32> -> tensor<f32>
  %n = graft.sum %15 : tensor<3x4xf32> -> tensor<f32>
  %l = graft.add %m, %n : (tensor<f32>, tensor<f32>) -> tensor<f32>
  graft.output "y" %15 : tensor<3x4xf32>
  graft.loss %l : tensor<f32>
}
)mlir",
    // Layout, matmul with broadcasting, softmax, masks and losses.
    R"mlir(
graft.model @layout {
  %x = graft.input "x" : tensor<2x3x4xf32>
  %t = graft.input "t" : tensor<2x3xi64>
  %w = graft.param "w" init <normal> : tensor<4x5xf32>
  %u = graft.param "u" init <normal> : tensor<5xf32>
  %e = graft.param "emb" init <normal> : tensor<4x5xf32>
  %0 = graft.matmul %x, %w : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  %1 = graft.matmul %0, %u : (tensor<2x3x5xf32>, tensor<5xf32>) -> tensor<2x3xf32>
  %2 = graft.transpose %0 {dim0 = 1 : i64, dim1 = 2 : i64} : tensor<2x3x5xf32> -> tensor<2x5x3xf32>
  %3 = graft.permute %2 {dims = array<i64: 2, 0, 1>} : tensor<2x5x3xf32> -> tensor<3x2x5xf32>
  %4 = graft.reshape %3 : tensor<3x2x5xf32> -> tensor<6x5xf32>
  %5 = graft.slice %4 {dim = 0 : i64, start = 1 : i64, end = 6 : i64, step = 2 : i64} : tensor<6x5xf32> -> tensor<3x5xf32>
  %6 = graft.concat %5, %4 {dim = 0 : i64} : (tensor<3x5xf32>, tensor<6x5xf32>) -> tensor<9x5xf32>
  %7 = graft.softmax %6 {dim = 1 : i64} : tensor<9x5xf32>
  %8 = graft.log_softmax %6 {dim = 0 : i64} : tensor<9x5xf32>
  %9 = graft.mul %7, %8 : (tensor<9x5xf32>, tensor<9x5xf32>) -> tensor<9x5xf32>
  %z = graft.constant dense<0.0> : tensor<f32>
  %m = graft.compare gt, %9, %z : (tensor<9x5xf32>, tensor<f32>) -> tensor<9x5xi1>
  %10 = graft.where %m, %9, %7 : (tensor<9x5xi1>, tensor<9x5xf32>, tensor<9x5xf32>) -> tensor<9x5xf32>
  %11 = graft.masked_fill %10, %m {value = 0.5 : f64} : (tensor<9x5xf32>, tensor<9x5xi1>) -> tensor<9x5xf32>
  %12 = graft.broadcast_to %1 : tensor<2x3xf32> -> tensor<5x2x3xf32>
  %13 = graft.embedding %e, %t : (tensor<4x5xf32>, tensor<2x3xi64>) -> tensor<2x3x5xf32>
  %14 = graft.reshape %13 : tensor<2x3x5xf32> -> tensor<6x5xf32>
  %15 = graft.log_softmax %14 {dim = 1 : i64} : tensor<6x5xf32>
  %tf = graft.reshape %t : tensor<2x3xi64> -> tensor<6xi64>
  %l1 = graft.nll_loss %15, %tf {ignore_index = 1 : i64} : (tensor<6x5xf32>, tensor<6xi64>) -> tensor<f32>
  %l2 = graft.sum %11 : tensor<9x5xf32> -> tensor<f32>
  %l3 = graft.mean %12 : tensor<5x2x3xf32> -> tensor<f32>
  %sq = graft.slice %4 {dim = 0 : i64, start = 0 : i64, end = 5 : i64} : tensor<6x5xf32> -> tensor<5x5xf32>
  %dr = graft.dropout %sq {p = 0.3 : f64, stream = 4 : i64} : tensor<5x5xf32>
  %sp = graft.slice %7 {dim = 0 : i64, start = 0 : i64, end = 5 : i64} : tensor<9x5xf32> -> tensor<5x5xf32>
  %l4 = graft.mse_loss %dr, %sp {reduction = #graft<reduction sum>} : (tensor<5x5xf32>, tensor<5x5xf32>) -> tensor<f32>
  %l7 = graft.add %l1, %l4 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %l5 = graft.add %l7, %l2 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %l6 = graft.add %l5, %l3 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  graft.output "p" %7 : tensor<9x5xf32>
  graft.loss %l6 : tensor<f32>
}
)mlir",
    // A LeNet-like CNN: padded conv with bias, batch_norm with its buffers,
    // max/avg pooling (padding, ceil_mode, count_include_pad, dilation),
    // grouped strided dilated conv, an ungrouped one (the CPU's products
    // over patches), a strided conv without bias, and ties.
    R"mlir(
graft.model @cnn {
  %x = graft.input "x" requires_grad : tensor<4x1x12x12xf32>
  %y = graft.input "y" : tensor<4xi64>
  %w1 = graft.param "c1.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<4x1x3x3xf32>
  %b1 = graft.param "c1.bias" init <uniform, {a = -0.3 : f64, b = 0.3 : f64}> : tensor<4xf32>
  %g = graft.param "bn.weight" init <uniform, {a = 0.5 : f64, b = 1.5 : f64}> : tensor<4xf32>
  %bb = graft.param "bn.bias" init <uniform, {a = -0.5 : f64, b = 0.5 : f64}> : tensor<4xf32>
  %rm = graft.buffer "bn.running_mean" init <zeros> : tensor<4xf32>
  %rv = graft.buffer "bn.running_var" init <ones> : tensor<4xf32>
  %nb = graft.buffer "bn.num_batches_tracked" init <zeros> : tensor<i64>
  %w2 = graft.param "c2.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<6x2x3x3xf32>
  %b2 = graft.param "c2.bias" init <uniform, {a = -0.3 : f64, b = 0.3 : f64}> : tensor<6xf32>
  %w3 = graft.param "c3.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<3x6x2x2xf32>
  %w4 = graft.param "c4.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<2x4x3x3xf32>
  %b4 = graft.param "c4.bias" init <uniform, {a = -0.3 : f64, b = 0.3 : f64}> : tensor<2xf32>
  %wf = graft.param "fc.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<4x54xf32>
  %bf = graft.param "fc.bias" init <uniform, {a = -0.1 : f64, b = 0.1 : f64}> : tensor<4xf32>
  // Zeros: %z below ties along W, and its gradient shows which tie max
  // pooling picked (the first).
  %tie = graft.param "tie" init <zeros> : tensor<4x4xf32>
  %c1 = graft.conv2d %x, %w1, %b1 {padding = array<i64: 1, 1>} : (tensor<4x1x12x12xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>) -> tensor<4x4x12x12xf32>
  %n1 = graft.batch_norm %c1 weight %g bias %bb running %rm, %rv : (tensor<4x4x12x12xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4x4x12x12xf32>
  %r1 = graft.relu %n1 : tensor<4x4x12x12xf32>
  %p1 = graft.max_pool2d %r1 {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, ceil_mode = true} : tensor<4x4x12x12xf32> -> tensor<4x4x7x7xf32>
  %c2 = graft.conv2d %p1, %w2, %b2 {stride = array<i64: 2, 2>, padding = array<i64: 2, 2>, dilation = array<i64: 2, 2>, groups = 2 : i64} : (tensor<4x4x7x7xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<4x6x4x4xf32>
  %t2 = graft.tanh %c2 : tensor<4x6x4x4xf32>
  %a1 = graft.avg_pool2d %t2 {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, ceil_mode = true, count_include_pad = false} : tensor<4x6x4x4xf32> -> tensor<4x6x3x3xf32>
  %a2 = graft.avg_pool2d %t2 {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, ceil_mode = true} : tensor<4x6x4x4xf32> -> tensor<4x6x3x3xf32>
  %a3 = graft.avg_pool2d %t2 {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<4x6x4x4xf32> -> tensor<4x6x2x2xf32>
  %m2 = graft.max_pool2d %t2 {kernel_size = array<i64: 2, 2>, stride = array<i64: 1, 1>, dilation = array<i64: 2, 2>} : tensor<4x6x4x4xf32> -> tensor<4x6x2x2xf32>
  %c3 = graft.conv2d %t2, %w3 {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : (tensor<4x6x4x4xf32>, tensor<3x6x2x2xf32>) -> tensor<4x3x3x3xf32>
  %s = graft.sub %a1, %a2 : (tensor<4x6x3x3xf32>, tensor<4x6x3x3xf32>) -> tensor<4x6x3x3xf32>
  %f = graft.reshape %s : tensor<4x6x3x3xf32> -> tensor<4x54xf32>
  %logits = graft.linear %f, %wf, %bf : (tensor<4x54xf32>, tensor<4x54xf32>, tensor<4xf32>) -> tensor<4x4xf32>
  %ce = graft.cross_entropy %logits, %y : (tensor<4x4xf32>, tensor<4xi64>) -> tensor<f32>
  %q = graft.mul %m2, %a3 : (tensor<4x6x2x2xf32>, tensor<4x6x2x2xf32>) -> tensor<4x6x2x2xf32>
  %l2 = graft.mean %q : tensor<4x6x2x2xf32> -> tensor<f32>
  %c3s = graft.mul %c3, %c3 : (tensor<4x3x3x3xf32>, tensor<4x3x3x3xf32>) -> tensor<4x3x3x3xf32>
  %l3 = graft.mean %c3s : tensor<4x3x3x3xf32> -> tensor<f32>
  %l4 = graft.add %ce, %l2 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %l5 = graft.add %l4, %l3 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %u = graft.mean %t2 {dims = array<i64: 3>, keepdim = true} : tensor<4x6x4x4xf32> -> tensor<4x6x4x1xf32>
  %z = graft.add %u, %tie : (tensor<4x6x4x1xf32>, tensor<4x4xf32>) -> tensor<4x6x4x4xf32>
  %mz = graft.max_pool2d %z {kernel_size = array<i64: 2, 2>, stride = array<i64: 1, 1>} : tensor<4x6x4x4xf32> -> tensor<4x6x3x3xf32>
  %lz = graft.mean %mz : tensor<4x6x3x3xf32> -> tensor<f32>
  %c4 = graft.conv2d %p1, %w4, %b4 {stride = array<i64: 2, 2>, padding = array<i64: 2, 2>, dilation = array<i64: 2, 2>} : (tensor<4x4x7x7xf32>, tensor<2x4x3x3xf32>, tensor<2xf32>) -> tensor<4x2x4x4xf32>
  %c4s = graft.mul %c4, %c4 : (tensor<4x2x4x4xf32>, tensor<4x2x4x4xf32>) -> tensor<4x2x4x4xf32>
  %l7 = graft.mean %c4s : tensor<4x2x4x4xf32> -> tensor<f32>
  %lzz = graft.add %l5, %lz : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %loss = graft.add %lzz, %l7 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  graft.output "logits" %logits : tensor<4x4xf32>
  graft.output "pooled" %m2 : tensor<4x6x2x2xf32>
  graft.loss %loss : tensor<f32>
}
)mlir",
    // Grouped convolutions (the CPU's products per group): depthwise with a
    // channel multiplier, strided and padded; depthwise 5x5, dilated; grouped
    // with several channels a group. The input's gradient is checked too.
    R"mlir(
graft.model @grouped {
  %x = graft.input "x" requires_grad : tensor<3x4x9x9xf32>
  %w1 = graft.param "dw.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<8x1x3x3xf32>
  %b1 = graft.param "dw.bias" init <uniform, {a = -0.3 : f64, b = 0.3 : f64}> : tensor<8xf32>
  %w2 = graft.param "dw5.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<8x1x5x5xf32>
  %w3 = graft.param "gc.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<4x4x3x3xf32>
  %b3 = graft.param "gc.bias" init <uniform, {a = -0.3 : f64, b = 0.3 : f64}> : tensor<4xf32>
  %c1 = graft.conv2d %x, %w1, %b1 {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 4 : i64} : (tensor<3x4x9x9xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>) -> tensor<3x8x5x5xf32>
  %t1 = graft.tanh %c1 : tensor<3x8x5x5xf32>
  %c2 = graft.conv2d %t1, %w2 {padding = array<i64: 4, 4>, dilation = array<i64: 2, 2>, groups = 8 : i64} : (tensor<3x8x5x5xf32>, tensor<8x1x5x5xf32>) -> tensor<3x8x5x5xf32>
  %t2 = graft.tanh %c2 : tensor<3x8x5x5xf32>
  %c3 = graft.conv2d %t2, %w3, %b3 {padding = array<i64: 1, 1>, groups = 2 : i64} : (tensor<3x8x5x5xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>) -> tensor<3x4x5x5xf32>
  %sq = graft.mul %c3, %c3 : (tensor<3x4x5x5xf32>, tensor<3x4x5x5xf32>) -> tensor<3x4x5x5xf32>
  %loss = graft.mean %sq : tensor<3x4x5x5xf32> -> tensor<f32>
  graft.output "y" %c3 : tensor<3x4x5x5xf32>
  graft.loss %loss : tensor<f32>
}
)mlir",
    // A small transformer block: embedding with padding_idx, layer_norm
    // (with and without affine parameters, over one and two dims), causal
    // and scaled attention, tanh gelu, dropout.
    R"mlir(
graft.model @transformer {
  %tok = graft.input "tokens" : tensor<2x6xi64>
  %tgt = graft.input "targets" : tensor<2x6xi64>
  %wte = graft.param "wte" init <normal> : tensor<5x8xf32>
  %wpe = graft.param "wpe" init <normal, {mean = 0.0 : f64, std = 0.5 : f64}> : tensor<6x8xf32>
  %g1 = graft.param "ln1.weight" init <uniform, {a = 0.5 : f64, b = 1.5 : f64}> : tensor<8xf32>
  %b1 = graft.param "ln1.bias" init <uniform, {a = -0.5 : f64, b = 0.5 : f64}> : tensor<8xf32>
  %wqkv = graft.param "attn.qkv.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<24x8xf32>
  %bqkv = graft.param "attn.qkv.bias" init <uniform, {a = -0.2 : f64, b = 0.2 : f64}> : tensor<24xf32>
  %wo = graft.param "attn.proj.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<8x8xf32>
  %g2 = graft.param "ln2.weight" init <uniform, {a = 0.5 : f64, b = 1.5 : f64}> : tensor<6x8xf32>
  %w1 = graft.param "mlp.fc.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<16x8xf32>
  %bb1 = graft.param "mlp.fc.bias" init <uniform, {a = -0.2 : f64, b = 0.2 : f64}> : tensor<16xf32>
  %w2 = graft.param "mlp.proj.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<8x16xf32>
  %wh = graft.param "lm_head.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<4x8xf32>
  %e = graft.embedding %wte, %tok {padding_idx = 0 : i64} : (tensor<5x8xf32>, tensor<2x6xi64>) -> tensor<2x6x8xf32>
  %h0 = graft.add %e, %wpe : (tensor<2x6x8xf32>, tensor<6x8xf32>) -> tensor<2x6x8xf32>
  %n1 = graft.layer_norm %h0 weight %g1 bias %b1 {normalized_shape = array<i64: 8>} : (tensor<2x6x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x6x8xf32>
  %qkv = graft.linear %n1, %wqkv, %bqkv : (tensor<2x6x8xf32>, tensor<24x8xf32>, tensor<24xf32>) -> tensor<2x6x24xf32>
  %q0 = graft.slice %qkv {dim = 2 : i64, start = 0 : i64, end = 8 : i64} : tensor<2x6x24xf32> -> tensor<2x6x8xf32>
  %k0 = graft.slice %qkv {dim = 2 : i64, start = 8 : i64, end = 16 : i64} : tensor<2x6x24xf32> -> tensor<2x6x8xf32>
  %v0 = graft.slice %qkv {dim = 2 : i64, start = 16 : i64, end = 24 : i64} : tensor<2x6x24xf32> -> tensor<2x6x8xf32>
  %q1 = graft.reshape %q0 : tensor<2x6x8xf32> -> tensor<2x6x2x4xf32>
  %k1 = graft.reshape %k0 : tensor<2x6x8xf32> -> tensor<2x6x2x4xf32>
  %v1 = graft.reshape %v0 : tensor<2x6x8xf32> -> tensor<2x6x2x4xf32>
  %q = graft.transpose %q1 {dim0 = 1 : i64, dim1 = 2 : i64} : tensor<2x6x2x4xf32> -> tensor<2x2x6x4xf32>
  %k = graft.transpose %k1 {dim0 = 1 : i64, dim1 = 2 : i64} : tensor<2x6x2x4xf32> -> tensor<2x2x6x4xf32>
  %v = graft.transpose %v1 {dim0 = 1 : i64, dim1 = 2 : i64} : tensor<2x6x2x4xf32> -> tensor<2x2x6x4xf32>
  %a = graft.scaled_dot_product_attention %q, %k, %v {is_causal = true} : (tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>) -> tensor<2x2x6x4xf32>
  %a2 = graft.scaled_dot_product_attention %q, %k, %v {scale = 0.3 : f64} : (tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>) -> tensor<2x2x6x4xf32>
  %as = graft.add %a, %a2 : (tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>) -> tensor<2x2x6x4xf32>
  %at = graft.transpose %as {dim0 = 1 : i64, dim1 = 2 : i64} : tensor<2x2x6x4xf32> -> tensor<2x6x2x4xf32>
  %ar = graft.reshape %at : tensor<2x6x2x4xf32> -> tensor<2x6x8xf32>
  %o = graft.linear %ar, %wo : (tensor<2x6x8xf32>, tensor<8x8xf32>) -> tensor<2x6x8xf32>
  %od = graft.dropout %o {p = 0.1 : f64, stream = 1 : i64} : tensor<2x6x8xf32>
  %h1 = graft.add %h0, %od : (tensor<2x6x8xf32>, tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  %n2 = graft.layer_norm %h1 weight %g2 {normalized_shape = array<i64: 6, 8>, eps = 1.0e-3 : f64} : (tensor<2x6x8xf32>, tensor<6x8xf32>) -> tensor<2x6x8xf32>
  %f1 = graft.linear %n2, %w1, %bb1 : (tensor<2x6x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>
  %f2 = graft.gelu %f1 {approximate = #graft<gelu_approximation tanh>} : tensor<2x6x16xf32>
  %f3 = graft.linear %f2, %w2 : (tensor<2x6x16xf32>, tensor<8x16xf32>) -> tensor<2x6x8xf32>
  %fd = graft.dropout %f3 {p = 0.2 : f64, stream = 2 : i64} : tensor<2x6x8xf32>
  %h2 = graft.add %h1, %fd : (tensor<2x6x8xf32>, tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  %nf = graft.layer_norm %h2 {normalized_shape = array<i64: 8>} : (tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  %lg = graft.linear %nf, %wh : (tensor<2x6x8xf32>, tensor<4x8xf32>) -> tensor<2x6x4xf32>
  %l2 = graft.reshape %lg : tensor<2x6x4xf32> -> tensor<12x4xf32>
  %t2 = graft.reshape %tgt : tensor<2x6xi64> -> tensor<12xi64>
  %loss = graft.cross_entropy %l2, %t2 : (tensor<12x4xf32>, tensor<12xi64>) -> tensor<f32>
  graft.output "logits" %lg : tensor<2x6x4xf32>
  graft.loss %loss : tensor<f32>
}
)mlir",
    // examples/lenet.graft (graft emit-mlir --dim B=2)
    R"mlir(
module {
  graft.model @lenet {
    %0 = graft.input "images" : tensor<2x1x28x28xf32>
    %1 = graft.input "labels" : tensor<2xi64>
    %2 = graft.param "net.conv1.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<6x1x5x5xf32>
    %3 = graft.param "net.conv1.bias" init <uniform, {a = -2.000000e-01 : f64, b = 2.000000e-01 : f64}> : tensor<6xf32>
    %4 = graft.param "net.conv2.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<16x6x5x5xf32>
    %5 = graft.param "net.conv2.bias" init <uniform, {a = -0.081649658092772608 : f64, b = 0.081649658092772608 : f64}> : tensor<16xf32>
    %6 = graft.param "net.fc1.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<120x400xf32>
    %7 = graft.param "net.fc1.bias" init <uniform, {a = -5.000000e-02 : f64, b = 5.000000e-02 : f64}> : tensor<120xf32>
    %8 = graft.param "net.fc2.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<84x120xf32>
    %9 = graft.param "net.fc2.bias" init <uniform, {a = -0.091287092917527679 : f64, b = 0.091287092917527679 : f64}> : tensor<84xf32>
    %10 = graft.param "net.fc3.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<10x84xf32>
    %11 = graft.param "net.fc3.bias" init <uniform, {a = -0.10910894511799619 : f64, b = 0.10910894511799619 : f64}> : tensor<10xf32>
    %12 = graft.conv2d %0, %2, %3 {padding = array<i64: 2, 2>} : (tensor<2x1x28x28xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>) -> tensor<2x6x28x28xf32>
    %13 = graft.relu %12 : tensor<2x6x28x28xf32>
    %14 = graft.max_pool2d %13 {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<2x6x28x28xf32> -> tensor<2x6x14x14xf32>
    %15 = graft.conv2d %14, %4, %5 : (tensor<2x6x14x14xf32>, tensor<16x6x5x5xf32>, tensor<16xf32>) -> tensor<2x16x10x10xf32>
    %16 = graft.relu %15 : tensor<2x16x10x10xf32>
    %17 = graft.max_pool2d %16 {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<2x16x10x10xf32> -> tensor<2x16x5x5xf32>
    %18 = graft.reshape %17 : tensor<2x16x5x5xf32> -> tensor<2x400xf32>
    %19 = graft.linear %18, %6, %7 : (tensor<2x400xf32>, tensor<120x400xf32>, tensor<120xf32>) -> tensor<2x120xf32>
    %20 = graft.relu %19 : tensor<2x120xf32>
    %21 = graft.linear %20, %8, %9 : (tensor<2x120xf32>, tensor<84x120xf32>, tensor<84xf32>) -> tensor<2x84xf32>
    %22 = graft.relu %21 : tensor<2x84xf32>
    %23 = graft.linear %22, %10, %11 : (tensor<2x84xf32>, tensor<10x84xf32>, tensor<10xf32>) -> tensor<2x10xf32>
    graft.output "logits" %23 : tensor<2x10xf32>
    %24 = graft.cross_entropy %23, %1 : (tensor<2x10xf32>, tensor<2xi64>) -> tensor<f32>
    graft.loss %24 : tensor<f32>
    graft.train  sgd {lr = 5.000000e-02 : f64, lr_schedule = {gamma = 1.000000e-01 : f64, kind = "StepLR", step_size = 10 : i64}, momentum = 9.000000e-01 : f64, weight_decay = 5.000000e-04 : f64}
  }
}
)mlir",
    // examples/gpt.graft (--dim B=2 --dim T=6 --dim V=4 --dim C=8 --dim H=2
    // --dim L=1)
    R"mlir(
module {
  graft.model @gpt {
    %0 = graft.input "idx" : tensor<2x6xi64>
    %1 = graft.input "targets" : tensor<2x6xi64>
    %2 = graft.input "pos" : tensor<6xi64>
    %3 = graft.param "transformer.wte.weight" init <normal> : tensor<4x8xf32>
    %4 = graft.param "transformer.wpe.weight" init <normal> : tensor<6x8xf32>
    %5 = graft.param "transformer.h.0.ln_1.weight" init <ones> : tensor<8xf32>
    %6 = graft.param "transformer.h.0.ln_1.bias" init <zeros> : tensor<8xf32>
    %7 = graft.param "transformer.h.0.attn.c_attn.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<24x8xf32>
    %8 = graft.param "transformer.h.0.attn.c_attn.bias" init <uniform, {a = -0.35355339059327373 : f64, b = 0.35355339059327373 : f64}> : tensor<24xf32>
    %9 = graft.param "transformer.h.0.attn.c_proj.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<8x8xf32>
    %10 = graft.param "transformer.h.0.attn.c_proj.bias" init <uniform, {a = -0.35355339059327373 : f64, b = 0.35355339059327373 : f64}> : tensor<8xf32>
    %11 = graft.param "transformer.h.0.ln_2.weight" init <ones> : tensor<8xf32>
    %12 = graft.param "transformer.h.0.ln_2.bias" init <zeros> : tensor<8xf32>
    %13 = graft.param "transformer.h.0.mlp.c_fc.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<32x8xf32>
    %14 = graft.param "transformer.h.0.mlp.c_fc.bias" init <uniform, {a = -0.35355339059327373 : f64, b = 0.35355339059327373 : f64}> : tensor<32xf32>
    %15 = graft.param "transformer.h.0.mlp.c_proj.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<8x32xf32>
    %16 = graft.param "transformer.h.0.mlp.c_proj.bias" init <uniform, {a = -0.17677669529663687 : f64, b = 0.17677669529663687 : f64}> : tensor<8xf32>
    %17 = graft.param "transformer.ln_f.weight" init <ones> : tensor<8xf32>
    %18 = graft.param "transformer.ln_f.bias" init <zeros> : tensor<8xf32>
    %19 = graft.param "lm_head.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<4x8xf32>
    %20 = graft.embedding %3, %0 : (tensor<4x8xf32>, tensor<2x6xi64>) -> tensor<2x6x8xf32>
    %21 = graft.embedding %4, %2 : (tensor<6x8xf32>, tensor<6xi64>) -> tensor<6x8xf32>
    %22 = graft.add %20, %21 : (tensor<2x6x8xf32>, tensor<6x8xf32>) -> tensor<2x6x8xf32>
    %23 = graft.layer_norm %22 weight %5 bias %6 {normalized_shape = array<i64: 8>} : (tensor<2x6x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x6x8xf32>
    %24 = graft.linear %23, %7, %8 : (tensor<2x6x8xf32>, tensor<24x8xf32>, tensor<24xf32>) -> tensor<2x6x24xf32>
    %25 = graft.slice %24 {dim = 2 : i64, end = 8 : i64, start = 0 : i64} : tensor<2x6x24xf32> -> tensor<2x6x8xf32>
    %26 = graft.reshape %25 : tensor<2x6x8xf32> -> tensor<2x6x2x4xf32>
    %27 = graft.transpose %26 {dim0 = 1 : i64, dim1 = 2 : i64} : tensor<2x6x2x4xf32> -> tensor<2x2x6x4xf32>
    %28 = graft.slice %24 {dim = 2 : i64, end = 16 : i64, start = 8 : i64} : tensor<2x6x24xf32> -> tensor<2x6x8xf32>
    %29 = graft.reshape %28 : tensor<2x6x8xf32> -> tensor<2x6x2x4xf32>
    %30 = graft.transpose %29 {dim0 = 1 : i64, dim1 = 2 : i64} : tensor<2x6x2x4xf32> -> tensor<2x2x6x4xf32>
    %31 = graft.slice %24 {dim = 2 : i64, end = 24 : i64, start = 16 : i64} : tensor<2x6x24xf32> -> tensor<2x6x8xf32>
    %32 = graft.reshape %31 : tensor<2x6x8xf32> -> tensor<2x6x2x4xf32>
    %33 = graft.transpose %32 {dim0 = 1 : i64, dim1 = 2 : i64} : tensor<2x6x2x4xf32> -> tensor<2x2x6x4xf32>
    %34 = graft.scaled_dot_product_attention %27, %30, %33 {is_causal = true} : (tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>) -> tensor<2x2x6x4xf32>
    %35 = graft.transpose %34 {dim0 = 1 : i64, dim1 = 2 : i64} : tensor<2x2x6x4xf32> -> tensor<2x6x2x4xf32>
    %36 = graft.reshape %35 : tensor<2x6x2x4xf32> -> tensor<2x6x8xf32>
    %37 = graft.linear %36, %9, %10 : (tensor<2x6x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<2x6x8xf32>
    %38 = graft.add %22, %37 : (tensor<2x6x8xf32>, tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
    %39 = graft.layer_norm %38 weight %11 bias %12 {normalized_shape = array<i64: 8>} : (tensor<2x6x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x6x8xf32>
    %40 = graft.linear %39, %13, %14 : (tensor<2x6x8xf32>, tensor<32x8xf32>, tensor<32xf32>) -> tensor<2x6x32xf32>
    %41 = graft.gelu %40 {approximate = #graft<gelu_approximation tanh>} : tensor<2x6x32xf32>
    %42 = graft.linear %41, %15, %16 : (tensor<2x6x32xf32>, tensor<8x32xf32>, tensor<8xf32>) -> tensor<2x6x8xf32>
    %43 = graft.dropout %42 {p = 1.000000e-01 : f64} : tensor<2x6x8xf32>
    %44 = graft.add %38, %43 : (tensor<2x6x8xf32>, tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
    %45 = graft.layer_norm %44 weight %17 bias %18 {normalized_shape = array<i64: 8>} : (tensor<2x6x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x6x8xf32>
    %46 = graft.linear %45, %19 : (tensor<2x6x8xf32>, tensor<4x8xf32>) -> tensor<2x6x4xf32>
    graft.output "logits" %46 : tensor<2x6x4xf32>
    %47 = graft.reshape %46 : tensor<2x6x4xf32> -> tensor<12x4xf32>
    %48 = graft.reshape %1 : tensor<2x6xi64> -> tensor<12xi64>
    %49 = graft.cross_entropy %47, %48 : (tensor<12x4xf32>, tensor<12xi64>) -> tensor<f32>
    graft.loss %49 : tensor<f32>
    graft.train  adamw {accumulation_steps = 4 : i64, betas = array<f64: 9.000000e-01, 0.94999999999999996>, clip_grad_norm = 1.000000e+00 : f64, eps = 1.000000e-08 : f64, lr = 3.000000e-04 : f64, lr_schedule = {T_max = 5000 : i64, kind = "CosineAnnealingLR"}, param_groups = [{params = ["*.bias", "*ln_*.weight"], weight_decay = 0.000000e+00 : f64}], weight_decay = 1.000000e-01 : f64}
  }
}
)mlir",
    // examples/autograd_tour.graft (--dim B=4): hooks, no_grad, inference,
    // in-place ops
    R"mlir(
module {
  graft.model @autograd_tour {
    %0 = graft.input "x" : tensor<4x1x8x8xf32>
    %1 = graft.input "noise" requires_grad : tensor<4x64xf32>
    %2 = graft.input "y" : tensor<4xi64>
    %3 = graft.param "features.conv.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<4x1x3x3xf32>
    %4 = graft.param "features.conv.bias" init <uniform, {a = -0.33333333333333331 : f64, b = 0.33333333333333331 : f64}> : tensor<4xf32>
    %5 = graft.param "features.bn.weight" frozen init <ones> : tensor<4xf32>
    %6 = graft.param "features.bn.bias" frozen init <zeros> : tensor<4xf32>
    %7 = graft.buffer "features.bn.running_mean" init <zeros> : tensor<4xf32>
    %8 = graft.buffer "features.bn.running_var" init <ones> : tensor<4xf32>
    %9 = graft.buffer "features.bn.num_batches_tracked" init <zeros> : tensor<i64>
    %10 = graft.param "embed.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<32x64xf32>
    %11 = graft.param "embed.bias" init <uniform, {a = -1.250000e-01 : f64, b = 1.250000e-01 : f64}> : tensor<32xf32>
    %12 = graft.param "proj.weight" frozen init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<32x32xf32>
    %13 = graft.param "proj.bias" frozen init <uniform, {a = -0.17677669529663687 : f64, b = 0.17677669529663687 : f64}> : tensor<32xf32>
    %14 = graft.param "head.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<10x32xf32>
    %15 = graft.param "head.bias" frozen init <uniform, {a = -0.17677669529663687 : f64, b = 0.17677669529663687 : f64}> : tensor<10xf32>
    %16 = graft.conv2d %0, %3, %4 {padding = array<i64: 1, 1>} : (tensor<4x1x8x8xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>) -> tensor<4x4x8x8xf32>
    %17 = graft.batch_norm %16 weight %5 bias %6 running %7, %8 : (tensor<4x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4x4x8x8xf32>
    %18 = graft.relu %17 : tensor<4x4x8x8xf32>
    %19 = graft.reshape %18 : tensor<4x4x8x8xf32> -> tensor<4x256xf32>
    %20 = graft.slice %19 {dim = 1 : i64, end = 64 : i64, start = 0 : i64} : tensor<4x256xf32> -> tensor<4x64xf32>
    %21 = graft.add %20, %1 : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
    %22 = graft.linear %21, %10, %11 : (tensor<4x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<4x32xf32>
    graft.retain_grad "h" %22 : tensor<4x32xf32>
    %23 = graft.grad_hook "embed.out" %22 : tensor<4x32xf32>
    %24 = graft.dropout %23 {p = 1.000000e-01 : f64} : tensor<4x32xf32>
    %25 = graft.no_grad -> tensor<4x32xf32> {
      %37 = graft.constant dense<0.899999976> : tensor<f32>
      %38 = graft.mul %24, %37 : (tensor<4x32xf32>, tensor<f32>) -> tensor<4x32xf32>
      graft.yield %38 : tensor<4x32xf32>
    }
    %26 = graft.no_grad -> tensor<32xf32> {
      %37 = graft.mean %24 {dims = array<i64: 0>} : tensor<4x32xf32> -> tensor<32xf32>
      graft.yield %37 : tensor<32xf32>
    }
    %27 = graft.inference -> tensor<4x32xf32> {
      %37 = graft.relu %24 : tensor<4x32xf32>
      graft.yield %37 : tensor<4x32xf32>
    }
    graft.output "probe" %27 : tensor<4x32xf32>
    %28 = graft.clone %24 : tensor<4x32xf32>
    %29 = graft.relu_ %28 : tensor<4x32xf32>
    %30 = graft.detach %29 : tensor<4x32xf32>
    %31 = graft.linear %29, %12, %13 : (tensor<4x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<4x32xf32>
    %32 = graft.add %31, %30 : (tensor<4x32xf32>, tensor<4x32xf32>) -> tensor<4x32xf32>
    %33 = graft.sub %32, %25 : (tensor<4x32xf32>, tensor<4x32xf32>) -> tensor<4x32xf32>
    %34 = graft.add %33, %26 : (tensor<4x32xf32>, tensor<32xf32>) -> tensor<4x32xf32>
    %35 = graft.linear %34, %14, %15 : (tensor<4x32xf32>, tensor<10x32xf32>, tensor<10xf32>) -> tensor<4x10xf32>
    graft.output "logits" %35 : tensor<4x10xf32>
    %36 = graft.cross_entropy %35, %2 {label_smoothing = 1.000000e-01 : f64} : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<f32>
    graft.loss %36 : tensor<f32>
    graft.train  sgd {clip_grad_value = 5.000000e+00 : f64, lr = 1.000000e-01 : f64, momentum = 9.000000e-01 : f64, nesterov = true}
  }
}
)mlir",
    // examples/digits_mlp.graft (--dim B=4)
    R"mlir(
module {
  graft.model @digits_mlp {
    %0 = graft.input "x" : tensor<4x64xf32>
    %1 = graft.input "y" : tensor<4xi64>
    %2 = graft.param "hidden.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<32x64xf32>
    %3 = graft.param "hidden.bias" init <uniform, {a = -1.250000e-01 : f64, b = 1.250000e-01 : f64}> : tensor<32xf32>
    %4 = graft.param "head.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<10x32xf32>
    %5 = graft.param "head.bias" init <uniform, {a = -0.17677669529663687 : f64, b = 0.17677669529663687 : f64}> : tensor<10xf32>
    %6 = graft.linear %0, %2, %3 : (tensor<4x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<4x32xf32>
    %7 = graft.relu %6 : tensor<4x32xf32>
    %8 = graft.linear %7, %4, %5 : (tensor<4x32xf32>, tensor<10x32xf32>, tensor<10xf32>) -> tensor<4x10xf32>
    graft.output "logits" %8 : tensor<4x10xf32>
    %9 = graft.argmax %8 {dim = 1 : i64} : tensor<4x10xf32> -> tensor<4xi64>
    graft.output "pred" %9 : tensor<4xi64>
    %10 = graft.cross_entropy %8, %1 : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<f32>
    graft.loss %10 : tensor<f32>
    graft.train  adam {betas = array<f64: 9.000000e-01, 0.99899999999999999>, eps = 1.000000e-08 : f64, lr = 1.000000e-03 : f64, weight_decay = 0.000000e+00 : f64}
  }
}
)mlir",
    // bf16 sums accumulate in f32 and round once, as the evaluator (and
    // PyTorch) do: in bf16 (8 significant bits) a running sum of 1024
    // N(0, 1) terms loses most of its terms' bits. Long enough for two
    // stages.
    R"mlir(
graft.model @bf16_sums {
  %x = graft.input "x" requires_grad : tensor<4x1024xbf16>
  %s = graft.sum %x {dims = array<i64: 1>} : tensor<4x1024xbf16> -> tensor<4xbf16>
  %m = graft.mean %x {dims = array<i64: 1>} : tensor<4x1024xbf16> -> tensor<4xbf16>
  %p = graft.mul %s, %m : (tensor<4xbf16>, tensor<4xbf16>) -> tensor<4xbf16>
  %t = graft.sum %p : tensor<4xbf16> -> tensor<bf16>
  %l = graft.cast %t : tensor<bf16> -> tensor<f32>
  graft.output "s" %s : tensor<4xbf16>
  graft.loss %l : tensor<f32>
}
)mlir",
    // bf16 products and convolutions (ungrouped, depthwise at stride 2,
    // grouped) compute in f32 and round once, as the evaluator does: bf16
    // FMAs and adds had no CPU instruction (the JIT failed to find
    // __truncsfbf2) and would round every term.
    R"mlir(
graft.model @bf16_products {
  %x = graft.input "x" requires_grad : tensor<2x4x6x6xbf16>
  %w1 = graft.param "c.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<4x4x3x3xbf16>
  %b1 = graft.param "c.bias" init <uniform, {a = -0.3 : f64, b = 0.3 : f64}> : tensor<4xbf16>
  %w2 = graft.param "dw.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<4x1x3x3xbf16>
  %w3 = graft.param "gc.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<4x2x3x3xbf16>
  %w4 = graft.param "fc.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<3x36xbf16>
  %c1 = graft.conv2d %x, %w1, %b1 {padding = array<i64: 1, 1>} : (tensor<2x4x6x6xbf16>, tensor<4x4x3x3xbf16>, tensor<4xbf16>) -> tensor<2x4x6x6xbf16>
  %c2 = graft.conv2d %c1, %w2 {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 4 : i64} : (tensor<2x4x6x6xbf16>, tensor<4x1x3x3xbf16>) -> tensor<2x4x3x3xbf16>
  %c3 = graft.conv2d %c2, %w3 {padding = array<i64: 1, 1>, groups = 2 : i64} : (tensor<2x4x3x3xbf16>, tensor<4x2x3x3xbf16>) -> tensor<2x4x3x3xbf16>
  %f = graft.reshape %c3 : tensor<2x4x3x3xbf16> -> tensor<2x36xbf16>
  %y = graft.linear %f, %w4 : (tensor<2x36xbf16>, tensor<3x36xbf16>) -> tensor<2x3xbf16>
  %t = graft.sum %y : tensor<2x3xbf16> -> tensor<bf16>
  %l = graft.cast %t : tensor<bf16> -> tensor<f32>
  graft.output "y" %y : tensor<2x3xbf16>
  graft.loss %l : tensor<f32>
}
)mlir",
};

INSTANTIATE_TEST_SUITE_P(Models, JITTest,
                         ::testing::ValuesIn(std::vector<std::string>(
                             std::begin(kModels), std::end(kModels))));

/// Convolutions whose patches take more than the CPU lowering's budget
/// (conv-chunk-elements) run over their batch in chunks of images: an
/// scf.for over whole chunks, then a tail. Here the first convolution's
/// batch is three chunks short of one image, so both the loop and the tail
/// run, forward and for both gradients (the second convolution, strided,
/// needs its input's gradient).
std::string chunkedConvModel() {
  int64_t budget = graft::ConvertGraftToLinalgOptions().convChunkElements;
  int64_t perImage = 4 * 3 * 3 * 16 * 16; // C*KH*KW taps x OH*OW outputs
  int64_t most = std::max<int64_t>(budget / perImage, 2);
  std::string n = std::to_string(3 * most - 1);
  std::string x = "tensor<" + n + "x4x16x16xf32>",
              c1 = "tensor<" + n + "x8x16x16xf32>",
              c2 = "tensor<" + n + "x8x8x8xf32>";
  return R"mlir(
graft.model @chunks {
  %x = graft.input "x" : )mlir" +
         x + R"mlir(
  %w1 = graft.param "c1.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<8x4x3x3xf32>
  %b1 = graft.param "c1.bias" init <uniform, {a = -0.3 : f64, b = 0.3 : f64}> : tensor<8xf32>
  %w2 = graft.param "c2.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<8x8x3x3xf32>
  %c1 = graft.conv2d %x, %w1, %b1 {padding = array<i64: 1, 1>} : ()mlir" +
         x + R"mlir(, tensor<8x4x3x3xf32>, tensor<8xf32>) -> )mlir" + c1 +
         R"mlir(
  %t = graft.tanh %c1 : )mlir" +
         c1 + R"mlir(
  %c2 = graft.conv2d %t, %w2 {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : ()mlir" +
         c1 + R"mlir(, tensor<8x8x3x3xf32>) -> )mlir" + c2 + R"mlir(
  %s = graft.mul %c2, %c2 : ()mlir" +
         c2 + ", " + c2 + R"mlir() -> )mlir" + c2 + R"mlir(
  %l = graft.mean %s : )mlir" +
         c2 + R"mlir( -> tensor<f32>
  graft.output "y" %c2 : )mlir" +
         c2 + R"mlir(
  graft.loss %l : tensor<f32>
}
)mlir";
}
INSTANTIATE_TEST_SUITE_P(ConvChunks, JITTest,
                         ::testing::Values(chunkedConvModel()));

/// A model per unary row of GraftOps.td: the op (or its in-place twin, on a
/// clone) on 4 x N(0, 1), through a weighted sum. A new row is compared
/// with the evaluator, forward and backward, without a line here.
std::vector<std::string> unaryRowModels() {
  std::vector<std::string> models;
  forEachUnaryOp([&](auto *tag) {
    using Op = std::remove_pointer_t<decltype(tag)>;
    UnaryRow row = Op::getUnaryRow();
    std::string mnemonic = Op::getOperationName().drop_front(6).str();
    std::string text = R"mlir(
graft.model @unary {
  %x = graft.input "x" requires_grad : tensor<8x16xf32>
  %w = graft.input "w" : tensor<8x16xf32>
  %k = graft.constant dense<4.0> : tensor<f32>
  %s = graft.mul %x, %k : (tensor<8x16xf32>, tensor<f32>) -> tensor<8x16xf32>
)mlir";
    if (row.inPlace)
      text += "  %c = graft.clone %s : tensor<8x16xf32>\n"
              "  %r = graft." + mnemonic + " %c : tensor<8x16xf32>\n";
    else
      text += "  %r = graft." + mnemonic + " %s : tensor<8x16xf32>\n";
    text += R"mlir(  %p = graft.mul %r, %w : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %l = graft.sum %p : tensor<8x16xf32> -> tensor<f32>
  graft.output "r" %r : tensor<8x16xf32>
  graft.loss %l : tensor<f32>
}
)mlir";
    models.push_back(text);
  });
  return models;
}
INSTANTIATE_TEST_SUITE_P(
    UnaryRows, JITTest, ::testing::ValuesIn(unaryRowModels()),
    [](const ::testing::TestParamInfo<std::string> &info) {
      // The op's mnemonic: "%r = graft.relu_ %c" -> "relu_".
      llvm::StringRef op =
          llvm::StringRef(info.param).split("%r = graft.").second;
      return op.split(' ').first.str();
    });

// A model output that is a parameter (`output w`) is the parameter's value
// before the step, though the step updates the parameter in place: the
// output is copied out first (graft-plan-memory). It failed to compile
// ("copy reads an argument whose storage a state result already
// overwrote").
TEST(JITTrainStep, AnOutputOfAParameterIsItsValueBeforeTheStep) {
  DialectRegistry registry;
  registerCodegenDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(R"mlir(
graft.model @out_w {
  %x = graft.input "x" : tensor<4x3xf32>
  %w = graft.param "w" init <constant, {value = 5.000000e-01 : f64}> : tensor<3xf32>
  %p = graft.mul %x, %w : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %y = graft.sum %p {dims = array<i64: 1>} : tensor<4x3xf32> -> tensor<4xf32>
  graft.output "w" %w : tensor<3xf32>
  graft.output "y" %y : tensor<4xf32>
  %sq = graft.mul %y, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %l = graft.mean %sq : tensor<4xf32> -> tensor<f32>
  graft.loss %l : tensor<f32>
  graft.train sgd {dampening = 0.0 : f64, lr = 0.1 : f64, momentum = 0.0 : f64, weight_decay = 0.0 : f64}
}
)mlir",
                                                             &ctx);
  ASSERT_TRUE(module);
  auto jitOr = JITModel::compile(*module);
  ASSERT_TRUE((bool)jitOr) << llvm::toString(jitOr.takeError());
  JITModel &jit = **jitOr;
  const EntryPoint *step = jit.entryPoint("out_w_train_step");
  ASSERT_NE(step, nullptr);
  std::vector<Buffer> args;
  for (const TensorSlot &slot : step->args) {
    args.emplace_back(slot);
    Buffer &b = args.back();
    if (slot.role == Role::param)
      b.set(Tensor({3}, DType::F32, {0.5, 0.5, 0.5}));
    else if (slot.role == Role::input)
      b.set(
          Tensor({4, 3}, DType::F32, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
    else if (slot.role == Role::hyper)
      b.set(Tensor({}, DType::F64, {0.1}));
    else
      std::memset(b.bytes.data(), 0, b.bytes.size());
  }
  auto called = callEntry(jit, *step, args);
  ASSERT_TRUE((bool)called) << llvm::toString(called.takeError());
  bool sawOutput = false, sawParam = false;
  for (Buffer &r : *called) {
    if (r.slot.name != "w")
      continue;
    if (r.slot.role == Role::output) {
      sawOutput = true;
      for (int64_t i = 0; i < 3; ++i)
        EXPECT_EQ(r.at(i), 0.5) << "output w[" << i << "]";
    } else if (r.slot.role == Role::param) {
      sawParam = true;
      // y = 3, 7.5, 12, 16.5; d mean(y^2) / dw_j = mean(2 y x_j), so every
      // element moves by far more than rounding.
      for (int64_t i = 0; i < 3; ++i)
        EXPECT_LT(r.at(i), 0.0) << "updated w[" << i << "]";
    }
  }
  EXPECT_TRUE(sawOutput && sawParam);
}

// In a Graft built with AddressSanitizer the JIT instruments the code it
// generates (Target/Sanitize.h): an entry point given an input one row
// short stops with ASan's report instead of reading past the buffer.
TEST(JITSanitizer, AnOverflowingReadIsReported) {
  if (!processHasAddressSanitizer())
    GTEST_SKIP() << "this build has no AddressSanitizer";
  DialectRegistry registry;
  registerCodegenDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kModels[0], &ctx);
  ASSERT_TRUE(module);
  auto jitOr = JITModel::compile(*module);
  ASSERT_TRUE((bool)jitOr) << llvm::toString(jitOr.takeError());
  JITModel &jit = **jitOr;
  jit.setThreads(1);
  const EntryPoint *predict = jit.entryPoint("mlp_predict");
  ASSERT_NE(predict, nullptr);
  std::vector<std::vector<char>> args, results;
  for (const TensorSlot &s : predict->args)
    args.emplace_back(s.bytes() - (s.role == Role::input ? s.bytes() / 8 : 0));
  for (const TensorSlot &s : predict->results)
    results.emplace_back(s.bytes());
  std::vector<void *> argPtrs, resultPtrs;
  for (auto &b : args)
    argPtrs.push_back(b.data());
  for (auto &b : results)
    resultPtrs.push_back(b.data());
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
#ifdef GRAFT_TEST_ASAN
        // scripts/sanitize.sh logs reports to files; this one is expected.
        __sanitizer_set_report_path("stderr");
#endif
        (void)jit.call(predict->name, argPtrs, resultPtrs);
      },
      "heap-buffer-overflow");
}

} // namespace

// The calls the OpenMP regions make are renamed to the runtime's thread
// pool; a call the pool does not implement is an error that names it,
// never a library that links against an OpenMP runtime by accident.
TEST(ThreadRuntime, BindsOnlyWhatThePoolImplements) {
  llvm::LLVMContext ctx;
  llvm::SMDiagnostic diagnostic;
  auto module = [&](llvm::StringRef calls) {
    std::string ir = R"(
declare i32 @__kmpc_global_thread_num(ptr)
declare void @__kmpc_barrier(ptr, i32)
declare void @__kmpc_fork_call(ptr, i32, ptr, ...)
declare void @__kmpc_for_static_init_8u(ptr, i32, i32, ptr, ptr, ptr, ptr, i64, i64)
define void @f(ptr %p) {
)" + calls.str() + "  ret void\n}\n";
    return llvm::parseAssemblyString(ir, diagnostic, ctx);
  };
  auto bind = [](llvm::Module &m) {
    return llvm::toString(bindThreadRuntime(m));
  };
  const char *fork = "  call void (ptr, i32, ptr, ...) @__kmpc_fork_call("
                     "ptr null, i32 1, ptr null, ptr %p)\n";
  const char *init = "  call void @__kmpc_for_static_init_8u(ptr null, i32 0, "
                     "i32 34, ptr null, ptr null, ptr null, ptr null, i64 1, "
                     "i64 0)\n";
  std::unique_ptr<llvm::Module> ok = module(std::string(fork) + init);
  ASSERT_TRUE(ok) << diagnostic.getMessage().str();
  // The unused barrier declaration is the one left: drop it.
  ok->getFunction("__kmpc_barrier")->eraseFromParent();
  EXPECT_EQ(bind(*ok), "");
  EXPECT_TRUE(ok->getFunction("graft_kmpc_fork_call"));
  EXPECT_TRUE(ok->getFunction("graft_kmpc_for_static_init_8u"));
  EXPECT_TRUE(ok->getFunction("graft_kmpc_global_thread_num"));
  EXPECT_FALSE(ok->getFunction("__kmpc_fork_call"));

  auto barrier = module("  call void @__kmpc_barrier(ptr null, i32 0)\n");
  ASSERT_TRUE(barrier);
  EXPECT_NE(bind(*barrier).find("the parallel loops call __kmpc_barrier, "
                                "which Graft's thread pool"),
            std::string::npos);
  auto twoArgs = module("  call void (ptr, i32, ptr, ...) @__kmpc_fork_call("
                        "ptr null, i32 2, ptr null, ptr %p, ptr %p)\n");
  ASSERT_TRUE(twoArgs);
  twoArgs->getFunction("__kmpc_barrier")->eraseFromParent();
  EXPECT_NE(bind(*twoArgs).find(
                "__kmpc_fork_call with more than one argument"),
            std::string::npos);
  std::string dynamic = init;
  dynamic.replace(dynamic.find("i32 34"), 6, "i32 35");
  auto dyn = module(dynamic);
  ASSERT_TRUE(dyn);
  dyn->getFunction("__kmpc_barrier")->eraseFromParent();
  EXPECT_NE(bind(*dyn).find("__kmpc_for_static_init_8u with a schedule "
                            "other than static"),
            std::string::npos);
}
