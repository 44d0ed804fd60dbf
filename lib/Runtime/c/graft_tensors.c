/*===- graft_tensors.c - Tensors by index and name -------------------------===*
 *
 * What an application reads and writes: the tensor table, data pointers,
 * copies in and out with their checks, hyper-parameters (the learning
 * rate) and the registration of gradient hooks.
 *
 * Part of graft_runtime.c's one translation unit (the runtime is embedded
 * as one object): it uses the declarations made there and in the parts
 * included before it.
 *
 *===----------------------------------------------------------------------===*/

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
