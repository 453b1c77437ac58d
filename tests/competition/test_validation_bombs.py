"""Validation that cannot be crashed: alias and nesting bombs, oversized or non-UTF-8 files, zip bombs, object
arrays and NaN weights in every division, each reported as a problem naming file, field and fix, never a traceback."""

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from competition.cli import main
from competition.validation import validate_path
from tests.fixtures.closed_entries import FIXTURES, baseline_state, make_entry


@pytest.fixture(scope="module")
def state():
    return baseline_state()


def only(problems, name):
    return [p for p in problems if Path(p.file).name == name]


def test_billion_laughs_is_refused_before_expansion(capsys):
    problems = validate_path(FIXTURES / "invalid_yaml_bomb")
    [bomb] = only(problems, "submission.yaml")
    assert "alias" in bomb.message and bomb.line == 4 and "aliases" in bomb.hint
    assert main(["submit", "--validate-only", str(FIXTURES / "invalid_yaml_bomb")]) == 1
    out = capsys.readouterr().out
    assert "alias bomb" in out and "Traceback" not in out


@pytest.mark.parametrize("content, words", [
    ("a: " + "[" * 200 + "]" * 200 + "\n", "nested more than"),
    (b"athlete_name: \xff\xfe\n", "not UTF-8"),
    ("description: " + "x" * 70_000 + "\n", "65536-byte limit"),
])
def test_hostile_manifests_are_one_clear_problem(tmp_path, state, content, words):
    folder = make_entry(tmp_path, state)
    target = folder / "submission.yaml"
    target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content)
    [problem] = only(validate_path(folder), "submission.yaml")
    assert words in problem.message and problem.hint


@pytest.mark.parametrize("division", ["open", "closed"])
def test_object_arrays_are_refused_in_every_division(tmp_path, state, division):
    folder = make_entry(tmp_path, state, division=division)
    np.savez(folder / "mnist_cnn.npz",
             **{**state, "features.0.bias": np.array([{"x": 1}], dtype=object)})
    [problem] = only(validate_path(folder), "mnist_cnn.npz")
    assert "Python objects" in problem.message and "no pickle" in problem.hint


@pytest.mark.parametrize("division", ["open", "closed"])
def test_nan_and_inf_weights_are_named_by_key_even_in_subfolders(tmp_path, state, division):
    bad = {**state, "features.3.bias": np.full(64, np.nan, np.float32)}
    bad["classifier.1.bias"] = bad["classifier.1.bias"].copy()
    bad["classifier.1.bias"][5] = np.inf
    folder = make_entry(tmp_path, bad, division=division, weights_path="weights/mnist_cnn.npz")
    problems = only(validate_path(folder), "mnist_cnn.npz")
    assert {(p.field, p.message) for p in problems} == {("features.3.bias", "64 NaN or infinite value(s)"),
                                                        ("classifier.1.bias", "1 NaN or infinite value(s)")}
    assert all("weights/mnist_cnn.npz" in p.file for p in problems)


def _npz(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _npy_header(shape, dtype="<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


@pytest.mark.parametrize("members, words", [
    ({"huge.npy": _npy_header((100_000, 100_000)) + b"\0" * 1000}, "declare"),
    ({f"a{i}.npy": _npy_header((1,)) + b"\0" * 8 for i in range(4097)}, "more than the 4096"),
    ({"notes.txt": b"hello"}, "not a .npy array"),
    ({"short.npy": _npy_header((1000,)) + b"\0" * 8}, "cannot be read"),
])
def test_zip_bombs_and_malformed_archives(tmp_path, state, members, words):
    folder = make_entry(tmp_path, state, division="open")
    _npz(folder / "mnist_cnn.npz", members)
    [problem] = only(validate_path(folder), "mnist_cnn.npz")
    assert words in problem.message and "tinytorch.save" in problem.hint


@pytest.mark.parametrize("name, content", [
    ("submission.json", b"\xff{"), ("submission.json", b"[" * 100_000 + b"]" * 100_000),
    ("model.py", b"import numpy\x00\n"), ("model.py", b"x = " + b"(" * 5000 + b")" * 5000),
    ("README.md", b"\xff\xfe\x00" * 100), ("mnist_cnn.npz", b"PK\x03\x04 not a zip"),
])
def test_garbage_files_never_crash_the_validator(tmp_path, state, name, content, capsys):
    folder = make_entry(tmp_path, state)
    (folder / name).write_bytes(content)
    problems = validate_path(folder)
    assert problems and all(p.hint for p in problems)
    assert main(["submit", "--validate-only", str(folder)]) == 1
    assert "Traceback" not in capsys.readouterr().out
