"""The worker's main: import the submission's model.py from the temporary copy and serve the parent's requests.

Start-up imports everything the harness needs, arms the audit hook (guard.py), reports `ready` and then serves
framed requests (channel.py) until `exit`. All timing happens here with perf_counter (measure/timing.py).
Run as: python -I -B -m competition.sandbox.worker --read-fd R --write-fd W --root DIR
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import site
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

import competition
from competition.measure import gemm, layers, memory, timing, weights
from competition.sandbox import channel, guard

try:
    import tinytorch
except ImportError:  # the harness still works for NumPy-only submissions
    tinytorch = None
for _name in ("tinytorch.nn", "tinytorch.optim", "tinytorch.data", "tinytorch.models"):
    try:  # imported before the guard is armed, so submissions start from the same state
        importlib.import_module(_name)
    except ImportError:
        pass

ENTRY_POINTS = ("predict", "generate", "next_token_logits")


class Server:
    """Request handlers; each returns (reply header, reply arrays)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.submission: Any = None
        self.model: Any = None
        self.stored: dict[str, np.ndarray] = {}
        self.training: Any = None

    # -- set-up ----------------------------------------------------------------------------------------------------
    def op_store(self, msg: dict, arrays: list[np.ndarray]) -> tuple[dict, list]:
        for name, array in zip(msg["names"], arrays):
            array.flags.writeable = False  # a submission cannot change the inputs later calls see
            self.stored[name] = array
        return {}, []

    def op_import(self, msg: dict, arrays: list) -> tuple[dict, list]:
        path = self.root / "model.py"
        if not path.is_file():
            raise FileNotFoundError("the submission has no model.py")
        sys.path.append(str(self.root))  # after the standard library: a sibling file cannot shadow it
        spec = importlib.util.spec_from_file_location("model", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["model"] = module
        spec.loader.exec_module(module)
        self.submission = module
        return {"entry_points": [n for n in ("load", "train", *ENTRY_POINTS) if callable(getattr(module, n, None))]}, []

    def op_load(self, msg: dict, arrays: list) -> tuple[dict, list]:
        start = time.perf_counter()
        self.model = self._entry("load")(msg["event"])
        return {"load_s": time.perf_counter() - start, **self._summary()}, []

    def _summary(self) -> dict:
        size, params = weights.weights_summary(self.model)
        return {"model_size_bytes": size, "parameter_count": params}

    # -- calls -----------------------------------------------------------------------------------------------------
    def _call(self, msg: dict):
        """The timed unit of work: one entry-point call, or with batch_size one pass over the stored inputs in
        consecutive batches (each call sees different images)."""
        fn = self._entry(msg["fn"])
        if msg["fn"] not in ENTRY_POINTS:
            raise ValueError(f"unknown entry point {msg['fn']!r}")
        args = [self.stored[name] for name in msg.get("args", [])]
        kwargs = dict(msg.get("kwargs", {}))
        model, batch = self.model, msg.get("batch_size")
        if batch is None:
            return lambda: fn(model, *args, **kwargs)
        data, step = args[0], int(batch)
        batches = [data[i:i + step] for i in range(0, len(data), step)]

        def one_pass() -> None:
            for x in batches:
                fn(model, x, **kwargs)
        return one_pass

    def op_run(self, msg: dict, arrays: list) -> tuple[dict, list]:
        """One pass over stored inputs in batches of batch_size; returns the concatenated outputs."""
        fn = self._entry(msg["fn"])
        data = self.stored[msg["args"][0]]
        batch = int(msg.get("batch_size") or len(data))
        kwargs = dict(msg.get("kwargs", {}))
        outs = [_as_array(fn(self.model, data[i:i + batch], **kwargs), msg["fn"]) for i in range(0, len(data), batch)]
        return {}, [np.concatenate(outs) if outs else np.zeros((0,))]

    def op_calibrate(self, msg: dict, arrays: list) -> tuple[dict, list]:
        call = self._call(msg)
        timing.warm_up(call)
        loops, seconds = timing.calibrate(call, float(msg.get("min_seconds", timing.MIN_TIMED_SECONDS)))
        return {"loops": loops, "seconds": seconds}, []

    def op_time(self, msg: dict, arrays: list) -> tuple[dict, list]:
        return {"values": timing.timed_values(self._call(msg), int(msg["loops"]), int(msg.get("repeats", 1)))}, []

    def op_latency(self, msg: dict, arrays: list) -> tuple[dict, list]:
        fn = self._entry(msg["fn"])
        data = self.stored[msg["args"][0]]
        calls = [(lambda x=data[i:i + 1]: fn(self.model, x)) for i in range(len(data))]
        timing.warm_up(calls[0])
        return {"values": timing.single_call_times(calls)}, []

    def op_memory(self, msg: dict, arrays: list) -> tuple[dict, list]:
        """RSS high-water mark so far (ask after the timed calls), then one call under tracemalloc; the same call
        counts Linear/Conv2d FLOPs through forward hooks (hooks that do not touch tracemalloc)."""
        call, box = self._call(msg), {}
        rss = memory.max_rss_bytes()
        peak = memory.traced_peak_bytes(lambda: box.update(layers=layers.record_layers(self.model, call, False)))
        return {"max_rss_bytes": rss, "tracemalloc_bytes": peak, "flops": sum(x["flops"] for x in box["layers"])}, []

    def op_layers(self, msg: dict, arrays: list) -> tuple[dict, list]:
        call = self._call(msg)
        return {"layers": layers.record_layers(self.model, call, bool(msg.get("trace_memory", True)))}, []

    # -- training --------------------------------------------------------------------------------------------------
    def op_train_start(self, msg: dict, arrays: list) -> tuple[dict, list]:
        x, y = (self.stored[name] for name in msg["args"])
        self.training = iter(self._entry("train")(msg["event"], x, y, int(msg.get("seed", 0))))
        return {}, []

    def op_train_epoch(self, msg: dict, arrays: list) -> tuple[dict, list]:
        """Advance train() by one epoch; with trace_memory the epoch also reports its tracemalloc peak."""
        box: dict = {}

        def step() -> None:
            box["model"] = next(self.training, None)

        peak = None
        start = time.perf_counter()
        if msg.get("trace_memory"):
            peak = memory.traced_peak_bytes(step)
        else:
            step()
        seconds = time.perf_counter() - start
        if box["model"] is None:
            return {"done": True, "epoch_s": seconds}, []
        self.model = box["model"]
        return {"done": False, "epoch_s": seconds, "tracemalloc_bytes": peak, **self._summary()}, []

    # -- trusted measurements ----------------------------------------------------------------------------------------
    def op_rss(self, msg: dict, arrays: list) -> tuple[dict, list]:
        return {"max_rss_bytes": memory.max_rss_bytes()}, []

    def op_gemm(self, msg: dict, arrays: list) -> tuple[dict, list]:
        return {"gflops": gemm.gemm_gflops(int(msg.get("n", 512)))}, []

    def _entry(self, name: str):
        if self.submission is None:
            raise RuntimeError("model.py is not imported yet")
        fn = getattr(self.submission, name, None)
        if not callable(fn):
            raise AttributeError(f"model.py does not define {name}()")
        return fn


def _as_array(value: Any, what: str) -> np.ndarray:
    data = value.data if not isinstance(value, np.ndarray) and hasattr(value, "data") else value
    array = np.asarray(data)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what}() must return a numeric array, got dtype {array.dtype}")
    return array


