"""The run-time half: execute the shipped weights with tinytorch's own reference model (data only, no submission
code) together with a bound on what float32 reordering explains (bounds.py), then compare the candidate's timed
outputs with them element by element.

Tolerance: ``|candidate - reference| <= 2 B`` per output, B the bound of bounds.py for that output (the reference
is one honest float32 execution and the candidate another, each within B of the exact result). B is about 3e-6 of
the CNN's largest logit and 2e-4 of the GPT's; honest executions (tinytorch, PyTorch, fused kernels, another
summation order) use 1-15 % of it. The arithmetic is the shipped one: weights exactly as their codes decode;
activations in float32, or quantized where the shipped form says so -- static qparams shipped with a layer always
apply, and weights shipped as integer codes may also run with dynamic uint8 activations per call (tinytorch's
dynamic modules; the reference quantizes the same batches as the timed calls, `batch`), a variant checked on its
own. Anything else -- fewer channels than shipped, other weights, int4 at run time, float16 or tanh-GELU
arithmetic -- lands outside (measured: computing with 52 of 64 conv2 channels, the rest folded into a bias, 196
tolerances; int8 at run time in one GPT layer of a float entry, 4-8). Images are checked on whole timed batches,
at most MAX_ROWS rows, drawn secretly; GPT windows likewise (MAX_WINDOWS). The GPT's static or dynamic activation
quantization has no reference: refused. Outputs that are NaN/inf or of another shape fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from competition.conformance import architecture as arch
from competition.conformance import bounds
from competition.conformance.npz import WeightsError, read_arrays
from competition.conformance.static import ClosedSpec, check_arrays, input_quantization
from competition.validation import base
from tinytorch import nn
from tinytorch.models import GPT

MAX_ROWS = 300  # images checked per event (whole timed batches)
MAX_WINDOWS = 32  # GPT windows checked per event
BATCH = 100  # images per timed call (every image event's batch_size); the GPT's windows go 16 per call
VERDICTS = ("conforms", "fails", "not_checked")


class ConformanceError(ValueError):
    """The reference cannot be computed from the shipped weights (not closed, unreadable, missing file)."""


@dataclass(frozen=True)
class Reference:
    """The reference execution of shipped weights on some rows of the timed inputs: per arithmetic the shipped
    form allows ("float32", "dynamic int8 activations"), the float32 outputs and their bounds."""

    rows: np.ndarray  # indices into the timed inputs (and outputs)
    total: int  # rows of the timed inputs
    variants: dict[str, tuple[np.ndarray, np.ndarray]]


def reference_outputs(event_id: str, submission_dir: str | Path, inputs: np.ndarray,
                      baseline_dir: Path | None = None, batch: int = BATCH,
                      rng: np.random.Generator | None = None) -> Reference:
    """The entry's shipped weights run by tinytorch's reference model on (a secret sample of whole batches of)
    `inputs`, with bounds. Images (N, C, H, W) give (N, classes); token ids (B, T) give (B, T, vocab). Runs no
    submission code: the .npz is read with allow_pickle=False and decoded with NumPy. Raises ConformanceError
    naming file, key and fix."""
    stem, file, arrays = _shipped(event_id, submission_dir)
    return _reference(stem, file, arrays, inputs, baseline_dir, batch, rng)


def reference_outputs_from_state(event_id: str, state: Mapping[str, np.ndarray], inputs: np.ndarray,
                                 baseline_dir: Path | None = None, label: str = "trained model",
                                 batch: int = BATCH, rng: np.random.Generator | None = None) -> Reference:
    """Like `reference_outputs` for weights that were not shipped as a file (a model trained at run time)."""
    arrays = {key: np.asarray(value) for key, value in state.items()}
    return _reference(_event_model(event_id), label, arrays, inputs, baseline_dir, batch, rng)


def reference_model(event_id: str, submission_dir: str | Path,
                    baseline_dir: Path | None = None) -> tuple[nn.Module, dict[str, tuple[float, int]], set[str]]:
    """(the reference model holding the entry's shipped weights, its layers' static input qparams, its layers with
    integer weight codes) for other checks (the generation judge)."""
    stem, file, arrays = _shipped(event_id, submission_dir)
    return _model(stem, file, arrays, baseline_dir)


def _shipped(event_id: str, submission_dir: str | Path) -> tuple[str, str, dict[str, np.ndarray]]:
    """(reference stem, file, arrays) of the one weights file the event's model needs, read safely."""
    stem = _event_model(event_id)
    paths = sorted(p for p in Path(submission_dir).rglob(f"{stem}.npz") if p.is_file() and not p.is_symlink())
    if len(paths) != 1:
        raise ConformanceError(f"{submission_dir}: {event_id} needs exactly one {stem}.npz, found {len(paths)}")
    try:
        return stem, str(paths[0]), read_arrays(paths[0])
    except WeightsError as exc:
        raise ConformanceError(f"{paths[0]}: cannot read the weights safely: {exc}") from None


def _event_model(event_id: str) -> str:
    if event_id not in arch.EVENT_MODELS:
        raise ConformanceError(f"event {event_id!r} has no reference model; known: {', '.join(sorted(arch.EVENT_MODELS))}")
    return arch.EVENT_MODELS[event_id]


def _model(stem: str, file: str, arrays: Mapping[str, np.ndarray],
           baseline_dir: Path | None) -> tuple[nn.Module, dict[str, tuple[float, int]], set[str]]:
    spec = ClosedSpec(stem, baseline_dir or base.BASELINE_DIR)
    state, problems = check_arrays(file, arrays, spec)
    if problems:
        shown = "; ".join(str(p) for p in problems[:3])
        raise ConformanceError(shown + (f"; and {len(problems) - 3} more" if len(problems) > 3 else ""))
    static, integer = input_quantization(arrays, spec)
    return arch.load_into(arch.build(stem), state), static, integer


