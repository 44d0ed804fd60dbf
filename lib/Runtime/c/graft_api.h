/*===- graft_api.h - The C API of a library built by `graft compile` -------===*
 *
 * Every NAME.h that `graft compile` writes starts with this text: the types
 * and functions shared by all models (implemented by the small C runtime in
 * libNAME.a), followed by the model's own descriptor, tensor table and
 * helpers. See docs/CAPI.md.
 *
 *===----------------------------------------------------------------------===*/
#ifndef GRAFT_API_H
#define GRAFT_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GRAFT_ABI_VERSION 5

/* Every function returns one of these. On an error the message, which
 * starts with the function's name and names the bad argument
 * ("graft_get: nbytes is 8, but param 'fc1.weight' (f32[16, 12]) has 768
 * bytes"), is kept per context (graft_error) and per thread
 * (graft_last_error).
 *
 * The contract (docs/CAPI.md#the-contract-arguments-and-errors): every
 * function checks its arguments before it changes
 * anything and returns GRAFT_ERR_INVALID_ARGUMENT for a NULL context or
 * NULL pointer it must write through or read, a NULL or empty name, key
 * or path, a tensor index out of range or a role that is not a graft_role;
 * GRAFT_ERR_SIZE for a byte count that is not the tensor's (a buffer of
 * another dtype or shape); GRAFT_ERR_NOT_FOUND for a name the model lacks
 * (a name of another model); GRAFT_ERR_UNSUPPORTED for an entry point the
 * model lacks. Pointers documented as optional (loss, a hook's name, a
 * property's value, a load report) may be NULL. graft_destroy(NULL) does
 * nothing, like free(NULL). Not detected, the caller's bug: a context used
 * after graft_destroy, a pointer that is not NULL but not valid, a buffer
 * smaller than the nbytes passed, a context used by two threads at once,
 * an index of another model's header that is in range for this one.
 *
 * Each function, and the codes it returns besides GRAFT_OK
 * (INVALID_ARGUMENT always for a NULL ctx, then for the arguments named):
 *   graft_create            INVALID_ARGUMENT (model, out, a malformed
 *                           descriptor), ABI, CPU, OUT_OF_MEMORY
 *   graft_destroy           none (NULL is fine)
 *   graft_init, graft_set_seed, graft_set_num_threads,
 *   graft_clear_grad_hooks  INVALID_ARGUMENT
 *   graft_get_seed, graft_get_num_threads, graft_steps,
 *   graft_tensor_count      INVALID_ARGUMENT (the result pointer)
 *   graft_train_step, graft_forward_backward
 *                           UNSUPPORTED, NONFINITE, NO_DEVICE, DEVICE
 *   graft_zero_grad, graft_step, graft_predict
 *                           UNSUPPORTED, NO_DEVICE, DEVICE
 *   graft_eval              UNSUPPORTED (also: loss given, model has none),
 *                           NO_DEVICE, DEVICE
 *   graft_tensor_info, graft_tensor_data
 *                           INVALID_ARGUMENT (index, the result pointer)
 *   graft_find_tensor       INVALID_ARGUMENT (role, name, index), NOT_FOUND
 *   graft_get               INVALID_ARGUMENT (index, dst), SIZE
 *   graft_set               INVALID_ARGUMENT (index, src, a rejected
 *                           hyper-parameter value), READ_ONLY, SIZE
 *   graft_get_by_name, graft_set_by_name, graft_set_input
 *                           those of graft_find_tensor and graft_get/set
 *   graft_set_lr            INVALID_ARGUMENT (lr), NOT_FOUND
 *   graft_set_hyper, graft_get_hyper
 *                           INVALID_ARGUMENT (name, value), NOT_FOUND
 *   graft_register_grad_hook
 *                           INVALID_ARGUMENT (empty name, hook), NOT_FOUND,
 *                           OUT_OF_MEMORY
 *   graft_set_property      INVALID_ARGUMENT (key, lengths), OUT_OF_MEMORY
 *   graft_get_property      INVALID_ARGUMENT (key, value), NOT_FOUND
 *   graft_save, graft_save_weights
 *                           INVALID_ARGUMENT (path), IO, OUT_OF_MEMORY
 *   graft_load, graft_load_ex
 *                           INVALID_ARGUMENT (path, flags), IO, FORMAT,
 *                           NOT_FOUND, SIZE, DTYPE, OUT_OF_MEMORY
 *   graft_dist_init         INVALID_ARGUMENT (comm), UNSUPPORTED (a
 *                           gradient neither f32 nor f64, state resident
 *                           on a GPU), OUT_OF_MEMORY, DIST
 *   graft_dist_rank         INVALID_ARGUMENT (rank, size)
 *   distributed, graft_train_step and graft_step also DIST
 *
 * Threads: distinct contexts (of one model or several) may be used from
 * different threads at the same time; one context must not be used by two
 * threads at once, not even through functions taking a const context (they
 * record errors in it). Descriptors are constant. */
