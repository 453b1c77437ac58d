"""The CNN Marathon reference model: two conv/ReLU/max-pool stages and a two-layer classifier."""
from __future__ import annotations

import tinytorch as tt
from tinytorch import nn


class BaselineCNN(nn.Module):
    """conv3x3(C->32)-ReLU-pool2-conv3x3(32->64)-ReLU-pool2-Flatten-FC(64*(S/4)^2->128)-ReLU-FC(128->classes).

    ``BaselineCNN(3, 10, 32)`` is the CIFAR-10 baseline (FC 4096->128); ``BaselineCNN(1, 10, 28)`` is the same family
    on MNIST (FC 3136->128) for the offline CNN event.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, image_size: int = 32) -> None:
        super().__init__()
        if image_size % 4:
            raise ValueError(f"BaselineCNN: image_size={image_size} must be divisible by 4 (two 2x2 max-pools)")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        side = image_size // 4
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * side * side, 128), nn.ReLU(), nn.Linear(128, num_classes)
        )

    def forward(self, x: tt.Tensor) -> tt.Tensor:
        return self.classifier(self.features(x))
