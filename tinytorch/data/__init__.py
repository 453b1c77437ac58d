"""tinytorch.data: datasets, batching, bundled offline data and the real MNIST / CIFAR-10 loaders."""
from tinytorch.data.bundled import (
    MNIST_SUBSET_TRAIN_PER_CLASS,
    SHAKESPEARE_VALIDATION_WORKS,
    bundled_mnist,
    shakespeare_text,
    shakespeare_tokenizer,
    shakespeare_works,
)
from tinytorch.data.cache import DATA_ENV_VAR, cache_dir
from tinytorch.data.cifar10 import CIFAR10_CLASSES, load_cifar10
from tinytorch.data.dataloader import DataLoader, collate
from tinytorch.data.dataset import Dataset, TensorDataset
from tinytorch.data.errors import ChecksumMismatchError, DataError, DataFormatError, DataUnavailableError
from tinytorch.data.hashing import dataset_sha256, file_sha256
from tinytorch.data.mnist import load_mnist
from tinytorch.data.tokenizer import CharTokenizer
from tinytorch.data.transforms import to_float_images

__all__ = [
    "CIFAR10_CLASSES", "DATA_ENV_VAR", "MNIST_SUBSET_TRAIN_PER_CLASS", "SHAKESPEARE_VALIDATION_WORKS",
    "CharTokenizer", "ChecksumMismatchError", "DataError", "DataFormatError", "DataLoader",
    "DataUnavailableError", "Dataset", "TensorDataset", "bundled_mnist", "cache_dir", "collate",
    "dataset_sha256", "file_sha256", "load_cifar10", "load_mnist", "shakespeare_text",
    "shakespeare_tokenizer", "shakespeare_works", "to_float_images",
]