typedef enum graft_status {
  GRAFT_OK = 0,
  GRAFT_ERR_INVALID_ARGUMENT = 1, /* NULL pointer, empty name, index or
                                     role out of range, rejected value */
  GRAFT_ERR_NOT_FOUND = 2,        /* no tensor of that role and name */
  GRAFT_ERR_SIZE = 3,             /* byte count or shape does not match */
  GRAFT_ERR_DTYPE = 4,            /* dtype does not match */
  GRAFT_ERR_IO = 5,               /* a file could not be opened/read/written */
  GRAFT_ERR_FORMAT = 6,           /* not a valid safetensors file */
  GRAFT_ERR_OUT_OF_MEMORY = 7,
  GRAFT_ERR_UNSUPPORTED = 8,      /* the model has no such entry point */
  GRAFT_ERR_READ_ONLY = 9,        /* the tensor is a result of the model */
  GRAFT_ERR_ABI = 10,             /* header and runtime versions differ */
  GRAFT_ERR_NO_DEVICE = 11,       /* no CUDA driver or GPU (--target=cuda) */
  GRAFT_ERR_DEVICE = 12,          /* a CUDA call failed (--target=cuda) */
  GRAFT_ERR_CPU = 13,             /* this CPU lacks a feature the library
                                     was compiled for (graft_create) */
  GRAFT_ERR_NONFINITE = 14,       /* the loss is NaN or infinite */
  GRAFT_ERR_INDEX = 15,           /* an integer input holds a value out of
                                     its range (graft_tensor_desc.index_*):
                                     PyTorch's IndexError */
  GRAFT_ERR_DIST = 16             /* data-parallel training: a collective
                                     failed, or another rank's step did */
} graft_status;

/* What a tensor of the context is. */
typedef enum graft_role {
  GRAFT_ROLE_PARAM = 0,        /* a parameter (state_dict name) */
  GRAFT_ROLE_BUFFER = 1,       /* a buffer, e.g. running statistics */
  GRAFT_ROLE_GRAD = 2,         /* the accumulated gradient of a parameter */
  GRAFT_ROLE_OPT_STATE = 3,    /* optimizer state ("step", "<p>.exp_avg") */
  GRAFT_ROLE_HYPER = 4,        /* a run-time hyper-parameter (learning rates) */
  GRAFT_ROLE_SEED = 5,         /* the per-step random seed (dropout) */
  GRAFT_ROLE_INPUT = 6,        /* a model input */
  GRAFT_ROLE_LOSS = 7,         /* the loss (result) */
  GRAFT_ROLE_OUTPUT = 8,       /* a model output (result) */
  GRAFT_ROLE_INPUT_GRAD = 9,   /* gradient of an input with requires_grad */
  GRAFT_ROLE_RETAINED_GRAD = 10, /* gradient of a retain_grad'ed value */
  GRAFT_ROLE_HOOK = 11         /* a hook point inside the backward: the
                                  gradient of a register_hook'ed or
                                  retain_grad'ed value, passed to its hooks
                                  while the backward runs; its storage
                                  reads as zeros (read-only) */
} graft_role;

