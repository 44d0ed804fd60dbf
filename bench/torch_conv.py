"""PyTorch eager baseline of bench/conv.graft: ms per training step.

x[32, 3, 64, 64] -> Conv2d(3, 16, 3, padding=1) -> ReLU -> max_pool2d(2) ->
Linear 10 -> cross_entropy, SGD(lr=0.01); zero_grad + forward + backward +
step, as graft's fused train step does.
"""
import torch
import torch.nn.functional as F

from torch_timing import report_training, setup

threads, steps = setup()


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 16, 3, padding=1)
        self.fc = torch.nn.Linear(16 * 32 * 32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.fc(x.flatten(1))


model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x = torch.randn(32, 3, 64, 64)
y = torch.randint(0, 10, (32,))

report_training(model, opt, x, y, threads, steps)
