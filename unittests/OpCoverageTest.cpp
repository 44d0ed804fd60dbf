//===- OpCoverageTest.cpp - Every op is tested through every layer --------===//
//
// The generated gradcheck files (test/Autograd/gradcheck/*.mlir, a model per
// op) are where an op meets every layer: `graft gradcheck` runs each model's
// forward and derived backward through the reference evaluator against
// finite differences, and test/Codegen/every-op.test compiles each model,
// backward included, for the CPU and to CUDA PTX. This test checks that
// those files name every op a model's code can hold (CodeOps.h), so a new op
// without a gradcheck case fails here rather than in a user's compile. (The
// lowering patterns' coverage is LoweringTest.cpp's.)
//
//===----------------------------------------------------------------------===//

#include "CodeOps.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace graft;

namespace {

/// The op names (`graft.name`) the .mlir files of `dir` use outside
/// comments.
llvm::StringSet<> opsNamedIn(llvm::StringRef dir, unsigned &files) {
  llvm::StringSet<> names;
  std::error_code ec;
  llvm::Regex op("graft\\.([a-z_0-9]+)");
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (llvm::sys::path::extension(it->path()) != ".mlir")
      continue;
    auto buffer = llvm::MemoryBuffer::getFile(it->path());
    if (!buffer)
      continue;
    ++files;
    llvm::SmallVector<llvm::StringRef> lines;
    (*buffer)->getBuffer().split(lines, '\n');
    for (llvm::StringRef line : lines) {
      line = line.take_until([](char c) { return c == '/'; });
      llvm::SmallVector<llvm::StringRef, 2> m;
      while (op.match(line, &m)) {
        names.insert(("graft." + m[1]).str());
        line = line.drop_front(m[0].end() - line.begin());
      }
    }
  }
  return names;
}

TEST(OpCoverage, EveryOpHasAGradcheckModel) {
  unsigned files = 0;
  llvm::StringSet<> tested =
      opsNamedIn(GRAFT_TEST_DIR "/Autograd/gradcheck", files);
  ASSERT_GT(files, 10u) << "the gradcheck files were not found";
  MLIRContext ctx;
  std::vector<RegisteredOperationName> ops = codeOps(ctx);
  for (RegisteredOperationName name : ops)
    EXPECT_TRUE(tested.contains(name.getStringRef()))
        << name.getStringRef().str()
        << " has no model in test/Autograd/gradcheck (add one to "
           "gen_gradcheck_tests.py)";
  EXPECT_GT(ops.size(), 60u);
}

} // namespace
