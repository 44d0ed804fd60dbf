"""PyTorch eager baseline of examples/mnist.graft: ms per training step.

pytorch/examples' mnist/main.py Net and step, as written there:
x[B, 1, 28, 28] -> Conv2d(1, 32, 3, 1) -> ReLU -> Conv2d(32, 64, 3, 1) ->
ReLU -> max_pool2d(2) -> Dropout(0.25) -> flatten -> Linear(9216, 128) ->
ReLU -> Dropout(0.5) -> Linear(128, 10) -> log_softmax -> nll_loss,
Adadelta(lr=1.0); zero_grad + forward + backward + step, as graft's fused
train step does. B is main.py's --batch-size, 64 (a third argument
changes it).
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_timing import report, setup

threads, steps = setup()
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 64


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


model = Net()
model.train()
optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
data = torch.randn(batch, 1, 28, 28)
target = torch.randint(0, 10, (batch,))


def step():
    optimizer.zero_grad()
    output = model(data)
    loss = F.nll_loss(output, target)
    loss.backward()
    optimizer.step()


report(step, threads, steps)
