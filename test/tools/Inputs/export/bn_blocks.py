"""A ResNet's stem and first stage, small: conv-BN-ReLU-maxpool and two of
torchvision's BasicBlocks of 16 channels, then average pooling and a linear
classifier. Over batch 8 of 64x64 images its batch norms sum 32768 (the
stem) and 8192 (the blocks) elements a channel: f32 sums long enough for
their rounding to show."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock


class BNBlocks(nn.Module):
    def __init__(self, channels=16, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.maxpool = nn.MaxPool2d(2)
        self.layer1 = nn.Sequential(BasicBlock(channels, channels),
                                    BasicBlock(channels, channels))
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
