"""The static half of the closed division: every .npz of the folder (subfolders too) is the state_dict of a
reference model under the kit's transformations and nothing else. Returns Problems naming file, key and fix, and
the decoded float32 state the run-time reference executes."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from competition.conformance import architecture as arch
from competition.conformance.forms import FORMS_DOC, activation_params, decode, source_key, unwrap
from competition.conformance.npz import MAX_DECLARED_BYTES, SAFE_FIX, WeightsError, npz_specs, read_arrays
from competition.problems import Problem

MAX_VALUES = MAX_DECLARED_BYTES // 4  # a sparse tensor decodes to at most this many values
MISSING_FIX = ("ship it in a closed form (float32/float16, int8 or packed int4 + _scale, pruned with a mask, "
               "shrunk) or fold a batch norm into the layer before it; no technique may drop a layer, the open "
               f"division allows other architectures ({FORMS_DOC})")
EXTRA_FIX = ("keep only the baseline's keys and their companions (_scale, _zero_point, _mask, _orig, "
             f"a layer's input_scale/input_zero_point: {FORMS_DOC})")


class ClosedSpec:
    """What a closed entry's file `stem` must express: the baseline's keys and shapes, and its architecture."""

    def __init__(self, stem: str, baseline_dir: Path):
        self.stem = stem
        baseline_file = baseline_dir / f"{stem}.npz"
        self.specs = npz_specs(baseline_file) if baseline_file.is_file() else arch.fresh_specs(stem)
        self.class_name = arch.reference(stem)[0]


def known_stems(baseline_dir: Path) -> list[str]:
    """Model file names a closed entry may ship: the baseline's .npz files and the event models."""
    return sorted({p.stem for p in baseline_dir.glob("*.npz")} | set(arch.EVENT_MODELS.values()))


def check_folder(folder: Path, baseline_dir: Path, events: Iterable[str]) -> list[Problem]:
    """Problems of a closed entry's weights: file names, every key of every .npz, the models its events load."""
    stems = known_stems(baseline_dir)
    problems, shipped = [], {}
    paths = [p for p in folder.rglob("*.npz") if p.is_file() and not p.is_symlink()]
    for path in sorted(paths, key=lambda p: (len(p.parts), str(p))):  # the shallowest file of a name is "the" one
        if path.stem not in stems:
            problems.append(Problem(str(path), "closed division: no reference model has weights of this name",
                                    "name each weights file after its model: " + ", ".join(f"{s}.npz" for s in stems)))
        elif path.stem in shipped:
            problems.append(Problem(str(path), f"closed division: a second {path.stem}.npz (first: {shipped[path.stem]})",
                                    "ship each model's weights once"))
        else:
            shipped[path.stem] = path
            problems += check_file(path, ClosedSpec(path.stem, baseline_dir))[1]
    for event in events:
        stem = arch.EVENT_MODELS.get(event)
        if stem and stem not in arch.TRAINED_AT_RUN_TIME and stem not in shipped:
            problems.append(Problem(str(folder), f"closed division: {event} runs {stem} but no {stem}.npz is shipped",
                                    f"ship {stem}.npz (start from submissions/baseline/{stem}.npz)", field=f"events.{event}"))
    return problems


def check_file(path: Path, spec: ClosedSpec) -> tuple[dict[str, np.ndarray], list[Problem]]:
    """(decoded float32 state, problems) of one shipped weights file against its reference."""
    try:
        arrays = read_arrays(path)
    except WeightsError as exc:
        return {}, [Problem(str(path), f"cannot read the weights safely: {exc}", SAFE_FIX)]
    return check_arrays(str(path), arrays, spec)


def check_arrays(file: str, arrays: Mapping[str, np.ndarray],
                 spec: ClosedSpec) -> tuple[dict[str, np.ndarray], list[Problem]]:
    """(decoded state, problems) of a name -> array mapping (a file's, or a model trained at run time)."""
    layers = {arch.prefix_of(key) for key in spec.specs}
    arrays, issues = unwrap(arrays, layers, MAX_VALUES)
    folded = _folded(arrays, spec)
    rows = {key: arrays[source].shape[0] for key in spec.specs
            if (source := source_key(key, arrays)) is not None and arrays[source].ndim}
    expected, width_issues = arch.expected_shapes(spec.specs, rows, spec.class_name, folded)
    issues += width_issues
    wanted = {key: dtype for key, (_, dtype) in spec.specs.items() if arch.prefix_of(key) not in folded}
    wanted.update({key: np.dtype(np.float32) for key in expected if key not in spec.specs})
    state: dict[str, np.ndarray] = {}
    used: set[str] = set()
    for key, dtype in wanted.items():
        decoded = decode(key, arrays, dtype, expected[key])
        if decoded is None:
            issues.append((key, "baseline key missing", MISSING_FIX))
            continue
        used |= decoded.used
        issues += decoded.problems
        if decoded.value is not None and decoded.value.shape != expected[key]:
            if any(issue[0] == key for issue in issues):
                continue  # already reported (a width outside the baseline's)
            issues.append((key, f"shape {decoded.value.shape} where {expected[key]} was expected",
                           arch.shape_fix(spec.specs, key, expected[key])))
        elif decoded.value is not None:
            state[key] = decoded.value
    for layer in {arch.prefix_of(key) for key in wanted if key.endswith(".weight")}:
        activations = activation_params(layer, arrays)
        used |= activations.used
        issues += activations.problems
    issues += [(key, "key is not in the baseline's weights", EXTRA_FIX) for key in arrays if key not in used]
    return state, [Problem(file, f"closed division: {message}", fix, field=key) for key, message, fix in issues]


def input_quantization(arrays: Mapping[str, np.ndarray], spec: ClosedSpec) -> tuple[dict[str, tuple[float, int]], set[str]]:
    """({layer: (input_scale, input_zero_point)} of layers with static activation qparams, the layers whose weight
    ships as integer codes) -- the arithmetic the reference must reproduce (runtime.py)."""
    layers = {arch.prefix_of(key) for key in spec.specs}
    arrays, _ = unwrap(arrays, layers, MAX_VALUES)
    static, integer = {}, set()
    for layer in sorted(layers):
        if f"{layer}.input_scale" in arrays:
            zero = arrays.get(f"{layer}.input_zero_point", np.zeros(()))
            static[layer] = (float(np.asarray(arrays[f"{layer}.input_scale"]).reshape(())),
                             int(np.asarray(zero).reshape(())))
        source = source_key(f"{layer}.weight", arrays)
        if source is not None and arrays[source].dtype in (np.int8, np.uint8):
            integer.add(layer)
    return static, integer


def _folded(arrays: Mapping[str, np.ndarray], spec: ClosedSpec) -> set[str]:
    """Batch norms folded into the layer before them: all their keys absent and that layer ships a bias."""
    folded = set()
    for norm, layer in arch.foldable_norms(spec.specs, spec.class_name).items():
        norm_keys = [k for k in spec.specs if arch.prefix_of(k) == norm]
        shipped = [k for k in arrays if any(k == n or k.startswith(n + "_") for n in norm_keys)]
        has_bias = any(k == f"{layer}.bias" or k.startswith(f"{layer}.bias_") for k in arrays)
        if not shipped and has_bias:
            folded.add(norm)
    return folded
