"""The run-time half: execute the shipped weights with tinytorch's own reference model (data only, no submission
code), then compare the candidate's timed outputs with those reference outputs.

Tolerance (logits): ``max |candidate - reference| <= RTOL * max |reference| + ATOL`` over the whole output, with
RTOL = 0.02. The reference runs the dequantized, masked, shrunk weights in float32. Measured on the MNIST CNN
(1 000 bundled test images, max logit 30.6): honest differences are summation order (~1e-6), float16 weights or
arithmetic (0.02 %) and dynamic int8 activation quantization on top of the shipped int8 weights (0.43 %); cheats
that compute something other than the shipped weights land outside: int4 at run time while shipping int8 (5.7 %),
dropping 25 % of conv2's channels at run time (2.9 %), 70 % magnitude pruning at run time (4.2 %). A tiny
cheat (10 % of channels dropped, 0.7 %) passes and buys next to nothing. Because the bound holds per element, it
implies argmax agreement wherever the reference's top two logits are more than two tolerances apart; the reason
also reports the argmax agreement. Outputs that are NaN/inf or of another shape fail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

import tinytorch as tt
from competition.conformance import architecture as arch
from competition.conformance.static import ClosedSpec, check_arrays, check_file
from competition.validation import base

RTOL = 0.02
ATOL = 1e-4
BATCH = 256
VERDICTS = ("conforms", "fails", "not_checked")


class ConformanceError(ValueError):
    """The reference cannot be computed from the shipped weights (not closed, unreadable, missing file)."""


def reference_outputs(event_id: str, submission_dir: str | Path, inputs: np.ndarray,
                      baseline_dir: Path | None = None) -> np.ndarray:
    """Logits of the entry's shipped weights run by tinytorch's reference model on `inputs`.

    Images (N, C, H, W) give (N, classes); token ids (B, T) give (B, T, vocab). Runs no submission code: the .npz
    is read with allow_pickle=False and decoded with NumPy. Raises ConformanceError naming file, key and fix.
    """
    stem = _event_model(event_id)
    paths = sorted(p for p in Path(submission_dir).rglob(f"{stem}.npz") if p.is_file() and not p.is_symlink())
    if len(paths) != 1:
        raise ConformanceError(f"{submission_dir}: {event_id} needs exactly one {stem}.npz, found {len(paths)}")
    state, problems = check_file(paths[0], ClosedSpec(stem, baseline_dir or base.BASELINE_DIR))
    return _run(stem, state, problems, inputs)


def reference_outputs_from_state(event_id: str, state: Mapping[str, np.ndarray], inputs: np.ndarray,
                                 baseline_dir: Path | None = None, label: str = "trained model") -> np.ndarray:
    """Like `reference_outputs` for weights that were not shipped as a file (a model trained at run time)."""
    stem = _event_model(event_id)
    arrays = {key: np.asarray(value) for key, value in state.items()}
    decoded, problems = check_arrays(label, arrays, ClosedSpec(stem, baseline_dir or base.BASELINE_DIR))
    return _run(stem, decoded, problems, inputs)


def _event_model(event_id: str) -> str:
    if event_id not in arch.EVENT_MODELS:
        raise ConformanceError(f"event {event_id!r} has no reference model; known: {', '.join(sorted(arch.EVENT_MODELS))}")
    return arch.EVENT_MODELS[event_id]


def _run(stem: str, state: dict[str, np.ndarray], problems: list, inputs: np.ndarray) -> np.ndarray:
    if problems:
        shown = "; ".join(str(p) for p in problems[:3])
        raise ConformanceError(shown + (f"; and {len(problems) - 3} more" if len(problems) > 3 else ""))
    model = arch.load_into(arch.build(stem), state)
    inputs = np.asarray(inputs)
    try:
        with tt.no_grad():
            parts = [model(tt.from_numpy(inputs[i:i + BATCH])).numpy() for i in range(0, len(inputs), BATCH)]
    except (ValueError, TypeError, IndexError) as exc:
        raise ConformanceError(f"the reference {stem} model cannot run on inputs {inputs.dtype} {inputs.shape}: {exc}")
    return np.concatenate(parts) if parts else np.empty((0,), np.float32)


def conformance_record(division: str, candidate_outputs: np.ndarray | None, reference_outputs: np.ndarray | None,
                       kind: str) -> dict:
    """The result's `conformance` block: {"division", "verdict", "reason", "max_abs_diff", "tolerance"}.

    `kind` names what is compared (for example "logits" or the event kind), for the reason text. Example (H2)::

        ref = reference_outputs("cnn_marathon_offline", submission_dir, timed_inputs)
        record = conformance_record("closed", timed_outputs, ref, "logits")
        if is_refused(record): ...  # disqualify with record["reason"]
    """
    if division != "closed":
        return _record(division, "not_checked", "open division: any architecture, outputs are not compared")
    if candidate_outputs is None or reference_outputs is None:
        return _record(division, "fails", f"no {kind} to compare" + (" from the entry" if candidate_outputs is None else ""))
    candidate = np.asarray(candidate_outputs, dtype=np.float64)
    reference = np.asarray(reference_outputs, dtype=np.float64)
    if candidate.shape != reference.shape:
        return _record(division, "fails", f"{kind} have shape {candidate.shape}, the reference {reference.shape}")
    if reference.size == 0:
        return _record(division, "fails", f"no {kind} to compare (empty)")
    if not np.isfinite(reference).all():
        return _record(division, "fails", f"the shipped weights compute NaN or inf {kind} (check the weights and scales)")
    tolerance = RTOL * float(np.max(np.abs(reference))) + ATOL
    if not np.isfinite(candidate).all():
        return _record(division, "fails", f"{kind} hold NaN or inf", None, tolerance)
    diff = float(np.max(np.abs(candidate - reference)))
    agree = float(np.mean(candidate.argmax(-1) == reference.argmax(-1))) if reference.ndim > 1 else 1.0
    summary = f"max |{kind} - reference| = {diff:.4g} vs tolerance {tolerance:.4g} ({RTOL:g} x max |reference| + " \
              f"{ATOL:g}); argmax agrees on {100 * agree:.1f} %"
    if diff <= tolerance:
        return _record(division, "conforms", summary, diff, tolerance)
    worst = np.unravel_index(int(np.argmax(np.abs(candidate - reference))), candidate.shape)
    return _record(division, "fails", f"{summary}; worst at index {tuple(int(i) for i in worst)}: the outputs are not "
                                      "those of the shipped weights", diff, tolerance)


def check_run(event_id: str, division: str, submission_dir: str | Path, inputs: np.ndarray,
              candidate_outputs: np.ndarray | None, kind: str = "logits", *,
              state: Mapping[str, np.ndarray] | None = None, baseline_dir: Path | None = None) -> dict:
    """Both steps for one event, never raising: the `conformance` block for the candidate's timed outputs.

    Open division: "not_checked". A model trained at run time needs its trained `state` (name -> array), else
    "not_checked" with the reason. A reference that cannot be computed (the weights are not closed): "fails".
    """
    if division != "closed":
        return conformance_record(division, candidate_outputs, None, kind)
    try:
        if state is not None:
            reference = reference_outputs_from_state(event_id, state, inputs, baseline_dir)
        elif arch.EVENT_MODELS.get(event_id) in arch.TRAINED_AT_RUN_TIME:
            return _record(division, "not_checked", f"{event_id} trains its model at run time and its trained weights "
                                                    "were not provided to the check")
        else:
            reference = reference_outputs(event_id, submission_dir, inputs, baseline_dir)
    except ConformanceError as exc:
        return failed_record(division, exc)
    return conformance_record(division, candidate_outputs, reference, kind)


def failed_record(division: str, error: Exception | str) -> dict:
    """The `conformance` block when the reference could not be computed (closed: fails; open: not_checked)."""
    if division != "closed":
        return conformance_record(division, None, None, "outputs")
    return _record(division, "fails", f"the reference could not be computed: {error}")


def is_refused(record: Mapping) -> bool:
    """True if the result must be refused: a closed entry whose conformance verdict is "fails"."""
    return record.get("division") == "closed" and record.get("verdict") == "fails"


def _record(division: str, verdict: str, reason: str, max_abs_diff: float | None = None,
            tolerance: float | None = None) -> dict:
    return {"division": division, "verdict": verdict, "reason": reason, "max_abs_diff": max_abs_diff,
            "tolerance": tolerance}
