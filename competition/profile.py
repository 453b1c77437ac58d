"""Per-layer profile of a submission on one event: time, peak memory and FLOPs per tinytorch layer.

Runs inside the sandbox worker through forward hooks. Two passes after a warm-up: one for time (no tracemalloc
overhead), one for memory. Submissions whose model is not a tinytorch Module have no layers. `render_profile` shows
the rows for people with tinytorch.profiler's units (ms, MB, GFLOP/s) and this machine's measured GEMM rate.
"""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from competition.datasets import load_event_data
from competition.rules import load_rules
from competition.sandbox.process import Worker
from competition.sandbox.static_check import check_folder
from tinytorch.profiler import MachineRates, format_bytes, format_count, format_rate, format_seconds, format_share
from tinytorch.profiler import measure_machine


WORKER_BLAS_THREADS = 1  # the profiled worker's BLAS threads; the GEMM rate in the note is measured alike


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
    with Worker(Path(submission_dir), label="profile", blas_threads=WORKER_BLAS_THREADS) as worker:
        worker.request("import", timeout=120)
        if event.kind == "training":
            worker.request("store", [data.train_inputs, data.train_labels], names=["train_x", "train_y"])
            worker.request("train_start", args=["train_x", "train_y"], event=event_id, seed=0)
            worker.request("train_next", timeout=float(protocol.get("time_budget_s", 600)))
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


def render_profile(rows: list[dict], event_id: str, machine: MachineRates | None = None) -> Group:
    """The rows of `profile_event` as a table, slowest layer first, in human units (fits 80 columns), and a note
    naming the bottleneck and this machine's float32 GEMM rate (measured here, in the parent): the roof for the
    "GFLOP/s" column. The worker's numbers are diagnostics, shown to the student and never scored."""
    machine = machine if machine is not None else measure_machine(threads=WORKER_BLAS_THREADS)
    ordered = sorted(rows, key=lambda row: row["time_s"], reverse=True)
    cells = [[row["name"], row["type"], format_seconds(row["time_s"]), format_share(row["time_fraction"]),
              format_count(row["flops"]) if row["flops"] else "-", _gflops(row), format_bytes(row["peak_bytes"]),
              format_count(row["parameters"])]
             for row in ordered]
    table = Table(title=f"where the time goes: {event_id}", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)
    for index, column in enumerate(("layer", "type", "time", "share", "FLOPs", "GFLOP/s", "memory", "params")):
        if index < 2:  # names give way (ellipsis) so the numbers always show in full
            table.add_column(column, no_wrap=True, overflow="ellipsis", max_width=20 if index == 0 else 11)
        else:
            width = max([len(column)] + [len(cell[index]) for cell in cells])
            table.add_column(column, justify="right", no_wrap=True, min_width=width)
    for cell in cells:
        table.add_row(*cell)
    if not ordered:
        return Group(table, Text("No tinytorch layers: the model is not an nn.Module, so there is nothing to hook."))
    top = ordered[0]
    return Group(table, Text(f"Bottleneck: {top['name']} ({format_share(top['time_fraction'])} of the time).\n"
                             f"A float32 GEMM runs at {format_rate(machine.gemm_flops_per_s)} on this machine "
                             f"with {WORKER_BLAS_THREADS} BLAS thread, as in the worker."))


def _gflops(row: dict) -> str:
    return f"{row['flops'] / row['time_s'] / 1e9:.3g}" if row["flops"] and row["time_s"] > 0 else "-"
