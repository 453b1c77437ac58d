"""Bundled MNIST subset and Shakespeare: splits, provenance checksums, tokenizer, conversions."""
import json
import re

import numpy as np
import pytest

from tinytorch.data import (
    SHAKESPEARE_VALIDATION_WORKS, CharTokenizer, bundled_mnist, dataset_sha256, file_sha256, shakespeare_text,
    shakespeare_tokenizer, shakespeare_works, to_float_images,
)
from tinytorch.data.bundled import BUNDLED_DIR, MNIST_SUBSET_FILE, rank_within_class


def test_mnist_split_sizes_types_and_class_balance():
    train_x, train_y = bundled_mnist("train")
    test_x, test_y = bundled_mnist("test")
    assert train_x.shape == (4000, 28, 28) and test_x.shape == (1000, 28, 28)
    assert train_x.dtype == np.uint8 and train_y.dtype == np.int64 and test_y.dtype == np.int64
    assert np.bincount(train_y).tolist() == [400] * 10 and np.bincount(test_y).tolist() == [100] * 10
    assert 0 < train_x.mean() < 255


def test_mnist_split_is_first_400_then_last_100_of_each_class():
    with np.load(BUNDLED_DIR / MNIST_SUBSET_FILE) as archive:
        images, labels = archive["images"], archive["labels"]
    train_x, _ = bundled_mnist("train")
    test_x, _ = bundled_mnist("test")
    for digit in range(10):
        of_class = images[labels == digit]
        np.testing.assert_array_equal(train_x[400 * digit:400 * (digit + 1)], of_class[:400])
        np.testing.assert_array_equal(test_x[100 * digit:100 * (digit + 1)], of_class[400:])


def test_rank_within_class_does_not_assume_sorted_labels():
    assert rank_within_class(np.array([2, 0, 2, 1, 0, 2])).tolist() == [0, 0, 1, 0, 1, 2]


def test_bundled_files_match_readme_checksums():
    readme = (BUNDLED_DIR / "README.md").read_text()
    listed = dict(re.findall(r"^\| `([^`]+)` \| [\d,]+ \| `([0-9a-f]{64})` \|$", readme, re.MULTILINE))
    assert set(listed) == {"mnist_5k.npz", "shakespeare.txt.gz", "shakespeare_works.json", "shakespeare_metadata.txt"}
    for name, digest in listed.items():
        assert file_sha256(BUNDLED_DIR / name) == digest, name


def test_shakespeare_splits_are_whole_disjoint_works():
    train, validation, corpus = (shakespeare_text(split) for split in ("train", "validation", "all"))
    assert len(train) + len(validation) == len(corpus)
    assert 0.08 < len(validation) / len(corpus) < 0.12
    start = 0
    for work in shakespeare_works():
        text = corpus[start:start + work["chars"]]
        start += work["chars"]
        assert text.endswith("\n\n")
        opening = text[:2000]
        in_validation = work["name"] in SHAKESPEARE_VALIDATION_WORKS
        assert (opening in validation) == in_validation and (opening in train) != in_validation, work["name"]
    assert start == len(corpus)


def test_validation_works_are_listed_in_readme():
    readme = (BUNDLED_DIR / "README.md").read_text()
    names = {work["name"] for work in shakespeare_works()}
    assert set(SHAKESPEARE_VALIDATION_WORKS) <= names and len(names) == 42
    assert all(f"| {name} |" in readme and name in readme.split("| work |")[0] for name in SHAKESPEARE_VALIDATION_WORKS)


def test_bad_split_names_are_rejected():
    with pytest.raises(ValueError, match="'train', 'validation', 'all'"):
        shakespeare_text("test")
    with pytest.raises(ValueError):
        bundled_mnist("validation")


def test_tokenizer_round_trip_on_the_corpus():
    tokenizer = shakespeare_tokenizer()
    corpus = shakespeare_text("all")
    assert tokenizer.vocab == tuple(sorted(set(corpus))) and tokenizer.vocab_size == len(set(corpus))
    ids = tokenizer.encode(corpus)
    assert ids.dtype == np.int64 and len(ids) == len(corpus) and ids.max() == tokenizer.vocab_size - 1
    assert tokenizer.decode(ids) == corpus
    assert tokenizer.decode(ids[:12].reshape(3, 4).tolist()) == corpus[:12]


def test_tokenizer_ids_follow_sorted_vocab():
    tokenizer = CharTokenizer.from_text("hello, world")
    assert "".join(tokenizer.vocab) == " ,dehlorw"
    assert tokenizer.encode("low").tolist() == [5, 6, 8]
    assert tokenizer.encode("").tolist() == [] and tokenizer.decode(np.array([], np.int64)) == ""


def test_tokenizer_json_round_trip():
    tokenizer = CharTokenizer.from_text("To be, or not to be\n\u00e9")
    restored = CharTokenizer.from_dict(json.loads(json.dumps(tokenizer.to_dict())))
    assert restored == tokenizer and restored.decode(restored.encode("be or \u00e9")) == "be or \u00e9"
    with pytest.raises(ValueError, match="CharTokenizer.to_dict"):
        CharTokenizer.from_dict({"vocab": "abc"})


def test_tokenizer_errors_are_clear():
    tokenizer = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match=r"character 'z' \(U\+007A\) at position 2 is not in"):
        tokenizer.encode("abz")
    with pytest.raises(ValueError, match="token ids must be integers in 0..2"):
        tokenizer.decode([0, 3])
    with pytest.raises(ValueError, match="sorted"):
        CharTokenizer(["b", "a"])


def test_to_float_images_scales_and_adds_channel():
    images, _ = bundled_mnist("test")
    floats = to_float_images(images)
    assert floats.shape == (1000, 1, 28, 28) and floats.dtype == np.float32
    assert floats.min() == 0.0 and floats.max() == 1.0
    np.testing.assert_allclose(floats[:, 0] * 255, images, atol=1e-4)
    rgb = np.full((2, 3, 4, 4), 51, np.uint8)
    assert to_float_images(rgb).shape == (2, 3, 4, 4) and np.allclose(to_float_images(rgb), 0.2)
    with pytest.raises(ValueError, match="expected uint8 images"):
        to_float_images(floats)


def test_dataset_sha256_depends_on_values_dtype_and_shape():
    a = np.arange(6, dtype=np.uint8)
    assert dataset_sha256(a) == dataset_sha256(a.copy())
    assert dataset_sha256(a) != dataset_sha256(a.astype(np.int64))
    assert dataset_sha256(a) != dataset_sha256(a.reshape(2, 3))
    assert dataset_sha256(a, a) != dataset_sha256(a)
    b = a.copy()
    b[0] = 1
    assert dataset_sha256(b) != dataset_sha256(a)
