"""Checks a `graft train --log` CSV: the loss falls, the accuracy passes
(check_training.py LOG THRESHOLD), or the loss falls (check_training.py LOG
--no-accuracy)."""
import csv
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
losses = [float(r["loss"]) for r in rows]
if not losses[-1] < losses[0]:
    sys.exit(f"the loss did not fall: {losses}")
if sys.argv[2] == "--no-accuracy":
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    sys.exit(0)
threshold = float(sys.argv[2])
final = float(rows[-1]["test_accuracy"])
if not final >= threshold:
    sys.exit(f"final test accuracy {final}% is below {threshold}%")
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}, test accuracy {final}%")
