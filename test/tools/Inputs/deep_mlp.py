"""Prints a model file: an MLP of N identical Linear+ReLU layers (argv[1])."""
import sys

n = int(sys.argv[1])
print("model deep {")
print("  input x: f32[32, 64]")
print("  input y: i64[32]")
for i in range(n):
    print(f"  l{i} = Linear(64, 64)")
print("  h = x")
for i in range(n):
    print(f"  h = relu(l{i}(h))")
print("  output h")
print("  train {")
print("    loss = cross_entropy(h, y)")
print("    optimizer = SGD(lr=0.1)")
print("  }")
print("}")
