"""PyTorch eager baseline of bench/mlp.graft: ms per training step.

x[128, 784] -> Linear 512 -> ReLU -> Linear 512 -> ReLU -> Linear 10 ->
cross_entropy, SGD(lr=0.01, momentum=0.9); zero_grad + forward + backward +
step, as graft's fused train step does.
"""
import torch

from torch_timing import report_training, setup

threads, steps = setup()
model = torch.nn.Sequential(
    torch.nn.Linear(784, 512), torch.nn.ReLU(),
    torch.nn.Linear(512, 512), torch.nn.ReLU(),
    torch.nn.Linear(512, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x = torch.randn(128, 784)
y = torch.randint(0, 10, (128,))

report_training(model, opt, x, y, threads, steps)
