//===- CheckpointFuzzer.cpp - libFuzzer target: the checkpoint reader ----===//
//
// Any file given as a checkpoint is loaded or refused with an error, never
// a crash or a sanitizer report: graft_st_read (graft_safetensors.c) through
// each of its users, the host's readSafetensors (graft train --resume,
// graft predict) and the C runtime's graft_load and graft_load_ex
// (non-strict), the runtime compiled into this fuzzer from lib/Runtime/c
// with the sanitizers. The C runtime loads into a context of
// a small model described here (no entry points: loading needs none) with
// the roles a trained model has: parameters, a buffer, gradients,
// optimizer state, hyper-parameters, the dropout seed and an input.
//
// GRAFT_FUZZ_WRITE_SEEDS=DIR writes the seeds (a full checkpoint and a
// state_dict of this model, from graft_save and graft_save_weights) into
// DIR and exits; fuzz/corpus/checkpoint holds them.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include "graft/Runtime/Checkpoint.h"

#include "graft_api.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace {
const int64_t kShape23[] = {2, 3}, kShape3[] = {3};

// name, role, dtype, rank, init, shape, numel, nbytes, p0..p3, init text,
// frozen, no index range (has_index_ignored, bound, ignored, use), and
// the aliases of a tied parameter (fc.weight is also head.weight).
const char *const kTied[] = {"head.weight"};
const graft_tensor_desc kTensors[] = {
    {"fc.weight", GRAFT_ROLE_PARAM, GRAFT_DTYPE_F32, 2, GRAFT_INIT_UNIFORM,
     kShape23, 6, 24, -0.5, 0.5, 0, 0, "uniform", 0, 0, 0, 0, nullptr, 1,
     kTied},
    {"fc.bias", GRAFT_ROLE_PARAM, GRAFT_DTYPE_F32, 1, GRAFT_INIT_ZERO, kShape3,
     3, 12, 0, 0, 0, 0, "zeros", 1, 0, 0, 0, nullptr, 0, nullptr},
    {"bn.num_batches_tracked", GRAFT_ROLE_BUFFER, GRAFT_DTYPE_I64, 0,
     GRAFT_INIT_ZERO, nullptr, 1, 8, 0, 0, 0, 0, "zeros", 0, 0, 0, 0, nullptr, 0, nullptr},
    {"bn.running_mean", GRAFT_ROLE_BUFFER, GRAFT_DTYPE_BF16, 1,
     GRAFT_INIT_ZERO, kShape3, 3, 6, 0, 0, 0, 0, "zeros", 0, 0, 0, 0, nullptr, 0, nullptr},
    {"fc.weight", GRAFT_ROLE_GRAD, GRAFT_DTYPE_F32, 2, GRAFT_INIT_ZERO,
     kShape23, 6, 24, 0, 0, 0, 0, "zeros", 0, 0, 0, 0, nullptr, 0, nullptr},
    {"fc.weight.momentum_buffer", GRAFT_ROLE_OPT_STATE, GRAFT_DTYPE_F32, 2,
     GRAFT_INIT_ZERO, kShape23, 6, 24, 0, 0, 0, 0, "zeros", 0, 0, 0, 0, nullptr, 0, nullptr},
    {"step", GRAFT_ROLE_OPT_STATE, GRAFT_DTYPE_F64, 0, GRAFT_INIT_ZERO,
     nullptr, 1, 8, 0, 0, 0, 0, "zeros", 0, 0, 0, 0, nullptr, 0, nullptr},
    {"lr", GRAFT_ROLE_HYPER, GRAFT_DTYPE_F64, 0, GRAFT_INIT_CONSTANT, nullptr,
     1, 8, 0.1, 0, 0, 0, "0.1", 0, 0, 0, 0, nullptr, 0, nullptr},
    {"seed", GRAFT_ROLE_SEED, GRAFT_DTYPE_I64, 0, GRAFT_INIT_ZERO, nullptr, 1,
     8, 0, 0, 0, 0, "zeros", 0, 0, 0, 0, nullptr, 0, nullptr},
    {"x", GRAFT_ROLE_INPUT, GRAFT_DTYPE_F32, 2, GRAFT_INIT_ZERO, kShape23, 6,
     24, 0, 0, 0, 0, "zeros", 0, 0, 0, 0, nullptr, 0, nullptr},
};

const graft_model_desc kModel = {
    "fuzz", sizeof kTensors / sizeof kTensors[0], 0, kTensors, nullptr,
    -1, -1, -1, -1, -1, -1, GRAFT_ABI_VERSION, 1, "x86-64", ""};

graft_context *context() {
  static graft_context *ctx = [] {
    graft_context *c = nullptr;
    if (graft_create(&kModel, &c) != GRAFT_OK || graft_init(c, 1) != GRAFT_OK) {
      std::fprintf(stderr, "graft fuzzer: cannot create the context: %s\n",
                   graft_last_error());
      std::abort();
    }
    return c;
  }();
  return ctx;
}

void ignore(const char *, graft_load_issue, void *) {}
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  if (const char *dir = std::getenv("GRAFT_FUZZ_WRITE_SEEDS")) {
    std::string d(dir);
    bool ok =
        graft_save(context(), (d + "/full.safetensors").c_str()) == GRAFT_OK &&
        graft_save_weights(context(), (d + "/weights.safetensors").c_str()) ==
            GRAFT_OK;
    std::fprintf(stderr, "%s\n", ok ? "seeds written" : graft_last_error());
    std::exit(ok ? 0 : 1);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const std::string path =
      graft::fuzz::scratchPath("checkpoint.safetensors");
  if (!graft::fuzz::writeScratch(path, data, size))
    return 0;
  std::map<std::string, std::string> metadata;
  if (auto tensors = graft::readSafetensors(path, &metadata))
    (void)tensors->size();
  else
    llvm::consumeError(tensors.takeError());
  graft_context *ctx = context();
  if (graft_load(ctx, path.c_str()) != GRAFT_OK)
    (void)graft_load_ex(ctx, path.c_str(), GRAFT_LOAD_NON_STRICT, ignore,
                        nullptr);
  return 0;
}