typedef enum graft_dtype {
  GRAFT_DTYPE_F32 = 0,
  GRAFT_DTYPE_F64 = 1,
  GRAFT_DTYPE_BF16 = 2,
  GRAFT_DTYPE_I64 = 3,
  GRAFT_DTYPE_I32 = 4,
  GRAFT_DTYPE_BOOL = 5
} graft_dtype;

/* How graft_init fills a tensor: the model's torch.nn.init initialiser,
 * resolved at compile time (fans, gain) to a distribution. */
typedef enum graft_init_dist {
  GRAFT_INIT_ZERO = 0,        /* zeros (gradients, optimizer state, outputs) */
  GRAFT_INIT_CONSTANT = 1,    /* init_p0 */
  GRAFT_INIT_UNIFORM = 2,     /* U(init_p0, init_p1) */
  GRAFT_INIT_NORMAL = 3,      /* N(mean init_p0, std init_p1) */
  GRAFT_INIT_TRUNC_NORMAL = 4 /* N(mean init_p0, std init_p1) truncated to
                                 [init_p2, init_p3] */
} graft_init_dist;

/* One tensor of a model: the header's table describes each. */
typedef struct graft_tensor_desc {
  const char *name;    /* state_dict name ("fc1.weight"), or input name */
  int32_t role;        /* graft_role */
  int32_t dtype;       /* graft_dtype */
  int32_t rank;
  int32_t init_dist;   /* graft_init_dist */
  const int64_t *shape;
  int64_t numel;
  int64_t nbytes;
  double init_p0, init_p1, init_p2, init_p3;
  const char *init;    /* the initialiser as written, e.g. "kaiming_uniform{a = 2.23...}" */
  int32_t frozen;      /* a frozen parameter: no gradient, never updated */
  /* An integer input that the model reads as positions (embedding rows,
   * loss classes): every value must lie in [0, index_bound), or equal
   * index_ignored when has_index_ignored (a loss's ignore_index). Every
   * step checks this before it runs (GRAFT_ERR_INDEX) and changes nothing
   * when it fails. index_bound is 0 for any other tensor. */
  int32_t has_index_ignored;
  int64_t index_bound;
  int64_t index_ignored;
  const char *index_use; /* what it indexes, where, and PyTorch's error
                            ("the rows of graft.embedding at gpt.graft:9:7
                            (IndexError: index out of range in self)");
                            NULL when index_bound is 0 */
  /* A tied parameter's further state_dict names (nanoGPT's lm_head.weight,
   * the parameter transformer.wte.weight): checkpoints hold its data under
   * each name and load it from any; the name lookups find it by any. */
  int32_t naliases;
  const char *const *aliases;
} graft_tensor_desc;

/* A compiled entry point: `fn` takes one data pointer per argument, then
 * one per result (bare pointers, row-major, dense), then the workspace:
 * `workspace_bytes` of scratch, 64-byte aligned, where the step's
 * temporaries live at offsets planned at compile time. A state result (a
 * parameter, buffer, gradient or optimizer state) may be given the same
 * pointer as the argument of the same role and name: the generated code
 * reads every argument before it writes such a result. */
typedef struct graft_entry_desc {
  const char *name;
  void (*fn)(void **pointers);
  int32_t nargs, nresults;
  const int32_t *args;    /* tensor index of each argument */
  const int32_t *results; /* tensor index of each result */
  int64_t workspace_bytes;
} graft_entry_desc;

typedef struct graft_model_desc {
  const char *name;
  int32_t ntensors, nentries;
  const graft_tensor_desc *tensors;
  const graft_entry_desc *entries;
  /* Index into `entries`, or -1 when the model has no such entry point. */
  int32_t forward_backward, zero_grad, step, train_step, eval, predict;
  int32_t abi_version;
  /* The train block's accumulation_steps: the default of step's
   * "accumulation_steps" hyper-parameter, which it divides gradients by. */
  int32_t accumulation_steps;
  /* The CPU the code was compiled for and the instruction-set extensions
   * it may use ("avx2,fma,avx512f,..."): graft_create refuses a CPU that
   * lacks one (GRAFT_ERR_CPU) instead of dying on an illegal instruction. */
  const char *target_cpu;
  const char *target_features;
} graft_model_desc;

