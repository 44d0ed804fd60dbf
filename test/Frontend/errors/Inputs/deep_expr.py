"""Prints a model whose line 3 is one deep or long expression.

usage: deep_expr.py KIND N
  chain   y = x + x + ... (N additions)      method  y = x.relu().relu()...
  member  y = x.a.a.a...                     index   y = x[0][0]...
  power   y = x ** x ** ... (right-nested)   list    y = [[[...x...]]]
  paren   y = ((((x))))                      neg     y = ----x
  garbage N characters of '$'
  mlir    (not a model) graft IR: N nested modules
"""
import sys

kind, n = sys.argv[1], int(sys.argv[2])
if kind == "mlir":
    print("module {" * n + "}" * n)
    sys.exit(0)
expr = {
    "chain": lambda: "x" + " + x" * n,
    "method": lambda: "x" + ".relu()" * n,
    "member": lambda: "x" + ".a" * n,
    "index": lambda: "x" + "[0]" * n,
    "power": lambda: "x" + " ** x" * n,
    "list": lambda: "[" * n + "x" + "]" * n,
    "paren": lambda: "(" * n + "x" + ")" * n,
    "neg": lambda: "-" * n + "x",
    "garbage": lambda: "$" * n,
}[kind]()
print("model m {")
print("  input x: f32[4]")
print("  y = " + expr)
print("  output y")
print("}")
