"""The last distance to the floor (issue 20), measured side by side in one process, one thread each.

Run: ``python benchmarks/floor.py [--repeats N] [--only gemms,transformer,transformer_gemms,gelu,regression,elementwise,
winograd]``.

- gemms: ``BaselineCNN(3, 10, 32)`` inference on 1 000 images in batches of 100 against a replay of its own GEMMs
  (the same matmul calls on operands of the same shapes and chunking, already in place): forward / GEMMs, target
  <= 1.15. What lies between them is the patch copies, padding, pooling, ReLU and the NCHW writes. Beside them, the
  same model with ``ReLU(inplace=True)``, and a NumPy floor: the least NumPy work found for this forward (the same
  GEMMs plus one strided patch copy per chunk, pools and ReLUs on the chunk in cache, buffers allocated once; see
  `_numpy_floor`), with its time per kind of pass: floor / GEMMs above 1.15 means the target is out of NumPy's
  reach.
- transformer: one AdamW training step of TinyGPT (4 x 128, 8 windows of 256 tokens), tinytorch / PyTorch
  (benchmarks/speed_kit.py's step), target <= 0.85.
- transformer_gemms: the TinyGPT step of both frameworks against NumPy replays of the work any implementation of it
  runs (`transformer_replay.py`: each Linear's three GEMMs; the attention's six GEMMs and masked softmax, counted at
  half their full size, the causal minimum; tinytorch's erf GELU; the LayerNorms; AdamW; the embeddings, residual
  adds, biases and loss), each in the least NumPy passes found, into buffers allocated once: their sum / PyTorch's
  step is the NumPy floor of tinytorch / PyTorch; above 0.85 the target is out of NumPy's reach.
- elementwise: the first ReLU's forward and the first max-pool's backward of ``BaselineCNN(3, 10, 32)`` (batch 64),
  per call inside training steps and alone on arrays of the same shape, with the minor page faults of each call, each
  framework in its own child process (children take turns): why an op is slower in the step than alone. tinytorch
  runs twice, with glibc's defaults and with glibc keeping freed memory (``MALLOC_MMAP_THRESHOLD_``/
  ``MALLOC_TRIM_THRESHOLD_``): the difference is the cost of fresh pages.
- gelu: the exact (erf) GELU forward of one TinyGPT feed-forward activation (8 x 256 x 512, input requiring grad,
  as in the training step), tinytorch / PyTorch: NumPy evaluates erf as ~20 separate passes, PyTorch in one.
- regression: ``--against COMMIT`` (default 5bb35d1, the attention work) - tinytorch as of that commit (``git archive``
  into a temporary folder) and as of today, each timed against PyTorch's TinyGPT step in its own child process, the
  children alternating: a code regression shows as a higher ratio for today's tinytorch.
- winograd: conv2 of the CIFAR CNN (32 -> 64, 16 x 16, 3 x 3, padding 1, batch 64): tinytorch's im2col GEMM
  forward against a NumPy Winograd F(2x2, 3x3) forward (16 GEMMs of (64, 32) x (32, tiles) instead of 9 x 4;
  transforms as NumPy passes), outputs checked equal first.

Rounds interleave the contenders, rotating who goes first; medians with min-max. The machine may be shared: read
ratios, not seconds, and only from the same run.
"""
from __future__ import annotations

import argparse
import copy
import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
import statistics
import time
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

import tinytorch as tt
from tinytorch import nn
from tinytorch.models import GPT, BaselineCNN, torch_twins
from tinytorch.nn import spatial
from tinytorch.profiler import PerformanceProfiler
from tinytorch.tensor import Tensor

from interleave import interleaved  # benchmarks/interleave.py, beside this script
import transformer_replay as replay  # benchmarks/transformer_replay.py

# PyTorch is imported only where it runs: a tinytorch-only child must not have torch's allocations in its heap.


def _print_times(title: str, times: dict[str, list[float]]) -> None:
    """A block's title, then each contender's median time."""
    print(title)
    for name, values in times.items():
        print(f"  {name:<28}{_median_ms(values)}")


