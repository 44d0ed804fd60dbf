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

/*--- The CPU: does it have what the library was compiled for? ------------*/

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* One x86 extension: the CPUID leaf/subleaf, register (0 ebx, 1 ecx,
 * 2 edx) and bit that report it, and the register state (XCR0 bits) the
 * operating system must enable for it. LLVM's feature names. */
struct x86_feature {
  const char *name;
  unsigned leaf, sub, reg, bit;
  unsigned long long xcr0;
};
#define XCR0_AVX 0x6ULL       /* SSE and AVX state */
#define XCR0_AVX512 0xe6ULL   /* and opmask, ZMM_Hi256, Hi16_ZMM */
#define XCR0_AMX 0x60000ULL   /* XTILECFG, XTILEDATA */
static const struct x86_feature x86_features[] = {
    {"sse3", 1, 0, 1, 0, 0},          {"ssse3", 1, 0, 1, 9, 0},
    {"sse4.1", 1, 0, 1, 19, 0},       {"sse4.2", 1, 0, 1, 20, 0},
    {"popcnt", 1, 0, 1, 23, 0},       {"avx", 1, 0, 1, 28, XCR0_AVX},
    {"fma", 1, 0, 1, 12, XCR0_AVX},   {"f16c", 1, 0, 1, 29, XCR0_AVX},
    {"avx2", 7, 0, 0, 5, XCR0_AVX},   {"bmi", 7, 0, 0, 3, 0},
    {"bmi2", 7, 0, 0, 8, 0},          {"avx512f", 7, 0, 0, 16, XCR0_AVX512},
    {"avx512dq", 7, 0, 0, 17, XCR0_AVX512},
    {"avx512ifma", 7, 0, 0, 21, XCR0_AVX512},
    {"avx512cd", 7, 0, 0, 28, XCR0_AVX512},
    {"avx512bw", 7, 0, 0, 30, XCR0_AVX512},
    {"avx512vl", 7, 0, 0, 31, XCR0_AVX512},
    {"avx512vbmi", 7, 0, 1, 1, XCR0_AVX512},
    {"avx512vbmi2", 7, 0, 1, 6, XCR0_AVX512},
    {"avx512vnni", 7, 0, 1, 11, XCR0_AVX512},
    {"avx512bitalg", 7, 0, 1, 12, XCR0_AVX512},
    {"avx512vpopcntdq", 7, 0, 1, 14, XCR0_AVX512},
    {"avx512fp16", 7, 0, 2, 23, XCR0_AVX512},
    {"amx-bf16", 7, 0, 2, 22, XCR0_AMX},
    {"amx-tile", 7, 0, 2, 24, XCR0_AMX},
    {"amx-int8", 7, 0, 2, 25, XCR0_AMX},
    {"avxvnni", 7, 1, 3, 4, XCR0_AVX},  /* eax of leaf 7.1 */
    {"avx512bf16", 7, 1, 3, 5, XCR0_AVX512},
};

static int x86_has(const struct x86_feature *f) {
  unsigned r[4] = {0, 0, 0, 0}; /* ebx, ecx, edx, eax */
  if (!__get_cpuid_count(f->leaf, f->sub, &r[3], &r[0], &r[1], &r[2]))
    return 0;
  if (!((r[f->reg] >> f->bit) & 1))
    return 0;
  if (f->xcr0) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 27) & 1)) /* OSXSAVE */
      return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    unsigned long long xcr0 = ((unsigned long long)hi << 32) | lo;
    if ((xcr0 & f->xcr0) != f->xcr0)
      return 0;
  }
  return 1;
}
#endif

/* Checks every extension in the comma-separated `features`; names this
 * runtime does not know are not checked. GRAFT_OK or GRAFT_ERR_CPU. */
static graft_status check_cpu(const graft_model_desc *m) {
#if defined(__x86_64__) || defined(__i386__)
  const char *p = m->target_features;
  while (p && *p) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    for (size_t k = 0; k < sizeof x86_features / sizeof *x86_features; ++k) {
      const struct x86_feature *f = &x86_features[k];
      if (strlen(f->name) == n && strncmp(f->name, p, n) == 0 && !x86_has(f))
        return fail(GRAFT_ERR_CPU,
                    "graft_create: model '%s' was compiled for CPU '%s' and "
                    "uses %s, which "
                    "this CPU lacks; recompile it with `graft compile "
                    "--target-cpu=<cpu>` for this machine (or an older one, "
                    "e.g. x86-64-v2)",
                    m->name, m->target_cpu ? m->target_cpu : "?", f->name);
    }
    p = end ? end + 1 : 0;
  }
#else
  (void)m;
#endif
  return GRAFT_OK;
}

const graft_model_desc *graft_model(const graft_context *ctx) {
  return ctx ? ctx->model : 0;
}

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }
static void init_hypers(graft_context *ctx);
static void free_pairs(char **pairs, int32_t n);

static int64_t dtype_bytes(int32_t dtype) {
  switch (dtype) {
  case GRAFT_DTYPE_F32: case GRAFT_DTYPE_I32: return 4;
  case GRAFT_DTYPE_F64: case GRAFT_DTYPE_I64: return 8;
  case GRAFT_DTYPE_BF16: return 2;
  case GRAFT_DTYPE_BOOL: return 1;
  }
  return 0;
}

static graft_status bad_model(const graft_model_desc *m, const char *fmt,
                              ...) {
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return fail(GRAFT_ERR_INVALID_ARGUMENT,
              "graft_create: model '%s' is not a valid graft_model_desc: %s",
              m->name ? m->name : "?", what);
}

/* A descriptor graft compile did not write (or a damaged one) is refused
 * before anything is sized or read through it: counts, tables, indices,
 * byte counts, and a total that fits the address space. */
static graft_status check_model(const graft_model_desc *m) {
  const uint64_t limit = (uint64_t)SIZE_MAX / 4;
  uint64_t total = 0;
  if (!m->name)
    return bad_model(m, "name is NULL");
  if (m->ntensors < 0 || (m->ntensors > 0 && !m->tensors))
    return bad_model(m, "ntensors is %d, tensors %s", (int)m->ntensors,
                     m->tensors ? "set" : "NULL");
  if (m->nentries < 0 || (m->nentries > 0 && !m->entries))
    return bad_model(m, "nentries is %d, entries %s", (int)m->nentries,
                     m->entries ? "set" : "NULL");
  for (int32_t i = 0; i < m->ntensors; ++i) {
    const graft_tensor_desc *t = &m->tensors[i];
    int64_t size = dtype_bytes(t->dtype);
    if (!t->name)
      return bad_model(m, "tensor %d has no name", (int)i);
    if (t->role < GRAFT_ROLE_PARAM || t->role > GRAFT_ROLE_HOOK || !size)
      return bad_model(m, "tensor %d ('%s') has role %d and dtype %d", (int)i,
                       t->name, (int)t->role, (int)t->dtype);
    if (t->rank < 0 || (t->rank > 0 && !t->shape) || t->numel < 0 ||
        t->nbytes < 0 || (uint64_t)t->nbytes > limit ||
        t->numel > t->nbytes / size)
      return bad_model(m, "tensor %d ('%s') has rank %d, %lld elements and "
                       "%lld bytes", (int)i, t->name, (int)t->rank,
                       (long long)t->numel, (long long)t->nbytes);
    if (t->index_bound < 0 ||
        (t->index_bound > 0 &&
         (t->role != GRAFT_ROLE_INPUT || !t->index_use ||
          (t->dtype != GRAFT_DTYPE_I64 && t->dtype != GRAFT_DTYPE_I32))))
      return bad_model(m, "tensor %d ('%s') has index bound %lld", (int)i,
                       t->name, (long long)t->index_bound);
    if (t->naliases < 0 || (t->naliases > 0 && (!t->aliases ||
                                                t->role != GRAFT_ROLE_PARAM)))
      return bad_model(m, "tensor %d ('%s') has %d aliases", (int)i, t->name,
                       (int)t->naliases);
    for (int32_t k = 0; k < t->naliases; ++k)
      if (!t->aliases[k])
        return bad_model(m, "tensor %d ('%s') has a NULL alias", (int)i,
                         t->name);
    total += align64((size_t)t->nbytes);
    if (total > limit)
      return fail(GRAFT_ERR_OUT_OF_MEMORY, "graft_create: model '%s' needs "
                  "more memory than the address space holds", m->name);
  }
  const int32_t which[] = {m->forward_backward, m->zero_grad, m->step,
                           m->train_step, m->eval, m->predict};
  for (size_t k = 0; k < sizeof which / sizeof *which; ++k)
    if (which[k] < -1 || which[k] >= m->nentries)
      return bad_model(m, "entry point index %d is out of range (%d entries)",
                       (int)which[k], (int)m->nentries);
  for (int32_t e = 0; e < m->nentries; ++e) {
    const graft_entry_desc *ep = &m->entries[e];
    const char *name = ep->name ? ep->name : "?";
    if (!ep->fn || ep->nargs < 0 || ep->nresults < 0 ||
        (ep->nargs > 0 && !ep->args) || (ep->nresults > 0 && !ep->results) ||
        ep->workspace_bytes < 0 || (uint64_t)ep->workspace_bytes > limit)
      return bad_model(m, "entry point %d ('%s') is malformed", (int)e, name);
    for (int32_t a = 0; a < ep->nargs + ep->nresults; ++a) {
      int32_t t = a < ep->nargs ? ep->args[a] : ep->results[a - ep->nargs];
      if (t < 0 || t >= m->ntensors)
        return bad_model(m, "entry point %d ('%s') uses tensor %d of %d",
                         (int)e, name, (int)t, (int)m->ntensors);
    }
    total += sizeof(void *) * ((uint64_t)ep->nargs + (uint64_t)ep->nresults + 2);
    if (total > limit)
      return fail(GRAFT_ERR_OUT_OF_MEMORY, "graft_create: model '%s' needs "
                  "more memory than the address space holds", m->name);
  }
  return GRAFT_OK;
}

