#!/usr/bin/env python3
"""Compiles every model of the IR files of a directory for the CPU and for
CUDA.

    compile_models.py GRAFT DIR

The gradcheck files hold a model per op (and per autograd rule): compiling
each for both targets (`graft compile`, `graft compile --target=cuda
--emit-ptx`) runs every op through the whole pipeline, its backward
included, to object code and PTX. Models with a hand-written backward
(graft.gradient ops, which graft compile refuses to derive again) are left
out. A model CUDA refuses by design (a
gradient hook inside the backward) must be refused with that message;
anything else that fails, crashes or hangs is listed. Prints one summary
line."""
import glob
import os
import re
import subprocess
import sys
import tempfile

# What --target=cuda refuses on purpose, with the words it uses.
REFUSED_FOR_CUDA = "--target=cuda cannot call hooks inside the backward"


def main():
    graft, directory = sys.argv[1], sys.argv[2]
    models, handwritten = [], 0
    for f in sorted(glob.glob(os.path.join(directory, "*.mlir"))):
        with open(f) as fh:
            # Each model's text, up to the next one.
            parts = re.split(r"^(?=graft\.model @)", fh.read(), flags=re.M)
        for part in parts:
            m = re.match(r"graft\.model @([A-Za-z0-9_]+)", part)
            if not m:
                continue
            if "graft.gradient" in part:
                handwritten += 1
            else:
                models.append((f, m.group(1)))
    failures, cpu, cuda, refused = [], 0, 0, 0
    with tempfile.TemporaryDirectory() as out:
        for f, m in models:
            for target in ("cpu", "cuda"):
                cmd = [graft, "compile", f, "--model", m,
                       "-o", os.path.join(out, target + "-" + m)]
                if target == "cuda":
                    cmd[2:2] = ["--target=cuda", "--emit-ptx"]
                try:
                    r = subprocess.run(cmd, capture_output=True, text=True,
                                       timeout=120)
                except subprocess.TimeoutExpired:
                    failures.append(f"{m} ({target}): no answer in 120 s")
                    continue
                if r.returncode == 0:
                    cpu += target == "cpu"
                    cuda += target == "cuda"
                elif target == "cuda" and r.returncode == 1 and \
                        REFUSED_FOR_CUDA in r.stderr:
                    refused += 1
                else:
                    first = (r.stderr.strip().splitlines() or ["(no message)"])[0]
                    failures.append(f"{m} ({target}): exit {r.returncode}: {first}")
    for line in failures:
        print("FAIL", line)
    print(f"{len(models)} models ({handwritten} with a hand-written backward "
          f"left out): {cpu} compiled for the CPU, {cuda} for CUDA, {refused} "
          f"refused for CUDA (hooks inside the backward), {len(failures)} "
          f"failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