typedef struct graft_context graft_context;

/* A gradient hook. On a hook point (GRAFT_ROLE_HOOK: a value marked
 * register_hook("name") or retain_grad() in the model) the generated code
 * calls it while the backward runs, with the gradient of that value; what
 * the hook leaves in `data` is what flows on, upstream (PyTorch's
 * h.register_hook on a non-leaf), and what a retained gradient reports. It
 * runs in forward_backward and in the fused train_step alike. On a
 * parameter (GRAFT_ROLE_GRAD) the runtime calls it after forward_backward
 * with that backward's gradient (before it is added to the gradient
 * accumulated earlier, as PyTorch's Tensor hooks); it may modify `data` in
 * place, and step() then uses the accumulated, modified value. While a
 * hook on a parameter (or one registered for every name) is registered,
 * train_step runs as zero_grad, forward_backward (calling them) and step,
 * with step's accumulation_steps at 1 for that call (the fused step's
 * computation: train_step takes one batch). */
typedef void (*graft_grad_hook)(const char *name, graft_role role, void *data,
                                const graft_tensor_desc *desc, void *user);

/* Called by the generated code at a hook point, during a step, with the
 * hook point's name and a private copy of the gradient, which it passes to
 * the hooks registered for it on the running context (none outside a
 * step). Not for applications. */
void graft_run_hook(const char *name, void *data);

#define GRAFT_MAX_HOOKS 32

/* The message of the calling thread's last error ("" if none): of any
 * call, e.g. graft_create, which has no context yet. */
const char *graft_last_error(void);
/* The message of the last call on `ctx` that failed ("" if none), owned by
 * the context and valid until its next failing call or graft_destroy; a
 * NULL ctx gives graft_last_error(). */
const char *graft_error(const graft_context *ctx);
const char *graft_status_string(graft_status status);

/* Context: every tensor of the model in memory allocated once, here. */
graft_status graft_create(const graft_model_desc *model, graft_context **out);
graft_status graft_destroy(graft_context *ctx);
const graft_model_desc *graft_model(const graft_context *ctx);

/* Parameters and buffers from `seed` (the numbers graft train uses),
 * gradients, optimizer state and the step count zeroed, learning rates
 * set to the model's, the dropout seed set to `seed`. (graft_create
 * already sets the learning rates and other hyper-parameters to the
 * model's, so create + load trains as the model says.) */
graft_status graft_init(graft_context *ctx, uint64_t seed);

/* The seed of the training steps' random numbers (dropout): step k (k =
 * steps taken) draws from seed * 1000003 + k. graft_set_seed changes it
 * without touching any tensor; checkpoints record it. */
graft_status graft_set_seed(graft_context *ctx, uint64_t seed);
graft_status graft_get_seed(const graft_context *ctx, uint64_t *seed);

/* Steps. Inputs are set beforehand (graft_set_input, graft_tensor_data).
 * `loss` may be NULL. The seed argument of each training step is
 * seed * 1000003 + steps taken, as in graft train. A training step whose
 * loss is NaN or infinite returns GRAFT_ERR_NONFINITE (the step counts):
 * its gradients are not finite, and after graft_train_step the parameters
 * neither; graft_train_step with hooks registered stops before the update. */
graft_status graft_train_step(graft_context *ctx, double *loss);
graft_status graft_forward_backward(graft_context *ctx, double *loss);
graft_status graft_zero_grad(graft_context *ctx);
graft_status graft_step(graft_context *ctx);
graft_status graft_eval(graft_context *ctx, double *loss);
graft_status graft_predict(graft_context *ctx);

/* Tensors, by index (0 .. count-1, as listed in the header) or by role
 * and name. Byte counts must equal the tensor's nbytes. */
