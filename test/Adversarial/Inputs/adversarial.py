"""Generates a corpus of adversarial inputs and runs Graft's readers on them.

usage: adversarial.py SUITE --graft BIN --graft-opt BIN --src ROOT --work DIR
                      [--timeout S] [--jobs N] [--shard I/N] [--keep-going]

SUITE is one of: models, ir, data, checkpoints. The corpus is generated
deterministically (fixed seeds) into DIR at test time; nothing large is
committed. Every case runs each command that reads it under a timeout, and
a case passes when every run

  - exits 0, or 1 (Graft's exit code for an input with errors): not killed by
    a signal, not 2 (a wrong command line means the driver is wrong), and no
    timeout (a hang);
  - prints no "Assertion", "Stack dump", "PLEASE submit a bug report" and no
    sanitizer report;
  - when it fails, prints located errors: every `error:` line names one of
    the case's files (path or basename), with `:line:col` for model files
    and IR, `:line` (and `:col` for a field) for data files, and the tensor's
    name or the header (or a whole-file property: the checksum, a truncated
    file) for checkpoints.

One line per case (PASS/FAIL/SKIP) and a summary line:
  adversarial SUITE: N cases, R runs, F failures, S skipped
"""

import argparse
import concurrent.futures
import json
import os
import random
import re
import resource
import signal
import struct
import subprocess
import sys
import time

# Cases that expose a bug outside what this suite's author could fix, with
# the file it is in: skipped (and counted) until it is fixed. Each entry is
# "suite/case": "why".
KNOWN_BUGS = {
}

# --------------------------------------------------------------------------
# Running and judging one command
# --------------------------------------------------------------------------

CRASH_MARKERS = [
    "Assertion", "Stack dump", "PLEASE submit a bug report",
    "AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
    "MemorySanitizer", "ThreadSanitizer", "runtime error:",
    "terminate called", "Segmentation fault", "UNREACHABLE executed",
    "LLVM ERROR",
]

ERROR_LINE = re.compile(r"\berror:")


def is_sanitized(binary):
    if os.environ.get("ASAN_OPTIONS") or os.environ.get("UBSAN_OPTIONS"):
        return True
    try:
        with open(binary, "rb") as f:
            data = f.read()
        return b"__asan_init" in data or b"__ubsan_handle" in data
    except OSError:
        return False


MEMORY_LIMIT = None  # bytes of address space per run; None under sanitizers