graft_status graft_create(const graft_model_desc *m, graft_context **out) {
  if (out)
    *out = 0;
  if (!m)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "graft_create: model is NULL");
  if (!out)
    return fail(GRAFT_ERR_INVALID_ARGUMENT,
                "graft_create: out is NULL (pass &ctx)");
  if (m->abi_version != GRAFT_ABI_VERSION)
    return fail(GRAFT_ERR_ABI, "graft_create: model '%s' has ABI version %d, "
                "this runtime %d: recompile it with this graft",
                m->name ? m->name : "?", (int)m->abi_version,
                GRAFT_ABI_VERSION);
  graft_status bad = check_model(m);
  if (bad == GRAFT_OK)
    bad = check_cpu(m);
  if (bad != GRAFT_OK)
    return bad;
  graft_context *c = (graft_context *)calloc(1, sizeof *c);
  if (!c)
    return fail(GRAFT_ERR_OUT_OF_MEMORY, "graft_create: out of memory");
  c->model = m;
  c->seed_tensor = -1;
  int32_t n = m->ntensors;
  size_t pointers = 0, workspace = 0;
  for (int32_t e = 0; e < m->nentries; ++e) {
    const graft_entry_desc *ep = &m->entries[e];
    pointers += (size_t)(ep->nargs + ep->nresults + 1);
    if ((size_t)ep->workspace_bytes > workspace)
      workspace = (size_t)ep->workspace_bytes;
  }
  /* Layout: data/calls tables, the call pointer arrays, the tensors, the
   * workspace (one for every entry point: a context runs one at a time). */
  size_t header = align64(sizeof(void *) * ((size_t)n + (size_t)m->nentries +
                                            pointers));
  size_t size = header + align64(workspace);
  for (int32_t i = 0; i < n; ++i)
    size += align64((size_t)m->tensors[i].nbytes);
  c->block = aligned_alloc(64, align64(size ? size : 64));
  if (!c->block) {
    free(c);
    return fail(GRAFT_ERR_OUT_OF_MEMORY, "graft_create: cannot allocate %zu bytes",
                size);
  }
  memset(c->block, 0, align64(size ? size : 64));
  void **table = (void **)c->block;
  c->data = table;
  c->calls = (void ***)(table + n);
  void **ptrs = table + n + m->nentries;
  char *p = (char *)c->block + header;
  for (int32_t i = 0; i < n; ++i) {
    c->data[i] = p;
    p += align64((size_t)m->tensors[i].nbytes);
    if (m->tensors[i].role == GRAFT_ROLE_SEED)
      c->seed_tensor = i;
  }
  void *ws = p;
  for (int32_t e = 0; e < m->nentries; ++e) {
    const graft_entry_desc *ep = &m->entries[e];
    c->calls[e] = ptrs;
    for (int32_t a = 0; a < ep->nargs; ++a)
      *ptrs++ = c->data[ep->args[a]];
    for (int32_t r = 0; r < ep->nresults; ++r)
      *ptrs++ = c->data[ep->results[r]]; /* state: in place */
    *ptrs++ = ws;
  }
  /* Hyper-parameters start at the model's values: a context that is only
   * loaded (graft_load of a weights-only file) trains with them. */
  init_hypers(c);
  *out = c;
  return GRAFT_OK;
}

graft_status graft_destroy(graft_context *ctx) {
  if (!ctx)
    return GRAFT_OK;
  if (graft_backend_destroy_hook)
    graft_backend_destroy_hook(ctx);
  free(ctx->saved);
  free_pairs(ctx->props, ctx->nprops);
  free(ctx->block);
  free(ctx);
  return GRAFT_OK;
}

/*--- Initialisation: the counter-based generator of graft's evaluator -----*/

static void store(void *data, int32_t dtype, int64_t i, double v) {
  switch (dtype) {
  case GRAFT_DTYPE_F32: ((float *)data)[i] = (float)v; break;
  case GRAFT_DTYPE_F64: ((double *)data)[i] = v; break;
  case GRAFT_DTYPE_I64: ((int64_t *)data)[i] = (int64_t)v; break;
  case GRAFT_DTYPE_I32: ((int32_t *)data)[i] = (int32_t)v; break;
  case GRAFT_DTYPE_BOOL: ((unsigned char *)data)[i] = v != 0; break;
  case GRAFT_DTYPE_BF16: {
    float f = (float)v;
    uint32_t b;
    memcpy(&b, &f, 4);
    b += 0x7fff + ((b >> 16) & 1); /* round to nearest even */
    ((uint16_t *)data)[i] = (uint16_t)(b >> 16);
    break;
  }
  }
}

static double load(const void *data, int32_t dtype, int64_t i) {
  switch (dtype) {
  case GRAFT_DTYPE_F32: return ((const float *)data)[i];
  case GRAFT_DTYPE_F64: return ((const double *)data)[i];
  case GRAFT_DTYPE_I64: return (double)((const int64_t *)data)[i];
  case GRAFT_DTYPE_I32: return ((const int32_t *)data)[i];
  case GRAFT_DTYPE_BOOL: return ((const unsigned char *)data)[i];
  case GRAFT_DTYPE_BF16: {
    uint32_t b = (uint32_t)((const uint16_t *)data)[i] << 16;
    float f;
    memcpy(&f, &b, 4);
    return f;
  }
  }
  return 0;
}

/* Tensor i from its initialiser (zeros for every role but parameters,
 * buffers and hyper-parameters). */
static void init_tensor(graft_context *ctx, int32_t i, uint64_t seed) {
  const graft_tensor_desc *t = &ctx->model->tensors[i];
  void *d = ctx->data[i];
  if (!d)
    return;
  memset(d, 0, (size_t)t->nbytes);
  if (t->role != GRAFT_ROLE_PARAM && t->role != GRAFT_ROLE_BUFFER &&
      t->role != GRAFT_ROLE_HYPER)
    return;
  uint64_t base = graft_rng_init_base(seed, t->name, strlen(t->name));
  double a = t->init_p0, b = t->init_p1;
  for (int64_t k = 0; k < t->numel; ++k) {
    switch (t->init_dist) {
    case GRAFT_INIT_ZERO: break;
    case GRAFT_INIT_CONSTANT: store(d, t->dtype, k, a); break;
    case GRAFT_INIT_UNIFORM:
      store(d, t->dtype, k, a + (b - a) * graft_rng_init_uniform(base, k));
      break;
    case GRAFT_INIT_NORMAL:
      store(d, t->dtype, k, a + b * graft_rng_init_normal(base, k));
      break;
    case GRAFT_INIT_TRUNC_NORMAL:
      store(d, t->dtype, k,
            graft_rng_init_trunc_normal(base, k, a, b, t->init_p2, t->init_p3));
      break;
    }
  }
}

static void init_hypers(graft_context *ctx) {
  for (int32_t i = 0; i < ctx->model->ntensors; ++i)
    if (ctx->model->tensors[i].role == GRAFT_ROLE_HYPER)
      init_tensor(ctx, i, 0);
}

graft_status graft_init(graft_context *ctx, uint64_t seed) {
  if (!ctx)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "graft_init: ctx is NULL");
  for (int32_t i = 0; i < ctx->model->ntensors; ++i)
    init_tensor(ctx, i, seed);
  ctx->seed = seed;
  ctx->steps = 0;
  return GRAFT_OK;
}

graft_status graft_set_seed(graft_context *ctx, uint64_t seed) {
  if (!ctx)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "graft_set_seed: ctx is NULL");
  ctx->seed = seed;
  return GRAFT_OK;
}

graft_status graft_get_seed(const graft_context *ctx, uint64_t *seed) {
  CHECK_CTX("graft_get_seed");
  CHECK_ARG("graft_get_seed", seed);
  *seed = ctx->seed;
  return GRAFT_OK;
}

/*--- Threads --------------------------------------------------------------*/

/* The pool the generated code's parallel loops run on: its own file, since
 * the graft tool's JIT links it too; here, part of this one translation
 * unit (the runtime is embedded as one object). */
