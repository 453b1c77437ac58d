"""What the timed inputs' perturbation (competition/measure/draws.py) costs in accuracy, against each event's floor.

Every bundled-MNIST model the harness measures today: the baseline CNN and the example entrants (cnn_marathon_offline,
memory_master_offline; floor 95 %) and the reference MLP that MLP Sprint's target was set with (mnist_mlp, trained
by the baseline recipe; target 92 %, its committed weights score 93.2 % on clean images). Each row is the accuracy
on the 1 000 bundled test images: clean, and perturbed as the harness perturbs them, over several independent draws
(mean, min, max), and how often an image's class changes between draws ("changed": predictions that differ from
the image's majority class, the quantity verify.MAX_DISAGREEMENT bounds). For comparison, the previous perturbation
(noise of 1/1024 only).
Never a test; no timing, so machine load does not matter.

    python benchmarks/perturbation_accuracy.py [--draws 10]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path

import numpy as np

import tinytorch as tt
import tinytorch.data as ttd
from competition.measure import draws

ROOT = Path(__file__).resolve().parents[1]
CNNS = ["baseline", "int8-cnn", "pruned-int8-cnn", "distilled-cnn"]


def entry(name: str):
    """(load, predict) of submissions/<name>/model.py, imported with the folder as working directory."""
    folder = ROOT / "submissions" / name
    os.chdir(folder)
    spec = importlib.util.spec_from_file_location(f"entry_{name.replace('-', '_')}", folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def models() -> dict:
    """name -> predict(images) for every model measured here."""
    out = {}
    for name in CNNS:
        module = entry(name)
        model = module.load("cnn_marathon_offline")
        out[f"{name} (CNN, floor 95 %)"] = lambda x, m=module, model=model: m.predict(model, x)
    baseline = entry("baseline")
    mlp = baseline.build("mnist_mlp")
    mlp.load_state_dict(tt.load(str(ROOT / "tinytorch" / "models" / "weights" / "mnist_mlp.npz")), strict=True)
    mlp.eval()
    out["reference MLP (target 92 %)"] = lambda x: baseline.predict(mlp, x)
    return out


def old_perturbation(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noise = rng.uniform(-1 / 1024, 1 / 1024, size=images.shape).astype(np.float32)
    return np.clip(images + noise, 0, 1, dtype=np.float32)


def changed(classes: np.ndarray) -> float:
    """The fraction of (draw, image) predictions that differ from the image's majority class over the draws: what
    verify.rounds_agree bounds by MAX_DISAGREEMENT."""
    votes = np.apply_along_axis(np.bincount, 0, classes, minlength=10)
    return float(np.mean(classes != votes.argmax(axis=0)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=10)
    args = parser.parse_args()
    images, labels = ttd.bundled_mnist("test")
    x = ttd.to_float_images(images)
    print(f"perturbation: shift up to {draws.SHIFT_PX} px per axis, noise up to {draws.NOISE * 255:.1f} grey levels;"
          f" {args.draws} draws; {len(labels)} bundled test images")
    print(f"{'model':<34} {'clean':>6} {'perturbed mean [min, max]':>27} {'1/1024 noise mean':>18} "
          f"{'changed':>12}")
    for name, predict in models().items():
        def accuracy(inputs: np.ndarray) -> float:
            return float(np.mean(np.asarray(predict(inputs)).argmax(1) == labels))

        classes = [predict(draws.perturbed(x, np.random.default_rng(seed))).argmax(1) for seed in range(args.draws)]
        new = [float(np.mean(c == labels)) for c in classes]
        old = [accuracy(old_perturbation(x, np.random.default_rng(seed))) for seed in range(args.draws)]
        print(f"{name:<34} {accuracy(x):>6.1%} {np.mean(new):>10.2%} [{min(new):.1%}, {max(new):.1%}]"
              f" {np.mean(old):>18.2%} {changed(np.stack(classes)):>12.2%}")


if __name__ == "__main__":
    main()
