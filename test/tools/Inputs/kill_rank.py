"""Sends one rank of an MPI job SIGKILL (or --signal NAME) once the job
has written its first checkpoint, and checks that the job ends, every rank,
within a timeout (no rank waits forever for the dead one), and that the
checkpoint is whole (checkpoint.py verify).

usage: kill_rank.py CHECKPOINT RANK TIMEOUT [--signal NAME] -- MPIRUN...

Prints "job ended: status S" (mpirun's) and "checkpoint: ok ..."; exits 1
otherwise.
"""
import os
import signal
import subprocess
import sys
import time

ckpt, rank, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
dash = sys.argv.index("--")
sig = signal.SIGKILL
if "--signal" in sys.argv[:dash]:
    sig = getattr(signal, "SIG" + sys.argv[sys.argv.index("--signal") + 1])
command = sys.argv[dash + 1:]
job = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, start_new_session=True)


def ranks_of(root):
    """The descendants of process `root` with their MPI ranks."""
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        try:
            children = open("/proc/%d/task/%d/children" % (pid, pid)).read().split()
        except OSError:
            children = []
        for c in map(int, children):
            todo.append(c)
            try:
                env = open("/proc/%d/environ" % c, "rb").read().split(b"\0")
            except OSError:
                continue
            for e in env:
                if e.startswith(b"OMPI_COMM_WORLD_RANK="):
                    found[e.split(b"=", 1)[1].decode()] = c
    return found


deadline = time.time() + 120
while not os.path.exists(ckpt):
    if job.poll() is not None or time.time() > deadline:
        sys.exit("the job ended (status %s) before its first checkpoint" % job.poll())
    time.sleep(0.05)
ranks = {}
while len(ranks) < 2 and time.time() < deadline:  # every rank has started
    ranks = ranks_of(job.pid)
victim = ranks.get(rank)
if victim is None:
    os.killpg(job.pid, signal.SIGKILL)
    sys.exit("no process of rank %s" % rank)
os.kill(victim, sig)
try:
    status = job.wait(timeout=timeout)
except subprocess.TimeoutExpired:
    os.killpg(job.pid, signal.SIGKILL)
    sys.exit("the job still runs %g s after rank %s died" % (timeout, rank))


def alive(pid):
    try:
        return open("/proc/%d/stat" % pid).read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


time.sleep(0.5)
left = [r for r, pid in ranks.items() if alive(pid)]
if left:
    os.killpg(job.pid, signal.SIGKILL)
    sys.exit("ranks %s outlived the job" % sorted(left))
print("job ended: status %d" % status)
here = os.path.dirname(os.path.abspath(__file__))
check = subprocess.run([sys.executable, os.path.join(here, "checkpoint.py"),
                        "verify", ckpt], capture_output=True, text=True)
print("checkpoint: " + check.stdout.strip())
sys.exit(check.returncode)