#include "graft_threads.c"

graft_status graft_set_num_threads(graft_context *ctx, int32_t threads) {
  if (!ctx)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "graft_set_num_threads: ctx is NULL");
  ctx->threads = threads;
  return GRAFT_OK;
}

graft_status graft_get_num_threads(const graft_context *ctx, int32_t *threads) {
  CHECK_CTX("graft_get_num_threads");
  CHECK_ARG("graft_get_num_threads", threads);
  *threads = ctx->threads > 0 ? ctx->threads : graft_threads_default();
  return GRAFT_OK;
}

/*--- Steps ----------------------------------------------------------------*/

/* What a device back end (graft_cuda.c) sees of the call in progress. */
static _Thread_local graft_context *running;
static _Thread_local graft_status entry_status;
void (*graft_backend_destroy_hook)(graft_context *ctx);

graft_context *graft_backend_context(void) { return running; }

void graft_backend_fail(graft_status s, const char *message) {
  entry_status = fail(s, "%s", message);
}

/* Each integer input that entry point e reads as positions holds values in
 * its range (graft_tensor_desc.index_*): PyTorch raises IndexError there,
 * and the generated code would read a zero row instead. */
static graft_status check_indices(const graft_context *ctx, int32_t e) {
  const graft_model_desc *m = ctx->model;
  const graft_entry_desc *ep = &m->entries[e];
  for (int32_t a = 0; a < ep->nargs; ++a) {
    const graft_tensor_desc *t = &m->tensors[ep->args[a]];
    if (t->index_bound <= 0)
      continue;
    const void *data = ctx->data[ep->args[a]];
    for (int64_t k = 0; k < t->numel; ++k) {
      int64_t v = t->dtype == GRAFT_DTYPE_I64 ? ((const int64_t *)data)[k]
                                              : ((const int32_t *)data)[k];
      if ((v >= 0 && v < t->index_bound) ||
          (t->has_index_ignored && v == t->index_ignored))
        continue;
      /* The element's position, and the use with "{}" read as the value. */
      char at[16 * 24] = ""; /* 16 coordinates of up to 22 characters */
      int64_t coords[16], rest = k;
      int32_t rank = t->rank < 16 ? t->rank : 16;
      for (int32_t d = t->rank - 1; d >= 0; --d) {
        if (d < rank)
          coords[d] = rest % t->shape[d];
        rest /= t->shape[d];
      }
      for (int32_t d = 0, len = 0; d < rank; ++d)
        len += snprintf(at + len, sizeof at - (size_t)len, "%s%lld",
                        d ? ", " : "", (long long)coords[d]);
      char use[256];
      const char *hole = strstr(t->index_use, "{}");
      if (hole)
        snprintf(use, sizeof use, "%.*s%lld%s", (int)(hole - t->index_use),
                 t->index_use, (long long)v, hole + 2);
      else
        snprintf(use, sizeof use, "%s", t->index_use);
      char ignored[64] = "";
      if (t->has_index_ignored)
        snprintf(ignored, sizeof ignored, " and is not the ignore_index %lld",
                 (long long)t->index_ignored);
      return fail(GRAFT_ERR_INDEX,
                  "input '%s' holds %lld at [%s], outside [0, %lld)%s: it "
                  "indexes %s; nothing was computed (check the data against "
                  "the model's sizes)",
                  t->name, (long long)v, at, (long long)t->index_bound, ignored,
                  use);
    }
  }
  return GRAFT_OK;
}

/* The step's seed: dropout draws from (seed, step). */
static void set_step_seed(graft_context *ctx) {
  if (ctx->seed_tensor >= 0)
    *(int64_t *)ctx->data[ctx->seed_tensor] =
        (int64_t)(ctx->seed * 1000003ULL + ctx->steps);
}

static graft_status call(graft_context *ctx, int32_t e, const char *what) {
  const graft_model_desc *m = ctx->model;
  if (e < 0 || e >= m->nentries)
    return fail(GRAFT_ERR_UNSUPPORTED, "model '%s' has no %s entry point",
                m->name, what);
  graft_status s = check_indices(ctx, e);
  if (s)
    return s;
  if (e == m->train_step || e == m->forward_backward)
    set_step_seed(ctx);
  graft_threads_set(ctx->threads);
  running = ctx;
  entry_status = GRAFT_OK;
  m->entries[e].fn(ctx->calls[e]);
  running = 0;
  if (entry_status != GRAFT_OK)
    return entry_status; /* the message is set: graft_backend_fail */
  return GRAFT_OK;
}

/* The tensor index of entry point e's loss, or -1 when it computes none. */
static int32_t loss_tensor(const graft_context *ctx, int32_t e) {
  const graft_model_desc *m = ctx->model;
  if (e < 0 || e >= m->nentries)
    return -1;
  for (int32_t r = 0; r < m->entries[e].nresults; ++r)
    if (m->tensors[m->entries[e].results[r]].role == GRAFT_ROLE_LOSS)
      return m->entries[e].results[r];
  return -1;
}

/* The loss entry point e computed (NaN when it computes none) into *loss
 * when loss is not NULL. */
static double read_loss(graft_context *ctx, int32_t e, double *loss) {
  int32_t i = loss_tensor(ctx, e);
  double v = i < 0 ? NAN : load(ctx->data[i], ctx->model->tensors[i].dtype, 0);
  if (loss)
    *loss = v;
  return v;
}

/* A training step's loss is finite, or the step reports it: the gradients
 * (and, after a fused train_step, the parameters) now hold non-finite
 * values, and the application should restore its last checkpoint. */
static graft_status check_loss(graft_context *ctx, double loss,
                               const char *what, int updated) {
  if (isfinite(loss))
    return GRAFT_OK;
  return fail(GRAFT_ERR_NONFINITE,
              "%s: the loss of step %llu is %s; the gradients%s are not "
              "finite (lower the learning rate, check the data for nan or "
              "inf, or clip gradients); restore the last checkpoint",
              what, (unsigned long long)ctx->steps, isnan(loss) ? "nan" : "inf",
              updated ? " and parameters" : "");
}

/* Is tensor i a hook point (GRAFT_ROLE_HOOK: its hooks run in the
 * backward, from graft_run_hook)? */
static int is_hook_point(const graft_context *ctx, int32_t i) {
  return ctx->model->tensors[i].role == GRAFT_ROLE_HOOK;
}
static int has_hook_point(const graft_context *ctx, const char *name) {
  for (int32_t i = 0; i < ctx->model->ntensors; ++i)
    if (is_hook_point(ctx, i) && !strcmp(ctx->model->tensors[i].name, name))
      return 1;
  return 0;
}

/* Does a registered hook take a gradient after forward_backward (a
 * parameter's, a retained gradient without a hook point, or every
 * gradient)? Hooks on hook points alone run inside the compiled code. */
static int post_hooks(const graft_context *ctx) {
  for (int32_t h = 0; h < ctx->nhooks; ++h)
    if (ctx->hooks[h].tensor < 0 || !is_hook_point(ctx, ctx->hooks[h].tensor))
      return 1;
  return 0;
}

/* The generated code calls this at each hook point of the backward
 * (graft.hook_call, lowered by convert-graft-to-linalg), with a private
 * copy of the gradient that flows on once it returns. */
void graft_run_hook(const char *name, void *data) {
  graft_context *ctx = running;
  if (!ctx || ctx->nhooks == 0 || !name || !data)
    return;
  const graft_model_desc *m = ctx->model;
  for (int32_t i = 0; i < m->ntensors; ++i) {
    const graft_tensor_desc *t = &m->tensors[i];
    if (t->role != GRAFT_ROLE_HOOK || strcmp(t->name, name))
      continue;
    for (int32_t h = 0; h < ctx->nhooks; ++h)
      if (ctx->hooks[h].tensor < 0 || ctx->hooks[h].tensor == i)
        ctx->hooks[h].fn(t->name, GRAFT_ROLE_HOOK, data, t,
                         ctx->hooks[h].user);
    return;
  }
}

static graft_status forward_backward_impl(graft_context *ctx, double *loss,
                                          const char *what);

