"""Image conversion from stored uint8 pixels to model inputs."""
from __future__ import annotations

import numpy as np


def to_float_images(images: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [0, 1], channel-first: (N, H, W) gains a channel dim -> (N, 1, H, W);
    (N, C, H, W) keeps its shape."""
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise ValueError(f"expected uint8 images (N, H, W) or (N, C, H, W), got {images.dtype} {images.shape}")
    scaled = images.astype(np.float32) / np.float32(255)
    return scaled[:, None] if images.ndim == 3 else scaled
