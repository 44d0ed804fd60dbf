"""Reads graft-reference outputs and checks that each loss lies in [lo, hi].

usage: check_dropout_stats.py LO HI FILE...
"""
import sys

lo, hi = float(sys.argv[1]), float(sys.argv[2])
bad = 0
for path in sys.argv[3:]:
    losses = [float(line.split()[3]) for line in open(path)
              if line.startswith("loss ")]
    if len(losses) != 1:
        print("%s: expected one loss, found %d" % (path, len(losses)))
        bad += 1
        continue
    ok = lo <= losses[0] <= hi
    print("%s: loss %.6f %s [%g, %g]" % (path, losses[0],
                                         "in" if ok else "NOT in", lo, hi))
    bad += not ok
sys.exit(1 if bad else 0)
