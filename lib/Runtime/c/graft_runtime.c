/*===- graft_runtime.c - The runtime of libraries built by graft compile ---===*
 *
 * Compiled when Graft is built and embedded in the graft binary, which puts
 * it in every libNAME.a. Depends on libc and libm only. A context owns one
 * allocation holding every tensor of the model and the workspace of the
 * entry points (their temporaries, planned at compile time); entry points
 * update state in place and allocate nothing.
 *
 *===----------------------------------------------------------------------===*/
/* POSIX, for the temporary files of checkpoints (getpid, kill, opendir,
 * open with O_EXCL, fsync); nothing else of the runtime needs more than C. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "graft_api.h"
#include "graft_backend.h"
#include "graft_dist.h"
#include "graft_rng.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static _Thread_local char last_error[1024];

const char *graft_last_error(void) { return last_error; }

static graft_status fail(graft_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return s;
}

const char *graft_status_string(graft_status s) {
  switch (s) {
  case GRAFT_OK: return "ok";
  case GRAFT_ERR_INVALID_ARGUMENT: return "invalid argument";
  case GRAFT_ERR_NOT_FOUND: return "not found";
  case GRAFT_ERR_SIZE: return "size or shape mismatch";
  case GRAFT_ERR_DTYPE: return "dtype mismatch";
  case GRAFT_ERR_IO: return "I/O error";
  case GRAFT_ERR_FORMAT: return "bad file format";
  case GRAFT_ERR_OUT_OF_MEMORY: return "out of memory";
  case GRAFT_ERR_UNSUPPORTED: return "unsupported";
  case GRAFT_ERR_READ_ONLY: return "read-only tensor";
  case GRAFT_ERR_ABI: return "ABI version mismatch";
  case GRAFT_ERR_NO_DEVICE: return "no CUDA device";
  case GRAFT_ERR_DEVICE: return "CUDA error";
  case GRAFT_ERR_CPU: return "CPU lacks a required feature";
  case GRAFT_ERR_NONFINITE: return "non-finite loss";
  case GRAFT_ERR_INDEX: return "index out of range";
  case GRAFT_ERR_DIST: return "data-parallel collective failed";
  }
  return "unknown status";
}

struct hook {
  graft_grad_hook fn;
  void *user;
  int32_t tensor; /* -1: every gradient */
};

struct graft_context {
  const graft_model_desc *model;
  void *block;     /* the one allocation */
  void **data;     /* per tensor */
  void ***calls;   /* per entry: its argument, result and workspace pointers */
  uint64_t seed, steps;
  int32_t threads; /* the steps' thread count; <= 0: the default */
  int32_t seed_tensor;
  struct hook hooks[GRAFT_MAX_HOOKS];
  int32_t nhooks;
  /* With hooks: the gradients accumulated before a forward_backward (every
   * GRAFT_ROLE_GRAD tensor, in order, 64-byte aligned); allocated when the
   * first hook is registered. */
  char *saved;
  /* User properties (graft_set_property), saved with the checkpoint:
   * nprops key/value pairs, each a malloc'ed string. */
  char **props;
  int32_t nprops;
  /* Data-parallel training (graft_dist_init): the communicator, the
   * gradients then the buffers as spans of its collectives, and their
   * scratch. */
  int32_t distributed;
  graft_comm comm;
  graft_dist_span *dist_spans;
  int32_t dist_ngrads, dist_nbuffers;
  char *dist_scratch;
  /* The message of the last call on this context that failed
   * (graft_error). */
  char error[sizeof last_error];
};

const char *graft_error(const graft_context *ctx) {
  return ctx ? ctx->error : last_error;
}

/* Every public function taking a context returns its status through here:
 * a failure's message starts with the function's name ("graft_get: ...",
 * added when the message lacks it) and is kept in the context (graft_error)
 * as well as in the thread's graft_last_error. A context is used by one
 * thread at a time, so writing its message, even in a function taking a
 * const context, races with nothing. */
static graft_status done(const graft_context *ctx, const char *fn,
                         graft_status s) {
  if (s == GRAFT_OK)
    return s;
  size_t n = strlen(fn);
  if (strncmp(last_error, fn, n) != 0 || last_error[n] != ':') {
    char named[sizeof last_error];
    const char *msg = last_error[0] ? last_error : graft_status_string(s);
    size_t rest = strlen(msg);
    if (n + 2 + rest >= sizeof named)
      rest = sizeof named - 1 - (n + 2);
    memcpy(named, fn, n);
    memcpy(named + n, ": ", 2);
    memcpy(named + n + 2, msg, rest);
    named[n + 2 + rest] = 0;
    memcpy(last_error, named, n + 3 + rest);
  }
  if (ctx) /* the context's message is its one mutable part (above) */
    memcpy(((graft_context *)(uintptr_t)ctx)->error, last_error,
           sizeof last_error);
  return s;
}

graft_status graft_backend_fail_context(const graft_context *ctx,
                                        const char *fn, graft_status s,
                                        const char *message) {
  return done(ctx, fn, fail(s, "%s", message));
}

/* The argument checks the public functions start with: the message names
 * the function and the argument. */
#define CHECK_CTX(fn)                                                         \
  if (!ctx)                                                                   \
    return fail(GRAFT_ERR_INVALID_ARGUMENT, fn ": ctx is NULL");
#define CHECK_ARG(fn, arg)                                                    \
  if (!(arg))                                                                 \
    return done(ctx, fn, fail(GRAFT_ERR_INVALID_ARGUMENT, #arg " is NULL"));

/* Name k of a tensor: 0 its name, 1..naliases a tied parameter's aliases. */
static const char *name_of(const graft_tensor_desc *t, int32_t k) {
  return k == 0 ? t->name : t->aliases[k - 1];
}

/* Whether `name` is one of the tensor's names. */
static int has_name(const graft_tensor_desc *t, const char *name) {
  for (int32_t k = 0; k <= t->naliases; ++k)
    if (strcmp(name_of(t, k), name) == 0)
      return 1;
  return 0;
}

/* The index of the tensor of this role and name (any of a tied
 * parameter's), or -1. */
static int32_t find_index(const graft_context *ctx, int32_t role,
                          const char *name) {
  for (int32_t i = 0; i < ctx->model->ntensors; ++i)
    if (ctx->model->tensors[i].role == role &&
        has_name(&ctx->model->tensors[i], name))
      return i;
  return -1;
}

/*--- The runtime, by concern ----------------------------------------------*/

/* Each a part of this one translation unit, in this order. */
#include "graft_cpu.c"        /* does the CPU have what the library needs? */
#include "graft_context.c"    /* creation, initialisation, seeds, threads */
#include "graft_steps.c"      /* calling the entry points */
#include "graft_parallel.c"   /* data-parallel steps over a graft_comm */
#include "graft_tensors.c"    /* tensors and hyper-parameters */
#include "graft_checkpoint.c" /* user properties, graft_save, graft_load */
#include "graft_dist.c"       /* the collectives graft_parallel.c uses */