def _error_text(err: BaseException, root: Path) -> str:
    if isinstance(err, MemoryError):
        return "MemoryError: the submission ran out of memory (address-space limit of the sandbox)"
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.startswith(str(root))]
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(err).__name__}: {err}{where}"[:1900]


def _arm_guard(root: Path) -> None:
    readable = [sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages(),
                str(Path(np.__file__).parent), str(Path(competition.__file__).parent), "/dev/null", "/dev/urandom"]
    unreadable = []
    if tinytorch is not None:
        tt_dir = Path(list(tinytorch.__path__)[0])
        readable.append(str(tt_dir))
        unreadable.append(str(tt_dir / "data" / "bundled"))
    guard.install(str(root.parent), readable, unreadable)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--read-fd", type=int, required=True)
    parser.add_argument("--write-fd", type=int, required=True)
    parser.add_argument("--root", type=Path, required=True)
    args = parser.parse_args(argv)
    root = args.root.resolve()
    interfaces = [name for _, name in socket.if_nameindex()]
    _arm_guard(root)
    server = Server(root)
    channel.send(args.write_fd, {"op": "ready", "pid": os.getpid(), "interfaces": interfaces,
                                 "max_rss_bytes": memory.max_rss_bytes()})
    while True:
        try:
            msg, arrays = channel.receive(args.read_fd)
        except channel.ChannelError:
            return 0
        if msg.get("op") == "exit":
            return 0
        handler = getattr(server, f"op_{msg.get('op')}", None)
        try:
            if handler is None:
                raise ValueError(f"unknown request {msg.get('op')!r}")
            reply, out = handler(msg, arrays)
        except BaseException as err:  # noqa: BLE001 - every submission failure becomes a reply
            if isinstance(err, KeyboardInterrupt):
                raise
            reply, out = {"error": _error_text(err, root)}, []
        channel.send(args.write_fd, reply, out)


if __name__ == "__main__":
    sys.exit(main())