static graft_status train_step_impl(graft_context *ctx, double *loss) {
  if (ctx->model->train_step < 0)
    return call(ctx, ctx->model->train_step, "train_step");
  if (post_hooks(ctx)) {
    /* The fused step never materialises the gradients the hooks see: run
     * its parts (hooks on hook points alone run inside the fused step).
     * train_step takes one batch, so its step does not divide
     * by accumulation_steps (a hyper-parameter of step when the model
     * accumulates): 1 for this step, then the user's value again. */
    int32_t acc = -1;
    double count = 1;
    /* Its inputs are checked before zero_grad changes anything. */
    if (ctx->model->forward_backward >= 0) {
      graft_status s = check_indices(ctx, ctx->model->forward_backward);
      if (s)
        return s;
    }
    if (ctx->model->accumulation_steps != 1 &&
        (acc = find_index(ctx, GRAFT_ROLE_HYPER, "accumulation_steps")) < 0)
      return fail(GRAFT_ERR_NOT_FOUND, "model '%s' accumulates %d steps but "
                  "has no 'accumulation_steps' hyper-parameter (a damaged "
                  "library?)", ctx->model->name,
                  (int)ctx->model->accumulation_steps);
    graft_status s = call(ctx, ctx->model->zero_grad, "zero_grad");
    if (!s)
      s = forward_backward_impl(ctx, loss, "graft_train_step");
    if (s)
      return s;
    if (acc >= 0) {
      count = load(ctx->data[acc], ctx->model->tensors[acc].dtype, 0);
      store(ctx->data[acc], ctx->model->tensors[acc].dtype, 0, 1.0);
    }
    s = call(ctx, ctx->model->step, "step");
    if (acc >= 0)
      store(ctx->data[acc], ctx->model->tensors[acc].dtype, 0, count);
    return s;
  }
  graft_status s = call(ctx, ctx->model->train_step, "train_step");
  if (s)
    return s;
  ++ctx->steps;
  return check_loss(ctx, read_loss(ctx, ctx->model->train_step, loss),
                    "graft_train_step", /*updated=*/1);
}

graft_status graft_train_step(graft_context *ctx, double *loss) {
  CHECK_CTX("graft_train_step");
  return done(ctx, "graft_train_step", train_step_impl(ctx, loss));
}

/* Does a registered hook take tensor i? */
static int hooked(const graft_context *ctx, int32_t i) {
  for (int32_t h = 0; h < ctx->nhooks; ++h)
    if (ctx->hooks[h].tensor < 0 || ctx->hooks[h].tensor == i)
      return 1;
  return 0;
}

/* With hooks, a hooked gradient runs through forward_backward from zero, so
 * the hooks see this backward's gradient alone (PyTorch's Tensor hooks run
 * before the gradient is accumulated into .grad); then what was accumulated
 * before is added back. */
enum accumulation { SAVE_AND_ZERO, ADD_SAVED, RESTORE_SAVED };
static void split_accumulation(graft_context *ctx, enum accumulation what) {
  const graft_model_desc *m = ctx->model;
  char *saved = ctx->saved;
  for (int32_t i = 0; i < m->ntensors; ++i) {
    const graft_tensor_desc *t = &m->tensors[i];
    if (t->role != GRAFT_ROLE_GRAD)
      continue;
    size_t bytes = (size_t)t->nbytes;
    if (hooked(ctx, i)) {
      if (what == SAVE_AND_ZERO) {
        memcpy(saved, ctx->data[i], bytes);
        memset(ctx->data[i], 0, bytes);
      } else if (what == ADD_SAVED && t->dtype == GRAFT_DTYPE_F32) {
        float *g = (float *)ctx->data[i];
        const float *old = (const float *)saved;
        for (int64_t k = 0; k < t->numel; ++k)
          g[k] = old[k] + g[k];
      } else if (what == ADD_SAVED && t->dtype == GRAFT_DTYPE_F64) {
        double *g = (double *)ctx->data[i];
        const double *old = (const double *)saved;
        for (int64_t k = 0; k < t->numel; ++k)
          g[k] = old[k] + g[k];
      } else if (what == RESTORE_SAVED) { /* the call failed */
        memcpy(ctx->data[i], saved, bytes);
      }
    }
    saved += align64(bytes);
  }
}

static graft_status forward_backward_impl(graft_context *ctx, double *loss,
                                          const char *what) {
  const graft_model_desc *m = ctx->model;
  if (ctx->nhooks > 0)
    split_accumulation(ctx, SAVE_AND_ZERO);
  graft_status s = call(ctx, m->forward_backward, "forward_backward");
  if (s) {
    if (ctx->nhooks > 0)
      split_accumulation(ctx, RESTORE_SAVED);
    return s;
  }
  ++ctx->steps;
  double value = read_loss(ctx, m->forward_backward, loss);
  for (int32_t h = 0; h < ctx->nhooks; ++h) {
    for (int32_t i = 0; i < m->ntensors; ++i) {
      const graft_tensor_desc *t = &m->tensors[i];
      if (t->role != GRAFT_ROLE_GRAD && t->role != GRAFT_ROLE_RETAINED_GRAD)
        continue;
      if (ctx->hooks[h].tensor >= 0 && ctx->hooks[h].tensor != i)
        continue;
      /* A retained value with a hook point: its hooks ran there, and the
       * retained gradient is what they left. */
      if (t->role == GRAFT_ROLE_RETAINED_GRAD && has_hook_point(ctx, t->name))
        continue;
      ctx->hooks[h].fn(t->name, (graft_role)t->role, ctx->data[i], t,
                       ctx->hooks[h].user);
    }
  }
  if (ctx->nhooks > 0)
    split_accumulation(ctx, ADD_SAVED);
  return check_loss(ctx, value, what, /*updated=*/0);
}

graft_status graft_forward_backward(graft_context *ctx, double *loss) {
  CHECK_CTX("graft_forward_backward");
  return done(ctx, "graft_forward_backward",
              forward_backward_impl(ctx, loss, "graft_forward_backward"));
}

graft_status graft_zero_grad(graft_context *ctx) {
  CHECK_CTX("graft_zero_grad");
  return done(ctx, "graft_zero_grad",
              call(ctx, ctx->model->zero_grad, "zero_grad"));
}

graft_status graft_step(graft_context *ctx) {
  CHECK_CTX("graft_step");
  return done(ctx, "graft_step", call(ctx, ctx->model->step, "step"));
}

graft_status graft_eval(graft_context *ctx, double *loss) {
  CHECK_CTX("graft_eval");
  if (loss && ctx->model->eval >= 0 && loss_tensor(ctx, ctx->model->eval) < 0)
    return done(ctx, "graft_eval",
                fail(GRAFT_ERR_UNSUPPORTED, "graft_eval: model '%s' has no "
                     "loss (no graft.loss / train block); pass NULL for the "
                     "loss, or use graft_predict", ctx->model->name));
  graft_status s = call(ctx, ctx->model->eval, "eval");
  if (s)
    return done(ctx, "graft_eval", s);
  read_loss(ctx, ctx->model->eval, loss);
  return GRAFT_OK;
}

graft_status graft_predict(graft_context *ctx) {
  CHECK_CTX("graft_predict");
  return done(ctx, "graft_predict", call(ctx, ctx->model->predict, "predict"));
}

/*--- Tensors --------------------------------------------------------------*/

graft_status graft_tensor_count(const graft_context *ctx, int32_t *count) {
  CHECK_CTX("graft_tensor_count");
  CHECK_ARG("graft_tensor_count", count);
  *count = ctx->model->ntensors;
  return GRAFT_OK;
}

/* Is index a tensor of ctx's model? (An index of another model's header
 * that is in range cannot be told apart: byte counts catch most.) */
static graft_status check_index(const graft_context *ctx, int32_t index) {
  if (index < 0 || index >= ctx->model->ntensors)
    return fail(GRAFT_ERR_INVALID_ARGUMENT,
                "tensor index %d is out of range: model '%s' has %d tensors",
                (int)index, ctx->model->name, (int)ctx->model->ntensors);
  return GRAFT_OK;
}

graft_status graft_tensor_info(const graft_context *ctx, int32_t index,
                               const graft_tensor_desc **desc) {
  CHECK_CTX("graft_tensor_info");
  graft_status s = check_index(ctx, index);
  if (s)
    return done(ctx, "graft_tensor_info", s);
  CHECK_ARG("graft_tensor_info", desc);
  *desc = &ctx->model->tensors[index];
  return GRAFT_OK;
}

/* graft_role's names, as graft::Role spells them in the IR. */
static const char *role_name(int32_t role) {
  static const char *const names[] = {
      [GRAFT_ROLE_PARAM] = "param",          [GRAFT_ROLE_BUFFER] = "buffer",
      [GRAFT_ROLE_GRAD] = "grad",            [GRAFT_ROLE_OPT_STATE] = "opt_state",
      [GRAFT_ROLE_HYPER] = "hyper",          [GRAFT_ROLE_SEED] = "seed",
      [GRAFT_ROLE_INPUT] = "input",          [GRAFT_ROLE_LOSS] = "loss",
      [GRAFT_ROLE_OUTPUT] = "output",        [GRAFT_ROLE_INPUT_GRAD] = "input_grad",
      [GRAFT_ROLE_RETAINED_GRAD] = "retained_grad", [GRAFT_ROLE_HOOK] = "hook"};
  _Static_assert(sizeof(names) / sizeof(*names) == GRAFT_ROLE_HOOK + 1,
                 "a graft_role without a name");
  return role >= 0 && role <= GRAFT_ROLE_HOOK ? names[role] : "?";
}

/* name, role and type of a tensor for messages: "param 'fc1.weight'
 * (f32[16, 12])". */
