"""Compares the F32 tensors of two safetensors files by name (the Python
standard library only): every tensor of EXPECTED must be in ACTUAL, with
|actual - expected| <= ATOL + RTOL * |expected| element by element.

usage: compare_state.py ACTUAL EXPECTED [--rtol R] [--atol A] [--skip RE]
       [--update-from INIT --update-tol T]
       [--losses LOSSES_TXT --log GRAFT_OUTPUT]
  --skip leaves out the tensors whose names match the regular expression.
  --update-from compares the updates instead, ACTUAL - INIT with
  EXPECTED - INIT: for each tensor that moved, the largest difference must
  be at most T times the expected update's largest element (training's
  rounding measured against the size of what it changed).
  --losses also compares graft train's "step N ...: loss L" lines with the
  expected losses (one a line), to the 4 decimals graft prints, give or
  take a relative 1e-5 (f32 rounding can carry a loss across a 4th
  decimal's rounding boundary).
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
p.add_argument("--skip")
p.add_argument("--update-from")
p.add_argument("--update-tol", type=float, default=1e-3)
p.add_argument("--losses")
p.add_argument("--log")
args = p.parse_args()
actual, expected = read(args.actual), read(args.expected)
init = read(args.update_from) if args.update_from else None
worst = 0.0
for name, (shape, values) in expected.items():
    if args.skip and re.search(args.skip, name):
        continue
    if name not in actual:
        sys.exit("%s lacks %s" % (args.actual, name))
    got_shape, got = actual[name]
    if got_shape != shape:
        sys.exit("%s: shape %s, expected %s" % (name, got_shape, shape))
    if init is not None:
        start = init[name][1]
        size = max(abs(e - s) for e, s in zip(values, start))
        if size == 0:
            continue
        off = max(abs((g - s) - (e - s)) for g, e, s in zip(got, values, start)) / size
        if off > args.update_tol:
            sys.exit("%s: the update is off by %.3g of its largest element" % (name, off))
        worst = max(worst, off)
        continue
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
        # Half a unit of the 4th decimal graft prints, plus f32 rounding
        # of the loss itself (relative).
        if abs(g - e) > 5e-5 + 1e-5 * abs(e):
            sys.exit("step %d: loss %.4f, expected %.6f" % (i + 1, g, e))
print("match: %d tensors (largest %s %.3g)%s" %
      (len(expected), "update difference" if init else "difference", worst,
       ", %d losses" % len(want) if args.losses else ""))
