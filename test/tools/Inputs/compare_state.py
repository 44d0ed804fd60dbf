"""Compares the F32 tensors of two safetensors files by name (the Python
standard library only): every tensor of EXPECTED must be in ACTUAL, with
|actual - expected| <= ATOL + RTOL * |expected| element by element.

usage: compare_state.py ACTUAL EXPECTED [--rtol R] [--atol A]
       [--losses LOSSES_TXT --log GRAFT_OUTPUT]
  --losses also compares graft train's "step N ...: loss L" lines with the
  expected losses (one a line), to the 4 decimals graft prints.
"""
import argparse
import json
import re
import struct
import sys


def read(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        a, b = info["data_offsets"]
        blob = data[8 + n + a:8 + n + b]
        out[name] = (info["shape"], struct.unpack("<%df" % (len(blob) // 4), blob))
    return out


p = argparse.ArgumentParser()
p.add_argument("actual")
p.add_argument("expected")
p.add_argument("--rtol", type=float, default=1e-4)
p.add_argument("--atol", type=float, default=1e-5)
p.add_argument("--losses")
p.add_argument("--log")
args = p.parse_args()
actual, expected = read(args.actual), read(args.expected)
worst = 0.0
for name, (shape, values) in expected.items():
    if name not in actual:
        sys.exit("%s lacks %s" % (args.actual, name))
    got_shape, got = actual[name]
    if got_shape != shape:
        sys.exit("%s: shape %s, expected %s" % (name, got_shape, shape))
    for i, (g, e) in enumerate(zip(got, values)):
        if abs(g - e) > args.atol + args.rtol * abs(e):
            sys.exit("%s[%d]: %r, expected %r" % (name, i, g, e))
        worst = max(worst, abs(g - e))
if args.losses:
    want = [float(l) for l in open(args.losses).read().split()]
    got = [float(m) for m in re.findall(r"^step \d+ .*?: loss ([0-9.]+)",
                                        open(args.log).read(), re.M)]
    if len(got) != len(want):
        sys.exit("%d step losses, expected %d" % (len(got), len(want)))
    for i, (g, e) in enumerate(zip(got, want)):
        if abs(g - e) > 5.1e-5:
            sys.exit("step %d: loss %.4f, expected %.6f" % (i + 1, g, e))
print("match: %d tensors (largest difference %.3g)%s" %
      (len(expected), worst, ", %d losses" % len(want) if args.losses else ""))