graft_status graft_tensor_count(const graft_context *ctx, int32_t *count);
graft_status graft_tensor_info(const graft_context *ctx, int32_t index,
                               const graft_tensor_desc **desc);
graft_status graft_find_tensor(const graft_context *ctx, graft_role role,
                               const char *name, int32_t *index);
/* The tensor's storage, owned by the context, stable until destroy. */
graft_status graft_tensor_data(graft_context *ctx, int32_t index, void **data);
graft_status graft_get(const graft_context *ctx, int32_t index, void *dst,
                       size_t nbytes);
graft_status graft_set(graft_context *ctx, int32_t index, const void *src,
                       size_t nbytes);
graft_status graft_get_by_name(const graft_context *ctx, graft_role role,
                               const char *name, void *dst, size_t nbytes);
graft_status graft_set_by_name(graft_context *ctx, graft_role role,
                               const char *name, const void *src,
                               size_t nbytes);
graft_status graft_set_input(graft_context *ctx, const char *name,
                             const void *src, size_t nbytes);

/* Hyper-parameters: every learning rate ("lr", "group<i>.lr"), or one.
 * Values torch.optim rejects are GRAFT_ERR_INVALID_ARGUMENT: a learning
 * rate that is negative or not finite, accumulation_steps below 1, any
 * value that is not finite. */
graft_status graft_set_lr(graft_context *ctx, double lr);
graft_status graft_set_hyper(graft_context *ctx, const char *name,
                             double value);
graft_status graft_get_hyper(const graft_context *ctx, const char *name,
                             double *value);
/* The steps taken (train_step and forward_backward calls since init). */
graft_status graft_steps(const graft_context *ctx, uint64_t *steps);

/* Threads. The CPU code splits matrix products and large loops across the
 * runtime's own thread pool (link -pthread) by disjoint outputs, so results
 * are bit-identical whatever the count. `threads` <= 0 restores the default
 * (GRAFT_NUM_THREADS, else OMP_NUM_THREADS, else one per online core). It
 * applies to this context's steps, on the thread that calls them; the
 * application's own OpenMP settings are never touched. Loops too small to
 * be worth threads, and CUDA libraries' kernels, run on the calling
 * thread (or the GPU) whatever the count. */
graft_status graft_set_num_threads(graft_context *ctx, int32_t threads);
graft_status graft_get_num_threads(const graft_context *ctx, int32_t *threads);

/* Gradient hooks: on a parameter's gradient, a hook point or a retained
 * gradient, by name; `name` NULL matches every gradient and hook point. */
graft_status graft_register_grad_hook(graft_context *ctx, const char *name,
                                      graft_grad_hook hook, void *user);
graft_status graft_clear_grad_hooks(graft_context *ctx);

/* User properties: strings saved with (and loaded from) full checkpoints,
 * e.g. an epoch or a data-loader position. A NULL value removes the key.
 * graft_get_property's string is the context's, valid until the key is
 * set again or the context loads a checkpoint or is destroyed. */
#define GRAFT_PROPERTY_KEY_MAX 1024
#define GRAFT_PROPERTY_VALUE_MAX 16384
graft_status graft_set_property(graft_context *ctx, const char *key,
                                const char *value);
graft_status graft_get_property(const graft_context *ctx, const char *key,
                                const char **value);

/* safetensors checkpoints: parameters and buffers under their state_dict
 * names, optimizer state under "optimizer.<name>", and in __metadata__ the
 * run state: steps taken, the seed, every hyper-parameter, the user
 * properties (docs/CAPI.md). A context that loads it and trains N steps
 * computes exactly what the run that saved it would have.
 * graft_save_weights writes parameters and buffers only (a state_dict).
 * Loading checks every name, dtype, shape and byte range before it
 * changes anything; a full checkpoint also restores the run state. */
graft_status graft_save(const graft_context *ctx, const char *path);
graft_status graft_save_weights(const graft_context *ctx, const char *path);
graft_status graft_load(graft_context *ctx, const char *path);

