//===- Checkpoint.cpp - safetensors checkpoints ---------------------------===//

#include "graft/Runtime/Checkpoint.h"
#include "graft/Support/Files.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CRC.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <tuple>
#include <csignal>
#include <cstring>
#include <cstdlib>
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

using namespace graft;

static const char *dtypeName(ElementType t) {
  switch (t) {
  case ElementType::F32: return "F32";
  case ElementType::F64: return "F64";
  case ElementType::BF16: return "BF16";
  case ElementType::I64: return "I64";
  case ElementType::I32: return "I32";
  case ElementType::I1: return "BOOL";
  }
  return "?";
}

static std::optional<ElementType> dtypeFromName(llvm::StringRef s) {
  return llvm::StringSwitch<std::optional<ElementType>>(s)
      .Case("F32", ElementType::F32)
      .Case("F64", ElementType::F64)
      .Case("BF16", ElementType::BF16)
      .Case("I64", ElementType::I64)
      .Case("I32", ElementType::I32)
      .Case("BOOL", ElementType::I1)
      .Default(std::nullopt);
}

template <typename... Ts>
static llvm::Error ckptError(llvm::StringRef path, const char *fmt, Ts... args) {
  std::string msg; // the path's own '%'s are not conversions
  for (char c : path)
    msg += c == '%' ? std::string("%%") : std::string(1, c);
  msg = msg + ": error: " + fmt;
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg.c_str(),
                                 args...);
}

/// The checksum of a checkpoint (docs/CAPI.md, "Checksums"): the metadata
/// entry "graft.checksum": "crc32:<8 hex digits>", the CRC-32 of zlib (and
/// of Python's zlib.crc32; llvm::crc32) of the whole file with those 8
/// digits read as '0's. graft_runtime.c computes the same.
static constexpr llvm::StringLiteral kChecksumKey = "graft.checksum";
static constexpr llvm::StringLiteral kChecksumPrefix = "crc32:";

