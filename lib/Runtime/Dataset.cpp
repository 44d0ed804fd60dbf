//===- Dataset.cpp - CSV data with file:line diagnostics ------------------===//
//
// The CSV reader of graft train and graft predict. It never drops a line
// silently: the first line alone may be a header, and every other line is
// a sample or an error naming the file, the line and what was expected.
//
//===----------------------------------------------------------------------===//

#include "graft/Runtime/Dataset.h"
#include "graft/Support/Files.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>

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

static llvm::Error fileError(llvm::StringRef path, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": error: " + msg);
}

/// The text of a field as an error quotes it: escaped, and cut after 40
/// characters.
static std::string quote(llvm::StringRef text) {
  std::string out = "'";
  for (char c : text.take_front(40)) {
    if (c == '\t')
      out += "\\t";
    else if ((unsigned char)c < 0x20 || c == 0x7f)
      out += "\\x" + llvm::utohexstr((unsigned char)c, /*LowerCase=*/true,
                                     /*Width=*/2);
    else
      out += c;
  }
  out += text.size() > 40 ? "...'" : "'";
  return out;
}

/// How a separator is named in messages.
static std::string sepName(char sep) {
  return sep == '\t' ? "tab" : "'" + std::string(1, sep) + "'";
}

static bool parseNumber(llvm::StringRef field, double &out) {
  field = field.trim();
  if (field.empty())
    return false;
  char small[64];
  std::string large;
  const char *s;
  if (field.size() < sizeof(small)) {
    std::memcpy(small, field.data(), field.size());
    small[field.size()] = 0;
    s = small;
  } else {
    large = field.str();
    s = large.c_str();
  }
  char *end = nullptr;
  out = std::strtod(s, &end);
  // A number too large even for a double ("1e999", a long run of digits)
  // is still a number, refused later as outside f32's range; "inf" and
  // "nan" are not numbers a data set may hold.
  return end == s + field.size() &&
         (std::isfinite(out) ||
          (!std::isnan(out) && field.find_first_of("0123456789") !=
                                   llvm::StringRef::npos));
}

namespace {
/// One field of a record: its text (unquoted) and 1-based column.
struct Field {
  llvm::StringRef text;
  int64_t col;
};

/// One line of the file, split into fields.
struct Record {
  int64_t line = 0;
  llvm::StringRef text; // the line
  llvm::SmallVector<Field, 16> fields;
  std::deque<std::string> unquoted; // the text of quoted fields
};

/// Splits text into records, line by line (LF, CRLF or CR), skipping blank
/// lines.
class Reader {
public:
  Reader(llvm::StringRef path, llvm::StringRef text, char sep)
      : path(path), text(text), sep(sep) {}

