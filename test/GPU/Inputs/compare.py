"""Compares two tensor dumps of Inputs/steps.c (CPU and CUDA libraries of one
model): every f32/f64 tensor within rtol/atol; prints the worst difference per
role and exits 1 on a mismatch."""
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
ok = a.keys() == b.keys()
worst = {}
for key, (dtype, va) in sorted(a.items()):
    vb = b.get(key, (None, []))[1]
    if len(va) != len(vb):
        ok = False
        continue
    for x, y in zip(va, vb):
        err = abs(x - y)
        if err > atol + rtol * abs(x) or x != x or y != y:
            if ok:
                print("mismatch: %s %s: %r vs %r" % (ROLES[key[0]], key[1], x, y))
            ok = False
        worst[key[0]] = max(worst.get(key[0], 0.0), err)
for role, err in sorted(worst.items()):
    print("%-13s max abs diff %.3g" % (ROLES[role], err))
print("MATCH" if ok else "MISMATCH")
sys.exit(0 if ok else 1)
