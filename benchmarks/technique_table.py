"""The measured technique table: what each optimization technique buys on NumPy CPU, from one command.

    python benchmarks/technique_table.py                  # prints the markdown table
    python benchmarks/technique_table.py --docs           # also rewrites it in docs/techniques.md (between markers)

CNN rows: the pretrained mnist_cnn on the 1 000 bundled MNIST test images in batches of 100 (cnn_marathon_offline's
protocol). Kernel row: conv2 of mnist_cnn (32 -> 64, 14 x 14, batch 100) by Winograd F(2x2, 3x3) in NumPy against
tinytorch's im2col GEMM (benchmarks/floor.py). GPT row: shakespeare_gpt generating 256 tokens after a 64-token prompt
(transformer_decathlon's protocol). Training rows (MLP Sprint offline): the reference MLP trained from scratch on the
4 000 bundled training images until it first reaches 92 % on the 1 000 test images (evaluated after every epoch,
timed like the harness does), seed = round number, against the baseline's recipe (SGD lr 0.05, momentum 0.9, batch 64);
compression is 1.00x (same model) and the accuracy change is at the epoch each first reached the target.
One BLAS thread. Speedup: every round times the baseline and the variant back to back in random order; the table
gives the median of the per-round ratios (baseline time / variant time) with a 95 % bootstrap interval, and calls it
a tie when the interval contains 1. Compression: bytes of the baseline's .npz over the bytes of the variant's .npz as
it would ship (tinytorch.save, or save_sparse for pruned weights). Accuracy change: points on the 1 000 test images.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

import tinytorch as tt
from competition.measure.stats import median_ci
from tinytorch import nn
from tinytorch.atomic import write_atomic
from tinytorch.competition import load_entry, optimize_closed_division
from tinytorch.data.bundled import bundled_mnist, shakespeare_text, shakespeare_tokenizer
from tinytorch.data import DataLoader, TensorDataset
from tinytorch.models import MLP, pretrained
from tinytorch.nn import spatial
from tinytorch.nn.utils.sparse import save_sparse
from tinytorch.quantization import (MinMaxObserver, QConfig, default_dynamic_qconfig, float16_dynamic_qconfig,
                                    per_tensor_affine, quantize_dynamic)

from floor import winograd_conv3x3  # benchmarks/floor.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "techniques.md"
START, END = "<!-- technique-table:start -->", "<!-- technique-table:end -->"
BATCH = 100
COMMAND = "python benchmarks/technique_table.py"
PER_TENSOR_AFFINE = QConfig(default_dynamic_qconfig.activation,
                            MinMaxObserver.with_args(dtype=tt.qint8, qscheme=per_tensor_affine))


def mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = bundled_mnist(split)
    return images[:, None].astype(np.float32) / 255.0, labels


def classify(model: nn.Module, images: np.ndarray) -> np.ndarray:
    with tt.no_grad():
        return np.concatenate([model(tt.from_numpy(images[i:i + BATCH])).numpy() for i in range(0, len(images), BATCH)])


def speedup(baseline: Callable[..., object], variant: Callable[..., object], rounds: int,
            with_round: bool = False) -> str:
    """'1.02x [0.97-1.06] tie' from interleaved rounds (median ratio, 95 % bootstrap CI); ``with_round``: both are
    called with the round number (a training seed), without a warm-up."""
    if not with_round:
        baseline(), variant()  # warm-up
    ratios = []
    for index in range(rounds):
        timed = {}
        for label, run in random.sample([("b", baseline), ("v", variant)], 2):
            start = time.perf_counter()
            run(*([index] if with_round else []))
            timed[label] = time.perf_counter() - start
        ratios.append(timed["b"] / timed["v"])
    mid, lo, hi = median_ci(ratios)
    verdict = "faster" if lo > 1 else "slower" if hi < 1 else "tie"
    return f"{mid:.2f}x [{lo:.2f}-{hi:.2f}] {verdict}"


def shipped_bytes(model: nn.Module, sparse: bool = False) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "weights.npz"
        save_sparse(model.state_dict(), path) if sparse else tt.save(model.state_dict(), path)
        return path.stat().st_size


def load_student() -> nn.Module:
    """The distilled student of submissions/distilled-cnn (built by scripts/build_entrants.py), via its model.py."""
    folder = ROOT / "submissions" / "distilled-cnn"
    spec = importlib.util.spec_from_file_location("distilled_cnn_model", folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return load_entry(module.RECIPE, str(folder / "mnist_cnn.npz"))


def cnn_rows(rounds: int, fine_tune_epochs: int) -> list[list[str]]:
    images, labels = mnist("test")
    train = mnist("train")
    base = pretrained("mnist_cnn")
    base_bytes = (ROOT / "submissions" / "baseline" / "mnist_cnn.npz").stat().st_size
    base_acc = float((classify(base, images).argmax(1) == labels).mean())

    def row(name: str, model: nn.Module, how: str, sparse: bool = False, shipped: int | None = None) -> list[str]:
        """`shipped`: the bytes that ship when they are not `model`'s own state_dict (dequantized at load)."""
        print(f"  measuring {name}", file=sys.stderr, flush=True)
        acc = float((classify(model, images).argmax(1) == labels).mean())
        return [name, how, speedup(lambda: classify(base, images), lambda: classify(model, images), rounds),
                f"{base_bytes / (shipped or shipped_bytes(model, sparse)):.2f}x", f"{100 * (acc - base_acc):+.1f}"]

    int8 = quantize_dynamic(base, {nn.Linear, nn.Conv2d}, dtype=np.int8)
    int8_at_load = optimize_closed_division(base, ["quantization"])
    with tempfile.TemporaryDirectory() as tmp:
        tt.save(int8_at_load.state_dict(), Path(tmp) / "w.npz")
        dequantized = load_entry(int8_at_load.recipe, str(Path(tmp) / "w.npz"))
    rows = [
        row("INT8 (dynamic)", int8, "`quantize_dynamic`, Conv2d+Linear, per-channel; activations quantized per call"),
        row("INT8 (weights only)", dequantized, "INT8 shipped, dequantized once at load (the int8-cnn entrant)",
            shipped=shipped_bytes(int8_at_load)),
        row("INT4 (dynamic)", quantize_dynamic(base, {nn.Linear, nn.Conv2d}, dtype="int4"),
            "packed INT4, per-channel"),
        row("90 % unstructured pruning", optimize_closed_division(base, ["pruning"], amount=0.9, fine_tune=train,
                                                                   fine_tune_epochs=fine_tune_epochs),
            f"L1 per layer, {fine_tune_epochs} epoch fine-tune, sparse .npz (dense compute)", sparse=True),
        row("90 % pruning + INT8", optimize_closed_division(base, ["pruning", "quantization"], amount=0.9,
                                                            fine_tune=train, fine_tune_epochs=fine_tune_epochs),
            "as above, then INT8 codes stored sparse (bitmask + nonzero codes)", sparse=True),
        row("50 % structured pruning + shrink",
            optimize_closed_division(base, ["structured_pruning"], amount=0.5, fine_tune=train,
                                     fine_tune_epochs=fine_tune_epochs),
            f"L2 channels of conv1, conv2, fc1, {fine_tune_epochs} epoch fine-tune, shrink 32-64-128 -> 16-32-64"),
        row("Fusion", optimize_closed_division(base, ["fusion"]), "Conv2d+ReLU, Linear+ReLU (`fuse_modules`)"),
        row("INT8 per tensor (dynamic)", quantize_dynamic(base, {nn.Linear: default_dynamic_qconfig,
                                                                 nn.Conv2d: default_dynamic_qconfig}),
            "`default_dynamic_qconfig` (PyTorch's default): one scale per weight tensor"),
        row("INT8 per tensor, affine", quantize_dynamic(base, dict.fromkeys((nn.Linear, nn.Conv2d), PER_TENSOR_AFFINE)),
            "`MinMaxObserver.with_args(dtype=tt.qint8, qscheme=per_tensor_affine)`: scale + zero point per tensor"),
        row("float16 weights (dynamic)", quantize_dynamic(base, {nn.Linear: float16_dynamic_qconfig,
                                                                 nn.Conv2d: float16_dynamic_qconfig}),
            "`float16_dynamic_qconfig`: float16 storage, float32 compute (cast per call)"),
    ]
    if (ROOT / "submissions" / "distilled-cnn" / "model.py").is_file():
        rows.append(row("Distillation", load_student(), "student 16-32-64 trained on the teacher's soft targets "
                                                        "(distilled-cnn; open division)"))
    return rows