  /// The next non-blank line in `r`; false at the end of the text.
  llvm::Expected<bool> next(Record &r) {
    while (pos < text.size()) {
      size_t eol = text.find_first_of("\r\n", pos);
      if (eol == llvm::StringRef::npos)
        eol = text.size();
      llvm::StringRef line = text.slice(pos, eol);
      pos = eol + (text.substr(eol).starts_with("\r\n") ? 2 : 1);
      int64_t lineNo = ++lines;
      if (line.trim(" \t").empty())
        continue;
      if (llvm::Error e = split(line, lineNo, r))
        return std::move(e);
      return true;
    }
    return false;
  }

private:
  llvm::Error split(llvm::StringRef line, int64_t lineNo, Record &r) {
    r.line = lineNo;
    r.text = line;
    r.fields.clear();
    r.unquoted.clear();
    size_t i = 0, n = line.size();
    while (true) {
      size_t j = i;
      while (j < n && line[j] == ' ' && sep != ' ')
        ++j;
      if (j < n && line[j] == '"') {
        // RFC 4180: "" is a quote; the field ends at its closing quote.
        std::string value;
        size_t k = j + 1;
        bool closed = false;
        while (k < n) {
          if (line[k] == '"') {
            if (k + 1 < n && line[k + 1] == '"') {
              value += '"';
              k += 2;
              continue;
            }
            closed = true;
            ++k;
            break;
          }
          value += line[k++];
        }
        int64_t field = r.fields.size() + 1;
        if (!closed)
          return dataError(path, lineNo, j + 1,
                           "the quoted field {0} is not closed on its line "
                           "(a quoted field cannot span lines)",
                           field);
        while (k < n && line[k] == ' ' && sep != ' ')
          ++k;
        if (k < n && line[k] != sep)
          return dataError(path, lineNo, k + 1,
                           "{0} after the closing quote of field {1}: "
                           "expected the separator {2} or the end of the line",
                           quote(line.substr(k, 1)), field, sepName(sep));
        r.unquoted.push_back(std::move(value));
        r.fields.push_back({r.unquoted.back(), (int64_t)j + 1});
        i = k;
      } else {
        size_t k = line.find(sep, i);
        if (k == llvm::StringRef::npos)
          k = n;
        r.fields.push_back({line.slice(i, k), (int64_t)i + 1});
        i = k;
      }
      if (i >= n)
        return llvm::Error::success();
      ++i; // the separator; a field follows, if only an empty one
    }
  }

  llvm::StringRef path, text;
  char sep;
  size_t pos = 0;
  int64_t lines = 0;
};
} // namespace

/// The separator of a file: of `,` `;` tab `|`, the one that splits most of
/// the first lines into an acceptable number of fields (`accepts`), the
/// one with more fields on the first line on a tie (a separator that is
/// there), then the first in that order. When none does, the one that
/// splits the first lines into more than one field alike, else `,`: the
/// reader then reports the first line it cannot read.
template <typename Accepts>
static char detectSeparator(llvm::StringRef path, llvm::StringRef text,
                            Accepts accepts) {
  const char candidates[] = {',', ';', '\t', '|'};
  struct Score {
    int ok = 0, alike = 0;
    size_t first = 0;
  } scores[4];
  for (int c = 0; c < 4; ++c) {
    Reader reader(path, text, candidates[c]);
    Record r;
    for (int k = 0; k < 10; ++k) {
      llvm::Expected<bool> more = reader.next(r);
      if (!more) {
        llvm::consumeError(more.takeError());
        break;
      }
      if (!*more)
        break;
      size_t n = r.fields.size();
      if (k == 0)
        scores[c].first = n;
      scores[c].ok += accepts(n);
      scores[c].alike += n == scores[c].first && n > 1;
    }
  }
  int best = -1;
  for (int c = 0; c < 4; ++c)
    if (scores[c].ok > 0 &&
        (best < 0 || scores[c].ok > scores[best].ok ||
         (scores[c].ok == scores[best].ok &&
          scores[c].first > scores[best].first)))
      best = c;
  if (best < 0)
    for (int c = 0; c < 4; ++c)
      if (scores[c].alike > 0 &&
          (best < 0 || scores[c].alike > scores[best].alike))
        best = c;
  return best < 0 ? ',' : candidates[best];
}

std::optional<char> graft::parseSeparator(llvm::StringRef name) {
  if (name == "," || name == ";" || name == "|" || name == "\t")
    return name[0];
  if (name == "\\t" || name.equals_insensitive("tab"))
    return '\t';
  return std::nullopt;
}

std::vector<CSVGroup> graft::classifierColumns(int64_t features,
                                               int64_t classes) {
  CSVGroup label;
  label.integer = true;
  label.bound = classes;
  return {CSVGroup{"", features, false, 0, std::nullopt, ""}, label};
}

llvm::Expected<Dataset> graft::readCSV(llvm::StringRef path,
                                       llvm::ArrayRef<CSVGroup> groups,
                                       Labels labels, char separator) {
  if (isDeviceLike(path))
    return fileError(path, "cannot read the data file: " + kNotRegularFile);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "%s: error: cannot read the data file: %s",
                                   path.str().c_str(),
                                   buffer.getError().message().c_str());
  return parseCSV(path, (*buffer)->getBuffer(), groups, labels, separator);
}

