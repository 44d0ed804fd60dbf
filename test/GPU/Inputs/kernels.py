"""Counts the kernels that `graft compile --target=cuda --emit-ptx` wrote for
each entry point (one module, NAME.graft_kernels.<chip>.ptx, whose kernels
are named <entry>_kernel[_N]) and the global store instructions in each
(compile.test)."""
import glob
import os
import re
import sys

outdir, chip = sys.argv[1], sys.argv[2]
kernels = {}
for path in glob.glob(os.path.join(outdir, "*.%s.ptx" % chip)):
    with open(path) as f:
        ptx = f.read()
    # Each kernel runs from its .entry to the next one.
    parts = re.split(r"\.visible \.entry (\w+)\(", ptx)
    for name, body in zip(parts[1::2], parts[2::2]):
        entry = re.sub(r"_kernel(_[0-9]+)?$", "", name)
        stores = len(re.findall(r"\bst\.global\.", body))
        kernels.setdefault(entry, []).append(stores)
for entry in sorted(kernels):
    stores = sorted(kernels[entry])
    print("%s: %d kernels, global stores per kernel: %s"
          % (entry, len(stores), " ".join(map(str, stores))))
