//===- Generate.cpp - Sampling text from a language model -----------------===//

#include "graft/Training/Generate.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <random>

using namespace mlir;
using namespace graft;
using namespace graft::training;

llvm::Expected<std::unique_ptr<Generator>>
Generator::create(JITModel &jit, ModelOp model,
                  const std::vector<NamedTensor> &weights, llvm::StringRef path,
                  llvm::StringRef output) {
  std::string name = model.getSymName().str();
  std::unique_ptr<Generator> g(new Generator(jit));
  g->fn = name + "_predict";
  const EntryPoint *ep = jit.entryPoint(g->fn);
  if (!ep)
    return trainingError("no predict entry point was built for '" + name + "'");
  g->args = slotsOf(ep->args);
  g->results = slotsOf(ep->results);
  for (Storage &a : g->args) {
    if (a.slot.role != Role::input)
      continue;
    if (g->tokens || a.slot.type != ElementType::I64 ||
        a.slot.shape.size() != 2)
      return trainingError(
          "graft generate needs a language model whose outputs depend on "
          "one input, its tokens shaped [B, T] (i64); the outputs of '" +
          name + "' read input '" + a.slot.name + "' too");
    g->tokens = &a;
  }
  if (!g->tokens)
    return trainingError("model '" + name +
                         "' has no token input [B, T] its outputs depend on");
  g->B = g->tokens->slot.shape[0];
  g->T = g->tokens->slot.shape[1];
  for (Storage &r : g->results) {
    const TensorSlot &s = r.slot;
    bool fits = s.role == Role::output && s.type == ElementType::F32 &&
                s.shape.size() == 3 && s.shape[0] == g->B && s.shape[1] == g->T;
    if (!fits || (!output.empty() && s.name != output))
      continue;
    if (g->logits)
      return trainingError("model '" + name +
                           "' has two outputs of logits "
                           "shaped [B, T, V] ('" +
                           g->logits->slot.name + "' and '" + s.name +
                           "'): name one with --output");
    g->logits = &r;
  }
  if (!g->logits)
    return trainingError(
        "model '" + name + "' has no output " +
        (output.empty() ? std::string() : "'" + output.str() + "' ") +
        "of logits shaped [B, T, V] (f32) over its tokens [B, T]");
  g->V = g->logits->slot.shape[2];
  if (llvm::Error e =
          loadState(g->args, {Role::param, Role::buffer}, weights, path, model))
    return std::move(e);
  g->argPtrs = pointers(g->args);
  g->resultPtrs = pointers(g->results);
  return g;
}

llvm::Expected<std::vector<float>>
Generator::logitsAfter(llvm::ArrayRef<int64_t> context, int64_t pad) {
  int64_t *tok = tokens->i64();
  std::fill(tok, tok + B * T, pad);
  std::copy(context.begin(), context.end(), tok);
  if (llvm::Error e = jit.call(fn, argPtrs, resultPtrs))
    return std::move(e);
  const float *row = logits->f32() + (context.size() - 1) * V;
  return std::vector<float>(row, row + V);
}

llvm::Error Generator::run(std::vector<int64_t> context,
                           const SamplingOptions &options,
                           llvm::function_ref<bool(int64_t)> emit) {
  std::mt19937_64 rng(options.seed);
  for (int64_t n = 0; n < options.maxNewTokens; ++n) {
    // nanoGPT: idx_cond = idx if it fits, else its last block_size tokens.
    llvm::ArrayRef<int64_t> window(context);
    if ((int64_t)window.size() > T)
      window = window.take_back(T);
    auto logitsOr = logitsAfter(window, 0);
    if (!logitsOr)
      return logitsOr.takeError();
    std::vector<float> l = std::move(*logitsOr);
    // The padding after a short context must not matter: a causal model.
    if (n == 0 && (int64_t)window.size() < T) {
      auto other = logitsAfter(window, V - 1);
      if (!other)
        return other.takeError();
      if (*other != l)
        return trainingError(
            "the model's logits at the context's last position depend on "
            "the positions after it: it is not a causal language model "
            "(graft generate pads a context shorter than T = " +
            llvm::Twine(T) + " after it)");
    }
    // logits / temperature, cut to the top k, softmax, one draw.
    std::vector<double> p(l.begin(), l.end());
    for (double &v : p)
      v /= options.temperature;
    if (options.topK > 0 && options.topK < V) {
      std::vector<double> sorted = p;
      std::nth_element(sorted.begin(), sorted.begin() + (options.topK - 1),
                       sorted.end(), std::greater<double>());
      double kth = sorted[options.topK - 1];
      for (double &v : p)
        if (v < kth)
          v = -INFINITY;
    }
    double top = *std::max_element(p.begin(), p.end());
    if (!std::isfinite(top))
      return trainingError("the model's logits are not finite at step " +
                           llvm::Twine(n + 1));
    double sum = 0;
    for (double &v : p)
      sum += v = std::exp(v - top);
    double u = std::uniform_real_distribution<double>(0, sum)(rng);
    int64_t next = 0;
    for (double acc = 0; next < V - 1; ++next)
      if ((acc += p[next]) > u)
        break;
    // Never a token of probability zero (rounding at the end of the sum).
    while (p[next] == 0 && next > 0)
      --next;
    context.push_back(next);
    if (!emit(next))
      break;
  }
  return llvm::Error::success();
}
