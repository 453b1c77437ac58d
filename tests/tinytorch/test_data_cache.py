"""Cache folder, verified downloads (file:// mirrors and a monkeypatched fetch), offline errors."""
import hashlib
import io
from pathlib import Path

import pytest

from tinytorch.data import ChecksumMismatchError, DataUnavailableError, cache_dir
from tinytorch.data import cache as cache_module

PAYLOAD = b"official bytes\n" * 1000
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


def mirror(tmp_path, name: str, payload: bytes) -> str:
    """A file:// base URL that serves `name` with `payload`."""
    folder = tmp_path / f"mirror-{hashlib.sha256(payload).hexdigest()[:8]}"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(payload)
    return folder.as_uri() + "/"


def test_cache_dir_defaults_to_home_cache(monkeypatch):
    monkeypatch.delenv("TINYTORCH_DATA", raising=False)
    assert cache_dir() == Path.home() / ".cache" / "tinytorch"


def test_cache_dir_follows_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path / "data"))
    assert cache_dir() == tmp_path / "data"


def test_download_from_file_url_into_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path / "cache"))
    paths = cache_module.ensure_files("demo", {"a.bin": DIGEST}, [mirror(tmp_path, "a.bin", PAYLOAD)], download=True)
    assert paths["a.bin"] == tmp_path / "cache" / "demo" / "a.bin"
    assert paths["a.bin"].read_bytes() == PAYLOAD
    # Second call uses the cached, verified file and never touches the network.
    monkeypatch.setattr(cache_module, "open_url", lambda url: pytest.fail("downloaded twice"))
    assert cache_module.ensure_files("demo", {"a.bin": DIGEST}, ["http://unused/"], download=True) == paths


def test_sha_mismatch_leaves_nothing_in_the_cache(tmp_path):
    root = tmp_path / "root"
    bad = mirror(tmp_path, "a.bin", b"tampered")
    with pytest.raises(ChecksumMismatchError, match="a.bin: no mirror served the official file") as raised:
        cache_module.ensure_files("demo", {"a.bin": DIGEST}, [bad], root=root, download=True)
    assert DIGEST in str(raised.value) and hashlib.sha256(b"tampered").hexdigest() in str(raised.value)
    assert list(root.iterdir()) == []  # neither the file nor a temp .part file


def test_falls_back_to_the_next_mirror(tmp_path):
    dead = (tmp_path / "nowhere").as_uri() + "/"
    bad = mirror(tmp_path, "a.bin", b"tampered")
    good = mirror(tmp_path, "a.bin", PAYLOAD)
    paths = cache_module.ensure_files("demo", {"a.bin": DIGEST}, [dead, bad, good], root=tmp_path / "r", download=True)
    assert paths["a.bin"].read_bytes() == PAYLOAD
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["a.bin"]


def test_interrupted_download_leaves_no_partial_file(tmp_path, monkeypatch):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > 0:
                raise ConnectionResetError("connection reset")
            return super().read(10)

    monkeypatch.setattr(cache_module, "open_url", lambda url: Broken(PAYLOAD))
    with pytest.raises(DataUnavailableError, match="connection reset"):
        cache_module.ensure_files("demo", {"a.bin": DIGEST}, ["https://example.invalid/"], root=tmp_path, download=True)
    assert list(tmp_path.iterdir()) == []


def test_monkeypatched_fetch_gets_mirror_url(tmp_path, monkeypatch):
    requested = []
    monkeypatch.setattr(cache_module, "open_url", lambda url: requested.append(url) or io.BytesIO(PAYLOAD))
    cache_module.ensure_files("demo", {"a.bin": DIGEST}, ["https://host/path"], root=tmp_path, download=True)
    assert requested == ["https://host/path/a.bin"]


def test_offline_without_download_names_files_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path))
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "b.bin").write_bytes(PAYLOAD)
    with pytest.raises(DataUnavailableError) as raised:
        cache_module.ensure_files("demo", {"a.bin": DIGEST, "b.bin": DIGEST}, ["https://host/"])
    message = str(raised.value)
    assert "a.bin" in message and "b.bin" not in message
    assert str(tmp_path / "demo") in message and "TINYTORCH_DATA" in message and "https://host/a.bin" in message


def test_all_mirrors_unreachable_gives_offline_instructions(tmp_path):
    dead = (tmp_path / "nowhere").as_uri()
    with pytest.raises(DataUnavailableError, match=r"could not download a\.bin(.|\n)*Put these files in"):
        cache_module.ensure_files("demo", {"a.bin": DIGEST}, [dead], root=tmp_path / "r", download=True)


def test_corrupt_cached_file_is_reported_not_used(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"corrupt")
    with pytest.raises(ChecksumMismatchError, match=r"a\.bin: SHA-256 is .* expected .*Delete it"):
        cache_module.ensure_files("demo", {"a.bin": DIGEST}, ["https://host/"], root=tmp_path, download=True)
