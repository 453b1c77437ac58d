"""Build the example entrants in submissions/ from the optimization kit, reproducibly (seed 0).

    python scripts/build_entrants.py                    # all of them
    python scripts/build_entrants.py int8-cnn           # one
    python scripts/build_entrants.py --results leaderboard/results --readme-only   # quote stored results

Each entrant is written by tinytorch.competition.write_entry (submission.yaml, model.py from its recipe, weights,
README.md). The README quotes what this script measured at build time (accuracy on the 1 000 bundled test images,
shipped bytes) and, with --results, the stored harness result of `tito benchmark run` for the folder.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

import tinytorch as tt
from tinytorch import nn, optim
from tinytorch.competition import load_entry, optimize_closed_division, write_entry
from tinytorch.data import DataLoader, TensorDataset
from tinytorch.data.bundled import bundled_mnist
from tinytorch.distill import distill
from tinytorch.models import BaselineCNN, pretrained

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = ROOT / "submissions"
ATHLETE = {"athlete_name": "TinyMLPerf maintainers (example entrant)", "github_handle": "tinymlperf",
           "github_repo": "https://github.com/tinymlperf/tinymlperf"}
HONOR = ("An example entrant built by scripts/build_entrants.py from the TinyTorch optimization kit with seed 0; "
         "trained only on the bundled training split, measured by the harness.")
SEED = 0
STUDENT_WIDTHS = (16, 32, 64)  # conv1, conv2, fc1 of the distilled student (the teacher: 32, 64, 128)


def mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = bundled_mnist(split)
    return images[:, None].astype(np.float32) / 255.0, labels


def accuracy(model: nn.Module) -> float:
    images, labels = mnist("test")
    with tt.no_grad():
        return float((model(tt.from_numpy(images)).numpy().argmax(1) == labels).mean())


@dataclass(frozen=True)
class Entrant:
    """How one example entrant is built and what its submission.yaml / README say about it."""

    build: Callable[[], nn.Module]
    division: str
    events: tuple[str, ...]
    techniques: tuple[str, ...]
    what: str


def int8_cnn() -> nn.Module:
    return optimize_closed_division(pretrained("mnist_cnn"), ["quantization"])


def pruned_int8_cnn() -> nn.Module:
    return optimize_closed_division(pretrained("mnist_cnn"), ["structured_pruning", "quantization"], amount=0.5,
                                    fine_tune=mnist("train"), fine_tune_epochs=1, lr=0.01, seed=SEED)


def distilled_cnn() -> nn.Module:
    tt.manual_seed(SEED)
    student = BaselineCNN(1, 10, 28)
    conv1, conv2, fc1 = STUDENT_WIDTHS
    student.features._modules["0"] = nn.Conv2d(1, conv1, 3, padding=1)
    student.features._modules["3"] = nn.Conv2d(conv1, conv2, 3, padding=1)
    student.classifier._modules["1"] = nn.Linear(conv2 * 7 * 7, fc1)
    student.classifier._modules["3"] = nn.Linear(fc1, 10)
    images, labels = mnist("train")
    loader = DataLoader(TensorDataset(images, labels), batch_size=64, shuffle=True, seed=SEED)
    optimizer = optim.SGD(student.parameters(), lr=0.01, momentum=0.9)
    distill(student, pretrained("mnist_cnn"), loader, optimizer, epochs=8, temperature=4.0, alpha=0.7)
    return student.eval()


def sliding_kv_gpt() -> nn.Module:
    return optimize_closed_division(pretrained("shakespeare_gpt"), ["kv_cache", "quantization"], reencode_every=128)


ENTRANTS = {
    "int8-cnn": Entrant(
        int8_cnn, "closed", ("cnn_marathon_offline", "memory_master_offline"), ("int8_quantization",),
        "every Conv2d and Linear weight as INT8 codes with a float32 scale per output channel "
        "(tinytorch.quantization.quantize_dynamic); model.py dequantizes them once at load (NumPy has no integer "
        "GEMM), so the run computes with exactly the shipped values."),
    "pruned-int8-cnn": Entrant(
        pruned_int8_cnn, "closed", ("cnn_marathon_offline", "memory_master_offline"),
        ("structured_pruning", "int8_quantization"),
        "50 % of the output channels of conv1, conv2 and fc1 pruned by L2 norm (prune.ln_structured, bias masked "
        "with them), one epoch of SGD fine-tuning (lr 0.01, momentum 0.9, batch 64) on the 4 000 bundled training "
        "images with the masks held, prune.shrink to remove the dead channels (32-64-128 -> 16-32-64), then INT8 "
        "per-channel weights, dequantized once at load."),
    "distilled-cnn": Entrant(
        distilled_cnn, "open", ("cnn_marathon_offline", "memory_master_offline"), ("knowledge_distillation",),
        "a student of the baseline's family with half the widths (16-32-64 instead of 32-64-128), trained from "
        "scratch for 8 epochs (SGD lr 0.01, momentum 0.9, batch 64) on the 4 000 bundled training images against "
        "the baseline CNN's softened outputs (tinytorch.distill.distill, temperature 4, alpha 0.7). Open division: "
        "the weights are not derived from the baseline's."),
    "sliding-kv-gpt": Entrant(
        sliding_kv_gpt, "closed", ("transformer_decathlon",), ("sliding_kv_cache", "int8_quantization"),
        "GPT.generate(reencode_every=128): once prompt plus output pass the 256-token context, the window is "
        "re-encoded from its last 128 tokens once per 129 new tokens instead of for every token (the baseline). "
        "next_token_logits beyond 256 tokens returns the same sliding-window predictions "
        "(tinytorch.competition.sliding_window_logits), so the harness's greedy check holds. Linear weights "
        "(attention out-projection, feed-forward) ship as INT8 per-channel codes, dequantized once at load."),
}


def build(name: str, results_dir: Path | None, out: Path = SUBMISSIONS) -> Path:
    entrant, folder = ENTRANTS[name], out / name
    model = entrant.build()
    write_entry(folder, model, events=list(entrant.events), division=entrant.division,
                athlete_name=ATHLETE["athlete_name"], github_repo=ATHLETE["github_repo"],
                github_handle=ATHLETE["github_handle"], techniques_used=list(entrant.techniques), honor_code=HONOR,
                description=f"Example entrant: {', '.join(entrant.techniques)}. {entrant.what[:300]}")
    write_readme(name, model, results_dir, out)
    return folder


def write_readme(name: str, model: nn.Module | None, results_dir: Path | None, out: Path = SUBMISSIONS) -> Path:
    """README.md of a built entrant; `model=None` loads it from the folder (its model.py's RECIPE and weights)."""
    folder = out / name
    model = model if model is not None else load_built(folder)
    (folder / "README.md").write_text(readme(name, folder, model, ENTRANTS[name], results_dir), encoding="utf-8")
    return folder


def load_built(folder: Path) -> nn.Module:
    spec = importlib.util.spec_from_file_location(f"built_{folder.name.replace('-', '_')}", folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return load_entry(module.RECIPE, str(next(folder.glob("*.npz"))))


def readme(name: str, folder: Path, model: nn.Module, info: Entrant, results_dir: Path | None) -> str:
    stem = next(folder.glob("*.npz")).stem
    shipped = (folder / f"{stem}.npz").stat().st_size
    baseline = (SUBMISSIONS / "baseline" / f"{stem}.npz").stat().st_size
    built = (f"- shipped weights `{stem}.npz`: {shipped:,} bytes (baseline {baseline:,}: {baseline / shipped:.2f}x "
             "smaller)")
    if stem == "mnist_cnn":
        built += (f"\n- accuracy on the 1 000 bundled test images: {accuracy(model):.1%} (baseline "
                  f"{accuracy(pretrained('mnist_cnn')):.1%})")
    lines = [f"# {name}: example entrant ({info.division} division)", "",
             "Built by the repository's own script from the TinyTorch optimization kit; it shows what a student "
             "can submit and what each technique buys when the harness measures it.", "",
             "## Techniques", "", *[f"- `{t}`" for t in info.techniques], "", info.what, "",
             "## Performance report", "", "Measured by `scripts/build_entrants.py` on the shipped weights:", "",
             built, ""]
    for event in info.events:
        lines += [f"### {event}", "", *harness_section(name, event, results_dir)]
    lines += ["## Reproduction", "", "```", f"python scripts/build_entrants.py {name}",
              f"tito submit --validate-only submissions/{name}",
              *[f"tito benchmark run --event {e} --submission submissions/{name}" for e in info.events], "```", "",
              "The script seeds everything (seed 0); model.py rebuilds the model from the recipe it holds "
              "(`tinytorch.competition.load_entry`).", ""]
    return "\n".join(lines)


def harness_section(name: str, event: str, results_dir: Path | None) -> list[str]:
    result = latest_result(name, event, results_dir) if results_dir else None
    if result is None:
        return [f"Harness numbers: run `tito benchmark run --event {event} --submission submissions/{name}`.", ""]
    s, cand, base = result["scores"], result["candidate"], result["baseline"]
    speed = s.get("speedup") or {}
    ci = speed.get("ci95") or [None, None]
    quality = ("perplexity {:.3f} (baseline {:.3f})".format(cand["perplexity"], base["perplexity"])
               if cand.get("perplexity") is not None else
               "accuracy {:.1%} (baseline {:.1%})".format(cand["accuracy"], base["accuracy"]))
    return [f"Harness run `{result['result_id']}` ({result['finished_at']}, runner class "
            f"{result['runner']['class']}, isolation {result['sandbox']['isolation']}, "
            f"{result['config']['rounds']} interleaved rounds):", "",
            f"- speedup vs baseline: {speed.get('value', float('nan')):.2f}x (95 % CI {ci[0]:.2f}-{ci[1]:.2f}, "
            f"{speed.get('verdict')})",
            f"- compression (shipped bytes): {s['compression']:.2f}x",
            f"- {quality}", f"- peak memory of the worker: {peak_mib(cand)} (baseline {peak_mib(base)})",
            f"- closed-division conformance: {result.get('conformance', {}).get('verdict')}", ""]


def peak_mib(measured: dict) -> str:
    peak = (measured.get("peak_memory") or {}).get("external_bytes")
    return f"{peak / 2**20:.1f} MiB" if peak else "not measured"


def latest_result(name: str, event: str, results_dir: Path) -> dict | None:
    found = []
    for path in results_dir.rglob("*.json"):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(doc, dict) and doc.get("event", {}).get("id") == event and \
                doc.get("submission", {}).get("name") == name:
            found.append(doc)
    return max(found, key=lambda d: d.get("finished_at", "")) if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"entrants to build (default: all of {', '.join(ENTRANTS)})")
    parser.add_argument("--results", type=Path, default=None, help="quote stored harness results from this folder")
    parser.add_argument("--readme-only", action="store_true", help="rewrite README.md of already built entrants")
    parser.add_argument("--out", type=Path, default=SUBMISSIONS, help="where the entrant folders go (default: "
                                                                      "submissions/)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in ENTRANTS]
    if unknown:
        parser.error(f"unknown entrant(s) {', '.join(unknown)}; choose from {', '.join(ENTRANTS)}")
    for name in args.names or ENTRANTS:
        if args.readme_only:
            print(f"wrote {write_readme(name, None, args.results, args.out) / 'README.md'}", flush=True)
        else:
            print(f"built {build(name, args.results, args.out)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
