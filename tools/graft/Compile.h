//===- Compile.h - graft compile --------------------------------*- C++ -*-===//

#ifndef GRAFT_TOOLS_COMPILE_H
#define GRAFT_TOOLS_COMPILE_H

#include "llvm/Support/CommandLine.h"

namespace graft::cli {
extern llvm::cl::SubCommand compileCmd;
/// `graft compile MODEL.graft -o OUTDIR [--dim N=V] [--target-cpu CPU]`
int runCompile();
} // namespace graft::cli

#endif
