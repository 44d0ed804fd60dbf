/*===- graft_cuda.c - The CUDA runtime of libraries built for --target=cuda -===*
 *
 * Two parts, both over the CUDA driver API loaded with dlopen (no cuda.h and
 * no libcuda at build or link time):
 *
 * - The mgpu* functions that MLIR's gpu-to-llvm lowering and its gpu.binary
 *   translation call (module loading, kernel launches, streams, device
 *   memory, copies): MLIR's own CUDA runtime wrapper library is not shipped
 *   by Debian. Modules load lazily, on the first launch, from the image
 *   container the compiler embeds (graft/Pipelines/GPU.h): the cubin of the
 *   device's architecture, or else the PTX, which the driver compiles.
 * - The device side of a context: a device copy of each tensor the entry
 *   points use, and the entry shims' graft_cuda_enter / graft_cuda_leave,
 *   which map the runtime's host pointers to device pointers and copy what
 *   each call needs in and out (graft_cuda_api.h).
 *
 * All work goes to one stream; calls are serialised by a mutex.
 *
 *===----------------------------------------------------------------------===*/
#include "graft_api.h"
#include "graft_backend.h"
#include "graft_cuda_api.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*--- The driver API, declared here ----------------------------------------*/

typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef unsigned long long CUdeviceptr;
typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphExec_st *CUgraphExec;

enum { CUDA_SUCCESS = 0 };
enum { ATTR_CC_MAJOR = 75, ATTR_CC_MINOR = 76 };
enum { STREAM_NON_BLOCKING = 1, EVENT_DISABLE_TIMING = 2 };
enum { STREAM_CAPTURE_MODE_RELAXED = 2 };

static struct {
  CUresult (*Init)(unsigned);
  CUresult (*DeviceGetCount)(int *);
  CUresult (*DeviceGet)(CUdevice *, int);
  CUresult (*DeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*DeviceGetName)(char *, int, CUdevice);
  CUresult (*DevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*CtxSetCurrent)(CUcontext);
  CUresult (*ModuleLoadData)(CUmodule *, const void *);
  CUresult (*ModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*ModuleUnload)(CUmodule);
  CUresult (*LaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **,
                           void **);
  CUresult (*StreamCreate)(CUstream *, unsigned);
  CUresult (*StreamSynchronize)(CUstream);
  CUresult (*MemAlloc)(CUdeviceptr *, size_t);
  CUresult (*MemFree)(CUdeviceptr);
  CUresult (*MemAllocAsync)(CUdeviceptr *, size_t, CUstream); /* optional */
  CUresult (*MemFreeAsync)(CUdeviceptr, CUstream);            /* optional */
  CUresult (*MemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*MemsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*MemsetD16Async)(CUdeviceptr, unsigned short, size_t, CUstream);
  CUresult (*EventCreate)(CUevent *, unsigned);
  CUresult (*EventRecord)(CUevent, CUstream);
  CUresult (*EventSynchronize)(CUevent);
  CUresult (*EventDestroy)(CUevent);
  CUresult (*StreamWaitEvent)(CUstream, CUevent, unsigned);
  CUresult (*GetErrorString)(CUresult, const char **);
  /* CUDA graphs (optional: without them every call launches its kernels). */
  CUresult (*StreamBeginCapture)(CUstream, int);
  CUresult (*StreamEndCapture)(CUstream, CUgraph *);
  CUresult (*GraphInstantiate)(CUgraphExec *, CUgraph, unsigned long long);
  CUresult (*GraphLaunch)(CUgraphExec, CUstream);
  CUresult (*GraphExecDestroy)(CUgraphExec);
  CUresult (*GraphDestroy)(CUgraph);
} cu;

/*--- State and errors -----------------------------------------------------*/

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int initialised;      /* 1: tried */
static graft_status init_status = GRAFT_OK;
static char init_message[256];
static int device_ordinal = -1; /* -1: $GRAFT_CUDA_DEVICE or 0 */
static CUdevice device;
static CUcontext context;
static CUstream stream;
static int device_sm;
/* CUDA graphs: on unless $GRAFT_CUDA_GRAPHS is 0 or the driver lacks them.
 * `capturing` while an entry point's launches are being recorded. */
static int graphs_enabled;
static int capturing;

/* The first CUDA failure since the last entry point began: the mgpu*
 * functions cannot return errors, so they record them here and the shim
 * reports them when the entry point ends. */
static graft_status sticky = GRAFT_OK;
static char sticky_message[256];

