/*===- graft_parallel.c - Data-parallel steps over a graft_comm ------------===*
 *
 * graft_dist_init and the distributed forms of graft_train_step and
 * graft_step (graft_api.h, docs/Distributed.md): the gradients summed in
 * rank order by graft_dist_sum (graft_dist.c), averaged over the ranks, the
 * step taken on every rank alike, rank 0's buffers kept.
 *
 * Part of graft_runtime.c's one translation unit (the runtime is embedded
 * as one object): it uses the declarations made there and in the parts
 * included before it.
 *
 *===----------------------------------------------------------------------===*/

/* The roles a rank takes from rank 0 at graft_dist_init. */
static int shared_role(int32_t role) {
  return role == GRAFT_ROLE_PARAM || role == GRAFT_ROLE_BUFFER ||
         role == GRAFT_ROLE_OPT_STATE || role == GRAFT_ROLE_HYPER;
}

/* The spans of the gradients, then of the buffers, at `spans`; returns
 * the gradients' count in *ngrads and the buffers' in *nbuffers. */
static void make_spans(const graft_context *ctx, graft_dist_span *spans,
                       int32_t *ngrads, int32_t *nbuffers) {
  const graft_model_desc *m = ctx->model;
  int32_t n = 0;
  for (int32_t pass = 0; pass < 2; ++pass) {
    int32_t role = pass ? GRAFT_ROLE_BUFFER : GRAFT_ROLE_GRAD;
    for (int32_t i = 0; i < m->ntensors; ++i)
      if (m->tensors[i].role == role)
        spans[n++] = (graft_dist_span){
            ctx->data[i], (size_t)m->tensors[i].nbytes, m->tensors[i].dtype};
    if (!pass)
      *ngrads = n;
  }
  *nbuffers = n - *ngrads;
}

static graft_status comm_failed(const graft_comm *comm, int rc,
                                const char *what) {
  return fail(GRAFT_ERR_DIST,
              "rank %d of %d: the communicator's %s failed (code %d); the "
              "ranks may now differ: restore the last checkpoint on every "
              "rank", (int)comm->rank, (int)comm->size, what, rc);
}

/* A CUDA library's context whose state stays on the device has stale host
 * gradients: the sums read and write the host copies. */
static graft_status check_host_state(const graft_context *ctx) {
  if (graft_backend_resident_hook && graft_backend_resident_hook(ctx))
    return fail(GRAFT_ERR_UNSUPPORTED,
                "the context's state is resident on the GPU "
                "(graft_cuda_set_resident), but data-parallel steps sum the "
                "host copies of the gradients: turn residency off");
  return GRAFT_OK;
}

static void dist_release(graft_context *ctx) {
  if (ctx->distributed && ctx->comm.release)
    ctx->comm.release(ctx->comm.user);
  free(ctx->dist_scratch);
  free(ctx->dist_spans);
  ctx->dist_scratch = 0;
  ctx->dist_spans = 0;
  ctx->distributed = 0;
}

