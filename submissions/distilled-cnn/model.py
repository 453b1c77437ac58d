"""Written by tinytorch.competition.generate_submission: the optimized model rebuilt from RECIPE and mnist_cnn.npz."""

import numpy as np

import tinytorch as tt
from tinytorch.competition import load_entry

RECIPE = {'model': 'BaselineCNN', 'config': {'in_channels': 1, 'num_classes': 10, 'image_size': 28}, 'fuse': [], 'shapes': {'features.0': [16, 1, 3, 3], 'features.3': [32, 16, 3, 3], 'classifier.1': [64, 1568], 'classifier.3': [10, 64]}, 'quantize': {}, 'techniques': [], 'reencode_every': None}


def load(event: str):
    """The optimized model with the shipped weights, in eval mode."""
    return load_entry(RECIPE, "mnist_cnn.npz")


def predict(model, inputs: np.ndarray) -> np.ndarray:
    """(N, C, H, W) float32 images -> (N, classes) logits."""
    with tt.no_grad():
        return model(tt.from_numpy(inputs)).numpy()
