"""The course's competition API, as the TinyTorch capstone documents it:

    from tinytorch.competition import generate_baseline, optimize_closed_division, generate_submission
    generate_baseline(event="cnn_marathon_offline")                          # -> baseline_submission.json
    model = optimize_closed_division(pretrained("mnist_cnn"), techniques=["pruning", "quantization"])
    generate_submission(model=model, athlete_name="Ada", github_repo="https://github.com/ada/tinymlperf",
                        out_dir="submissions/ada")                       # event inferred from the model
    generate_submission("submissions/ada", event="cnn_marathon_offline")   # measure an existing folder

`optimize_closed_division` applies the optimization kit (tinytorch.quantization, tinytorch.nn.utils.prune) and
records a *recipe* (`model.recipe`: the techniques and decoding settings). `generate_submission(model=...)` writes the
weights into `<reference>.npz` (sparse where that is smaller), a model.py whose load() rebuilds the model from that
file alone (tinytorch.rebuild.load_model: any model the kit produces, recipe or not; checked before model.py is
written), and then measures the folder with the real harness and prints its verdict.

The harness (`competition` package) is imported only when something is measured: tinytorch itself knows nothing of
the competition, and a submission's model.py may import this module.
"""

from __future__ import annotations

import copy
import math
import re
import warnings
from pathlib import Path
from pprint import pformat
from typing import Any, Iterable

import numpy as np

import tinytorch as tt
from tinytorch import nn
from tinytorch.models import GPT, MLP, BaselineCNN
from tinytorch.rebuild import CLASSES, fusable_pairs, load_entry, load_model, rebuild_recipe

# Techniques optimize_closed_division knows, each kept in the closed division's weight forms.
TECHNIQUES = {
    "quantization": "INT8 per-channel weights of every Conv2d and Linear (tinytorch.quantization.quantize_dynamic)",
    "int4": "packed INT4 per-channel weights of every Conv2d and Linear",
    "pruning": "unstructured L1 magnitude pruning of every Conv2d/Linear weight (zeros, stored sparse)",
    "structured_pruning": "L2 channel pruning of every chained layer but the last, then shrink (fewer channels)",
    "fusion": "Conv2d+ReLU and Linear+ReLU fused into ConvReLU2d / LinearReLU (tinytorch.quantization.fuse_modules)",
    "kv_cache": "sliding-window KV cache for GPT generation past the context length (GPT.generate reencode_every)",
}
# The reference model (and so the weights file name) each event runs.
EVENT_MODELS = {"cnn_marathon_offline": "mnist_cnn", "memory_master_offline": "mnist_cnn", "memory_master": "mnist_cnn",
                "cnn_marathon": "cifar10_cnn", "transformer_decathlon": "shakespeare_gpt"}
DEFAULT_REPO = "https://github.com/YOUR-HANDLE/tinymlperf"


# -- measuring (the harness) ---------------------------------------------------------------------------------------

def generate_baseline(event: str = "cnn_marathon_offline", out_dir: str | Path = ".", *, quick: bool = False,
                      runner_class: str = "local") -> Path:
    """Measure the baseline on `event` and write out_dir/baseline_submission.json (see competition.api)."""
    from competition.api import generate_baseline as run

    return run(event, out_dir, quick=quick, runner_class=runner_class)


