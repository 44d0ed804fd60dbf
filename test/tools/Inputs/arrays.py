"""Writes the data files graft train reads, with the Python standard library
only (NumPy's .npy format and .npz zip archives, safetensors, CSV), so the
tests need no NumPy; and damaged ones.

usage:
  arrays.py regression DIR   y = x @ [1, -2, 0.5] + 0.3 for 96 samples of x
      (a seeded LCG): DIR/reg.csv, reg.npz (stored), regz.npz (deflated),
      x.npy, y.npy, reg.safetensors; and two.csv for a two-input
      classifier (a f32[2], b f32[2], label i64: whether a.b > 0)
  arrays.py bad DIR          damaged and mismatched files (see below)
"""
import json
import os
import struct
import sys
import zipfile

DESCR = {"f4": ("<f4", "f", "F32"), "f8": ("<f8", "d", "F64"),
         "i8": ("<i8", "q", "I64"), "i4": ("<i4", "i", "I32"),
         "u1": ("|u1", "B", None)}


def npy(values, shape, dtype="f4", fortran=False, descr=None):
    """The bytes of a .npy file (format 1.0) of `values` (flat)."""
    d, code, _ = DESCR[dtype]
    shape_text = "(" + "".join("%d, " % n for n in shape).rstrip(" ")
    if len(shape) != 1:
        shape_text = shape_text.rstrip(",")
    shape_text += ")"
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr or d, "True" if fortran else "False", shape_text)
    pad = 64 - (10 + len(header) + 1) % 64
    header = (header + " " * pad + "\n").encode("latin1")
    return (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header +
            struct.pack("<%d%s" % (len(values), code), *values))


def npz(path, arrays, compress=False):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED if compress
                         else zipfile.ZIP_STORED) as z:
        for name, data in arrays.items():
            z.writestr(name + ".npy", data)


def safetensors(path, tensors):
    """tensors: name -> (values, shape, dtype)."""
    header, blobs, offset = {}, [], 0
    for name, (values, shape, dtype) in tensors.items():
        _, code, st = DESCR[dtype]
        blob = struct.pack("<%d%s" % (len(values), code), *values)
        header[name] = {"dtype": st, "shape": shape,
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def lcg(seed):
    state = seed
    while True:
        state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
        yield ((state >> 33) / 2**31) * 2 - 1


def regression(d):
    r = lcg(7)
    n = 96
    x = [round(next(r), 4) for _ in range(3 * n)]
    y = [round(x[3 * i] - 2 * x[3 * i + 1] + 0.5 * x[3 * i + 2] + 0.3, 4)
         for i in range(n)]
    with open(os.path.join(d, "reg.csv"), "w") as f:
        f.write("x0,x1,x2,y\n")
        for i in range(n):
            f.write("%g,%g,%g,%g\n" % (x[3 * i], x[3 * i + 1], x[3 * i + 2], y[i]))
    arrays = {"x": npy(x, [n, 3]), "y": npy(y, [n, 1])}
    npz(os.path.join(d, "reg.npz"), arrays)
    npz(os.path.join(d, "regz.npz"), arrays, compress=True)
    for name, data in arrays.items():
        with open(os.path.join(d, name + ".npy"), "wb") as f:
            f.write(data)
    safetensors(os.path.join(d, "reg.safetensors"),
                {"x": (x, [n, 3], "f4"), "y": (y, [n, 1], "f4")})
    with open(os.path.join(d, "two.csv"), "w") as f:
        for i in range(n):
            a, b = x[3 * i: 3 * i + 2], x[3 * i + 1: 3 * i + 3]
            label = int(a[0] * b[0] + a[1] * b[1] > 0)
            f.write("%g,%g,%g,%g,%d\n" % (a[0], a[1], b[0], b[1], label))


def bad(d):
    n = 16
    xs = [0.5] * (3 * n)
    ys = [1.0] * n
    w = lambda name, data: open(os.path.join(d, name), "wb").write(data)
    # The shape after the batch differs from the input's.
    w("x4.npy", npy([0.5] * (4 * n), [n, 4]))
    # Floats for an integer input; integers out of the embedding's range.
    npz(os.path.join(d, "float-ids.npz"),
        {"ids": npy([1.0] * (n * 2), [n, 2]), "y": npy(ys, [n, 1])})
    npz(os.path.join(d, "big-ids.npz"),
        {"ids": npy([1] * (n * 2 - 1) + [7], [n, 2], "i8"),
         "y": npy(ys, [n, 1])})
    # uint8 pixels for a float input are fine (converted exactly).
    npz(os.path.join(d, "u8.npz"),
        {"x": npy([3] * (3 * n), [n, 3], "u1"), "y": npy(ys, [n, 1])})
    # A nan; a missing array; lengths that differ.
    npz(os.path.join(d, "nan.npz"),
        {"x": npy(xs[:-1] + [float("nan")], [n, 3]), "y": npy(ys, [n, 1])})
    npz(os.path.join(d, "no-y.npz"), {"x": npy(xs, [n, 3])})
    npz(os.path.join(d, "short.npz"),
        {"x": npy(xs, [n, 3]), "y": npy(ys[:-1], [n - 1, 1])})
    # Truncated; Fortran order; big-endian; not an .npy at all.
    w("truncated.npy", npy(xs, [n, 3])[:-5])
    w("fortran.npy", npy(xs, [n, 3], fortran=True))
    w("big-endian.npy", npy(xs, [n, 3], descr=">f4"))
    w("not.npy", b"x0,x1,x2\n1,2,3\n")
    # A zip member whose bytes no longer match its CRC-32.
    good = os.path.join(d, "reg-crc.npz")
    npz(good, {"x": npy(xs, [n, 3]), "y": npy(ys, [n, 1])})
    data = bytearray(open(good, "rb").read())
    at = data.find(b"\x93NUMPY") + 200
    data[at] ^= 0x40
    w("crc.npz", bytes(data))
    w("not.npz", b"PK\x03\x04 truncated")
    # examples/gpt.graft's inputs: pos is [T], not a batch of samples.
    npz(os.path.join(d, "gpt.npz"),
        {"idx": npy([1] * (8 * 32), [8, 32], "i8"),
         "targets": npy([1] * (8 * 32), [8, 32], "i8"),
         "pos": npy([0] * 8, [8], "i8")})


if __name__ == "__main__":
    {"regression": regression, "bad": bad}[sys.argv[1]](sys.argv[2])
