//===- graft-opt.cpp - The pass driver for graft IR -----------------------===//
//
// mlir-opt for Graft: parses graft IR, runs passes, prints the result. Used by
// the lit tests. Only the dialects and passes Graft uses are registered.
//
//===----------------------------------------------------------------------===//

#include "graft/Autograd/Passes.h"
#include "graft/Conversion/Passes.h"
#include "graft/Pipelines/GPU.h"
#include "graft/Pipelines/Pipelines.h"
#include "graft/Dialect/Graft/IR/GraftDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  graft::registerCodegenDialects(registry);
  graft::registerGPUCodegenDialects(registry);
  graft::registerAutogradPasses();
  graft::registerCodegenPasses();
  graft::registerGPUCodegenPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Graft optimizer driver\n", registry));
}
