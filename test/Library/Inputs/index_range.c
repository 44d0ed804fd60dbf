/* Integer inputs out of their range (test/Library/index-range.test), on
 * Inputs/index_range.graft: token ids (an embedding of V rows), positions
 * (i32, an embedding of T rows) and targets (cross_entropy with
 * ignore_index -1).
 *
 * Each value PyTorch refuses with IndexError makes every step entry point
 * return GRAFT_ERR_INDEX, naming the input, the element and the use, and
 * leaves every tensor of the context as it was (nothing computed, nothing
 * zeroed, the step count unchanged). Values PyTorch takes (the bounds'
 * inside, the ignore_index) train. With -DGRAFT_CUDA the library is
 * --target=cuda: without a GPU a valid step is GRAFT_ERR_NO_DEVICE, and the
 * range check comes first all the same. */
#include MODEL_HEADER

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    printf((cond) ? "PASS: " : "FAIL: ");                                      \
    if (!(cond))                                                               \
      ++failures;                                                              \
    printf(__VA_ARGS__);                                                       \
    printf("\n");                                                              \
  } while (0)

static graft_context *ctx;
static int gpu; /* valid steps run (a CPU library, or a GPU is there) */

static void *data_of(const char *name) {
  int32_t i;
  void *p = NULL;
  if (graft_find_tensor(ctx, GRAFT_ROLE_INPUT, name, &i) ||
      graft_tensor_data(ctx, i, &p)) {
    printf("FAIL: no input '%s': %s\n", name, graft_last_error());
    exit(1);
  }
  return p;
}

static void valid_inputs(void) {
  int64_t *idx = data_of("idx"), *targets = data_of("targets");
  int32_t *pos = data_of("pos");
  for (int k = 0; k < 6; ++k) {
    idx[k] = k % 5;
    targets[k] = (k + 1) % 5;
  }
  for (int k = 0; k < 3; ++k)
    pos[k] = k;
}

/* Every tensor but the inputs, concatenated. */
static char *snapshot(size_t *size) {
  int32_t n;
  graft_tensor_count(ctx, &n);
  size_t total = 0;
  for (int32_t i = 0; i < n; ++i) {
    const graft_tensor_desc *d;
    graft_tensor_info(ctx, i, &d);
    total += d->role == GRAFT_ROLE_INPUT ? 0 : (size_t)d->nbytes;
  }
  char *all = malloc(total + 1), *at = all;
  for (int32_t i = 0; i < n; ++i) {
    const graft_tensor_desc *d;
    void *p;
    graft_tensor_info(ctx, i, &d);
    if (d->role == GRAFT_ROLE_INPUT)
      continue;
    graft_tensor_data(ctx, i, &p);
    memcpy(at, p, (size_t)d->nbytes);
    at += d->nbytes;
  }
  *size = total;
  return all;
}

/* A step that must run: GRAFT_OK, or without a GPU GRAFT_ERR_NO_DEVICE. */
static int ran(graft_status s) {
  return s == GRAFT_OK || (!gpu && s == GRAFT_ERR_NO_DEVICE);
}

static void hook(const char *name, graft_role role, void *data,
                 const graft_tensor_desc *desc, void *user) {
  (void)name, (void)role, (void)data, (void)desc;
  ++*(int *)user;
}

/* Sets one element out of range, checks every entry point that reads the
 * input refuses it and changes nothing, then restores the valid inputs.
 * predict reads no targets. */
static void refused(const char *what, const char *message, void (*set)(void),
                    int predict_reads) {
  valid_inputs();
  set();
  size_t before_size, after_size;
  uint64_t steps_before, steps_after;
  char *before = snapshot(&before_size);
  graft_steps(ctx, &steps_before);
  struct {
    const char *name;
    graft_status s;
  } calls[5];
  calls[0].name = "graft_train_step", calls[0].s = graft_train_step(ctx, NULL);
  int contains = strstr(graft_last_error(), message) != NULL;
  printf("message: %s\n", graft_last_error());
  calls[1].name = "graft_forward_backward";
  calls[1].s = graft_forward_backward(ctx, NULL);
  calls[2].name = "graft_eval", calls[2].s = graft_eval(ctx, NULL);
  calls[3].name = "graft_predict";
  calls[3].s = predict_reads ? graft_predict(ctx) : GRAFT_ERR_INDEX;
  /* With a hook on every gradient train_step runs as zero_grad,
   * forward_backward and step: the check still comes before zero_grad. */
  int hooked = 0;
  graft_register_grad_hook(ctx, NULL, hook, &hooked);
  calls[4].name = "graft_train_step (hooked)";
  calls[4].s = graft_train_step(ctx, NULL);
  graft_clear_grad_hooks(ctx);
  char *after = snapshot(&after_size);
  graft_steps(ctx, &steps_after);
  int all = 1;
  for (int c = 0; c < 5; ++c)
    if (calls[c].s != GRAFT_ERR_INDEX) {
      printf("  %s: %s (%s)\n", calls[c].name, graft_status_string(calls[c].s),
             graft_last_error());
      all = 0;
    }
  CHECK(all && contains, "%s: every step returns GRAFT_ERR_INDEX", what);
  CHECK(before_size == after_size && !memcmp(before, after, before_size) &&
            steps_before == steps_after && hooked == 0,
        "%s: no tensor changed, no hook ran, steps stay %llu", what,
        (unsigned long long)steps_after);
  free(before);
  free(after);
  valid_inputs();
}

