//===- OnnxFuzzer.cpp - libFuzzer target: graft import --------------------===//
//
// Any bytes given to graft import as an ONNX file are imported or refused
// with an error, never a crash, a hang or a sanitizer report: the protobuf
// parse, ONNX's checker and shape inference (whose exceptions the importer
// catches), the folding of constants and the writing of the model. The
// first byte's low bit gives the dynamic dimension `B` a size (the seeds'
// torch exports name their batch so); the rest is the file.
//
//===----------------------------------------------------------------------===//

#include "graft/Import/OnnxImport.h"

#include "llvm/Support/Error.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  graft::OnnxImportOptions options;
  if (data[0] & 1)
    options.dims["B"] = 2;
  options.loss = "output.sum()";
  llvm::StringRef bytes(reinterpret_cast<const char *>(data + 1), size - 1);
  auto imported = graft::importOnnx("fuzz.onnx", bytes, options);
  if (!imported)
    llvm::consumeError(imported.takeError());
  return 0;
}
