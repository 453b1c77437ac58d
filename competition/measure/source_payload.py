"""What a training entry's code may carry besides code: the parent's bound on data written into source.

A training event is timed from scratch, so a model (or the statistics to undo the round's scramble, see
measure/scramble.py) written into the code as literals would be knowledge bought before the clock started. The
worker of a training event therefore gets each .py file with its comments and docstrings blanked (line numbers kept,
so tracebacks still point at the right line; nothing the program can read is lost but text meant for people), and
the string, bytes and number literals left in it, with the file names, are bounded by LITERAL_LIMIT_BYTES per entry.
Not bounded: data encoded in the code's own structure (identifiers, computed expressions); maintainers review the
code before an official run (docs/measurement.md, "Training events").
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

from competition.problems import Problem

LITERAL_LIMIT_BYTES = 4096


def _docstring_nodes(tree: ast.AST) -> list[ast.Constant]:
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, owners) and node.body and isinstance(node.body[0], ast.Expr):
            value = node.body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.append(value)
    return found


def stripped(source: str) -> str:
    """`source` with every comment removed and every docstring replaced by an empty string, on the same lines.
    Raises SyntaxError where `source` does not parse (such a file fails at import anyway)."""
    docstrings = {(d.lineno, d.col_offset) for d in _docstring_nodes(ast.parse(source))}
    lines = source.splitlines(keepends=True)
    edits: list[tuple[tuple[int, int], tuple[int, int], str]] = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            edits.append((tok.start, tok.end, ""))
        elif tok.type == tokenize.STRING and tok.start in docstrings:
            edits.append((tok.start, tok.end, '""' + "\n" * (tok.end[0] - tok.start[0])))
    for (row, col), (end_row, end_col), text in reversed(edits):
        head, tail = lines[row - 1][:col], lines[end_row - 1][end_col:]
        lines[row - 1:end_row] = [head + text + tail]
    return "".join(lines)


def read_source(path: Path) -> str:
    """The text of Python file `path` decoded as Python decodes it (a PEP 263 coding line, else UTF-8), so a file in
    another encoding cannot slip its comments past `stripped`. Raises SyntaxError or UnicodeDecodeError."""
    with path.open("rb") as raw:
        encoding, _ = tokenize.detect_encoding(raw.readline)
    return path.read_bytes().decode(encoding)


def stripped_file(path: Path) -> str:
    """`stripped` of the source of `path` (its coding line is a comment, so the result is plain UTF-8 text)."""
    return stripped(read_source(path))


def literal_bytes(source: str) -> int:
    """Bytes of the string and bytes literals of `source` plus the source length of its number literals."""
    total = 0
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (str, bytes)):
                total += len(node.value.encode() if isinstance(node.value, str) else node.value)
            elif isinstance(node.value, (int, float, complex)) and not isinstance(node.value, bool):
                total += len(repr(node.value))
    return total


def payload_problems(folder: Path, events: list[str]) -> list[Problem]:
    """One problem if the .py files of `folder` together hold more literal bytes (their names included) than a
    training entry may (`events`: the training events it enters, for the message; nothing to check when empty)."""
    if not events:
        return []
    counted: list[tuple[str, int]] = []
    for path in sorted(folder.glob("*.py")):
        try:  # a file's name is data the worker can list too
            counted.append((path.name, len(path.name.encode()) + literal_bytes(stripped_file(path))))
        except (SyntaxError, UnicodeDecodeError, LookupError, ValueError):
            continue  # does not import either; the static check reports it
    total = sum(n for _, n in counted)
    if total <= LITERAL_LIMIT_BYTES:
        return []
    largest = ", ".join(f"{name} {_size(n)}" for name, n in sorted(counted, key=lambda c: -c[1])[:3] if n)
    return [Problem(str(folder), f"the code holds {_size(total)} of string and number literals and file names "
                    f"({largest}); an entry of {', '.join(events)} may hold at most "
                    f"{LITERAL_LIMIT_BYTES // 1024} KiB outside comments and docstrings",
                    "train from the data given: a training event starts from scratch, so weights or statistics "
                    "written into the code are not allowed (docs/measurement.md, 'Training events')")]


def _size(n: int) -> str:
    return f"{n / 1024:.1f} KiB" if n >= 1024 else f"{n} bytes"
