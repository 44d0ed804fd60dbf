/*===- graft_context.c - Contexts ------------------------------------------===*
 *
 * A context: the model descriptor's check, the one allocation of its
 * tensors and workspace, the initialisation of parameters with the
 * evaluator's counter-based generator, seeds and the thread count.
 *
 * Part of graft_runtime.c's one translation unit (the runtime is embedded
 * as one object): it uses the declarations made there and in the parts
 * included before it.
 *
 *===----------------------------------------------------------------------===*/

const graft_model_desc *graft_model(const graft_context *ctx) {
  return ctx ? ctx->model : 0;
}

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }
static void init_hypers(graft_context *ctx);
static void free_pairs(char **pairs, int32_t n);
static void dist_release(graft_context *ctx); /* graft_parallel.c */

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
  dist_release(ctx);
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
