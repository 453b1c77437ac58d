"""Exceptions raised by tinytorch.data; each message names the file and the fix."""
from __future__ import annotations


class DataError(RuntimeError):
    """Base class for data loading problems."""


class DataFormatError(DataError, ValueError):
    """A data file does not have the expected binary layout (bad magic number, truncated, ...)."""


class ChecksumMismatchError(DataError, ValueError):
    """A file's SHA-256 differs from the official value."""


class DataUnavailableError(DataError, FileNotFoundError):
    """Data files are missing and could not be downloaded (e.g. this machine is offline)."""


def check_split(split: str, choices: tuple[str, ...]) -> None:
    """Raise ValueError unless `split` is one of `choices`."""
    if split not in choices:
        raise ValueError(f"split must be one of {', '.join(map(repr, choices))}, got {split!r}")
