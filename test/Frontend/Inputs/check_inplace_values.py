"""Checks graft-reference's loss and gradient for a model whose loss is
sum(v * x) with v = A (a constant array, the updated value) and whose
parameter w (initially ones) gets the gradient B * x.

usage: check_inplace_values.py FILE A B
"""
import sys

path, a, b = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
rows = {}
for line in open(path):
    kind, name, n, *vals = line.split()
    rows[(kind, name)] = [float(v) for v in vals]
x = rows[("input", "x")]
loss = rows[("loss", "loss")][0]
grad = rows[("grad", "w")]
want_loss = sum(a * xi for xi in x)
want_grad = [b * xi for xi in x]
ok = abs(loss - want_loss) <= 1e-5 * max(1.0, abs(want_loss)) and all(
    abs(g - w) <= 1e-6 * max(1.0, abs(w)) for g, w in zip(grad, want_grad))
print("loss %r (want %r), grad %r (want %r)" % (loss, want_loss, grad, want_grad))
sys.exit(0 if ok else 1)
