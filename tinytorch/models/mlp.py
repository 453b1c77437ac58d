"""The MLP Sprint reference model: a plain multi-layer perceptron for MNIST."""
from __future__ import annotations

from typing import Sequence

import tinytorch as tt
from tinytorch import nn


class MLP(nn.Module):
    """Flatten -> (Linear -> ReLU) per hidden width -> Linear. Accepts (N, 784) or (N, 1, 28, 28)."""

    def __init__(self, in_features: int = 784, hidden: Sequence[int] = (128, 64), num_classes: int = 10) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: tt.Tensor) -> tt.Tensor:
        return self.layers(x.reshape(x.shape[0], -1))
