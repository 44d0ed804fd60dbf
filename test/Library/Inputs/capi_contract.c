/* The argument contract of the C API (test/Library/capi-contract.test):
 * every function of graft_api.h called with each kind of bad argument (a
 * NULL context, NULL pointers, NULL and empty names, keys and paths,
 * indices out of range, wrong byte counts and dtypes, a tensor, name or
 * checkpoint of another model, an entry point the model lacks, a malformed
 * descriptor) returns the documented code, with a message that starts
 * with the function's name and is the same in graft_error(ctx) and
 * graft_last_error(); a failed call changes nothing.
 *
 *   capi_contract WORK-DIR
 *
 * Two models: sgd_mlp (training, a retained gradient) and digits_mlp as
 * served (no train block, no loss). Prints one line per check and
 * "contract: N checks, M failures"; exits 1 on a failure. */
#include "digits_mlp.h"
#include "sgd_mlp.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks, failures;

/* The function a call starts with: "graft_get(ctx, ...)" -> "graft_get". */
static const char *function_of(const char *call, char *buf, size_t cap) {
  size_t n = strcspn(call, "(");
  if (n >= cap)
    n = cap - 1;
  memcpy(buf, call, n);
  buf[n] = 0;
  return buf;
}

/* The call returned `want`; on an error, the thread's message starts with
 * "FUNCTION: ", contains `needle` (when not NULL), and is ctx's too. */