def _reference(stem: str, file: str, arrays: Mapping[str, np.ndarray], inputs: np.ndarray,
               baseline_dir: Path | None, batch: int, rng: np.random.Generator | None) -> Reference:
    model, static, integer = _model(stem, file, arrays, baseline_dir)
    inputs = np.asarray(inputs)
    is_gpt = isinstance(model, GPT)
    batch = 16 if is_gpt else max(1, int(batch))
    rows = _sample_rows(len(inputs), batch, MAX_WINDOWS if is_gpt else MAX_ROWS, rng or np.random.default_rng())
    quant = {layer: bounds.InputQuant("static", *qparams) for layer, qparams in static.items()}
    variants = {"float32": quant}
    if integer - set(static) and not is_gpt:
        variants["dynamic int8 activations"] = {**{layer: bounds.InputQuant("dynamic") for layer in integer}, **quant}
    if is_gpt and static:
        raise ConformanceError(f"{file}: the reference runs the GPT in float32 only; its activation quantization "
                               "cannot be checked (ship the GPT's weights without input qparams)")
    try:
        return Reference(rows, len(inputs), {name: _execute(model, inputs[rows], batch, q, is_gpt)
                                             for name, q in variants.items()})
    except (ValueError, TypeError, IndexError) as exc:
        raise ConformanceError(f"the reference {stem} model cannot run on inputs {inputs.dtype} {inputs.shape}: {exc}")


def _sample_rows(total: int, batch: int, most: int, rng: np.random.Generator) -> np.ndarray:
    """Rows of a secret sample of whole batches (all rows when they fit in `most`)."""
    starts = np.arange(0, total, batch)
    if total > most:
        starts = np.sort(rng.choice(starts, size=max(1, most // batch), replace=False))
    return np.concatenate([np.arange(s, min(s + batch, total)) for s in starts]) if total else np.arange(0)


def _execute(model, inputs: np.ndarray, batch: int, quant: dict, is_gpt: bool) -> tuple[np.ndarray, np.ndarray]:
    parts = [bounds.gpt(model, inputs[i:i + batch]) if is_gpt else bounds.sequential(model, inputs[i:i + batch], quant)
             for i in range(0, len(inputs), batch)]
    if not parts:
        return np.empty((0,), np.float32), np.empty((0,))
    return np.concatenate([p.x for p in parts]), np.concatenate([p.bound() for p in parts])


def conformance_record(division: str, candidate_outputs: np.ndarray | None, reference: Reference | None,
                       kind: str) -> dict:
    """The result's `conformance` block: {"division", "verdict", "reason", "max_abs_diff", "tolerance"}.

    `kind` names what is compared (for example "logits"). max_abs_diff and tolerance are those of the output
    nearest to (or furthest past) its tolerance, so the verdict is "conforms" exactly when max_abs_diff <=
    tolerance. Example::

        ref = reference_outputs("cnn_marathon_offline", submission_dir, timed_inputs, batch=100)
        record = conformance_record("closed", timed_outputs, ref, "logits")
        if is_refused(record): ...  # disqualify with record["reason"]
    """
    if division != "closed":
        return _record(division, "not_checked", "open division: any architecture, outputs are not compared")
    if candidate_outputs is None or reference is None:
        return _record(division, "fails", f"no {kind} to compare" + (" from the entry" if candidate_outputs is None else ""))
    candidate = np.asarray(candidate_outputs, dtype=np.float64)
    first = next(iter(reference.variants.values()))[0]
    expected = (reference.total,) + first.shape[1:]
    if candidate.shape != expected:
        return _record(division, "fails", f"{kind} have shape {candidate.shape}, the reference {expected}")
    if first.size == 0:
        return _record(division, "fails", f"no {kind} to compare (empty)")
    if not all(np.isfinite(values).all() for values, _ in reference.variants.values()):
        return _record(division, "fails", f"the shipped weights compute NaN or inf {kind} (check the weights and scales)")
    if not np.isfinite(candidate).all():
        return _record(division, "fails", f"{kind} hold NaN or inf")
    checked = candidate[reference.rows]
    results = {name: _compare(checked, values, bound) for name, (values, bound) in reference.variants.items()}
    name = min(results, key=lambda n: results[n][0])
    ratio, worst, diff, tol = results[name]
    values = reference.variants[name][0]
    agree = float(np.mean(checked.argmax(-1) == values.argmax(-1)))
    where = (int(reference.rows[worst[0]]),) + tuple(int(i) for i in worst[1:])
    summary = (f"{len(reference.rows)} of {reference.total} rows against the shipped weights in {name}: the worst "
               f"output, index {where}, is {diff:.3g} from the reference, {ratio:.3g} times what float32 "
               f"reordering explains ({tol:.3g}); argmax agrees on {100 * agree:.1f} %")
    if ratio <= 1:
        return _record(division, "conforms", summary, diff, tol)
    return _record(division, "fails", f"{summary}: the outputs are not those of the shipped weights", diff, tol)


def _compare(candidate: np.ndarray, values: np.ndarray, bound: np.ndarray) -> tuple[float, tuple, float, float]:
    """(largest |diff| / tolerance, its index, that diff, that tolerance) with tolerance 2 B + a denormal."""
    diff = np.abs(candidate - values.astype(np.float64))
    tol = 2 * bound + 1e-30
    ratio = diff / tol
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    return float(ratio[worst]), worst, float(diff[worst]), float(tol[worst])


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
