"""Checks a `graft train --log` CSV: the loss falls, the accuracy passes."""
import csv
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
threshold = float(sys.argv[2])
losses = [float(r["loss"]) for r in rows]
final = float(rows[-1]["test_accuracy"])
if not losses[-1] < losses[0]:
    sys.exit(f"the loss did not fall: {losses}")
if not final >= threshold:
    sys.exit(f"final test accuracy {final}% is below {threshold}%")
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}, test accuracy {final}%")