static void record(graft_status s, const char *what, CUresult r) {
  if (sticky != GRAFT_OK)
    return;
  const char *text = 0;
  if (cu.GetErrorString)
    cu.GetErrorString(r, &text);
  sticky = s;
  snprintf(sticky_message, sizeof sticky_message, "CUDA: %s failed: %s (%d)",
           what, text ? text : "unknown error", r);
}

#define CU_CHECK(call, what)                                                  \
  do {                                                                        \
    CUresult r_ = (call);                                                     \
    if (r_ != CUDA_SUCCESS)                                                   \
      record(GRAFT_ERR_DEVICE, what, r_);                                     \
  } while (0)

static graft_status init_failed(graft_status s, const char *fmt,
                                const char *arg, int code) {
  init_status = s;
  snprintf(init_message, sizeof init_message, fmt, arg, code);
  return s;
}

/* Loads the driver and makes the selected device's primary context current.
 * Called with `lock` held. */
static graft_status ensure_init(void) {
  if (initialised) {
    if (init_status == GRAFT_OK)
      cu.CtxSetCurrent(context);
    return init_status;
  }
  initialised = 1;
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    lib = dlopen("libcuda.so", RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return init_failed(GRAFT_ERR_NO_DEVICE,
                       "no CUDA driver: libcuda.so.1 cannot be loaded (%s)%.0d",
                       dlerror(), 0);
#define SYM(field, name, required)                                            \
  do {                                                                        \
    *(void **)(&cu.field) = dlsym(lib, name);                                 \
    if (!cu.field && (required))                                              \
      return init_failed(GRAFT_ERR_NO_DEVICE,                                 \
                         "the CUDA driver lacks %s%.0d", name, 0);            \
  } while (0)
  SYM(Init, "cuInit", 1);
  SYM(DeviceGetCount, "cuDeviceGetCount", 1);
  SYM(DeviceGet, "cuDeviceGet", 1);
  SYM(DeviceGetAttribute, "cuDeviceGetAttribute", 1);
  SYM(DeviceGetName, "cuDeviceGetName", 1);
  SYM(DevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", 1);
  SYM(CtxSetCurrent, "cuCtxSetCurrent", 1);
  SYM(ModuleLoadData, "cuModuleLoadData", 1);
  SYM(ModuleGetFunction, "cuModuleGetFunction", 1);
  SYM(ModuleUnload, "cuModuleUnload", 1);
  SYM(LaunchKernel, "cuLaunchKernel", 1);
  SYM(StreamCreate, "cuStreamCreate", 1);
  SYM(StreamSynchronize, "cuStreamSynchronize", 1);
  SYM(MemAlloc, "cuMemAlloc_v2", 1);
  SYM(MemFree, "cuMemFree_v2", 1);
  SYM(MemAllocAsync, "cuMemAllocAsync", 0);
  SYM(MemFreeAsync, "cuMemFreeAsync", 0);
  SYM(MemcpyAsync, "cuMemcpyAsync", 1);
  SYM(MemsetD32Async, "cuMemsetD32Async", 1);
  SYM(MemsetD16Async, "cuMemsetD16Async", 1);
  SYM(EventCreate, "cuEventCreate", 1);
  SYM(EventRecord, "cuEventRecord", 1);
  SYM(EventSynchronize, "cuEventSynchronize", 1);
  SYM(EventDestroy, "cuEventDestroy_v2", 1);
  SYM(StreamWaitEvent, "cuStreamWaitEvent", 1);
  SYM(GetErrorString, "cuGetErrorString", 0);
  SYM(StreamBeginCapture, "cuStreamBeginCapture_v2", 0);
  SYM(StreamEndCapture, "cuStreamEndCapture", 0);
  SYM(GraphInstantiate, "cuGraphInstantiateWithFlags", 0);
  SYM(GraphLaunch, "cuGraphLaunch", 0);
  SYM(GraphExecDestroy, "cuGraphExecDestroy", 0);
  SYM(GraphDestroy, "cuGraphDestroy", 0);
#undef SYM
  {
    const char *env = getenv("GRAFT_CUDA_GRAPHS");
    graphs_enabled = cu.StreamBeginCapture && cu.StreamEndCapture &&
                     cu.GraphInstantiate && cu.GraphLaunch &&
                     cu.GraphExecDestroy && cu.GraphDestroy &&
                     cu.MemAllocAsync && !(env && strcmp(env, "0") == 0);
  }
  if (!cu.MemAllocAsync || !cu.MemFreeAsync)
    cu.MemAllocAsync = 0, cu.MemFreeAsync = 0;
  CUresult r = cu.Init(0);
  if (r != CUDA_SUCCESS)
    return init_failed(GRAFT_ERR_NO_DEVICE,
                       "no CUDA device: cuInit failed%s (%d)", "", r);
  int count = 0;
  r = cu.DeviceGetCount(&count);
  if (r != CUDA_SUCCESS || count == 0)
    return init_failed(GRAFT_ERR_NO_DEVICE,
                       "no CUDA device: the driver reports none%s (%d)", "", r);
  if (device_ordinal < 0) {
    const char *env = getenv("GRAFT_CUDA_DEVICE");
    device_ordinal = env ? atoi(env) : 0;
  }
  if (device_ordinal < 0 || device_ordinal >= count) {
    char what[64];
    snprintf(what, sizeof what, "%d of %d", device_ordinal, count);
    return init_failed(GRAFT_ERR_NO_DEVICE, "no CUDA device %s%.0d", what, 0);
  }
  int major = 0, minor = 0;
  if ((r = cu.DeviceGet(&device, device_ordinal)) != CUDA_SUCCESS ||
      (r = cu.DeviceGetAttribute(&major, ATTR_CC_MAJOR, device)) !=
          CUDA_SUCCESS ||
      (r = cu.DeviceGetAttribute(&minor, ATTR_CC_MINOR, device)) !=
          CUDA_SUCCESS ||
      (r = cu.DevicePrimaryCtxRetain(&context, device)) != CUDA_SUCCESS ||
      (r = cu.CtxSetCurrent(context)) != CUDA_SUCCESS ||
      (r = cu.StreamCreate(&stream, STREAM_NON_BLOCKING)) != CUDA_SUCCESS)
    return init_failed(GRAFT_ERR_DEVICE,
                       "CUDA: initialising the device failed%s (%d)", "", r);
  device_sm = 10 * major + minor;
  return GRAFT_OK;
}

/*--- The mgpu* ABI of MLIR's GPU lowering -----------------------------------*/

/* A module as the generated code sees it: the embedded image, loaded on the
 * first launch; its functions are looked up once. */
struct function_entry {
  const char *name;
  CUfunction fn;
  struct function_entry *next;
};
struct lazy_module {
  const unsigned char *data;
  size_t size;
  CUmodule module;
  struct function_entry *functions;
};

static uint32_t read_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static uint64_t read_u64(const unsigned char *p) {
  return (uint64_t)read_u32(p) | (uint64_t)read_u32(p + 4) << 32;
}

/* Picks the image for the device from a "GRAFTGPU" container: the cubin of
 * its architecture, else the PTX of the newest architecture not above it. */
static const void *select_image(const struct lazy_module *m) {
  if (m->size < 16 || memcmp(m->data, "GRAFTGPU", 8) != 0)
    return m->data; /* a plain cubin, fatbin or PTX */
  uint32_t count = read_u32(m->data + 12);
  const unsigned char *best_ptx = 0, *cubin = 0;
  uint32_t best_sm = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const unsigned char *h = m->data + 16 + 24 * (size_t)i;
    if ((size_t)(h + 24 - m->data) > m->size)
      break;
    uint32_t kind = read_u32(h), sm = read_u32(h + 4);
    uint64_t offset = read_u64(h + 8), size = read_u64(h + 16);
    if (offset > m->size || size > m->size - offset)
      continue;
    if (kind == 1 && (int)sm == device_sm)
      cubin = m->data + offset;
    if (kind == 0 && (int)sm <= device_sm && sm >= best_sm)
      best_ptx = m->data + offset, best_sm = sm;
  }
  return cubin ? cubin : best_ptx;
}

void *mgpuModuleLoad(void *data, size_t size) {
  struct lazy_module *m = (struct lazy_module *)calloc(1, sizeof *m);
  if (m)
    m->data = (const unsigned char *)data, m->size = size;
  return m;
}

void *mgpuModuleLoadJIT(void *data, int opt_level) {
  (void)opt_level;
  return mgpuModuleLoad(data, strlen((const char *)data) + 1);
}

void mgpuModuleUnload(void *module) {
  struct lazy_module *m = (struct lazy_module *)module;
  if (!m)
    return;
  /* At exit the driver may be gone already: the module is not unloaded. */
  while (m->functions) {
    struct function_entry *next = m->functions->next;
    free(m->functions);
    m->functions = next;
  }
  free(m);
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  struct lazy_module *m = (struct lazy_module *)module;
  if (!m || sticky != GRAFT_OK)
    return 0;
  for (struct function_entry *f = m->functions; f; f = f->next)
    if (f->name == name || strcmp(f->name, name) == 0)
      return f->fn;
  if (ensure_init() != GRAFT_OK) {
    sticky = init_status;
    snprintf(sticky_message, sizeof sticky_message, "%s", init_message);
    return 0;
  }
  if (!m->module) {
    const void *image = select_image(m);
    if (!image) {
      sticky = GRAFT_ERR_DEVICE;
      snprintf(sticky_message, sizeof sticky_message,
               "CUDA: the library has no kernels for this device (sm_%d)",
               device_sm);
      return 0;
    }
    CUresult r = cu.ModuleLoadData(&m->module, image);
    if (r != CUDA_SUCCESS) {
      record(GRAFT_ERR_DEVICE, "cuModuleLoadData", r);
      m->module = 0;
      return 0;
    }
  }
  struct function_entry *f = (struct function_entry *)calloc(1, sizeof *f);
  if (!f)
    return 0;
  f->name = name;
  CUresult r = cu.ModuleGetFunction(&f->fn, m->module, name);
  if (r != CUDA_SUCCESS) {
    record(GRAFT_ERR_DEVICE, "cuModuleGetFunction", r);
    free(f);
    return 0;
  }
  f->next = m->functions;
  m->functions = f;
  return f->fn;
}

void mgpuLaunchKernel(void *function, intptr_t gx, intptr_t gy, intptr_t gz,
                      intptr_t bx, intptr_t by, intptr_t bz, int32_t smem,
                      void *s, void **params, void **extra, size_t nparams) {
  (void)nparams;
  if (!function || sticky != GRAFT_OK)
    return;
  CU_CHECK(cu.LaunchKernel((CUfunction)function, (unsigned)gx, (unsigned)gy,
                           (unsigned)gz, (unsigned)bx, (unsigned)by,
                           (unsigned)bz, (unsigned)smem, (CUstream)s, params,
                           extra),
           "cuLaunchKernel");
}

/* One stream for everything: "creating" one returns it, destroying is a
 * no-op (the generated code creates and destroys one per entry point). */
void *mgpuStreamCreate(void) {
  if (ensure_init() != GRAFT_OK && sticky == GRAFT_OK) {
    sticky = init_status;
    snprintf(sticky_message, sizeof sticky_message, "%s", init_message);
  }
  return stream;
}

void mgpuStreamDestroy(void *s) { (void)s; }

void mgpuStreamSynchronize(void *s) {
  /* Not while capturing (illegal there): graft_cuda_leave synchronises. */
  if (initialised && init_status == GRAFT_OK && !capturing)
    CU_CHECK(cu.StreamSynchronize((CUstream)s), "cuStreamSynchronize");
}

void mgpuStreamWaitEvent(void *s, void *e) {
  if (e && sticky == GRAFT_OK)
    CU_CHECK(cu.StreamWaitEvent((CUstream)s, (CUevent)e, 0),
             "cuStreamWaitEvent");
}

void *mgpuEventCreate(void) {
  CUevent e = 0;
  if (sticky == GRAFT_OK && ensure_init() == GRAFT_OK)
    CU_CHECK(cu.EventCreate(&e, EVENT_DISABLE_TIMING), "cuEventCreate");
  return e;
}

void mgpuEventDestroy(void *e) {
  if (e)
    cu.EventDestroy((CUevent)e);
}

void mgpuEventSynchronize(void *e) {
  if (e && sticky == GRAFT_OK && !capturing)
    CU_CHECK(cu.EventSynchronize((CUevent)e), "cuEventSynchronize");
}

void mgpuEventRecord(void *e, void *s) {
  if (e && sticky == GRAFT_OK)
    CU_CHECK(cu.EventRecord((CUevent)e, (CUstream)s), "cuEventRecord");
}

void *mgpuMemAlloc(uint64_t size, void *s, _Bool host_shared) {
  (void)host_shared; /* never generated by Graft */
  CUdeviceptr p = 0;
  if (size == 0 || sticky != GRAFT_OK || ensure_init() != GRAFT_OK)
    return 0;
  if (cu.MemAllocAsync)
    CU_CHECK(cu.MemAllocAsync(&p, size, (CUstream)s), "cuMemAllocAsync");
  else
    CU_CHECK(cu.MemAlloc(&p, size), "cuMemAlloc");
  return (void *)(uintptr_t)p;
}

void mgpuMemFree(void *p, void *s) {
  if (!p || !initialised || init_status != GRAFT_OK)
    return;
  if (cu.MemFreeAsync)
    CU_CHECK(cu.MemFreeAsync((CUdeviceptr)(uintptr_t)p, (CUstream)s),
             "cuMemFreeAsync");
  else
    CU_CHECK(cu.MemFree((CUdeviceptr)(uintptr_t)p), "cuMemFree");
}

void mgpuMemcpy(void *dst, void *src, size_t size, void *s) {
  if (size && sticky == GRAFT_OK)
    CU_CHECK(cu.MemcpyAsync((CUdeviceptr)(uintptr_t)dst,
                            (CUdeviceptr)(uintptr_t)src, size, (CUstream)s),
             "cuMemcpyAsync");
}

void mgpuMemset32(void *dst, unsigned value, size_t count, void *s) {
  if (count && sticky == GRAFT_OK)
    CU_CHECK(cu.MemsetD32Async((CUdeviceptr)(uintptr_t)dst, value, count,
                               (CUstream)s),
             "cuMemsetD32Async");
}

void mgpuMemset16(void *dst, unsigned short value, size_t count, void *s) {
  if (count && sticky == GRAFT_OK)
    CU_CHECK(cu.MemsetD16Async((CUdeviceptr)(uintptr_t)dst, value, count,
                               (CUstream)s),
             "cuMemsetD16Async");
}

void mgpuSetDefaultDevice(int32_t ordinal) {
  if (!initialised)
    device_ordinal = ordinal;
}

/*--- Contexts on the device -----------------------------------------------*/

/* The device copy of a context's tensors: `data[t]` holds tensor t; entry
 * points update state in place (graft-plan-memory). */
/* An entry point's CUDA graph: its first call runs eagerly (and loads the
 * kernels), the second is captured into a graph, later calls launch the
 * graph. The kernels' arguments are this context's device buffers, which
 * never move, so one graph serves every later call. */
struct entry_graph {
  int calls;
  int failed; /* capture failed once: this entry runs eagerly from now on */
  CUgraphExec exec;
};
struct device_context {
  graft_context *ctx;
  const graft_model_desc *model;
  CUdeviceptr *data;
  CUdeviceptr workspace; /* the entry points' planned temporaries */
  struct entry_graph *graphs; /* one per entry point */
  int resident;
  struct device_context *link;
};
static struct device_context *contexts;

static int is_state(int32_t role) {
  return role == GRAFT_ROLE_PARAM || role == GRAFT_ROLE_BUFFER ||
         role == GRAFT_ROLE_GRAD || role == GRAFT_ROLE_OPT_STATE;
}

static void free_device_context(struct device_context *d) {
  for (int32_t t = 0; t < d->model->ntensors; ++t) {
    if (d->data[t])
      cu.MemFree(d->data[t]);
  }
  if (d->workspace)
    cu.MemFree(d->workspace);
  for (int32_t e = 0; d->graphs && e < d->model->nentries; ++e)
    if (d->graphs[e].exec)
      cu.GraphExecDestroy(d->graphs[e].exec);
  free(d->graphs);
  free(d->data);
  free(d);
}

static int resident_hook(const graft_context *ctx) {
  int resident = 0;
  pthread_mutex_lock(&lock);
  for (struct device_context *d = contexts; d; d = d->link)
    if (d->ctx == ctx)
      resident = d->resident;
  pthread_mutex_unlock(&lock);
  return resident;
}

static void destroy_hook(graft_context *ctx) {
  pthread_mutex_lock(&lock);
  for (struct device_context **p = &contexts; *p; p = &(*p)->link)
    if ((*p)->ctx == ctx) {
      struct device_context *d = *p;
      *p = d->link;
      cu.StreamSynchronize(stream);
      free_device_context(d);
      break;
    }
  pthread_mutex_unlock(&lock);
}

static graft_status take_sticky(void) {
  graft_status s = sticky;
  sticky = GRAFT_OK;
  return s;
}

/* The device copy of `ctx`, allocated on first use. With `lock` held. */
static graft_status device_context(graft_context *ctx,
                                   struct device_context **out) {
  for (struct device_context *d = contexts; d; d = d->link)
    if (d->ctx == ctx) {
      *out = d;
      return GRAFT_OK;
    }
  graft_status s = ensure_init();
  if (s != GRAFT_OK) {
    snprintf(sticky_message, sizeof sticky_message, "%s", init_message);
    return s;
  }
  const graft_model_desc *m = graft_model(ctx);
  struct device_context *d = (struct device_context *)calloc(1, sizeof *d);
  int32_t n = m->ntensors;
  if (d) {
    d->data = (CUdeviceptr *)calloc((size_t)n + 1, sizeof(CUdeviceptr));
    d->graphs = (struct entry_graph *)calloc((size_t)m->nentries + 1,
                                             sizeof(struct entry_graph));
  }
  if (!d || !d->data || !d->graphs) {
    if (d)
      free(d->data), free(d->graphs), free(d);
    snprintf(sticky_message, sizeof sticky_message, "out of memory");
    return GRAFT_ERR_OUT_OF_MEMORY;
  }
  d->ctx = ctx;
  d->model = m;
  size_t workspace = 1;
  for (int32_t e = 0; e < m->nentries; ++e)
    if ((size_t)m->entries[e].workspace_bytes > workspace)
      workspace = (size_t)m->entries[e].workspace_bytes;
  CUresult wr = cu.MemAlloc(&d->workspace, workspace);
  if (wr != CUDA_SUCCESS) {
    d->workspace = 0;
    free_device_context(d);
    record(GRAFT_ERR_OUT_OF_MEMORY, "cuMemAlloc", wr);
    return take_sticky();
  }
  for (int32_t t = 0; t < n; ++t) {
    size_t bytes = (size_t)m->tensors[t].nbytes;
    CUresult r = cu.MemAlloc(&d->data[t], bytes ? bytes : 1);
    if (r != CUDA_SUCCESS) {
      free_device_context(d);
      record(GRAFT_ERR_OUT_OF_MEMORY, "cuMemAlloc", r);
      return take_sticky();
    }
  }
  d->link = contexts;
  contexts = d;
  graft_backend_destroy_hook = destroy_hook;
  graft_backend_resident_hook = resident_hook;
  *out = d;
  return GRAFT_OK;
}

static graft_status copy_state(struct device_context *d, int to_device) {
  for (int32_t t = 0; t < d->model->ntensors; ++t) {
    const graft_tensor_desc *desc = &d->model->tensors[t];
    if (!is_state(desc->role) || !desc->nbytes)
      continue;
    void *host = 0;
    graft_tensor_data(d->ctx, t, &host);
    if (to_device)
      CU_CHECK(cu.MemcpyAsync(d->data[t], (CUdeviceptr)(uintptr_t)host,
                              (size_t)desc->nbytes, stream),
               "cuMemcpyAsync (host to device)");
    else
      CU_CHECK(cu.MemcpyAsync((CUdeviceptr)(uintptr_t)host, d->data[t],
                              (size_t)desc->nbytes, stream),
               "cuMemcpyAsync (device to host)");
  }
  CU_CHECK(cu.StreamSynchronize(stream), "cuStreamSynchronize");
  return take_sticky();
}

static const graft_entry_desc *find_entry(const graft_model_desc *m,
                                          const char *name) {
  for (int32_t e = 0; e < m->nentries; ++e)
    if (strcmp(m->entries[e].name, name) == 0)
      return &m->entries[e];
  return 0;
}

static void report(graft_status s) {
  graft_backend_fail(s, sticky_message);
  sticky = GRAFT_OK;
}

/* The entry shim's protocol (lib/Target/CUDA.cpp):
 *
 *   s = graft_cuda_enter(entry, host, dev)
 *   s == GRAFT_CUDA_RUN:      run the device code, then graft_cuda_leave
 *   s == GRAFT_CUDA_REPLAYED: the entry's CUDA graph ran it; graft_cuda_leave
 *   otherwise:                failed, reported; return
 *   graft_cuda_leave returns nonzero when the device code must run again
 *   (its capture into a graph failed, so nothing ran), then leave again. */
enum { GRAFT_CUDA_RUN = 0, GRAFT_CUDA_FAILED = 1, GRAFT_CUDA_REPLAYED = 2 };

/* The capture in progress (`capturing`): its entry's graph. */
static struct entry_graph *captured;

/* Called by the entry shim before the device code: fills `dev` with the
 * device pointer of each argument and result and copies in what the call
 * reads, then launches the entry's graph, starts capturing it, or lets the
 * shim run the device code. Returns GRAFT_CUDA_FAILED (and reports the
 * error) when the call cannot run; the lock is then released, else
 * graft_cuda_leave releases it. */
int graft_cuda_enter(const char *entry, void **host, void **dev) {
  pthread_mutex_lock(&lock);
  sticky = GRAFT_OK;
  graft_context *ctx = graft_backend_context();
  struct device_context *d = 0;
  graft_status s = GRAFT_ERR_INVALID_ARGUMENT;
  const graft_entry_desc *ep = 0;
  if (!ctx)
    snprintf(sticky_message, sizeof sticky_message,
             "%s: a CUDA entry point runs only through graft_* calls", entry);
  else if ((s = device_context(ctx, &d)) == GRAFT_OK &&
           !(ep = find_entry(d->model, entry))) {
    s = GRAFT_ERR_UNSUPPORTED;
    snprintf(sticky_message, sizeof sticky_message, "no entry point %s",
             entry);
  }
  if (s != GRAFT_OK || !ep) {
    report(s);
    pthread_mutex_unlock(&lock);
    return GRAFT_CUDA_FAILED;
  }
  for (int32_t a = 0; a < ep->nargs; ++a) {
    int32_t t = ep->args[a];
    const graft_tensor_desc *desc = &d->model->tensors[t];
    dev[a] = (void *)(uintptr_t)d->data[t];
    if ((!is_state(desc->role) || !d->resident) && desc->nbytes)
      CU_CHECK(cu.MemcpyAsync(d->data[t], (CUdeviceptr)(uintptr_t)host[a],
                              (size_t)desc->nbytes, stream),
               "cuMemcpyAsync (host to device)");
  }
  for (int32_t r = 0; r < ep->nresults; ++r) {
    int32_t t = ep->results[r];
    /* A state result runs in its argument's storage (graft-plan-memory). */
    dev[ep->nargs + r] = (void *)(uintptr_t)d->data[t];
  }
  /* The planned workspace (graft-plan-memory) comes last. */
  dev[ep->nargs + ep->nresults] = (void *)(uintptr_t)d->workspace;
  if (sticky != GRAFT_OK) {
    report(take_sticky());
    pthread_mutex_unlock(&lock);
    return GRAFT_CUDA_FAILED;
  }
  struct entry_graph *g = &d->graphs[ep - d->model->entries];
  if (graphs_enabled && g->exec) {
    CU_CHECK(cu.GraphLaunch(g->exec, stream), "cuGraphLaunch");
    return GRAFT_CUDA_REPLAYED;
  }
  if (graphs_enabled && !g->failed && g->calls++ > 0 &&
      cu.StreamBeginCapture(stream, STREAM_CAPTURE_MODE_RELAXED) ==
          CUDA_SUCCESS) {
    capturing = 1;
    captured = g;
  }
  return GRAFT_CUDA_RUN;
}

/* Ends a capture: instantiates and launches the graph. Returns nonzero when
 * the capture failed (nothing ran; the entry runs eagerly from now on). */
static int end_capture(const char *entry) {
  struct entry_graph *g = captured;
  CUgraph graph = 0;
  capturing = 0;
  captured = 0;
  CUresult r = cu.StreamEndCapture(stream, &graph);
  if (r == CUDA_SUCCESS && sticky == GRAFT_OK)
    r = cu.GraphInstantiate(&g->exec, graph, 0);
  if (graph)
    cu.GraphDestroy(graph);
  int verbose = getenv("GRAFT_CUDA_VERBOSE") != 0;
  if (r != CUDA_SUCCESS || sticky != GRAFT_OK) {
    if (verbose)
      fprintf(stderr, "graft: %s: no CUDA graph, runs eagerly: %s (%d)\n",
              entry, sticky != GRAFT_OK ? sticky_message : "capture failed",
              r);
    g->exec = 0;
    g->failed = 1;
    sticky = GRAFT_OK; /* what failed was the recording only */
    return 1;
  }
  if (verbose)
    fprintf(stderr, "graft: %s: captured into a CUDA graph\n", entry);
  CU_CHECK(cu.GraphLaunch(g->exec, stream), "cuGraphLaunch");
  return 0;
}

/* Called by the entry shim after the device code: new state becomes the
 * device copy; results the host needs are copied out. Returns nonzero,
 * keeping the lock, when the device code must run again. */
int graft_cuda_leave(const char *entry, void **host, void **dev) {
  (void)dev;
  if (capturing && end_capture(entry))
    return 1;
  graft_context *ctx = graft_backend_context();
  struct device_context *d = 0;
  for (d = contexts; d && d->ctx != ctx; d = d->link)
    ;
  const graft_entry_desc *ep = d ? find_entry(d->model, entry) : 0;
  if (ep) {
    for (int32_t r = 0; r < ep->nresults; ++r) {
      int32_t t = ep->results[r];
      const graft_tensor_desc *desc = &d->model->tensors[t];
      if (is_state(desc->role) && d->resident)
        continue;
      if (desc->nbytes)
        CU_CHECK(cu.MemcpyAsync((CUdeviceptr)(uintptr_t)host[ep->nargs + r],
                                d->data[t], (size_t)desc->nbytes, stream),
                 "cuMemcpyAsync (device to host)");
    }
  }
  CU_CHECK(cu.StreamSynchronize(stream), "cuStreamSynchronize");
  if (sticky != GRAFT_OK)
    report(take_sticky());
  pthread_mutex_unlock(&lock);
  return 0;
}

/*--- The public additions -------------------------------------------------*/

static graft_status public_fail(graft_status s) {
  /* graft_last_error is the runtime's: report through it. */
  graft_backend_fail(s, sticky_message);
  return s;
}

graft_status graft_cuda_available(void) {
  pthread_mutex_lock(&lock);
  graft_status s = ensure_init();
  if (s != GRAFT_OK)
    snprintf(sticky_message, sizeof sticky_message, "%s", init_message);
  pthread_mutex_unlock(&lock);
  return s == GRAFT_OK ? s : public_fail(s);
}

graft_status graft_cuda_set_device(int ordinal) {
  pthread_mutex_lock(&lock);
  graft_status s = GRAFT_OK;
  if (initialised && ordinal != device_ordinal) {
    s = GRAFT_ERR_INVALID_ARGUMENT;
    snprintf(sticky_message, sizeof sticky_message,
             "graft_cuda_set_device: the GPU is in use already (device %d)",
             device_ordinal);
  } else if (ordinal < 0) {
    s = GRAFT_ERR_INVALID_ARGUMENT;
    snprintf(sticky_message, sizeof sticky_message,
             "graft_cuda_set_device: negative ordinal");
  } else {
    device_ordinal = ordinal;
  }
  pthread_mutex_unlock(&lock);
  return s == GRAFT_OK ? s : public_fail(s);
}

graft_status graft_cuda_device(int *ordinal, int *sm, char *name,
                               size_t name_size) {
  graft_status s = graft_cuda_available();
  if (s != GRAFT_OK)
    return s;
  if (ordinal)
    *ordinal = device_ordinal;
  if (sm)
    *sm = device_sm;
  if (name && name_size) {
    name[0] = 0;
    cu.DeviceGetName(name, (int)name_size, device);
  }
  return GRAFT_OK;
}

static graft_status with_device_context(graft_context *ctx, int op,
                                        int resident, const char *fn) {
  if (!ctx)
    return graft_backend_fail_context(NULL, fn, GRAFT_ERR_INVALID_ARGUMENT,
                                      "ctx is NULL");
  char message[sizeof sticky_message];
  pthread_mutex_lock(&lock);
  struct device_context *d = 0;
  graft_status s = device_context(ctx, &d);
  if (s == GRAFT_OK) {
    if (op == 0) { /* set_resident */
      if (resident && !d->resident)
        s = copy_state(d, 1);
      else if (!resident && d->resident)
        s = copy_state(d, 0);
      if (s == GRAFT_OK)
        d->resident = resident != 0;
    } else {
      s = copy_state(d, op == 1);
    }
  }
  /* The message is read under the lock: other threads' steps write it. */
  snprintf(message, sizeof message, "%s", sticky_message);
  pthread_mutex_unlock(&lock);
  return s == GRAFT_OK ? s : graft_backend_fail_context(ctx, fn, s, message);
}

graft_status graft_cuda_set_resident(graft_context *ctx, int resident) {
  return with_device_context(ctx, 0, resident, "graft_cuda_set_resident");
}
graft_status graft_cuda_upload(graft_context *ctx) {
  return with_device_context(ctx, 1, 0, "graft_cuda_upload");
}
graft_status graft_cuda_download(graft_context *ctx) {
  return with_device_context(ctx, 2, 0, "graft_cuda_download");
}

graft_status graft_cuda_release(graft_context *ctx) {
  if (!ctx)
    return graft_backend_fail_context(NULL, "graft_cuda_release",
                                      GRAFT_ERR_INVALID_ARGUMENT,
                                      "ctx is NULL");
  destroy_hook(ctx);
  return GRAFT_OK;
}