def generate_submission(submission_dir: str | Path | None = None, event: str | None = None,
                        out_dir: str | Path | None = None, *, model: nn.Module | None = None,
                        division: str | None = None, athlete_name: str | None = None,
                        github_repo: str = DEFAULT_REPO, techniques_used: Iterable[str] | None = None,
                        github_handle: str | None = None, honor_code: str | None = None,
                        description: str | None = None, measure: bool = True, quick: bool = False,
                        runner_class: str = "local", show_progress: bool = True) -> Path:
    """Write submission.json for an entry and return its path; print its verdict and path.

    With `model=`: first write the entry folder `out_dir` (submission.yaml, model.py, weights, README.md) from the
    model and the given fields, then measure it. Without: measure the existing folder `submission_dir`.
    `event` defaults to the one the model's architecture runs (event_for); `division` to the model's own (closed
    unless design_open_division marked it). `measure=False` writes the folder only and returns its path;
    `show_progress=False` silences the progress display and the verdict.
    """
    if event is None and model is not None:
        event = event_for(model)
    if event is None:
        raise ValueError("generate_submission: name the event, e.g. event='cnn_marathon_offline'")
    if model is not None:
        folder = Path(out_dir or submission_dir or "my_submission")
        write_entry(folder, model, events=[event], division=division or getattr(model, "division", "closed"),
                    athlete_name=athlete_name, github_repo=github_repo, techniques_used=techniques_used,
                    github_handle=github_handle, honor_code=honor_code, description=description)
        if not measure:
            _say(show_progress, f"wrote {folder} (not measured: measure=False)")
            return folder
        submission_dir, out_dir = folder, folder
    if submission_dir is None:
        raise ValueError("generate_submission: pass model=... (to write a new entry) or the entry folder to measure")
    from competition.api import generate_submission as run

    report = run(submission_dir, event, out_dir, quick=quick, runner_class=runner_class, show_progress=show_progress)
    if model is not None:
        recipe = _recipe(model, EVENT_MODELS[event])
        _write_readme(Path(submission_dir), recipe, list(techniques_used or recipe["techniques"]), [event],
                      _measured_text(report))
    return report


def event_for(model: nn.Module) -> str:
    """The event a reference-family model runs: the MNIST CNN the offline CNN Marathon, a 3-channel CNN the CIFAR-10
    CNN Marathon, a GPT the Transformer Decathlon."""
    if isinstance(model, GPT):
        return "transformer_decathlon"
    if isinstance(model, BaselineCNN):
        first = next(tuple(getattr(m, "weight_shape", None) or m.weight.shape) for m in model.modules()
                     if hasattr(m, "weight_shape") or type(m) is nn.Conv2d)  # the first conv, quantized or not
        return "cnn_marathon" if first[1] == 3 else "cnn_marathon_offline"
    raise ValueError(f"generate_submission: which event does a {type(model).__name__} enter? pass "
                     f"event=... (one of {', '.join(sorted(EVENT_MODELS))})")


def design_open_division(model: nn.Module) -> nn.Module:
    """Mark `model` (your own architecture, built with tinytorch) for the open division and return it:
    generate_submission then writes division 'open'. Its model.py is rebuilt from the weights alone when the model
    is of a reference family (tinytorch.rebuild); for any other architecture write model.py yourself."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"design_open_division: expected a tinytorch nn.Module, got {type(model).__name__}")
    model.division = "open"
    return model


def _say(enabled: bool, text: str) -> None:
    if enabled:
        print(text)


def _measured_text(report_path: Path) -> str:
    """The README's performance lines from the harness-backed submission.json."""
    import json

    report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    scores, optimized = report["normalized_scores"], report["optimized"]
    speed = scores["speedup"]
    lines = [f"Measured by `tito benchmark run` (result `{report['result_id']}`, {report['timestamp']}, runner class "
             f"{report['hardware']['runner_class']}):", ""]
    if speed is not None:
        low, high = scores["speedup_ci95"] or (speed, speed)
        lines.append(f"- speedup vs the baseline: {speed:.2f}x (95 % CI {low:.2f}-{high:.2f}, "
                     f"{scores['speedup_verdict']})")
    if scores["compression_ratio"] is not None:
        lines.append(f"- compression (shipped bytes): {scores['compression_ratio']:.2f}x")
    if optimized["accuracy"] is not None:
        delta = scores["accuracy_delta"]
        points = f" ({delta:+.1f} points)" if delta is not None else ""
        lines.append(f"- accuracy {optimized['accuracy']:.1%}{points}")
    if optimized["perplexity"] is not None:
        lines.append(f"- perplexity {optimized['perplexity']:.2f}")
    return "\n".join(lines)


# -- optimizing ----------------------------------------------------------------------------------------------------