static const char *describe(const graft_tensor_desc *t, char *buf,
                            size_t cap) {
  static const char *dtypes[] = {"f32", "f64", "bf16", "i64", "i32", "bool"};
  int n = snprintf(buf, cap, "%s '%s' (%s[", role_name(t->role), t->name,
                   t->dtype >= 0 && t->dtype <= 5 ? dtypes[t->dtype] : "?");
  for (int32_t d = 0; d < t->rank && n > 0 && (size_t)n + 24 < cap; ++d)
    n += snprintf(buf + n, cap - (size_t)n, "%s%lld", d ? ", " : "",
                  (long long)t->shape[d]);
  if (n > 0 && (size_t)n + 3 < cap)
    snprintf(buf + n, cap - (size_t)n, "])");
  return buf;
}

static graft_status find_tensor_impl(const graft_context *ctx,
                                     graft_role role, const char *name,
                                     int32_t *index) {
  if ((int32_t)role < GRAFT_ROLE_PARAM || (int32_t)role > GRAFT_ROLE_HOOK)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "role %d is not a graft_role",
                (int)role);
  if (!name)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "name is NULL");
  if (!*name)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "name is empty");
  int32_t i = find_index(ctx, (int32_t)role, name);
  if (i < 0)
    return fail(GRAFT_ERR_NOT_FOUND, "model '%s' has no %s tensor '%s'",
                ctx->model->name, role_name(role), name);
  *index = i;
  return GRAFT_OK;
}

graft_status graft_find_tensor(const graft_context *ctx, graft_role role,
                               const char *name, int32_t *index) {
  CHECK_CTX("graft_find_tensor");
  int32_t i;
  graft_status s = find_tensor_impl(ctx, role, name, &i);
  if (s)
    return done(ctx, "graft_find_tensor", s);
  CHECK_ARG("graft_find_tensor", index);
  *index = i;
  return GRAFT_OK;
}

graft_status graft_tensor_data(graft_context *ctx, int32_t index, void **data) {
  CHECK_CTX("graft_tensor_data");
  graft_status s = check_index(ctx, index);
  if (s)
    return done(ctx, "graft_tensor_data", s);
  CHECK_ARG("graft_tensor_data", data);
  *data = ctx->data[index];
  return GRAFT_OK;
}

/* A byte count must be the tensor's: a buffer of another dtype (double for
 * an f32 tensor) or shape shows here. */
static graft_status check_nbytes(const graft_tensor_desc *t, size_t nbytes) {
  char what[192];
  if (nbytes == (size_t)t->nbytes)
    return GRAFT_OK;
  return fail(GRAFT_ERR_SIZE, "nbytes is %zu, but %s has %lld bytes", nbytes,
              describe(t, what, sizeof what), (long long)t->nbytes);
}

static graft_status get_impl(const graft_context *ctx, int32_t index,
                             void *dst, size_t nbytes) {
  graft_status s = check_index(ctx, index);
  if (s)
    return s;
  if (!dst)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "dst is NULL");
  s = check_nbytes(&ctx->model->tensors[index], nbytes);
  if (s)
    return s;
  memmove(dst, ctx->data[index], nbytes); /* dst may be the storage */
  return GRAFT_OK;
}

static graft_status check_hyper(const char *name, double v, const char *what);

static graft_status set_impl(graft_context *ctx, int32_t index,
                             const void *src, size_t nbytes, const char *fn) {
  graft_status s = check_index(ctx, index);
  if (s)
    return s;
  const graft_tensor_desc *t = &ctx->model->tensors[index];
  char what[192];
  if (!src)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "src is NULL");
  if (t->role == GRAFT_ROLE_LOSS || t->role == GRAFT_ROLE_OUTPUT ||
      t->role == GRAFT_ROLE_RETAINED_GRAD ||
      t->role == GRAFT_ROLE_HOOK) /* zeros: the gradient is the hooks' */
    return fail(GRAFT_ERR_READ_ONLY, "%s is a result of the model "
                "(read-only)", describe(t, what, sizeof what));
  s = check_nbytes(t, nbytes);
  if (s)
    return s;
  /* Hyper-parameters get graft_set_hyper's checks. */
  for (int64_t k = 0; t->role == GRAFT_ROLE_HYPER && k < t->numel; ++k) {
    double element = 0;
    memcpy(&element, (const char *)src + k * dtype_bytes(t->dtype),
           (size_t)dtype_bytes(t->dtype));
    s = check_hyper(t->name, load(&element, t->dtype, 0), fn);
    if (s)
      return s;
  }
  memmove(ctx->data[index], src, nbytes); /* src may be the storage */
  return GRAFT_OK;
}

graft_status graft_get(const graft_context *ctx, int32_t index, void *dst,
                       size_t nbytes) {
  CHECK_CTX("graft_get");
  return done(ctx, "graft_get", get_impl(ctx, index, dst, nbytes));
}

graft_status graft_set(graft_context *ctx, int32_t index, const void *src,
                       size_t nbytes) {
  CHECK_CTX("graft_set");
  return done(ctx, "graft_set", set_impl(ctx, index, src, nbytes, "graft_set"));
}

graft_status graft_get_by_name(const graft_context *ctx, graft_role role,
                               const char *name, void *dst, size_t nbytes) {
  CHECK_CTX("graft_get_by_name");
  int32_t i;
  graft_status s = find_tensor_impl(ctx, role, name, &i);
  if (!s)
    s = get_impl(ctx, i, dst, nbytes);
  return done(ctx, "graft_get_by_name", s);
}

graft_status graft_set_by_name(graft_context *ctx, graft_role role,
                               const char *name, const void *src,
                               size_t nbytes) {
  CHECK_CTX("graft_set_by_name");
  int32_t i;
  graft_status s = find_tensor_impl(ctx, role, name, &i);
  if (!s)
    s = set_impl(ctx, i, src, nbytes, "graft_set_by_name");
  return done(ctx, "graft_set_by_name", s);
}

graft_status graft_set_input(graft_context *ctx, const char *name,
                             const void *src, size_t nbytes) {
  CHECK_CTX("graft_set_input");
  int32_t i;
  graft_status s = find_tensor_impl(ctx, GRAFT_ROLE_INPUT, name, &i);
  if (!s)
    s = set_impl(ctx, i, src, nbytes, "graft_set_input");
  return done(ctx, "graft_set_input", s);
}

static int ends_with_lr(const char *s) {
  size_t n = strlen(s);
  return n >= 2 && strcmp(s + n - 2, "lr") == 0;
}

/* The checks torch.optim makes of its hyper-parameters (and the compiler
 * of the model's), for values set at run time. */
static graft_status check_hyper(const char *name, double v, const char *what) {
  if (ends_with_lr(name) && !(v >= 0 && isfinite(v)))
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "%s: Invalid learning rate: %g "
                "('%s' must be finite and >= 0)", what, v, name);
  if (strcmp(name, "accumulation_steps") == 0 && !(v >= 1 && isfinite(v)))
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "%s: accumulation_steps must be "
                "finite and >= 1, got %g", what, v);
  if (!isfinite(v))
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "%s: '%s' must be finite, got %g",
                what, name, v);
  return GRAFT_OK;
}

graft_status graft_set_lr(graft_context *ctx, double lr) {
  CHECK_CTX("graft_set_lr");
  graft_status bad = check_hyper("lr", lr, "graft_set_lr");
  if (bad)
    return done(ctx, "graft_set_lr", bad);
  int found = 0;
  for (int32_t i = 0; i < ctx->model->ntensors; ++i) {
    const graft_tensor_desc *t = &ctx->model->tensors[i];
    if (t->role == GRAFT_ROLE_HYPER && ends_with_lr(t->name)) {
      store(ctx->data[i], t->dtype, 0, lr);
      found = 1;
    }
  }
  if (!found)
    return done(ctx, "graft_set_lr",
                fail(GRAFT_ERR_NOT_FOUND, "model '%s' has no learning rate",
                     ctx->model->name));
  return GRAFT_OK;
}

graft_status graft_set_hyper(graft_context *ctx, const char *name,
                             double value) {
  CHECK_CTX("graft_set_hyper");
  int32_t i;
  graft_status s = find_tensor_impl(ctx, GRAFT_ROLE_HYPER, name, &i);
  if (!s)
    s = check_hyper(name, value, "graft_set_hyper");
  if (s)
    return done(ctx, "graft_set_hyper", s);
  store(ctx->data[i], ctx->model->tensors[i].dtype, 0, value);
  return GRAFT_OK;
}

graft_status graft_get_hyper(const graft_context *ctx, const char *name,
                             double *value) {
  CHECK_CTX("graft_get_hyper");
  int32_t i;
  graft_status s = find_tensor_impl(ctx, GRAFT_ROLE_HYPER, name, &i);
  if (s)
    return done(ctx, "graft_get_hyper", s);
  CHECK_ARG("graft_get_hyper", value);
  *value = load(ctx->data[i], ctx->model->tensors[i].dtype, 0);
  return GRAFT_OK;
}

graft_status graft_steps(const graft_context *ctx, uint64_t *steps) {
  CHECK_CTX("graft_steps");
  CHECK_ARG("graft_steps", steps);
  *steps = ctx->steps;
  return GRAFT_OK;
}

