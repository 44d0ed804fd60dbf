/* train_step with gradient hooks on a model with accumulation_steps > 1:
 * the runtime cannot run it as zero_grad + forward_backward + step (step
 * divides by the accumulation count, train_step does not), so it refuses
 * with GRAFT_ERR_UNSUPPORTED and says what to call instead. */
#include MODEL_HEADER

#include <stdio.h>

static void hook(const char *name, graft_role role, void *data,
                 const graft_tensor_desc *d, void *user) {
  (void)name, (void)role, (void)data, (void)d, (void)user;
}

int main(void) {
  graft_context *ctx;
  if (graft_create(&MODEL, &ctx) || graft_init(ctx, 1) ||
      graft_register_grad_hook(ctx, 0, hook, 0))
    return 2;
  printf("accumulation_steps %d\n", (int)MODEL.accumulation_steps);
  graft_status s = graft_train_step(ctx, 0);
  printf("%s: %s\n", graft_status_string(s), graft_last_error());
  graft_clear_grad_hooks(ctx);
  s = graft_train_step(ctx, 0);
  printf("without hooks: %s\n", graft_status_string(s));
  graft_destroy(ctx);
  return 0;
}
