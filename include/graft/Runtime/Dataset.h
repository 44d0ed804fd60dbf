//===- Dataset.h - Labelled data for training and prediction ----*- C++ -*-===//

#ifndef GRAFT_RUNTIME_DATASET_H
#define GRAFT_RUNTIME_DATASET_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace graft {

/// Rows of `features` numbers and, when the file has them, an integer label.
struct Dataset {
  int64_t features = 0;
  std::vector<float> x;       // rows * features, row-major
  std::vector<int64_t> y;     // rows (empty without labels)
  char separator = ',';       // the field separator read
  int64_t headerLine = 0;     // the line of the header, 0 without one
  int64_t rows() const { return features ? (int64_t)x.size() / features : 0; }
  bool hasLabels() const { return !y.empty(); }
};

/// Reads a CSV file: one sample per line, `features` numbers then, when
/// `labels` allows it, an integer class label in [0, classes).
///
/// - A UTF-8 byte order mark is skipped; lines end in LF, CRLF or CR.
/// - Fields are separated by `separator`, or, when it is 0, by the one of
///   `,` `;` tab `|` that splits the first lines into the expected number
///   of fields. A field may be quoted ("1.5", RFC 4180, `""` for a quote
///   inside); a quoted field ends on its line.
/// - The first line is a header when one of its fields is neither empty nor
///   a number; it is the only line that may be one: any later field that is
///   not a number is an error.
/// - Lines that are empty or hold only spaces and tabs are skipped.
///
/// Every other malformed line is an error naming the file, the line and,
/// for a field, its column: a wrong number of fields, a value that is not
/// a number or outside f32's range, a label that is not an integer or out
/// of range. An empty or header-only file and a missing one are errors too.
enum class Labels { Required, Optional };
llvm::Expected<Dataset> readCSV(llvm::StringRef path, int64_t features,
                                int64_t classes, Labels labels,
                                char separator = 0);

/// readCSV of the text of a file; `path` names it in errors.
llvm::Expected<Dataset> parseCSV(llvm::StringRef path, llvm::StringRef text,
                                 int64_t features, int64_t classes,
                                 Labels labels, char separator = 0);

/// The separator a `--sep` value names: `,` `;` `|`, a tab, `\t` or `tab`.
std::optional<char> parseSeparator(llvm::StringRef name);

} // namespace graft

#endif