graft_status graft_register_grad_hook(graft_context *ctx, const char *name,
                                      graft_grad_hook hook, void *user) {
  CHECK_CTX("graft_register_grad_hook");
  if (name && !*name)
    return done(ctx, "graft_register_grad_hook",
                fail(GRAFT_ERR_INVALID_ARGUMENT,
                     "name is empty (NULL hooks every gradient)"));
  CHECK_ARG("graft_register_grad_hook", hook);
  int32_t tensor = -1;
  if (name) {
    /* A parameter's gradient, else a hook point (register_hook, and
     * retained values: in the backward), else a retained gradient. */
    tensor = find_index(ctx, GRAFT_ROLE_GRAD, name);
    if (tensor < 0)
      tensor = find_index(ctx, GRAFT_ROLE_HOOK, name);
    if (tensor < 0)
      tensor = find_index(ctx, GRAFT_ROLE_RETAINED_GRAD, name);
    if (tensor < 0)
      return done(ctx, "graft_register_grad_hook",
                  fail(GRAFT_ERR_NOT_FOUND, "model '%s' has no gradient of "
                       "'%s'", ctx->model->name, name));
  }
  if (ctx->nhooks >= GRAFT_MAX_HOOKS)
    return done(ctx, "graft_register_grad_hook",
                fail(GRAFT_ERR_OUT_OF_MEMORY, "at most %d gradient hooks",
                     GRAFT_MAX_HOOKS));
  if (!ctx->saved) {
    size_t bytes = 64;
    for (int32_t i = 0; i < ctx->model->ntensors; ++i)
      if (ctx->model->tensors[i].role == GRAFT_ROLE_GRAD)
        bytes += align64((size_t)ctx->model->tensors[i].nbytes);
    ctx->saved = (char *)aligned_alloc(64, align64(bytes));
    if (!ctx->saved)
      return done(ctx, "graft_register_grad_hook",
                  fail(GRAFT_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes",
                       bytes));
  }
  ctx->hooks[ctx->nhooks].fn = hook;
  ctx->hooks[ctx->nhooks].user = user;
  ctx->hooks[ctx->nhooks].tensor = tensor;
  ++ctx->nhooks;
  return GRAFT_OK;
}

graft_status graft_clear_grad_hooks(graft_context *ctx) {
  CHECK_CTX("graft_clear_grad_hooks");
  ctx->nhooks = 0;
  return GRAFT_OK;
}

/*--- User properties ------------------------------------------------------*/

static char *copy_string(const char *s) {
  size_t n = strlen(s) + 1;
  char *c = (char *)malloc(n);
  if (c)
    memcpy(c, s, n);
  return c;
}

/* Key/value string pairs (the context's properties, and those a checkpoint
 * brings): (*pairs)[2i] and [2i + 1], each malloc'ed. Appends copies;
 * 0 when out of memory. */
static int add_pair(char ***pairs, int32_t *n, const char *key,
                    const char *value) {
  char **grown = (char **)realloc(*pairs, sizeof(char *) * 2 * (size_t)(*n + 1));
  if (!grown)
    return 0;
  *pairs = grown;
  char *k = copy_string(key), *v = copy_string(value);
  if (!k || !v) {
    free(k);
    free(v);
    return 0;
  }
  grown[2 * *n] = k;
  grown[2 * *n + 1] = v;
  ++*n;
  return 1;
}

static void free_pairs(char **pairs, int32_t n) {
  for (int32_t i = 0; i < 2 * n; ++i)
    free(pairs[i]);
  free(pairs);
}

static graft_status set_property_impl(graft_context *ctx, const char *key,
                                     const char *value) {
  if (!key)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "key is NULL");
  if (!*key)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "key is empty");
  if (strlen(key) >= GRAFT_PROPERTY_KEY_MAX)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "key is %zu bytes long: keys "
                "must be shorter than %d bytes", strlen(key),
                GRAFT_PROPERTY_KEY_MAX);
  if (value && strlen(value) >= GRAFT_PROPERTY_VALUE_MAX)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "value is %zu bytes long: "
                "values must be shorter than %d bytes", strlen(value),
                GRAFT_PROPERTY_VALUE_MAX);
  for (int32_t i = 0; i < ctx->nprops; ++i)
    if (strcmp(ctx->props[2 * i], key) == 0) {
      if (!value) { /* remove */
        free(ctx->props[2 * i]);
        free(ctx->props[2 * i + 1]);
        memmove(&ctx->props[2 * i], &ctx->props[2 * i + 2],
                sizeof(char *) * 2 * (size_t)(ctx->nprops - i - 1));
        --ctx->nprops;
        return GRAFT_OK;
      }
      char *v = copy_string(value);
      if (!v)
        return fail(GRAFT_ERR_OUT_OF_MEMORY, "graft_set_property: out of memory");
      free(ctx->props[2 * i + 1]);
      ctx->props[2 * i + 1] = v;
      return GRAFT_OK;
    }
  if (value && !add_pair(&ctx->props, &ctx->nprops, key, value))
    return fail(GRAFT_ERR_OUT_OF_MEMORY, "graft_set_property: out of memory");
  return GRAFT_OK;
}

graft_status graft_set_property(graft_context *ctx, const char *key,
                                const char *value) {
  CHECK_CTX("graft_set_property");
  return done(ctx, "graft_set_property", set_property_impl(ctx, key, value));
}

graft_status graft_get_property(const graft_context *ctx, const char *key,
                                const char **value) {
  CHECK_CTX("graft_get_property");
  CHECK_ARG("graft_get_property", key);
  if (!*key)
    return done(ctx, "graft_get_property",
                fail(GRAFT_ERR_INVALID_ARGUMENT, "key is empty"));
  CHECK_ARG("graft_get_property", value);
  for (int32_t i = 0; i < ctx->nprops; ++i)
    if (strcmp(ctx->props[2 * i], key) == 0) {
      *value = ctx->props[2 * i + 1];
      return GRAFT_OK;
    }
  *value = 0;
  return done(ctx, "graft_get_property",
              fail(GRAFT_ERR_NOT_FOUND, "the context has no property '%s'",
                   key));
}

/*--- Checkpoints ----------------------------------------------------------*/

/* The safetensors format and files replaced in place: their own file, since
 * graft train's host links it too; here, part of this one translation
 * unit. */
#include "graft_safetensors.c"

static const char *dtype_name(int32_t d) {
  switch (d) {
  case GRAFT_DTYPE_F32: return "F32";
  case GRAFT_DTYPE_F64: return "F64";
  case GRAFT_DTYPE_BF16: return "BF16";
  case GRAFT_DTYPE_I64: return "I64";
  case GRAFT_DTYPE_I32: return "I32";
  case GRAFT_DTYPE_BOOL: return "BOOL";
  }
  return "?";
}

/* Does a checkpoint hold this tensor (weights-only: parameters and
 * buffers)? */
static int saved(int32_t role, int weights_only) {
  return role == GRAFT_ROLE_PARAM || role == GRAFT_ROLE_BUFFER ||
         (!weights_only && role == GRAFT_ROLE_OPT_STATE);
}

/* write(2) of all n bytes (short writes continued, EINTR retried); 0, or
 * -1 with errno set. Plain system calls rather than stdio: every error is
 * seen where it happens, with its errno. */
