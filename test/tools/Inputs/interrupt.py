"""Runs COMMAND... (a graft train with --eval-every 1, so that it prints a
line a step), sends it SIGNAL once it has printed AFTER "step" lines, and
prints its exit status and its last line.

usage: interrupt.py SIGNAL AFTER COMMAND...
"""
import signal
import subprocess
import sys

sig = getattr(signal, sys.argv[1])
after = int(sys.argv[2])
# lit's workers ignore SIGINT, and graft keeps an ignored signal ignored
# (nohup): the child gets the default disposition, as from a shell.
p = subprocess.Popen(sys.argv[3:], stdout=subprocess.PIPE, text=True,
                     preexec_fn=lambda: signal.signal(sig, signal.SIG_DFL))
steps, last = 0, ""
for line in p.stdout:
    last = line.rstrip("\n")
    if line.startswith("step "):
        steps += 1
        if steps == after:
            p.send_signal(sig)
rc = p.wait(timeout=120)
print("exit %d: %s" % (rc, last))
