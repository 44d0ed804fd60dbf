//===- Data.h - Samples for every input of a model --------------*- C++ -*-===//
//
// What graft train feeds a model: for each of its inputs, the samples a
// batch is made of, from CSV columns, NumPy .npy/.npz arrays, safetensors
// tensors or a text file (windows of characters for a language model),
// checked against the input's shape, dtype and the range of values the
// model reads it in (an embedding's rows, cross_entropy's classes).
//
// A data source names a file (its format by its extension) and, for the
// formats that hold named tensors, optionally which one:
//
//   train.csv            the inputs it feeds, in declaration order, from
//                        consecutive columns (a classifier: the features,
//                        then the label); any extension not below is CSV
//   train.npz            every input from the array of its name
//   train.npz:images     an input from the array `images`
//   x.npy                an input from the array in the file
//   data.safetensors[:K] every input from its tensor (or from tensor K)
//   book.txt             a language model's two [B, T] integer inputs: the
//                        first gets windows of T characters, the second the
//                        same windows one character on (nanoGPT's x and y);
//                        a window starts at every character (at every T-th
//                        in held-out text)
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_TRAINING_DATA_H
#define GRAFT_TRAINING_DATA_H

#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Target/JIT.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace graft::training {

/// The samples of one model input: sample `i` is `width()` elements of
/// `type()` (F32 or I64), held densely or, for text, as windows into one
/// stream of tokens.
class Column {
public:
  static Column dense(ElementType type, int64_t width, std::vector<char> bytes);
  /// Sample `i` is tokens[i * stride + offset, ... + width); `rows`
  /// samples.
  static Column windows(std::shared_ptr<const std::vector<int64_t>> tokens,
                        int64_t width, int64_t offset, int64_t stride,
                        int64_t rows);

  ElementType type() const { return elementType; }
  int64_t width() const { return elements; }
  int64_t rows() const { return count; }
  /// Copies sample `row` to `dst` (width() elements of type()).
  void copy(int64_t row, char *dst) const;

private:
  ElementType elementType = ElementType::F32;
  int64_t elements = 0, count = 0, offset = 0, stride = 1;
  std::vector<char> bytes;
  std::shared_ptr<const std::vector<int64_t>> tokens;
};

/// A character-level vocabulary (nanoGPT's shakespeare_char: the text's
/// distinct characters, sorted; token i is chars[i]).
struct Vocabulary {
  std::vector<uint32_t> chars; // Unicode code points, ascending

  /// The tokens of UTF-8 `text`, or an error naming `path` and the byte
  /// offset of a character the vocabulary lacks or bad UTF-8.
  llvm::Expected<std::vector<int64_t>> encode(llvm::StringRef path,
                                              llvm::StringRef text) const;
  /// The UTF-8 text of `tokens` (each in range).
  std::string decode(llvm::ArrayRef<int64_t> tokens) const;
  /// The characters as one UTF-8 string, as checkpoints keep them
  /// ("graft.vocab"), and back.
  std::string str() const;
  static llvm::Expected<Vocabulary> parse(llvm::StringRef utf8);
  /// The distinct characters of UTF-8 `text` (an error names `path` and
  /// the offset of bad UTF-8 or a NUL byte: not a text file).
  static llvm::Expected<Vocabulary> of(llvm::StringRef path,
                                       llvm::StringRef text);
};

/// A model's data set: a column for each input, all with the same number
/// of samples.
struct Samples {
  struct Input {
    std::string name;
    Column column;
    std::string source; // where it came from, for messages
  };
  std::vector<Input> inputs;
  int64_t rows = 0;
  /// Set when the samples are windows of a text.
  std::optional<Vocabulary> vocab;

  const Column *find(llvm::StringRef input) const;
};

struct DataOptions {
  /// The CSV separator (0: detected).
  char separator = 0;
  /// A text's vocabulary (a test text is read with the training text's;
  /// a resumed run with its checkpoint's); when unset, the text's own.
  std::optional<Vocabulary> vocab;
  /// A text's windows do not overlap (stride T, not 1): held-out text is
  /// evaluated once per character, as a perplexity is.
  bool disjointWindows = false;
  /// The flags that give the data, as errors name them.
  llvm::StringRef dataFlag = "--data", inputFlag = "--input";
};

/// The samples of every input of `model`: those named in `bound`
/// ("NAME=SOURCE") from their source, every other from `data` (a SOURCE;
/// may be empty when `bound` names every input). Errors name the file, and
/// the line and column, the tensor or the array, and what was expected.
llvm::Expected<Samples> loadSamples(ModelOp model, llvm::StringRef data,
                                    llvm::ArrayRef<std::string> bound,
                                    const DataOptions &options);

/// The model's inputs, with their shapes and dtypes, as error notes list
/// them: "inputs: x f32[32, 64], y i64[32]".
std::string describeInputs(ModelOp model);

} // namespace graft::training

#endif
