"""A training entry's code: comments and docstrings blanked for the worker, literal data bounded."""

from __future__ import annotations

from pathlib import Path

from competition.measure import weights
from competition.measure.source_payload import LITERAL_LIMIT_BYTES, literal_bytes, payload_problems, stripped

SOURCE = '''"""Module docstring
over two lines."""
import numpy as np  # a comment


class Net:
    "class docstring"
    scale = 0.5  # another

    def forward(self, x):
        """Method docstring."""
        return x * self.scale + len("#not a comment")
'''


def test_stripped_code_keeps_its_lines_and_behaviour_without_comments_or_docstrings() -> None:
    out = stripped(SOURCE)
    assert out.count("\n") == SOURCE.count("\n")
    assert "docstring" not in out and "comment" not in out.replace("#not a comment", "")
    assert '"#not a comment"' in out  # a string that looks like a comment is code
    assert out.splitlines()[11].strip() == 'return x * self.scale + len("#not a comment")'  # same line number
    namespace: dict = {}
    exec(compile(out, "model.py", "exec"), namespace)  # noqa: S102 - the test's own source
    assert namespace["Net"]().forward(2.0) == 1.0 + len("#not a comment")
    assert namespace["Net"].forward.__doc__ == ""


def test_literal_bytes_count_strings_bytes_and_numbers_but_not_booleans() -> None:
    assert literal_bytes('a = "abcd"\nb = b"xy"\nc = 12.5\nd = True\n') == 4 + 2 + len("12.5")


def test_payload_bound_names_the_files_that_hold_the_data(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(SOURCE)
    assert payload_problems(tmp_path, ["mlp_sprint"]) == []
    (tmp_path / "blob.py").write_text(f"W = {'ab' * LITERAL_LIMIT_BYTES!r}\n")
    (tmp_path / "big_comments.py").write_text("# " + "x" * 10 * LITERAL_LIMIT_BYTES + "\n")  # comments are free
    [problem] = payload_problems(tmp_path, ["mlp_sprint"])
    assert "blob.py 8.0 KiB" in problem.message and "big_comments.py 15 bytes" in problem.message  # its name only
    assert "mlp_sprint may hold at most 4 KiB" in problem.message
    assert payload_problems(tmp_path, []) == []  # inference entries ship weights as files; no bound here


def test_file_names_count_as_data(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text("X = 1\n")
    assert payload_problems(tmp_path, ["mlp_sprint"]) == []
    for i in range(40):  # 40 names of 110 hex digits: 4.4 KiB the worker could read back with a directory listing
        (tmp_path / f"m{i:02d}_{'ab' * 54}.py").write_text("")
    assert "KiB of string and number literals" in payload_problems(tmp_path, ["mlp_sprint"])[0].message


def test_a_training_worker_gets_plain_utf8_code_whatever_the_file_encoding(tmp_path: Path) -> None:
    """A latin-1 file (PEP 263 coding line) cannot keep its comments by not being UTF-8."""
    (tmp_path / "model.py").write_bytes(b"# -*- coding: latin-1 -*-\n# payload \xe9\xe9\xe9\n"
                                        b"NAME = 'caf\xe9'  # more payload\n")
    (tmp_path / "notes.py").write_bytes(b"\xff\xfe not python at all\n")
    staged = weights.shipped(tmp_path, "training", loads=lambda folder: True)
    try:
        code = (staged.folder / "model.py").read_text(encoding="utf-8")
        assert "payload" not in code and "coding" not in code
        namespace: dict = {}
        exec(compile(code, "model.py", "exec"), namespace)  # noqa: S102 - the test's own source
        assert namespace["NAME"] == "café"
        assert not (staged.folder / "notes.py").exists()  # unreadable as source: not shipped at all
    finally:
        weights.discard(staged)