def winograd_row(rounds: int) -> list[str]:
    """conv2 of mnist_cnn as Winograd F(2x2, 3x3) in NumPy against tinytorch's im2col GEMM, same inputs."""
    print("  measuring Winograd F(2x2, 3x3) on conv2", file=sys.stderr, flush=True)
    conv = pretrained("mnist_cnn").features[3]
    x = np.random.default_rng(0).random((BATCH, 32, 14, 14), dtype=np.float32)
    w, b = conv.weight.data, conv.bias.data
    exact = spatial._conv_forward(x, w, b, (1, 1), (1, 1))[0]
    error = float(np.abs(winograd_conv3x3(x, w, b) - exact).max() / np.abs(exact).max())
    return ["Winograd F(2x2, 3x3) conv2", "16 GEMMs of (64, 32) x (32, tiles) instead of 36 multiplies per output "
            "quad; transforms as NumPy passes (benchmarks/floor.py)",
            speedup(lambda: spatial._conv_forward(x, w, b, (1, 1), (1, 1)), lambda: winograd_conv3x3(x, w, b), rounds),
            "1.00x", f"outputs within {error:.0e} of the largest"]


TARGET = 0.92  # mlp_sprint_offline
Recipe = Callable[[list, int], tuple]  # (parameters, batches per epoch) -> (optimizer, schedule or None, smoothing)
sched = tt.optim.lr_scheduler


