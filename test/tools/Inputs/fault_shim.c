/* An LD_PRELOAD library that makes file operations fail, for the tests of
 * what graft train and graft_save do when a disk is full or read-only
 * (test/tools/train-faults.test, test/Library/save-faults.test): the tests
 * run as root, which chmod cannot stop, and a full file system cannot be
 * made without mounting one.
 *
 *   cc -shared -fPIC fault_shim.c -o fault_shim.so -ldl
 *   LD_PRELOAD=fault_shim.so FAULT_PATH=SUBSTRING FAULT_OP=OP \
 *       FAULT_ERRNO=ENOSPC|EROFS|EIO FAULT_AFTER=N command...
 *
 * Only paths containing FAULT_PATH are touched. OP:
 *   create  open(2) with O_CREAT fails, after N successful ones (default 0):
 *           a read-only directory (EROFS) or one without a free inode
 *   write   write(2) to such a file fails once it holds N bytes (a short
 *           write first, as a full disk does): ENOSPC
 *   fsync   fsync(2) of such a file fails (a write error found at flush)
 *   rename  rename(2) onto such a path fails
 * The first failure is reported on stderr ("fault_shim: ..."), so that a
 * test can see that the fault happened. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FDS 4096
static long long written[MAX_FDS]; /* bytes written to a tracked fd, +1 */
static int creates;

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : 0;
}

static int matches(const char *path) {
  const char *p = env("FAULT_PATH");
  return p && path && strstr(path, p);
}

static int is_op(const char *op) {
  const char *o = env("FAULT_OP");
  return o && strcmp(o, op) == 0;
}

static long long after(void) {
  const char *a = env("FAULT_AFTER");
  return a ? atoll(a) : 0;
}

static int fault_errno(void) {
  const char *e = env("FAULT_ERRNO");
  if (!e || strcmp(e, "ENOSPC") == 0)
    return ENOSPC;
  if (strcmp(e, "EROFS") == 0)
    return EROFS;
  if (strcmp(e, "EIO") == 0)
    return EIO;
  return atoi(e);
}

static int fault(const char *what, const char *path) {
  static int reported;
  int e = fault_errno();
  errno = e;
  if (reported++)
    return -1;
  char line[512];
  int n = snprintf(line, sizeof line, "fault_shim: %s %s: %s\n", what,
                   path ? path : "", strerror(e));
  if (n > 0)
    (void)!write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
  errno = e;
  return -1;
}

static int opened(int fd, const char *path, int flags) {
  if (fd >= 0 && fd < MAX_FDS)
    written[fd] = matches(path) && (flags & (O_WRONLY | O_RDWR)) ? 1 : 0;
  return fd;
}

static int do_open(int dirfd, const char *path, int flags, mode_t mode,
                   const char *sym) {
  if ((flags & O_CREAT) && matches(path) && is_op("create") &&
      creates++ >= after())
    return fault("create", path);
  int fd;
  if (dirfd == AT_FDCWD && strstr(sym, "at") == 0) {
    int (*real)(const char *, int, ...) =
        (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
    fd = real(path, flags, mode);
  } else {
    int (*real)(int, const char *, int, ...) =
        (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, sym);
    fd = real(dirfd, path, flags, mode);
  }
  return opened(fd, path, flags);
}

#define MODE_ARG                                                               \
  mode_t mode = 0;                                                             \
  if (flags & (O_CREAT | __O_TMPFILE)) {                                       \
    va_list ap;                                                                \
    va_start(ap, flags);                                                       \
    mode = (mode_t)va_arg(ap, int);                                            \
    va_end(ap);                                                                \
  }

int open(const char *path, int flags, ...) {
  MODE_ARG
  return do_open(AT_FDCWD, path, flags, mode, "open");
}
int open64(const char *path, int flags, ...) {
  MODE_ARG
  return do_open(AT_FDCWD, path, flags, mode, "open64");
}
int openat(int dirfd, const char *path, int flags, ...) {
  MODE_ARG
  return do_open(dirfd, path, flags, mode, "openat");
}
int openat64(int dirfd, const char *path, int flags, ...) {
  MODE_ARG
  return do_open(dirfd, path, flags, mode, "openat64");
}

ssize_t write(int fd, const void *buf, size_t n) {
  static ssize_t (*real)(int, const void *, size_t);
  if (!real)
    real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
  if (fd >= 0 && fd < MAX_FDS && written[fd] && is_op("write")) {
    long long room = after() - (written[fd] - 1);
    if (room <= 0)
      return fault("write", "(a file being written)");
    if ((long long)n > room)
      n = (size_t)room;
  }
  ssize_t k = real(fd, buf, n);
  if (k > 0 && fd >= 0 && fd < MAX_FDS && written[fd])
    written[fd] += k;
  return k;
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real)
    real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  if (fd >= 0 && fd < MAX_FDS && written[fd] && is_op("fsync"))
    return fault("fsync", "(a file being written)");
  return real(fd);
}

int close(int fd) {
  static int (*real)(int);
  if (!real)
    real = (int (*)(int))dlsym(RTLD_NEXT, "close");
  if (fd >= 0 && fd < MAX_FDS)
    written[fd] = 0;
  return real(fd);
}

int rename(const char *from, const char *to) {
  static int (*real)(const char *, const char *);
  if (!real)
    real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
  if (matches(to) && is_op("rename"))
    return fault("rename", to);
  return real(from, to);
}
