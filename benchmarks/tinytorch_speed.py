"""tinytorch vs PyTorch, side by side in one process: CNN inference, MLP training epoch, TinyGPT generation.

Run: ``python benchmarks/tinytorch_speed.py [--repeats N] [--quick] [--threads N]``. Each row times the same work
with the same weights in both frameworks, interleaving the two (alternating which goes first) and reporting medians,
because this machine is noisy and shared. Thread counts are each library's default unless ``--threads N`` pins both
(OpenBLAS/OpenMP env vars, set before NumPy and PyTorch load, plus ``torch.set_num_threads``); they are printed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
if "--threads" in sys.argv[:-1]:  # must happen before NumPy's BLAS and PyTorch start their thread pools
    for _var in THREAD_ENV_VARS:
        os.environ[_var] = sys.argv[sys.argv.index("--threads") + 1]

import numpy as np  # noqa: E402
import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import tinytorch as tt  # noqa: E402
from tinytorch import nn  # noqa: E402
from tinytorch.models import GPT, MLP, BaselineCNN  # noqa: E402
from tinytorch.models import torch_twins  # noqa: E402

from interleave import Timer, interleaved as interleaved_samples  # noqa: E402  (benchmarks/interleave.py)

console = Console(width=132)


def interleaved(timers: dict[str, Timer], repeats: int, warmup: int = 1) -> dict[str, float]:
    """Median seconds of each timer over ``repeats`` interleaved rounds."""
    return {name: statistics.median(values) for name, values in interleaved_samples(timers, repeats, warmup).items()}


def thread_report() -> str:
    """Thread counts each side uses (both left at their defaults)."""
    env = {k: os.environ[k] for k in THREAD_ENV_VARS if k in os.environ}
    try:
        from threadpoolctl import threadpool_info  # noqa: PLC0415  (optional)
        blas = ", ".join(f"{i['internal_api']}={i['num_threads']}" for i in threadpool_info())
    except ImportError:
        blas = "threadpoolctl not installed (NumPy BLAS threads: library default)"
    return (f"torch intra-op threads={torch.get_num_threads()}  numpy BLAS: {blas}  "
            f"cpu_count={os.cpu_count()}  env={env or 'unset'}")


def gemm_gflops(size: int, repeats: int) -> float:
    """This machine's NumPy float32 GEMM throughput (median) on a size x size matmul."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    seconds = interleaved({"gemm": lambda: np.matmul(a, b)}, repeats)["gemm"]
    return 2 * size ** 3 / seconds / 1e9


def cnn_flops(in_channels: int, image_size: int, num_classes: int = 10) -> int:
    """Multiply-add FLOPs (2 per MAC) of one BaselineCNN forward for one image: conv + FC layers."""
    s1, s2 = image_size, image_size // 2
    conv1 = 2 * 32 * in_channels * 9 * s1 * s1
    conv2 = 2 * 64 * 32 * 9 * s2 * s2
    fc = 2 * (64 * (image_size // 4) ** 2 * 128 + 128 * num_classes)
    return conv1 + conv2 + fc


def bench_cnn(images: int, batch: int, repeats: int) -> dict[str, float]:
    """Baseline CIFAR CNN inference on ``images`` random 3x32x32 inputs, in batches of ``batch``."""
    tt.manual_seed(0)
    model = BaselineCNN(3, 10, 32).eval()
    twin = torch_twins.load_into_torch(torch_twins.torch_baseline_cnn(3, 10, 32), model.state_dict())
    data = np.random.default_rng(0).random((images, 3, 32, 32), dtype=np.float32)
    torch_data = torch.from_numpy(data)

    def run_tt() -> None:
        with tt.no_grad():
            for start in range(0, images, batch):
                model(tt.from_numpy(data[start:start + batch]))

    def run_torch() -> None:
        with torch.inference_mode():
            for start in range(0, images, batch):
                twin(torch_data[start:start + batch])

    np.testing.assert_allclose(_tt_logits(model, data[:8]), twin(torch_data[:8]).detach().numpy(),
                               rtol=1e-3, atol=1e-4)
    return interleaved({"tinytorch": run_tt, "torch": run_torch}, repeats)


def _tt_logits(model: nn.Module, x: np.ndarray) -> np.ndarray:
    with tt.no_grad():
        return model(tt.from_numpy(x)).data


def bench_mlp_epoch(batch: int, lr: float, repeats: int) -> tuple[dict[str, float], int]:
    """One SGD(momentum) epoch of the MNIST MLP on the bundled subset; same batches, same start weights."""
    from tinytorch.data import bundled_mnist, to_float_images  # noqa: PLC0415

    images, labels = bundled_mnist("train")
    x = to_float_images(images).reshape(len(images), -1)
    y = labels.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))
    batches = [(x[order[i:i + batch]], y[order[i:i + batch]]) for i in range(0, len(x), batch)]
    torch_batches = [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in batches]
    tt.manual_seed(0)
    model = MLP()
    twin = torch_twins.load_into_torch(torch_twins.torch_mlp(), model.state_dict()).train()
    tt_opt = tt.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    torch_opt = torch.optim.SGD(twin.parameters(), lr=lr, momentum=0.9)
    tt_loss, torch_loss = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()

    def run_tt() -> None:
        for a, b in batches:
            loss = tt_loss(model(tt.from_numpy(a)), tt.from_numpy(b))
            tt_opt.zero_grad()
            loss.backward()
            tt_opt.step()

    def run_torch() -> None:
        for a, b in torch_batches:
            loss = torch_loss(twin(a), b)
            torch_opt.zero_grad()
            loss.backward()
            torch_opt.step()

    return interleaved({"tinytorch": run_tt, "torch": run_torch}, repeats), len(x)


