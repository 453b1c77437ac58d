"""Full MNIST from the four official IDX gz files, downloaded once into the cache and verified."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tinytorch.data.cache import ensure_files
from tinytorch.data.errors import DataFormatError, check_split
from tinytorch.data.idx import read_idx

MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
# SHA-256 of the official files, identical across several independent public loaders and checksum lists.
MNIST_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MNIST_SPLIT_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def load_mnist(split: str = "train", root: str | Path | None = None, download: bool = False,
               mirrors: Sequence[str] = MNIST_MIRRORS) -> tuple[np.ndarray, np.ndarray]:
    """MNIST `split` ("train": 60 000, "test": 10 000) -> (uint8 images (N, 28, 28), int64 labels (N,)).

    Files are read from `root` (default cache_dir()/"mnist") and verified by SHA-256; with
    `download=True` missing files are fetched from `mirrors` first.
    """
    check_split(split, tuple(MNIST_SPLIT_FILES))
    images_file, labels_file = MNIST_SPLIT_FILES[split]
    paths = ensure_files("mnist", {file: MNIST_SHA256[file] for file in (images_file, labels_file)},
                         mirrors, root, download)
    return read_mnist_pair(paths[images_file], paths[labels_file])


def read_mnist_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Parse an IDX image file and its IDX label file, checking they describe the same digits."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DataFormatError(f"{images_path}: expected uint8 images with 3 dims (IDX magic 0x00000803), "
                              f"got {images.dtype} with shape {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataFormatError(f"{labels_path}: expected uint8 labels with 1 dim (IDX magic 0x00000801), "
                              f"got {labels.dtype} with shape {labels.shape}")
    if len(images) != len(labels):
        raise DataFormatError(f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels")
    return images, labels.astype(np.int64)
