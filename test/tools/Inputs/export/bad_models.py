# Modules that tools/graft-export.py cannot express in Graft, each for one
# of its errors (test/tools/export.test).
import torch
import torch.nn as nn


class ValueBranch(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        y = self.fc(x)
        if y.sum() > 0:  # a branch on the values: not one program for every batch
            return y
        return -y


class CumSum(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return torch.cumsum(self.fc(x), dim=1)  # no cumsum in Graft


class Scratch(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.register_buffer("scale", torch.ones(4), persistent=False)

    def forward(self, x):
        return self.fc(x) * self.scale


class Star(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, *xs):
        return self.fc(xs[0])


class SizeBranch(nn.Module):
    """Control flow on sizes is decided at export, as Graft's shapes are
    static: the branch taken for the --input shape is the one written."""

    def __init__(self):
        super().__init__()
        self.wide = nn.Linear(8, 2)
        self.narrow = nn.Linear(4, 2)

    def forward(self, x):
        b, n = x.size()
        if n == 8:
            return self.wide(x)
        return self.narrow(x)


def not_a_module():
    return 42


class ModifiedAfterSave(nn.Module):
    """PyTorch raises at backward(): relu_ saves its output for the gradient
    and mul_ overwrites it. Exported as written, Graft reports it when the
    file is checked."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        y = self.fc(x)
        z = y * 2
        torch.nn.functional.relu(y, inplace=True)
        y.mul_(3)
        return z + y


class Relu6ReadAfter(nn.Module):
    """Not an error: F.relu6(y, inplace=True) with y read after, written as
    Graft's F.relu6(y, inplace=True) (graft.clamp_), y then the result."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        y = self.fc(x)
        z = y * 2
        torch.nn.functional.relu6(y, inplace=True)
        return z + y


class Conv1dModel(nn.Module):
    """Not an error: 1-D sizes, which PyTorch stores as (3,), written as
    its constructors take them."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 4, 3, padding=1)

    def forward(self, x):
        return self.conv(x)


class DashedParameter(nn.Module):
    """A parameter whose name is not an identifier (a submodule's may be:
    setattr(self, "block1-0", ...))."""
    def __init__(self):
        super().__init__()
        self.register_parameter("scale-1", nn.Parameter(torch.ones(4)))

    def forward(self, x):
        return x * getattr(self, "scale-1")


class CatOfTensor(nn.Module):
    """torch.cat of a tensor where a list belongs: PyTorch's own error, at
    the line."""
    def forward(self, xs):
        return torch.cat(xs, 1)
