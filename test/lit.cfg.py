# -*- Python -*-
import os
import sys

import subprocess

import lit.formats
from lit.llvm import llvm_config

config.name = "GRAFT"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".graft"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.graft_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%python", sys.executable))
config.substitutions.append(("%graft_src_root", config.graft_src_root))
config.substitutions.append(("%graft_obj_root", config.graft_obj_root))
# What a program linking a CPU library of graft compile needs besides the
# archive: libm and pthreads (the runtime's thread pool).
config.substitutions.append(("%graft_libs", "-lm -pthread"))

# The C compiler of the programs that link a library of graft compile:
# Graft's own (the one that compiled the runtime in it). In a build with
# AddressSanitizer (scripts/sanitize.sh) the libraries are instrumented too,
# `graft compile %sanitize_library`, and %cc (%cxx for C++) links ASan's
# runtime.
asan = "address" in config.graft_sanitize.split(",")
config.substitutions.append(("%sanitize_library", "--sanitize=address" if asan else ""))
asan_flags = " -fsanitize=address -fno-omit-frame-pointer" if asan else ""
config.substitutions.append(("%cxx", config.graft_cxx_compiler + asan_flags))
config.substitutions.append(("%cc", config.graft_c_compiler + asan_flags))
if asan:
    config.available_features.add("asan")

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.graft_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["graft", "graft-opt", "graft-reference"], tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# Not root (REQUIRES: non-root): chmod a-w keeps such a user from writing a
# directory; root writes it anyway.
if hasattr(os, "geteuid") and os.geteuid() != 0:
    config.available_features.add("non-root")

# Graphviz, for the tests that render `graft inspect --dot` (REQUIRES: graphviz).
import shutil

if shutil.which("dot"):
    config.available_features.add("graphviz")

# MPI (libopenmpi-dev, openmpi-bin; scripts/install-deps.sh): data-parallel
# training under mpirun (REQUIRES: mpi). %mpi_flags compiles and links a C
# program against MPI with the test's own compiler (%cc); %mpirun starts
# ranks, more than this machine has cores if need be, also as root (a
# container's user).
import subprocess

if shutil.which("mpicc") and shutil.which("mpirun"):
    def showme(what):
        return subprocess.run(["mpicc", "--showme:" + what], capture_output=True,
                              text=True).stdout.strip()
    config.available_features.add("mpi")
    config.substitutions.append(("%mpi_flags", showme("compile") + " " + showme("link")))
    config.substitutions.append(("%mpirun", "mpirun --oversubscribe"))
    config.environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    config.environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"

# NumPy (python3-numpy, with scripts/install-deps.sh --torch): the tests that
# check graft train's .npy/.npz reader against files NumPy itself wrote
# (REQUIRES: numpy); the other data tests write them with the standard
# library.
import importlib.util

if importlib.util.find_spec("numpy"):
    config.available_features.add("numpy")

# graft import (lib/Import, built where libonnx-dev is): REQUIRES: graft-onnx.
if config.graft_have_onnx == "ON":
    config.available_features.add("graft-onnx")

# PyTorch (python3-torch, python3-torchvision, python3-onnx; scripts/install-deps.sh --torch)
# in Debian's Python, which the golden generators and tools/graft-export.py
# run in (REQUIRES: torch, torchvision): %torch_python runs them,
# %graft_export is the exporter.
torch_python = "/usr/bin/python3"
config.substitutions.append(("%torch_python", torch_python))
config.substitutions.append(("%graft_export", torch_python + " " +
                             os.path.join(config.graft_src_root, "tools", "graft-export.py")))
# One interpreter start, and find_spec rather than an import (importing torch
# takes seconds, and lit reads this file on every run).
try:
    found = subprocess.run(
        [torch_python, "-c", "import importlib.util as u; print(*[m for m in "
         "('torch', 'torchvision', 'onnx') if u.find_spec(m)])"],
        capture_output=True, text=True, timeout=60).stdout.split()
    config.available_features.update(found)
except (OSError, subprocess.SubprocessError):
    pass

# CUDA (docs/GPU.md): `ptxas` when a CUDA toolkit is installed (the PTX of the
# --target=cuda tests is assembled for sm_80 and sm_90), `cuda-device` when
# `nvidia-smi -L` lists a GPU (the tests that run kernels).
for cuda in [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"]:
    if cuda and os.access(os.path.join(cuda, "bin", "ptxas"), os.X_OK):
        config.available_features.add("ptxas")
        config.substitutions.append(("%ptxas", os.path.join(cuda, "bin", "ptxas")))
        break
try:
    if "GPU" in subprocess.run(["nvidia-smi", "-L"], capture_output=True,
                               text=True, timeout=30).stdout:
        config.available_features.add("cuda-device")
except (OSError, subprocess.SubprocessError):
    pass

# mlir-runner and MLIR's runner libraries from the LLVM installation: the
# tests that run lowered MLIR on the CPU (fuse-parallel-run.mlir).
llvm_lib_dir = os.path.join(os.path.dirname(config.llvm_tools_dir), "lib")
runner_libs = [os.path.join(llvm_lib_dir, "libmlir_%s.so" % name)
               for name in ("c_runner_utils", "runner_utils")]
if os.access(os.path.join(config.llvm_tools_dir, "mlir-runner"), os.X_OK) and \
        all(os.path.exists(lib) for lib in runner_libs):
    config.available_features.add("mlir-runner")
    config.substitutions.append(("%mlir_runner_libs", ",".join(runner_libs)))

# The host CPU's extensions (x86 /proc/cpuinfo flags), for the tests of a
# library compiled for a CPU this one is not (REQUIRES: cpu-lacks-amx).
try:
    with open("/proc/cpuinfo") as f:
        flags = next((l.split(":", 1)[1].split() for l in f if l.startswith("flags")), [])
    if flags and "amx_tile" not in flags:
        config.available_features.add("cpu-lacks-amx")
except OSError:
    pass