graft_status graft_dist_init(graft_context *ctx, const graft_comm *comm) {
  CHECK_CTX("graft_dist_init");
  const graft_model_desc *m = ctx->model;
  if (!comm) {
    dist_release(ctx);
    return GRAFT_OK;
  }
  if (comm->size < 1 || comm->rank < 0 || comm->rank >= comm->size)
    return done(ctx, "graft_dist_init",
                fail(GRAFT_ERR_INVALID_ARGUMENT, "comm has rank %d of size "
                     "%d", (int)comm->rank, (int)comm->size));
  if (comm->size > 1 &&
      (!comm->alltoall || !comm->allgather || !comm->broadcast))
    return done(ctx, "graft_dist_init",
                fail(GRAFT_ERR_INVALID_ARGUMENT, "comm has %d ranks but no "
                     "%s function", (int)comm->size,
                     !comm->alltoall    ? "alltoall"
                     : !comm->allgather ? "allgather"
                                        : "broadcast"));
  if (check_host_state(ctx))
    return done(ctx, "graft_dist_init", GRAFT_ERR_UNSUPPORTED);
  for (int32_t i = 0; i < m->ntensors; ++i) {
    const graft_tensor_desc *t = &m->tensors[i];
    if (t->role == GRAFT_ROLE_GRAD && t->dtype != GRAFT_DTYPE_F32 &&
        t->dtype != GRAFT_DTYPE_F64)
      return done(ctx, "graft_dist_init",
                  fail(GRAFT_ERR_UNSUPPORTED, "the gradient of '%s' is "
                       "neither f32 nor f64: data-parallel steps sum f32 "
                       "and f64 gradients", t->name));
  }
  graft_dist_span *spans = (graft_dist_span *)malloc(
      sizeof(graft_dist_span) * (size_t)(m->ntensors ? m->ntensors : 1));
  if (!spans)
    return done(ctx, "graft_dist_init",
                fail(GRAFT_ERR_OUT_OF_MEMORY, "no memory for %d spans",
                     (int)m->ntensors));
  int32_t ngrads = 0, nbuffers = 0;
  make_spans(ctx, spans, &ngrads, &nbuffers);
  size_t bytes = align64(graft_dist_scratch_bytes(spans, ngrads, spans + ngrads,
                                                  nbuffers, comm->size));
  char *scratch = (char *)aligned_alloc(64, bytes ? bytes : 64);
  if (!scratch) {
    free(spans);
    return done(ctx, "graft_dist_init",
                fail(GRAFT_ERR_OUT_OF_MEMORY, "no memory for %zu bytes of "
                     "collective scratch", bytes));
  }
  /* Rank 0's state on every rank: the tensors, then the seed and steps. */
  for (int32_t i = 0; i < m->ntensors; ++i) {
    if (!shared_role(m->tensors[i].role))
      continue;
    int rc = graft_dist_broadcast(comm, ctx->data[i],
                                  (size_t)m->tensors[i].nbytes, 0);
    if (rc) {
      free(scratch);
      free(spans);
      return done(ctx, "graft_dist_init", comm_failed(comm, rc, "broadcast"));
    }
  }
  uint64_t run[2] = {ctx->seed, ctx->steps};
  int rc = graft_dist_broadcast(comm, run, sizeof run, 0);
  if (rc) {
    free(scratch);
    free(spans);
    return done(ctx, "graft_dist_init", comm_failed(comm, rc, "broadcast"));
  }
  ctx->seed = run[0];
  ctx->steps = run[1];
  dist_release(ctx);
  ctx->comm = *comm;
  ctx->distributed = 1;
  ctx->dist_scratch = scratch;
  ctx->dist_spans = spans;
  ctx->dist_ngrads = ngrads;
  ctx->dist_nbuffers = nbuffers;
  return GRAFT_OK;
}

graft_status graft_dist_rank(const graft_context *ctx, int32_t *rank,
                             int32_t *size) {
  CHECK_CTX("graft_dist_rank");
  CHECK_ARG("graft_dist_rank", rank);
  CHECK_ARG("graft_dist_rank", size);
  *rank = ctx->distributed ? ctx->comm.rank : 0;
  *size = ctx->distributed ? ctx->comm.size : 1;
  return GRAFT_OK;
}

/* The distributed step: the gradients summed over the ranks, averaged over
 * `batches` (this rank's batches since zero_grad) times the ranks by the
 * step's own accumulation_steps or here, the step, rank 0's buffers. */
static graft_status dist_step(graft_context *ctx, double batches) {
  const graft_model_desc *m = ctx->model;
  if (m->step < 0)
    return call(ctx, m->step, "step");
  int32_t acc = m->accumulation_steps != 1
                    ? find_index(ctx, GRAFT_ROLE_HYPER, "accumulation_steps")
                    : -1;
  int rc =
      graft_dist_sum_spans(&ctx->comm, ctx->dist_spans, ctx->dist_ngrads,
                           acc >= 0 ? 1 : ctx->comm.size, ctx->dist_scratch);
  if (rc)
    return comm_failed(&ctx->comm, rc, "alltoall or allgather");
  double count = 1;
  if (acc >= 0) {
    count = load(ctx->data[acc], m->tensors[acc].dtype, 0);
    store(ctx->data[acc], m->tensors[acc].dtype, 0,
          batches * (double)ctx->comm.size);
  }
  graft_status s = call(ctx, m->step, "step");
  if (acc >= 0)
    store(ctx->data[acc], m->tensors[acc].dtype, 0, count);
  if (s)
    return s;
  rc =
      graft_dist_broadcast_spans(&ctx->comm, ctx->dist_spans + ctx->dist_ngrads,
                                 ctx->dist_nbuffers, 0, ctx->dist_scratch);
  if (rc)
    return comm_failed(&ctx->comm, rc, "broadcast");
  return GRAFT_OK;
}

