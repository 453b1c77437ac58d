"""Per-layer profile of a submission on one event: time, peak memory and FLOPs per tinytorch layer.

Runs inside the sandbox worker through forward hooks (measure/layers.py). Two passes after a warm-up: one for
time (no tracemalloc overhead), one for memory. Submissions whose model is not a tinytorch Module have no layers.
"""

from __future__ import annotations

from pathlib import Path

from competition.datasets import load_event_data
from competition.rules import load_rules
from competition.sandbox.process import Worker
from competition.sandbox.static_check import check_folder


class ProfileError(RuntimeError):
    """The submission cannot be profiled (static-check problems or a failure in the worker)."""


def profile_event(event_id: str, submission_dir: Path) -> list[dict]:
    """Per leaf layer, in call order: name, type, calls, time_s, time_fraction, peak_bytes, flops, parameters."""
    event = load_rules().event(event_id)
    problems = check_folder(Path(submission_dir))
    if problems:
        raise ProfileError("static check failed:\n" + "\n".join(f"  {p}" for p in problems))
    protocol = dict(event.protocol)
    batch = int(protocol.get("batch_size", 100))
    subset = batch if event.kind == "inference" else None
    data = load_event_data(event.dataset, event.split, event.kind, max_examples=subset)
    with Worker(Path(submission_dir), label="profile") as worker:
        worker.request("import", timeout=120)
        if event.kind == "training":
            worker.request("store", [data.train_inputs, data.train_labels], names=["train_x", "train_y"])
            worker.request("train_start", args=["train_x", "train_y"], event=event_id, seed=0)
            worker.request("train_epoch", timeout=float(protocol.get("time_budget_s", 600)))
        else:
            worker.request("load", event=event_id, timeout=300)
        if event.kind == "generation":
            prompt = data.tokens[None, : int(protocol["prompt_tokens"])]
            worker.request("store", [prompt], names=["x"])
            call = {"fn": "generate", "args": ["x"], "kwargs": {"max_new_tokens": int(protocol["new_tokens"])}}
        else:
            worker.request("store", [data.inputs[:batch]], names=["x"])
            call = {"fn": "predict", "args": ["x"], "kwargs": {}}
        worker.request("layers", trace_memory=False, **call)  # warm-up, discarded
        timed = worker.request("layers", trace_memory=False, **call)[0]["layers"]
        traced = worker.request("layers", trace_memory=True, **call)[0]["layers"]
    total = sum(layer["time_s"] for layer in timed) or 1.0
    for layer, mem in zip(timed, traced):
        layer["peak_bytes"] = mem["peak_bytes"]
        layer["time_fraction"] = layer["time_s"] / total
    return timed
