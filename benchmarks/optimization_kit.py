"""What each optimization-kit technique buys on NumPy CPU, measured side by side in one run.

Run: ``python benchmarks/optimization_kit.py [--repeats N] [--threads N] [--finetune-epochs N] [--json PATH]``.
On the pretrained ``mnist_cnn`` and the bundled MNIST test split (1 000 digits) it measures, against the float32
model: INT8 / INT4 quantization (bytes, accuracy, speed), 50 % structured channel pruning + fine-tune + shrink
(speed, accuracy), 90 % unstructured pruning + sparse checkpoint (bytes), Conv2d+ReLU fusion (speed) and
distillation of the CNN into a small MLP (accuracy vs. the same MLP trained on labels alone).

Speed: every round runs the baseline and the variant back to back (alternating which goes first) on the same
1 000 images (batches of 250, no autograd); the speedup is the median of the per-round ratios, with a 95 % bootstrap
interval. Bytes are the state dict's array payload and the ``.npz`` file actually written. Targets (issue 10) are
printed next to each number with "met" / "MISSED"; every number is measured, none is assumed.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
if "--threads" in sys.argv[:-1]:  # before NumPy's BLAS starts its thread pool
    for _var in THREAD_ENV_VARS:
        os.environ[_var] = sys.argv[sys.argv.index("--threads") + 1]

import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.quantization as tq  # noqa: E402
from tinytorch import nn  # noqa: E402
from tinytorch.atomic import atomic_open  # noqa: E402
from tinytorch.data import DataLoader, TensorDataset, bundled_mnist, to_float_images  # noqa: E402
from tinytorch.distill import distill  # noqa: E402
from tinytorch.models import MLP  # noqa: E402
from tinytorch.nn.intrinsic import ConvReLU2d  # noqa: E402
from tinytorch.nn.utils import prune, save_sparse  # noqa: E402

BATCH = 250


def predict(model: nn.Module, images: np.ndarray) -> np.ndarray:
    with tt.no_grad():
        return np.concatenate([model(tt.tensor(images[s:s + BATCH])).data for s in range(0, len(images), BATCH)])


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    model.eval()
    return float((predict(model, images).argmax(1) == labels).mean())


def speedup(baseline: Callable[[], Any], variant: Callable[[], Any], repeats: int) -> dict[str, float]:
    """Median of per-round time ratios baseline / variant, with a 95 % bootstrap interval of that median."""
    baseline(), variant()  # warm-up
    ratios = []
    for round_index in range(repeats):
        times = {}
        for name, run in ((("b", baseline), ("v", variant)) if round_index % 2 == 0 else
                          (("v", variant), ("b", baseline))):
            started = time.perf_counter()
            run()
            times[name] = time.perf_counter() - started
        ratios.append(times["b"] / times["v"])
    resampled = np.median(np.random.default_rng(0).choice(ratios, (2000, len(ratios))), axis=1)
    return {"speedup": float(np.median(ratios)), "ci_low": float(np.percentile(resampled, 2.5)),
            "ci_high": float(np.percentile(resampled, 97.5)), "rounds": repeats}


def state_bytes(model: nn.Module) -> int:
    return sum(value.data.nbytes for value in model.state_dict().values())


def file_bytes(save: Callable[[Path], Any]) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.npz"
        save(path)
        return path.stat().st_size


def sizes(model: nn.Module, base: dict[str, int]) -> dict[str, float]:
    npz = file_bytes(lambda path: tt.save(model.state_dict(), path))
    return {"state_bytes": state_bytes(model), "npz_bytes": npz,
            "state_ratio": state_bytes(model) / base["state_bytes"], "npz_ratio": npz / base["npz_bytes"]}


def finetune(model: nn.Module, images: np.ndarray, labels: np.ndarray, epochs: int) -> None:
    loader = DataLoader(TensorDataset(tt.tensor(images), tt.tensor(labels)), batch_size=64, shuffle=True, seed=0)
    optimizer = tt.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()


def quantization_rows(model, test, base, repeats) -> dict[str, dict]:
    rows = {}
    for name, spec, dtype in (("int8 dynamic (Linear)", None, tt.int8),
                              ("int8 dynamic (Linear+Conv2d)", {nn.Linear, nn.Conv2d}, tt.int8),
                              ("int4 dynamic (Linear+Conv2d)", {nn.Linear, nn.Conv2d}, tq.int4)):
        quantized = tq.quantize_dynamic(model, spec, dtype=dtype)
        rows[name] = {**sizes(quantized, base), "accuracy": accuracy(quantized, *test),
                      **speedup(lambda: predict(model, test[0]), lambda: predict(quantized, test[0]), repeats)}
    return rows


def pruning_rows(model, train, test, base, repeats, epochs) -> dict[str, dict]:
    structured = copy.deepcopy(model)
    for layer in (structured.features[0], structured.features[3], structured.classifier[1]):
        prune.channels(layer, 0.5)
    pruned_accuracy = accuracy(structured, *test)
    finetune(structured, *train, epochs)
    prune.shrink(structured, tt.tensor(test[0][:2]))
    rows = {"50% channels + fine-tune + shrink": {
        **sizes(structured, base), "accuracy": accuracy(structured, *test), "accuracy_before_finetune":
        pruned_accuracy, **speedup(lambda: predict(model, test[0]), lambda: predict(structured, test[0]), repeats)}}
    both = tq.quantize_dynamic(structured, {nn.Linear, nn.Conv2d})
    rows["50% channels + shrink + int8"] = {**sizes(both, base), "accuracy": accuracy(both, *test),
                                            **speedup(lambda: predict(model, test[0]),
                                                      lambda: predict(both, test[0]), repeats)}
    sparse = copy.deepcopy(model)
    weights = [(sparse.features[0], "weight"), (sparse.features[3], "weight"), (sparse.classifier[1], "weight"),
               (sparse.classifier[3], "weight")]
    prune.global_unstructured(weights, prune.L1Unstructured, amount=0.9)
    finetune(sparse, *train, epochs)
    for layer, name in weights:
        prune.remove(layer, name)
    for label, candidate in (("90% unstructured + sparse npz", sparse),
                             ("90% unstructured + int8 + sparse npz",
                              tq.quantize_dynamic(sparse, {nn.Linear, nn.Conv2d}))):
        npz = file_bytes(lambda path, m=candidate: save_sparse(m.state_dict(), path))
        rows[label] = {"npz_bytes": npz, "npz_ratio": npz / base["npz_bytes"],
                       "accuracy": accuracy(candidate, *test)}
    return rows


def fusion_rows(model, test, repeats) -> dict[str, dict]:
    rows = {}
    images = tt.tensor(test[0][:BATCH])
    with tt.no_grad():
        inputs = {"features.0": images, "features.3": model.features[:3](images)}
    for name, x in inputs.items():
        conv = dict(model.named_modules())[name]
        relu, fused = nn.ReLU(), ConvReLU2d(conv, nn.ReLU())
        with tt.no_grad():
            np.testing.assert_array_equal(fused(x).data, relu(conv(x)).data)
            rows[f"Conv2d+ReLU {name} ({conv.in_channels}->{conv.out_channels})"] = speedup(
                lambda: relu(conv(x)), lambda: fused(x), repeats)
    fused_model = tq.fuse_modules(model, [["features.0", "features.1"], ["features.3", "features.4"],
                                          ["classifier.1", "classifier.2"]])
    rows["whole CNN fused"] = {"accuracy": accuracy(fused_model, *test),
                               **speedup(lambda: predict(model, test[0]), lambda: predict(fused_model, test[0]),
                                         repeats)}
    return rows


def distillation_rows(teacher, train, test, epochs) -> dict[str, dict]:
    rows = {}
    for label, alpha in (("MLP(784-32-10) labels only", 0.0), ("MLP(784-32-10) distilled T=4 alpha=0.7", 0.7)):
        tt.manual_seed(0)
        student = MLP(hidden=(32,))
        loader = DataLoader(TensorDataset(tt.tensor(train[0]), tt.tensor(train[1])), batch_size=64, shuffle=True,
                            seed=0)
        distill(student, teacher, loader, tt.optim.SGD(student.parameters(), lr=0.05, momentum=0.9), epochs,
                temperature=4.0, alpha=alpha)
        rows[label] = {"accuracy": accuracy(student, *test), "state_bytes": state_bytes(student)}
    return rows


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(results: dict) -> None:
    base = results["float32"]
    print(f"float32 mnist_cnn: accuracy {base['accuracy']:.3f}, {base['state_bytes']:,} B state, "
          f"{base['npz_bytes']:,} B npz")
    print(f"threads: {results['threads']}\n")
    print("acc change: points vs float32 (+ = better); npz: file size vs float32; speedup: float32 time / variant time")
    print(f"{'technique':48s} {'acc':>6s} {'change':>8s} {'npz':>7s} {'speedup [95% CI]':>22s}")
    for section in ("quantization", "pruning", "fusion", "distillation"):
        for name, row in results[section].items():
            acc = row.get("accuracy")
            drop = "" if acc is None else f"{100 * (acc - base['accuracy']):+8.1f}"
            npz = f"{row['npz_ratio']:6.1%}" if "npz_ratio" in row else ""
            speed = (f"{row['speedup']:5.2f}x [{row['ci_low']:.2f}, {row['ci_high']:.2f}]"
                     if "speedup" in row else "")
            print(f"{name:48s} {'' if acc is None else f'{acc:6.3f}':>6s} {drop:>8s} {npz:>7s} {speed:>22s}")
    q8 = results["quantization"]["int8 dynamic (Linear)"]
    q8all = results["quantization"]["int8 dynamic (Linear+Conv2d)"]
    pruned = results["pruning"]["50% channels + fine-tune + shrink"]
    fused = [row["speedup"] for name, row in results["fusion"].items() if name.startswith("Conv2d+ReLU")]
    drop = lambda row: 100 * (base["accuracy"] - row["accuracy"])  # noqa: E731
    print("\nTargets (issue 10):")
    print(f"  INT8 dynamic <= 30 % of float32 bytes: Linear only {q8['npz_ratio']:.1%}, Linear+Conv2d "
          f"{q8all['npz_ratio']:.1%} -> {verdict(q8['npz_ratio'] <= 0.30)}")
    print(f"  INT8 accuracy drop <= 1 point: {drop(q8):.1f} / {drop(q8all):.1f} -> "
          f"{verdict(max(drop(q8), drop(q8all)) <= 1.0)}")
    print(f"  INT8 speed (not a target): {q8all['speedup']:.2f}x -- INT8 buys bytes, not speed, in NumPy")
    print(f"  50 % channel pruning + fine-tune + shrink >= 1.6x: {pruned['speedup']:.2f}x -> "
          f"{verdict(pruned['speedup'] >= 1.6)}; accuracy drop <= 1 point: {drop(pruned):.1f} -> "
          f"{verdict(drop(pruned) <= 1.0)}")
    print(f"  fused Conv2d+ReLU >= 1.1x the pair: {', '.join(f'{s:.2f}x' for s in fused)} -> "
          f"{verdict(min(fused) >= 1.1)}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="timing rounds per row (default 9)")
    parser.add_argument("--threads", type=int, help="pin BLAS threads (set before NumPy loads)")
    parser.add_argument("--finetune-epochs", type=int, default=2, help="fine-tuning epochs after pruning")
    parser.add_argument("--distill-epochs", type=int, default=5, help="student epochs (0 skips distillation)")
    parser.add_argument("--json", type=Path, help="also write the results here (atomically)")
    args = parser.parse_args(argv)
    model = tt.models.pretrained("mnist_cnn")
    train_x, train_y = bundled_mnist("train")
    test_x, test_y = bundled_mnist("test")
    train, test = (to_float_images(train_x), train_y), (to_float_images(test_x), test_y)
    base = {"state_bytes": state_bytes(model), "npz_bytes": file_bytes(lambda p: tt.save(model.state_dict(), p))}
    results = {
        "model": "mnist_cnn", "test_examples": len(test_y), "batch": BATCH,
        "threads": {k: os.environ.get(k, "default") for k in THREAD_ENV_VARS},
        "float32": {**base, "accuracy": accuracy(model, *test)},
        "quantization": quantization_rows(model, test, base, args.repeats),
        "pruning": pruning_rows(model, train, test, base, args.repeats, args.finetune_epochs),
        "fusion": fusion_rows(model, test, args.repeats),
        "distillation": distillation_rows(model, train, test, args.distill_epochs) if args.distill_epochs else {},
    }
    report(results)
    if args.json:
        with atomic_open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    return results


if __name__ == "__main__":
    main()