def _warmup_cosine(params: list, batches: int) -> tuple:
    optimizer = tt.optim.SGD(params, lr=0.1, momentum=0.9)
    warmup = batches // 2
    return optimizer, sched.SequentialLR(optimizer, [sched.LinearLR(optimizer, start_factor=0.1, total_iters=warmup),
                                                     sched.CosineAnnealingLR(optimizer, T_max=3 * batches - warmup,
                                                                             eta_min=0.005)],
                                         milestones=[warmup]), 0.0


def _one_cycle(optimizer, batches: int, max_lr: float):
    return sched.OneCycleLR(optimizer, max_lr=max_lr, epochs=3, steps_per_epoch=batches, final_div_factor=1.0)


RECIPES: dict[str, Recipe] = {
    "baseline": lambda p, n: (tt.optim.SGD(p, lr=0.05, momentum=0.9), None, 0.0),
    "adamw": lambda p, n: (tt.optim.AdamW(p, lr=1e-3), None, 0.0),
    "label-smoothing": lambda p, n: (tt.optim.SGD(p, lr=0.05, momentum=0.9), None, 0.1),
    "warmup-cosine": _warmup_cosine,
    "onecycle-sgd": lambda p, n: (opt := tt.optim.SGD(p, lr=0.2, momentum=0.9), _one_cycle(opt, n, 0.2), 0.0),
    "onecycle-mlp": lambda p, n: (opt := tt.optim.AdamW(p, lr=0.01), _one_cycle(opt, n, 0.01), 0.1),
}


def time_to_target(recipe: str, seed: int, max_epochs: int = 20) -> tuple[int, float]:
    """(epochs, accuracy) when the MLP trained by ``recipe`` first reaches TARGET on the bundled test images. A
    schedule is stepped every batch until its cycle ends (it then stays at its last rate)."""
    images, labels = mnist("train")
    test, test_labels = mnist("test")
    tt.manual_seed(seed)
    model = MLP(784, (128, 64), 10)
    loader = DataLoader(TensorDataset(images, labels), batch_size=64, shuffle=True, seed=seed)
    optimizer, schedule, smoothing = RECIPES[recipe](list(model.parameters()), len(loader))
    cycle = 3 * len(loader)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=smoothing)
    accuracy, steps = 0.0, 0
    for epoch in range(1, max_epochs + 1):
        for batch_images, batch_labels in loader:
            optimizer.zero_grad()
            loss_fn(model(batch_images), batch_labels).backward()
            optimizer.step()
            steps += 1
            if schedule is not None and steps <= cycle:
                schedule.step()
        accuracy = float((classify(model, test).argmax(1) == test_labels).mean())
        if accuracy >= TARGET:
            return epoch, accuracy
    return max_epochs, accuracy


