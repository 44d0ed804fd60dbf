"""Counts the kernels that `graft compile --target=cuda --emit-ptx` wrote for
each entry point (one module per kernel: NAME.<entry>_kernel[_N].<chip>.ptx)
and the global store instructions in each (compile.test)."""
import glob
import os
import re
import sys

outdir, chip = sys.argv[1], sys.argv[2]
kernels = {}
for path in glob.glob(os.path.join(outdir, "*.%s.ptx" % chip)):
    module = os.path.basename(path).split(".")[1]
    entry = re.sub(r"_kernel(_[0-9]+)?$", "", module)
    with open(path) as f:
        stores = len(re.findall(r"\bst\.global\.", f.read()))
    kernels.setdefault(entry, []).append(stores)
for entry in sorted(kernels):
    stores = sorted(kernels[entry])
    print("%s: %d kernels, global stores per kernel: %s"
          % (entry, len(stores), " ".join(map(str, stores))))