def _median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:8.2f} ms [{min(values) * 1e3:.2f}-{max(values) * 1e3:.2f}]"


def _ratio(times: dict[str, list[float]], top: str, bottom: str) -> float:
    return statistics.median(times[top]) / statistics.median(times[bottom])


# ---- CNN inference against its own GEMMs ---------------------------------------------------------------------------

def _conv_gemm_replay(batch: int, channels: int, size: int, out_channels: int) -> Callable[[], None]:
    """The GEMMs `spatial._conv_forward` runs for a 3x3, padding-1 conv with bias, on ready operands."""
    depth, pixels = channels * 9 + 1, size * size
    per_chunk = max(1, spatial._PATCH_CHUNK_ELEMENTS // ((depth + out_channels) * pixels))
    chunks = [min(per_chunk, batch - start) for start in range(0, batch, per_chunk)]
    rng = np.random.default_rng(0)
    if spatial._channels_last(channels, size):
        patches = rng.random((per_chunk * pixels, depth), dtype=np.float32)
        weight_t = rng.random((depth, out_channels), dtype=np.float32)
        return lambda: [patches[:count * pixels] @ weight_t for count in chunks]
    patches = rng.random((per_chunk, depth, pixels), dtype=np.float32)
    weight = rng.random((out_channels, depth), dtype=np.float32)
    target = np.empty((batch, out_channels, pixels), dtype=np.float32)
    return lambda: [np.matmul(weight, patches[:count], out=target[:count]) for count in chunks]


class _Laps:
    """A stopwatch: seconds since the last click, summed per stage name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.restart()

    def restart(self) -> None:
        self._last = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._last
        self._last = now


def _numpy_floor(model: BaselineCNN, batch: int) -> Callable[..., np.ndarray]:
    """The least NumPy work found for this forward of ``BaselineCNN(3, 10, 32)``: the same GEMMs on the same chunks
    (conv1 channels-first, conv2 channels-last, as `spatial._channels_last` picks), and per chunk, while it is in cache,
    one strided copy into the patch buffer and the 2x2 max-pool as three maxima of contiguous blocks (the patch columns,
    or rows, are ordered by position in the pooling window: pools 2x faster than strided pairs, patch copies slower, 5 %
    less in all, measured; a reshape-and-reduce pool is ~30x slower). ReLU comes after the pool (they commute: a quarter
    of the elements), fused into the write of the pooled chunk into conv2's padded channels-last input, or into the
    classifier's input, whose weight columns are permuted to that order once. Every buffer is allocated once (no fresh
    pages)."""
    conv1, conv2 = model.features[0], model.features[3]
    fc1, fc2 = model.classifier[1], model.classifier[3]
    w1 = np.concatenate([conv1.weight.data.reshape(32, -1), conv1.bias.data[:, None]], axis=1)  # (32, 28)
    w2_t = np.ascontiguousarray(np.concatenate([conv2.weight.data.transpose(0, 2, 3, 1).reshape(64, -1),
                                                conv2.bias.data[:, None]], axis=1).T)  # (289, 64)
    fc1_t = np.ascontiguousarray(fc1.weight.data.reshape(128, 64, 8, 8).transpose(2, 3, 1, 0).reshape(-1, 128))
    fc2_t, fc1_b, fc2_b = np.ascontiguousarray(fc2.weight.data.T), fc1.bias.data, fc2.bias.data
    per1 = spatial._PATCH_CHUNK_ELEMENTS // ((28 + 32) * 1024)
    per2 = spatial._PATCH_CHUNK_ELEMENTS // ((289 + 64) * 256)
    pad1, pad2 = np.zeros((batch, 3, 34, 34), np.float32), np.zeros((batch, 18, 18, 32), np.float32)
    # Output pixel (2a + i, 2b + j) in column (or row) order (i, j, a, b): pool window position first.
    view1 = spatial.windows(pad1, (3, 3), (1, 1)).reshape(batch, 3, 16, 2, 16, 2, 3, 3).transpose(
        0, 1, 6, 7, 3, 5, 2, 4)  # (N, C, kh, kw, i, j, a, b)
    view2 = spatial.windows(pad2, (3, 3), (1, 1), axes=(1, 2)).reshape(batch, 8, 2, 8, 2, 32, 3, 3).transpose(
        0, 2, 4, 1, 3, 6, 7, 5)  # (N, i, j, a, b, kh, kw, C)
    patches1, patches2 = np.ones((per1, 28, 1024), np.float32), np.ones((per2 * 256, 289), np.float32)
    out1, pooled1 = np.empty((per1, 32, 4, 256), np.float32), np.empty((per1, 32, 256), np.float32)
    out2, pooled2 = np.empty((per2, 4, 64, 64), np.float32), np.empty((per2, 64, 64), np.float32)
    features = np.empty((batch, 64, 64), np.float32)  # (N, a*8 + b, C): fc1_t's row order
    zeros1, zeros2 = np.zeros((16, 16, 32), np.float32), np.zeros((64, 64), np.float32)  # NumPy's fast ReLU

    def pool(blocks: np.ndarray, out: np.ndarray) -> np.ndarray:
        np.maximum(blocks[:, 0], blocks[:, 1], out=out)
        np.maximum(out, blocks[:, 2], out=out)
        return np.maximum(out, blocks[:, 3], out=out)

    def forward(x: np.ndarray, lap: Callable[[str], None] = lambda stage: None) -> np.ndarray:
        pad1[:, :, 1:33, 1:33] = x
        lap("input padding")
        for start in range(0, batch, per1):
            count, chunk = min(per1, batch - start), slice(start, start + per1)
            patches1[:count, :27].reshape(view1[chunk].shape)[...] = view1[chunk]
            lap("patch copies")
            np.matmul(w1, patches1[:count], out=out1[:count].reshape(count, 32, 1024))
            lap("GEMMs")
            pooled = pool(out1[:count].transpose(0, 2, 1, 3), pooled1[:count])  # (count, 32, a*16 + b)
            lap("pools")
            np.maximum(pooled.reshape(count, 32, 16, 16).transpose(0, 2, 3, 1), zeros1, out=pad2[chunk, 1:17, 1:17])
            lap("ReLU writes")
        for start in range(0, batch, per2):
            count, chunk = min(per2, batch - start), slice(start, start + per2)
            patches2[:count * 256, :288].reshape(view2[chunk].shape)[...] = view2[chunk]
            lap("patch copies")
            np.matmul(patches2[:count * 256], w2_t, out=out2[:count].reshape(count * 256, 64))
            lap("GEMMs")
            pooled = pool(out2[:count], pooled2[:count])
            lap("pools")
            np.maximum(pooled, zeros2, out=features[chunk])
            lap("ReLU writes")
        hidden = features.reshape(batch, -1) @ fc1_t
        lap("GEMMs")
        hidden += fc1_b
        np.maximum(hidden, 0, out=hidden)
        lap("ReLU writes")
        logits = hidden @ fc2_t
        lap("GEMMs")
        return logits + fc2_b

    return forward


def bench_gemms(repeats: int, images: int = 1000,
                batch: int = 100) -> tuple[dict[str, list[float]], list[str], list[str]]:
    """Interleaved forward (as is and with in-place ReLUs), GEMM replay and NumPy floor (`_numpy_floor`, its output
    checked against the model's first); a per-layer breakdown (PerformanceProfiler self times per pass against each
    layer's GEMM replay, interleaved too) and the floor's time per kind of pass (one clocked run)."""
    tt.manual_seed(0)
    model = BaselineCNN(3, 10, 32).eval()
    data = np.random.default_rng(0).random((images, 3, 32, 32), dtype=np.float32)
    fc1, fc2 = model.classifier[1].weight.data, model.classifier[3].weight.data
    features = np.random.default_rng(1).random((batch, fc1.shape[1]), dtype=np.float32)
    hidden = np.random.default_rng(2).random((batch, fc2.shape[1]), dtype=np.float32)
    layer_gemms = {"features.0": _conv_gemm_replay(batch, 3, 32, 32),
                   "features.3": _conv_gemm_replay(batch, 32, 16, 64),
                   "classifier.1": lambda: features @ fc1.T, "classifier.3": lambda: hidden @ fc2.T}

    in_place = copy.deepcopy(model)
    for module in in_place.modules():
        if isinstance(module, nn.ReLU):
            module.inplace = True

    def forward(net: nn.Module = model) -> None:
        with tt.no_grad():
            for start in range(0, images, batch):
                net(tt.from_numpy(data[start:start + batch]))

    def gemms() -> None:
        for _ in range(images // batch):
            for replay in layer_gemms.values():
                replay()

    least = _numpy_floor(model, batch)
    with tt.no_grad():
        expected = model(tt.from_numpy(data[:batch])).data
    np.testing.assert_allclose(least(data[:batch]), expected, rtol=1e-4, atol=1e-4)

    def floor() -> None:
        for start in range(0, images, batch):
            least(data[start:start + batch])

    times = interleaved({"forward": forward, "forward, ReLU(inplace=True)": lambda: forward(in_place),
                         "its GEMMs": gemms, "NumPy floor": floor}, repeats)
    profiler = PerformanceProfiler(model, trace_memory=False)
    gemm_alone = interleaved(layer_gemms, repeats)
    with profiler.profile("forward"), tt.no_grad():
        for start in range(0, images, batch):
            model(tt.from_numpy(data[start:start + batch]))
    passes = images // batch
    lines = [f"  {layer.name:<14}{layer.type:<10}{layer.time_s / passes * 1e3:8.2f} ms per batch"
             + (f"   its GEMMs {statistics.median(gemm_alone[layer.name]) * 1e3:6.2f} ms"
                if layer.name in gemm_alone else "") for layer in profiler.layers]
    laps = _Laps()
    for start in range(0, images, batch):
        laps.restart()
        least(data[start:start + batch], laps)
    stages = [f"  {stage:<24}{seconds / passes * 1e3:8.2f} ms per batch" for stage, seconds in laps.seconds.items()]
    return times, lines, stages


# ---- element-wise ops inside the CNN training step -----------------------------------------------------------------

def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


class _CallTimer:
    """Per-call seconds and minor page faults of one op, recorded by hooks."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, int]] = []
        self._start = (0.0, 0)

    def start(self, *_: object) -> None:
        self._start = (time.perf_counter(), _faults())

    def stop(self, *_: object) -> None:
        self.calls.append((time.perf_counter() - self._start[0], _faults() - self._start[1]))

    def summary(self) -> tuple[float, float]:
        return statistics.median(c[0] for c in self.calls), statistics.median(c[1] for c in self.calls)


def _instrument_tinytorch(relu: _CallTimer, pool: _CallTimer, shape: tuple[int, ...]) -> Callable[[], None]:
    """Time Tensor.relu on ``shape`` and the backward of max-pools of that input shape; returns an undo."""
    original_relu, original_op = Tensor.relu, spatial.tensor_op

    def timed_relu(self: Tensor) -> Tensor:
        if self.shape != shape:
            return original_relu(self)
        relu.start()
        out = original_relu(self)
        relu.stop()
        return out

    def timed_op(data, parents, backward):
        parents = tuple(parents)
        if parents[0].shape != shape or data.shape == shape:
            return original_op(data, parents, backward)

        def timed_backward(g):
            pool.start()
            grads = backward(g)
            pool.stop()
            return grads
        return original_op(data, parents, timed_backward)

    Tensor.relu, spatial.tensor_op = timed_relu, timed_op
    return lambda: (setattr(Tensor, "relu", original_relu), setattr(spatial, "tensor_op", original_op))


def _instrument_torch(twin, relu: _CallTimer, pool: _CallTimer) -> None:
    import torch  # noqa: PLC0415

    first_relu = next(m for m in twin.modules() if isinstance(m, torch.nn.ReLU))
    first_pool = next(m for m in twin.modules() if isinstance(m, torch.nn.MaxPool2d))
    first_relu.register_forward_pre_hook(relu.start)
    first_relu.register_forward_hook(relu.stop)

    def hook_tensors(module, inputs, output) -> None:
        output.register_hook(lambda g: pool.start())
        inputs[0].register_hook(lambda g: pool.stop())
    first_pool.register_forward_hook(hook_tensors)


def _step_calls(framework: str, steps: int, batch: int = 64) -> dict[str, tuple[float, float]]:
    """In this process, only ``framework``: per-call (median seconds, median minor faults) of the first ReLU's
    forward and the first max-pool's backward inside training steps, then of the same ops alone on same-shaped
    arrays (made after the steps, so that they do not change the steps' heap)."""
    tt.manual_seed(0)
    model = BaselineCNN(3, 10, 32)
    rng = np.random.default_rng(0)
    x, y = rng.random((batch, 3, 32, 32), dtype=np.float32), rng.integers(0, 10, batch)
    shape = (batch, 32, 32, 32)
    step, alone = {"relu": _CallTimer(), "pool": _CallTimer()}, {"relu": _CallTimer(), "pool": _CallTimer()}
    if framework == "tinytorch":
        _instrument_tinytorch(step["relu"], step["pool"], shape)
        opt, loss = tt.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), nn.CrossEntropyLoss()

        def run_step() -> None:
            opt.zero_grad()
            loss(model(tt.from_numpy(x)), tt.from_numpy(y)).backward()
            opt.step()
    else:
        import torch  # noqa: PLC0415

        torch.set_num_threads(1)
        twin = torch_twins.load_into_torch(torch_twins.torch_baseline_cnn(3, 10, 32), model.state_dict()).train()
        _instrument_torch(twin, step["relu"], step["pool"])
        opt, loss = torch.optim.SGD(twin.parameters(), lr=0.01, momentum=0.9), torch.nn.CrossEntropyLoss()

        def run_step() -> None:
            opt.zero_grad()
            loss(twin(torch.from_numpy(x)), torch.from_numpy(y)).backward()
            opt.step()
    for index in range(steps):
        run_step()
        if index == 1:  # two warm-up steps
            step["relu"].calls.clear()
            step["pool"].calls.clear()
    for _ in range(steps):
        for name, fn in zip(("relu", "pool"), _alone_ops(framework, rng, shape)):
            alone[name].start()
            fn()
            alone[name].stop()
    return {**{f"{k} in step": v.summary() for k, v in step.items()},
            **{f"{k} alone": v.summary() for k, v in alone.items()}}