/* graft_step of a distributed context: after forward_backward on the
 * accumulation_steps batches the step expects. */
static graft_status dist_user_step(graft_context *ctx) {
  const graft_model_desc *m = ctx->model;
  if (check_host_state(ctx))
    return GRAFT_ERR_UNSUPPORTED;
  double batches = 1;
  if (m->accumulation_steps != 1) {
    int32_t acc = find_index(ctx, GRAFT_ROLE_HYPER, "accumulation_steps");
    if (acc >= 0)
      batches = load(ctx->data[acc], m->tensors[acc].dtype, 0);
  }
  return dist_step(ctx, batches);
}

/* graft_train_step of a distributed context. The ranks first agree on
 * whether every rank's forward_backward succeeded with a finite loss; only
 * then do they sum gradients and step, so that no rank waits in a
 * collective that a failed rank never joins. */
static graft_status dist_train_step(graft_context *ctx, double *loss) {
  const graft_model_desc *m = ctx->model;
  if (m->zero_grad < 0 || m->forward_backward < 0 || m->step < 0)
    return fail(GRAFT_ERR_UNSUPPORTED, "model '%s' lacks the zero_grad, "
                "forward_backward and step entry points a distributed step "
                "runs", m->name);
  uint64_t steps = ctx->steps;
  graft_status s = check_host_state(ctx);
  if (!s)
    s = check_indices(ctx, m->forward_backward);
  if (!s)
    s = call(ctx, m->zero_grad, "zero_grad");
  if (!s)
    s = forward_backward_impl(ctx, 0, "graft_train_step");
  struct {
    double loss;
    int32_t status;
  } mine = {read_loss(ctx, m->forward_backward, 0), (int32_t)s};
  char gathered[GRAFT_DIST_BLOCK * 64], *blocks = gathered, *heap = 0;
  if ((size_t)ctx->comm.size > sizeof gathered / GRAFT_DIST_BLOCK) {
    heap = (char *)malloc((size_t)ctx->comm.size * GRAFT_DIST_BLOCK);
    if (!heap)
      return fail(GRAFT_ERR_OUT_OF_MEMORY, "no memory to gather %d losses",
                  (int)ctx->comm.size);
    blocks = heap;
  }
  /* A failing rank keeps its message; the others name the first. */
  char own[sizeof last_error];
  memcpy(own, last_error, sizeof own);
  int rc = graft_dist_gather_small(&ctx->comm, &mine, sizeof mine, blocks);
  if (rc) {
    free(heap);
    return comm_failed(&ctx->comm, rc, "allgather");
  }
  double sum = 0;
  int32_t failed = -1, failure = 0;
  for (int32_t r = 0; r < ctx->comm.size; ++r) {
    memcpy(&mine, blocks + (size_t)r * GRAFT_DIST_BLOCK, sizeof mine);
    sum += mine.loss;
    if (mine.status && mine.status != GRAFT_ERR_NONFINITE && failed < 0)
      failed = r, failure = mine.status;
  }
  free(heap);
  double mean = sum / (double)ctx->comm.size;
  if (loss)
    *loss = mean;
  if (s && s != GRAFT_ERR_NONFINITE) { /* then failed >= 0: this rank */
    ctx->steps = steps;
    memcpy(last_error, own, sizeof own);
    return s;
  }
  if (failed >= 0) {
    ctx->steps = steps; /* as if no rank had run: the seeds stay aligned */
    return fail(GRAFT_ERR_DIST, "rank %d's step failed (%s); no rank took "
                "the step", (int)failed,
                graft_status_string((graft_status)failure));
  }
  if (!isfinite(mean))
    return fail(GRAFT_ERR_NONFINITE,
                "the loss of step %llu, the mean over %d ranks, is %s; no "
                "rank took the step (lower the learning rate, check the "
                "data for nan or inf, or clip gradients)",
                (unsigned long long)ctx->steps, (int)ctx->comm.size,
                isnan(mean) ? "nan" : "inf");
  return dist_step(ctx, 1);
}
