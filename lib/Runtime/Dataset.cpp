//===- Dataset.cpp - CSV data with file:line diagnostics ------------------===//

#include "graft/Runtime/Dataset.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <cstdlib>

using namespace graft;

template <typename... Ts>
static llvm::Error dataError(llvm::StringRef path, int64_t line, int64_t col,
                             const char *fmt, Ts &&...args) {
  std::string where = col > 0 ? llvm::formatv("{0}:{1}:{2}", path, line, col).str()
                              : llvm::formatv("{0}:{1}", path, line).str();
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      where + ": error: " + llvm::formatv(fmt, std::forward<Ts>(args)...).str());
}

static bool parseNumber(llvm::StringRef field, double &out) {
  std::string s = field.trim().str();
  if (s.empty())
    return false;
  char *end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

llvm::Expected<Dataset> graft::readCSV(llvm::StringRef path, int64_t features,
                                       int64_t classes, Labels labels) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "%s: error: cannot read the data file: %s",
                                   path.str().c_str(),
                                   buffer.getError().message().c_str());
  Dataset data;
  data.features = features;
  llvm::StringRef text = (*buffer)->getBuffer();
  int64_t lineNo = 0, expectLabel = -1;
  while (!text.empty()) {
    auto [line, rest] = text.split('\n');
    text = rest;
    ++lineNo;
    line = line.rtrim("\r");
    if (line.trim().empty())
      continue;
    llvm::SmallVector<llvm::StringRef> fields;
    line.split(fields, ',');
    double first;
    if (data.rows() == 0 && expectLabel < 0 && !parseNumber(fields[0], first))
      continue; // a header line
    int64_t n = fields.size();
    bool labelled = n == features + 1;
    if (n != features + 1 && !(labels == Labels::Optional && n == features))
      return dataError(path, lineNo, 0,
                       "expected {0} columns ({1} features{2}), found {3}",
                       labels == Labels::Required ? features + 1 : features,
                       features,
                       labels == Labels::Required ? " and a label" : "", n);
    if (expectLabel >= 0 && labelled != (bool)expectLabel)
      return dataError(path, lineNo, 0,
                       "expected {0} columns like the lines before, found {1}",
                       features + expectLabel, n);
    expectLabel = labelled;
    int64_t col = 1;
    for (int64_t i = 0; i < features; ++i) {
      double v;
      if (!parseNumber(fields[i], v))
        return dataError(path, lineNo, col, "'{0}' is not a number",
                         fields[i].trim());
      if (!std::isfinite((float)v)) // it would train on inf
        return dataError(path, lineNo, col,
                         "'{0}' is outside the range of f32 (about "
                         "+-3.4e38)",
                         fields[i].trim());
      data.x.push_back((float)v);
      col += fields[i].size() + 1;
    }
    if (labelled) {
      int64_t label;
      if (fields.back().trim().getAsInteger(10, label))
        return dataError(path, lineNo, col,
                         "the label '{0}' is not an integer",
                         fields.back().trim());
      if (label < 0 || label >= classes)
        return dataError(path, lineNo, col,
                         "label {0} is out of range: the model has {1} "
                         "classes (0 to {2})",
                         label, classes, classes - 1);
      data.y.push_back(label);
    }
  }
  if (data.rows() == 0)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "%s: error: the data file has no samples",
                                   path.str().c_str());
  return data;
}
