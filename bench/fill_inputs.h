/* Deterministic inputs for a compiled model, shared by bench/gpu_bench.c
 * and test/GPU/Inputs/steps.c (included after the model's header): every
 * input tensor gets values from a hash of its index and `step`; f32 in
 * [-1, 1], integers in the range the model reads them in (index_bound:
 * embedding rows, classes), or 0 and 1 where nothing bounds them. */
#ifndef GRAFT_BENCH_FILL_INPUTS_H
#define GRAFT_BENCH_FILL_INPUTS_H

#include <stdint.h>

static void fill_inputs(graft_context *ctx, int step) {
  int32_t n = 0;
  graft_tensor_count(ctx, &n);
  for (int32_t i = 0; i < n; ++i) {
    const graft_tensor_desc *d;
    void *p;
    graft_tensor_info(ctx, i, &d);
    if (d->role != GRAFT_ROLE_INPUT)
      continue;
    graft_tensor_data(ctx, i, &p);
    uint64_t bound = d->index_bound > 0 ? (uint64_t)d->index_bound : 2;
    for (int64_t k = 0; k < d->numel; ++k) {
      uint64_t h = (uint64_t)(k + 1) * 2654435761u + (uint64_t)step * 97;
      if (d->dtype == GRAFT_DTYPE_F32)
        ((float *)p)[k] = (float)((h % 2001) / 1000.0 - 1.0);
      else if (d->dtype == GRAFT_DTYPE_I64)
        ((int64_t *)p)[k] = (int64_t)(h % bound);
      else if (d->dtype == GRAFT_DTYPE_I32)
        ((int32_t *)p)[k] = (int32_t)(h % bound);
    }
  }
}

#endif
