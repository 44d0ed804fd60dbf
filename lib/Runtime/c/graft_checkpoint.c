/*===- graft_checkpoint.c - Run state and checkpoints ----------------------===*
 *
 * What a checkpoint holds besides the tensors, user properties
 * (graft_set_property), and graft_save / graft_load on the one
 * implementation of the format (graft_safetensors.c).
 *
 * Part of graft_runtime.c's one translation unit (the runtime is embedded
 * as one object): it uses the declarations made there and in the parts
 * included before it.
 *
 *===----------------------------------------------------------------------===*/

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
                           name_of(t, k), graft_st_dtype_name(t->dtype), t->rank,
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
  if (!s && ctx->distributed && ctx->comm.rank != 0)
    return GRAFT_OK; /* rank 0 writes the ranks' common state */
  return done(ctx, "graft_save", s ? s : save_file(ctx, path, 0, "graft_save"));
}

graft_status graft_save_weights(const graft_context *ctx, const char *path) {
  CHECK_CTX("graft_save_weights");
  graft_status s = check_path(path);
  if (!s && ctx->distributed && ctx->comm.rank != 0)
    return GRAFT_OK;
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
    if (strcmp(en->dtype, graft_st_dtype_name(d->dtype)) != 0) {
      status = fail(GRAFT_ERR_DTYPE, "%s: tensor '%s' is %s, the model's is %s",
                    path, key, en->dtype, graft_st_dtype_name(d->dtype));
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
