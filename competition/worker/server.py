"""Request handlers of the worker. Each op returns (reply header, reply arrays); replies carry outputs only."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np

ENTRY_POINTS = ("predict", "generate", "next_token_logits")


class Server:
    """The state of one worker: the stored arrays, the imported model.py, the loaded model, a running train()."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.submission: Any = None
        self.model: Any = None
        self.stored: dict[str, np.ndarray] = {}
        self.training: Any = None

    def op_store(self, msg: dict, arrays: list[np.ndarray]) -> tuple[dict, list]:
        """Keep named arrays (read-only) for later requests."""
        for name, array in zip(msg["names"], arrays):
            array.flags.writeable = False
            self.stored[name] = array
        return {}, []

    def op_import(self, msg: dict, arrays: list) -> tuple[dict, list]:
        """Import the submission's model.py; reply with the entry points it defines."""
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
        """model = load(event)."""
        self.model = self.entry("load")(msg["event"])
        return {}, []

    def inputs(self, msg: dict, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """The message's arrays, or with `take` the named stored arrays, which are then forgotten (single use)."""
        xs = [self.stored.pop(name) for name in msg["take"]] if "take" in msg else arrays
        for x in xs:
            x.flags.writeable = False
        return xs

    def op_call(self, msg: dict, arrays: list[np.ndarray]) -> tuple[dict, list]:
        """fn(model, x, **kwargs) for each input x, in order; one output array per input."""
        if msg["fn"] not in ENTRY_POINTS:
            raise ValueError(f"unknown entry point {msg['fn']!r}")
        fn, kwargs = self.entry(msg["fn"]), dict(msg.get("kwargs", {}))
        return {}, [as_array(fn(self.model, x, **kwargs), msg["fn"]) for x in self.inputs(msg, arrays)]

    def op_noop(self, msg: dict, arrays: list) -> tuple[dict, list]:
        """The empty call: the same inputs as a call, zeros of the given shapes back (the parent's clock overhead)."""
        self.inputs(msg, arrays)
        return {}, [np.zeros(shape, dtype=msg.get("dtype", "float32")) for shape in msg["shapes"]]

    def op_train_start(self, msg: dict, arrays: list) -> tuple[dict, list]:
        """Start train(event, x, y, seed) on stored arrays."""
        x, y = (self.stored[name] for name in msg["args"])
        self.training = iter(self.entry("train")(msg["event"], x, y, int(msg.get("seed", 0))))
        return {}, []

    def op_train_next(self, msg: dict, arrays: list) -> tuple[dict, list]:
        """Advance train() to its next yielded model (done when it stops)."""
        model = next(self.training, None)
        if model is None:
            return {"done": True}, []
        self.model = model
        return {"done": False}, []

    def op_state(self, msg: dict, arrays: list) -> tuple[dict, list]:
        """The trained model's state_dict() arrays and names (the parent checks them against the model's outputs)."""
        state = self.model.state_dict()
        return {"names": list(state)}, [as_array(value, "state_dict") for value in state.values()]

    def op_matmul(self, msg: dict, arrays: list) -> tuple[dict, list]:
        """`loops` float32 n x n products (the parent times this request: the runner's GEMM peak)."""
        n, loops = int(msg["n"]), int(msg["loops"])
        rng = np.random.default_rng(0)
        a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
        out = np.empty((n, n), dtype=np.float32)
        for _ in range(loops):
            np.matmul(a, b, out=out)
        return {}, []

    def op_layers(self, msg: dict, arrays: list) -> tuple[dict, list]:
        """Diagnostic per-layer profile for `tito profile` (timed in here, so never part of a result)."""
        from dataclasses import asdict

        from tinytorch.nn import Module
        from tinytorch.profiler import PerformanceProfiler
        from tinytorch.profiler.performance import BETWEEN_LAYERS

        fn, kwargs = self.entry(msg["fn"]), dict(msg.get("kwargs", {}))
        args = [self.stored[name] for name in msg.get("args", [])]
        if not isinstance(self.model, Module):
            fn(self.model, *args, **kwargs)
            return {"layers": []}, []
        profiler = PerformanceProfiler(self.model, trace_memory=bool(msg.get("trace_memory", True)))
        with profiler.profile(msg["fn"]):
            fn(self.model, *args, **kwargs)
        return {"layers": [asdict(layer) for layer in profiler.layers if layer.name != BETWEEN_LAYERS]}, []

    def entry(self, name: str):
        if self.submission is None:
            raise RuntimeError("model.py is not imported yet")
        fn = getattr(self.submission, name, None)
        if not callable(fn):
            raise AttributeError(f"model.py does not define {name}()")
        return fn


def as_array(value: Any, what: str) -> np.ndarray:
    """A Tensor's .data or the value itself, as an ndarray (the parent checks dtype, shape and values)."""
    data = value.data if not isinstance(value, np.ndarray) and hasattr(value, "data") else value
    array = np.asarray(data)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what}() must return a numeric array, got dtype {array.dtype}")
    return array
