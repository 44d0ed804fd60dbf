"""Compares two tensor dumps of Inputs/steps.c (CPU and CUDA libraries of one
model): every f32/f64 tensor within rtol/atol; prints the worst difference per
role and exits 1 on a mismatch.
    compare.py REF.bin OTHER.bin RTOL ATOL [norm]
Elementwise, |x - y| <= ATOL + RTOL * |x| (x from REF). With `norm`, RTOL is
relative to the largest |x| of the tensor instead: the tolerance of a
reduced-precision product (TF32), whose error scales with the sum of the
magnitudes of its terms rather than with the result."""
import struct
import sys


def read(path):
    out = {}
    data = open(path, "rb").read()
    pos = 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        role, dtype, name, nbytes = data[pos:end].decode().split(" ")
        nbytes = int(nbytes)
        raw = data[end + 1:end + 1 + nbytes]
        pos = end + 1 + nbytes
        fmt = {"0": "f", "1": "d", "3": "q", "4": "i"}.get(dtype)
        vals = list(struct.unpack("<%d%s" % (nbytes // struct.calcsize(fmt), fmt), raw)) if fmt else []
        out[(int(role), name)] = (dtype, vals)
    return out


ROLES = ["param", "buffer", "grad", "opt_state", "hyper", "seed", "input",
         "loss", "output", "input_grad", "retained_grad"]
a, b = read(sys.argv[1]), read(sys.argv[2])
rtol, atol = float(sys.argv[3]), float(sys.argv[4])
norm = len(sys.argv) > 5 and sys.argv[5] == "norm"
ok = a.keys() == b.keys()
worst, rel = {}, {}
for key, (dtype, va) in sorted(a.items()):
    vb = b.get(key, (None, []))[1]
    if len(va) != len(vb):
        ok = False
        continue
    scale = max((abs(x) for x in va), default=0.0) if norm else None
    for x, y in zip(va, vb):
        err = abs(x - y)
        if err > atol + rtol * (scale if norm else abs(x)) or x != x or y != y:
            if ok:
                print("mismatch: %s %s: %r vs %r" % (ROLES[key[0]], key[1], x, y))
            ok = False
        worst[key[0]] = max(worst.get(key[0], 0.0), err)
        if scale:
            rel[key[0]] = max(rel.get(key[0], 0.0), err / scale)
for role, err in sorted(worst.items()):
    print("%-13s max abs diff %.3g%s" % (
        ROLES[role], err,
        " (%.3g of the tensor's largest)" % rel[role] if role in rel else ""))
print("MATCH" if ok else "MISMATCH")
sys.exit(0 if ok else 1)
