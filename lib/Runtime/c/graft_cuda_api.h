/*===- graft_cuda_api.h - The CUDA additions to the C API -------------------===*
 *
 * Appended to NAME.h by `graft compile --target=cuda`; implemented by
 * graft_cuda.c in libNAME.a. The CUDA driver (libcuda.so.1) is loaded with
 * dlopen on first use: a program linking the library starts on any machine,
 * and without a driver or GPU every step returns GRAFT_ERR_NO_DEVICE with
 * the reason in graft_last_error(). See docs/GPU.md.
 *
 *===----------------------------------------------------------------------===*/
#ifndef GRAFT_CUDA_API_H
#define GRAFT_CUDA_API_H

#ifdef __cplusplus
extern "C" {
#endif

/* GRAFT_OK when a CUDA driver and a device are usable; else
 * GRAFT_ERR_NO_DEVICE (or GRAFT_ERR_DEVICE) and graft_last_error() says why.
 * Initialises the driver on the selected device. */
graft_status graft_cuda_available(void);

/* Selects the device (ordinal, default 0 or $GRAFT_CUDA_DEVICE). Only
 * before the first use of the GPU in this process. */
graft_status graft_cuda_set_device(int ordinal);

/* The device in use: ordinal, compute capability as 10*major+minor (90 for
 * an H100), and its name (may be NULL). */
graft_status graft_cuda_device(int *ordinal, int *sm, char *name,
                               size_t name_size);

/* Residency of a context's state (parameters, buffers, gradients, optimizer
 * state) on the device.
 *
 * Off (the default): every step copies the state in and out, so the host
 * tensors (graft_get, graft_tensor_data, graft_save, hooks) are always up
 * to date. On: the state stays on the device across steps and only inputs,
 * the seed and the learning rates are copied in and the loss and outputs
 * out; the host copies of the state are stale until graft_cuda_download,
 * and host writes (graft_set, graft_load, graft_init) reach the device with
 * graft_cuda_upload. Turning it on uploads the state; off downloads it. */
graft_status graft_cuda_set_resident(graft_context *ctx, int resident);
graft_status graft_cuda_upload(graft_context *ctx);
graft_status graft_cuda_download(graft_context *ctx);

/* Frees the context's device memory now (graft_destroy does it too). */
graft_status graft_cuda_release(graft_context *ctx);

#ifdef __cplusplus
}
#endif
#endif /* GRAFT_CUDA_API_H */
