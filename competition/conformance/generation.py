"""Closed division, generation: the timed tokens are the greedy decoding of the shipped weights by tinytorch's
reference execution (runtime.reference_model, bounds.gpt), judged in the parent; the entry's own functions are not
asked.

Context policies (tinytorch GPT.generate): the full window (each token predicted from the last context_length tokens,
re-encoded) or the sliding-window KV cache with ``reencode_every = k`` (past the window, re-encode the last
context_length - k tokens, then k tokens through the cache). An entry uses the full window unless its model.py
states k as a module-level literal, ``REENCODE_EVERY = k`` or the kit's ``RECIPE = {..., "reencode_every": k}``
(read with ast, never run).

Ties: the reference and the candidate are both float32 executions, each within B (bounds.py) of the exact logits,
so a token t is a greedy choice of an honest execution exactly when ``ref[t] + 2 B[t] >= max_j (ref[j] - 2 B[j])``:
a different token than the reference's argmax is accepted only where the reference's top logits are that close.
Checked: every new token predicted from the first window (one reference pass covers them), and of the tokens past
it, all those sharing a re-encoded window with a checked one, at most `samples` windows per sequence drawn
secretly.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from competition.conformance import bounds
from competition.conformance.runtime import ConformanceError, reference_model

ENTRY_FILE = "model.py"
BATCH = 16  # reference windows per bounded pass
MAX_SOURCE_BYTES = 1_000_000


def stated_reencode_every(folder: Path) -> int | None:
    """The `reencode_every` an entry's model.py states (module docstring), None for the full window."""
    path = Path(folder) / ENTRY_FILE
    if not path.is_file() or path.stat().st_size > MAX_SOURCE_BYTES:
        return None
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = _literal(node.value)
            name = node.targets[0].id
            if name == "RECIPE" and isinstance(value, dict):
                value = value.get("reencode_every")
            elif name != "REENCODE_EVERY":
                continue
            return value if isinstance(value, int) and not isinstance(value, bool) else None
    return None


def _literal(node: ast.AST) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def windows_of(prompt_len: int, total: int, context: int, reencode_every: int | None) -> dict[int, list[int]]:
    """{window start: positions it predicts}: GPT.generate's bookkeeping replayed; the token at position n is
    predicted from tokens[start:n]."""
    keep = context if reencode_every is None else context - int(reencode_every)
    groups: dict[int, list[int]] = {}
    length, new = 0, min(prompt_len, context)
    for n in range(prompt_len, total):
        if length + new > context:
            length, new = 0, keep
        length += new
        groups.setdefault(n - length, []).append(n)
        new = 1
    return groups


def greedy_failure(event_id: str, folder: Path, sequences: Sequence[np.ndarray], prompt_lens: Sequence[int],
                   rng: np.random.Generator, samples: int) -> str | None:
    """None if every checked new token of `sequences` ((1, T) each, the first prompt_len tokens the prompt) is a
    greedy choice of the shipped weights' reference execution; else which one is not and why. Raises
    runtime.ConformanceError when there is no reference (not closed weights, activation quantization)."""
    model, static, _ = reference_model(event_id, folder)
    if static:
        raise ConformanceError("the reference runs the GPT in float32 only; ship it without input qparams")
    policy = stated_reencode_every(folder)
    if policy is not None and not 1 <= policy < model.context_length:
        return f"model.py states reencode_every = {policy}, outside 1..{model.context_length - 1}"
    jobs: list[tuple[int, int, list[int]]] = []  # (sequence, window start, positions it predicts)
    for k, (sequence, prompt_len) in enumerate(zip(sequences, prompt_lens)):
        groups = windows_of(prompt_len, sequence.shape[1], model.context_length, policy)
        starts = sorted(groups)
        later = starts[1:]
        if len(later) > samples:
            later = sorted(rng.choice(later, size=samples, replace=False).tolist())
        jobs += [(k, start, groups[start]) for start in starts[:1] + later]
    by_width: dict[int, list[tuple[int, int, list[int]]]] = {}
    for job in jobs:
        by_width.setdefault(max(job[2]) - job[1], []).append(job)
    for width, same in sorted(by_width.items()):
        for i in range(0, len(same), BATCH):
            batch = same[i:i + BATCH]
            ref = bounds.gpt(model, np.stack([sequences[k][0, start:start + width] for k, start, _ in batch]))
            for (k, start, positions), values, bound in zip(batch, ref.x.astype(np.float64), ref.bound()):
                reason = _window_failure(sequences[k][0], start, positions, values, bound)
                if reason:
                    policy_name = "the full window" if policy is None else f"reencode_every = {policy}"
                    return f"generation {k + 1}, {reason} ({policy_name})"
    return None


def is_greedy_choice(values: np.ndarray, bound: np.ndarray, token: int) -> bool:
    """Whether some float32 execution within the bound could pick `token`: ref[t] + 2 B[t] >= max_j ref[j] - 2 B[j]
    (module docstring), for one row of reference logits `values` and their bounds."""
    return 0 <= token < len(values) and values[token] + 2 * bound[token] >= float(np.max(values - 2 * bound))


def _window_failure(tokens: np.ndarray, start: int, positions: list[int], values: np.ndarray,
                    bound: np.ndarray) -> str | None:
    """Why a token of `positions` is not a greedy choice of the window's reference logits `values` (row r predicts
    position start + r + 1), or None."""
    for n in positions:
        row, token = n - start - 1, int(tokens[n])
        if not is_greedy_choice(values[row], bound[row], token):
            top = int(np.argmax(values[row]))
            return (f"token {n}: {token} where the shipped weights give {top} (logits {values[row, top]:.4g} and "
                    f"{values[row, token] if token < values.shape[1] else float('nan'):.4g}; float32 reordering "
                    f"explains {2 * bound[row, top]:.2g} on each)")
    return None
