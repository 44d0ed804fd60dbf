#!/usr/bin/env python3
"""Reverses the iteration order of every 1-D scf.parallel over [0, N) step 1
whose bounds are constants named %c0, %cN, %c1 (as printed): the iterations
of a parallel loop may run in any order, so the results must not change.
Run sequentially on the CPU, a fused loop then runs its segments last to
first: a dependence between two segments changes the results one way or
the other (fuse-parallel-run.mlir)."""
import re, sys
pat = re.compile(r'^(\s*)scf\.parallel \((%[\w$.]+)\) = \((%c0(?:_\d+)?)\) to \((%c(\d+)(?:_\d+)?)\) step \((%c1(?:_\d+)?)\) \{$')
out = []
for line in sys.stdin:
    m = pat.match(line.rstrip('\n'))
    if m:
        ind, iv, lo, hi, n, st = m.groups()
        out.append(f'{ind}scf.parallel ({iv}_rev) = ({lo}) to ({hi}) step ({st}) {{\n')
        out.append(f'{ind}  {iv}_last = arith.constant {int(n) - 1} : index\n')
        out.append(f'{ind}  {iv} = arith.subi {iv}_last, {iv}_rev : index\n')
    else:
        out.append(line)
sys.stdout.write(''.join(out))
