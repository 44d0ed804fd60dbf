//===- OnnxImport.h - ONNX models as .graft files ---------------*- C++ -*-===//
//
// `graft import model.onnx`: reads an ONNX model (opsets 13 to 17), checks it
// with ONNX's checker, fixes its dynamic sizes from the user's --dim values,
// infers every value's shape with ONNX's shape inference, folds the shape
// arithmetic exporters write (Shape, Gather, Concat, ... on constants), and
// writes the model as a .graft file: one statement per remaining node, the
// initializers as parameters under their names (PyTorch's state_dict names
// when the exporter kept them), the modules they name (`conv1` for
// `conv1.weight`) as modules, and the weights as a safetensors file. An op,
// attribute or value it cannot express is an error naming the node, its op
// type and the opset: the import never writes a model that computes
// something else. docs/Import.md lists what it supports.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_IMPORT_ONNXIMPORT_H
#define GRAFT_IMPORT_ONNXIMPORT_H

#include "graft/Runtime/Checkpoint.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

namespace graft {

struct OnnxImportOptions {
  /// Sizes of the inputs' dynamic dimensions, by their ONNX names (`batch`):
  /// each becomes a `dim` of the model.
  std::map<std::string, int64_t> dims;
  /// The model's name (default: the file's stem).
  std::string name;
  /// Inputs only the loss reads, as `NAME=TYPE` in the model language
  /// (`target=i64[batch]`).
  std::vector<std::string> targets;
  /// The train block: its loss (an expression over the outputs and inputs;
  /// no train block when empty) and optimizer.
  std::string loss;
  std::string optimizer = "SGD(lr=0.01)";
  /// `freeze` patterns of the model (a name, a module, `features.*`).
  std::vector<std::string> freeze;
  /// The file name the written source's header mentions.
  std::string source;
};

struct ImportedModel {
  /// The model as a .graft file.
  std::string text;
  /// Its parameters and buffers under their state_dict names, with the
  /// initializers' values (and the constants too large to write inline).
  std::vector<NamedTensor> weights;
  /// The names in `weights` of the constants the import made buffers of
  /// (`<node>_const`): the source model computes them, so its state_dict
  /// does not hold them.
  std::vector<std::string> constants;
};

/// Imports the ONNX model in `bytes` (read from `path`, named in errors).
llvm::Expected<ImportedModel> importOnnx(llvm::StringRef path,
                                         llvm::StringRef bytes,
                                         const OnnxImportOptions &options);

} // namespace graft

#endif
