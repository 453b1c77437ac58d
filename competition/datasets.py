"""Event datasets as the harness uses them: exact arrays plus the SHA-256 of those bytes.

Everything here runs in the parent. Workers receive inputs (and, for training, the training split with labels);
test labels and the hidden split never leave the parent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import tinytorch.data as ttd

IMAGE_LOADERS = {
    "mnist_bundled": lambda split: ttd.bundled_mnist(split),
    "mnist": lambda split: ttd.load_mnist(split),
    "cifar10": lambda split: ttd.load_cifar10(split),
}
BUNDLED_DATASETS = frozenset({"mnist_bundled", "shakespeare"})  # shipped with tinytorch: no download needed
DATASET_NAMES = {"mnist_bundled": "MNIST (bundled subset)", "mnist": "MNIST", "cifar10": "CIFAR-10",
                 "shakespeare": "Shakespeare (bundled)"}


@dataclass(frozen=True)
class EventData:
    """The arrays one event run uses. `sha256` covers exactly these arrays (dtype, shape, bytes)."""

    name: str
    split: str
    inputs: np.ndarray | None = None  # float32 (N, C, H, W) in [0, 1], test split
    labels: np.ndarray | None = None  # int64 (N,), parent only
    train_inputs: np.ndarray | None = None
    train_labels: np.ndarray | None = None
    tokens: np.ndarray | None = None  # int64 (T,), the evaluation text (generation events)
    sha256: str = ""

    @property
    def n_examples(self) -> int:
        """Test images, or evaluation tokens for text events."""
        return int(len(self.tokens) if self.tokens is not None else len(self.labels))

    def record(self) -> dict:
        """The result's event.dataset object."""
        return {"name": self.name, "split": self.split, "n_examples": self.n_examples, "sha256": self.sha256}


def unavailable_reason(dataset: str) -> str | None:
    """None when `dataset` can be loaded on this machine, else the loader's message saying which files to put where."""
    if dataset in BUNDLED_DATASETS:
        return None
    try:
        IMAGE_LOADERS[dataset]("test")
    except ttd.DataUnavailableError as err:
        return str(err)
    return None


def load_event_data(dataset: str, split: str, kind: str, max_examples: int | None = None) -> EventData:
    """Load `dataset`'s `split` for an event of `kind`; `max_examples` keeps a prefix (recorded in the split name)."""
    if dataset == "shakespeare":
        tokens = np.asarray(ttd.shakespeare_tokenizer().encode(ttd.shakespeare_text(split)), dtype=np.int64)
        split_name = split if max_examples is None else f"{split}[:{max_examples}]"
        tokens = tokens[:max_examples]
        return EventData(DATASET_NAMES[dataset], split_name, tokens=tokens, sha256=ttd.dataset_sha256(tokens))
    if dataset not in IMAGE_LOADERS:
        raise KeyError(f"unknown dataset {dataset!r}; known: {', '.join(sorted([*IMAGE_LOADERS, 'shakespeare']))}")
    images, labels = IMAGE_LOADERS[dataset](split)
    split_name = split
    if max_examples is not None and max_examples < len(labels):
        images, labels, split_name = images[:max_examples], labels[:max_examples], f"{split}[:{max_examples}]"
    inputs, labels = ttd.to_float_images(images), labels.astype(np.int64)
    arrays = [inputs, labels]
    train_inputs = train_labels = None
    if kind == "training":
        train_images, train_labels = IMAGE_LOADERS[dataset]("train")
        train_inputs, train_labels = ttd.to_float_images(train_images), train_labels.astype(np.int64)
        arrays += [train_inputs, train_labels]
    return EventData(DATASET_NAMES[dataset], split_name, inputs, labels, train_inputs, train_labels,
                     sha256=ttd.dataset_sha256(*arrays))


def perplexity_windows(tokens: np.ndarray, n_windows: int, window: int) -> np.ndarray:
    """Evenly spaced, non-overlapping windows (n_windows, window + 1): inputs are [:, :-1], targets [:, 1:]."""
    if len(tokens) < n_windows * (window + 1):
        raise ValueError(f"the text has {len(tokens)} tokens, too few for {n_windows} windows of {window + 1}")
    starts = np.linspace(0, len(tokens) - (window + 1), n_windows).astype(np.int64)
    return np.stack([tokens[s:s + window + 1] for s in starts])


def prompt_at(tokens: np.ndarray, start: int, prompt_tokens: int, new_tokens: int) -> tuple[np.ndarray, np.ndarray]:
    """The prompt (1, prompt_tokens) at `start` and the real text after it (new_tokens,): its BLEU reference."""
    end = start + prompt_tokens
    if start < 0 or end + new_tokens > len(tokens):
        raise ValueError(f"a prompt at {start} does not fit a text of {len(tokens)} tokens")
    return np.ascontiguousarray(tokens[None, start:end]), np.asarray(tokens[end:end + new_tokens])