static void expect(const char *call, const graft_context *ctx,
                   graft_status got, graft_status want, const char *needle) {
  char fn[64];
  function_of(call, fn, sizeof fn);
  const char *msg = graft_last_error();
  size_t n = strlen(fn);
  int ok = got == want;
  if (want != GRAFT_OK) {
    ok = ok && strncmp(msg, fn, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ';
    ok = ok && (!needle || strstr(msg, needle));
    if (ctx)
      ok = ok && strcmp(graft_error(ctx), msg) == 0;
  }
  ++checks;
  if (!ok)
    ++failures;
  printf("%s %s -> %s", ok ? "ok:" : "FAIL:", call, graft_status_string(got));
  if (got != GRAFT_OK || want != GRAFT_OK)
    printf(": %s", msg);
  if (!ok)
    printf(" (wanted %s%s%s)", graft_status_string(want),
           needle ? " with " : "", needle ? needle : "");
  printf("\n");
}

#define EXPECT(ctx, call, want, needle) expect(#call, ctx, (call), want, needle)

static void check(int cond, const char *what) {
  ++checks;
  if (!cond)
    ++failures;
  printf("%s %s\n", cond ? "ok:" : "FAIL:", what);
}

static void hook(const char *name, graft_role role, void *data,
                 const graft_tensor_desc *desc, void *user) {
  (void)name, (void)role, (void)data, (void)desc, (void)user;
}

static void report(const char *name, graft_load_issue issue, void *user) {
  (void)name, (void)issue, (void)user;
}

/* graft_create of a copy of sgd_mlp's descriptor damaged by `damage`. */
static void expect_bad_model(const char *what, void (*damage)(graft_model_desc *,
                                                             graft_tensor_desc *,
                                                             graft_entry_desc *),
                             graft_status want, const char *needle) {
  graft_model_desc m = graft_model_sgd_mlp;
  graft_tensor_desc *t = malloc(sizeof *t * (size_t)m.ntensors);
  graft_entry_desc *e = malloc(sizeof *e * (size_t)m.nentries);
  memcpy(t, m.tensors, sizeof *t * (size_t)m.ntensors);
  memcpy(e, m.entries, sizeof *e * (size_t)m.nentries);
  m.tensors = t;
  m.entries = e;
  damage(&m, t, e);
  graft_context *c = (graft_context *)&m; /* must become NULL */
  graft_status s = graft_create(&m, &c);
  char call[160];
  snprintf(call, sizeof call, "graft_create(%s, &c)", what);
  expect(call, NULL, s, want, needle);
  check(c == NULL, "graft_create: *out is NULL after a failure");
  graft_destroy(c);
  free(t);
  free(e);
}

static void abi_2(graft_model_desc *m, graft_tensor_desc *t, graft_entry_desc *e) {
  (void)t, (void)e;
  m->abi_version = 2;
}
static void no_name(graft_model_desc *m, graft_tensor_desc *t, graft_entry_desc *e) {
  (void)t, (void)e;
  m->name = NULL;
}
static void negative_count(graft_model_desc *m, graft_tensor_desc *t,
                           graft_entry_desc *e) {
  (void)t, (void)e;
  m->ntensors = -1;
}
static void null_tensors(graft_model_desc *m, graft_tensor_desc *t,
                         graft_entry_desc *e) {
  (void)t, (void)e;
  m->tensors = NULL;
}
static void negative_nbytes(graft_model_desc *m, graft_tensor_desc *t,
                            graft_entry_desc *e) {
  (void)m, (void)e;
  t[0].nbytes = -4;
}
static void param_index_bound(graft_model_desc *m, graft_tensor_desc *t,
                              graft_entry_desc *e) {
  (void)m, (void)e;
  t[0].index_bound = 3; /* a parameter read as positions */
  t[0].index_use = "x";
}
static void null_aliases(graft_model_desc *m, graft_tensor_desc *t,
                         graft_entry_desc *e) {
  (void)m, (void)e;
  t[0].naliases = 1; /* a tied parameter without its names */
  t[0].aliases = NULL;
}
static void huge_nbytes(graft_model_desc *m, graft_tensor_desc *t,
                        graft_entry_desc *e) {
  (void)m, (void)e;
  t[1].nbytes = INT64_MAX;
}
static void numel_past_nbytes(graft_model_desc *m, graft_tensor_desc *t,
                              graft_entry_desc *e) {
  (void)m, (void)e;
  t[0].numel = t[0].nbytes; /* 4 bytes per f32 element: 4x too many */
}
static void bad_dtype(graft_model_desc *m, graft_tensor_desc *t,
                      graft_entry_desc *e) {
  (void)m, (void)e;
  t[2].dtype = 42;
}
static void bad_entry_index(graft_model_desc *m, graft_tensor_desc *t,
                            graft_entry_desc *e) {
  (void)t, (void)e;
  m->train_step = m->nentries;
}
static int32_t bad_args[64];
static void bad_entry_arg(graft_model_desc *m, graft_tensor_desc *t,
                          graft_entry_desc *e) {
  (void)m, (void)t;
  memcpy(bad_args, e[0].args, sizeof(int32_t) * (size_t)e[0].nargs);
  bad_args[e[0].nargs - 1] = 9999;
  e[0].args = bad_args;
}
static void null_fn(graft_model_desc *m, graft_tensor_desc *t,
                    graft_entry_desc *e) {
  (void)m, (void)t;
  e[1].fn = NULL;
}
static void negative_workspace(graft_model_desc *m, graft_tensor_desc *t,
                               graft_entry_desc *e) {
  (void)m, (void)t;
  e[0].workspace_bytes = -64;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  char path[1024], serve_path[1024], missing[1024];
  snprintf(path, sizeof path, "%s/sgd.safetensors", argv[1]);
  snprintf(serve_path, sizeof serve_path, "%s/serve.safetensors", argv[1]);
  snprintf(missing, sizeof missing, "%s/no-such-dir/x.safetensors", argv[1]);
  float w[SGD_MLP_PARAM_FC1_WEIGHT_NUMEL], before[SGD_MLP_PARAM_FC1_WEIGHT_NUMEL];
  double wide[SGD_MLP_PARAM_FC1_WEIGHT_NUMEL];
  int32_t narrow[SGD_MLP_INPUT_Y_NUMEL];
  double lr = 0, loss = 0, nan = NAN, negative = -1.0;
  int32_t n = 0, index = 0;
  uint64_t u = 0;
  void *data = NULL;
  const graft_tensor_desc *desc = NULL;
  const char *value = "x";
  memset(w, 0, sizeof w);
  memset(wide, 0, sizeof wide);
  memset(narrow, 0, sizeof narrow);

  /*--- graft_create, graft_destroy, the context-free functions ----------*/
  graft_context *ctx = (graft_context *)&n, *serve = NULL;
  EXPECT(NULL, graft_create(NULL, &ctx), GRAFT_ERR_INVALID_ARGUMENT,
         "model is NULL");
  check(ctx == NULL, "graft_create: *out is NULL after a failure");
  EXPECT(NULL, graft_create(&graft_model_sgd_mlp, NULL),
         GRAFT_ERR_INVALID_ARGUMENT, "out is NULL");
  check(strcmp(graft_error(NULL), graft_last_error()) == 0,
        "graft_error(NULL) is graft_last_error()");
  expect_bad_model("ABI version 2", abi_2, GRAFT_ERR_ABI,
                   "model 'sgd_mlp' has ABI version 2");
  expect_bad_model("no name", no_name, GRAFT_ERR_INVALID_ARGUMENT,
                   "name is NULL");
  expect_bad_model("ntensors -1", negative_count, GRAFT_ERR_INVALID_ARGUMENT,
                   "ntensors is -1");
  expect_bad_model("tensors NULL", null_tensors, GRAFT_ERR_INVALID_ARGUMENT,
                   "tensors NULL");
  expect_bad_model("nbytes -4", negative_nbytes, GRAFT_ERR_INVALID_ARGUMENT,
                   "-4 bytes");
  expect_bad_model("a parameter with an index bound", param_index_bound,
                   GRAFT_ERR_INVALID_ARGUMENT, "has index bound 3");
  expect_bad_model("naliases 1, aliases NULL", null_aliases,
                   GRAFT_ERR_INVALID_ARGUMENT, "has 1 aliases");
  expect_bad_model("nbytes INT64_MAX", huge_nbytes, GRAFT_ERR_INVALID_ARGUMENT,
                   "bytes");
  expect_bad_model("numel past nbytes", numel_past_nbytes,
                   GRAFT_ERR_INVALID_ARGUMENT, "elements");
  expect_bad_model("dtype 42", bad_dtype, GRAFT_ERR_INVALID_ARGUMENT,
                   "dtype 42");
  expect_bad_model("train_step index out of range", bad_entry_index,
                   GRAFT_ERR_INVALID_ARGUMENT, "entry point index");
  expect_bad_model("an argument index out of range", bad_entry_arg,
                   GRAFT_ERR_INVALID_ARGUMENT, "uses tensor 9999");
  expect_bad_model("an entry point without a function", null_fn,
                   GRAFT_ERR_INVALID_ARGUMENT, "is malformed");
  expect_bad_model("a negative workspace", negative_workspace,
                   GRAFT_ERR_INVALID_ARGUMENT, "is malformed");
  EXPECT(NULL, graft_destroy(NULL), GRAFT_OK, NULL);
  check(graft_model(NULL) == NULL, "graft_model(NULL) is NULL");
  check(strcmp(graft_status_string((graft_status)99), "unknown status") == 0,
        "graft_status_string of an unknown code");
  for (int s = GRAFT_OK; s <= GRAFT_ERR_INDEX; ++s)
    if (!*graft_status_string((graft_status)s) ||
        !strcmp(graft_status_string((graft_status)s), "unknown status"))
      check(0, "graft_status_string names every code");

  EXPECT(NULL, graft_create(&graft_model_sgd_mlp, &ctx), GRAFT_OK, NULL);
  EXPECT(NULL, graft_create(&graft_model_digits_mlp, &serve), GRAFT_OK, NULL);
  check(graft_model(ctx) == &graft_model_sgd_mlp, "graft_model(ctx)");
  check(strcmp(graft_error(ctx), "") == 0, "a new context has no error");
  EXPECT(ctx, graft_init(ctx, 1), GRAFT_OK, NULL);
  EXPECT(serve, graft_init(serve, 1), GRAFT_OK, NULL);

  /*--- A NULL context: every function -----------------------------------*/
  graft_context *none = NULL;
  EXPECT(none, graft_init(none, 1), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_set_seed(none, 1), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_get_seed(none, &u), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_train_step(none, &loss), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_forward_backward(none, &loss), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_zero_grad(none), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_step(none), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_eval(none, &loss), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_predict(none), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_tensor_count(none, &n), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_tensor_info(none, 0, &desc), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_find_tensor(none, GRAFT_ROLE_PARAM, "fc1.weight", &index), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_tensor_data(none, 0, &data), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_get(none, 0, w, sizeof w), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_set(none, 0, w, sizeof w), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_get_by_name(none, GRAFT_ROLE_PARAM, "fc1.weight", w, sizeof w), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_set_by_name(none, GRAFT_ROLE_PARAM, "fc1.weight", w, sizeof w), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_set_input(none, "x", w, sizeof w), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_set_lr(none, 0.1), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_set_hyper(none, "lr", 0.1), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_get_hyper(none, "lr", &lr), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_steps(none, &u), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_set_num_threads(none, 1), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_get_num_threads(none, &n), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_register_grad_hook(none, NULL, hook, NULL), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_clear_grad_hooks(none), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_set_property(none, "k", "v"), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_get_property(none, "k", &value), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_save(none, path), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_save_weights(none, path), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_load(none, path), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(none, graft_load_ex(none, path, 0, NULL, NULL), GRAFT_ERR_INVALID_ARGUMENT, "ctx is NULL");

  /*--- NULL pointers to write through or read ---------------------------*/
  EXPECT(ctx, graft_get_seed(ctx, NULL), GRAFT_ERR_INVALID_ARGUMENT, "seed is NULL");
  EXPECT(ctx, graft_tensor_count(ctx, NULL), GRAFT_ERR_INVALID_ARGUMENT, "count is NULL");
  EXPECT(ctx, graft_tensor_info(ctx, 0, NULL), GRAFT_ERR_INVALID_ARGUMENT, "desc is NULL");
  EXPECT(ctx, graft_find_tensor(ctx, GRAFT_ROLE_PARAM, "fc1.weight", NULL), GRAFT_ERR_INVALID_ARGUMENT, "index is NULL");
  EXPECT(ctx, graft_tensor_data(ctx, 0, NULL), GRAFT_ERR_INVALID_ARGUMENT, "data is NULL");
  EXPECT(ctx, graft_get(ctx, SGD_MLP_PARAM_FC1_WEIGHT, NULL, sizeof w), GRAFT_ERR_INVALID_ARGUMENT, "dst is NULL");
  EXPECT(ctx, graft_set(ctx, SGD_MLP_PARAM_FC1_WEIGHT, NULL, sizeof w), GRAFT_ERR_INVALID_ARGUMENT, "src is NULL");
  EXPECT(ctx, graft_get_by_name(ctx, GRAFT_ROLE_PARAM, "fc1.weight", NULL, sizeof w), GRAFT_ERR_INVALID_ARGUMENT, "dst is NULL");
  EXPECT(ctx, graft_set_by_name(ctx, GRAFT_ROLE_PARAM, "fc1.weight", NULL, sizeof w), GRAFT_ERR_INVALID_ARGUMENT, "src is NULL");
  EXPECT(ctx, graft_set_input(ctx, "x", NULL, SGD_MLP_INPUT_X_NBYTES), GRAFT_ERR_INVALID_ARGUMENT, "src is NULL");
  EXPECT(ctx, graft_get_hyper(ctx, "lr", NULL), GRAFT_ERR_INVALID_ARGUMENT, "value is NULL");
  EXPECT(ctx, graft_steps(ctx, NULL), GRAFT_ERR_INVALID_ARGUMENT, "steps is NULL");
  EXPECT(ctx, graft_get_num_threads(ctx, NULL), GRAFT_ERR_INVALID_ARGUMENT, "threads is NULL");
  EXPECT(ctx, graft_register_grad_hook(ctx, "fc1.weight", NULL, NULL), GRAFT_ERR_INVALID_ARGUMENT, "hook is NULL");
  EXPECT(ctx, graft_get_property(ctx, "k", NULL), GRAFT_ERR_INVALID_ARGUMENT, "value is NULL");
  /* Optional pointers may be NULL. */
  EXPECT(ctx, graft_eval(ctx, NULL), GRAFT_OK, NULL);
  EXPECT(ctx, graft_forward_backward(ctx, NULL), GRAFT_OK, NULL);
  EXPECT(ctx, graft_zero_grad(ctx), GRAFT_OK, NULL);
  EXPECT(ctx, graft_set_property(ctx, "k", NULL), GRAFT_OK, NULL);

  /*--- Names, keys, roles ----------------------------------------------*/
  EXPECT(ctx, graft_find_tensor(ctx, GRAFT_ROLE_PARAM, NULL, &index), GRAFT_ERR_INVALID_ARGUMENT, "name is NULL");
  EXPECT(ctx, graft_find_tensor(ctx, GRAFT_ROLE_PARAM, "", &index), GRAFT_ERR_INVALID_ARGUMENT, "name is empty");
  EXPECT(ctx, graft_find_tensor(ctx, GRAFT_ROLE_PARAM, "nope.weight", &index), GRAFT_ERR_NOT_FOUND, "model 'sgd_mlp' has no param tensor 'nope.weight'");
  EXPECT(ctx, graft_find_tensor(ctx, GRAFT_ROLE_BUFFER, "fc1.weight", &index), GRAFT_ERR_NOT_FOUND, "no buffer tensor 'fc1.weight'");
  EXPECT(ctx, graft_find_tensor(ctx, (graft_role)42, "fc1.weight", &index), GRAFT_ERR_INVALID_ARGUMENT, "role 42 is not a graft_role");
  EXPECT(ctx, graft_find_tensor(ctx, (graft_role)-1, "fc1.weight", &index), GRAFT_ERR_INVALID_ARGUMENT, "role -1");
  EXPECT(ctx, graft_get_by_name(ctx, GRAFT_ROLE_PARAM, NULL, w, sizeof w), GRAFT_ERR_INVALID_ARGUMENT, "name is NULL");
  EXPECT(ctx, graft_set_by_name(ctx, GRAFT_ROLE_PARAM, "", w, sizeof w), GRAFT_ERR_INVALID_ARGUMENT, "name is empty");
  EXPECT(ctx, graft_set_input(ctx, NULL, w, sizeof w), GRAFT_ERR_INVALID_ARGUMENT, "name is NULL");
  EXPECT(ctx, graft_set_input(ctx, "fc1.weight", w, sizeof w), GRAFT_ERR_NOT_FOUND, "has no input tensor 'fc1.weight'");
  EXPECT(ctx, graft_set_hyper(ctx, NULL, 0.1), GRAFT_ERR_INVALID_ARGUMENT, "name is NULL");
  EXPECT(ctx, graft_set_hyper(ctx, "", 0.1), GRAFT_ERR_INVALID_ARGUMENT, "name is empty");
  EXPECT(ctx, graft_set_hyper(ctx, "momentum", 0.1), GRAFT_ERR_NOT_FOUND, "has no hyper tensor 'momentum'");
  EXPECT(ctx, graft_get_hyper(ctx, NULL, &lr), GRAFT_ERR_INVALID_ARGUMENT, "name is NULL");
  EXPECT(ctx, graft_get_hyper(ctx, "group9.lr", &lr), GRAFT_ERR_NOT_FOUND, "'group9.lr'");
  EXPECT(ctx, graft_register_grad_hook(ctx, "", hook, NULL), GRAFT_ERR_INVALID_ARGUMENT, "name is empty");
  EXPECT(ctx, graft_register_grad_hook(ctx, "nope", hook, NULL), GRAFT_ERR_NOT_FOUND, "has no gradient of 'nope'");
  EXPECT(ctx, graft_set_property(ctx, NULL, "v"), GRAFT_ERR_INVALID_ARGUMENT, "key is NULL");
  EXPECT(ctx, graft_set_property(ctx, "", "v"), GRAFT_ERR_INVALID_ARGUMENT, "key is empty");
  {
    char *big = malloc(GRAFT_PROPERTY_VALUE_MAX + 1);
    memset(big, 'k', GRAFT_PROPERTY_VALUE_MAX);
    big[GRAFT_PROPERTY_KEY_MAX] = 0;
    EXPECT(ctx, graft_set_property(ctx, big, "v"), GRAFT_ERR_INVALID_ARGUMENT, "keys must be shorter than 1024 bytes");
    big[GRAFT_PROPERTY_KEY_MAX] = 'k';
    big[GRAFT_PROPERTY_VALUE_MAX] = 0;
    EXPECT(ctx, graft_set_property(ctx, "k", big), GRAFT_ERR_INVALID_ARGUMENT, "values must be shorter than 16384 bytes");
    free(big);
  }
  EXPECT(ctx, graft_get_property(ctx, NULL, &value), GRAFT_ERR_INVALID_ARGUMENT, "key is NULL");
  EXPECT(ctx, graft_get_property(ctx, "", &value), GRAFT_ERR_INVALID_ARGUMENT, "key is empty");
  EXPECT(ctx, graft_get_property(ctx, "epoch", &value), GRAFT_ERR_NOT_FOUND, "no property 'epoch'");
  check(value == NULL, "graft_get_property: *value is NULL when not found");

  /*--- Indices -----------------------------------------------------------*/
  EXPECT(ctx, graft_tensor_info(ctx, -1, &desc), GRAFT_ERR_INVALID_ARGUMENT, "tensor index -1 is out of range: model 'sgd_mlp' has");
  EXPECT(ctx, graft_tensor_info(ctx, SGD_MLP_TENSOR_COUNT, &desc), GRAFT_ERR_INVALID_ARGUMENT, "out of range");
  EXPECT(ctx, graft_tensor_data(ctx, INT32_MAX, &data), GRAFT_ERR_INVALID_ARGUMENT, "out of range");
  EXPECT(ctx, graft_get(ctx, -5, w, sizeof w), GRAFT_ERR_INVALID_ARGUMENT, "tensor index -5");
  EXPECT(ctx, graft_set(ctx, SGD_MLP_TENSOR_COUNT, w, sizeof w), GRAFT_ERR_INVALID_ARGUMENT, "out of range");

  /*--- Byte counts and dtypes ---------------------------------------------*/
  EXPECT(ctx, graft_get(ctx, SGD_MLP_PARAM_FC1_WEIGHT, before, sizeof before), GRAFT_OK, NULL);
  EXPECT(ctx, graft_get(ctx, SGD_MLP_PARAM_FC1_WEIGHT, w, sizeof w - 1), GRAFT_ERR_SIZE, "nbytes is 767, but param 'fc1.weight' (f32[16, 12]) has 768 bytes");
  EXPECT(ctx, graft_get(ctx, SGD_MLP_PARAM_FC1_WEIGHT, w, 0), GRAFT_ERR_SIZE, "nbytes is 0");
  EXPECT(ctx, graft_get(ctx, SGD_MLP_PARAM_FC1_WEIGHT, w, (size_t)-1), GRAFT_ERR_SIZE, "nbytes is 18446744073709551615");
  EXPECT(ctx, graft_set(ctx, SGD_MLP_PARAM_FC1_WEIGHT, w, sizeof w + 1), GRAFT_ERR_SIZE, "nbytes is 769");
  EXPECT(ctx, graft_set(ctx, SGD_MLP_PARAM_FC1_WEIGHT, wide, sizeof wide), GRAFT_ERR_SIZE, "nbytes is 1536, but param 'fc1.weight' (f32[16, 12])");
  EXPECT(ctx, graft_set_input(ctx, "y", narrow, sizeof narrow), GRAFT_ERR_SIZE, "input 'y' (i64[8]) has 64 bytes");
  EXPECT(ctx, graft_get_by_name(ctx, GRAFT_ROLE_HYPER, "lr", w, 4), GRAFT_ERR_SIZE, "hyper 'lr' (f64[]) has 8 bytes");
  EXPECT(ctx, graft_get(ctx, SGD_MLP_PARAM_FC1_WEIGHT, w, sizeof w), GRAFT_OK, NULL);
  check(memcmp(w, before, sizeof w) == 0, "failed sets changed nothing");
  /* The storage itself may be the source or destination. */
  EXPECT(ctx, graft_tensor_data(ctx, SGD_MLP_PARAM_FC1_WEIGHT, &data), GRAFT_OK, NULL);
  EXPECT(ctx, graft_set(ctx, SGD_MLP_PARAM_FC1_WEIGHT, data, sizeof w), GRAFT_OK, NULL);
  EXPECT(ctx, graft_get(ctx, SGD_MLP_PARAM_FC1_WEIGHT, data, sizeof w), GRAFT_OK, NULL);

  /*--- Results are read-only ---------------------------------------------*/
  EXPECT(ctx, graft_set(ctx, SGD_MLP_LOSS_LOSS, w, SGD_MLP_LOSS_LOSS_NBYTES), GRAFT_ERR_READ_ONLY, "loss 'loss' (f32[]) is a result of the model");
  EXPECT(ctx, graft_set(ctx, SGD_MLP_OUTPUT_LOGITS, w, SGD_MLP_OUTPUT_LOGITS_NBYTES), GRAFT_ERR_READ_ONLY, "output 'logits'");
  EXPECT(ctx, graft_set(ctx, SGD_MLP_RETAINED_GRAD_H, w, SGD_MLP_RETAINED_GRAD_H_NBYTES), GRAFT_ERR_READ_ONLY, "retained_grad 'h'");
  EXPECT(ctx, graft_set_by_name(ctx, GRAFT_ROLE_HOOK, "h", w, SGD_MLP_HOOK_H_NBYTES), GRAFT_ERR_READ_ONLY, "hook 'h'");

  /*--- Hyper-parameters torch.optim rejects, through every setter --------*/
  EXPECT(ctx, graft_set_lr(ctx, -1), GRAFT_ERR_INVALID_ARGUMENT, "Invalid learning rate: -1");
  EXPECT(ctx, graft_set_lr(ctx, NAN), GRAFT_ERR_INVALID_ARGUMENT, "Invalid learning rate: nan");
  EXPECT(ctx, graft_set_hyper(ctx, "group1.lr", INFINITY), GRAFT_ERR_INVALID_ARGUMENT, "Invalid learning rate: inf");
  EXPECT(ctx, graft_set(ctx, SGD_MLP_HYPER_LR, &negative, sizeof negative), GRAFT_ERR_INVALID_ARGUMENT, "Invalid learning rate: -1");
  EXPECT(ctx, graft_set_by_name(ctx, GRAFT_ROLE_HYPER, "group1.lr", &nan, sizeof nan), GRAFT_ERR_INVALID_ARGUMENT, "Invalid learning rate: nan");
  EXPECT(ctx, graft_get_hyper(ctx, "lr", &lr), GRAFT_OK, NULL);
  check(lr == 0.1, "rejected learning rates changed nothing");

  /*--- Another model's tensors, names and checkpoints ---------------------*/
  EXPECT(serve, graft_get(serve, SGD_MLP_INPUT_X, w, SGD_MLP_INPUT_X_NBYTES), GRAFT_ERR_INVALID_ARGUMENT, "is out of range: model 'digits_mlp' has 6 tensors");
  EXPECT(serve, graft_get(serve, SGD_MLP_PARAM_FC1_WEIGHT, w, sizeof w), GRAFT_ERR_SIZE, "param 'hidden.weight' (f32[64, 64]) has 16384 bytes");
  EXPECT(ctx, graft_get_by_name(ctx, GRAFT_ROLE_PARAM, "hidden.weight", w, sizeof w), GRAFT_ERR_NOT_FOUND, "model 'sgd_mlp' has no param tensor 'hidden.weight'");
  EXPECT(ctx, graft_save(ctx, path), GRAFT_OK, NULL);
  EXPECT(serve, graft_save(serve, serve_path), GRAFT_OK, NULL);
  EXPECT(serve, graft_load(serve, path), GRAFT_ERR_NOT_FOUND, "is not a parameter or buffer of model 'digits_mlp'");
  EXPECT(ctx, graft_load(ctx, serve_path), GRAFT_ERR_NOT_FOUND, "of model 'sgd_mlp'");
  /* Non-strict, nothing in common: every name skipped, nothing loaded. */
  EXPECT(ctx, graft_load_ex(ctx, serve_path, GRAFT_LOAD_NON_STRICT, report, NULL), GRAFT_OK, NULL);
  EXPECT(ctx, graft_get(ctx, SGD_MLP_PARAM_FC1_WEIGHT, w, sizeof w), GRAFT_OK, NULL);
  check(memcmp(w, before, sizeof w) == 0, "failed loads changed nothing");

  /*--- Entry points the model lacks ----------------------------------------*/
  EXPECT(serve, graft_train_step(serve, &loss), GRAFT_ERR_UNSUPPORTED, "model 'digits_mlp' has no train_step entry point");
  EXPECT(serve, graft_forward_backward(serve, &loss), GRAFT_ERR_UNSUPPORTED, "has no forward_backward entry point");
  EXPECT(serve, graft_zero_grad(serve), GRAFT_ERR_UNSUPPORTED, "has no zero_grad entry point");
  EXPECT(serve, graft_step(serve), GRAFT_ERR_UNSUPPORTED, "has no step entry point");
  EXPECT(serve, graft_eval(serve, &loss), GRAFT_ERR_UNSUPPORTED, "model 'digits_mlp' has no loss");
  EXPECT(serve, graft_eval(serve, NULL), GRAFT_OK, NULL);
  EXPECT(serve, graft_predict(serve), GRAFT_OK, NULL);
  EXPECT(serve, graft_set_lr(serve, 0.1), GRAFT_ERR_NOT_FOUND, "model 'digits_mlp' has no learning rate");
  EXPECT(serve, graft_register_grad_hook(serve, "hidden.weight", hook, NULL), GRAFT_ERR_NOT_FOUND, "no gradient of 'hidden.weight'");
  EXPECT(serve, graft_register_grad_hook(serve, NULL, hook, NULL), GRAFT_OK, NULL);
  EXPECT(serve, graft_train_step(serve, &loss), GRAFT_ERR_UNSUPPORTED, "has no train_step entry point");
  EXPECT(serve, graft_clear_grad_hooks(serve), GRAFT_OK, NULL);

  /*--- Paths and flags ------------------------------------------------------*/
  EXPECT(ctx, graft_save(ctx, NULL), GRAFT_ERR_INVALID_ARGUMENT, "path is NULL");
  EXPECT(ctx, graft_save(ctx, ""), GRAFT_ERR_INVALID_ARGUMENT, "path is empty");
  EXPECT(ctx, graft_save_weights(ctx, NULL), GRAFT_ERR_INVALID_ARGUMENT, "path is NULL");
  EXPECT(ctx, graft_save_weights(ctx, ""), GRAFT_ERR_INVALID_ARGUMENT, "path is empty");
  EXPECT(ctx, graft_load(ctx, NULL), GRAFT_ERR_INVALID_ARGUMENT, "path is NULL");
  EXPECT(ctx, graft_load(ctx, ""), GRAFT_ERR_INVALID_ARGUMENT, "path is empty");
  EXPECT(ctx, graft_load_ex(ctx, NULL, 0, NULL, NULL), GRAFT_ERR_INVALID_ARGUMENT, "path is NULL");
  EXPECT(ctx, graft_load_ex(ctx, path, 0x80, NULL, NULL), GRAFT_ERR_INVALID_ARGUMENT, "unknown flags 0x80");
  EXPECT(ctx, graft_load(ctx, missing), GRAFT_ERR_IO, "no-such-dir/x.safetensors");
  EXPECT(ctx, graft_save(ctx, missing), GRAFT_ERR_IO, "no-such-dir/x.safetensors");
  EXPECT(ctx, graft_save_weights(ctx, missing), GRAFT_ERR_IO, "no-such-dir/x.safetensors");
  EXPECT(ctx, graft_load_ex(ctx, path, GRAFT_LOAD_NON_STRICT, NULL, NULL), GRAFT_OK, NULL);

  /*--- Messages per context and per thread ----------------------------------*/
  EXPECT(ctx, graft_find_tensor(ctx, GRAFT_ROLE_PARAM, "only-in-ctx", &index), GRAFT_ERR_NOT_FOUND, "only-in-ctx");
  EXPECT(serve, graft_find_tensor(serve, GRAFT_ROLE_PARAM, "only-in-serve", &index), GRAFT_ERR_NOT_FOUND, "only-in-serve");
  EXPECT(ctx, graft_steps(ctx, &u), GRAFT_OK, NULL);
  check(strstr(graft_error(ctx), "only-in-ctx") != NULL,
        "graft_error(ctx): the last failure on ctx, kept over other contexts' "
        "failures and its own successful calls");
  check(strstr(graft_error(serve), "only-in-serve") != NULL,
        "graft_error(serve): the last failure on serve");
  check(strstr(graft_last_error(), "only-in-serve") != NULL,
        "graft_last_error(): the thread's last failure");
  EXPECT(NULL, graft_create(NULL, &none), GRAFT_ERR_INVALID_ARGUMENT, "model is NULL");
  check(strstr(graft_error(ctx), "only-in-ctx") != NULL,
        "graft_create's failure is the thread's, not a context's");

  /*--- Data the model cannot take ------------------------------------------*/
  /* A class index outside [0, 5) is PyTorch's "Target 5 is out of bounds":
   * refused before the step (GRAFT_ERR_INDEX), which computes nothing, never
   * a loss computed from memory outside the logits. */
  {
    int64_t labels[8] = {0, 1, 2, 3, 4, 0, 1, 5};
    float inputs[8 * 12] = {0};
    double lossValue = 0;
    EXPECT(ctx, graft_set_input(ctx, "x", inputs, sizeof inputs), GRAFT_OK, NULL);
    EXPECT(ctx, graft_set_input(ctx, "y", labels, sizeof labels), GRAFT_OK, NULL);
    EXPECT(ctx, graft_forward_backward(ctx, &lossValue), GRAFT_ERR_INDEX,
           "input 'y' holds 5 at [7], outside [0, 5)");
    check(lossValue == 0, "a refused step leaves the loss unwritten");
    labels[7] = -3;
    EXPECT(ctx, graft_set_input(ctx, "y", labels, sizeof labels), GRAFT_OK, NULL);
    EXPECT(ctx, graft_forward_backward(ctx, &lossValue), GRAFT_ERR_INDEX,
           "Target -3 is out of bounds.");
    labels[7] = 4;
    EXPECT(ctx, graft_set_input(ctx, "y", labels, sizeof labels), GRAFT_OK, NULL);
    EXPECT(ctx, graft_forward_backward(ctx, &lossValue), GRAFT_OK, NULL);
    check(lossValue == lossValue, "in-range class indices give a finite loss");
  }

  EXPECT(ctx, graft_destroy(ctx), GRAFT_OK, NULL);
  EXPECT(serve, graft_destroy(serve), GRAFT_OK, NULL);
  printf("contract: %d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
