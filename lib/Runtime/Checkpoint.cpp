//===- Checkpoint.cpp - safetensors checkpoints ---------------------------===//

#include "graft/Runtime/Checkpoint.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <csignal>
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
  std::string msg = path.str() + ": error: " + fmt;
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg.c_str(),
                                 args...);
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
  header["__metadata__"] = std::move(meta);
  std::string json;
  llvm::raw_string_ostream(json) << llvm::json::Value(std::move(header));
  while (json.size() % 8) // the format pads the header to 8 bytes
    json += ' ';

  return writeFileAtomically(path, [&](llvm::raw_ostream &os) {
    uint64_t n = json.size();
    char len[8];
    for (int i = 0; i < 8; ++i)
      len[i] = (char)((n >> (8 * i)) & 0xff);
    os.write(len, 8);
    os << json;
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
    return ckptError(path, "cannot create a temporary file: %s",
                     ec.message().c_str());
  // SIGINT, SIGTERM, SIGHUP and crashes remove it while it exists.
  llvm::sys::RemoveFileOnSignal(tmp);
  auto discard = [&] {
    llvm::sys::fs::remove(tmp);
    llvm::sys::DontRemoveFileOnSignal(tmp);
  };
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/false);
    write(os);
    os.flush();
    if (os.has_error()) {
      std::string msg = os.error().message();
      os.clear_error();
      ::close(fd);
      discard();
      return ckptError(path, "cannot write the file: %s", msg.c_str());
    }
  }
  // For the tests of the clean-up (test/tools/train-temporaries.test): a
  // signal while the temporary is complete but not yet renamed.
  if (const char *sig = std::getenv("GRAFT_TEST_RAISE_BEFORE_RENAME"))
    if (int n = std::atoi(sig); n > 0)
      ::raise(n);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    discard();
    return ckptError(path, "cannot flush the file to disk");
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
    discard();
    return ckptError(path, "cannot replace the file: %s",
                     ec.message().c_str());
  }
  llvm::sys::DontRemoveFileOnSignal(tmp);
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
    out.push_back(std::move(nt));
  }
  return out;
}
