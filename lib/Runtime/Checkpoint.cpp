//===- Checkpoint.cpp - safetensors checkpoints ---------------------------===//
//
// graft train's checkpoints, on the C runtime's implementation of the
// format (lib/Runtime/c/graft_safetensors.h): the host reads and writes
// exactly what graft_save and graft_load do.
//
//===----------------------------------------------------------------------===//

#include "graft/Runtime/Checkpoint.h"
#include "graft/Support/Files.h"

#include "graft_api.h"
#include "graft_safetensors.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unistd.h>

using namespace graft;

// ElementType is numbered as graft_api.h's GRAFT_DTYPE_*: the names are
// graft_safetensors.c's, one table for the host and the C runtime.
static_assert((int)ElementType::F32 == GRAFT_DTYPE_F32 &&
                  (int)ElementType::F64 == GRAFT_DTYPE_F64 &&
                  (int)ElementType::BF16 == GRAFT_DTYPE_BF16 &&
                  (int)ElementType::I64 == GRAFT_DTYPE_I64 &&
                  (int)ElementType::I32 == GRAFT_DTYPE_I32 &&
                  (int)ElementType::I1 == GRAFT_DTYPE_BOOL,
              "ElementType differs from graft_api.h's dtypes");

static const char *dtypeName(ElementType t) {
  return graft_st_dtype_name((int32_t)t);
}

static std::optional<ElementType> dtypeFromName(llvm::StringRef s) {
  int32_t d = graft_st_dtype_of(s.str().c_str());
  if (d < 0)
    return std::nullopt;
  return (ElementType)d;
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

llvm::Error graft::writeSafetensors(
    llvm::StringRef path, const std::vector<NamedTensor> &tensors,
    const std::map<std::string, std::string> &metadata) {
  std::vector<graft_st_tensor> table;
  for (const NamedTensor &t : tensors)
    table.push_back({"", t.name.c_str(), dtypeName(t.type),
                     static_cast<int32_t>(t.shape.size()), t.shape.data(),
                     t.bytes.data(), t.bytes.size()});
  std::vector<graft_st_meta> meta;
  for (auto &[k, v] : metadata)
    if (k != "graft.checksum") // graft_st_header writes it
      meta.push_back({"", k.c_str(), v.c_str()});
  size_t len = 0;
  std::unique_ptr<unsigned char, decltype(&std::free)> header(
      graft_st_header(table.data(), static_cast<int32_t>(table.size()),
                      meta.data(), static_cast<int32_t>(meta.size()), &len),
      &std::free);
  if (!header)
    return ckptError(path, "out of memory");
  return writeFileAtomically(path, [&](llvm::raw_ostream &os) {
    os.write(reinterpret_cast<const char *>(header.get()), len);
    for (const NamedTensor &t : tensors)
      os.write(t.bytes.data(), t.bytes.size());
  });
}

unsigned graft::removeStaleTemporaries(llvm::StringRef path) {
  return graft_st_remove_stale_temporaries(path.str().c_str());
}

llvm::Error graft::writeFileAtomically(
    llvm::StringRef path,
    llvm::function_ref<void(llvm::raw_ostream &)> write) {
  removeStaleTemporaries(path);
  // Written beside the target, flushed, then renamed over it. The name
  // carries the writer's process id, so that a later writer can tell a
  // temporary whose writer was killed (SIGKILL, power loss) from one that
  // is being written (graft_safetensors.h).
  std::string target = path.str();
  std::vector<char> name(target.size() + 32);
  int fd = graft_st_create_temporary(target.c_str(), name.data(), name.size());
  if (fd < 0)
    return ckptError(path,
                     "cannot create a temporary file beside it: %s (%s "
                     "is left as it was)",
                     std::strerror(errno), target.c_str());
  llvm::SmallString<256> tmp(name.data());
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
  if (graft_st_sync_directory_of(path.str().c_str()) != 0)
    return ckptError(path,
                     "the file was replaced, but its directory could "
                     "not be flushed to disk: %s",
                     std::strerror(errno));
  return llvm::Error::success();
}

llvm::Error graft::writeFileAtomically(llvm::StringRef path,
                                       llvm::StringRef contents) {
  return writeFileAtomically(
      path, [&](llvm::raw_ostream &os) { os << contents; });
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
  graft_st_file file{};
  char why[512];
  if (graft_st_read(reinterpret_cast<const unsigned char *>(data.data()),
                    data.size(), &file, why, sizeof why) != GRAFT_ST_OK)
    return ckptError(path, "%s", why);
  llvm::scope_exit release([&] { graft_st_free(&file); });
  std::vector<NamedTensor> out;
  for (const graft_st_entry &e : llvm::ArrayRef(file.entries, file.nentries)) {
    std::optional<ElementType> type = dtypeFromName(e.dtype);
    if (!type)
      return ckptError(path, "tensor '%s' has the unsupported dtype %s", e.name,
                       e.dtype);
    out.push_back(
        {e.name, *type, std::vector<int64_t>(e.shape, e.shape + e.rank),
         std::vector<char>(data.begin() + e.begin, data.begin() + e.end)});
  }
  if (metadata)
    for (int32_t i = 0; i < file.nmeta; ++i)
      (*metadata)[file.meta[2 * i]] = file.meta[2 * i + 1];
  return out;
}
