//===- Data.cpp - Samples for every input of a model ----------------------===//
//
// The readers of graft train's data formats and the checks every format
// shares: an array's shape is [N, ...the input's shape after the batch],
// floats are finite, integers are integers in the range the model reads
// them in. NumPy's .npy format (versions 1-3) and .npz archives (zip,
// stored or deflated, zip64 included) are read here; CSV by
// graft/Runtime/Dataset.h, safetensors by graft/Runtime/Checkpoint.h.
//
//===----------------------------------------------------------------------===//

#include "graft/Training/Data.h"
#include "graft/Runtime/Checkpoint.h"
#include "graft/Runtime/Dataset.h"
#include "graft/Support/Files.h"
#include "graft/Training/State.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

using namespace mlir;
using namespace graft;
using namespace graft::training;

//===----------------------------------------------------------------------===//
// Column
//===----------------------------------------------------------------------===//

Column Column::dense(ElementType type, int64_t width, std::vector<char> bytes) {
  Column c;
  c.elementType = type;
  c.elements = width;
  size_t rowBytes = width * elementSize(type);
  c.count = rowBytes ? bytes.size() / rowBytes : 0;
  c.bytes = std::move(bytes);
  return c;
}

Column Column::windows(std::shared_ptr<const std::vector<int64_t>> tokens,
                       int64_t width, int64_t offset, int64_t stride,
                       int64_t rows) {
  Column c;
  c.stride = stride;
  c.elementType = ElementType::I64;
  c.elements = width;
  c.count = rows;
  c.offset = offset;
  c.tokens = std::move(tokens);
  return c;
}

void Column::copy(int64_t row, char *dst) const {
  if (tokens) {
    std::memcpy(dst, tokens->data() + row * stride + offset,
                elements * sizeof(int64_t));
    return;
  }
  size_t rowBytes = elements * elementSize(elementType);
  std::memcpy(dst, bytes.data() + row * rowBytes, rowBytes);
}

