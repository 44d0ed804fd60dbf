/*===- graft_steps.c - Entry points ----------------------------------------===*
 *
 * The steps: calling an entry point with the context's pointers, the
 * per-step dropout seed, index-range checks of integer inputs, the loss's
 * finiteness, gradient hooks and accumulation around forward_backward.
 *
 * Part of graft_runtime.c's one translation unit (the runtime is embedded
 * as one object): it uses the declarations made there and in the parts
 * included before it.
 *
 *===----------------------------------------------------------------------===*/

/*--- Steps ----------------------------------------------------------------*/

/* What a device back end (graft_cuda.c) sees of the call in progress. */
static _Thread_local graft_context *running;
static _Thread_local graft_status entry_status;
void (*graft_backend_destroy_hook)(graft_context *ctx);
int (*graft_backend_resident_hook)(const graft_context *ctx);

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

/* The step's seed: dropout draws from (seed, step), and distributed, from
 * the step of the one process that accumulates the ranks' batches in rank
 * order. */
static void set_step_seed(graft_context *ctx) {
  uint64_t k = ctx->steps;
  if (ctx->distributed)
    k = k * (uint64_t)ctx->comm.size + (uint64_t)ctx->comm.rank;
  if (ctx->seed_tensor >= 0)
    *(int64_t *)ctx->data[ctx->seed_tensor] =
        (int64_t)(ctx->seed * 1000003ULL + k);
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
/* graft_parallel.c: the steps of a distributed context. */
static graft_status dist_train_step(graft_context *ctx, double *loss);
static graft_status dist_user_step(graft_context *ctx);

static graft_status train_step_impl(graft_context *ctx, double *loss) {
  if (ctx->distributed)
    return dist_train_step(ctx, loss);
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
  return done(ctx, "graft_step",
              ctx->distributed ? dist_user_step(ctx)
                               : call(ctx, ctx->model->step, "step"));
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