namespace {
/// The columns of a CSV file's lines, in the words errors use: a
/// classifier's features and label as such, a model input's elements by the
/// input's name.
struct Columns {
  llvm::ArrayRef<CSVGroup> groups;
  bool optionalLast;
  int64_t all = 0, required = 0;

  Columns(llvm::ArrayRef<CSVGroup> groups, bool optionalLast)
      : groups(groups), optionalLast(optionalLast && !groups.empty()) {
    for (const CSVGroup &g : groups)
      all += g.count;
    required = all - (this->optionalLast ? groups.back().count : 0);
  }
  bool accepts(int64_t n) const { return n == all || n == required; }

  /// "64 features and a label", "3 of input 'x' and 1 of input 'y'".
  std::string describe(bool withLast) const {
    std::string out;
    size_t n = withLast ? groups.size() : groups.size() - 1;
    for (size_t i = 0; i < n; ++i) {
      const CSVGroup &g = groups[i];
      if (i)
        out += i + 1 == n ? " and " : ", ";
      if (!g.input.empty())
        out += llvm::formatv("{0} of input '{1}'", g.count, g.input).str();
      else if (g.integer)
        out += g.count == 1 ? "a label"
                            : llvm::formatv("{0} labels", g.count).str();
      else
        out += llvm::formatv("{0} features", g.count).str();
    }
    return out;
  }

  /// Element `k` (0-based) of group `g`: "feature 3 of 64", "element 3 of
  /// 64 of input 'x'".
  static std::string element(const CSVGroup &g, int64_t k) {
    if (g.input.empty())
      return llvm::formatv("feature {0} of {1}", k + 1, g.count).str();
    return llvm::formatv("element {0} of {1} of input '{2}'", k + 1, g.count,
                         g.input)
        .str();
  }
};
} // namespace