def limit_child():
    os.setsid()
    if MEMORY_LIMIT:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run(argv, timeout, cwd):
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=limit_child)
    except OSError as e:  # e.g. the binary is being relinked
        return (2, False, "", "adversarial.py: cannot run %s: %s" % (argv[0], e), 0.0)
    try:
        out, err = proc.communicate(timeout=timeout)
        hung = False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        out, err = proc.communicate()
        hung = True
    return (proc.returncode, hung, out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"), time.monotonic() - start)


def first_line(text, limit=200):
    for line in text.splitlines():
        if line.strip():
            return line[:limit] + ("..." if len(line) > limit else "")
    return ""


class Judge:
    """What a located error of one suite looks like."""

    def __init__(self, kind, names):
        self.kind = kind            # "linecol", "data" or "checkpoint"
        self.names = names          # the case's files: paths and basenames

    def file_alt(self):
        alts = set()
        for n in self.names:
            alts.add(re.escape(n))
            alts.add(re.escape(os.path.basename(n)))
        return "(?:" + "|".join(sorted(alts, key=len, reverse=True)) + ")"

    def unlocated(self, stderr):
        """The first error line that is not located, or None."""
        f = self.file_alt()
        if self.kind == "linecol":
            good = [re.compile(f + r":\d+:\d+: error:"),
                    # Whole-file errors: nothing to point at inside the file.
                    re.compile(f + r": error: (no model declared|no graft.model found)"),
                    re.compile(r"error: cannot open (input file )?'" + f + "'")]
        elif self.kind == "data":
            good = [re.compile(f + r":\d+(?::\d+)?: error:"),
                    # Whole-file errors: nothing to point at inside the file.
                    re.compile(f + r": error: (cannot read|the data file)"),
                    re.compile(r"error: " + f + r" has \d+ samples")]
        else:  # checkpoint
            # The reader's errors ("F: error: tensor 'w' ...", "the header
            # ..."), and the run's ("graft: error: F has no tensor 'w'",
            # "F: bad graft.steps '-1'").
            good = [re.compile(r"(?=.*" + f + r").*error: .*('[^']*'|header|"
                               r"checksum|truncated|cannot read|too short|"
                               r"JSON|graft\.\w+|--seed)")]
        # The front-end's last line after 20 errors, which are checked.
        lines = [l for l in stderr.splitlines() if ERROR_LINE.search(l)
                 and l != "graft: error: too many errors, stopping"]
        if not lines:
            return "(no error line)"
        for l in lines:
            if not any(g.search(l) for g in good):
                return l
        return None


def judge(result, judge_):
    rc, hung, out, err, secs = result
    if hung:
        return "hang (timeout after %.0f s)" % secs
    if rc is None or rc < 0:
        return "killed by signal %d" % -rc
    for m in CRASH_MARKERS:
        if m in err or m in out:
            return "crash marker %r in the output" % m
    if rc not in (0, 1):
        return "exit code %d: %s" % (rc, first_line(err))
    if rc == 1:
        bad = judge_.unlocated(err)
        if bad:
            return "unlocated error: " + bad[:300]
    return None


# --------------------------------------------------------------------------
# Helpers to write the corpus
# --------------------------------------------------------------------------

class Corpus:
    def __init__(self, work):
        self.work = work
        os.makedirs(work, exist_ok=True)

    def path(self, name):
        return os.path.join(self.work, name)

    def write(self, name, data):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if isinstance(data, str):
            # "\xff" in a case's text is the byte 0xFF; other characters
            # (a byte order mark) are written as UTF-8.
            try:
                data = data.encode("latin-1")
            except UnicodeEncodeError:
                data = data.encode("utf-8")
        with open(p, "wb") as f:
            f.write(data)
        return p

    def symlink(self, name, target):
        p = self.path(name)
        if os.path.lexists(p):
            os.remove(p)
        os.symlink(target, p)
        return p

    def mkdir(self, name):
        p = self.path(name)
        os.makedirs(p, exist_ok=True)
        return p


class Case:
    def __init__(self, name, commands, files, kind):
        self.name = name
        self.commands = commands    # list of argv lists
        self.files = files          # the files whose names may locate errors
        self.kind = kind


def model(body, dims="", pre=""):
    """A small model whose body is `body` (lines, indented)."""
    lines = [pre, dims, "model m {", "  input x: f32[4]"]
    lines += ["  " + l for l in body.split("\n")]
    lines += ["}", ""]
    return "\n".join(l for l in lines if l is not None)


# --------------------------------------------------------------------------
# Model files (.graft): graft check, and graft compile for some
# --------------------------------------------------------------------------

def model_cases(c, tools):
    cases = []
    graft = tools.graft

    def add(name, text, compile_=False, extra_files=()):
        p = c.write("models/%s.graft" % name, text)
        cmds = [[graft, "check", p]]
        if compile_:
            cmds.append([graft, "compile", p, "-o", c.path("models/out-" + name)])
        cases.append(Case(name, cmds, [p] + list(extra_files), "linecol"))
        return p

    def expr(name, e, **kw):
        add(name, model("y = " + e + "\noutput y"), **kw)

    # Depth and length.
    n = 100000
    expr("paren-100k", "(" * n + "x" + ")" * n, compile_=True)
    expr("plus-chain-200k", "x" + " + x" * 200000)
    expr("method-chain-100k", "x" + ".relu()" * n)
    expr("attr-100k", "x" + ".a" * n)
    expr("index-100k", "x" + "[0]" * n)
    expr("power-100k", "x" + " ** x" * n)
    expr("list-100k", "[" * n + "x" + "]" * n)
    expr("neg-100k", "-" * n + "x")
    expr("call-nest-100k", "relu(" * n + "x" + ")" * n)
    expr("args-200k", "cat([" + ", ".join(["x"] * 200000) + "])")
    add("blocks-100k", model("no_grad {\n" * n + "y = x\n" + "}\n" * n + "output x"))
    add("blocks-100k-oneline", model("no_grad { " * n + "y = x " + "} " * n + "\noutput x"))
    add("for-nest-200", model("n = 0\n" + "for i in range(2) {\n" * 200 + "n = n + 1\n"
                              + "}\n" * 200 + "y = x * n\noutput y"))
    add("def-nest-10k", "def f(x) {\n" * 10000 + "return x\n" + "}\n" * 10000
        + model("y = f(x)\noutput y"))
    add("ident-1mb", model("a" * (1 << 20) + " = x\noutput x"))
    expr("ident-1mb-use", "a" * (1 << 20))
    add("line-5mb-garbage", model("y = x " + "$" * (5 << 20) + "\noutput y"))
    add("line-5mb-statements", model("y = x" + "; y = x" * (5 << 20 // 7) + "\noutput y"))
    expr("number-5mb", "x * " + "9" * (5 << 20))
    expr("float-5mb", "x * 0." + "1" * (5 << 20))
    expr("string-5mb", "x + \"" + "s" * (5 << 20) + "\"")
    add("comment-5mb", model("y = x  # " + "c" * (5 << 20) + "\noutput y"))
    add("lines-1m-empty", model("\n" * 1000000 + "y = x\noutput y"))
    add("errors-100k", model("$\n" * 100000 + "output x"))
    add("models-20k", "".join("model m%d {\n  input x: f32[4]\n  output x\n}\n" % i
                              for i in range(20000)))
    add("models-dup-20k", "".join("model m {\n  input x: f32[4]\n  output x\n}\n"
                                  for i in range(20000)))

    # Bytes that are not text.
    add("nul-in-expr", model("y = x \0+ x\noutput y"))
    add("nul-at-start", "\0" + model("output x"))
    add("nul-in-string", model("y = x\noutput y", pre='include "a\0b.graft"'))
    add("nul-in-comment", model("y = x # a\0b\noutput y"))
    add("nul-1mb", "\0" * (1 << 20))
    add("utf8-invalid-ident", model("y\xff\xfe = x\noutput y"))
    add("utf8-invalid-string", model("y = x\noutput y", pre='include "\xc3\x28.graft"'))
    add("utf8-overlong", model("y = x \xc0\xaf x\noutput y"))
    add("utf8-continuation", model("\x80\x80\x80 y = x\noutput y"))
    add("utf8-bom", "\ufeff" + model("y = x\noutput y"))
    add("utf16", ("\ufeff" + model("y = x\noutput y")).encode("utf-16-le"))
    add("random-bytes", bytes(random.Random(1).getrandbits(8) for _ in range(1 << 16)))

    # Unterminated constructs.
    add("unterminated-string", model("y = x\noutput y", pre='include "abc'))
    add("unterminated-string-eof", 'model m {\n  input x: f32[4]\n  y = "abc')
    add("unterminated-comment-eof", "model m {\n  input x: f32[4]\n  output x\n} # end")
    add("unterminated-paren", model("y = (x\noutput y"))
    add("unterminated-paren-eof", "model m {\n  input x: f32[4]\n  y = (x")
    add("unterminated-bracket-eof", "model m {\n  input x: f32[4\n")
    add("unterminated-brace-eof", "model m {\n  input x: f32[4]\n  output x\n")
    add("unterminated-brace-100k", "model m {\n" + "no_grad {\n" * 100000)
    add("close-brace-100k", "}" * 100000)
    add("empty", "")
    add("only-newlines", "\n" * 100000)

    # Dimensions.
    for name, d in [("dim-2p31", "2147483648"), ("dim-2p31-plus1", "2147483649"),
                    ("dim-2p40", "1099511627776"),
                    ("dim-2p63m1", "9223372036854775807"),
                    ("dim-2p63", "9223372036854775808"),
                    ("dim-2p64", "18446744073709551616"),
                    ("dim-10p30", "1" + "0" * 30),
                    ("dim-neg1", "-1"), ("dim-neg2p63", "-9223372036854775808"),
                    ("dim-zero", "0"), ("dim-float", "1.5"), ("dim-nan", "float('nan')"),
                    ("dim-1e300", "1e300"), ("dim-string", '"a"')]:
        add("input-" + name, "model m {\n  input x: f32[%s]\n  output x\n}\n" % d,
            compile_=name in ("dim-2p31", "dim-zero"))
        add("decl-" + name, "dim D = %s\nmodel m {\n  input x: f32[D, 4]\n  output x\n}\n" % d)
        add("param-" + name, model("param w: f32[%s] = zeros\ny = x.sum() + w.sum()\noutput y" % d))
        add("reshape-" + name, model("y = x.reshape(%s, -1)\noutput y" % d))
    add("elems-2p48", "model m {\n  input x: f32[65536,65536,65536]\n  output x\n}\n",
        compile_=True)
    add("elems-2p62", "model m {\n  input x: f32[2147483648,2147483648]\n  output x\n}\n",
        compile_=True)
    add("elems-param-overflow", model("param w: f32[65536,65536,65536] = zeros\n"
                                      "y = x.sum() + w.sum()\noutput y"), compile_=True)
    add("elems-buffer-overflow", model("buffer b: f32[2147483648,2147483648,4]\n"
                                       "y = x.sum() + b.sum()\noutput y"))
    add("elems-linear-overflow", model("l = Linear(2147483648, 2147483648)\n"
                                       "y = l(x)\noutput y"))
    add("elems-zeros-overflow", model("y = x.sum() + zeros(2147483648, 2147483648).sum()\noutput y"))
    add("elems-expand", model("y = x.expand(2147483648, 2147483648, 4)\noutput y"))
    add("elems-repeat", model("y = x.repeat(2147483648, 2147483648)\noutput y"))
    add("elems-matmul", "model m {\n  input a: f32[2147483648, 1]\n  input b: f32[1, 2147483648]\n"
        "  y = a @ b\n  output y\n}\n", compile_=True)
    add("dim-arith-overflow", "dim A = 4294967296 * 4294967296\nmodel m {\n  input x: f32[A]\n  output x\n}\n")
    add("dim-power-overflow", "dim A = 2 ** 10000\nmodel m {\n  input x: f32[A]\n  output x\n}\n")
    add("dim-chain-overflow", "dim A0 = 2\n" + "".join("dim A%d = A%d * A%d\n" % (i + 1, i, i)
                                                         for i in range(40))
        + "model m {\n  input x: f32[A40]\n  output x\n}\n")
    add("dim-div-zero", "dim A = 4 / 0\nmodel m {\n  input x: f32[A]\n  output x\n}\n")
    add("dim-mod-zero", "dim A = 4 // 0\nmodel m {\n  input x: f32[A]\n  output x\n}\n")
    add("scalar-overflow", model("y = x * (10 ** 400)\noutput y"))
    add("float-overflow", model("y = x * 1e400 - 1e400\noutput y"))
    add("index-huge", model("y = x[9223372036854775807]\noutput y"))
    add("index-neg-huge", model("y = x[-9223372036854775808]\noutput y"))
    add("slice-huge", model("y = x[-9223372036854775808:9223372036854775807:9223372036854775807]\noutput y"))
    add("slice-step-zero", model("y = x[0:4:0]\noutput y"))
    add("dim-arg-huge", model("y = x.sum(dim=9223372036854775807)\noutput y"))
    add("dim-arg-neg-huge", model("y = softmax(x, dim=-9223372036854775808)\noutput y"))

    # Convolution and pooling attributes.
    img = "model m {\n  input x: f32[1, 1, 28, 28]\n  %s\n  output y\n}\n"
    conv_cases = {
        "conv-kernel-2p40": "c = Conv2d(1, 1, 1099511627776)\n  y = c(x)",
        "conv-kernel-2p63": "c = Conv2d(1, 1, 9223372036854775807)\n  y = c(x)",
        "conv-kernel-zero": "c = Conv2d(1, 1, 0)\n  y = c(x)",
        "conv-kernel-neg": "c = Conv2d(1, 1, -3)\n  y = c(x)",
        "conv-stride-zero": "c = Conv2d(1, 1, 3, stride=0)\n  y = c(x)",
        "conv-stride-huge": "c = Conv2d(1, 1, 3, stride=9223372036854775807)\n  y = c(x)",
        "conv-stride-neg": "c = Conv2d(1, 1, 3, stride=-1)\n  y = c(x)",
        "conv-padding-huge": "c = Conv2d(1, 1, 3, padding=4611686018427387904)\n  y = c(x)",
        "conv-padding-2p30": "c = Conv2d(1, 1, 3, padding=1073741824)\n  y = c(x)",
        "conv-padding-neg": "c = Conv2d(1, 1, 3, padding=-5)\n  y = c(x)",
        "conv-dilation-huge": "c = Conv2d(1, 1, 3, dilation=4611686018427387904)\n  y = c(x)",
        "conv-dilation-zero": "c = Conv2d(1, 1, 3, dilation=0)\n  y = c(x)",
        "conv-groups-zero": "c = Conv2d(1, 1, 3, groups=0)\n  y = c(x)",
        "conv-groups-huge": "c = Conv2d(1, 1, 3, groups=9223372036854775807)\n  y = c(x)",
        "conv-channels-huge": "c = Conv2d(1, 2147483648, 3)\n  y = c(x)",
        "conv-channels-neg": "c = Conv2d(1, -1, 3)\n  y = c(x)",
        "conv-pad-dil-overflow": "c = Conv2d(1, 1, 2147483647, padding=2147483647, dilation=2147483647)\n  y = c(x)",
        "pool-kernel-2p40": "y = max_pool2d(x, 1099511627776)",
        "pool-kernel-zero": "y = max_pool2d(x, 0)",
        "pool-kernel-neg": "y = max_pool2d(x, -2)",
        "pool-stride-zero": "y = max_pool2d(x, 2, stride=0)",
        "pool-stride-huge": "y = avg_pool2d(x, 2, stride=9223372036854775807)",
        "pool-padding-huge": "y = max_pool2d(x, 2, padding=9223372036854775807)",
        "pool-padding-big": "y = avg_pool2d(x, 2, padding=1)",
        "pool-dilation-huge": "y = max_pool2d(x, 2, dilation=4611686018427387904)",
        "pool-ceil-huge": "y = max_pool2d(x, 28, stride=1073741824, ceil_mode=True)",
        "pool-module-huge": "p = MaxPool2d(9223372036854775807, 1, 0)\n  y = p(x)",
        "conv-fn-stride-huge": "w = ones(1, 1, 3, 3)\n  y = conv2d(x, w, None, 9223372036854775807, 0, 1, 1)",
    }
    for name, body in conv_cases.items():
        add(name, img % body, compile_=name in ("conv-padding-2p30", "pool-ceil-huge",
                                                 "conv-pad-dil-overflow"))

    # The size of the build.
    lines = ["def f0(x) { return x + x }"]
    lines += ["def f%d(x) { return f%d(x) + f%d(x) }" % (i, i - 1, i - 1) for i in range(1, 31)]
    add("doubling", "\n".join(lines) + "\n" + model("h = f30(x)\noutput h"), compile_=True)
    add("doubling-64", "\n".join(["def f0(x) { return x + x }"] +
                                 ["def f%d(x) { return f%d(f%d(x)) }" % (i, i - 1, i - 1)
                                  for i in range(1, 65)]) + "\n" + model("h = f64(x)\noutput h"))
    add("loop-nest", model("n = 0\nfor i in range(4096) {\n for j in range(4096) {\n"
                           "  for k in range(4096) {\n   n = n + 1\n  }\n }\n}\n"
                           "y = x * n\noutput y"), compile_=True)
    add("loop-2p62", model("n = 0\nfor i in range(4611686018427387904) { n = n + 1 }\n"
                           "y = x * n\noutput y"))
    add("loop-ops", model("y = x\nfor i in range(100000000) { y = y + x }\noutput y"))
    add("comprehension-huge", model("l = [Linear(4, 4) for i in range(1000000000)]\n"
                                    "y = l[0](x)\noutput y"))
    add("range-list-huge", model("r = range(9223372036854775807)\ny = x * len(r)\noutput y"))
    add("recursion", "def f(x) { return f(x) }\n" + model("y = f(x)\noutput y"))
    add("recursion-mutual", "def f(x) { return g(x) }\ndef g(x) { return f(x) }\n"
        + model("y = f(x)\noutput y"))
    add("recursion-module", "module M() {\n  m = M()\n  def forward(x) { return m(x) }\n}\n"
        + model("n = M()\ny = n(x)\noutput y"))
    add("string-mult", model('s = "ab" * 4611686018427387904\noutput x'))
    add("list-mult", model("l = [1] * 4611686018427387904\noutput x"))

    # Includes.
    d = "models/inc"
    c.mkdir(d)
    self_ = c.write(d + "/self.graft", 'include "self.graft"\n' + model("output x"))
    cases.append(Case("include-self", [[graft, "check", self_]], [self_], "linecol"))
    a = c.write(d + "/cycle-a.graft", 'include "cycle-b.graft"\n' + model("output x"))
    b = c.write(d + "/cycle-b.graft", 'include "cycle-a.graft"\ndim Q = 3\n')
    cases.append(Case("include-cycle", [[graft, "check", a]], [a, b], "linecol"))
    for name, target in [("include-dir", c.work), ("include-dev-zero", "/dev/zero"),
                         ("include-dev-urandom", "/dev/urandom"),
                         ("include-dev-null", "/dev/null"),
                         ("include-missing", "no-such-file.graft"),
                         ("include-empty-name", ""),
                         ("include-long-name", "a" * 5000 + ".graft"),
                         ("include-deep-path", "a/" * 3000 + "b.graft")]:
        p = c.write(d + "/" + name + ".graft",
                    'include "%s"\n' % target + model("output x"))
        cases.append(Case(name, [[graft, "check", p], [graft, "compile", p, "-o",
                                                       c.path("models/out-" + name)]],
                          [p], "linecol"))
    # An include of a symbolic link to a device, and a model file that is one.
    link = c.symlink(d + "/zero-link.graft", "/dev/zero")
    p = c.write(d + "/include-link-zero.graft", 'include "zero-link.graft"\n' + model("output x"))
    cases.append(Case("include-link-zero", [[graft, "check", p]], [p], "linecol"))
    cases.append(Case("model-is-dev-zero", [[graft, "check", link]], [link], "linecol"))
    urandom = c.symlink(d + "/urandom-link.graft", "/dev/urandom")
    cases.append(Case("model-is-dev-urandom", [[graft, "check", urandom]], [urandom], "linecol"))
    fifo = c.path(d + "/fifo.graft")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    p = c.write(d + "/include-fifo.graft", 'include "fifo.graft"\n' + model("output x"))
    cases.append(Case("include-fifo", [[graft, "check", p]], [p], "linecol"))
    # Chains of 16 nested includes (the limit: fine) and of 21 (an error).
    for depth in (15, 20):
        files = []
        for i in range(depth, -1, -1):
            inc = 'include "chain%d-%d.graft"\n' % (depth, i + 1) if i < depth else ""
            files.append(c.write("%s/chain%d-%d.graft" % (d, depth, i),
                                 inc + "dim D%d = 2\n" % i))
        top = c.write("%s/chain%d-top.graft" % (d, depth),
                      'include "chain%d-0.graft"\n' % depth + model("output x"))
        cases.append(Case("include-nest-%d" % depth, [[graft, "check", top]],
                          [top] + files, "linecol"))
    # Includes fanning out: 64 files each including all 64.
    files = []
    for i in range(64):
        files.append(c.write("%s/fan-%d.graft" % (d, i),
                             "".join('include "fan-%d.graft"\n' % j for j in range(64))
                             + "dim F%d = 1\n" % i))
    top = c.write(d + "/fan-top.graft", 'include "fan-0.graft"\n' + model("output x"))
    cases.append(Case("include-fan-64", [[graft, "check", top]], [top] + files, "linecol"))
    # An included file with an error deep in it, and garbage.
    g = c.write(d + "/garbage.graft", bytes(random.Random(2).getrandbits(8) for _ in range(4096)))
    p = c.write(d + "/include-garbage.graft", 'include "garbage.graft"\n' + model("output x"))
    cases.append(Case("include-garbage", [[graft, "check", p]], [p, g], "linecol"))
    return cases


# --------------------------------------------------------------------------
# IR (.mlir): graft check and graft-opt
# --------------------------------------------------------------------------

IR_LINEAR = """graft.model @m {{
  %0 = graft.input "x" : tensor<{B}x{I}xf32>
  %1 = graft.input "y" : tensor<{B}xi64>
  %2 = graft.param "w" init <kaiming_uniform, {{a = 2.2360679774997898 : f64}}> : tensor<{O}x{I}xf32>
  %3 = graft.param "b" init <zeros> : tensor<{O}xf32>
  %4 = graft.linear %0, %2, %3 : (tensor<{B}x{I}xf32>, tensor<{O}x{I}xf32>, tensor<{O}xf32>) -> tensor<{B}x{O}xf32>
  graft.output "logits" %4 : tensor<{B}x{O}xf32>
  %6 = graft.cross_entropy %4, %1 : (tensor<{B}x{O}xf32>, tensor<{B}xi64>) -> tensor<f32>
  graft.loss %6 : tensor<f32>
  graft.train  sgd {{lr = 1.000000e-02 : f64, seed = 0 : i64}}
}}
"""

IR_CONV = """graft.model @c {{
  %0 = graft.input "x" : tensor<1x1x28x28xf32>
  %1 = graft.param "w" init <zeros> : tensor<1x1x{K}x{K}xf32>
  %2 = graft.conv2d %0, %1 {{stride = array<i64: {S}, {S}>, padding = array<i64: {P}, {P}>, dilation = array<i64: {D}, {D}>}} : (tensor<1x1x28x28xf32>, tensor<1x1x{K}x{K}xf32>) -> tensor<1x1x{H}x{H}xf32>
  %3 = graft.max_pool2d %2 {{kernel_size = array<i64: {PK}, {PK}>, stride = array<i64: {PS}, {PS}>}} : tensor<1x1x{H}x{H}xf32> -> tensor<1x1x{H2}x{H2}xf32>
  %4 = graft.sum %3 : tensor<1x1x{H2}x{H2}xf32> -> tensor<f32>
  graft.loss %4 : tensor<f32>
}}
"""


def ir_cases(c, tools, src):
    cases = []

    def add(name, text, compile_=False):
        p = c.write("ir/%s.mlir" % name, text)
        cmds = [[tools.graft, "check", p],
                [tools.graft_opt, p, "--graft-derive-backward", "-o", os.devnull]]
        if compile_:
            cmds.append([tools.graft, "compile", p, "-o", c.path("ir/out-" + name)])
        cases.append(Case(name, cmds, [p], "linecol"))

    add("linear-ok", IR_LINEAR.format(B=4, I=3, O=2))
    for name, v in [("2p31", 2147483648), ("2p40", 1 << 40), ("2p62", 1 << 62),
                    ("2p63m1", (1 << 63) - 1), ("2p63", 1 << 63), ("2p64", 1 << 64),
                    ("2p64p1", (1 << 64) + 1), ("neg1", -1), ("neg2p63", -(1 << 63)),
                    ("zero", 0), ("dynamic", "?")]:
        add("batch-" + name, IR_LINEAR.format(B=v, I=3, O=2), compile_=name in ("2p40", "zero"))
        add("features-" + name, IR_LINEAR.format(B=4, I=v, O=2))
        add("classes-" + name, IR_LINEAR.format(B=4, I=3, O=v))
    add("elems-overflow", IR_LINEAR.format(B=4294967296, I=4294967296, O=4294967296),
        compile_=True)
    add("elems-2p48", IR_LINEAR.format(B=65536, I=65536, O=65536), compile_=True)
    add("conv-ok", IR_CONV.format(K=3, S=1, P=0, D=1, H=26, H2=13, PK=2, PS=2))
    for name, kw in [("kernel-huge", dict(K=1 << 40)), ("kernel-zero", dict(K=0)),
                     ("stride-zero", dict(S=0)), ("stride-neg", dict(S=-1)),
                     ("stride-huge", dict(S=(1 << 63) - 1)),
                     ("padding-huge", dict(P=(1 << 62))), ("padding-neg", dict(P=-4)),
                     ("dilation-huge", dict(D=(1 << 62))), ("dilation-zero", dict(D=0)),
                     ("padding-2p63m1", dict(P=(1 << 63) - 1, H=(1 << 63) - 1)),
                     ("pool-kernel-huge", dict(PK=1 << 40)), ("pool-kernel-zero", dict(PK=0)),
                     ("pool-stride-zero", dict(PS=0)), ("pool-stride-neg", dict(PS=-2)),
                     ("pool-stride-huge", dict(PS=(1 << 63) - 1, H2=1))]:
        v = dict(K=3, S=1, P=0, D=1, H=26, H2=13, PK=2, PS=2)
        v.update(kw)
        add("conv-" + name, IR_CONV.format(**v), compile_=name == "padding-huge")

    # Garbage attributes.
    base = IR_LINEAR.format(B=4, I=3, O=2)
    for name, old, new in [
        ("init-unknown", "<kaiming_uniform", "<no_such_init"),
        ("init-attr-type", "a = 2.2360679774997898 : f64", 'a = "x"'),
        ("init-attr-nan", "a = 2.2360679774997898 : f64", "a = 0x7FF8000000000000 : f64"),
        ("init-attr-nested", "a = 2.2360679774997898 : f64",
         "a = " + "[" * 5000 + "1" + "]" * 5000),
        ("init-attr-dict-nested", "a = 2.2360679774997898 : f64",
         "a = " + "{b = " * 5000 + "1" + "}" * 5000),
        ("train-unknown-optimizer", "sgd {", "nosuchopt {"),
        ("train-lr-string", "lr = 1.000000e-02 : f64", 'lr = "fast"'),
        ("train-lr-nan", "lr = 1.000000e-02 : f64", "lr = 0x7FF8000000000000 : f64"),
        ("train-lr-neg", "lr = 1.000000e-02 : f64", "lr = -1.0 : f64"),
        ("train-seed-huge", "seed = 0 : i64", "seed = 99999999999999999999999 : i64"),
        ("train-garbage-attr", "seed = 0 : i64", "seed = 0 : i64, bogus = @x, more = dense<[1, 2]> : tensor<2xi8>"),
        ("name-nul", '"w"', '"w\\00x"'),
        ("name-huge", '"w"', '"' + "w" * (1 << 20) + '"'),
        ("name-utf8-invalid", '"w"', '"\xff\xfe"'),
        ("type-garbage", "tensor<2xf32>", "tensor<2x!graft.nosuch>"),
        ("type-memref", "tensor<2xf32>", "memref<2xf32>"),
        ("type-unranked", "tensor<2xf32>", "tensor<*xf32>"),
        ("type-complex", "tensor<2xf32>", "tensor<2xcomplex<f32>>"),
        ("type-i1024", "tensor<2xf32>", "tensor<2xi1024>"),
        ("type-rank-1000", "tensor<2xf32>", "tensor<" + "1x" * 1000 + "2xf32>"),
        ("type-encoding", "tensor<2xf32>", "tensor<2xf32, \"enc\">"),
        ("loc-garbage", "graft.loss %6 : tensor<f32>",
         "graft.loss %6 : tensor<f32> loc(\"" + "x" * 100000 + "\":4294967295:4294967295)"),
        ("loc-nested", "graft.loss %6 : tensor<f32>",
         "graft.loss %6 : tensor<f32> loc(" + "callsite(" * 3000 + "\"a\":1:1"
         + (" at \"b\":1:1)" * 3000) + ")"),
    ]:
        add("attr-" + name, base.replace(old, new, 1))
    add("constant-huge-dense", 'graft.model @m {\n  %0 = graft.constant dense<1.0> : '
        'tensor<1099511627776x1099511627776xf32>\n  graft.output "o" %0 : '
        'tensor<1099511627776x1099511627776xf32>\n}\n', compile_=True)
    add("constant-splat-big", 'graft.model @m {\n  %0 = graft.constant dense<1.0> : '
        'tensor<2147483648xf32>\n  %1 = graft.sum %0 : tensor<2147483648xf32> -> tensor<f32>\n'
        '  graft.output "o" %1 : tensor<f32>\n}\n', compile_=True)
    add("constant-hex-short", 'graft.model @m {\n  %0 = graft.constant dense<"0x0000803F"> : '
        'tensor<1024xf32>\n  graft.output "o" %0 : tensor<1024xf32>\n}\n')
    add("constant-elems-mismatch", 'graft.model @m {\n  %0 = graft.constant dense<[1.0, 2.0]> : '
        'tensor<3xf32>\n  graft.output "o" %0 : tensor<3xf32>\n}\n')

    # Deep nesting.
    n = 100000
    add("modules-nested-100k", "module {" * n + "}" * n)
    add("models-nested-10k", "graft.model @m {\n" * 10000 + "}\n" * 10000)
    add("no-grad-nested", "graft.model @m {\n  %0 = graft.input \"x\" : tensor<4xf32>\n"
        + "graft.no_grad {\n" * 10000 + "}\n" * 10000 + "}\n")
    add("regions-generic-100k", '"graft.model"() ({\n' * n + "}) {sym_name = \"m\"} : () -> ()\n" * n)
    add("array-nested-100k", "module attributes {a = " + "[" * n + "]" * n + "} {}\n")
    add("types-nested-100k", "module attributes {a = " + "tuple<" * n + "i1" + ">" * n + "} {}\n")
    add("affine-nested-100k", "module attributes {a = affine_map<(d0) -> (" + "(" * n + "d0"
        + ")" * n + ")>} {}\n")
    add("empty", "")
    add("nul", "\0" * 1000)
    add("random-bytes", bytes(random.Random(3).getrandbits(8) for _ in range(1 << 16)))
    add("unterminated-string", 'graft.model @m {\n  %0 = graft.input "x')
    add("unterminated-region", "graft.model @m {\n")
    add("ssa-undefined", 'graft.model @m {\n  graft.output "o" %99 : tensor<f32>\n}\n')
    add("ssa-redefined", 'graft.model @m {\n  %0 = graft.input "x" : tensor<4xf32>\n'
        '  %0 = graft.input "y" : tensor<4xf32>\n}\n')
    add("ssa-self-use", 'graft.model @m {\n  %0 = graft.relu %0 : tensor<4xf32> -> tensor<4xf32>\n'
        '  graft.output "o" %0 : tensor<4xf32>\n}\n')
    add("resource-blob", 'graft.model @m {\n  %0 = graft.constant dense_resource<blob> : '
        'tensor<1099511627776xf32>\n  graft.output "o" %0 : tensor<1099511627776xf32>\n}\n'
        '{-#\n  dialect_resources: {\n    builtin: {\n      blob: "0x04000000"\n    }\n  }\n#-}\n')

    # Seeded bit flips of the dialect's tests.
    rng = random.Random(24)
    dialect = os.path.join(src, "test", "Dialect", "Graft")
    sources = sorted(f for f in os.listdir(dialect) if f.endswith(".mlir"))
    for f in sources:
        data = open(os.path.join(dialect, f), "rb").read()
        for i in range(40):
            b = bytearray(data)
            for _ in range(rng.choice([1, 1, 2, 8])):
                pos = rng.randrange(len(b))
                b[pos] ^= 1 << rng.randrange(8)
            add("flip-%s-%02d" % (f[:-5], i), bytes(b))
    return cases


# --------------------------------------------------------------------------
# Data files (.csv): graft train and graft predict
# --------------------------------------------------------------------------

def data_cases(c, tools, src):
    cases = []
    graft = tools.graft
    modelf = os.path.join(src, "examples", "digits_mlp.graft")
    train_csv = os.path.join(src, "data", "digits", "train.csv")
    ckpt = c.path("data/digits.safetensors")
    if not os.path.exists(ckpt):
        os.makedirs(os.path.dirname(ckpt), exist_ok=True)
        r = run([graft, "train", modelf, "--data", train_csv, "--epochs", "1", "-o", ckpt],
                600, c.work)
        if r[0] != 0:
            sys.exit("cannot make the checkpoint the data cases need:\n" + r[3])

    def row(vals=None, label="3"):
        vals = vals if vals is not None else ["1"] * 64
        return ",".join(list(vals) + ([label] if label is not None else []))

    good = row()
    header = ",".join(["x%d" % i for i in range(64)] + ["label"])

    # predict reads with the label optional: the cases where that differs
    # (labels, field counts, whole-file errors). Train runs all of them.
    with_predict = {"ok", "f32-overflow-neg", "line-10mb-commas", "nul-only",
                    "utf8-invalid", "utf16-bom", "header-only", "empty",
                    "random-bytes", "directory", "missing", "dev-zero",
                    "dev-urandom", "dev-null"}

    def add(name, data=None, path=None, train=True, predict=None, test=False):
        if predict is None:
            predict = name in with_predict or name.startswith(("label-", "fields-"))
        p = path or c.write("data/%s.csv" % name, data)
        cmds = []
        if train:
            cmds.append([graft, "train", modelf, "--data", p, "--epochs", "1"])
        if test:
            cmds.append([graft, "train", modelf, "--data", train_csv, "--test", p,
                         "--epochs", "1"])
        if predict:
            cmds.append([graft, "predict", modelf, "--checkpoint", ckpt, "--data", p])
        cases.append(Case(name, cmds, [p], "data"))

    def feat(i, v):
        vals = ["1"] * 64
        vals[i] = v
        return vals

    add("ok", "\n".join([header] + [good] * 64) + "\n")
    add("f32-overflow", "\n".join([good] * 40 + [row(feat(5, "1e39"))]) + "\n", test=True)
    add("f32-overflow-neg", "\n".join([good] * 40 + [row(feat(63, "-1e39"))]) + "\n")
    add("f64-overflow", row(feat(0, "1e400")) + "\n")
    add("denormal", "\n".join([row(feat(0, "1e-45"))] * 40) + "\n")
    for s in ["nan", "-inf", "Infinity", "nan(0x7)", "0x1p999", "0x1p-9999", "1e", "+-1",
              " ", "1 2"]:
        add("field-" + s.encode().hex(),
            "\n".join([good] * 40 + [row(feat(7, s))]) + "\n", predict=s in ("nan", "-inf"))
    add("line-10mb-number", row(feat(0, "1" * (10 << 20))) + "\n")
    add("line-10mb-fraction", row(feat(0, "0." + "1" * (10 << 20))) + "\n")
    add("line-10mb-commas", "," * (10 << 20) + "\n")
    add("line-10mb-text", "a" * (10 << 20) + "\n" + good + "\n")
    add("line-10mb-quoted", '"' + "1" * (10 << 20) + '"' + "\n")
    add("line-10mb-unclosed-quote", '"' + "1" * (10 << 20) + "\n")
    add("nul-in-field", good + "\n" + row(feat(3, "1\0" + "2")) + "\n")
    add("nul-only", "\0" * 100000)
    add("nul-lines", "\0\n" * 10000)
    add("utf8-invalid", good + "\n" + row(feat(9, "\xff\xfe")) + "\n")
    add("utf8-invalid-header", "\xc3\x28" + header + "\n" + good + "\n")
    add("utf16-bom", b"\xff\xfe" + (header + "\n" + good + "\n").encode("utf-16-le"))
    add("fields-too-few", good + "\n" + ",".join(["1"] * 10) + "\n")
    add("fields-too-many", good + "\n" + ",".join(["1"] * 1000) + "\n")
    add("fields-one", "1\n")
    add("fields-100k", ",".join(["1"] * 100000) + "\n")
    add("fields-empty", good + "\n" + row(feat(4, "")) + "\n")
    add("label-10", row(label="10") + "\n")
    add("label-neg", row(label="-1") + "\n")
    add("label-huge", row(label="99999999999999999999999999") + "\n")
    add("label-2p63", row(label="9223372036854775808") + "\n")
    add("label-2p63m1", row(label="9223372036854775807") + "\n")
    add("label-float", row(label="1.5") + "\n")
    add("label-exp", row(label="1e3") + "\n")
    add("label-nan", row(label="nan") + "\n")
    add("label-hex", row(label="0x3") + "\n")
    add("label-neg-zero", "\n".join([row(label="-0")] * 40) + "\n")
    add("header-only", header + "\n")
    add("header-twice", header + "\n" + header + "\n" + good + "\n")
    add("header-huge", "h" * (1 << 20) + "\n" + good + "\n")
    add("empty", "")
    add("blank-lines", "\n \t\n\r\n" * 100000)
    add("cr-only", (good + "\r") * 40)
    add("quote-unclosed", good + '\n"1,' + good + "\n")
    add("quote-embedded", good + '\n"1""2",' + ",".join(["1"] * 63) + ",3\n")
    add("sep-mixed", good + "\n" + good.replace(",", ";") + "\n")
    add("lines-200k-short", "1,2\n" * 200000)
    add("random-bytes", bytes(random.Random(4).getrandbits(8) for _ in range(1 << 16)))
    add("directory", path=c.mkdir("data/a-directory"))
    add("missing", path=c.path("data/no-such-file.csv"))
    add("dev-zero", path=c.symlink("data/zero.csv", "/dev/zero"))
    add("dev-urandom", path=c.symlink("data/urandom.csv", "/dev/urandom"))
    add("dev-null", path="/dev/null")
    add("test-dev-zero", path=c.symlink("data/test-zero.csv", "/dev/zero"), train=False,
        predict=False, test=True)
    fifo = c.path("data/fifo.csv")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    add("fifo", path=fifo, predict=False)
    return cases


# --------------------------------------------------------------------------
# Checkpoints (.safetensors): graft predict --checkpoint, graft train --resume
# --------------------------------------------------------------------------

TINY = """dim B = 4
model tiny {
  input x: f32[B, 3]
  input y: i64[B]
  lin = Linear(3, 2)
  logits = lin(x)
  output logits
  output pred = argmax(logits, dim=1)
  train {
    loss = cross_entropy(logits, y)
    optimizer = Adam(lr=1e-2)
    seed = 0
  }
}
"""


def safetensors(header, body, length=None):
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    n = len(h) if length is None else length
    return struct.pack("<Q", n) + h + body


def checkpoint_cases(c, tools, part):
    cases = []
    graft = tools.graft
    modelf = c.write("ckpt/tiny.graft", TINY)
    csv = c.write("ckpt/tiny.csv", "1,2,3,0\n4,5,6,1\n0,1,0,1\n1,1,1,0\n2,2,2,1\n")
    ckpt = c.path("ckpt/valid.safetensors")
    if not os.path.exists(ckpt):
        r = run([graft, "train", modelf, "--data", csv, "--epochs", "1", "-o", ckpt], 600, c.work)
        if r[0] != 0:
            sys.exit("cannot make the checkpoint the checkpoint cases need:\n" + r[3])
    valid = open(ckpt, "rb").read()
    n = struct.unpack("<Q", valid[:8])[0]
    header = json.loads(valid[8:8 + n])
    body = valid[8 + n:]

    def add(name, data=None, path=None, resume=True):
        p = path or c.write("ckpt/%s.safetensors" % name, data)
        cmds = [[graft, "predict", modelf, "--checkpoint", p, "--data", csv]]
        if resume:
            cmds.append([graft, "train", modelf, "--resume", p, "--data", csv,
                         "--epochs", "2"])
        cases.append(Case(name, cmds, [p], "checkpoint"))
    add.cases = cases

    def without_checksum(h):
        h = json.loads(json.dumps(h))
        h.get("__metadata__", {}).pop("graft.checksum", None)
        return h

    def edit(fn):
        """The header edited by fn, without its checksum (so that the edit,
        not the checksum, is what the reader meets)."""
        h = without_checksum(header)
        fn(h)
        return h

    tensors = [k for k in header if k != "__metadata__"]
    t0 = sorted(tensors)[0]

    if part == "flips":
        return flip_cases(valid, n, add)
    add("valid", valid)
    add("valid-no-checksum", safetensors(without_checksum(header), body))
    # The length field.
    for name, length in [("huge", (1 << 64) - 1), ("2p63", 1 << 63), ("zero", 0),
                         ("one", 1), ("odd", n + 1), ("short", n - 1),
                         ("file-size", len(valid) - 8)]:
        add("length-" + name, struct.pack("<Q", length) + valid[8:])
    add("empty", b"")
    add("7-bytes", valid[:7])
    add("8-bytes", valid[:8])
    add("header-only", valid[:8 + n])
    add("header-json-nested-100k", safetensors(b"[" * 100000 + b"]" * 100000, b""))
    add("header-json-object-nested-100k",
        safetensors(b'{"a":' * 100000 + b"1" + b"}" * 100000, b""))
    add("header-json-nested-64", safetensors(b"[" * 64 + b"]" * 64, b""))
    add("header-json-string-nested", safetensors(json.dumps(
        {"a": "[" * 100000}).encode(), b""))
    add("header-not-json", safetensors(b"not json at all", body))
    add("header-array", safetensors(b"[]", body))
    add("header-empty-object", safetensors(b"{}", body))
    add("header-nul", safetensors(b"{\0}", body))
    add("header-utf8-invalid", safetensors(b'{"\xff\xfe":{}}', body))
    add("header-dup-keys", safetensors(b'{"' + t0.encode() + b'":{},"' + t0.encode()
                                       + b'":{}}', body))
    add("header-huge-number", safetensors(edit(lambda h: h[t0].update(
        data_offsets=[0, 10 ** 30])), body))

    def off(name, b, e):
        add("offsets-" + name, safetensors(edit(lambda h: h[t0].update(
            data_offsets=[b, e])), body))

    b0, e0 = header[t0]["data_offsets"]
    off("reversed", e0, b0)
    off("negative", -4, e0)
    off("out-of-range", len(body), len(body) + (e0 - b0))
    off("huge", (1 << 63) - 1, (1 << 63) - 1 + (e0 - b0))
    off("2p64", 1 << 64, (1 << 64) + (e0 - b0))
    off("float", 0.5, e0)
    add("offsets-overlap", safetensors(edit(lambda h: [h[t].update(
        data_offsets=[0, h[t]["data_offsets"][1] - h[t]["data_offsets"][0]])
        for t in tensors]), body))
    add("offsets-one", safetensors(edit(lambda h: h[t0].update(data_offsets=[0])), body))
    add("offsets-string", safetensors(edit(lambda h: h[t0].update(data_offsets="0,4")), body))
    for name, shape in [("neg", [-1]), ("huge", [1 << 62]), ("2p63m1", [(1 << 63) - 1]),
                        ("2p64", [1 << 64]), ("overflow", [1 << 32, 1 << 32, 1 << 32]),
                        ("zero", [0]), ("rank-1000", [1] * 1000), ("float", [1.5]),
                        ("string", ["2"]), ("null", None),
                        ("neg-pair", [-2, -(e0 - b0) // 8])]:
        add("shape-" + name, safetensors(edit(lambda h: h[t0].update(shape=shape)), body))
    for dt in ["F64", "F16", "I64", "U8", "BOOL", "f32", "", "F32 ", "F8_E4M3", "X" * 10000]:
        add("dtype-" + re.sub(r"[^A-Za-z0-9]", "_", dt or "empty")[:20],
            safetensors(edit(lambda h: h[t0].update(dtype=dt)), body))
    add("dtype-number", safetensors(edit(lambda h: h[t0].update(dtype=7)), body))
    add("tensor-missing", safetensors(edit(lambda h: h.pop(t0)), body))
    add("tensor-extra", safetensors(edit(lambda h: h.update(
        {"extra.weight": dict(h[t0])})), body))
    add("tensor-not-object", safetensors(edit(lambda h: h.update({t0: 1})), body))
    add("tensor-name-huge", safetensors(edit(lambda h: h.update(
        {"n" * (1 << 20): dict(h[t0])})), body))
    add("tensors-100k", safetensors(edit(lambda h: h.update(
        {"t%d" % i: {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}
         for i in range(100000)})), body))
    add("size-mismatch", safetensors(edit(lambda h: h[t0].update(
        shape=[x * 2 for x in h[t0]["shape"]])), body))
    add("shape-swapped", safetensors(edit(lambda h: h[t0].update(
        shape=list(reversed(h[t0]["shape"])))), body))
    add("metadata-not-object", safetensors(edit(lambda h: h.update(__metadata__=[1])), body))
    add("metadata-values-not-strings", safetensors(edit(lambda h: h["__metadata__"].update(
        {k: 1 for k in list(h["__metadata__"])})), body))
    for key, val in [("graft.steps", "-1"), ("graft.steps", "99999999999999999999999"),
                     ("graft.steps", "x"), ("graft.epochs", "-5"),
                     ("graft.epochs", "9223372036854775807"), ("graft.seed", "1e99"),
                     ("graft.model", "other"), ("graft.model", "\0"),
                     ("graft.hyper.lr", "nan"), ("graft.hyper.lr", "-1"),
                     ("graft.content", "weird"), ("graft.checksum", "crc32:zzzzzzzz"),
                     ("graft.checksum", "")]:
        add("meta-%s-%s" % (key.split(".")[-1], re.sub(r"[^A-Za-z0-9]", "_", val)[:20]),
            safetensors(edit(lambda h: h["__metadata__"].update({key: val})), body))
    hdr = bytearray(valid[8:8 + n])
    at = hdr.find(b"crc32:") + 6
    if at >= 6:
        hdr[at] = ord("0") if hdr[at] != ord("0") else ord("1")
    add("checksum-wrong", valid[:8] + bytes(hdr) + body)
    add("body-truncated", valid[:-1])
    add("body-extra", valid + b"\0" * 100)
    add("directory", path=c.mkdir("ckpt/a-directory.safetensors"))
    add("missing", path=c.path("ckpt/no-such.safetensors"))
    add("dev-zero", path=c.symlink("ckpt/zero.safetensors", "/dev/zero"))
    add("dev-urandom", path=c.symlink("ckpt/urandom.safetensors", "/dev/urandom"))
    add("dev-null", path="/dev/null")
    fifo = c.path("ckpt/fifo.safetensors")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    add("fifo", path=fifo, resume=False)
    return cases


def flip_cases(valid, n, add):
    """300 seeded bit flips and truncations of the valid checkpoint."""
    rng = random.Random(2424)
    for i in range(300):
        b = bytearray(valid)
        kind = rng.choice(["flip", "flip", "flip", "flips", "truncate", "header-flip"])
        if kind == "flip":
            pos = rng.randrange(len(b))
            b[pos] ^= 1 << rng.randrange(8)
        elif kind == "flips":
            for _ in range(rng.randrange(2, 16)):
                pos = rng.randrange(len(b))
                b[pos] ^= 1 << rng.randrange(8)
        elif kind == "header-flip":
            pos = rng.randrange(8 + n)
            b[pos] ^= 1 << rng.randrange(8)
        else:
            b = b[:rng.randrange(len(b))]
        # Resuming reads the same file the same way, and more: every third.
        add("%s-%03d" % (kind, i), bytes(b), resume=i % 3 == 0)
    return add.cases


# --------------------------------------------------------------------------

class Tools:
    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("suite", choices=["models", "ir", "data", "checkpoints",
                                      "checkpoint-flips"])
    ap.add_argument("--graft", required=True)
    ap.add_argument("--graft-opt", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--shard", default="0/1")
    ap.add_argument("--only", default="", help="a regex of the case names to run")
    ap.add_argument("--verbose", action="store_true",
                    help="print each run's exit code, time and first error line")
    args = ap.parse_args()

    global MEMORY_LIMIT
    tools = Tools()
    tools.graft = os.path.abspath(args.graft)
    tools.graft_opt = os.path.abspath(args.graft_opt)
    if not is_sanitized(tools.graft):
        MEMORY_LIMIT = 8 << 30
    else:
        # ASan and UBSan slow a run 2-3x: the model-size limits' cases
        # (doubling-64: a million ops built before the error) took 47 s of
        # the 60 on a busy 2-core machine, and one went over. A hang is
        # still caught, three times later.
        args.timeout *= 3

    args.src = os.path.abspath(args.src)
    corpus = Corpus(os.path.abspath(args.work))
    make = {"models": lambda: model_cases(corpus, tools),
            "ir": lambda: ir_cases(corpus, tools, args.src),
            "data": lambda: data_cases(corpus, tools, args.src),
            "checkpoints": lambda: checkpoint_cases(corpus, tools, "structured"),
            "checkpoint-flips": lambda: checkpoint_cases(corpus, tools, "flips"),
            }[args.suite]
    cases = make()
    names = [k.name for k in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    shard, shards = map(int, args.shard.split("/"))
    cases = [k for i, k in enumerate(cases) if i % shards == shard]
    if args.only:
        cases = [k for k in cases if re.search(args.only, k.name)]

    jobs = args.jobs or min(4, os.cpu_count() or 1)

    def do(case):
        key = "%s/%s" % (args.suite, case.name)
        if key in KNOWN_BUGS:
            return case, None, "SKIP", KNOWN_BUGS[key], []
        runs = []
        for argv in case.commands:
            r = run(argv, args.timeout, corpus.work)
            runs.append((argv, r))
            why = judge(r, Judge(case.kind, case.files))
            if why:
                sub = os.path.basename(argv[0]) + " " + (argv[1] if len(argv) > 1 else "")
                return case, r, "FAIL", "%s: %s" % (sub, why), runs
        return case, None, "PASS", "", runs

    start = time.monotonic()
    failures = skipped = nruns = 0
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for case, r, verdict, why, runs in pool.map(do, cases):
            nruns += len(runs)
            if verdict == "FAIL":
                failures += 1
                print("FAIL %s: %s" % (case.name, why))
                print("  command: %s" % " ".join(runs[-1][0])[:500])
                for l in r[3].splitlines()[:8]:
                    print("  | " + l[:300])
            elif verdict == "SKIP":
                skipped += 1
                print("SKIP %s: known bug: %s" % (case.name, why))
            else:
                print("PASS %s" % case.name)
            if args.verbose:
                for argv, (rc, hung, out, err, secs) in runs:
                    print("    %s %s: rc %s%s, %.2f s: %s" % (
                        os.path.basename(argv[0]), argv[1], rc, " (hang)" if hung else "",
                        secs, first_line("\n".join(l for l in err.splitlines()
                                                   if ERROR_LINE.search(l)) or err, 160)))
            sys.stdout.flush()
    print("adversarial %s: %d cases, %d runs, %d failures, %d skipped (%.1f s)" % (
        args.suite, len(cases), nruns, failures, skipped, time.monotonic() - start))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
