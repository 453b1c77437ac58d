"""Data shipped inside the package (made by scripts/bundle_data.py): an MNIST subset and Shakespeare.

Fixed splits:
- MNIST subset (5 000 digits, 500 per class): within each class, the first 400 in file order are
  "train" and the last 100 are "test" (4 000 / 1 000, 10 classes balanced).
- Shakespeare (42 works): the works in SHAKESPEARE_VALIDATION_WORKS are "validation" (about 10 % of
  the characters), all other works are "train"; each split keeps the bundled document order.
"""
from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np

from tinytorch.data.errors import DataFormatError, check_split
from tinytorch.data.tokenizer import CharTokenizer

BUNDLED_DIR = Path(__file__).with_name("bundled")
MNIST_SUBSET_FILE = "mnist_5k.npz"
MNIST_SUBSET_TRAIN_PER_CLASS = 400
SHAKESPEARE_TEXT_FILE = "shakespeare.txt.gz"
SHAKESPEARE_INDEX_FILE = "shakespeare_works.json"
SHAKESPEARE_VALIDATION_WORKS = ("comedy_of_errors", "hamlet", "henry_v", "tempest")


def bundled_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Bundled MNIST subset `split` ("train" 4 000 / "test" 1 000) -> (uint8 (N, 28, 28), int64 (N,))."""
    check_split(split, ("train", "test"))
    with np.load(BUNDLED_DIR / MNIST_SUBSET_FILE, allow_pickle=False) as archive:
        images, labels = archive["images"], archive["labels"].astype(np.int64)
    in_train = rank_within_class(labels) < MNIST_SUBSET_TRAIN_PER_CLASS
    keep = in_train if split == "train" else ~in_train
    return images[keep], labels[keep]


def rank_within_class(labels: np.ndarray) -> np.ndarray:
    """Position of each sample among the samples of its own class, in file order (0, 1, 2, ...)."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    ranks = np.empty(len(labels), dtype=np.int64)
    ranks[order] = np.arange(len(labels)) - np.searchsorted(sorted_labels, sorted_labels)
    return ranks


def shakespeare_works() -> list[dict[str, Any]]:
    """The bundled works in document order: name, title, source file, chars, source sha256."""
    return json.loads((BUNDLED_DIR / SHAKESPEARE_INDEX_FILE).read_text(encoding="utf-8"))


def shakespeare_text(split: str = "all") -> str:
    """Shakespeare's works as one string: "train", "validation" (whole held-out works) or "all"."""
    check_split(split, ("train", "validation", "all"))
    corpus = _shakespeare_corpus()
    if split == "all":
        return corpus
    pieces, start = [], 0
    for work in shakespeare_works():
        if (work["name"] in SHAKESPEARE_VALIDATION_WORKS) == (split == "validation"):
            pieces.append(corpus[start:start + work["chars"]])
        start += work["chars"]
    return "".join(pieces)


@functools.lru_cache(maxsize=1)
def shakespeare_tokenizer() -> CharTokenizer:
    """The fixed character vocabulary of the whole bundled corpus (all splits)."""
    return CharTokenizer.from_text(_shakespeare_corpus())


@functools.lru_cache(maxsize=1)
def _shakespeare_corpus() -> str:
    """The whole bundled text, checked against the works index."""
    path = BUNDLED_DIR / SHAKESPEARE_TEXT_FILE
    corpus = gzip.decompress(path.read_bytes()).decode("utf-8")
    indexed = sum(work["chars"] for work in shakespeare_works())
    if indexed != len(corpus):
        raise DataFormatError(f"{path}: has {len(corpus)} characters but {SHAKESPEARE_INDEX_FILE} "
                              f"lists {indexed}; rebuild both with scripts/bundle_data.py")
    return corpus