/* graft_load with PyTorch's load_state_dict(strict=False): with
 * GRAFT_LOAD_NON_STRICT, a tensor the model lacks is skipped and one the
 * file lacks keeps the context's value, each reported to `report` (may be
 * NULL) as GRAFT_LOAD_UNEXPECTED or GRAFT_LOAD_MISSING; shapes and dtypes
 * must still match. flags 0 is graft_load. */
#define GRAFT_LOAD_NON_STRICT 1u
typedef enum graft_load_issue {
  GRAFT_LOAD_MISSING = 0,
  GRAFT_LOAD_UNEXPECTED = 1
} graft_load_issue;
typedef void (*graft_load_report)(const char *name, graft_load_issue issue,
                                  void *user);
graft_status graft_load_ex(graft_context *ctx, const char *path,
                           uint32_t flags, graft_load_report report,
                           void *user);

/* Data-parallel training (docs/Distributed.md): N processes (ranks), each
 * with a context of the same model and its own batches, take the same
 * optimizer steps. A step sums the ranks' gradients in rank order, with a
 * reduce-scatter and all-gather built on the communicator's alltoall and
 * allgather, so every rank holds the same bits, and they are the bits one
 * process computes accumulating the N batches as N micro-batches (the
 * model's accumulation_steps times N): N ranks of batch b train exactly as
 * one process on the N*b batch in micro-batches. The transport is the
 * application's: MPI (graft_dist_init_mpi below), NCCL, Gloo or its own.
 *
 * A communicator. Every byte count passed to its functions is a multiple
 * of 64; each returns 0 on success, anything else is GRAFT_ERR_DIST. */
typedef struct graft_comm {
  int32_t rank, size; /* this process's rank in [0, size) */
  /* Rank r's `nbytes` at send + j * nbytes arrive at rank j's
   * recv + r * nbytes, for every j (MPI_Alltoall). */
  int (*alltoall)(const void *send, void *recv, size_t nbytes, void *user);
  /* Every rank's `nbytes` at send arrive at recv + r * nbytes on every
   * rank (MPI_Allgather). */
  int (*allgather)(const void *send, void *recv, size_t nbytes, void *user);
  /* Rank root's `nbytes` at data arrive at data on every rank (MPI_Bcast). */
  int (*broadcast)(void *data, size_t nbytes, int32_t root, void *user);
  /* Called when the context lets the communicator go (graft_destroy, or a
   * later graft_dist_init); may be NULL. */
  void (*release)(void *user);
  void *user;
} graft_comm;

/* Makes ctx rank comm->rank of comm->size and copies rank 0's parameters,
 * buffers, optimizer state, hyper-parameters, seed and step count to every
 * rank: call it on every rank, after graft_init or graft_load. The context
 * keeps a copy of *comm and, on success, owns comm->user (its release is
 * called once the context lets it go); on failure the context is a single
 * process and the caller still owns it. NULL makes the context a single
 * process again. Then:
 *  - graft_train_step runs zero_grad, forward_backward on this rank's
 *    batch, and a step on the gradients summed over the ranks and divided
 *    by size (after the model's own accumulation_steps): the fused
 *    train_step is not used. Its loss is the mean over the ranks; a rank
 *    whose step fails (a bad index, a non-finite loss anywhere) makes
 *    every rank's step fail alike, before any update.
 *  - graft_forward_backward accumulates this rank's gradients only, as
 *    before; graft_step sums them over the ranks first (and divides by
 *    accumulation_steps times size).
 *  - step k of rank r draws dropout from seed * 1000003 + k * size + r:
 *    the ranks' streams differ, and are those of the one process.
 *  - after each step the buffers (batch norm's running statistics) are
 *    rank 0's on every rank, as DDP's broadcast_buffers.
 *  - graft_save and graft_save_weights write on rank 0 only (the others
 *    return GRAFT_OK); every rank may graft_load the file, then calls
 *    graft_dist_init again (or loads the same file).
 * Every rank must make the same calls in the same order, or the
 * communicator's collectives wait for each other. */
