"""The measured technique table: what each optimization technique buys on NumPy CPU, from one command.

    python benchmarks/technique_table.py                  # prints the markdown table
    python benchmarks/technique_table.py --docs           # also rewrites it in docs/students.md (between markers)

CNN rows: the pretrained mnist_cnn on the 1 000 bundled MNIST test images in batches of 100 (cnn_marathon_offline's
protocol). GPT row: shakespeare_gpt generating 256 tokens after a 64-token prompt (transformer_decathlon's protocol).
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
from tinytorch.models import pretrained
from tinytorch.nn.utils.sparse import save_sparse
from tinytorch.quantization import quantize_dynamic

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "students.md"
START, END = "<!-- technique-table:start -->", "<!-- technique-table:end -->"
BATCH = 100
COMMAND = "python benchmarks/technique_table.py"


def mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = bundled_mnist(split)
    return images[:, None].astype(np.float32) / 255.0, labels


def classify(model: nn.Module, images: np.ndarray) -> np.ndarray:
    with tt.no_grad():
        return np.concatenate([model(tt.from_numpy(images[i:i + BATCH])).numpy() for i in range(0, len(images), BATCH)])


def speedup(baseline: Callable[[], object], variant: Callable[[], object], rounds: int) -> str:
    """'1.02x [0.97-1.06] tie' from interleaved rounds (median ratio, 95 % bootstrap CI)."""
    baseline(), variant()  # warm-up
    ratios = []
    for _ in range(rounds):
        timed = {}
        for label, run in random.sample([("b", baseline), ("v", variant)], 2):
            start = time.perf_counter()
            run()
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
    ]
    if (ROOT / "submissions" / "distilled-cnn" / "model.py").is_file():
        rows.append(row("Distillation", load_student(), "student 16-32-64 trained on the teacher's soft targets "
                                                        "(distilled-cnn; open division)"))
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
        rows = cnn_rows(rounds, fine_tune_epochs) + [gpt_row(rounds)]
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
