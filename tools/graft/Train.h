//===- Train.h - graft train and graft predict ------------------*- C++ -*-===//

#ifndef GRAFT_TOOLS_TRAIN_H
#define GRAFT_TOOLS_TRAIN_H

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

namespace graft::cli {

extern llvm::cl::SubCommand trainCmd;
extern llvm::cl::SubCommand predictCmd;
extern llvm::cl::SubCommand benchCmd;
extern llvm::cl::SubCommand generateCmd;

/// `graft train MODEL --data train.csv [--test test.csv] ...`
int runTrain();
/// `graft predict MODEL --checkpoint ck.safetensors --data data.csv`
int runPredict();

/// `graft bench MODEL [--steps N] [--batch B]`: ms per train step.
int runBench();

/// `graft generate MODEL --checkpoint ck.safetensors [--prompt TEXT]`:
/// text sampled from a language model trained on a text.
int runGenerate();

} // namespace graft::cli

#endif