/// Where the 8 digits of the "graft.checksum" entry of the "__metadata__"
/// object begin in `header` (the JSON text), found without parsing: the
/// places where `"graft.checksum":"` starts outside every string, one level
/// inside the top-level object's "__metadata__" object. Returns the offset
/// of the value's first byte after `"crc32:` when there is exactly one such
/// place and its value is `crc32:` and 8 hex digits, written without
/// escapes; nullopt otherwise.
static std::optional<size_t> checksumDigits(llvm::StringRef header) {
  const std::string key = ("\"" + kChecksumKey + "\":\"").str();
  unsigned depth = 0;
  bool inString = false, metadataNext = false, inMetadata = false;
  std::optional<size_t> found;
  unsigned count = 0;
  for (size_t i = 0; i < header.size(); ++i) {
    char c = header[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      llvm::StringRef rest = header.substr(i);
      if (depth == 1)
        metadataNext = rest.starts_with("\"__metadata__\"");
      else if (depth == 2 && inMetadata && rest.starts_with(key)) {
        ++count;
        found = i + key.size();
      }
      inString = true;
    } else if (c == '{' || c == '[') {
      ++depth;
      if (depth == 2)
        inMetadata = c == '{' && metadataNext;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  if (count != 1)
    return std::nullopt;
  llvm::StringRef value = header.substr(*found);
  if (!value.consume_front(kChecksumPrefix) || value.size() < 9 ||
      !llvm::all_of(value.take_front(8), llvm::isHexDigit) || value[8] != '"')
    return std::nullopt;
  return *found + kChecksumPrefix.size();
}

/// The CRC-32 of `file` with its bytes [at, at + 8) read as '0's.
static uint32_t checksumOf(llvm::StringRef file, size_t at) {
  auto bytes = [](llvm::StringRef s) {
    return llvm::ArrayRef<uint8_t>((const uint8_t *)s.data(), s.size());
  };
  uint32_t crc = llvm::crc32(0, bytes(file.take_front(at)));
  crc = llvm::crc32(crc, bytes("00000000"));
  return llvm::crc32(crc, bytes(file.drop_front(at + 8)));
}

llvm::Error graft::writeSafetensors(
    llvm::StringRef path, const std::vector<NamedTensor> &tensors,
    const std::map<std::string, std::string> &metadata) {
  llvm::json::Object header;
  uint64_t offset = 0;
  for (const NamedTensor &t : tensors) {
    llvm::json::Array shape;
    for (int64_t d : t.shape)
      shape.push_back(d);
    header[t.name] = llvm::json::Object{
        {"dtype", dtypeName(t.type)},
        {"shape", std::move(shape)},
        {"data_offsets", llvm::json::Array{offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  llvm::json::Object meta;
  for (auto &[k, v] : metadata)
    meta[k] = v;
  // The checksum's digits are written as 0s, then set once the CRC of the
  // whole file is known.
  meta[kChecksumKey] = (kChecksumPrefix + "00000000").str();
  header["__metadata__"] = std::move(meta);
  std::string json;
  llvm::raw_string_ostream(json) << llvm::json::Value(std::move(header));
  while (json.size() % 8) // the format pads the header to 8 bytes
    json += ' ';
  std::optional<size_t> digits = checksumDigits(json);
  if (!digits)
    return ckptError(path, "cannot place the checksum in the header");
  std::string len(8, '\0');
  for (int i = 0; i < 8; ++i)
    len[i] = (char)(((uint64_t)json.size() >> (8 * i)) & 0xff);
  auto bytes = [](llvm::StringRef s) {
    return llvm::ArrayRef<uint8_t>((const uint8_t *)s.data(), s.size());
  };
  uint32_t crc = llvm::crc32(0, bytes(len));
  crc = llvm::crc32(crc, bytes(json));
  for (const NamedTensor &t : tensors)
    crc = llvm::crc32(crc, bytes(llvm::StringRef(t.bytes.data(), t.bytes.size())));
  std::string hex = llvm::utohexstr(crc, /*LowerCase=*/true, /*Width=*/8);
  json.replace(*digits, 8, hex);

  return writeFileAtomically(path, [&](llvm::raw_ostream &os) {
    os << len << json;
    for (const NamedTensor &t : tensors)
      os.write(t.bytes.data(), t.bytes.size());
  });
}

/// Whether `name` is `<base>.tmp-<pid>-<6 lowercase hex digits>`, the name of
/// a temporary of `base` (see writeFileAtomically; graft_runtime.c's
/// temporaries follow the same rule); `pid` receives the writer's id.
static bool isTemporaryOf(llvm::StringRef name, llvm::StringRef base,
                          pid_t &pid) {
  if (!name.consume_front(base) || !name.consume_front(".tmp-"))
    return false;
  auto [digits, suffix] = name.split('-');
  uint64_t v;
  if (digits.empty() || digits.size() > 10 || digits[0] == '0' ||
      !llvm::all_of(digits, llvm::isDigit) || digits.getAsInteger(10, v) ||
      v > (uint64_t)INT32_MAX)
    return false;
  if (suffix.size() != 6 ||
      !llvm::all_of(suffix, [](char c) { return llvm::isDigit(c) ||
                                                (c >= 'a' && c <= 'f'); }))
    return false;
  pid = (pid_t)v;
  return true;
}

unsigned graft::removeStaleTemporaries(llvm::StringRef path) {
  namespace fs = llvm::sys::fs;
  llvm::StringRef base = llvm::sys::path::filename(path);
  if (base.empty() || base == "." || base == "..")
    return 0;
  llvm::SmallString<256> dir(llvm::sys::path::parent_path(path));
  if (dir.empty())
    dir = ".";
  unsigned removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    pid_t pid;
    if (!isTemporaryOf(llvm::sys::path::filename(it->path()), base, pid))
      continue;
    fs::file_status st;
    if (fs::status(it->path(), st, /*Follow=*/false) ||
        !fs::is_regular_file(st))
      continue;
    // Only a writer that no longer exists: a live one (of any user) may
    // still rename its temporary.
    if (::kill(pid, 0) == 0 || errno != ESRCH)
      continue;
    if (!fs::remove(it->path(), /*IgnoreNonExisting=*/true))
      ++removed;
  }
  return removed;
}

/// fsync of the directory holding `path`, so that a rename into it is on
/// disk: without it a power loss after the rename may bring back the old
/// directory entry (or none, for a new file). File systems that cannot
/// sync a directory (EINVAL) are not an error.
static std::error_code syncDirectoryOf(llvm::StringRef path) {
  llvm::SmallString<256> dir(llvm::sys::path::parent_path(path));
  if (dir.empty())
    dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return std::error_code(errno, std::generic_category());
  int r = ::fsync(fd), err = errno;
  ::close(fd);
  if (r != 0 && err != EINVAL && err != ENOTSUP)
    return std::error_code(err, std::generic_category());
  return {};
}

llvm::Error graft::writeFileAtomically(
    llvm::StringRef path,
    llvm::function_ref<void(llvm::raw_ostream &)> write) {
  removeStaleTemporaries(path);
  // Written beside the target, flushed, then renamed over it. The name
  // carries the writer's process id, so that a later writer can tell a
  // temporary whose writer was killed (SIGKILL, power loss) from one that
  // is being written.
  llvm::SmallString<256> tmp, model(path);
  model += ".tmp-" + std::to_string(::getpid()) + "-%%%%%%";
  int fd;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, tmp))
    return ckptError(path, "cannot create a temporary file beside it: %s (%s "
                           "is left as it was)",
                     ec.message().c_str(), path.str().c_str());
  // SIGINT, SIGTERM, SIGHUP and crashes remove it while it exists.
  llvm::sys::RemoveFileOnSignal(tmp);
  auto discard = [&] {
    llvm::sys::fs::remove(tmp);
    llvm::sys::DontRemoveFileOnSignal(tmp);
  };
  auto failed = [&](const char *what, const std::string &why) {
    discard();
    return ckptError(path, "%s: %s (%s is left as it was)", what, why.c_str(),
                     path.str().c_str());
  };
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/false);
    write(os);
    os.flush();
    if (os.has_error()) {
      std::string msg = os.error().message();
      os.clear_error();
      ::close(fd);
      return failed("cannot write the file", msg);
    }
  }
  // For the tests of the clean-up (test/tools/train-temporaries.test): a
  // signal while the temporary is complete but not yet renamed.
  if (const char *sig = std::getenv("GRAFT_TEST_RAISE_BEFORE_RENAME"))
    if (int n = std::atoi(sig); n > 0)
      ::raise(n);
  if (::fsync(fd) != 0) {
    std::string msg = std::strerror(errno);
    ::close(fd);
    return failed("cannot flush the file to disk", msg);
  }
  if (::close(fd) != 0)
    return failed("cannot flush the file to disk", std::strerror(errno));
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path))
    return failed("cannot replace the file", ec.message());
  llvm::sys::DontRemoveFileOnSignal(tmp);
  if (std::error_code ec = syncDirectoryOf(path))
    return ckptError(path, "the file was replaced, but its directory could "
                           "not be flushed to disk: %s",
                     ec.message().c_str());
  return llvm::Error::success();
}