static void idx_v(void) { ((int64_t *)data_of("idx"))[4] = 5; }
static void idx_negative(void) { ((int64_t *)data_of("idx"))[0] = -1; }
static void pos_t(void) { ((int32_t *)data_of("pos"))[2] = 3; }
static void target_v(void) { ((int64_t *)data_of("targets"))[5] = 5; }
static void target_minus_2(void) { ((int64_t *)data_of("targets"))[1] = -2; }

int main(void) {
  if (graft_create(&MODEL, &ctx) || graft_init(ctx, 1)) {
    printf("FAIL: create: %s\n", graft_last_error());
    return 1;
  }
  gpu = 1;
#ifdef GRAFT_CUDA
  gpu = graft_cuda_available() == GRAFT_OK;
#endif

  /* The tensor table records each input's range. */
  const graft_tensor_desc *d;
  int32_t i;
  graft_find_tensor(ctx, GRAFT_ROLE_INPUT, "idx", &i);
  graft_tensor_info(ctx, i, &d);
  CHECK(d->index_bound == 5 && !d->has_index_ignored && d->index_use &&
            strstr(d->index_use, "the rows of graft.embedding at "),
        "idx: index_bound %lld, use \"%s\"", (long long)d->index_bound,
        d->index_use ? d->index_use : "(null)");
  graft_find_tensor(ctx, GRAFT_ROLE_INPUT, "targets", &i);
  graft_tensor_info(ctx, i, &d);
  CHECK(d->index_bound == 5 && d->has_index_ignored && d->index_ignored == -1,
        "targets: index_bound %lld, ignore_index %lld",
        (long long)d->index_bound, (long long)d->index_ignored);
  graft_find_tensor(ctx, GRAFT_ROLE_INPUT, "pos", &i);
  graft_tensor_info(ctx, i, &d);
  CHECK(d->index_bound == 3 && d->dtype == GRAFT_DTYPE_I32,
        "pos: index_bound %lld (i32)", (long long)d->index_bound);
  graft_find_tensor(ctx, GRAFT_ROLE_PARAM, "wte.weight", &i);
  graft_tensor_info(ctx, i, &d);
  CHECK(d->index_bound == 0 && !d->index_use, "a parameter has no range");

  /* Values PyTorch takes: both ends of each range, and the ignore_index. */
  valid_inputs();
  ((int64_t *)data_of("idx"))[0] = 4;
  ((int64_t *)data_of("targets"))[0] = -1;
  ((int64_t *)data_of("targets"))[1] = 0;
  graft_status s = graft_train_step(ctx, NULL);
  CHECK(ran(s), "ends of the ranges and the ignore_index train: %s",
        graft_status_string(s));

  refused("token id 5 of 5 rows",
          "input 'idx' holds 5 at [1, 1], outside "
          "[0, 5): it indexes the rows of graft.embedding at ",
          idx_v, 1);
  refused("token id -1", "(IndexError: index out of range in self)",
          idx_negative, 1);
  refused("i32 position 3 of 3 rows",
          "input 'pos' holds 3 at [2], outside "
          "[0, 3)",
          pos_t, 1);
  refused("target 5 of 5 classes",
          "input 'targets' holds 5 at [1, 2], "
          "outside [0, 5) and is not the ignore_index -1: it indexes the "
          "classes of graft.cross_entropy at ",
          target_v, 0);
  refused("target -2", "(IndexError: Target -2 is out of bounds.)",
          target_minus_2, 0);

  s = graft_train_step(ctx, NULL);
  CHECK(ran(s), "valid inputs train again: %s", graft_status_string(s));
  graft_destroy(ctx);
  printf("%d failure(s)\n", failures);
  return failures != 0;
}