llvm::Expected<Dataset> graft::parseCSV(llvm::StringRef path,
                                        llvm::StringRef text,
                                        llvm::ArrayRef<CSVGroup> groups,
                                        Labels labels, char separator) {
  if (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF"))
    return fileError(path, "the data file is UTF-16; save it as UTF-8 "
                           "(or ASCII) text");
  text.consume_front("\xEF\xBB\xBF"); // a UTF-8 byte order mark
  Columns columns(groups, labels == Labels::Optional);
  auto accepts = [&](size_t n) { return columns.accepts(n); };
  bool detected = separator == 0;
  char sep = detected ? detectSeparator(path, text, accepts) : separator;

  Dataset data;
  data.separator = sep;
  for (const CSVGroup &g : groups)
    (g.integer ? data.integers : data.features) += g.count;
  Reader reader(path, text, sep);
  Record r;
  int64_t expectAll = -1; // whether rows have the optional columns, once known
  bool first = true;
  auto countError = [&](const Record &r) {
    int64_t n = r.fields.size();
    bool withLast = labels == Labels::Required;
    std::string msg = llvm::formatv(
        "expected {0} columns ({1}), found {2} separated by {3} in {4}",
        withLast ? columns.all : columns.required, columns.describe(withLast),
        n, sepName(sep), quote(r.text));
    if (n == 1 && detected && data.rows() == 0 && !data.headerLine)
      msg += "\nnote: the separator was guessed from the first lines; give "
             "it with --sep if the file uses another one";
    return dataError(path, r.line, 0, "{0}", msg);
  };
  while (true) {
    llvm::Expected<bool> more = reader.next(r);
    if (!more)
      return more.takeError();
    if (!*more)
      break;
    int64_t n = r.fields.size();
    if (first) {
      first = false;
      // A header: some field that is neither empty nor a number. (An empty
      // field is a missing value, an error below, not a column name.)
      bool header = llvm::any_of(r.fields, [](const Field &f) {
        double v;
        return !f.text.trim().empty() && !parseNumber(f.text, v);
      });
      if (header) {
        if (!accepts(n))
          return countError(r);
        data.headerLine = r.line;
        for (const Field &f : r.fields)
          data.header.push_back(f.text.trim().str());
        expectAll = n == columns.all;
        continue;
      }
    }
    if (!accepts(n))
      return countError(r);
    bool all = n == columns.all;
    if (expectAll >= 0 && all != (bool)expectAll)
      return dataError(
          path, r.line, 0, "expected {0} columns like the {1}, found {2}",
          expectAll ? columns.all : columns.required,
          data.rows()
              ? std::string("lines before")
              : llvm::formatv("header on line {0}", data.headerLine).str(),
          n);
    expectAll = all;
    int64_t i = 0; // the field
    for (const CSVGroup &g : groups) {
      if (i >= n)
        break;
      for (int64_t k = 0; k < g.count; ++k, ++i) {
        const Field &f = r.fields[i];
        llvm::StringRef value = f.text.trim();
        if (g.integer) {
          int64_t v;
          if (value.getAsInteger(10, v)) {
            if (g.input.empty())
              return dataError(path, r.line, f.col,
                               "the label {0} is not an integer (field {1}: "
                               "expected a class in [0, {2}))",
                               quote(value), i + 1, g.bound);
            return dataError(path, r.line, f.col,
                             "{0} is not an integer (field {1}: expected "
                             "{2}, an integer)",
                             quote(value), i + 1, Columns::element(g, k));
          }
          if (g.bound > 0 && (v < 0 || v >= g.bound) && v != g.ignored) {
            if (g.input.empty())
              return dataError(path, r.line, f.col,
                               "label {0} is out of range: the model has {1} "
                               "classes (0 to {2})",
                               v, g.bound, g.bound - 1);
            return dataError(path, r.line, f.col,
                             "{0} is out of range for input '{1}' (field "
                             "{2}): {3}",
                             v, g.input, i + 1, g.rangeNote);
          }
          data.y.push_back(v);
          continue;
        }
        double v;
        if (!parseNumber(f.text, v)) {
          std::string msg =
              value.empty()
                  ? llvm::formatv("field {0} is empty: expected a number "
                                  "({1})",
                                  i + 1, Columns::element(g, k))
                        .str()
                  : llvm::formatv("{0} is not a number (field {1}: expected "
                                  "{2}, a number)",
                                  quote(value), i + 1, Columns::element(g, k))
                        .str();
          // A line of names: a second header, or a header in the middle.
          bool names = llvm::none_of(r.fields, [](const Field &h) {
            double w;
            return parseNumber(h.text, w);
          });
          if (names)
            msg += data.headerLine
                       ? llvm::formatv("\nnote: only the first line may be a "
                                       "header (line {0} is)",
                                       data.headerLine)
                             .str()
                       : std::string("\nnote: only the first line may be a "
                                     "header");
          return dataError(path, r.line, f.col, "{0}", msg);
        }
        if (!std::isfinite((float)v)) // it would train on inf
          return dataError(path, r.line, f.col,
                           "{0} is outside the range of f32 (about "
                           "+-3.4e38)",
                           quote(value));
        data.x.push_back((float)v);
      }
    }
    ++data.samples;
  }
  if (expectAll == 0) { // the rows lack the optional columns
    const CSVGroup &g = groups.back();
    (g.integer ? data.integers : data.features) -= g.count;
  }
  if (data.rows() == 0)
    return fileError(path, data.headerLine
                               ? "the data file has no samples (only a "
                                 "header, on line " +
                                     llvm::Twine(data.headerLine) + ")"
                               : llvm::Twine(text.empty()
                                                 ? "the data file has no "
                                                   "samples (it is empty)"
                                                 : "the data file has no "
                                                   "samples (only blank "
                                                   "lines)"));
  return data;
}
