"""The hidden test set: a private evaluation split that lives only on the official runners, never in the repository.

A maintainer puts one file per dataset, `<dataset>.npz` with arrays `images` (uint8, (N, H, W) or (N, C, H, W))
and `labels` (integers, (N,)), in a folder on the runner and points the environment variable
TINYMLPERF_PRIVATE_SPLIT at it. `load_private_split(event)` then returns that split as the event's evaluation data
(for training events the public training split stays the training data); results scored on it record
`event.dataset.split` "private", `visibility` "private" and the SHA-256 of exactly those arrays. During a season the
public board ranks public-split results; `tito leaderboard build --reveal` publishes the private ranking beside it.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

import tinytorch.data as ttd
from competition.datasets import DATASET_NAMES, IMAGE_LOADERS, EventData
from competition.rules import Event
from tinytorch.atomic import write_atomic

ENV_VAR = "TINYMLPERF_PRIVATE_SPLIT"
REPOSITORY = Path(__file__).resolve().parents[1]
SPLIT = "private"


class PrivateSplitError(ValueError):
    """The private split is misconfigured or malformed; the message names the file, field and fix."""


def private_dir(environ: dict[str, str] | None = None) -> Path | None:
    """The runner's private-split folder from TINYMLPERF_PRIVATE_SPLIT, or None when unset (students, CI)."""
    value = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if not value:
        return None
    folder = Path(value).expanduser().resolve()
    if not folder.is_dir():
        raise PrivateSplitError(f"{ENV_VAR}={value}: not a folder; fix: point it at the folder holding "
                                "<dataset>.npz on this runner, or unset it")
    if folder == REPOSITORY or REPOSITORY in folder.parents:
        raise PrivateSplitError(f"{ENV_VAR}={value}: inside the repository ({REPOSITORY}); fix: keep the hidden "
                                "test set outside any checkout so it can never be committed or read by a PR")
    return folder


def split_file(folder: Path, dataset: str) -> Path:
    """Where the private split of `dataset` lives in `folder`."""
    return folder / f"{dataset}.npz"


def load_private_split(event: Event, environ: dict[str, str] | None = None) -> EventData | None:
    """The event's private evaluation split, or None (no TINYMLPERF_PRIVATE_SPLIT, or no file for its dataset,
    or a text event: only image datasets have a private split)."""
    folder = private_dir(environ)
    if folder is None or event.dataset not in IMAGE_LOADERS:
        return None
    path = split_file(folder, event.dataset)
    if not path.is_file():
        return None
    images, labels = _read(path)
    inputs, labels = ttd.to_float_images(images), labels.astype(np.int64)
    arrays = [inputs, labels]
    train_inputs = train_labels = None
    if event.kind == "training":
        train_images, train_labels = IMAGE_LOADERS[event.dataset]("train")
        train_inputs, train_labels = ttd.to_float_images(train_images), train_labels.astype(np.int64)
        arrays += [train_inputs, train_labels]
    return EventData(f"{DATASET_NAMES[event.dataset]} (private split)", SPLIT, inputs, labels, train_inputs,
                     train_labels, sha256=ttd.dataset_sha256(*arrays))


def dataset_record(data: EventData) -> dict:
    """The result's event.dataset object, with `visibility` ("private" for the hidden split, else "public")."""
    return {**data.record(), "visibility": "private" if data.split == SPLIT else "public"}


def _read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            if {"images", "labels"} - set(archive.files):
                raise PrivateSplitError(f"{path}: needs arrays 'images' and 'labels' (has {sorted(archive.files)}); "
                                        "fix: write it with competition.private_split.write_private_split")
            images, labels = archive["images"], archive["labels"]
    except (OSError, ValueError) as err:
        if isinstance(err, PrivateSplitError):
            raise
        raise PrivateSplitError(f"{path}: not a readable .npz ({err}); fix: rewrite it with "
                                "competition.private_split.write_private_split") from None
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise PrivateSplitError(f"{path} [images]: {images.dtype} {images.shape}; fix: uint8 (N, H, W) or (N, C, H, W)")
    if labels.ndim != 1 or len(labels) != len(images) or not np.issubdtype(labels.dtype, np.integer):
        raise PrivateSplitError(f"{path} [labels]: {labels.dtype} {labels.shape}; fix: integers, one per image")
    if len(labels) == 0:
        raise PrivateSplitError(f"{path} [labels]: empty; fix: store at least one example")
    return images, labels


def write_private_split(folder: str | Path, dataset: str, images: np.ndarray, labels: np.ndarray) -> Path:
    """Maintainers: store a private split for `dataset` (atomically) in `folder` on the runner; returns the file."""
    target = split_file(Path(folder), dataset)
    buffer = io.BytesIO()
    np.savez(buffer, images=np.asarray(images, dtype=np.uint8), labels=np.asarray(labels, dtype=np.int64))
    write_atomic(target, buffer.getvalue())
    _read(target)
    return target
