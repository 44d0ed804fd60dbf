//===- FrontendGoldensTest.cpp - Front-end functions against PyTorch ------===//
//
// The functions the front-end writes as PyTorch defines them
// (lib/Frontend/MLIRGen/Decompositions.cpp) against torch's values and
// gradients (test/golden/gen_frontend_goldens.py): each case's source is
// compiled by the front-end, its backward derived, and the reference
// evaluator's y and d loss / dx compared in f64.
//
//===----------------------------------------------------------------------===//

#include "graft/Autograd/Backward.h"
#include "graft/Dialect/Graft/IR/GraftDialect.h"
#include "graft/Evaluator/Evaluator.h"
#include "graft/Frontend/MLIRGen.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include "Goldens.h"
#include "gtest/gtest.h"

#include <cmath>

using namespace mlir;
using namespace graft;
using namespace graft::eval;
using namespace graft::goldens;

namespace {

std::vector<Case> cases() { return casesOf("frontend_goldens.json"); }

class FrontendGolden : public ::testing::TestWithParam<Case> {};

TEST_P(FrontendGolden, MatchesPyTorch) {
  const llvm::json::Object &c = *GetParam().json;
  // The front-end reads files: the source goes through a temporary one.
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("golden", "graft", path));
  llvm::FileRemover remove(path);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << *c.getString("source");
  }
  MLIRContext ctx;
  ctx.loadDialect<GraftDialect, func::FuncDialect>();
  llvm::SourceMgr sm;
  std::string errors;
  llvm::raw_string_ostream es(errors);
  auto module = frontend::compileFile(ctx, sm, path, {}, es);
  ASSERT_TRUE(module) << errors;
  ModelOp model = *module->getOps<ModelOp>().begin();
  ASSERT_TRUE(succeeded(deriveBackward(model)));

  Evaluator ev(model, Mode::Train, 0);
  // Each input in its declared dtype (float64, or int64 indices).
  for (InputOp in : model.getBody().getOps<InputOp>()) {
    const llvm::json::Value *t = c.getObject("inputs")->get(in.getName());
    ASSERT_NE(t, nullptr) << "no golden input " << in.getName().str();
    ev.setInput(in.getName(),
                tensorFrom(*t, *dtypeOf(in.getType().getElementType())));
  }
  llvm::Error err = ev.run();
  ASSERT_FALSE(bool(err)) << llvm::toString(std::move(err));
  // The composites round differently from torch's fused kernels: in f64
  // that is ~1e-15 relative.
  const double tol = 1e-10;
  auto y = ev.output("y");
  ASSERT_TRUE(y);
  EXPECT_TRUE(close(*y, tensorFrom(*c.get("y"), DType::F64), tol)) << "y";
  auto g = ev.gradient("x");
  ASSERT_TRUE(g);
  EXPECT_TRUE(close(*g, tensorFrom(*c.get("grad_x"), DType::F64), tol))
      << "dloss/dx";
}

INSTANTIATE_TEST_SUITE_P(Torch, FrontendGolden, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case> &i) {
                           return i.param.name;
                         });

TEST(FrontendGoldens, Present) { EXPECT_GE(cases().size(), 18u); }

} // namespace