def _alone_ops(framework: str, rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[Callable, Callable]:
    """(ReLU forward, 2x2 max-pool backward) of ``framework`` on fresh arrays of the step's shapes."""
    activation = rng.standard_normal(shape, dtype=np.float32)
    pooled_grad = rng.standard_normal(shape[:2] + (shape[2] // 2, shape[3] // 2), dtype=np.float32)
    if framework == "tinytorch":
        source = tt.tensor(activation, requires_grad=True)
        pool_backward = nn.functional.max_pool2d(source, 2)._ctx[1]
        return source.relu, lambda: pool_backward(pooled_grad)
    import torch  # noqa: PLC0415

    source = torch.tensor(activation, requires_grad=True)
    pooled, grad = torch.nn.functional.max_pool2d(source, 2), torch.from_numpy(pooled_grad)
    return lambda: torch.relu(source), lambda: torch.autograd.grad(pooled, source, grad, retain_graph=True)


KEEP_FREED = {"MALLOC_MMAP_THRESHOLD_": str(1 << 28), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
SETTINGS = {"tinytorch": ("tinytorch", {}), "tinytorch, freed memory kept": ("tinytorch", KEEP_FREED),
            "torch": ("torch", {})}


def bench_elementwise(repeats: int, steps: int = 6) -> dict[str, dict[str, tuple[float, float]]]:
    """Each framework alone in a fresh child process (one framework's allocations change the other's page
    faults), tinytorch also with glibc keeping freed memory; the children take turns, ``repeats`` rounds; medians
    over the rounds."""
    rounds: dict[str, list[dict]] = {label: [] for label in SETTINGS}
    for index in range(repeats):
        labels = list(SETTINGS)
        for label in labels[index % 3:] + labels[:index % 3]:
            framework, env = SETTINGS[label]
            child = subprocess.run([sys.executable, __file__, "--child", framework, "--steps", str(steps)],
                                   env={**os.environ, **env}, capture_output=True, text=True, check=True)
            rounds[label].append(json.loads(child.stdout.splitlines()[-1]))
    return {label: {op: tuple(statistics.median(r[op][i] for r in runs) for i in (0, 1)) for op in runs[0]}
            for label, runs in rounds.items()}


def bench_gelu(repeats: int) -> dict[str, list[float]]:
    import torch  # noqa: PLC0415

    torch.set_num_threads(1)
    h = np.random.default_rng(0).standard_normal((8, 256, 512), dtype=np.float32)
    mine, theirs = tt.tensor(h, requires_grad=True), torch.tensor(h, requires_grad=True)
    np.testing.assert_allclose(nn.functional.gelu(mine).data, torch.nn.functional.gelu(theirs).detach().numpy(),
                               atol=1e-5)
    return interleaved({"tinytorch": lambda: nn.functional.gelu(mine),
                        "torch": lambda: torch.nn.functional.gelu(theirs)}, repeats * 3)


# ---- the transformer step's GEMMs -----------------------------------------------------------------------------------

def bench_transformer_gemms(repeats: int, batch: int = 8, context: int = 256, width: int = 128, heads: int = 4,
                            layers: int = 4, vocab: int = 65) -> dict[str, list[float]]:
    """PyTorch's TinyGPT AdamW step (speed_kit's) against NumPy replays of the work that step needs in any
    implementation (`transformer_replay`): every Linear's three GEMMs (QKV, output projection, two feed-forward,
    head); the attention's six batched products per layer and its masked softmax, both at full (L, L) size (a causal
    implementation needs at least half of that: tinytorch's 4 query blocks do 5/8); tinytorch's erf GELU; the
    LayerNorms; AdamW; and the residual stream's embeddings, adds, biases and loss. tinytorch's step runs beside
    them, as a check that the bound stays below it."""
    import torch  # noqa: PLC0415
    from speed_kit import transformer_steps  # noqa: PLC0415 (imports torch)

    torch.set_num_threads(1)
    rng, rows, samples = np.random.default_rng(0), batch * context, batch * heads
    linears = [(width, 3 * width), (width, width), (width, 4 * width), (4 * width, width)] * layers + [(width, vocab)]
    steps = transformer_steps(batch, context, width, heads, layers, vocab)
    parameters = sum(p.data.size for p in GPT(vocab, context, width, heads, layers).parameters())
    return interleaved({"tinytorch step": steps["tinytorch"], "PyTorch step": steps["torch"],
                        "Linear GEMMs (NumPy)": replay.linear_gemms(rng, rows, linears),
                        "attention GEMMs (NumPy)": replay.attention_gemms(rng, layers, samples, context,
                                                                          width // heads),
                        "attention softmax (NumPy)": replay.attention_softmax(rng, layers, samples, context),
                        "GELU (tinytorch's NumPy)": replay.gelu(rng, layers, rows, 4 * width),
                        "LayerNorms (NumPy)": replay.layer_norms(rng, 2 * layers + 1, rows, width),
                        "AdamW (NumPy)": replay.adamw(rng, parameters),
                        "stream (NumPy)": replay.stream(rng, layers, linears, batch, context, width, vocab)},
                       repeats)


# ---- a regression of the transformer step? --------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def _transformer_ratio(repeats: int) -> float:
    """In a child: median tinytorch / PyTorch time of the TinyGPT step, with whichever tinytorch is first on the
    path."""
    import torch  # noqa: PLC0415
    from speed_kit import bench_transformer  # noqa: PLC0415

    torch.set_num_threads(1)
    times = bench_transformer(repeats)
    return _ratio(times, "tinytorch", "torch")


def bench_regression(repeats: int, commit: str, steps: int = 6) -> dict[str, list[float]]:
    """Per-child ratios for tinytorch at ``commit`` and today's, children alternating."""
    archive = subprocess.run(["git", "archive", commit, "tinytorch"], cwd=ROOT, capture_output=True,
                             check=True).stdout
    ratios: dict[str, list[float]] = {commit: [], "today": []}
    with tempfile.TemporaryDirectory() as old:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(old, filter="data")
        for index in range(repeats):
            order = [(commit, old), ("today", None)]
            for label, path in order if index % 2 == 0 else order[::-1]:
                env = {**os.environ, "PYTHONPATH": path} if path else dict(os.environ)
                child = subprocess.run([sys.executable, __file__, "--child", "transformer", "--steps", str(steps)],
                                       env=env, capture_output=True, text=True, check=True)
                ratios[label].append(float(child.stdout.splitlines()[-1]))
    return ratios


# ---- Winograd F(2x2, 3x3) against the im2col GEMM ------------------------------------------------------------------

_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float32)
_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float32)
_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float32)


def winograd_conv3x3(x: np.ndarray, w: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """3x3 convolution, stride 1, padding 1, even H and W, by Winograd F(2x2, 3x3): 4x4 input tiles (stride 2)
    transformed by B^T d B, filters by G g G^T, 16 GEMMs (O, C) x (C, N*tiles), outputs by A^T m A."""
    n, c, h, width = x.shape
    o = w.shape[0]
    th, tw = h // 2, width // 2
    padded = np.zeros((n, c, h + 2, width + 2), dtype=x.dtype)
    padded[:, :, 1:-1, 1:-1] = x
    tiles = np.lib.stride_tricks.sliding_window_view(padded, (4, 4), axis=(2, 3))[:, :, ::2, ::2]  # N,C,th,tw,4,4
    v = np.einsum("ai,nctuij,bj->abcntu", _BT, tiles, _BT, optimize=True).reshape(16, c, n * th * tw)
    u = np.einsum("ai,ocij,bj->aboc", _G, w, _G, optimize=True).reshape(16, o, c)
    m = np.matmul(u, v).reshape(4, 4, o, n, th, tw)
    y = np.einsum("ia,abontu,jb->ontiuj", _AT, m, _AT, optimize=True).reshape(o, n, h, width)
    out = y.transpose(1, 0, 2, 3) + bias[None, :, None, None]
    return np.ascontiguousarray(out)


def bench_winograd(repeats: int, batch: int = 64) -> dict[str, list[float]]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 32, 16, 16), dtype=np.float32)
    w = rng.standard_normal((64, 32, 3, 3), dtype=np.float32) * 0.1
    b = rng.standard_normal(64, dtype=np.float32)
    reference = spatial._conv_forward(x, w, b, (1, 1), (1, 1))[0]
    np.testing.assert_allclose(winograd_conv3x3(x, w, b), reference, rtol=1e-4, atol=1e-4)
    return interleaved({"im2col GEMM (tinytorch)": lambda: spatial._conv_forward(x, w, b, (1, 1), (1, 1)),
                        "Winograd F(2x2,3x3)": lambda: winograd_conv3x3(x, w, b)}, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--only", default="gemms,transformer,transformer_gemms,gelu,regression,elementwise,winograd")
    parser.add_argument("--against", default="5bb35d1", help="the commit the regression row compares with")
    parser.add_argument("--child", choices=["tinytorch", "torch", "transformer"], help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with threadpool_limits(1):
            print(_transformer_ratio(args.steps) if args.child == "transformer" else
                  json.dumps(_step_calls(args.child, args.steps)))
        return
    summary, only = [], set(args.only.split(","))
    with threadpool_limits(1):
        print(f"threads: NumPy BLAS 1, torch 1 (set where it runs); {args.repeats} interleaved rounds")
        if "gemms" in only:
            times, layers, stages = bench_gemms(args.repeats)
            _print_times("\nCNN inference, 1 000 images, batches of 100:", times)
            print("per layer (profiler self time, one profiled run; GEMM replays interleaved):", *layers, sep="\n")
            print("NumPy floor by kind of pass (one clocked run):", *stages, sep="\n")
            summary.append(("CNN inference / its own GEMMs", _ratio(times, "forward", "its GEMMs"), "<= 1.15"))
            summary.append(("  same, ReLU(inplace=True)", _ratio(times, "forward, ReLU(inplace=True)", "its GEMMs"),
                            "<= 1.15"))
            summary.append(("  NumPy floor / its own GEMMs", _ratio(times, "NumPy floor", "its GEMMs"),
                            "<= 1.15 (reachable in NumPy?)"))
        if "transformer" in only:
            import torch  # noqa: PLC0415
            from speed_kit import bench_transformer  # noqa: PLC0415

            torch.set_num_threads(1)
            times = bench_transformer(args.repeats)
            _print_times("\nTinyGPT AdamW training step:", times)
            summary.append(("transformer step tinytorch / PyTorch", _ratio(times, "tinytorch", "torch"), "<= 0.85"))
        if "transformer_gemms" in only:
            times = bench_transformer_gemms(args.repeats)
            _print_times("\nTinyGPT step, and the NumPy work any implementation of it runs:", times)
            step, floor = statistics.median(times["PyTorch step"]), 0.0
            summary.append(("transformer step tinytorch / PyTorch", _ratio(times, "tinytorch step", "PyTorch step"),
                            "<= 0.85"))
            for label, names, share in (("Linear GEMMs", ["Linear GEMMs (NumPy)"], 1.0),
                                        ("+ half attention", ["attention GEMMs (NumPy)", "attention softmax (NumPy)"],
                                         0.5),
                                        ("+ erf GELU", ["GELU (tinytorch's NumPy)"], 1.0),
                                        ("+ LayerNorms, AdamW, stream",
                                         ["LayerNorms (NumPy)", "AdamW (NumPy)", "stream (NumPy)"], 1.0)):
                floor += share * sum(statistics.median(times[name]) for name in names)
                summary.append((f"  bound: {label} / PyTorch", floor / step, "(<= 0.85 leaves room)"))
            print(f"  the whole NumPy floor: {floor * 1e3:.1f} ms, {(floor - 0.85 * step) * 1e3:+.1f} ms from 0.85x "
                  "PyTorch")
            summary.append(("  tinytorch step / the NumPy floor", statistics.median(times["tinytorch step"]) / floor,
                            "(diagnostic: 1 = at the floor)"))
        if "gelu" in only:
            times = bench_gelu(args.repeats)
            _print_times("\nGELU (erf) forward, 8 x 256 x 512, input requiring grad:", times)
            summary.append(("GELU forward tinytorch / PyTorch", _ratio(times, "tinytorch", "torch"), "(diagnostic)"))
        if "regression" in only:
            ratios = bench_regression(max(2, args.repeats // 3), args.against)
            print(f"\nTinyGPT step, tinytorch / PyTorch per child process (tinytorch at {args.against} and today):")
            for label, values in ratios.items():
                print(f"  {label:<28}" + ", ".join(f"{v:.2f}" for v in values))
            summary.append((f"transformer step ratio, today / at {args.against}",
                            statistics.median(ratios["today"]) / statistics.median(ratios[args.against]),
                            "1.00 = no regression"))
        if "elementwise" in only:
            calls = bench_elementwise(max(3, args.repeats // 3))
            print("\nCNN training step, per call (medians: ms, minor page faults), each framework in its own process:")
            for label, ops in calls.items():
                for op, (seconds, faults) in ops.items():
                    print(f"  {label + ':':<30}{op:<14}{seconds * 1e3:8.2f} ms  {faults:6.0f} faults")
            for op in ("relu in step", "relu alone", "pool in step", "pool alone"):
                for label in ("tinytorch", "tinytorch, freed memory kept"):
                    summary.append((f"{op}: {label} / PyTorch", calls[label][op][0] / calls["torch"][op][0],
                                    "alone's ratio"))
        if "winograd" in only:
            times = bench_winograd(args.repeats)
            _print_times("\nconv2 forward (32 -> 64, 16 x 16, batch 64):", times)
            summary.append(("Winograd / im2col GEMM", _ratio(times, "Winograd F(2x2,3x3)", "im2col GEMM (tinytorch)"),
                            "< 1 would pay"))
    print("\nsummary (medians; a shared machine: compare ratios from one run only)")
    for label, value, target in summary:
        print(f"  {label:<50}{value:6.2f}x   target {target}")


if __name__ == "__main__":
    main()
