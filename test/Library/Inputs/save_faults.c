/* graft_save and graft_load under faults (test/Library/save-faults.test):
 *
 *   save_faults save PATH        graft_init(ctx, 1) and graft_save; prints
 *                                "saved PATH" or the status and message
 *   save_faults load PATH        graft_load; prints the status and message
 *   save_faults loop PATH        saves PATH again and again, forever: save
 *                                i is graft_init(ctx, i) with the user
 *                                property iteration = i, so each differs in
 *                                every tensor; i continues from PATH's
 *                                iteration when PATH loads (for the kills of
 *                                test/tools/Inputs/kill_loop.py)
 *   save_faults check PATH       PATH loads, and is save i whole: its
 *                                iteration and seed are i and every
 *                                parameter and buffer is graft_init(ctx, i)'s
 * Exit status: 0 when the operation succeeded, 1 otherwise. */
#include MODEL_HEADER

#include "must.h"

#include <stdlib.h>
#include <string.h>

static int report(const char *what, graft_status s) {
  printf("%s: %s (%s)\n", what, graft_status_string(s),
         s == GRAFT_OK ? "" : graft_last_error());
  return s == GRAFT_OK ? 0 : 1;
}

/* The iteration a loaded context was saved at, or 0. */
static long iteration(graft_context *ctx) {
  const char *v;
  return graft_get_property(ctx, "iteration", &v) == GRAFT_OK ? atol(v) : 0;
}

int main(int argc, char **argv) {
  if (argc != 3)
    return 2;
  const char *mode = argv[1], *path = argv[2];
  graft_context *ctx;
  MUST(graft_create(&MODEL, &ctx));
  if (strcmp(mode, "save") == 0) {
    MUST(graft_init(ctx, 1));
    graft_status s = graft_save(ctx, path);
    if (s == GRAFT_OK)
      printf("saved %s\n", path);
    return s == GRAFT_OK ? 0 : report("graft_save", s);
  }
  if (strcmp(mode, "load") == 0)
    return report("graft_load", graft_load(ctx, path));
  if (strcmp(mode, "loop") == 0) {
    long i = graft_load(ctx, path) == GRAFT_OK ? iteration(ctx) : 0;
    for (;;) {
      char value[32];
      ++i;
      snprintf(value, sizeof value, "%ld", i);
      MUST(graft_init(ctx, (uint64_t)i));
      MUST(graft_set_property(ctx, "iteration", value));
      MUST(graft_save(ctx, path));
    }
  }
  if (strcmp(mode, "check") == 0) {
    if (report("graft_load", graft_load(ctx, path)))
      return 1;
    long i = iteration(ctx);
    uint64_t seed;
    MUST(graft_get_seed(ctx, &seed));
    if (i <= 0 || seed != (uint64_t)i) {
      printf("FAIL: iteration %ld, seed %llu\n", i, (unsigned long long)seed);
      return 1;
    }
    graft_context *fresh;
    MUST(graft_create(&MODEL, &fresh));
    MUST(graft_init(fresh, (uint64_t)i));
    int32_t n;
    MUST(graft_tensor_count(ctx, &n));
    for (int32_t t = 0; t < n; ++t) {
      const graft_tensor_desc *d;
      void *a, *b;
      MUST(graft_tensor_info(ctx, t, &d));
      if (d->role != GRAFT_ROLE_PARAM && d->role != GRAFT_ROLE_BUFFER)
        continue;
      MUST(graft_tensor_data(ctx, t, &a));
      MUST(graft_tensor_data(fresh, t, &b));
      if (memcmp(a, b, (size_t)d->nbytes) != 0) {
        printf("FAIL: %s is not save %ld's\n", d->name, i);
        return 1;
      }
    }
    printf("ok: save %ld, whole\n", i);
    graft_destroy(fresh);
    graft_destroy(ctx);
    return 0;
  }
  return 2;
}
