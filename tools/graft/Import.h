//===- Import.h - graft import ----------------------------------*- C++ -*-===//

#ifndef GRAFT_TOOLS_IMPORT_H
#define GRAFT_TOOLS_IMPORT_H

#include "llvm/Support/CommandLine.h"

namespace graft::cli {
extern llvm::cl::SubCommand importCmd;
/// `graft import MODEL.onnx -o MODEL.graft [--weights W.safetensors]
/// [--dim NAME=VALUE] [--target NAME=TYPE] [--loss EXPR] [--optimizer EXPR]
/// [--freeze PATTERN] [--name NAME]`
int runImport();
} // namespace graft::cli

#endif