def optimize_closed_division(model: nn.Module, techniques: Iterable[str], *, amount: float = 0.5,
                             example_input: np.ndarray | None = None,
                             fine_tune: tuple[np.ndarray, np.ndarray] | None = None, fine_tune_epochs: int = 1,
                             lr: float = 0.01, reencode_every: int | None = None, seed: int = 0) -> nn.Module:
    """A copy of a reference model (BaselineCNN, MLP, GPT) with `techniques` applied in the kit's closed forms.

    Order: pruning (masks; with `fine_tune=(inputs, labels)` trained `fine_tune_epochs` with SGD while the masks
    hold), shrink, fusion, quantization. `amount` is the pruned fraction. The result's `recipe` attribute says how to
    rebuild it from its state_dict (generate_submission writes it into model.py).
    """
    chosen = _checked_techniques(techniques)
    if type(model) not in CLASSES.values():
        raise TypeError(f"optimize_closed_division: the closed division optimizes the reference models "
                        f"({', '.join(CLASSES)}); got {type(model).__name__} (use the open division for others)")
    if "kv_cache" in chosen and not isinstance(model, GPT):  # the course lists it with the CNN's techniques
        if chosen == {"kv_cache"}:
            raise ValueError("optimize_closed_division: 'kv_cache' applies to GPT models only")
        warnings.warn(f"optimize_closed_division: 'kv_cache' speeds up GPT generation only; nothing to do for a "
                      f"{type(model).__name__}", stacklevel=2)
        chosen.discard("kv_cache")
    if not 0.0 <= amount < 1.0:
        raise ValueError(f"optimize_closed_division: amount={amount} must be in [0, 1)")
    if chosen & {"pruning", "structured_pruning"} == {"pruning", "structured_pruning"}:
        raise ValueError("optimize_closed_division: choose 'pruning' or 'structured_pruning', not both")
    tt.manual_seed(seed)
    config = _config(model)
    model = copy.deepcopy(model).eval()
    if "pruning" in chosen:
        _prune_unstructured(model, amount)
    if "structured_pruning" in chosen:
        _prune_structured(model, amount)
    if fine_tune is not None and chosen & {"pruning", "structured_pruning"}:
        _fine_tune(model, *fine_tune, fine_tune_epochs, lr, seed)
    from tinytorch.nn.utils import prune

    if "structured_pruning" in chosen:
        prune.shrink(model, _example_input(model, example_input))
    _remove_pruning(model)
    fused = _fuse(model) if "fusion" in chosen else []
    if fused:
        from tinytorch.quantization import fuse_modules

        model = fuse_modules(model, fused)
    quantized = {}
    if chosen & {"quantization", "int4"}:
        model, quantized = _quantize(model, "int4" if "int4" in chosen else "int8")
    if "kv_cache" in chosen:
        reencode_every = reencode_every or model.context_length // 2
        model._kept_on_reencode(reencode_every)  # validates it with GPT's own message
    model.recipe = make_recipe(model, config, fused, quantized, sorted(chosen), reencode_every)
    return model.eval()


def _checked_techniques(techniques: Iterable[str]) -> set[str]:
    if isinstance(techniques, str):
        techniques = [techniques]
    chosen = {str(t).strip().lower().replace("-", "_").replace(" ", "_") for t in techniques}
    chosen = {ALIASES.get(t, "quantization" if t == "quantize" else t) for t in chosen}
    unknown = sorted(chosen - set(TECHNIQUES))
    if unknown:
        raise ValueError(f"optimize_closed_division: unknown technique(s) {', '.join(map(repr, unknown))}; known: "
                         + "; ".join(f"{name} ({what})" for name, what in TECHNIQUES.items()))
    if not chosen:
        raise ValueError("optimize_closed_division: name at least one technique, e.g. techniques=['quantization']")
    return chosen


def _weighted_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(name, m) for name, m in model.named_modules() if type(m) in (nn.Conv2d, nn.Linear)]


def _prune_unstructured(model: nn.Module, amount: float) -> None:
    from tinytorch.nn.utils import prune

    for _, layer in _weighted_layers(model):
        prune.l1_unstructured(layer, "weight", amount)


def _chain(model: nn.Module) -> list[nn.Module]:
    """Layers whose outputs may shrink: every chained layer but the last (the closed division's rule)."""
    if isinstance(model, GPT):
        return [block.linear1 for block in model.blocks]
    return [layer for _, layer in _weighted_layers(model)][:-1]


