"""Compiles MODEL.graft for the CPU and for CUDA, runs Inputs/steps.c against
both (CUDA twice: state copied per step, state resident) and compares the
dumps with compare.py. Prints 'copied: MATCH' and 'resident: MATCH'.
    cpu_vs_cuda.py MODEL.graft NAME WORKDIR [graft]"""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
model, name, work = sys.argv[1], sys.argv[2], sys.argv[3]
graft = sys.argv[4] if len(sys.argv) > 4 else "graft"
os.makedirs(work, exist_ok=True)


def run(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("%s failed (%d):\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r.stdout


# The CPU library's threads run on the runtime's own pool (pthreads).
thread_libs = ["-pthread"]

for target in ["cpu", "cuda"]:
    out = os.path.join(work, target)
    run(graft, "compile", "--target=" + target, model, "-o", out)
    exe = os.path.join(work, "steps-" + target)
    run("cc", "-std=c11", "-O1", "-Wall", "-Werror", "-I" + out,
        '-DMODEL_HEADER="%s.h"' % name, "-DMODEL=graft_model_" + name,
        *(["-DGRAFT_CUDA"] if target == "cuda" else []),
        os.path.join(here, "steps.c"), os.path.join(out, "lib%s.a" % name),
        "-lm", *thread_libs, "-o", exe)
cpu = os.path.join(work, "cpu.bin")
print(run(os.path.join(work, "steps-cpu"), cpu), end="")
ok = True
for mode in ["copied", "resident"]:
    dump = os.path.join(work, mode + ".bin")
    print(run(os.path.join(work, "steps-cuda"), dump, *(["resident"] if mode == "resident" else [])), end="")
    r = subprocess.run([sys.executable, os.path.join(here, "compare.py"), cpu, dump, "1e-3", "1e-4"],
                       capture_output=True, text=True)
    print(r.stdout, end="")
    verdict = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else "MISMATCH"
    print("%s: %s" % (mode, verdict))
    ok = ok and r.returncode == 0
sys.exit(0 if ok else 1)
