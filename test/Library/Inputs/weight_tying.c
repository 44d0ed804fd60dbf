/* A tied parameter through the C API (test/Library/weight-tying.test):
 *
 *   weight-tying FILE [RESAVED]
 *
 * loads FILE into a fresh context (printing graft_load's message when it
 * fails), checks that both of the parameter's names find it (the header's
 * enum and graft_find_tensor), and saves the context to RESAVED. */
#include "weight_tying.h"
#include "must.h"

#include <stdio.h>

_Static_assert(WEIGHT_TYING_PARAM_MID2_WEIGHT == WEIGHT_TYING_PARAM_MID_WEIGHT,
               "the header names a tied parameter by each of its names");

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  graft_context *ctx;
  MUST(graft_create(&graft_model_weight_tying, &ctx));
  int32_t a = -1, b = -1;
  MUST(graft_find_tensor(ctx, GRAFT_ROLE_PARAM, "mid.weight", &a));
  MUST(graft_find_tensor(ctx, GRAFT_ROLE_PARAM, "mid2.weight", &b));
  const graft_tensor_desc *d = &graft_model_weight_tying.tensors[a];
  printf("%s: mid.weight %d, mid2.weight %d, naliases %d (%s)\n",
         a == b ? "PASS" : "FAIL", (int)a, (int)b, (int)d->naliases,
         d->naliases ? d->aliases[0] : "");
  if (graft_load(ctx, argv[1]) != GRAFT_OK) {
    printf("load failed: %s\n", graft_last_error());
    graft_destroy(ctx);
    return 1;
  }
  float w[32 * 32];
  MUST(graft_get_by_name(ctx, GRAFT_ROLE_PARAM, "mid2.weight", w, sizeof w));
  printf("loaded: mid2.weight[0] = %.6g\n", w[0]);
  if (argc > 2)
    MUST(graft_save(ctx, argv[2]));
  graft_destroy(ctx);
  return 0;
}
