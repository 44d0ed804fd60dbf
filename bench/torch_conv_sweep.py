"""PyTorch eager side of bench/conv_sweep.sh: bench/conv_sweep.graft's
model and step at batch B and image size S.

    torch_conv_sweep.py THREADS STEPS B S

x[B, 3, S, S] -> Conv2d(3, 16, 3, padding=1) -> ReLU -> Conv2d(16, 32, 3,
padding=1) -> ReLU -> max_pool2d(2) -> mean over the image -> Linear(32, 10)
-> cross_entropy, SGD(lr=0.01, momentum=0.9); zero_grad + forward +
backward + step, as graft's fused train step does.
"""
import sys

import torch
import torch.nn.functional as F

from torch_timing import report_training, setup

threads, steps = setup()
batch, size = int(sys.argv[3]), int(sys.argv[4])


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 16, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        self.fc = torch.nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.mean(dim=(2, 3))
        return self.fc(x)


model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x = torch.randn(batch, 3, size, size)
y = torch.randint(0, 10, (batch,))

report_training(model, opt, x, y, threads, steps)
