//===- Generate.h - Sampling text from a language model ---------*- C++ -*-===//
//
// What `graft generate` runs: autoregressive sampling from a language
// model's predict entry point (nanoGPT's GPT.generate): the context, cropped
// to its last T tokens, fills the first positions of the [B, T] token
// input; the logits at its last position, divided by the temperature and
// cut to the top k, give the next token's distribution. The positions after
// the context hold padding, which a causal model never looks at: that is
// checked on the first step, so a model that is not causal is an error,
// not silently wrong text.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_TRAINING_GENERATE_H
#define GRAFT_TRAINING_GENERATE_H

#include "graft/Training/State.h"

#include "llvm/ADT/STLFunctionalExtras.h"

#include <memory>

namespace graft::training {

struct SamplingOptions {
  int64_t maxNewTokens = 500;
  double temperature = 1.0; ///< > 0
  int64_t topK = 0;         ///< 0: every token
  uint64_t seed = 0;
};

class Generator {
public:
  /// A generator over `model`'s predict entry point with the parameters
  /// and buffers of `weights` (read from `path`, named in errors). The
  /// model has one integer input [B, T] (the tokens) and a float output
  /// [B, T, V] (the logits; `output` names it when there are several).
  static llvm::Expected<std::unique_ptr<Generator>>
  create(JITModel &jit, ModelOp model, const std::vector<NamedTensor> &weights,
         llvm::StringRef path, llvm::StringRef output = "");

  int64_t contextLength() const { return T; }
  int64_t vocabSize() const { return V; }

  /// Samples up to `options.maxNewTokens` tokens after `context` (not
  /// empty; tokens in [0, V)), calling `emit` with each; `emit` returns
  /// false to stop.
  llvm::Error run(std::vector<int64_t> context, const SamplingOptions &options,
                  llvm::function_ref<bool(int64_t)> emit);

private:
  Generator(JITModel &jit) : jit(jit) {}
  /// Runs predict with `context` (at most T tokens) in row 0, padded with
  /// `pad`; returns the logits at the context's last position.
  llvm::Expected<std::vector<float>>
  logitsAfter(llvm::ArrayRef<int64_t> context, int64_t pad);

  JITModel &jit;
  std::string fn;
  std::vector<Storage> args, results;
  std::vector<void *> argPtrs, resultPtrs;
  Storage *tokens = nullptr, *logits = nullptr;
  int64_t B = 0, T = 0, V = 0;
};

} // namespace graft::training

#endif
