"""PyTorch eager baseline of bench/dwconv.graft: ms per training step.

x[32, 3, 32, 32] -> Conv2d(3, 32, 3) -> depthwise 3x3 -> pointwise 1x1 ->
depthwise 3x3 stride 2 -> grouped 3x3 (4 groups) -> depthwise 7x7 -> mean
-> Linear 10 -> cross_entropy, SGD(lr=0.01), ReLU after each convolution;
zero_grad + forward + backward + step, as graft's fused train step does.
"""
import torch
import torch.nn.functional as F

from torch_timing import report_training, setup

threads, steps = setup()


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 32, 3, padding=1)
        self.dw1 = torch.nn.Conv2d(32, 32, 3, padding=1, groups=32)
        self.pw1 = torch.nn.Conv2d(32, 64, 1)
        self.dw2 = torch.nn.Conv2d(64, 64, 3, stride=2, padding=1, groups=64)
        self.gc = torch.nn.Conv2d(64, 64, 3, padding=1, groups=4)
        self.dw3 = torch.nn.Conv2d(64, 64, 7, padding=3, groups=64)
        self.fc = torch.nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = F.relu(self.dw1(x))
        x = F.relu(self.pw1(x))
        x = F.relu(self.dw2(x))
        x = F.relu(self.gc(x))
        x = F.relu(self.dw3(x))
        return self.fc(x.mean((2, 3)))


model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x = torch.randn(32, 3, 32, 32)
y = torch.randint(0, 10, (32,))

report_training(model, opt, x, y, threads, steps)