def gpt_for_bench() -> tuple[GPT, str]:
    """The committed Shakespeare GPT if present, else the same architecture freshly initialised."""
    try:
        from tinytorch.models import pretrained  # noqa: PLC0415

        return pretrained("shakespeare_gpt"), "pretrained shakespeare_gpt"
    except (FileNotFoundError, ImportError, KeyError, ValueError):
        from tinytorch.data import shakespeare_tokenizer  # noqa: PLC0415

        tt.manual_seed(0)
        vocab = shakespeare_tokenizer().vocab_size
        return GPT(vocab, 256, 128, 4, 4).eval(), f"random init ({vocab}-char vocab)"


def bench_gpt(new_tokens: int, repeats: int) -> tuple[dict[str, float], str]:
    """Greedy generation of ``new_tokens`` from a 1-token prompt: tinytorch with/without cache, torch with cache."""
    model, origin = gpt_for_bench()
    vocab, d_model = model.head.weight.shape
    twin = torch_twins.load_into_torch(
        torch_twins.torch_gpt(vocab, model.context_length, d_model, model.n_heads, len(model.blocks)),
        model.state_dict())
    prompt = np.zeros((1, 1), dtype=np.int64)
    cached = model.generate(prompt, new_tokens, temperature=0).data
    uncached = model.generate(prompt, new_tokens, temperature=0, use_kv_cache=False).data
    reference = twin.generate(torch.from_numpy(prompt), new_tokens).numpy()
    agree = (f"tokens equal: cache == no-cache {np.array_equal(cached, uncached)}, "
             f"tinytorch == torch {np.array_equal(cached, reference)}")
    timers = {
        "tinytorch kv": lambda: model.generate(prompt, new_tokens, temperature=0),
        "torch kv": lambda: twin.generate(torch.from_numpy(prompt), new_tokens),
    }
    times = interleaved(timers, repeats)
    times["tinytorch no-cache"] = interleaved(
        {"nc": lambda: model.generate(prompt, new_tokens, temperature=0, use_kv_cache=False)},
        max(1, repeats // 3), warmup=0)["nc"]
    return times, f"{origin}; {agree}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds per row (median reported)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (3) for a smoke run")
    parser.add_argument("--cnn-images", type=int, default=1000)
    parser.add_argument("--cnn-batch", type=int, default=100)
    parser.add_argument("--mlp-batch", type=int, default=64)
    parser.add_argument("--gpt-tokens", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None, help="pin both frameworks to N threads")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    repeats = 3 if args.quick else args.repeats
    console.print(f"[bold]threads[/bold]: {thread_report()}")

    gemm = gemm_gflops(2048, repeats)
    cnn = bench_cnn(args.cnn_images, args.cnn_batch, repeats)
    cnn_gflops = cnn_flops(3, 32) * args.cnn_images / cnn["tinytorch"] / 1e9
    mlp, mlp_examples = bench_mlp_epoch(args.mlp_batch, 0.05, repeats)
    gpt, gpt_note = bench_gpt(args.gpt_tokens, repeats)

    table = Table(title=f"tinytorch vs PyTorch (medians of {repeats} interleaved rounds)")
    for column in ("workload", "tinytorch s", "PyTorch s", "ratio tt/torch", "goal", "floor"):
        table.add_column(column, justify="left" if column == "workload" else "right")
    rows = [
        (f"BaselineCNN inference, {args.cnn_images} x 3x32x32", cnn["tinytorch"], cnn["torch"], "<= 1.0", "<= 1.5"),
        (f"MLP train epoch, {mlp_examples} bundled MNIST", mlp["tinytorch"], mlp["torch"], "", "<= 1.5"),
        (f"TinyGPT {args.gpt_tokens} tokens, KV cache", gpt["tinytorch kv"], gpt["torch kv"], "", "<= 1.5"),
    ]
    for name, ours, theirs, goal, floor in rows:
        table.add_row(name, f"{ours:.3f}", f"{theirs:.3f}", f"{ours / theirs:.2f}", goal, floor)
    no_cache = gpt["tinytorch no-cache"]
    table.add_row(f"TinyGPT {args.gpt_tokens} tokens, tinytorch no cache / KV cache", f"{no_cache:.3f}", "",
                  f"{no_cache / gpt['tinytorch kv']:.1f}x", "", ">= 5x")
    console.print(table)
    torch_gflops = cnn_flops(3, 32) * args.cnn_images / cnn["torch"] / 1e9
    console.print(f"CNN batches of {args.cnn_batch}, no autograd; MLP batch {args.mlp_batch}, SGD(lr 0.05, "
                  f"momentum 0.9), same batch order; TinyGPT greedy from a 1-token prompt.")
    console.print(f"NumPy float32 GEMM 2048^3: {gemm:.1f} GFLOP/s.  "
                  f"BaselineCNN ({cnn_flops(3, 32) / 1e6:.2f} MFLOP/image): "
                  f"tinytorch {cnn_gflops:.1f} GFLOP/s = {cnn_gflops / gemm:.0%} of GEMM peak; "
                  f"PyTorch {torch_gflops:.1f} GFLOP/s = {torch_gflops / gemm:.0%}")
    console.print(f"TinyGPT: {gpt_note}")


if __name__ == "__main__":
    main()
