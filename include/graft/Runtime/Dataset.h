//===- Dataset.h - Labelled data for training and prediction ----*- C++ -*-===//

#ifndef GRAFT_RUNTIME_DATASET_H
#define GRAFT_RUNTIME_DATASET_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace graft {

/// Rows of `features` floats and `integers` integers each: a classifier's
/// features and its label, or any model's inputs in CSV columns.
struct Dataset {
  int64_t features = 0;       // floats per row
  int64_t integers = 0;       // integers per row (a classifier's label)
  int64_t samples = 0;        // rows
  std::vector<float> x;       // samples * features, row-major
  std::vector<int64_t> y;     // samples * integers, row-major
  char separator = ',';       // the field separator read
  int64_t headerLine = 0;     // the line of the header, 0 without one
  std::vector<std::string> header; // its fields, when there is one
  int64_t rows() const { return samples; }
  bool hasLabels() const { return integers > 0; }
};

/// Consecutive columns of a CSV file that hold one thing per row: a
/// classifier's features or label (`input` empty), or the elements of a
/// model input. Floats are read into Dataset::x, integers into Dataset::y,
/// in the order of the groups.
struct CSVGroup {
  std::string input; ///< the model input, or "" (features / label)
  int64_t count = 1; ///< columns
  bool integer = false;
  /// Integers lie in [0, bound) (when bound > 0) or equal `ignored`; out of
  /// range is an error that ends with `rangeNote` (what reads them).
  int64_t bound = 0;
  std::optional<int64_t> ignored;
  std::string rangeNote;
};

/// Reads a CSV file: one sample per line, the columns of `groups` in
/// order; when `labels` is Optional the last group's columns may be
/// missing from every line (a classifier's unlabelled data).
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
/// a number or outside f32's range, an integer column's value that is not
/// an integer or out of range. An empty or header-only file and a missing
/// one are errors too.
enum class Labels { Required, Optional };
llvm::Expected<Dataset> readCSV(llvm::StringRef path,
                                llvm::ArrayRef<CSVGroup> groups,
                                Labels labels = Labels::Required,
                                char separator = 0);
/// readCSV of the text of a file; `path` names it in errors.
llvm::Expected<Dataset> parseCSV(llvm::StringRef path, llvm::StringRef text,
                                 llvm::ArrayRef<CSVGroup> groups,
                                 Labels labels = Labels::Required,
                                 char separator = 0);
/// A classifier's columns: `features` floats, then a label in [0, classes).
std::vector<CSVGroup> classifierColumns(int64_t features, int64_t classes);

/// The separator a `--sep` value names: `,` `;` `|`, a tab, `\t` or `tab`.
std::optional<char> parseSeparator(llvm::StringRef name);

} // namespace graft

#endif
