"""PyTorch eager baseline of bench/mlp.graft: ms per training step.

x[128, 784] -> Linear 512 -> ReLU -> Linear 512 -> ReLU -> Linear 10 ->
cross_entropy, SGD(lr=0.01, momentum=0.9); zero_grad + forward + backward +
step, as graft's fused train step does.
"""
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 50
torch.set_num_threads(threads)
torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Linear(784, 512), torch.nn.ReLU(),
    torch.nn.Linear(512, 512), torch.nn.ReLU(),
    torch.nn.Linear(512, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x = torch.randn(128, 784)
y = torch.randint(0, 10, (128,))


def step():
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()


for _ in range(5):
    step()
start = time.perf_counter()
for _ in range(steps):
    step()
ms = 1000 * (time.perf_counter() - start) / steps
print(f"pytorch {torch.__version__}: train step {ms:.3f} ms "
      f"(mean of {steps} steps, {threads} thread(s))")
