"""Runs graft-gpu-schedule's product kernels on the CPU, thread by thread, to
check what they compute without a GPU.

    simt.py IR REFERENCE FUNC [--tf32] [--seed N]

IR is graft-opt's output in the generic form (--mlir-print-op-generic) of a
function whose product `C += A * B` (f32 memrefs: the function's arguments,
C last) graft-gpu-schedule made a gpu.launch; REFERENCE holds the function
before the pass (generic form, local scope, named ops generalized), whose
linalg.generic defines the product: a matrix product, a transposed operand,
a convolution. The interpreter runs every block of
the launch with all its threads in lockstep (SIMT): each value is a list
with one element per thread, scf.if runs both branches under a mask, loads
and stores happen only in active threads, and gpu.barrier needs no action.
f32 arithmetic rounds to f32 after each op. Shared memory starts as NaN, so
reading an element no thread staged shows up in the result.

nvgpu.mma.sync is emulated from the PTX ISA's description of
mma.m16n8k8 with .tf32 operands ("Matrix fragments for mma.m16n8k8"), not
from the kernel's own arithmetic: with groupID = laneid / 4 and
t = laneid % 4, lane holds A[g][t], A[g+8][t], A[g][t+4], A[g+8][t+4];
B[t][g], B[t+4][g]; C/D[g][2t], C[g][2t+1], C[g+8][2t], C[g+8][2t+1]; lanes
are numbered threadIdx.x fastest, then y, then z, 32 to a warp, as on the
GPU. The warp's 32 threads must all be active (it is a warp-wide
instruction); TF32 operands keep their top 19 bits (the rest are ignored).

The result is compared with the exact product (in double) that the
reference's indexing maps define, on the same inputs, rounded to TF32 first
with --tf32 (cvt.rna: the kernel rounds as it
stages); the error allowed is f32 accumulation's: 1e-5 of the sum of the
magnitudes of the terms. Prints one line per check and exits 1 on a
mismatch."""
import argparse
import array
import itertools
import random
import re
import struct
import sys


# --- Parsing the generic form -------------------------------------------

class Op:
    def __init__(self, name, results, operands, attrs, types):
        self.name, self.results, self.operands = name, results, operands
        self.attrs, self.types, self.regions = attrs, types, []


OP_RE = re.compile(r'^\s*(?:(%[\w.]+)(?::(\d+))? = )?"([\w.]+)"\((.*?)\)(.*)$')
BLOCK_RE = re.compile(r'^\s*\^bb\d+(?:\((.*)\))?:\s*$')