def _prune_structured(model: nn.Module, amount: float) -> None:
    from tinytorch.nn.utils import prune

    for layer in _chain(model):
        prune.ln_structured(layer, "weight", amount, n=2, dim=0)
        keep = layer.weight_mask.data.reshape(layer.weight.shape[0], -1).any(axis=1)
        if layer.bias is not None:
            prune.custom_from_mask(layer, "bias", keep.astype(layer.bias.dtype))


def _fine_tune(model: nn.Module, inputs: np.ndarray, labels: np.ndarray, epochs: int, lr: float, seed: int) -> None:
    from tinytorch import optim
    from tinytorch.data import DataLoader, TensorDataset

    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loader = DataLoader(TensorDataset(inputs, labels), batch_size=64, shuffle=True, seed=seed)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        for batch_inputs, batch_labels in loader:
            optimizer.zero_grad()
            loss_fn(model(batch_inputs), batch_labels).backward()
            optimizer.step()
    model.eval()


def _remove_pruning(model: nn.Module) -> None:
    from tinytorch.nn.utils import prune

    for module in model.modules():
        for name in ("weight", "bias"):
            if hasattr(module, name + "_orig"):
                prune.remove(module, name)


def _example_input(model: nn.Module, given: np.ndarray | None) -> np.ndarray:
    if given is not None:
        return np.asarray(given, np.float32)
    if isinstance(model, BaselineCNN):
        conv, linear = model.features[3], model.classifier[1]
        side = 4 * math.isqrt(linear.in_features // conv.out_channels)
        return np.zeros((1, model.features[0].in_channels, side, side), np.float32)
    if isinstance(model, MLP):
        first = _weighted_layers(model)[0][1]
        return np.zeros((1, first.in_features), np.float32)
    raise ValueError("structured_pruning needs example_input=<one input batch> to trace the layers")


def _fuse(model: nn.Module) -> list[list[str]]:
    """[[layer, relu], ...] for every Conv2d/Linear directly followed by a ReLU in a Sequential."""
    groups = fusable_pairs(model)
    if not groups:
        raise ValueError(f"fusion: {type(model).__name__} has no Conv2d+ReLU or Linear+ReLU pair to fuse")
    return groups


def _quantize(model: nn.Module, dtype: str) -> tuple[nn.Module, dict[str, str]]:
    from tinytorch.quantization import quantize_dynamic

    targets = {name: dtype for name, _ in _weighted_layers(model)}
    if isinstance(model, GPT):
        targets.pop("head", None)  # the KV cache takes its dtype from head.weight; tied to float here
    spec = {name: (np.int8 if d == "int8" else "int4") for name, d in targets.items()}
    return quantize_dynamic(model, spec), targets


# -- the recipe: how model.py rebuilds the optimized model ---------------------------------------------------------

def make_recipe(model: nn.Module, config: dict[str, Any], fused: list[list[str]], quantized: dict[str, str],
                techniques: list[str], reencode_every: int | None) -> dict[str, Any]:
    """Plain data (str, int, list, dict) that `load_entry` needs besides the weights; `config` is the reference
    class's constructor arguments (`_config` of the model before fusion)."""
    from tinytorch.nn.quantized.modules import _QuantizedLayer

    shapes = {}
    for name, module in model.named_modules():
        if isinstance(module, _QuantizedLayer):
            shapes[name] = list(module.weight_shape)
        elif type(module) in (nn.Conv2d, nn.Linear):
            shapes[name] = list(module.weight.shape)
    return {"model": type(model).__name__, "config": config, "fuse": fused, "shapes": shapes,
            "quantize": quantized, "techniques": techniques, "reencode_every": reencode_every}


def _config(model: nn.Module) -> dict[str, Any]:
    if isinstance(model, GPT):
        d_model = model.tok_emb.weight.shape[1]
        return {"vocab_size": int(model.tok_emb.weight.shape[0]), "context_length": int(model.context_length),
                "d_model": int(d_model), "n_heads": int(model.n_heads), "n_layers": len(model.blocks),
                "dropout": 0.0}
    if isinstance(model, BaselineCNN):
        example = _example_input(model, None)
        return {"in_channels": int(example.shape[1]), "num_classes": int(model.classifier[3].out_features),
                "image_size": int(example.shape[2])}
    raise TypeError(f"no recipe for {type(model).__name__}: generate_submission writes model.py for BaselineCNN and "
                    "GPT (and their optimized forms); write model.py yourself for other models")


def _recipe(model: nn.Module, stem: str) -> dict[str, Any]:
    """The recipe optimize_closed_division recorded, else the one the weights themselves imply (a model optimized
    by hand with the kit)."""
    recipe = getattr(model, "recipe", None)
    if recipe is not None:
        return recipe
    state = {key: value.data for key, value in model.state_dict().items()}
    return rebuild_recipe(state, stem)[0]


def sliding_window_logits(model: GPT, tokens: np.ndarray, reencode_every: int) -> np.ndarray:
    """Teacher-forced (B, T, vocab) logits of GPT.generate's sliding window: row t-1 is what generate (prompt of at
    most context_length tokens) predicts token t from. Up to the context length that is the plain forward."""
    context, keep = model.context_length, model._kept_on_reencode(reencode_every)
    total = tokens.shape[1]
    with tt.no_grad():
        first = model(tokens[:, :min(total, context)]).numpy()
        if total <= context:
            return first
        rows = [first]
        for reset in range(context + 1, total + 1, reencode_every + 1):
            start, end = reset - keep, min(reset + reencode_every, total)  # predicts tokens reset .. end
            window = model(tokens[:, start:end]).numpy()
            rows.append(window[:, keep - 1:])
        return np.concatenate(rows, axis=1)[:, :total]


# -- writing the entry folder --------------------------------------------------------------------------------------

def write_entry(folder: str | Path, model: nn.Module, *, events: list[str], division: str = "closed",
                athlete_name: str | None = None, github_repo: str = DEFAULT_REPO,
                techniques_used: Iterable[str] | None = None, github_handle: str | None = None,
                honor_code: str | None = None, description: str | None = None, readme_extra: str = "") -> Path:
    """Write submission.yaml, model.py, <reference>.npz and README.md for `model` into `folder`; return it."""
    from tinytorch.atomic import write_atomic
    from tinytorch.nn.utils.sparse import save_sparse

    if division not in ("closed", "open"):
        raise ValueError(f"generate_submission: division must be 'closed' or 'open', got {division!r}")
    if not athlete_name or not str(athlete_name).strip():
        raise ValueError("generate_submission: athlete_name is required (your name as it appears on the board)")
    if not re.fullmatch(r"https://github\.com/[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}/?", github_repo):
        raise ValueError(f"generate_submission: github_repo {github_repo!r} must look like "
                         "https://github.com/OWNER/REPO (your fork)")
    stems = {EVENT_MODELS.get(event) for event in events}
    if None in stems or len(stems) != 1:
        raise ValueError(f"generate_submission: events {events} must all run one of the saved models "
                         f"({', '.join(sorted(EVENT_MODELS))})")
    stem = stems.pop()
    recipe = _recipe(model, stem)
    techniques = list(techniques_used or recipe["techniques"] or ["none"])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_sparse(model.state_dict(), folder / f"{stem}.npz")
    check_rebuilds(model, folder / f"{stem}.npz", recipe["config"])
    handle = github_handle or github_repo.rstrip("/").split("/")[-2]
    manifest = _manifest(athlete_name, handle, division, events, techniques, github_repo, honor_code, description)
    write_atomic(folder / "submission.yaml", manifest)
    write_atomic(folder / "model.py", model_source(events, recipe.get("reencode_every")))
    _write_readme(folder, recipe, techniques, events, readme_extra)
    return folder


def check_rebuilds(model: nn.Module, weights: Path, config: dict[str, Any]) -> None:
    """Raise ValueError unless tinytorch.rebuild.load_model(weights) computes what `model` computes (the entry's
    load() runs exactly that): a model the weights cannot express is refused before it becomes an entry."""
    try:
        rebuilt = load_model(weights, dequantize=False)  # the same layers as `model`
    except (ValueError, KeyError, FileNotFoundError) as err:
        raise ValueError(f"generate_submission: {weights.name} cannot be rebuilt from its weights alone ({err}); "
                         "write model.py yourself (docs/students.md, 'Your model.py')") from err
    if "vocab_size" in config:  # GPT
        example = np.arange(16, dtype=np.int64).reshape(1, 16) % config["vocab_size"]
    else:
        side = config["image_size"]
        example = np.random.default_rng(0).random((2, config["in_channels"], side, side), dtype=np.float32)
    with tt.no_grad():
        want = model.eval()(tt.tensor(example)).numpy()
        got = rebuilt(tt.tensor(example)).numpy()
    # statically quantized activations are rebuilt as dynamic ones: the closed division's tolerance covers that
    if want.shape != got.shape or np.abs(want - got).max() > 0.02 * np.abs(want).max() + 1e-4:
        raise ValueError(f"generate_submission: the model rebuilt from {weights.name} does not compute what the "
                         "model computes (max difference "
                         f"{float(np.abs(want - got).max()) if want.shape == got.shape else 'shapes differ'}); "
                         "write model.py yourself (docs/students.md, 'Your model.py')")


def _write_readme(folder: Path, recipe: dict[str, Any], techniques: list[str], events: list[str], extra: str) -> None:
    from tinytorch.atomic import write_atomic

    write_atomic(folder / "README.md", _readme(folder.name, recipe, techniques, events, extra))


def _manifest(athlete_name: str, handle: str, division: str, events: list[str], techniques: list[str],
              github_repo: str, honor_code: str | None, description: str | None) -> str:
    import yaml

    doc = {"athlete_name": str(athlete_name), "github_handle": handle, "team": None, "division": division,
           "events": list(events), "techniques_used": techniques, "github_repo": github_repo,
           "honor_code": honor_code or ("I built this entry with the TinyTorch optimization kit myself; the numbers "
                                        "come from the harness and nothing was tuned on the test data."),
           "description": description or f"Optimized {', '.join(techniques)} entry written by "
                                         "tinytorch.competition.generate_submission."}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


MODEL_PY = '''"""The entry's model.py: load() rebuilds the model from the shipped weights alone (tinytorch.rebuild).

Optimize with the kit (prune, prune.shrink, fuse_modules, quantize_dynamic int8/int4, distill into a narrower
student), then save the result over the weights file of this folder:

    tt.save(model.state_dict(), "submissions/<you>/mnist_cnn.npz")

and load() rebuilds whatever kit form it holds (docs/students.md, "Your model.py").
"""

import numpy as np

import tinytorch as tt
from tinytorch.rebuild import {rebuild_imports}
{extra_imports}
# Which weights file serves which event (named after the reference model).
EVENT_MODELS = {event_models}
{settings}

def load(event: str):
    """The model saved in this folder for `event`, rebuilt from its weights, in eval mode."""
    return load_model(EVENT_MODELS[event] + ".npz")
'''
PREDICT_PY = '''

def predict(model, inputs: np.ndarray) -> np.ndarray:
    """(N, C, H, W) float32 images -> (N, classes) logits."""
    with tt.no_grad():
        return model(tt.from_numpy(inputs)).numpy()
'''
GPT_PY = '''

def next_token_logits(model, tokens: np.ndarray) -> np.ndarray:
    """(B, T) ids -> (B, T, vocab) logits: what generate() predicts each next token from."""
    if REENCODE_EVERY is None or tokens.shape[1] <= model.context_length:
        with tt.no_grad():
            return model(tokens).numpy()
    return sliding_window_logits(model, tokens, REENCODE_EVERY)


def generate(model, prompt: np.ndarray, max_new_tokens: int) -> np.ndarray:
    """Greedy continuation with the KV cache (sliding past the context length when REENCODE_EVERY is set)."""
    return model.generate(prompt, max_new_tokens, temperature=0.0, use_kv_cache=True,
                          reencode_every=REENCODE_EVERY).numpy()
'''
TRAIN_PY = '''

def train(event: str, inputs: np.ndarray, labels: np.ndarray, seed: int):
    """MLP Sprint: train a fresh MLP (the reference architecture) with SGD + momentum; yield it after every epoch."""
    tt.manual_seed(seed)
    model = build("mnist_mlp")
    optimizer = optim.SGD(model.parameters(), lr=TRAINING["lr"], momentum=TRAINING["momentum"])
    loader = DataLoader(TensorDataset(inputs, labels), batch_size=TRAINING["batch_size"], shuffle=True, seed=seed)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(TRAINING["max_epochs"]):
        model.train()
        for batch_inputs, batch_labels in loader:
            optimizer.zero_grad()
            loss_fn(model(batch_inputs), batch_labels).backward()
            optimizer.step()
        model.eval()
        yield model
'''
KINDS = {"transformer_decathlon": "generation", "mlp_sprint": "training", "mlp_sprint_offline": "training"}


def model_source(events: Iterable[str], reencode_every: int | None = None) -> str:
    """model.py for an entry of `events`: load() through tinytorch.rebuild.load_model, plus the entry points the
    events need (predict; next_token_logits + generate with the sliding KV cache's REENCODE_EVERY; train)."""
    kinds = {KINDS.get(event, "inference") for event in events}
    loaded = {event: EVENT_MODELS[event] for event in events if event in EVENT_MODELS}
    imports, settings = ["load_model"], []
    extra = []
    if "generation" in kinds:
        extra.append("from tinytorch.competition import sliding_window_logits")
        settings.append("# Sliding KV cache: re-encode the window every N generated tokens past the context (None: "
                        f"never slide).\nREENCODE_EVERY = {reencode_every!r}")
    if "training" in kinds:
        imports.insert(0, "build")
        extra += ["from tinytorch import nn, optim", "from tinytorch.data import DataLoader, TensorDataset"]
        settings.append("# MLP Sprint: the training recipe of tinytorch.train.mlp.\n"
                        'TRAINING = {"batch_size": 64, "lr": 0.05, "momentum": 0.9, "max_epochs": 20}')
    source = MODEL_PY.format(rebuild_imports=", ".join(imports), extra_imports="".join(f"{line}\n" for line in extra),
                             event_models=pformat(loaded, width=110, sort_dicts=False),
                             settings="".join(f"{line}\n" for line in settings))
    parts = {"inference": PREDICT_PY, "generation": GPT_PY, "training": TRAIN_PY}
    return source + "".join(parts[kind] for kind in ("inference", "generation", "training") if kind in kinds)


ALIASES = {"int8": "quantization", "int8_quantization": "quantization", "int4_quantization": "int4",
           "sliding_kv_cache": "kv_cache", "channel_pruning": "structured_pruning",
           "kvcaching": "kv_cache", "kv_caching": "kv_cache", "magnitude_pruning": "pruning"}
OTHER_TECHNIQUES = {"none": "the reference model, unchanged",
                    "distillation": "a smaller student trained on a teacher's softened outputs (tinytorch.distill)",
                    "knowledge_distillation": "a smaller student trained on a teacher's softened outputs "
                                              "(tinytorch.distill)"}


def _describe(technique: str) -> str:
    key = technique.strip().lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key, key)
    return TECHNIQUES.get(key) or OTHER_TECHNIQUES.get(key) or "explain here what it changes and why"


def _readme(name: str, recipe: dict[str, Any], techniques: list[str], events: list[str], extra: str) -> str:
    lines = [f"# {name}", "", f"Model: {recipe['model']} ({recipe['config']}), rebuilt by model.py from its recipe.",
             "", "## Techniques", ""]
    lines += [f"- **{t}**: {_describe(t)}" for t in techniques]
    lines += ["", "## Performance report", "", extra or
              f"Measure it with `tito benchmark run --event {events[0]} --submission submissions/{name}`.",
              "", "## Reproduction", "",
              "Written by `tinytorch.competition.generate_submission(model=optimize_closed_division(...))`; "
              f"benchmark with `tito benchmark run --event {events[0]} --submission submissions/{name}`.", ""]
    return "\n".join(lines)


__all__ = ["TECHNIQUES", "check_rebuilds", "design_open_division", "event_for", "generate_baseline",
           "generate_submission", "load_entry", "load_model", "model_source",
           "optimize_closed_division", "sliding_window_logits", "write_entry"]
