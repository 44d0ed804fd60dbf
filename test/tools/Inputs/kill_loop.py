"""Kills a checkpointing program with SIGKILL at random moments, again and
again, and checks after each kill that the checkpoint on disk is a whole
file, the old one or a new one, never a torn one (issue 24).

usage: kill_loop.py [options] DIR NAME -- COMMAND...

The checkpoint is DIR/1/NAME (with --jobs J, chains DIR/1/NAME to
DIR/J/NAME run at once). Each run starts COMMAND, with "{ckpt}" in it
replaced by the checkpoint's path and the word "{resume}" by "--resume
CHECKPOINT" when the checkpoint exists (dropped otherwise), waits until the
run has put a checkpoint of its own in place (CHECKPOINT's inode changes:
every save renames a new file over it), sleeps a random time of up to
--max-delay seconds (seeded: --seed) and kills it with SIGKILL. Then:
  - CHECKPOINT is whole: checkpoint.py's verify (structure, every byte
    range, the graft.checksum, which it must have), and --check COMMAND
    (with "{}" the checkpoint), when given, exits 0;
  - its graft.steps (or, with --property KEY, that user property) grew
    since the last kill: each run continued from the last checkpoint;
  - no temporary of CHECKPOINT is left but the killed run's own (at most
    one): the next run removes it before it saves.
The runs resume one another, so every checkpoint is also read back by the
program's own loader. Prints one line of totals; exits 1 at a failure,
naming the job and the run.
"""
import argparse
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint  # noqa: E402


class Failed(Exception):
    pass


def fail(run, msg, proc=None):
    text = "FAIL: run %d: %s\n" % (run, msg)
    if proc is not None:
        out, err = proc.communicate()
        text += err.decode(errors="replace")[-2000:]
    raise Failed(text)


def inode(path):
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


def chain(a, command, path, runs, rng, totals):
    """`runs` runs killed one after the other, each resuming the last."""
    directory = os.path.dirname(path) or "."
    temporary = re.compile(re.escape(os.path.basename(path)) +
                           r"\.tmp-([1-9][0-9]*)-[0-9a-f]{6}$")
    last = -1
    for run in range(1, runs + 1):
        before = inode(path)
        argv = []
        for word in command:
            if word == "{resume}":
                argv += ["--resume", path] if before is not None else []
            else:
                argv.append(word.replace("{ckpt}", path))
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + a.timeout
        while inode(path) == before:
            if proc.poll() is not None:
                fail(run, "exited with %d before it saved a checkpoint"
                     % proc.returncode, proc)
            if time.monotonic() > deadline:
                proc.kill()
                fail(run, "no checkpoint after %g s" % a.timeout, proc)
            time.sleep(0.001)
        time.sleep(rng.uniform(0, a.max_delay))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.returncode != -signal.SIGKILL:
            fail(run, "ended with %d before the kill" % proc.returncode, proc)
        proc.stderr.close()
        # At most the killed run's own temporary.
        temps = [m for m in (temporary.match(n) for n in os.listdir(directory)) if m]
        if len(temps) > 1 or any(int(m.group(1)) != proc.pid for m in temps):
            fail(run, "temporaries left: %s" % ", ".join(m.group(0) for m in temps))
        totals["left"] += len(temps)
        try:
            header = checkpoint.verify(path, require_checksum=True)
        except Exception as e:  # noqa: BLE001
            fail(run, "%s is damaged after the kill: %s" % (path, e))
        meta = header["__metadata__"]
        count = int(meta["user." + a.property] if a.property else meta["graft.steps"])
        if count <= last:
            fail(run, "the checkpoint went back: %d after %d" % (count, last))
        last = count
        if a.check:
            argv = [w.replace("{}", path) for w in a.check.split()]
            r = subprocess.run(argv, capture_output=True, text=True)
            if r.returncode != 0:
                fail(run, "%s: exit %d\n%s%s" % (a.check, r.returncode, r.stdout, r.stderr))
        totals["kills"] += 1
        totals["last"].append(last)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=1,
                    help="chains run at once, each in its own directory "
                         "(DIR/1, DIR/2, ...) with its share of the runs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-delay", type=float, default=0.05)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--check", help="a command that must accept the checkpoint ({})")
    ap.add_argument("--property", help="a user property that counts the saves")
    ap.add_argument("dir")
    ap.add_argument("name")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    totals = {"kills": 0, "left": 0, "last": []}
    errors = []
    start = time.monotonic()

    def job(j):
        os.makedirs(os.path.join(a.dir, str(j)), exist_ok=True)
        path = os.path.join(a.dir, str(j), a.name)
        runs = a.runs // a.jobs + (j <= a.runs % a.jobs)
        try:
            chain(a, command, path, runs, random.Random(a.seed * 1000 + j), totals)
        except Failed as e:
            errors.append("job %d: %s" % (j, e))
        except Exception as e:  # noqa: BLE001
            errors.append("job %d: FAIL: %r\n" % (j, e))

    threads = [threading.Thread(target=job, args=(j,)) for j in range(1, a.jobs + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.stdout.write("".join(errors))
        return 1
    print("%d kills: every checkpoint whole (last %s: %s); %d kills left a "
          "temporary, each removed by the next run; %.1f s"
          % (totals["kills"], a.property or "steps",
             ", ".join(map(str, totals["last"][-a.jobs:])), totals["left"],
             time.monotonic() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
