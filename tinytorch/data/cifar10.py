"""CIFAR-10 from the official *binary* tarball (no pickle), read straight from the tar stream."""
from __future__ import annotations

import tarfile
from collections.abc import Sequence
from pathlib import PurePosixPath, Path

import numpy as np

from tinytorch.data.cache import ensure_files
from tinytorch.data.errors import DataFormatError, check_split

CIFAR10_ARCHIVE = "cifar-10-binary.tar.gz"
CIFAR10_MIRRORS: tuple[str, ...] = ("https://www.cs.toronto.edu/~kriz/",)
# SHA-256 of the official archive (170 052 171 bytes), identical across several independent public loaders.
CIFAR10_SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
CIFAR10_SPLIT_MEMBERS: dict[str, tuple[str, ...]] = {
    "train": tuple(f"data_batch_{index}.bin" for index in range(1, 6)),
    "test": ("test_batch.bin",),
}
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_RECORD_BYTES = 1 + 3 * 32 * 32


def load_cifar10(split: str = "train", root: str | Path | None = None, download: bool = False,
                 mirrors: Sequence[str] = CIFAR10_MIRRORS) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 `split` ("train": 50 000, "test": 10 000) -> (uint8 images (N, 3, 32, 32), int64 labels (N,)).

    The archive is read from `root` (default cache_dir()/"cifar10") and verified by SHA-256; with
    `download=True` a missing archive is fetched from `mirrors` first.
    """
    check_split(split, tuple(CIFAR10_SPLIT_MEMBERS))
    paths = ensure_files("cifar10", {CIFAR10_ARCHIVE: CIFAR10_SHA256}, mirrors, root, download)
    return read_cifar10_archive(paths[CIFAR10_ARCHIVE], CIFAR10_SPLIT_MEMBERS[split])


def read_cifar10_archive(path: Path, members: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate the records of the named .bin members (matched by base name), in the given order."""
    payloads = _read_members(path, set(members))
    missing = [member for member in members if member not in payloads]
    if missing:
        raise DataFormatError(f"{path}: archive has no member named {', '.join(missing)}; "
                              f"is it the binary version {CIFAR10_ARCHIVE}?")
    parsed = [parse_cifar10_records(payloads[member], f"{path}:{member}") for member in members]
    return np.concatenate([images for images, _ in parsed]), np.concatenate([labels for _, labels in parsed])


def parse_cifar10_records(payload: bytes, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32) -> (images, labels)."""
    if len(payload) % _RECORD_BYTES:
        raise DataFormatError(f"{source}: {len(payload)} bytes is not a whole number of "
                              f"{_RECORD_BYTES}-byte CIFAR-10 records; the file is truncated or corrupt")
    records = np.frombuffer(payload, dtype=np.uint8).reshape(-1, _RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    if labels.size and labels.max() >= len(CIFAR10_CLASSES):
        raise DataFormatError(f"{source}: label {labels.max()} out of range 0..9; not a CIFAR-10 batch")
    return records[:, 1:].reshape(-1, 3, 32, 32).copy(), labels


def _read_members(path: Path, wanted: set[str]) -> dict[str, bytes]:
    """One sequential pass over the gzip tar stream, keeping the wanted regular files by base name."""
    payloads: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r|gz") as archive:
            for member in archive:
                name = PurePosixPath(member.name).name
                if member.isfile() and name in wanted:
                    payloads[name] = archive.extractfile(member).read()
    except (tarfile.TarError, EOFError, OSError) as error:
        raise DataFormatError(f"{path}: cannot read as a gzip tar archive ({error})") from error
    return payloads
