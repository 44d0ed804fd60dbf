"""PyTorch eager baseline of examples/lenet.graft: ms per training step.

x[16, 1, 28, 28] -> Conv2d(1, 6, 5, padding=2) -> ReLU -> max_pool2d(2) ->
Conv2d(6, 16, 5) -> ReLU -> max_pool2d(2) -> Linear 120 -> ReLU -> Linear 84
-> ReLU -> Linear 10 -> cross_entropy, SGD(lr=0.05, momentum=0.9,
weight_decay=5e-4); zero_grad + forward + backward + step, as graft's fused
train step does.
"""
import torch
import torch.nn.functional as F

from torch_timing import report_training, setup

threads, steps = setup()


class LeNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(6, 16, 5)
        self.fc1 = torch.nn.Linear(16 * 5 * 5, 120)
        self.fc2 = torch.nn.Linear(120, 84)
        self.fc3 = torch.nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


model = LeNet()
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9,
                      weight_decay=5e-4)
x = torch.randn(16, 1, 28, 28)
y = torch.randint(0, 10, (16,))

report_training(model, opt, x, y, threads, steps)