TRAINING_ROWS = (
    ("adamw", "AdamW", "`AdamW(lr=1e-3)` (decoupled weight decay 0.01), constant rate"),
    ("label-smoothing", "Label smoothing", "the baseline's SGD with `CrossEntropyLoss(label_smoothing=0.1)`"),
    ("warmup-cosine", "Warm-up + cosine (SGD)", "`SequentialLR([LinearLR(start_factor=0.1), CosineAnnealingLR])`, "
                                                "half an epoch of warm-up to 0.1, cosine to 0.005 at 3 epochs"),
    ("onecycle-sgd", "OneCycleLR (SGD)", "`OneCycleLR(max_lr=0.2)` over 3 epochs, stepped per batch; momentum cycling "
                                         "0.95-0.85"),
    ("onecycle-mlp", "OneCycleLR + AdamW + label smoothing", "the onecycle-mlp entrant: `AdamW`, "
                                                             "`OneCycleLR(max_lr=0.01)` over 3 epochs, "
                                                             "`label_smoothing=0.1`"),
)


def training_rows(rounds: int) -> list[list[str]]:
    rows = []
    for recipe, name, how in TRAINING_ROWS:
        print(f"  measuring {name} (MLP Sprint)", file=sys.stderr, flush=True)
        reached: dict[str, list[tuple[int, float]]] = {"b": [], "v": []}
        ratio = speedup(lambda seed: reached["b"].append(time_to_target("baseline", seed)),
                        lambda seed: reached["v"].append(time_to_target(recipe, seed)), rounds, with_round=True)
        mine, base = (np.median([epochs for epochs, _ in reached[k]]) for k in ("v", "b"))
        change = 100 * (np.median([a for _, a in reached["v"]]) - np.median([a for _, a in reached["b"]]))
        rows.append([f"{name} (MLP Sprint)", how, f"{ratio} to 92 % ({mine:.0f} vs {base:.0f} epochs)", "1.00x",
                     f"{change:+.1f}"])
    return rows


def gpt_row(rounds: int, reencode_every: int = 128) -> list[str]:
    """Sliding KV cache vs re-encoding the window for every token past the context (the baseline's generate)."""
    print("  measuring the sliding KV cache", file=sys.stderr, flush=True)
    gpt = pretrained("shakespeare_gpt")
    tokens = np.asarray(shakespeare_tokenizer().encode(shakespeare_text("validation")[:5000]))
    prompt = tokens[None, :64]

    def generate(every: int | None) -> np.ndarray:
        return gpt.generate(prompt, 256, temperature=0.0, use_kv_cache=True, reencode_every=every).numpy()

    full, sliding = generate(None), generate(reencode_every)
    same = float((full[0, 64:] == sliding[0, 64:]).mean())
    return ["Sliding KV cache", f"`GPT.generate(reencode_every={reencode_every})`, 64 + 256 tokens",
            speedup(lambda: generate(None), lambda: generate(reencode_every), max(3, rounds // 3)), "1.00x",
            f"ppl unchanged (same forward); {same:.0%} of tokens equal full re-encoding"]


def table(rounds: int, fine_tune_epochs: int) -> str:
    with threadpool_limits(limits=1):
        rows = (cnn_rows(rounds, fine_tune_epochs) + [winograd_row(rounds), gpt_row(rounds)]
                + training_rows(max(5, rounds // 2)))
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = (f"Measured {when} with `{COMMAND} --rounds {rounds}` on {platform.processor() or platform.machine()}, "
            f"NumPy {np.__version__}, one BLAS thread, {rounds} interleaved rounds per row (machine shared, so "
            "intervals are wide).\n\n")
    lines = ["| Technique | What | Speedup [95 % CI] | Compression (shipped bytes) | Accuracy change (points) |",
             "|---|---|---|---|---|"] + ["| " + " | ".join(r) + " |" for r in rows]
    return head + "\n".join(lines) + "\n"


def update_docs(markdown: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{DOCS}: no {START} ... {END} markers to put the table between")
    before, rest = text.split(START, 1)
    write_atomic(DOCS, before + START + "\n" + markdown + END + rest.split(END, 1)[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved timing rounds per CNN row")
    parser.add_argument("--fine-tune-epochs", type=int, default=1)
    parser.add_argument("--docs", action="store_true", help=f"rewrite the table in {DOCS.relative_to(ROOT)}")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    random.seed(args.seed)
    markdown = table(args.rounds, args.fine_tune_epochs)
    print(markdown)
    if args.docs:
        update_docs(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