llvm::Error graft::writeFileAtomically(llvm::StringRef path,
                                       llvm::StringRef contents) {
  return writeFileAtomically(
      path, [&](llvm::raw_ostream &os) { os << contents; });
}

/// The deepest nesting of arrays and objects in `text`, strings skipped;
/// counting stops just past kMaxJSONDepth.
static constexpr unsigned kMaxJSONDepth = 64;
static unsigned jsonDepth(llvm::StringRef text) {
  unsigned depth = 0, deepest = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size() && deepest <= kMaxJSONDepth; ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

llvm::Expected<std::vector<NamedTensor>>
graft::readSafetensors(llvm::StringRef path,
                       std::map<std::string, std::string> *metadata) {
  if (isDeviceLike(path))
    return ckptError(path, "cannot read the checkpoint: %s",
                     kNotRegularFile.data());
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return ckptError(path, "cannot read the checkpoint: %s",
                     buffer.getError().message().c_str());
  llvm::StringRef data = (*buffer)->getBuffer();
  if (data.size() < 8)
    return ckptError(path, "truncated checkpoint: %zu bytes, too short for a "
                           "safetensors header",
                     data.size());
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | (unsigned char)data[i];
  if (n > data.size() - 8)
    return ckptError(path, "truncated checkpoint: the header claims %llu "
                           "bytes, the file has %zu after the length",
                     (unsigned long long)n, data.size() - 8);
  // llvm::json::parse recurses per level: a header nested tens of
  // thousands deep overflowed the stack. A safetensors header is 3 deep.
  if (jsonDepth(data.substr(8, n)) > kMaxJSONDepth)
    return ckptError(path, "the safetensors header nests more than %u "
                           "levels deep: not a checkpoint",
                     kMaxJSONDepth);
  auto parsed = llvm::json::parse(data.substr(8, n));
  if (!parsed)
    return ckptError(path, "the safetensors header is not valid JSON: %s",
                     llvm::toString(parsed.takeError()).c_str());
  const llvm::json::Object *obj = parsed->getAsObject();
  if (!obj)
    return ckptError(path, "the safetensors header is not a JSON object");
  llvm::StringRef body = data.substr(8 + n);
  std::vector<NamedTensor> out;
  // Each tensor's byte range, to refuse overlapping ones (safetensors
  // requires disjoint ranges: overlapping ones would alias two tensors).
  std::vector<std::tuple<int64_t, int64_t, std::string>> ranges;
  for (const auto &[key, value] : *obj) {
    if (key == "__metadata__") {
      if (const llvm::json::Object *m = value.getAsObject(); m && metadata)
        for (const auto &[k, v] : *m)
          if (std::optional<llvm::StringRef> str = v.getAsString())
            (*metadata)[k.str()] = str->str();
      continue;
    }
    const llvm::json::Object *t = value.getAsObject();
    const llvm::json::Array *shape = t ? t->getArray("shape") : nullptr;
    const llvm::json::Array *offsets = t ? t->getArray("data_offsets") : nullptr;
    std::optional<llvm::StringRef> dtype = t ? t->getString("dtype") : std::nullopt;
    if (!t || !shape || !offsets || !dtype || offsets->size() != 2)
      return ckptError(path, "tensor '%s' lacks dtype, shape or data_offsets",
                       key.str().c_str());
    NamedTensor nt;
    nt.name = key.str();
    std::optional<ElementType> et = dtypeFromName(*dtype);
    if (!et)
      return ckptError(path, "tensor '%s' has the unsupported dtype %s",
                       key.str().c_str(), dtype->str().c_str());
    nt.type = *et;
    int64_t numel = 1;
    for (const llvm::json::Value &d : *shape) {
      std::optional<int64_t> v = d.getAsInteger();
      if (!v || *v < 0)
        return ckptError(path, "tensor '%s' has a bad shape",
                         key.str().c_str());
      nt.shape.push_back(*v);
      // More elements than the file has bytes is an error before the
      // product can overflow.
      if (llvm::MulOverflow(numel, *v, numel) ||
          (uint64_t)numel > body.size())
        return ckptError(path,
                         "tensor '%s' has a shape of more elements than the "
                         "file holds",
                         key.str().c_str());
    }
    std::optional<int64_t> b = (*offsets)[0].getAsInteger(),
                           e = (*offsets)[1].getAsInteger();
    if (!b || !e || *b < 0 || *e < *b || (uint64_t)*e > body.size())
      return ckptError(path, "tensor '%s' has data_offsets outside the file "
                             "(truncated checkpoint?)",
                       key.str().c_str());
    if ((uint64_t)(*e - *b) != numel * elementSize(nt.type))
      return ckptError(path, "tensor '%s': %lld bytes of data for %lld "
                             "elements of %s",
                       key.str().c_str(), (long long)(*e - *b),
                       (long long)numel, dtype->str().c_str());
    nt.bytes.assign(body.begin() + *b, body.begin() + *e);
    ranges.emplace_back(*b, *e, nt.name);
    out.push_back(std::move(nt));
  }
  llvm::sort(ranges);
  for (size_t i = 1; i < ranges.size(); ++i)
    if (std::get<0>(ranges[i]) < std::get<1>(ranges[i - 1]))
      return ckptError(path, "tensors '%s' and '%s' overlap in the file "
                             "(data_offsets): not a valid safetensors file",
                       std::get<2>(ranges[i - 1]).c_str(),
                       std::get<2>(ranges[i]).c_str());
  // The checksum, when the file has one (graft's writers; files of other
  // tools have none): checked once the file is known to be whole and well
  // formed, before any caller compares its tensors with a model's.
  // A file with Graft's metadata always has one: one whose checksum entry
  // is gone had a key's name damaged (a flipped bit would otherwise turn
  // the check off).
  const llvm::json::Object *meta = obj->getObject("__metadata__");
  if (meta && !meta->get(kChecksumKey) &&
      llvm::any_of(*meta, [](const auto &kv) {
        return llvm::StringRef(kv.first).starts_with("graft.");
      }))
    return ckptError(path, "the checkpoint is corrupted: it has Graft's "
                           "metadata but no %s entry",
                     kChecksumKey.data());
  if (meta)
    if (const llvm::json::Value *stored = meta->get(kChecksumKey)) {
      std::optional<llvm::StringRef> text = stored->getAsString();
      std::optional<size_t> at = checksumDigits(data.substr(8, n));
      if (!text || !at)
        return ckptError(path, "the checkpoint's %s entry is malformed (not "
                               "'%s' and 8 hex digits, written once): the "
                               "file is damaged",
                         kChecksumKey.data(), kChecksumPrefix.data());
      uint32_t computed = checksumOf(data, 8 + *at);
      uint32_t want = 0;
      data.substr(8 + *at, 8).getAsInteger(16, want);
      if (computed != want)
        return ckptError(
            path, "the checkpoint is corrupted: checksum mismatch (stored %s, "
                  "computed %s%s)",
            text->str().c_str(), kChecksumPrefix.data(),
            llvm::utohexstr(computed, /*LowerCase=*/true, 8).c_str());
    }
  return out;
}