static int write_all(int fd, const void *data, size_t n) {
  const char *p = (const char *)data;
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0)
      return -1;
    if (k == 0) {
      errno = EIO;
      return -1;
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* The run state a full checkpoint records in __metadata__, beside the
 * tensors (graft train writes the same keys; docs/CAPI.md):
 *   graft.model, graft.content ("full" or "weights"), graft.steps,
 *   graft.seed, graft.hyper.<name> (%.17g: exact), user.<key>. */
static graft_status save_file(const graft_context *ctx, const char *path,
                              int weights_only, const char *what) {
  if (!ctx)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "%s: null context", what);
  if (!path)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "%s: null path", what);
  const graft_model_desc *m = ctx->model;
  /* The tensors (a tied parameter under each of its names, as PyTorch's
   * state_dict lists it) and the metadata, with room for every entry. */
  int32_t ntensors = 0, nmeta = 0;
  for (int32_t i = 0; i < m->ntensors; ++i)
    if (saved(m->tensors[i].role, weights_only))
      ntensors += 1 + m->tensors[i].naliases;
  graft_st_tensor *tensors =
      (graft_st_tensor *)malloc(sizeof *tensors * ((size_t)ntensors + 1));
  graft_st_meta *meta = (graft_st_meta *)malloc(
      sizeof *meta * ((size_t)m->ntensors + (size_t)ctx->nprops + 4));
  char(*numbers)[32] = (char(*)[32])malloc(32 * ((size_t)m->ntensors + 2));
  if (!tensors || !meta || !numbers) {
    free(tensors);
    free(meta);
    free(numbers);
    return fail(GRAFT_ERR_OUT_OF_MEMORY, "%s: out of memory", what);
  }
  ntensors = 0;
  for (int32_t i = 0; i < m->ntensors; ++i) {
    const graft_tensor_desc *t = &m->tensors[i];
    if (!saved(t->role, weights_only))
      continue;
    for (int32_t k = 0; k <= t->naliases; ++k) {
      graft_st_tensor s = {t->role == GRAFT_ROLE_OPT_STATE ? "optimizer." : "",
                           name_of(t, k), dtype_name(t->dtype), t->rank,
                           t->shape, ctx->data[i], (uint64_t)t->nbytes};
      tensors[ntensors++] = s;
    }
  }
  graft_st_meta model = {"", "graft.model", m->name};
  graft_st_meta content = {"", "graft.content", weights_only ? "weights" : "full"};
  meta[nmeta++] = model;
  meta[nmeta++] = content;
  if (!weights_only) {
    snprintf(numbers[0], 32, "%llu", (unsigned long long)ctx->steps);
    snprintf(numbers[1], 32, "%llu", (unsigned long long)ctx->seed);
    graft_st_meta steps = {"", "graft.steps", numbers[0]};
    graft_st_meta seed = {"", "graft.seed", numbers[1]};
    meta[nmeta++] = steps;
    meta[nmeta++] = seed;
    for (int32_t i = 0; i < m->ntensors; ++i)
      if (m->tensors[i].role == GRAFT_ROLE_HYPER) {
        snprintf(numbers[2 + i], 32, "%.17g",
                 load(ctx->data[i], m->tensors[i].dtype, 0));
        graft_st_meta hyper = {"graft.hyper.", m->tensors[i].name,
                               numbers[2 + i]};
        meta[nmeta++] = hyper;
      }
    for (int32_t i = 0; i < ctx->nprops; ++i) {
      graft_st_meta prop = {"user.", ctx->props[2 * i], ctx->props[2 * i + 1]};
      meta[nmeta++] = prop;
    }
  }
  size_t hlen = 0;
  unsigned char *header = graft_st_header(tensors, ntensors, meta, nmeta, &hlen);
  free(meta);
  free(numbers);
  if (!header) {
    free(tensors);
    return fail(GRAFT_ERR_OUT_OF_MEMORY, "%s: out of memory", what);
  }
  /* Written next to `path`, flushed to disk, then renamed over it, and the
   * directory flushed: never a partial file. */
  size_t cap = strlen(path) + 32;
  char *tmp = (char *)malloc(cap);
  if (!tmp) {
    free(header);
    free(tensors);
    return fail(GRAFT_ERR_OUT_OF_MEMORY, "%s: out of memory", what);
  }
  graft_st_remove_stale_temporaries(path);
  int fd = graft_st_create_temporary(path, tmp, cap);
  if (fd < 0) {
    int err = errno;
    free(header);
    free(tensors);
    free(tmp);
    return fail(GRAFT_ERR_IO, "%s: cannot write %s: cannot create a temporary "
                "file beside it: %s (%s is left as it was)",
                what, path, strerror(err), path);
  }
  const char *step = "cannot write the temporary file";
  int ok = write_all(fd, header, hlen) == 0;
  for (int32_t i = 0; ok && i < ntensors; ++i)
    ok = write_all(fd, tensors[i].data, (size_t)tensors[i].nbytes) == 0;
  if (ok && !(ok = fsync(fd) == 0))
    step = "cannot flush the temporary file to disk";
  int err = errno;
  if (close(fd) != 0 && ok) {
    ok = 0;
    err = errno;
    step = "cannot flush the temporary file to disk";
  }
  if (ok && !(ok = rename(tmp, path) == 0)) {
    err = errno;
    step = "cannot rename the temporary file over it";
  }
  free(header);
  free(tensors);
  if (!ok) {
    unlink(tmp);
    free(tmp);
    return fail(GRAFT_ERR_IO, "%s: cannot write %s: %s: %s (%s is left as it "
                "was)", what, path, step, strerror(err), path);
  }
  free(tmp);
  if (graft_st_sync_directory_of(path) != 0)
    return fail(GRAFT_ERR_IO, "%s: %s was replaced, but its directory could "
                "not be flushed to disk: %s", what, path, strerror(errno));
  return GRAFT_OK;
}

/* A file name: neither NULL nor empty. */
static graft_status check_path(const char *path) {
  if (!path)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "path is NULL");
  if (!*path)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "path is empty");
  return GRAFT_OK;
}

graft_status graft_save(const graft_context *ctx, const char *path) {
  CHECK_CTX("graft_save");
  graft_status s = check_path(path);
  return done(ctx, "graft_save", s ? s : save_file(ctx, path, 0, "graft_save"));
}

graft_status graft_save_weights(const graft_context *ctx, const char *path) {
  CHECK_CTX("graft_save_weights");
  graft_status s = check_path(path);
  return done(ctx, "graft_save_weights",
              s ? s : save_file(ctx, path, 1, "graft_save_weights"));
}

/* A whole number as graft.steps and graft.seed are written: decimal
 * digits, no more than 64 bits. */
static int parse_decimal(const char *s, uint64_t *v) {
  uint64_t x = 0;
  if (!*s)
    return 0;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10)
      return 0;
    x = x * 10 + (uint64_t)(*s - '0');
  }
  *v = x;
  return 1;
}

/* The run state read from __metadata__, applied once the whole file is
 * known to be good. */
struct run_state {
  int full;                 /* graft.content is "full" */
  int have_steps, have_seed;
  uint64_t steps, seed;
  double *hyper;            /* per tensor: the value, when have_hyper[i] */
  char *have_hyper;
  char **props;             /* user.<key> pairs (malloc'ed) */
  int32_t nprops;
};

static void free_run_state(struct run_state *r) {
  free_pairs(r->props, r->nprops);
  free(r->hyper);
  free(r->have_hyper);
}

/* Reads the run state from the file's metadata. 1, or 0 with the key of a
 * bad value in *bad, or -1 out of memory. */
static int read_run_state(const graft_st_file *f, const graft_model_desc *m,
                          struct run_state *r, const char **bad) {
  for (int32_t e = 0; e < f->nmeta; ++e) {
    const char *key = f->meta[2 * e], *value = f->meta[2 * e + 1];
    *bad = key;
    if (strcmp(key, "graft.content") == 0) {
      r->full = strcmp(value, "full") == 0;
    } else if (strcmp(key, "graft.steps") == 0) {
      if (!(r->have_steps = parse_decimal(value, &r->steps)))
        return 0;
    } else if (strcmp(key, "graft.seed") == 0) {
      if (!(r->have_seed = parse_decimal(value, &r->seed)))
        return 0;
    } else if (strncmp(key, "graft.hyper.", 12) == 0) {
      for (int32_t i = 0; i < m->ntensors; ++i)
        if (m->tensors[i].role == GRAFT_ROLE_HYPER &&
            strcmp(m->tensors[i].name, key + 12) == 0) {
          char *end;
          double v = strtod(value, &end);
          if (end == value || *end || check_hyper(key + 12, v, "graft_load"))
            return 0;
          r->hyper[i] = v;
          r->have_hyper[i] = 1;
        }
    } else if (strncmp(key, "user.", 5) == 0 && key[5]) {
      /* What graft_set_property could have set. */
      if (strlen(key + 5) >= GRAFT_PROPERTY_KEY_MAX ||
          strlen(value) >= GRAFT_PROPERTY_VALUE_MAX)
        return 0;
      if (!add_pair(&r->props, &r->nprops, key + 5, value))
        return -1;
    }
  }
  return 1;
}

/* "2, 3": a shape for a message. */
static void format_shape(char *out, size_t cap, const int64_t *shape,
                         int32_t rank) {
  out[0] = 0;
  for (int32_t k = 0; k < rank; ++k) {
    size_t n = strlen(out);
    if (n + 24 < cap)
      snprintf(out + n, cap - n, "%s%lld", k ? ", " : "", (long long)shape[k]);
  }
}

static int has_role(const graft_model_desc *m, int32_t role) {
  for (int32_t i = 0; i < m->ntensors; ++i)
    if (m->tensors[i].role == role)
      return 1;
  return 0;
}

