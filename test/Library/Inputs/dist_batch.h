/* The samples of the data-parallel harnesses (dist_train.c,
 * dist_threads.c): global batch g of dist_mlp.graft's inputs (4 samples of
 * 12 features, labels in [0, 5)), the same in every process and thread;
 * `fault` spoils it ("index": a label out of range, "nan": a nan input). */
#ifndef GRAFT_TEST_DIST_BATCH_H
#define GRAFT_TEST_DIST_BATCH_H

#include "must.h"

#include <math.h>
#include <string.h>

static void set_batch(graft_context *ctx, int64_t g, const char *fault) {
  enum { B = 4, F = 12 };
  float x[B * F];
  int64_t y[B];
  for (int i = 0; i < B; ++i) {
    for (int j = 0; j < F; ++j)
      x[i * F + j] = (float)sin(0.37 * (double)(g * 97 + i * 13 + j * 5));
    y[i] = (g * 3 + i) % 5;
  }
  if (fault && !strcmp(fault, "index"))
    y[2] = 99;
  if (fault && !strcmp(fault, "nan"))
    x[5] = NAN;
  MUST(graft_set_input(ctx, "x", x, sizeof x));
  MUST(graft_set_input(ctx, "y", y, sizeof y));
}

#endif
