//===- CSVFuzzer.cpp - libFuzzer target: the CSV data reader --------------===//
//
// Any bytes given as a data set to graft train or graft predict are read or
// refused with a located error, never a crash, a hang or a sanitizer
// report. The first byte chooses what the model expects (features 1-4,
// classes 2-9, labels required or optional, the separator: detected, `,`,
// `;` or a tab); the rest is the file.
//
//===----------------------------------------------------------------------===//

#include "graft/Runtime/Dataset.h"

#include "llvm/Support/Error.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  uint8_t choice = data[0];
  int64_t features = 1 + (choice & 3);
  int64_t classes = 2 + ((choice >> 2) & 7);
  auto labels = (choice & 32) ? graft::Labels::Optional : graft::Labels::Required;
  const char separators[] = {0, ',', ';', '\t'};
  char separator = separators[(choice >> 6) & 3];
  llvm::StringRef text(reinterpret_cast<const char *>(data + 1), size - 1);
  auto set = graft::parseCSV("fuzz.csv", text,
                             graft::classifierColumns(features, classes),
                             labels, separator);
  if (!set)
    llvm::consumeError(set.takeError());
  return 0;
}