graft_status graft_dist_init(graft_context *ctx, const graft_comm *comm);
/* This context's rank and the number of ranks (0 and 1 when not
 * distributed). */
graft_status graft_dist_rank(const graft_context *ctx, int32_t *rank,
                             int32_t *size);

/* Including <mpi.h> before this header adds graft_dist_init_mpi: the
 * context's communicator on a duplicate of `comm` (errors returned, not
 * fatal), freed when the context lets it go; and graft_comm_from_mpi, the
 * communicator alone. Define GRAFT_NO_MPI to leave them out. The library
 * itself never links MPI. */
#if defined(MPI_VERSION) && !defined(GRAFT_NO_MPI)
#include <stdlib.h>
static int graft_mpi_block_(MPI_Datatype *t) {
  return MPI_Type_contiguous(64, MPI_BYTE, t) != MPI_SUCCESS ||
         MPI_Type_commit(t) != MPI_SUCCESS;
}
static int graft_mpi_alltoall_(const void *send, void *recv, size_t nbytes,
                               void *user) {
  MPI_Datatype t;
  if (nbytes / 64 > 0x7fffffff || graft_mpi_block_(&t))
    return 1;
  int n = (int)(nbytes / 64);
  int rc = MPI_Alltoall(send, n, t, recv, n, t, *(MPI_Comm *)user);
  MPI_Type_free(&t);
  return rc != MPI_SUCCESS;
}
static int graft_mpi_allgather_(const void *send, void *recv, size_t nbytes,
                                void *user) {
  MPI_Datatype t;
  if (nbytes / 64 > 0x7fffffff || graft_mpi_block_(&t))
    return 1;
  int n = (int)(nbytes / 64);
  int rc = MPI_Allgather(send, n, t, recv, n, t, *(MPI_Comm *)user);
  MPI_Type_free(&t);
  return rc != MPI_SUCCESS;
}
static int graft_mpi_broadcast_(void *data, size_t nbytes, int32_t root,
                                void *user) {
  MPI_Datatype t;
  if (nbytes / 64 > 0x7fffffff || graft_mpi_block_(&t))
    return 1;
  int rc = MPI_Bcast(data, (int)(nbytes / 64), t, root, *(MPI_Comm *)user);
  MPI_Type_free(&t);
  return rc != MPI_SUCCESS;
}
static void graft_mpi_release_(void *user) {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized)
    MPI_Comm_free((MPI_Comm *)user);
  free(user);
}
/* A graft_comm on a duplicate of `comm`, which its release frees: the
 * caller's until graft_dist_init takes it. Returns GRAFT_OK, or
 * GRAFT_ERR_OUT_OF_MEMORY or GRAFT_ERR_DIST with *out untouched. */
static inline graft_status graft_comm_from_mpi(MPI_Comm comm, graft_comm *out) {
  MPI_Comm *own = (MPI_Comm *)malloc(sizeof(MPI_Comm));
  if (!own)
    return GRAFT_ERR_OUT_OF_MEMORY;
  if (MPI_Comm_dup(comm, own) != MPI_SUCCESS) {
    free(own);
    return GRAFT_ERR_DIST;
  }
  MPI_Comm_set_errhandler(*own, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(*own, &rank);
  MPI_Comm_size(*own, &size);
  out->rank = rank;
  out->size = size;
  out->alltoall = graft_mpi_alltoall_;
  out->allgather = graft_mpi_allgather_;
  out->broadcast = graft_mpi_broadcast_;
  out->release = graft_mpi_release_;
  out->user = own;
  return GRAFT_OK;
}
static inline graft_status graft_dist_init_mpi(graft_context *ctx,
                                               MPI_Comm comm) {
  graft_comm c;
  graft_status s = graft_comm_from_mpi(comm, &c);
  if (s != GRAFT_OK)
    return s;
  s = graft_dist_init(ctx, &c);
  if (s != GRAFT_OK) /* not taken: ours to release */
    c.release(c.user);
  return s;
}
#endif

#ifdef __cplusplus
}
#endif
#endif /* GRAFT_API_H */