def split_top(s):
    """Splits at commas outside <>, (), []."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "<([{":
            depth += 1
        elif ch in ">)]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def parse(lines, pos=0):
    """Parses ops until a region end; returns (ops, blocks args, pos)."""
    ops, args = [], []
    while pos < len(lines):
        line = lines[pos]
        if line.strip().startswith("})") or line.strip() == "}, {":
            return ops, args, pos
        m = BLOCK_RE.match(line)
        if m:
            args = [(a.split(":", 1)[0].strip(), a.split(":", 1)[1].strip())
                    for a in split_top(m.group(1) or "")]
            pos += 1
            continue
        m = OP_RE.match(line)
        if not m:
            pos += 1
            continue
        res, count, name, operands, rest = m.groups()
        results = [] if not res else (
            [res] if not count else ["%s#%d" % (res, i) for i in range(int(count))])
        op = Op(name, results, [o.strip() for o in operands.split(",") if o.strip()],
                rest, rest)
        pos += 1
        if rest.rstrip().endswith("({"):
            while True:
                body, bargs, pos = parse(lines, pos)
                op.regions.append((bargs, body))
                end = lines[pos].strip()
                pos += 1
                if end != "}, {":
                    op.types = end
                    break
        ops.append(op)
    return ops, args, pos


def attr(op, key):
    m = re.search(key + r" = ([^,}>]+(?:<[^>]*>)?)", op.attrs)
    return m.group(1).strip() if m else None


def shape_of(t):
    m = re.match(r"(?:memref|vector)<((?:\d+x)*)([a-z]\w*)", t)
    dims = [int(d) for d in m.group(1).split("x") if d]
    return dims, m.group(2)


# --- f32 and TF32 ---------------------------------------------------------

def f32(values):
    return array.array("f", values).tolist()


def bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def from_bits(b):
    return struct.unpack("<f", struct.pack("<I", b & 0xFFFFFFFF))[0]


def tf32_rna(x):
    b = bits(x)
    if (b & 0x7F800000) == 0x7F800000:  # inf, nan
        return b
    return (b + 0x1000) & 0xFFFFE000


def tf32_operand(x):
    return from_bits(bits(x) & 0xFFFFE000)


# --- The interpreter ------------------------------------------------------

class Memref:
    def __init__(self, shape, data):
        self.shape, self.data = shape, data
        self.strides = [1] * len(shape)
        for i in range(len(shape) - 2, -1, -1):
            self.strides[i] = self.strides[i + 1] * shape[i + 1]

    def offset(self, idx):
        for i, n in zip(idx, self.shape):
            if not 0 <= i < n:
                raise IndexError("index %s out of bounds %s" % (idx, self.shape))
        return sum(i * s for i, s in zip(idx, self.strides))


CMP = {0: lambda a, b: a == b, 1: lambda a, b: a != b, 2: lambda a, b: a < b,
       3: lambda a, b: a <= b, 4: lambda a, b: a > b, 5: lambda a, b: a >= b,
       6: lambda a, b: a < b, 7: lambda a, b: a <= b, 8: lambda a, b: a > b,
       9: lambda a, b: a >= b}


class Machine:
    def __init__(self):
        self.env = {}
        self.T = 1
        self.launches = 0
        self.mmas = 0

    def get(self, name):
        v = self.env[name]
        return v if isinstance(v, list) else [v] * self.T

    def uniform(self, name):
        v = self.env[name]
        if isinstance(v, list):
            if any(x != v[0] for x in v):
                raise RuntimeError("%s differs between threads" % name)
            return v[0]
        return v

    def run(self, ops, mask):
        """Runs ops under `mask`; returns the terminator's operands."""
        for op in ops:
            n = op.name
            if n in ("scf.yield", "gpu.terminator", "func.return"):
                return [self.get(o) for o in op.operands]
            handler = getattr(self, "op_" + n.replace(".", "_"), None)
            if handler is None:
                raise NotImplementedError(n)
            out = handler(op, mask)
            if out is not None:
                for r, v in zip(op.results, out):
                    self.env[r] = v
        return []

    # arith, math
    def op_arith_constant(self, op, mask):
        v = attr(op, "value")
        lit = v.split(":")[0].strip()
        if lit in ("true", "false"):
            return [lit == "true"]
        return [float(lit) if ("." in lit or "e" in lit) else int(lit)]

    def binary(self, op, f, rnd=False):
        a, b = self.get(op.operands[0]), self.get(op.operands[1])
        out = [f(x, y) for x, y in zip(a, b)]
        return [f32(out) if rnd else out]

    def op_arith_addi(self, op, m): return self.binary(op, lambda a, b: a + b)
    def op_arith_subi(self, op, m): return self.binary(op, lambda a, b: a - b)
    def op_arith_muli(self, op, m): return self.binary(op, lambda a, b: a * b)
    def op_arith_divui(self, op, m): return self.binary(op, lambda a, b: a // b)
    def op_arith_remui(self, op, m): return self.binary(op, lambda a, b: a % b)
    def op_arith_andi(self, op, m): return self.binary(op, lambda a, b: a and b)
    def op_arith_ori(self, op, m): return self.binary(op, lambda a, b: a or b)
    def op_arith_addf(self, op, m): return self.binary(op, lambda a, b: a + b, True)
    def op_arith_subf(self, op, m): return self.binary(op, lambda a, b: a - b, True)
    def op_arith_mulf(self, op, m): return self.binary(op, lambda a, b: a * b, True)

    def op_arith_cmpi(self, op, m):
        return self.binary(op, CMP[int(attr(op, "predicate").split(":")[0])])

    def op_math_fma(self, op, m):
        a, b, c = (self.get(o) for o in op.operands)
        return [f32([x * y + z for x, y, z in zip(a, b, c)])]

    def op_arith_bitcast(self, op, m):
        a = self.get(op.operands[0])
        to_float = op.types.rstrip().endswith("f32")
        return [[from_bits(x) if to_float else bits(x) for x in a]]

    def op_nvvm_convert_float_to_tf32(self, op, m):
        assert "rna" in attr(op, "rnd")
        return [[tf32_rna(x) for x in self.get(op.operands[0])]]

    # memory
    def op_memref_load(self, op, mask):
        ref = self.uniform(op.operands[0])
        idx = [self.get(o) for o in op.operands[1:]]
        return [[ref.data[ref.offset([i[t] for i in idx])] if mask[t] else 0.0
                 for t in range(self.T)]]

    def op_memref_store(self, op, mask):
        val = self.get(op.operands[0])
        ref = self.uniform(op.operands[1])
        idx = [self.get(o) for o in op.operands[2:]]
        for t in range(self.T):
            if mask[t]:
                ref.data[ref.offset([i[t] for i in idx])] = val[t]

    def op_gpu_barrier(self, op, mask):
        if not all(mask):
            raise RuntimeError("gpu.barrier under divergent control flow")

    # control flow
    def op_scf_for(self, op, mask):
        lb, ub, step = (self.uniform(o) for o in op.operands[:3])
        iters = [self.get(o) for o in op.operands[3:]]
        (args, body), = op.regions
        for iv in range(lb, ub, step):
            self.env[args[0][0]] = iv
            for (a, _), v in zip(args[1:], iters):
                self.env[a] = v
            iters = self.run(body, mask)
        return iters

    def op_scf_if(self, op, mask):
        cond = self.get(op.operands[0])
        outs = []
        for k, (args, body) in enumerate(op.regions):
            sub = [m and (c if k == 0 else not c) for m, c in zip(mask, cond)]
            outs.append(self.run(body, sub) if any(sub) else None)
        # Each active thread takes its branch's value; inactive ones, 0.
        return [[(outs[0] if cond[t] else outs[1])[i][t] if mask[t] else 0.0
                 for t in range(self.T)] for i in range(len(op.results))]

    # vectors, tensor cores
    def op_vector_from_elements(self, op, m):
        cols = [self.get(o) for o in op.operands]
        return [[tuple(c[t] for c in cols) for t in range(self.T)]]

    def op_vector_extract(self, op, m):
        src = self.get(op.operands[0])
        pos = [int(p) for p in re.search(r"array<i64: ([\d, ]+)>", op.attrs).group(1).split(",")]
        dims, _ = shape_of(op.types.split("(")[1])
        flat = 0
        for p, d in zip(pos, dims):
            flat = flat * d + p
        return [[v[flat] for v in src]]

    def op_nvgpu_mma_sync(self, op, mask):
        assert "mmaShape = [16, 8, 8]" in op.attrs and "tf32Enabled" in op.attrs
        a, b, c = (self.get(o) for o in op.operands)
        d = [None] * self.T
        for w in range(0, self.T, 32):
            if not all(mask[w:w + 32]):
                raise RuntimeError("mma.sync with inactive threads in warp %d" % (w // 32))
            A = [[0.0] * 8 for _ in range(16)]
            B = [[0.0] * 8 for _ in range(8)]
            C = [[0.0] * 8 for _ in range(16)]
            for lane in range(32):
                g, t = lane // 4, lane % 4
                fa, fb, fc = a[w + lane], b[w + lane], c[w + lane]
                A[g][t], A[g + 8][t], A[g][t + 4], A[g + 8][t + 4] = (
                    tf32_operand(x) for x in fa)
                B[t][g], B[t + 4][g] = (tf32_operand(x) for x in fb)
                C[g][2 * t], C[g][2 * t + 1], C[g + 8][2 * t], C[g + 8][2 * t + 1] = fc
            D = [[C[i][j] + sum(A[i][k] * B[k][j] for k in range(8))
                  for j in range(8)] for i in range(16)]
            for lane in range(32):
                g, t = lane // 4, lane % 4
                d[w + lane] = tuple(f32([D[g][2 * t], D[g][2 * t + 1],
                                         D[g + 8][2 * t], D[g + 8][2 * t + 1]]))
            self.mmas += 1
        return [d]

    def op_gpu_launch(self, op, mask):
        seg = [int(s) for s in re.search(r"operandSegmentSizes = array<i32: ([\d, ]+)>",
                                         op.attrs).group(1).split(",")]
        sizes = [self.uniform(o) for o in op.operands[seg[0]:seg[0] + 6]]
        (args, body), = op.regions
        grid, block = sizes[:3], sizes[3:]
        T = block[0] * block[1] * block[2]
        outer_T, self.T = self.T, T
        self.launches += 1
        for bz in range(grid[2]):
            for by in range(grid[1]):
                for bx in range(grid[0]):
                    names = [a for a, _ in args]
                    ids = [bx, by, bz,
                           [t % block[0] for t in range(T)],
                           [(t // block[0]) % block[1] for t in range(T)],
                           [t // (block[0] * block[1]) for t in range(T)]] + grid + block
                    for nm, v in zip(names, ids):
                        self.env[nm] = v
                    for nm, ty in args[12:]:  # workgroup memory: never staged = NaN
                        dims, _ = shape_of(ty)
                        n = 1
                        for x in dims:
                            n *= x
                        self.env[nm] = Memref(dims, [float("nan")] * n)
                    self.run(body, [True] * T)
        self.T = outer_T


def reference(ops, func_name, inputs, tf32):
    """C += A * B as the function's linalg.generic in `ops` (generic form,
    local scope) defines it, in double; with the sum of the magnitudes of
    each output's terms."""
    func = find_func(ops, func_name)
    (fargs, body), = func.regions
    names = [a for a, _ in fargs]
    g = next(o for o in body if o.name == "linalg.generic")
    A, B, C = (inputs[names.index(o)] for o in g.operands)
    a, b = A.data, B.data
    if tf32:
        a, b = ([from_bits(tf32_rna(x)) for x in m] for m in (a, b))
    maps = re.findall(r"affine_map<\(([^)]*)\) -> \(([^)]*)\)>", g.attrs)
    dims = [d.strip() for d in maps[0][0].split(",")]
    # Each operand's offset as a Python function of the loop indices.
    fns = [eval("lambda %s: %s" % (", ".join(dims), " + ".join(
        "(%s) * %d" % (e.replace("floordiv", "//").replace("mod", "%"), stride)
        for e, stride in zip(split_top(results), ref.strides))))
        for (_, results), ref in zip(maps, (A, B, C))]
    shapes = [A.shape, B.shape, C.shape]
    bounds = []
    for d in dims:  # each loop's trip count: an operand indexed by it alone
        bounds.append(next(shape[i] for (_, results), shape in zip(maps, shapes)
                           for i, e in enumerate(split_top(results)) if e == d))
    out, scale = list(C.data), [abs(x) for x in C.data]
    fa, fb, fc = fns
    for point in itertools.product(*(range(n) for n in bounds)):
        term = a[fa(*point)] * b[fb(*point)]
        at = fc(*point)
        out[at] += term
        scale[at] += abs(term)
    return out, scale


def find_func(ops, name):
    return next(o for (_, body) in ops[0].regions for o in body
                if o.name == "func.func" and 'sym_name = "%s"' % name in o.attrs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ir", help="the scheduled function, generic form")
    ap.add_argument("reference", help="the function before graft-gpu-schedule, "
                    "generic form, local scope, named ops generalized")
    ap.add_argument("func")
    ap.add_argument("--tf32", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    ops, _, _ = parse(open(args.ir).read().splitlines())
    (fargs, body), = find_func(ops, args.func).regions
    rng = random.Random(args.seed)
    m = Machine()
    inputs = []
    for name, ty in fargs:
        dims, elt = shape_of(ty)
        assert elt == "f32", ty
        n = 1
        for x in dims:
            n *= x
        ref = Memref(dims, f32([rng.uniform(-1, 1) for _ in range(n)]))
        m.env[name] = ref
        inputs.append(Memref(dims, list(ref.data)))
    ref_ops, _, _ = parse(open(args.reference).read().splitlines())
    exact, scale = reference(ref_ops, args.func, inputs, args.tf32)
    m.run(body, [True])
    out = m.env[fargs[-1][0]]  # C: the last argument
    worst, ok = 0.0, True
    for i, (got, want, s) in enumerate(zip(out.data, exact, scale)):
        err = abs(got - want) / s if got == got else float("inf")
        if err > 1e-5 and ok:
            print("mismatch at %d of %s: %r, expected %r" % (i, out.shape, got, want))
            ok = False
        worst = max(worst, err)
    print("%s %s%s: %d launch(es), %d warp mma.sync; worst error %.2g of the "
          "terms' magnitude: %s" % (args.func, "x".join(map(str, out.shape)),
                                    " tf32" if args.tf32 else "", m.launches,
                                    m.mmas, worst, "OK" if ok else "MISMATCH"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
