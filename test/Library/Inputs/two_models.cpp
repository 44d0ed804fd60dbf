// Two model libraries in one C++ program: both headers together (the
// shared API once), both archives (one runtime), each model's own tensors.
#include "digits_mlp.h"
#include "sgd_mlp.h"

#include <cstdio>

int main() {
  graft_context *a, *b;
  if (sgd_mlp_create(&a) || digits_mlp_create(&b))
    return 1;
  const graft_tensor_desc *d;
  if (graft_tensor_info(b, DIGITS_MLP_PARAM_HEAD_WEIGHT, &d))
    return 1;
  static_assert(SGD_MLP_PARAM_FC1_WEIGHT_SHAPE_1 == 12, "the header's shape");
  std::printf("%s %s [%lld, %lld] %s\n", graft_model(a)->name,
              graft_model(b)->name, (long long)d->shape[0],
              (long long)d->shape[1], d->name);
  graft_destroy(a);
  graft_destroy(b);
  return 0;
}
