"""Character-level tokenizer with a sorted vocabulary; encodes and decodes with vectorized NumPy."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from tinytorch.data.arrays import as_numpy


class CharTokenizer:
    """Maps each character of a fixed, sorted vocabulary to its index (0 .. vocab_size - 1)."""

    def __init__(self, vocab: Iterable[str]) -> None:
        self.vocab = tuple(vocab)
        if not self.vocab or any(not isinstance(char, str) or len(char) != 1 for char in self.vocab):
            raise ValueError("CharTokenizer vocab must be a non-empty sequence of single characters")
        if list(self.vocab) != sorted(set(self.vocab)):
            raise ValueError("CharTokenizer vocab must be sorted and free of duplicates")
        self._code_points = np.array([ord(char) for char in self.vocab], dtype=np.uint32)

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        """Vocabulary = the sorted set of characters in `text`."""
        return cls(sorted(set(text)))

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> np.ndarray:
        """Text -> int64 token ids; ValueError names the first character not in the vocabulary."""
        code_points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
        ids = np.searchsorted(self._code_points, code_points)
        clipped = np.minimum(ids, self.vocab_size - 1)
        unknown = np.flatnonzero(self._code_points[clipped] != code_points)
        if unknown.size:
            position = int(unknown[0])
            raise ValueError(f"character {text[position]!r} (U+{ord(text[position]):04X}) at position "
                             f"{position} is not in this tokenizer's {self.vocab_size}-character vocabulary")
        return ids.astype(np.int64)

    def decode(self, ids: Any) -> str:
        """Token ids (array, list or Tensor, any shape; flattened) -> text."""
        ids = as_numpy(ids).reshape(-1)
        if ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"token ids must be integers in 0..{self.vocab_size - 1}, "
                             f"got dtype {ids.dtype}, range {ids.min()}..{ids.max()}")
        return self._code_points[ids.astype(np.int64)].astype("<u4").tobytes().decode("utf-32-le")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, to store next to model weights."""
        return {"type": "CharTokenizer", "vocab": list(self.vocab)}

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> CharTokenizer:
        """Inverse of to_dict()."""
        if state.get("type") != "CharTokenizer" or not isinstance(state.get("vocab"), list):
            raise ValueError('expected {"type": "CharTokenizer", "vocab": [...]} as written by CharTokenizer.to_dict()')
        return cls(state["vocab"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and self.vocab == other.vocab

    def __hash__(self) -> int:
        return hash(self.vocab)

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"
