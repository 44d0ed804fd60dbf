//===- CUDA.cpp - The CUDA target of graft compile ------------------------===//

#include "graft/Target/CUDA.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

static llvm::Error error(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "graft: error: " + msg.str());
}

llvm::Error graft::lowerTrainingProgramForCUDA(ModuleOp module,
                                               std::vector<EntryPoint> &entries,
                                               const GPUOptions &options,
                                               std::vector<GPUImage> &images) {
  if (llvm::Error e =
          lowerTrainingProgram(module, entries, [&](OpPassManager &pm) {
            buildGPUPipeline(pm, options);
          }))
    return e;
  if (failed(serializeGPUModules(module, findCUDAToolkit(), images)))
    return error("compiling the GPU kernels failed");
  return llvm::Error::success();
}

llvm::Error graft::addCUDAEntryShims(llvm::Module &ir,
                                     const std::vector<EntryPoint> &entries) {
  llvm::LLVMContext &ctx = ir.getContext();
  auto *ptrTy = llvm::PointerType::get(ctx, 0);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  llvm::FunctionCallee enter = ir.getOrInsertFunction(
      "graft_cuda_enter", llvm::FunctionType::get(i32, {ptrTy, ptrTy, ptrTy},
                                                  false));
  llvm::FunctionCallee leave = ir.getOrInsertFunction(
      "graft_cuda_leave", llvm::FunctionType::get(i32, {ptrTy, ptrTy, ptrTy},
                                                  false));
  for (const EntryPoint &ep : entries) {
    llvm::Function *device = ir.getFunction(ep.name);
    if (!device || !device->getReturnType()->isVoidTy())
      return error("entry point '" + ep.name +
                   "' does not have the bare-pointer signature");
    device->setName(ep.name + ".device");
    device->setLinkage(llvm::GlobalValue::InternalLinkage);
    auto *shim = llvm::Function::Create(device->getFunctionType(),
                                        llvm::GlobalValue::ExternalLinkage,
                                        ep.name, ir);
    unsigned n = device->arg_size();
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", shim));
    auto *arrayTy = llvm::ArrayType::get(ptrTy, std::max(n, 1u));
    llvm::Value *host = b.CreateAlloca(arrayTy, nullptr, "host");
    llvm::Value *dev = b.CreateAlloca(arrayTy, nullptr, "dev");
    for (unsigned i = 0; i < n; ++i)
      b.CreateStore(shim->getArg(i), b.CreateConstInBoundsGEP2_32(arrayTy, host, 0, i));
    llvm::Value *name = b.CreateGlobalString(ep.name, "graft.cuda.entry");
    // graft_cuda.c: enter says run (0), failed (1) or replayed by the
    // entry's CUDA graph (2); leave says whether to run again (its capture
    // into a graph failed, so nothing ran).
    llvm::Value *status = b.CreateCall(enter, {name, host, dev});
    auto *run = llvm::BasicBlock::Create(ctx, "run", shim);
    auto *after = llvm::BasicBlock::Create(ctx, "leave", shim);
    auto *done = llvm::BasicBlock::Create(ctx, "done", shim);
    llvm::SwitchInst *sw = b.CreateSwitch(status, done, 2);
    sw->addCase(b.getInt32(0), run);
    sw->addCase(b.getInt32(2), after);
    b.SetInsertPoint(run);
    llvm::SmallVector<llvm::Value *> args;
    for (unsigned i = 0; i < n; ++i)
      args.push_back(
          b.CreateLoad(ptrTy, b.CreateConstInBoundsGEP2_32(arrayTy, dev, 0, i)));
    b.CreateCall(device, args);
    b.CreateBr(after);
    b.SetInsertPoint(after);
    llvm::Value *again = b.CreateCall(leave, {name, host, dev});
    b.CreateCondBr(b.CreateICmpNE(again, b.getInt32(0)), run, done);
    b.SetInsertPoint(done);
    b.CreateRetVoid();
  }
  return llvm::Error::success();
}

llvm::Error graft::writePTX(const std::string &dir, const std::string &model,
                            const std::vector<GPUImage> &images) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return error("cannot create " + dir + ": " + ec.message());
  for (const GPUImage &image : images) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, model + "." + image.module + "." +
                                      image.chip + ".ptx");
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec)
      return error("cannot write " + path + ": " + ec.message());
    llvm::StringRef ptx(image.ptx);
    os << ptx.rtrim('\0');
  }
  return llvm::Error::success();
}
