"""The speed kit's targets, measured side by side in one process with both frameworks pinned to the same threads.

Run: ``python benchmarks/speed_kit.py [--repeats N] [--quick] [--threads N] [--only kv,cnn,transformer]``.

- kv: TinyGPT (``shakespeare_gpt``) greedy generation of 512 tokens after a 64-token prompt at context 256:
  the sliding-window cache (``reencode_every=64``) against re-encoding the window for every token (the default,
  exact) - target >= 5x. Both are checked to agree on every token generated inside the context window.
- cnn: one SGD(momentum) training step of ``BaselineCNN(3, 10, 32)`` on a batch of 64 - tinytorch / PyTorch,
  target <= 1.2 (goal 1.0).
- transformer: one AdamW training step of TinyGPT (4 layers, d_model 128, context 256) on 8 windows of 256 tokens -
  tinytorch / PyTorch, target <= 1.0.

Threads: ``threadpoolctl`` limits NumPy's BLAS and ``torch.set_num_threads`` PyTorch (one each by default). Rounds
interleave the contenders, rotating which goes first; medians are reported with the spread (min-max).
"""
from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

import tinytorch as tt
from tinytorch import nn
from tinytorch.models import GPT, BaselineCNN, torch_twins

from interleave import interleaved  # benchmarks/interleave.py, beside this script

def bench_kv(repeats: int) -> tuple[dict[str, list[float]], str]:
    from tinytorch.models import pretrained  # noqa: PLC0415

    model = pretrained("shakespeare_gpt")
    prompt = (np.arange(64) % model.head.weight.shape[0])[None, :]
    new, inside = 512, model.context_length - 64
    exact = model.generate(prompt, new, temperature=0).data
    sliding = model.generate(prompt, new, temperature=0, reencode_every=64).data
    same_inside = np.array_equal(exact[:, :64 + inside], sliding[:, :64 + inside])
    note = (f"prompt 64, {new} new tokens, context {model.context_length}; tokens equal inside the window: "
            f"{same_inside}; past it {np.mean(exact[:, 64 + inside:] == sliding[:, 64 + inside:]):.0%} equal")
    timers = {"re-encode every token": lambda: model.generate(prompt, new, temperature=0),
              "sliding (reencode_every=64)": lambda: model.generate(prompt, new, temperature=0, reencode_every=64)}
    return interleaved(timers, repeats, warmup=0), note


def bench_cnn(repeats: int, batch: int = 64) -> dict[str, list[float]]:
    tt.manual_seed(0)
    model = BaselineCNN(3, 10, 32)
    twin = torch_twins.load_into_torch(torch_twins.torch_baseline_cnn(3, 10, 32), model.state_dict()).train()
    rng = np.random.default_rng(0)
    x = rng.random((batch, 3, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    return interleaved(_train_steps(model, twin, x, y, lambda p: tt.optim.SGD(p, lr=0.01, momentum=0.9),
                                    lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)), repeats)


def bench_transformer(repeats: int, batch: int = 8, context: int = 256) -> dict[str, list[float]]:
    return interleaved(transformer_steps(batch, context), repeats)


def transformer_steps(batch: int = 8, context: int = 256, width: int = 128, heads: int = 4, layers: int = 4,
                      vocab: int = 65) -> dict[str, Callable[[], None]]:
    """The TinyGPT AdamW training step of each framework ("tinytorch", "torch"), same data and start weights."""
    tt.manual_seed(0)
    model = GPT(vocab, context, width, heads, layers)
    twin = torch_twins.load_into_torch(torch_twins.torch_gpt(vocab, context, width, heads, layers),
                                       model.state_dict()).train()
    rng = np.random.default_rng(0)
    x = rng.integers(0, vocab, (batch, context))
    y = rng.integers(0, vocab, (batch, context)).reshape(-1)
    return _train_steps(model, twin, x, y, lambda p: tt.optim.AdamW(p, lr=1e-3),
                        lambda p: torch.optim.AdamW(p, lr=1e-3), flatten=True)


def _train_steps(model, twin, x: np.ndarray, y: np.ndarray, make_opt, make_torch_opt,
                 flatten: bool = False) -> dict[str, Callable[[], None]]:
    """One forward + backward + optimizer step per call, same data and start weights in both frameworks."""
    opt, torch_opt = make_opt(model.parameters()), make_torch_opt(twin.parameters())
    loss_fn, torch_loss_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    inputs = x if x.dtype == np.int64 else tt.from_numpy(x)
    targets, torch_x, torch_y = tt.from_numpy(y), torch.from_numpy(x), torch.from_numpy(y)

    def step_tt() -> None:
        out = model(inputs)
        loss = loss_fn(out.reshape(-1, out.shape[-1]) if flatten else out, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def step_torch() -> None:
        out = twin(torch_x)
        loss = torch_loss_fn(out.reshape(-1, out.shape[-1]) if flatten else out, torch_y)
        torch_opt.zero_grad()
        loss.backward()
        torch_opt.step()

    return {"tinytorch": step_tt, "torch": step_torch}


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:9.1f} ms  [{min(values) * 1e3:.1f}-{max(values) * 1e3:.1f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="interleaved rounds for the training steps")
    parser.add_argument("--kv-repeats", type=int, default=3, help="rounds for the KV row (a slow baseline: ~10 s)")
    parser.add_argument("--quick", action="store_true", help="3 rounds, 1 KV round: a smoke run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", default="kv,cnn,transformer")
    args = parser.parse_args()
    repeats, kv_repeats = (3, 1) if args.quick else (args.repeats, args.kv_repeats)
    torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads):
        blas = ", ".join(f"{i['internal_api']}={i['num_threads']}" for i in threadpool_info())
        print(f"threads: NumPy BLAS {blas}; torch {torch.get_num_threads()}; numpy {np.__version__}, "
              f"torch {torch.__version__}")
        rows = []
        if "kv" in args.only:
            kv, note = bench_kv(kv_repeats)
            (slow, slow_s), (fast, fast_s) = kv.items()
            print(f"\nKV cache ({kv_repeats} rounds): {note}")
            print(f"  {slow:<30}{_summary(slow_s)}\n  {fast:<30}{_summary(fast_s)}")
            rows.append(("sliding KV cache speedup", statistics.median(slow_s) / statistics.median(fast_s), ">= 5x"))
        for name, bench, target in (("cnn", bench_cnn, "<= 1.2 (goal 1.0)"), ("transformer", bench_transformer,
                                                                            "<= 1.0")):
            if name not in args.only:
                continue
            times = bench(repeats)
            print(f"\n{name} training step ({repeats} interleaved rounds):")
            for contender, values in times.items():
                print(f"  {contender:<30}{_summary(values)}")
            ratio = statistics.median(times["tinytorch"]) / statistics.median(times["torch"])
            rows.append((f"{name} train step tinytorch/PyTorch", ratio, target))
    print("\nsummary (medians)")
    for label, value, target in rows:
        print(f"  {label:<40}{value:6.2f}x   target {target}")


if __name__ == "__main__":
    main()