static graft_status load_file(graft_context *ctx, const char *path,
                              uint32_t flags, graft_load_report report,
                              void *user) {
  CHECK_CTX("graft_load");
  if (!path)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "graft_load: null path");
  if (flags & ~(uint32_t)GRAFT_LOAD_NON_STRICT)
    return fail(GRAFT_ERR_INVALID_ARGUMENT, "graft_load_ex: unknown flags 0x%x",
                (unsigned)flags);
  int strict = !(flags & GRAFT_LOAD_NON_STRICT);
  const graft_model_desc *m = ctx->model;
  /* A FIFO would block the open, a device be read forever (/dev/zero). */
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
    return fail(GRAFT_ERR_IO, "cannot read %s (not a regular file?)", path);
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return fail(GRAFT_ERR_IO, "cannot open %s", path);
  unsigned char *file = 0;
  int64_t *slot = 0; /* per tensor: offset of its bytes in `file`, or -1 */
  struct run_state run = {0};
  graft_st_file f = {0, 0, 0, 0};
  graft_status status = GRAFT_OK;
  long size = -1;
  /* A directory opens, and seeks to a nonsense size, but cannot be read. */
  int first = getc(fp);
  if (first == EOF && ferror(fp)) {
    fclose(fp);
    return fail(GRAFT_ERR_IO, "cannot read %s (not a regular file?)", path);
  }
  if (fseek(fp, 0, SEEK_END) == 0)
    size = ftell(fp);
  if (size < 0 || fseek(fp, 0, SEEK_SET) != 0 || ferror(fp)) {
    fclose(fp);
    return fail(GRAFT_ERR_IO, "cannot read %s (not a regular file?)", path);
  }
  file = (unsigned char *)malloc((size_t)size + 1);
  /* slot[i], then slotKey[i]: which of its names gave it (tied ones have
   * several). */
  slot = (int64_t *)malloc(sizeof(int64_t) * 2 * ((size_t)m->ntensors + 1));
  int64_t *slotKey = slot + m->ntensors + 1;
  run.hyper = (double *)calloc((size_t)m->ntensors + 1, sizeof(double));
  run.have_hyper = (char *)calloc((size_t)m->ntensors + 1, 1);
  if (!file || !slot || !run.hyper || !run.have_hyper) {
    fclose(fp);
    free(file);
    free(slot);
    free_run_state(&run);
    return fail(GRAFT_ERR_OUT_OF_MEMORY, "graft_load: out of memory");
  }
  size_t got = fread(file, 1, (size_t)size, fp);
  int readError = ferror(fp);
  fclose(fp);
  for (int32_t i = 0; i < m->ntensors; ++i)
    slot[i] = -1;
  int modelHasOptimizer = has_role(m, GRAFT_ROLE_OPT_STATE);
#define BAD(...)                                                              \
  do {                                                                        \
    status = fail(GRAFT_ERR_FORMAT, __VA_ARGS__);                             \
    goto done;                                                                \
  } while (0)
  if (readError) {
    status = fail(GRAFT_ERR_IO, "cannot read %s (not a regular file?)", path);
    goto done;
  }
  if (got != (size_t)size)
    BAD("cannot read %s", path);
  /* The file as safetensors: well formed, whole, its checksum right. */
  {
    char why[512];
    int r = graft_st_read(file, (uint64_t)size, &f, why, sizeof why);
    if (r == GRAFT_ST_NO_MEMORY) {
      status = fail(GRAFT_ERR_OUT_OF_MEMORY, "graft_load: out of memory");
      goto done;
    }
    if (r != GRAFT_ST_OK)
      BAD("%s: %s", path, why);
  }
  {
    const char *bad;
    int r = read_run_state(&f, m, &run, &bad);
    if (r < 0) {
      status = fail(GRAFT_ERR_OUT_OF_MEMORY, "graft_load: out of memory");
      goto done;
    }
    if (r == 0)
      BAD("%s: metadata '%s' has a bad value", path, bad);
  }
  /* Its tensors against the model's. */
  for (int32_t e = 0; e < f.nentries; ++e) {
    const graft_st_entry *en = &f.entries[e];
    const char *key = en->name;
    int opt = strncmp(key, "optimizer.", 10) == 0;
    const char *name = opt ? key + 10 : key;
    int32_t t = -1, tk = 0;
    for (int32_t i = 0; i < m->ntensors; ++i) {
      const graft_tensor_desc *d = &m->tensors[i];
      if (opt ? d->role == GRAFT_ROLE_OPT_STATE
              : (d->role == GRAFT_ROLE_PARAM || d->role == GRAFT_ROLE_BUFFER))
        for (int32_t k = 0; k <= d->naliases; ++k)
          if (strcmp(name_of(d, k), name) == 0)
            t = i, tk = k;
    }
    if (t < 0) {
      /* A model without optimizer state (an inference twin) takes the
       * weights of a training checkpoint; strict otherwise. */
      int skip = opt && !modelHasOptimizer;
      if (!skip && strict) {
        status = fail(GRAFT_ERR_NOT_FOUND,
                      "%s: tensor '%s' is not a %s of model '%s' (unexpected "
                      "key; graft_load_ex with GRAFT_LOAD_NON_STRICT skips it)",
                      path, key,
                      opt ? "optimizer state" : "parameter or buffer", m->name);
        goto done;
      }
      if (!skip && report)
        report(key, GRAFT_LOAD_UNEXPECTED, user);
      continue;
    }
    const graft_tensor_desc *d = &m->tensors[t];
    int shapeOk = en->rank == d->rank;
    for (int32_t k = 0; shapeOk && k < d->rank; ++k)
      shapeOk = en->shape[k] == d->shape[k];
    if (!shapeOk) {
      char have[128], want[128];
      format_shape(have, sizeof have, en->shape, en->rank);
      format_shape(want, sizeof want, d->shape, d->rank);
      /* PyTorch's load_state_dict words. */
      status = fail(GRAFT_ERR_SIZE,
                    "%s: size mismatch for %s: copying a param with shape "
                    "[%s] from checkpoint, the shape in current model is [%s]",
                    path, key, have, want);
      goto done;
    }
    if (strcmp(en->dtype, dtype_name(d->dtype)) != 0) {
      status = fail(GRAFT_ERR_DTYPE, "%s: tensor '%s' is %s, the model's is %s",
                    path, key, en->dtype, dtype_name(d->dtype));
      goto done;
    }
    /* Same shape and dtype: graft_st_read checked it has the bytes. */
    if (slot[t] < 0) {
      slot[t] = (int64_t)en->begin;
      slotKey[t] = tk;
    } else if (memcmp(file + slot[t], file + en->begin, (size_t)d->nbytes)) {
      /* A tied parameter under another of its names (PyTorch's state_dict
       * lists it under each): the same values. */
      BAD("%s: '%s' and '%s' are one tied parameter of model '%s', but the "
          "file holds different values for them", path,
          name_of(d, (int32_t)slotKey[t]), key, m->name);
    }
  }
  /* Every parameter and buffer is needed; optimizer state all or none. */
  {
    int optSeen = 0;
    for (int32_t i = 0; i < m->ntensors; ++i) {
      const graft_tensor_desc *d = &m->tensors[i];
      if (d->role == GRAFT_ROLE_OPT_STATE && slot[i] >= 0)
        optSeen = 1;
    }
    for (int32_t i = 0; i < m->ntensors; ++i) {
      const graft_tensor_desc *d = &m->tensors[i];
      int missingWeight = (d->role == GRAFT_ROLE_PARAM ||
                           d->role == GRAFT_ROLE_BUFFER) && slot[i] < 0;
      int missingOpt = d->role == GRAFT_ROLE_OPT_STATE && optSeen && slot[i] < 0;
      if (!missingWeight && !missingOpt)
        continue;
      if (strict) {
        if (missingOpt)
          BAD("%s has part of the optimizer state only (no 'optimizer.%s')",
              path, d->name);
        status = fail(GRAFT_ERR_NOT_FOUND, "%s has no tensor '%s' that model "
                      "'%s' needs (missing key; graft_load_ex with "
                      "GRAFT_LOAD_NON_STRICT keeps the context's)",
                      path, d->name, m->name);
        goto done;
      }
      if (report) {
        char full[1040];
        snprintf(full, sizeof full, "%s%s", missingOpt ? "optimizer." : "",
                 d->name);
        report(full, GRAFT_LOAD_MISSING, user);
      }
    }
  }
  for (int32_t i = 0; i < m->ntensors; ++i)
    if (slot[i] >= 0)
      memcpy(ctx->data[i], file + slot[i], (size_t)m->tensors[i].nbytes);
  /* A full checkpoint's run state: the context continues as the run that
   * saved it would have. */
  if (run.full) {
    if (run.have_steps)
      ctx->steps = run.steps;
    if (run.have_seed)
      ctx->seed = run.seed;
    for (int32_t i = 0; i < m->ntensors; ++i)
      if (run.have_hyper[i])
        store(ctx->data[i], m->tensors[i].dtype, 0, run.hyper[i]);
    free_pairs(ctx->props, ctx->nprops);
    ctx->props = run.props;
    ctx->nprops = run.nprops;
    run.props = 0;
    run.nprops = 0;
  }
#undef BAD
done:
  free(file);
  free(slot);
  graft_st_free(&f);
  free_run_state(&run);
  return status;
}

graft_status graft_load(graft_context *ctx, const char *path) {
  CHECK_CTX("graft_load");
  graft_status s = check_path(path);
  return done(ctx, "graft_load", s ? s : load_file(ctx, path, 0, 0, 0));
}

graft_status graft_load_ex(graft_context *ctx, const char *path,
                           uint32_t flags, graft_load_report report,
                           void *user) {
  CHECK_CTX("graft_load_ex");
  graft_status s = check_path(path);
  return done(ctx, "graft_load_ex",
              s ? s : load_file(ctx, path, flags, report, user));
}
