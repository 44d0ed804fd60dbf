"""PyTorch eager baseline of examples/mnist.graft: ms per training step.

pytorch/examples' mnist/main.py Net and step, as written there:
x[B, 1, 28, 28] -> Conv2d(1, 32, 3, 1) -> ReLU -> Conv2d(32, 64, 3, 1) ->
ReLU -> max_pool2d(2) -> Dropout(0.25) -> flatten -> Linear(9216, 128) ->
ReLU -> Dropout(0.5) -> Linear(128, 10) -> log_softmax -> nll_loss,
Adadelta(lr=1.0); zero_grad + forward + backward + step, as graft's fused
train step does. B is main.py's --batch-size, 64 (a third argument
changes it).
"""
import os
import sys

import torch
import torch.nn.functional as F

from torch_timing import report, setup

# The Net as the parity suite transcribes it from main.py.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "test", "golden"))
from gen_parity_goldens import Net  # noqa: E402

threads, steps = setup()
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 64


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