const Column *Samples::find(llvm::StringRef input) const {
  for (const Input &in : inputs)
    if (in.name == input)
      return &in.column;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Vocabulary
//===----------------------------------------------------------------------===//

/// The code points of UTF-8 `text`; an error names `path` and the offset of
/// the first bad byte, or of a NUL (a binary file, not text).
static llvm::Expected<std::vector<uint32_t>> codePoints(llvm::StringRef path,
                                                        llvm::StringRef text) {
  std::vector<uint32_t> out;
  out.reserve(text.size());
  const char *p = text.begin(), *end = text.end();
  while (p < end) {
    auto c = static_cast<unsigned char>(*p);
    if (c == 0)
      return trainingError(path + ": byte " + llvm::Twine(p - text.begin()) +
                           " is NUL: not a text file");
    if (c < 0x80) {
      out.push_back(c);
      ++p;
      continue;
    }
    llvm::UTF32 cp;
    const auto *src = reinterpret_cast<const llvm::UTF8 *>(p);
    unsigned n = llvm::getNumBytesForUTF8(c);
    if (n > (size_t)(end - p) || !llvm::isLegalUTF8Sequence(src, src + n))
      return trainingError(path + ": byte " + llvm::Twine(p - text.begin()) +
                           " is not UTF-8 text (the text must be UTF-8)");
    llvm::UTF32 *dst = &cp;
    llvm::ConvertUTF8toUTF32(&src, src + n, &dst, dst + 1,
                             llvm::strictConversion);
    out.push_back(cp);
    p += n;
  }
  return out;
}

/// The UTF-8 bytes of code point `cp` (one of a decoded text: valid).
static std::string utf8(uint32_t cp) {
  char bytes[UNI_MAX_UTF8_BYTES_PER_CODE_POINT], *end = bytes;
  llvm::ConvertCodePointToUTF8(cp, end);
  return std::string(bytes, end);
}

llvm::Expected<Vocabulary> Vocabulary::of(llvm::StringRef path,
                                          llvm::StringRef text) {
  auto cps = codePoints(path, text);
  if (!cps)
    return cps.takeError();
  Vocabulary v;
  v.chars = std::move(*cps);
  llvm::sort(v.chars);
  v.chars.erase(std::unique(v.chars.begin(), v.chars.end()), v.chars.end());
  return v;
}

llvm::Expected<Vocabulary> Vocabulary::parse(llvm::StringRef text) {
  auto v = of("the checkpoint's graft.vocab", text);
  if (v && v->chars.size() != (size_t)llvm::count_if(text, [](char c) {
             return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
           }))
    return trainingError("the checkpoint's graft.vocab repeats a character");
  return v;
}

std::string Vocabulary::str() const {
  std::string out;
  for (uint32_t c : chars)
    out += utf8(c);
  return out;
}

std::string Vocabulary::decode(llvm::ArrayRef<int64_t> tokens) const {
  std::string out;
  for (int64_t t : tokens)
    out += utf8(chars[t]);
  return out;
}

llvm::Expected<std::vector<int64_t>>
Vocabulary::encode(llvm::StringRef path, llvm::StringRef text) const {
  auto cps = codePoints(path, text);
  if (!cps)
    return cps.takeError();
  std::vector<int64_t> tokens;
  tokens.reserve(cps->size());
  for (auto [i, c] : llvm::enumerate(*cps)) {
    auto it = llvm::lower_bound(chars, c);
    if (it == chars.end() || *it != c)
      return trainingError(path + ": character " + llvm::Twine(i) + " ('" +
                           utf8(c) + "', U+" + llvm::utohexstr(c, false, 4) +
                           ") is not in the vocabulary of the training text (" +
                           llvm::Twine(chars.size()) + " characters)");
    tokens.push_back(it - chars.begin());
  }
  return tokens;
}

//===----------------------------------------------------------------------===//
// Arrays: the formats' tensors before they are checked against an input
//===----------------------------------------------------------------------===//

namespace {
/// A tensor read from a file: elements of `kind` ('f' float, 'i' signed,
/// 'u' unsigned, 'b' bool, 'h' bfloat16) of `size` bytes, little-endian.
struct Array {
  std::string where; // "x.npz:images", for messages
  char kind = 'f';
  unsigned size = 4;
  std::vector<int64_t> shape;
  llvm::StringRef data; // numel * size bytes

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  double at(int64_t i) const {
    const char *p = data.data() + i * size;
    using namespace llvm::support;
    switch (kind) {
    case 'f':
      if (size == 4) {
        float f;
        std::memcpy(&f, p, 4);
        return f;
      }
      if (size == 8) {
        double d;
        std::memcpy(&d, p, 8);
        return d;
      }
      return 0;
    case 'h': {
      uint32_t bits = (uint32_t)endian::read16le(p) << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    case 'b':
    case 'u':
      switch (size) {
      case 1:
        return (uint8_t)*p;
      case 2:
        return endian::read16le(p);
      case 4:
        return endian::read32le(p);
      default:
        return (double)endian::read64le(p);
      }
    default:
      switch (size) {
      case 1:
        return (int8_t)*p;
      case 2:
        return (int16_t)endian::read16le(p);
      case 4:
        return (int32_t)endian::read32le(p);
      default:
        return (double)(int64_t)endian::read64le(p);
      }
    }
  }
  int64_t integerAt(int64_t i) const {
    const char *p = data.data() + i * size;
    if ((kind == 'i' || kind == 'u') && size == 8)
      return (int64_t)llvm::support::endian::read64le(p);
    return (int64_t)at(i);
  }
  std::string dtype() const {
    if (kind == 'h')
      return "bfloat16";
    if (kind == 'b')
      return "bool";
    return (kind == 'f'   ? "float"
            : kind == 'i' ? "int"
                          : "uint") +
           std::to_string(size * 8);
  }
};

std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + std::to_string(d);
  return s + "]";
}

/// `[i, j, k]` of flat element `flat` of `shape`.
std::string indexString(llvm::ArrayRef<int64_t> shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return shapeString(idx);
}

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readFile(llvm::StringRef path) {
  if (isDeviceLike(path))
    return trainingError(path +
                         ": cannot read the data file: " + kNotRegularFile);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return trainingError(
        path + ": cannot read the data file: " + buffer.getError().message());
  return std::move(*buffer);
}

//===----------------------------------------------------------------------===//
// NumPy .npy and .npz
//===----------------------------------------------------------------------===//

/// Parses a .npy file's bytes (`where` names it in errors).
llvm::Expected<Array> parseNpy(llvm::StringRef where, llvm::StringRef bytes) {
  auto bad = [&](const llvm::Twine &why) {
    return trainingError(where + ": not a NumPy .npy array: " + why);
  };
  if (!bytes.starts_with("\x93NUMPY") || bytes.size() < 10)
    return bad("it does not start with \\x93NUMPY");
  unsigned major = (unsigned char)bytes[6];
  size_t headerLen, start;
  if (major == 1) {
    headerLen = llvm::support::endian::read16le(bytes.data() + 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return bad("truncated");
    headerLen = llvm::support::endian::read32le(bytes.data() + 8);
    start = 12;
  } else {
    return bad("format version " + llvm::Twine(major) + " (1 to 3 are read)");
  }
  if (headerLen > bytes.size() - start)
    return bad("the header runs past the end of the file");
  llvm::StringRef header = bytes.substr(start, headerLen).trim();
  // {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
  auto value = [&](llvm::StringRef key) -> std::optional<llvm::StringRef> {
    size_t k = header.find(("'" + key + "'").str());
    if (k == llvm::StringRef::npos)
      return std::nullopt;
    llvm::StringRef rest = header.substr(k + key.size() + 2).ltrim();
    if (!rest.consume_front(":"))
      return std::nullopt;
    rest = rest.ltrim();
    if (rest.starts_with("(")) {
      size_t close = rest.find(')');
      return close == llvm::StringRef::npos
                 ? std::nullopt
                 : std::optional(rest.substr(1, close - 1));
    }
    if (rest.starts_with("'")) {
      size_t close = rest.find('\'', 1);
      return close == llvm::StringRef::npos
                 ? std::nullopt
                 : std::optional(rest.substr(1, close - 1));
    }
    return rest.take_until([](char c) { return c == ',' || c == '}'; }).trim();
  };
  auto descr = value("descr"), fortran = value("fortran_order"),
       shape = value("shape");
  if (!descr || !fortran || !shape)
    return bad("its header lacks 'descr', 'fortran_order' or 'shape': " +
               header.take_front(80));
  Array a;
  a.where = where.str();
  llvm::StringRef d = *descr;
  if (d.size() < 3 || !llvm::is_contained("<|=>", d[0]) ||
      d.drop_front(2).getAsInteger(10, a.size))
    return trainingError(where + ": dtype '" + d +
                         "' is not a number type Graft reads (float16-64, "
                         "int8-64, uint8-64, bool)");
  a.kind = d[1];
  bool known = (a.kind == 'f' && (a.size == 4 || a.size == 8)) ||
               ((a.kind == 'i' || a.kind == 'u') &&
                llvm::is_contained({1u, 2u, 4u, 8u}, a.size)) ||
               (a.kind == 'b' && a.size == 1);
  if (!known)
    return trainingError(where + ": dtype '" + d +
                         "' is not one Graft reads (float32, float64, "
                         "int8-64, uint8-64, bool)");
  if (d[0] == '>' && a.size > 1)
    return trainingError(where + ": the array is big-endian ('" + d +
                         "'); save it little-endian (arr.astype('<" +
                         d.drop_front(1) + "'))");
  if (*fortran != "False")
    return trainingError(where + ": the array is in Fortran order; save "
                                 "np.ascontiguousarray(arr)");
  llvm::SmallVector<llvm::StringRef> dims;
  shape->split(dims, ',');
  for (llvm::StringRef dim : dims) {
    dim = dim.trim();
    if (dim.empty())
      continue;
    int64_t n;
    if (dim.getAsInteger(10, n) || n < 0 || n > (int64_t(1) << 40))
      return bad("shape (" + *shape + ")");
    a.shape.push_back(n);
  }
  __int128 need = a.size;
  for (int64_t n : a.shape)
    need *= n;
  llvm::StringRef data = bytes.substr(start + headerLen);
  if (need > (__int128)data.size())
    return trainingError(where + ": the array " + shapeString(a.shape) + " " +
                         a.dtype() + " needs " + llvm::Twine((uint64_t)need) +
                         " bytes; the file holds " + llvm::Twine(data.size()) +
                         " (truncated?)");
  a.data = data.take_front((size_t)need);
  return a;
}

/// The members of a .npz archive (a zip file of .npy files), by name
/// without ".npy"; each member's bytes, inflated if deflated.
llvm::Expected<std::map<std::string, std::string>>
readNpz(llvm::StringRef path, llvm::StringRef zip) {
  using namespace llvm::support::endian;
  auto bad = [&](const llvm::Twine &why) {
    return trainingError(path +
                         ": not a NumPy .npz archive (a zip file): " + why);
  };
  // The end of central directory record, within the last 64 KiB + 22.
  size_t eocd = llvm::StringRef::npos;
  for (size_t i = zip.size() >= 22 ? zip.size() - 22 : 0;
       zip.size() >= 22 && i + 65557 >= zip.size(); --i) {
    if (read32le(zip.data() + i) == 0x06054b50) {
      eocd = i;
      break;
    }
    if (i == 0)
      break;
  }
  if (eocd == llvm::StringRef::npos)
    return bad("no end of central directory record");
  uint64_t entries = read16le(zip.data() + eocd + 10);
  uint64_t cdOffset = read32le(zip.data() + eocd + 16);
  // zip64: the locator just before points at the zip64 end record.
  if ((cdOffset == 0xFFFFFFFF || entries == 0xFFFF) && eocd >= 20 &&
      read32le(zip.data() + eocd - 20) == 0x07064b50) {
    uint64_t rec = read64le(zip.data() + eocd - 12);
    if (rec > zip.size() - 56 || read32le(zip.data() + rec) != 0x06064b50)
      return bad("a damaged zip64 end record");
    entries = read64le(zip.data() + rec + 32);
    cdOffset = read64le(zip.data() + rec + 48);
  }
  std::map<std::string, std::string> members;
  uint64_t p = cdOffset;
  for (uint64_t e = 0; e < entries; ++e) {
    if (p > zip.size() || zip.size() - p < 46 ||
        read32le(zip.data() + p) != 0x02014b50)
      return bad("a damaged central directory");
    unsigned method = read16le(zip.data() + p + 10);
    uint32_t crc = read32le(zip.data() + p + 16);
    uint64_t csize = read32le(zip.data() + p + 20);
    uint64_t usize = read32le(zip.data() + p + 24);
    unsigned nameLen = read16le(zip.data() + p + 28),
             extraLen = read16le(zip.data() + p + 30),
             commentLen = read16le(zip.data() + p + 32);
    uint64_t local = read32le(zip.data() + p + 42);
    if (zip.size() - p - 46 < (uint64_t)nameLen + extraLen + commentLen)
      return bad("a damaged central directory");
    std::string name = zip.substr(p + 46, nameLen).str();
    // The zip64 extra field holds the sizes and offset that overflowed.
    llvm::StringRef extra = zip.substr(p + 46 + nameLen, extraLen);
    while (extra.size() >= 4) {
      unsigned id = read16le(extra.data()), len = read16le(extra.data() + 2);
      llvm::StringRef body = extra.substr(4, len);
      if (id == 1) {
        size_t at = 0;
        auto next = [&](uint64_t &field) {
          if (field == 0xFFFFFFFF && at + 8 <= body.size()) {
            field = read64le(body.data() + at);
            at += 8;
          }
        };
        next(usize);
        next(csize);
        next(local);
      }
      extra = extra.drop_front(std::min<size_t>(extra.size(), 4 + len));
    }
    p += 46 + nameLen + extraLen + commentLen;
    if (local > zip.size() || zip.size() - local < 30 ||
        read32le(zip.data() + local) != 0x04034b50)
      return bad("member '" + name + "' has a damaged local header");
    uint64_t dataAt = local + 30 + read16le(zip.data() + local + 26) +
                      read16le(zip.data() + local + 28);
    if (dataAt > zip.size() || zip.size() - dataAt < csize)
      return bad("member '" + name + "' runs past the end of the file");
    llvm::StringRef raw = zip.substr(dataAt, csize);
    std::string bytes;
    if (method == 0) {
      bytes = raw.str();
    } else if (method == 8) {
      if (usize > (uint64_t(1) << 40))
        return bad("member '" + name + "' claims " + llvm::Twine(usize) +
                   " bytes");
      bytes.resize(usize);
      z_stream z{};
      if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
        return bad("zlib could not be initialised");
      z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(raw.data()));
      z.avail_in = raw.size();
      z.next_out = reinterpret_cast<Bytef *>(bytes.data());
      z.avail_out = bytes.size();
      int rc = inflate(&z, Z_FINISH);
      inflateEnd(&z);
      if (rc != Z_STREAM_END || z.avail_out != 0)
        return bad("member '" + name + "' does not inflate to its size");
    } else {
      return bad("member '" + name + "' is compressed with method " +
                 llvm::Twine(method) + " (stored and deflated are read)");
    }
    if (::crc32(0, reinterpret_cast<const Bytef *>(bytes.data()),
                bytes.size()) != crc)
      return bad("member '" + name + "' fails its CRC-32 check (damaged)");
    llvm::StringRef key(name);
    key.consume_back(".npy");
    members[key.str()] = std::move(bytes);
  }
  return members;
}

//===----------------------------------------------------------------------===//
// Sources
//===----------------------------------------------------------------------===//

enum class Format { CSV, Npy, Npz, Safetensors, Text };

/// A file's format by its extension; CSV for any other (graft train's
/// format before the others).
Format formatOf(llvm::StringRef file) {
  std::string lower = file.lower();
  llvm::StringRef f(lower);
  if (f.ends_with(".npy"))
    return Format::Npy;
  if (f.ends_with(".npz"))
    return Format::Npz;
  if (f.ends_with(".safetensors"))
    return Format::Safetensors;
  if (f.ends_with(".txt") || f.ends_with(".text"))
    return Format::Text;
  return Format::CSV;
}

/// Whether `file` ends in an extension of a format with named contents.
bool hasKeys(llvm::StringRef file) {
  Format f = formatOf(file);
  return f == Format::Npz || f == Format::Safetensors;
}

/// A SOURCE split into its file and key ("train.npz:images").
struct Source {
  std::string file, key;
  Format format;
};

Source parseSource(llvm::StringRef spec) {
  Source s;
  s.file = spec.str();
  // FILE:KEY of an .npz or .safetensors file.
  size_t colon = spec.rfind(':');
  if (colon != llvm::StringRef::npos && !hasKeys(spec) &&
      hasKeys(spec.take_front(colon))) {
    s.file = spec.take_front(colon).str();
    s.key = spec.drop_front(colon + 1).str();
  }
  s.format = formatOf(s.file);
  return s;
}

std::string typeString(RankedTensorType t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.getElementType().print(os);
  os << shapeString(t.getShape());
  return s;
}

/// The checks and conversion from an array to the samples of `in`.
llvm::Expected<Column> toColumn(const Array &a, InputOp in) {
  RankedTensorType t = in.getType();
  llvm::ArrayRef<int64_t> sample = t.getShape().drop_front();
  std::string want = "[N" + std::string(sample.empty() ? "" : ", ") +
                     shapeString(sample).substr(1);
  if (a.shape.empty() ||
      llvm::ArrayRef<int64_t>(a.shape).drop_front() != sample)
    return trainingError(a.where + ": the array is " + shapeString(a.shape) +
                         "; input '" + in.getName() + "' (" + typeString(t) +
                         ") takes samples shaped " + want +
                         " (N samples of its shape after the batch)");
  int64_t n = a.numel(), width = n / std::max<int64_t>(a.shape[0], 1);
  bool integerInput = isa<IntegerType>(t.getElementType());
  if (integerInput && (a.kind == 'f' || a.kind == 'h'))
    return trainingError(a.where + ": the array is " + a.dtype() + "; input '" +
                         in.getName() + "' (" + typeString(t) +
                         ") takes integers");
  std::vector<char> bytes;
  if (!integerInput) {
    bytes.resize(n * sizeof(float));
    float *out = reinterpret_cast<float *>(bytes.data());
    for (int64_t i = 0; i < n; ++i) {
      double v = a.at(i);
      if (!std::isfinite((float)v))
        return trainingError(a.where + ": element " + indexString(a.shape, i) +
                             " is " +
                             (std::isnan(v)   ? "nan"
                              : std::isinf(v) ? "inf"
                                              : "outside f32's range") +
                             ": the data must be finite");
      out[i] = (float)v;
    }
    return Column::dense(ElementType::F32, width, std::move(bytes));
  }
  std::optional<IndexRange> range = indexRangeOf(in.getResult());
  bytes.resize(n * sizeof(int64_t));
  int64_t *out = reinterpret_cast<int64_t *>(bytes.data());
  for (int64_t i = 0; i < n; ++i) {
    int64_t v = a.integerAt(i);
    if (a.kind == 'u' && a.size == 8 && v < 0)
      return trainingError(a.where + ": element " + indexString(a.shape, i) +
                           " is beyond int64's range");
    if (range && (v < 0 || v >= range->bound) && v != range->ignored)
      return trainingError(a.where + ": element " + indexString(a.shape, i) +
                           " is " + llvm::Twine(v) +
                           ", out of range for input '" + in.getName() +
                           "': " + describeIndexUse(*range, std::to_string(v)));
    out[i] = v;
  }
  return Column::dense(ElementType::I64, width, std::move(bytes));
}

Array fromTensor(std::string where, const NamedTensor &t) {
  Array a;
  a.where = std::move(where);
  a.shape = t.shape;
  a.size = elementSize(t.type);
  switch (t.type) {
  case ElementType::F32:
  case ElementType::F64:
    a.kind = 'f';
    break;
  case ElementType::BF16:
    a.kind = 'h';
    break;
  case ElementType::I64:
  case ElementType::I32:
    a.kind = 'i';
    break;
  case ElementType::I1:
    a.kind = 'b';
    break;
  }
  a.data = llvm::StringRef(t.bytes.data(), t.bytes.size());
  return a;
}

/// The integer inputs shaped [B, T] that a text feeds, in order.
llvm::SmallVector<InputOp, 2> textInputs(llvm::ArrayRef<InputOp> inputs) {
  // (InputOp's accessors are not const: copies.)
  llvm::SmallVector<InputOp, 2> out;
  for (InputOp in : llvm::SmallVector<InputOp>(inputs))
    if (isa<IntegerType>(in.getType().getElementType()) &&
        in.getType().getRank() == 2)
      out.push_back(in);
  return out;
}
} // namespace

std::string graft::training::describeInputs(ModelOp model) {
  std::string s = "inputs of model '" + model.getSymName().str() + "':";
  for (InputOp in : model.getBody().getOps<InputOp>())
    s += " " + in.getName().str() + " " + typeString(in.getType()) + ",";
  s.pop_back();
  return s;
}

llvm::Expected<Samples>
graft::training::loadSamples(ModelOp model, llvm::StringRef data,
                             llvm::ArrayRef<std::string> bound,
                             const DataOptions &options) {
  llvm::SmallVector<InputOp> inputs(model.getBody().getOps<InputOp>());
  if (inputs.empty())
    return trainingError("model '" + model.getSymName() +
                         "' has no inputs to give data to");
  for (InputOp in : inputs)
    if (in.getType().getRank() == 0)
      return trainingError("input '" + in.getName() +
                           "' is a scalar: graft train feeds inputs shaped "
                           "[B, ...], a batch of samples");
  // Each input's source.
  llvm::StringMap<std::string> specs;
  for (const std::string &b : bound) {
    // (Not structured bindings: the lambda below captures the name.)
    std::pair<llvm::StringRef, llvm::StringRef> parts =
        llvm::StringRef(b).split('=');
    llvm::StringRef name = parts.first, spec = parts.second;
    if (spec.empty() || name.empty())
      return trainingError(options.inputFlag + " '" + b +
                           "': expected NAME=SOURCE");
    if (!llvm::any_of(inputs, [&](InputOp in) { return in.getName() == name; }))
      return trainingError(options.inputFlag + " " + name + ": model '" +
                           model.getSymName() + "' has no input '" + name +
                           "' (" + describeInputs(model) + ")");
    if (!specs.try_emplace(name, spec.str()).second)
      return trainingError(options.inputFlag + " " + name + " is given twice");
  }
  llvm::SmallVector<InputOp> rest;
  for (InputOp in : inputs)
    if (!specs.count(in.getName()))
      rest.push_back(in);
  if (!rest.empty() && data.empty())
    return trainingError("no data for input '" + rest.front().getName() +
                         "': give " + options.dataFlag + ", or " +
                         options.inputFlag + " " + rest.front().getName() +
                         "=SOURCE");

  Samples samples;
  auto add = [&](InputOp in, Column c, std::string source) {
    samples.inputs.push_back({in.getName().str(), std::move(c), source});
  };
  // Reads the inputs `group` from one source (`specFor` names it: the
  // --data SOURCE or an --input's); a CSV file gives the group its
  // columns in order, the other formats each input its own tensor.
  auto read = [&](llvm::SmallVector<InputOp> group,
                  llvm::StringRef spec) -> llvm::Error {
    Source src = parseSource(spec);
    switch (src.format) {
    case Format::CSV: {
      // A classifier's columns are its features and a label, as errors
      // name them.
      bool classifier = group.size() == 2 &&
                        isa<FloatType>(group[0].getType().getElementType()) &&
                        isa<IntegerType>(group[1].getType().getElementType()) &&
                        group[1].getType().getRank() == 1;
      std::vector<CSVGroup> groups;
      for (InputOp in : group) {
        CSVGroup g;
        g.input = classifier ? "" : in.getName().str();
        g.count = in.getType().getNumElements() / in.getType().getDimSize(0);
        g.integer = isa<IntegerType>(in.getType().getElementType());
        if (g.integer)
          if (std::optional<IndexRange> r = indexRangeOf(in.getResult())) {
            g.bound = r->bound;
            g.ignored = r->ignored;
            g.rangeNote = describeIndexUse(*r);
          }
        groups.push_back(std::move(g));
      }
      auto table =
          readCSV(src.file, groups, Labels::Required, options.separator);
      if (!table)
        return table.takeError();
      int64_t f = 0, i = 0;
      for (auto [in, g] : llvm::zip(group, groups)) {
        std::vector<char> bytes;
        ElementType type = g.integer ? ElementType::I64 : ElementType::F32;
        bytes.resize(table->rows() * g.count * elementSize(type));
        for (int64_t r = 0; r < table->rows(); ++r) {
          const char *from =
              g.integer
                  ? (const char *)(table->y.data() + r * table->integers + i)
                  : (const char *)(table->x.data() + r * table->features + f);
          std::memcpy(bytes.data() + r * g.count * elementSize(type), from,
                      g.count * elementSize(type));
        }
        (g.integer ? i : f) += g.count;
        add(in, Column::dense(type, g.count, std::move(bytes)), src.file);
      }
      return llvm::Error::success();
    }
    case Format::Npy: {
      if (group.size() != 1)
        return trainingError(spec + ": a .npy file holds one array; inputs " +
                             group[0].getName() + " and " + group[1].getName() +
                             " both read it (bind each with --input)");
      auto buffer = readFile(src.file);
      if (!buffer)
        return buffer.takeError();
      auto array = parseNpy(src.file, (*buffer)->getBuffer());
      if (!array)
        return array.takeError();
      auto c = toColumn(*array, group[0]);
      if (!c)
        return c.takeError();
      add(group[0], std::move(*c), src.file);
      return llvm::Error::success();
    }
    case Format::Npz: {
      auto buffer = readFile(src.file);
      if (!buffer)
        return buffer.takeError();
      auto members = readNpz(src.file, (*buffer)->getBuffer());
      if (!members)
        return members.takeError();
      for (InputOp in : group) {
        std::string key = src.key.empty() ? in.getName().str() : src.key;
        auto it = members->find(key);
        if (it == members->end()) {
          std::string names;
          for (auto &m : *members)
            names += (names.empty() ? "" : ", ") + m.first;
          return trainingError(src.file + " has no array '" + key +
                               "' for input '" + in.getName() +
                               "' (it holds: " + names + ")");
        }
        std::string where = src.file + ":" + key;
        auto array = parseNpy(where, it->second);
        if (!array)
          return array.takeError();
        auto c = toColumn(*array, in);
        if (!c)
          return c.takeError();
        add(in, std::move(*c), where);
      }
      return llvm::Error::success();
    }
    case Format::Safetensors: {
      auto tensors = readSafetensors(src.file);
      if (!tensors)
        return tensors.takeError();
      for (InputOp in : group) {
        std::string key = src.key.empty() ? in.getName().str() : src.key;
        auto it = llvm::find_if(
            *tensors, [&](const NamedTensor &t) { return t.name == key; });
        if (it == tensors->end())
          return trainingError(src.file + " has no tensor '" + key +
                               "' for input '" + in.getName() + "'");
        std::string where = src.file + ":" + key;
        auto c = toColumn(fromTensor(where, *it), in);
        if (!c)
          return c.takeError();
        add(in, std::move(*c), where);
      }
      return llvm::Error::success();
    }
    case Format::Text: {
      llvm::SmallVector<InputOp, 2> lm = textInputs(group);
      if (lm.size() != 2 || group.size() != 2 ||
          lm[0].getType() != lm[1].getType())
        return trainingError(
            spec +
            ": a text feeds a language model's two integer inputs shaped "
            "[B, T] (the tokens and the targets, one character on), not " +
            llvm::Twine(group.size()) + " input(s) (" + describeInputs(model) +
            ")");
      auto buffer = readFile(src.file);
      if (!buffer)
        return buffer.takeError();
      llvm::StringRef text = (*buffer)->getBuffer();
      text.consume_front("\xEF\xBB\xBF");
      Vocabulary vocab;
      if (options.vocab) {
        vocab = *options.vocab;
      } else {
        auto v = Vocabulary::of(src.file, text);
        if (!v)
          return v.takeError();
        vocab = std::move(*v);
      }
      for (InputOp in : lm)
        if (std::optional<IndexRange> r = indexRangeOf(in.getResult()))
          if ((int64_t)vocab.chars.size() > r->bound)
            return trainingError(
                src.file + ": the text has " + llvm::Twine(vocab.chars.size()) +
                " distinct characters; input '" + in.getName() + "' takes " +
                llvm::Twine(r->bound) + " (" + describeIndexUse(*r, "a token") +
                "): give the model a vocabulary of at least " +
                llvm::Twine(vocab.chars.size()));
      auto tokens = vocab.encode(src.file, text);
      if (!tokens)
        return tokens.takeError();
      int64_t T = lm[0].getType().getDimSize(1);
      int64_t stride = options.disjointWindows ? T : 1;
      int64_t n = tokens->size();
      int64_t rows = n > T ? (n - T - 1) / stride + 1 : 0;
      if (rows < 1)
        return trainingError(src.file + " has " + llvm::Twine(tokens->size()) +
                             " characters; windows of " + llvm::Twine(T) +
                             " + 1 need at least " + llvm::Twine(T + 1));
      auto shared =
          std::make_shared<const std::vector<int64_t>>(std::move(*tokens));
      add(lm[0], Column::windows(shared, T, 0, stride, rows), src.file);
      add(lm[1], Column::windows(shared, T, 1, stride, rows),
          src.file + " (one character on)");
      samples.vocab = std::move(vocab);
      return llvm::Error::success();
    }
    }
    llvm_unreachable("every format is above");
  };
  if (!rest.empty())
    if (llvm::Error e = read(rest, data))
      return std::move(e);
  for (InputOp in : inputs)
    if (specs.count(in.getName()))
      if (llvm::Error e = read({in}, specs.lookup(in.getName())))
        return std::move(e);
  // Declaration order, and one sample count.
  llvm::sort(
      samples.inputs, [&](const Samples::Input &a, const Samples::Input &b) {
        auto pos = [&](llvm::StringRef n) {
          return llvm::find_if(inputs,
                               [&](InputOp in) { return in.getName() == n; }) -
                 inputs.begin();
        };
        return pos(a.name) < pos(b.name);
      });
  samples.rows = samples.inputs.front().column.rows();
  for (const Samples::Input &in : samples.inputs)
    if (in.column.rows() != samples.rows)
      return trainingError(
          "the inputs' data differ in length: '" + samples.inputs.front().name +
          "' has " + llvm::Twine(samples.rows) + " samples (" +
          samples.inputs.front().source + "), '" + in.name + "' " +
          llvm::Twine(in.column.rows()) + " (" + in.source + ")");
  return samples;
}
