"""CIFAR-10 binary tarball parsing on a small generated archive in the official layout."""
import io
import tarfile

import numpy as np
import pytest

from tinytorch.data import DataFormatError, file_sha256, load_cifar10
from tinytorch.data import cifar10 as cifar_module


def batch_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """Records of 1 label byte + R, G, B planes of 32x32."""
    return np.concatenate([labels[:, None], images.reshape(len(labels), -1)], axis=1).astype(np.uint8).tobytes()


def write_archive(path, members: dict[str, bytes]) -> None:
    """A gzip tar with the members under cifar-10-batches-bin/, like the official file."""
    with tarfile.open(path, "w:gz") as archive:
        for name, payload in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))


def fake_batches(seed: int, sizes: list[int]):
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8))
            for n in sizes]


@pytest.fixture()
def archive(tmp_path, monkeypatch):
    train = fake_batches(1, [2, 3, 1, 2, 4])
    test = fake_batches(2, [3])[0]
    members = {f"data_batch_{i + 1}.bin": batch_bytes(*batch) for i, batch in enumerate(train)}
    members["batches.meta.txt"] = b"airplane\n"
    members["test_batch.bin"] = batch_bytes(*test)
    path = tmp_path / cifar_module.CIFAR10_ARCHIVE
    write_archive(path, members)
    monkeypatch.setattr(cifar_module, "CIFAR10_SHA256", file_sha256(path))
    return tmp_path, train, test


def test_train_split_concatenates_batches_1_to_5_in_order(archive):
    root, train, _ = archive
    images, labels = load_cifar10("train", root=root)
    assert images.shape == (12, 3, 32, 32) and images.dtype == np.uint8 and labels.dtype == np.int64
    np.testing.assert_array_equal(images, np.concatenate([batch[0] for batch in train]))
    np.testing.assert_array_equal(labels, np.concatenate([batch[1] for batch in train]))


def test_test_split_and_channel_planes(archive):
    root, _, (test_images, test_labels) = archive
    images, labels = load_cifar10("test", root=root)
    np.testing.assert_array_equal(labels, test_labels)
    np.testing.assert_array_equal(images, test_images)


def test_pixel_layout_is_red_green_blue_planes_row_major():
    record = bytes([7]) + bytes(range(256)) * 12  # 3072 pixel bytes
    images, labels = cifar_module.parse_cifar10_records(record, "one")
    assert labels.tolist() == [7]
    assert images[0, 0, 0, 1] == 1                      # red plane, row 0, column 1
    assert images[0, 0, 1, 0] == 32                     # red plane, row 1, column 0
    assert images[0, 1, 0, 0] == 1024 % 256             # green plane starts at byte 1024


def test_truncated_batch_is_a_clear_error():
    with pytest.raises(DataFormatError, match="test_batch.bin: 3072 bytes is not a whole number"):
        cifar_module.parse_cifar10_records(bytes(3072), "archive:test_batch.bin")


def test_label_out_of_range_is_rejected():
    with pytest.raises(DataFormatError, match="label 10 out of range"):
        cifar_module.parse_cifar10_records(bytes([10]) + bytes(3072), "x")


def test_missing_member_names_it(tmp_path, monkeypatch):
    path = tmp_path / cifar_module.CIFAR10_ARCHIVE
    write_archive(path, {"data_batch_1.bin": b""})
    monkeypatch.setattr(cifar_module, "CIFAR10_SHA256", file_sha256(path))
    with pytest.raises(DataFormatError, match="no member named test_batch.bin"):
        load_cifar10("test", root=tmp_path)


def test_python_pickle_version_is_refused_with_hint(tmp_path):
    path = tmp_path / "cifar-10-python.tar.gz"
    write_archive(path, {"data_batch_1": b"pickle bytes"})
    with pytest.raises(DataFormatError, match="binary version cifar-10-binary.tar.gz"):
        cifar_module.read_cifar10_archive(path, ["data_batch_1.bin"])


def test_not_a_tar_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.tar.gz"
    path.write_bytes(b"garbage")
    with pytest.raises(DataFormatError, match="broken.tar.gz: cannot read as a gzip tar"):
        cifar_module.read_cifar10_archive(path, ["test_batch.bin"])


def test_offline_error_names_archive_and_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError) as raised:
        load_cifar10("test")
    assert "cifar-10-binary.tar.gz" in str(raised.value) and str(tmp_path / "cifar10") in str(raised.value)
    assert "TINYTORCH_DATA" in str(raised.value)
