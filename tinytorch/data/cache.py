"""Cache directory and verified downloads: fetch to a temp file, check SHA-256, then rename."""
from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from tinytorch.atomic import atomic_open
from tinytorch.data.errors import ChecksumMismatchError, DataUnavailableError
from tinytorch.data.hashing import file_sha256

DATA_ENV_VAR = "TINYTORCH_DATA"
_CHUNK_BYTES = 1 << 20
# progress(file name, bytes received so far, total bytes or None when the server does not say)
DownloadProgress = Callable[[str, int, "int | None"], None]


def cache_dir() -> Path:
    """Root folder of downloaded data sets: $TINYTORCH_DATA if set, else ~/.cache/tinytorch."""
    configured = os.environ.get(DATA_ENV_VAR)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "tinytorch"


def open_url(url: str) -> BinaryIO:
    """Open `url` for reading (http(s) or file://). Tests replace this to simulate mirrors."""
    import urllib.request  # only downloads need the HTTP stack; keep it out of `import tinytorch`

    return urllib.request.urlopen(url, timeout=60)


def ensure_files(name: str, checksums: Mapping[str, str], mirrors: Sequence[str],
                 root: str | Path | None = None, download: bool = False,
                 progress: DownloadProgress | None = None) -> dict[str, Path]:
    """Return {file name: path} for every file in `checksums`, all verified by SHA-256.

    Files live in `root`, default cache_dir()/name. Missing files are downloaded from the first
    working mirror (base URLs) when `download` is true, reporting bytes to `progress`; otherwise
    DataUnavailableError says exactly which files to put where.
    """
    directory = Path(root).expanduser() if root is not None else cache_dir() / name
    missing = [file for file in checksums if not (directory / file).is_file()]
    if missing and not download:
        raise DataUnavailableError(_missing_message(name, directory, missing, mirrors, root is None))
    for file in checksums:
        if file in missing:
            _download(name, file, checksums[file], mirrors, directory, root is None, progress)
        else:
            verify_file(directory / file, checksums[file])
    return {file: directory / file for file in checksums}


def verify_file(path: Path, expected_sha256: str) -> None:
    """Raise ChecksumMismatchError unless the file's SHA-256 equals `expected_sha256`."""
    actual = file_sha256(path)
    if actual != expected_sha256:
        raise ChecksumMismatchError(
            f"{path}: SHA-256 is {actual}, expected {expected_sha256} (the official file). "
            f"Delete it and download it again, or replace it with the official file.")


def _download(name: str, file: str, expected_sha256: str, mirrors: Sequence[str],
              directory: Path, default_root: bool, progress: DownloadProgress | None = None) -> None:
    """Try each mirror in turn; the file appears in `directory` only once verified."""
    directory.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    served_wrong_file = False
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file
        if progress is None:  # a progress display names the file itself
            print(f"tinytorch.data: downloading {url} -> {directory / file}", file=sys.stderr)
        try:
            _fetch_verified(url, directory / file, expected_sha256, progress)
            return
        except (OSError, ChecksumMismatchError) as error:
            served_wrong_file |= isinstance(error, ChecksumMismatchError)
            failures.append(f"  {url}: {error}")
    report = "\n".join(failures)
    if served_wrong_file:
        raise ChecksumMismatchError(f"{file}: no mirror served the official file:\n{report}")
    raise DataUnavailableError(
        f"could not download {file}:\n{report}\n"
        + _missing_message(name, directory, [file], mirrors, default_root))


def _fetch_verified(url: str, target: Path, expected_sha256: str, progress: DownloadProgress | None = None) -> None:
    """Stream `url` into a temp file next to `target`, verify, then atomically rename."""
    digest = hashlib.sha256()
    received = 0
    with atomic_open(target, "wb") as out, open_url(url) as response:
        total = _content_length(response)
        for chunk in iter(lambda: response.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
            out.write(chunk)
            received += len(chunk)
            if progress is not None:
                progress(target.name, received, total)
        if digest.hexdigest() != expected_sha256:
            raise ChecksumMismatchError(
                f"SHA-256 of the download is {digest.hexdigest()}, expected {expected_sha256}")


def _content_length(response: BinaryIO) -> int | None:
    """The Content-Length the server announced, if any (file:// and test doubles may have none)."""
    headers = getattr(response, "headers", None)
    length = headers.get("Content-Length") if headers is not None else None
    return int(length) if length and str(length).isdigit() else None


def _missing_message(name: str, directory: Path, missing: Sequence[str], mirrors: Sequence[str],
                     default_root: bool) -> str:
    """Offline instructions: which files, from where, into which folder."""
    files = "\n".join(f"  {file}   (e.g. {mirrors[0].rstrip('/')}/{file})" for file in missing)
    where = (f"the folder is ${DATA_ENV_VAR}/{name} (default ~/.cache/tinytorch/{name}); "
             f"set {DATA_ENV_VAR} or pass root=DIR to use another folder"
             if default_root else f"the folder given as root; omit root to use ${DATA_ENV_VAR}/{name}")
    return (f"{name} data not found: run `tito data download {name}` (Python: download=True) with network "
            f"access. Offline? Put these files in {directory}\n{files}\n({where}).")
