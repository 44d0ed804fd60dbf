"""Assembles every NAME.<module>.<chip>.ptx in a directory with
`ptxas -arch=<chip>`; prints how many modules each chip has, exits 1 if
ptxas rejects one or the chips' module counts differ."""
import collections
import os
import subprocess
import sys

ptxas, directory = sys.argv[1], sys.argv[2]
counts = collections.Counter()
failed = False
for name in sorted(os.listdir(directory)):
    if not name.endswith(".ptx"):
        continue
    chip = name[:-4].rsplit(".", 1)[1]
    r = subprocess.run([ptxas, "-arch=" + chip, os.path.join(directory, name),
                        "-o", os.devnull], capture_output=True, text=True)
    if r.returncode != 0:
        print("ptxas rejected %s:\n%s" % (name, r.stderr))
        failed = True
    counts[chip] += 1
print("ptxas accepted %d sm_80 and %d sm_90 kernel modules"
      % (counts["sm_80"], counts["sm_90"]))
sys.exit(1 if failed or counts["sm_80"] != counts["sm_90"] or not counts else 0)
