"""IDX parsing and load_mnist on small generated files in the official format."""
import gzip
import struct

import numpy as np
import pytest

from tinytorch.data import DataFormatError, DataUnavailableError, file_sha256, load_mnist
from tinytorch.data import mnist as mnist_module
from tinytorch.data.idx import IDX_DTYPES, parse_idx, read_idx

TYPE_CODES = {np.dtype(dtype).newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode `array` as IDX: 0, 0, type code, ndim, big-endian uint32 dims, big-endian values."""
    header = bytes([0, 0, TYPE_CODES[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_mnist_split(folder, split, images, labels):
    """Write the split's two official file names as gzip IDX."""
    images_file, labels_file = mnist_module.MNIST_SPLIT_FILES[split]
    (folder / images_file).write_bytes(gzip.compress(idx_bytes(images)))
    (folder / labels_file).write_bytes(gzip.compress(idx_bytes(labels)))
    return {name: file_sha256(folder / name) for name in (images_file, labels_file)}


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip_every_type(tmp_path, dtype):
    array = (np.arange(2 * 3 * 5) - 7).astype(dtype).reshape(2, 3, 5)
    path = tmp_path / "values.idx.gz"
    path.write_bytes(gzip.compress(idx_bytes(array)))
    loaded = read_idx(path)
    assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, array)


def test_idx_header_is_big_endian():
    payload = bytes([0, 0, 0x0B, 1]) + struct.pack(">I", 2) + struct.pack(">2h", 258, -2)
    np.testing.assert_array_equal(parse_idx(payload), [258, -2])


def test_uncompressed_idx_is_read_too(tmp_path):
    path = tmp_path / "labels.idx"
    path.write_bytes(idx_bytes(np.array([3, 1, 4], dtype=np.uint8)))
    np.testing.assert_array_equal(read_idx(path), [3, 1, 4])


@pytest.mark.parametrize("payload", [b"\x1f\x8b\x08\x03rest", b"\x00\x00\x07\x01\x00\x00\x00\x01x", b"", b"\x00\x01\x08\x01"])
def test_bad_magic_is_a_clear_error(payload):
    with pytest.raises(DataFormatError, match=r"x\.idx: bad IDX magic number"):
        parse_idx(payload, source="x.idx")


def test_truncated_idx_names_the_file(tmp_path):
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((4, 2, 2), np.uint8))[:-1]))
    with pytest.raises(DataFormatError, match=r"short\.gz.*truncated"):
        read_idx(path)


def test_not_gzip_names_the_file(tmp_path):
    path = tmp_path / "plain.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(DataFormatError, match=r"plain\.gz: not a valid gzip"):
        read_idx(path)


def test_load_mnist_reads_generated_official_files(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=7, dtype=np.uint8)
    checksums = write_mnist_split(tmp_path, "test", images, labels)
    monkeypatch.setattr(mnist_module, "MNIST_SHA256", {**mnist_module.MNIST_SHA256, **checksums})
    loaded_images, loaded_labels = load_mnist("test", root=tmp_path)
    assert loaded_images.dtype == np.uint8 and loaded_labels.dtype == np.int64
    np.testing.assert_array_equal(loaded_images, images)
    np.testing.assert_array_equal(loaded_labels, labels)
    loaded_images[0, 0, 0] = 1  # writable, not a view of read-only bytes


def test_load_mnist_rejects_labels_given_as_images(tmp_path, monkeypatch):
    labels = np.arange(5, dtype=np.uint8)
    checksums = write_mnist_split(tmp_path, "train", labels, labels)
    monkeypatch.setattr(mnist_module, "MNIST_SHA256", {**mnist_module.MNIST_SHA256, **checksums})
    with pytest.raises(DataFormatError, match="train-images-idx3-ubyte.gz: expected uint8 images with 3 dims"):
        load_mnist("train", root=tmp_path)


def test_load_mnist_rejects_count_mismatch(tmp_path, monkeypatch):
    checksums = write_mnist_split(tmp_path, "train", np.zeros((3, 28, 28), np.uint8), np.zeros(2, np.uint8))
    monkeypatch.setattr(mnist_module, "MNIST_SHA256", {**mnist_module.MNIST_SHA256, **checksums})
    with pytest.raises(DataFormatError, match="3 images but .* 2 labels"):
        load_mnist("train", root=tmp_path)


def test_official_checksums_are_pinned_for_all_four_files():
    assert set(mnist_module.MNIST_SHA256) == {
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
    assert all(len(digest) == 64 and int(digest, 16) >= 0 for digest in mnist_module.MNIST_SHA256.values())


def test_offline_error_names_files_folder_and_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path))
    with pytest.raises(DataUnavailableError) as raised:
        load_mnist("train")
    message = str(raised.value)
    for expected in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", str(tmp_path / "mnist"),
                     "TINYTORCH_DATA", "download=True"):
        assert expected in message
    assert "t10k" not in message


def test_bad_split_is_rejected():
    with pytest.raises(ValueError, match="split must be one of 'train', 'test'"):
        load_mnist("validation")


def test_load_mnist_downloads_once_from_a_file_mirror(tmp_path, monkeypatch):
    served = tmp_path / "mirror"
    served.mkdir()
    images, labels = np.full((2, 28, 28), 9, np.uint8), np.array([4, 2], np.uint8)
    checksums = write_mnist_split(served, "train", images, labels)
    monkeypatch.setattr(mnist_module, "MNIST_SHA256", {**mnist_module.MNIST_SHA256, **checksums})
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path / "cache"))
    dead_mirror = (tmp_path / "offline").as_uri()
    loaded_images, loaded_labels = load_mnist("train", download=True, mirrors=[dead_mirror, served.as_uri()])
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == sorted(checksums)
    np.testing.assert_array_equal(loaded_images, images)
    assert loaded_labels.tolist() == [4, 2]
