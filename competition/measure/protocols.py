"""The measurement protocol of each event kind: inference, training, generation (see docs/measurement.md).

Each function gets started contenders ("candidate", "baseline", "baseline_aa") and returns the two measurement
objects of the result schema plus the per-round speedup and A/A ratios. Only the parent scores: workers return
predictions, logits and tokens; labels and reference text stay here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from competition.datasets import EventData, spaced_prompts, text_eval_set
from competition.measure import energy, stats, text
from competition.measure.contender import Contender
from competition.measure.timing import interleaved_rounds


@dataclass(frozen=True)
class RunConfig:
    """How much to measure. `--quick` runs fewer rounds and smaller evaluation subsets (latency samples, perplexity
    windows, BLEU prompts); the result records the counts. Accuracy always covers the whole test split."""

    rounds: int = 30  # at most; fewer when the timing budget runs out, never fewer than min_rounds
    min_rounds: int = 5
    timing_budget_s: float = 60.0  # estimated seconds of timed calls per event, from the calibration
    repeats: int = 3  # timed values per contender per round; the round keeps the fastest
    training_rounds: int = 80  # at most; rounds stop once the training budget would be exceeded
    min_training_rounds: int = 3
    training_budget_s: float = 90.0  # seconds of interleaved training rounds (after min_training_rounds)
    latency_samples: int = 100
    perplexity_windows: int = 128
    perplexity_window: int = 128
    bleu_prompts: int = 4
    blas_threads: int = 1
    seed: int = 0


FULL = RunConfig()
LONG_TIMED_VALUE_S = 1.0
QUICK = RunConfig(rounds=5, min_rounds=3, timing_budget_s=15.0, repeats=2, training_rounds=3, min_training_rounds=1,
                  training_budget_s=10.0, latency_samples=20, perplexity_windows=16, bleu_prompts=1)


@dataclass
class Outcome:
    candidate: dict
    baseline: dict
    speedup_ratios: list[float] = field(default_factory=list)
    aa_ratios: list[float] = field(default_factory=list)
    rounds: int = 0
    dataset: dict = field(default_factory=dict)  # corrections to event.dataset (what was really scored)


def measurements(**values: object) -> dict:
    """A schema `measurements` object: every field present, null where not measured."""
    out = {"accuracy": None, "perplexity": None, "bleu": None, "time_s": None, "latency_ms": None,
           "throughput_per_s": None, "peak_memory": {"tracemalloc_bytes": None, "rss_delta_bytes": None},
           "model_size_bytes": None, "parameter_count": None,
           "energy": energy.energy_record(None, 0, "not measured for this event kind"),
           "reached_target": None, "epochs": None, "achieved_gflops": None, "percent_of_peak": None}
    out.update(values)
    return out


def accuracy(scores: np.ndarray, labels: np.ndarray, who: str) -> float:
    """Fraction of argmax(scores) equal to labels; the output shape is checked first."""
    if scores.ndim != 2 or len(scores) != len(labels):
        raise ValueError(f"{who}: predict() must return (N, classes) = ({len(labels)}, ...), got {scores.shape}")
    return float(np.mean(np.argmax(scores, axis=1) == labels))


def _energy(c: Contender, reason: str | None) -> dict:
    if c.rapl is None:
        return energy.energy_record(None, 0, reason)
    return energy.energy_record(c.joules, c.energy_units)


def _memory_and_flops(c: Contender, call: dict, import_rss: int, seconds_per_call: float,
                      gemm: float | None) -> dict:
    """peak_memory, achieved_gflops and percent_of_peak from one untimed `call` (after the timed rounds)."""
    header, _ = c.request("memory", **call)
    peak = {"tracemalloc_bytes": int(header["tracemalloc_bytes"]),
            "rss_delta_bytes": int(header["max_rss_bytes"]) - import_rss}
    flops = int(header["flops"])
    if not flops:
        return {"peak_memory": peak, "achieved_gflops": None, "percent_of_peak": None}
    achieved = flops / seconds_per_call / 1e9
    return {"peak_memory": peak, "achieved_gflops": achieved,
            "percent_of_peak": 100.0 * achieved / gemm if gemm else None}


def _timed_rounds(contenders: dict[str, Contender], call: dict, units: int, cfg: RunConfig,
                  args_per_round: list[list[str]] | None = None) -> dict[str, list[float]]:
    """Calibrate every contender on `call` (fn, args, kwargs, batch_size), then time interleaved rounds.
    With `args_per_round`, round r uses args_per_round[r] for every contender (fresh inputs each round)."""
    calibrated = {label: c.request("calibrate", **call)[0] for label, c in contenders.items()}
    # Long timed values are already stable; repeating them only costs time. Same repeats for all contenders.
    seconds = [float(c["seconds"]) for c in calibrated.values()]
    repeats = cfg.repeats if max(seconds) < LONG_TIMED_VALUE_S else 1
    rounds = planned_rounds(sum(seconds) * repeats, cfg)
    rounds_done = {label: 0 for label in contenders}

    def measure(label: str) -> float:
        args = args_per_round[rounds_done[label]] if args_per_round else call["args"]
        rounds_done[label] += 1
        return contenders[label].time_once({**call, "args": args}, int(calibrated[label]["loops"]), units, repeats)

    return interleaved_rounds({label: (lambda label=label: measure(label)) for label in contenders},
                              rounds, seed=cfg.seed)


def planned_rounds(seconds_per_round: float, cfg: RunConfig) -> int:
    """As many rounds as fit the timing budget, between cfg.min_rounds and cfg.rounds."""
    fitting = int(cfg.timing_budget_s // max(seconds_per_round, 1e-9))
    return max(cfg.min_rounds, min(cfg.rounds, fitting))


def _ratios(values: dict[str, list[float]]) -> tuple[list[float], list[float]]:
    return (stats.ratios(values["baseline"], values["candidate"]),
            stats.ratios(values["baseline"], values["baseline_aa"]))


def measure_inference(event_id: str, protocol: dict, data: EventData, contenders: dict[str, Contender], cfg: RunConfig,
                      import_rss: int, gemm: float | None, energy_reason: str | None,
                      progress: Callable[[str], None]) -> Outcome:
    """Batch time of n_inferences, single-sample latency, peak memory, accuracy over the whole test split."""
    batch_size, n_inferences = int(protocol["batch_size"]), int(protocol["n_inferences"])
    timed_inputs = data.inputs[np.arange(n_inferences) % len(data.inputs)]
    for c in contenders.values():
        c.store(timed=timed_inputs, batch=data.inputs[:batch_size], test=data.inputs,
                single=data.inputs[:cfg.latency_samples])
    progress("timing interleaved rounds")
    call = {"fn": "predict", "args": ["timed"], "kwargs": {}, "batch_size": batch_size}
    values = _timed_rounds(contenders, call, n_inferences, cfg)
    batches_per_pass = math.ceil(n_inferences / batch_size)
    out = {}
    for label in ("candidate", "baseline"):
        c = contenders[label]
        progress(f"{label}: memory, latency, accuracy")
        batch_call = {"fn": "predict", "args": ["batch"], "kwargs": {}}
        seconds_per_batch = float(np.median(values[label])) / batches_per_pass
        latency = np.asarray(c.request("latency", fn="predict", args=["single"])[0]["values"]) * 1e3
        scores = c.request("run", fn="predict", args=["test"], batch_size=batch_size)[1][0]
        time_s = stats.estimate(values[label], unit="s", seed=cfg.seed)
        out[label] = measurements(
            accuracy=accuracy(scores, data.labels, label), time_s=time_s,
            latency_ms={"p50": stats.percentile(latency, 50), "p90": stats.percentile(latency, 90),
                        "n": int(latency.size)},
            throughput_per_s=n_inferences / time_s["median"],
            model_size_bytes=c.info.get("model_size_bytes"), parameter_count=c.info.get("parameter_count"),
            energy=_energy(c, energy_reason),
            **_memory_and_flops(c, batch_call, import_rss, seconds_per_batch, gemm))
    speedup, aa = _ratios(values)
    return Outcome(out["candidate"], out["baseline"], speedup, aa, len(speedup))


def _train_to_target(c: Contender, event_id: str, protocol: dict, data: EventData, seed: int) -> dict:
    """Train until the test accuracy reaches the target or the budget / epoch cap runs out (evaluation untimed)."""
    target, budget = float(protocol["target_accuracy"]), float(protocol["time_budget_s"])
    max_epochs = int(protocol["max_epochs"])
    c.request("train_start", args=["train_x", "train_y"], event=event_id, seed=seed)
    total, epochs, acc, info = 0.0, 0, None, {}
    while epochs < max_epochs and total <= budget:
        header, _ = c.request("train_epoch", timeout=budget - total + 60)
        if header["done"]:
            break
        epochs, total = epochs + 1, total + float(header["epoch_s"])
        info = {k: header[k] for k in ("model_size_bytes", "parameter_count")}
        scores = c.request("run", fn="predict", args=["test"], batch_size=1000)[1][0]
        acc = accuracy(scores, data.labels, c.label)
        if acc >= target and total <= budget:
            return {"time_s": total, "epochs": epochs, "accuracy": acc, "reached": True, **info}
    return {"time_s": None, "epochs": epochs, "accuracy": acc, "reached": False, **info}


def measure_training(event_id: str, protocol: dict, data: EventData, contenders: dict[str, Contender],
                     cfg: RunConfig, import_rss: int, gemm: float | None, energy_reason: str | None,
                     progress: Callable[[str], None]) -> Outcome:
    """Training wall time to the target accuracy in interleaved rounds. Before them, every contender runs one
    untimed epoch of a fresh train() with tracemalloc on: the warm-up, and the peak-memory measurement."""
    traced = {}
    for label, c in contenders.items():
        c.store(train_x=data.train_inputs, train_y=data.train_labels, test=data.inputs)
        progress(f"{label}: warm-up epoch with tracemalloc")
        c.request("train_start", args=["train_x", "train_y"], event=event_id, seed=cfg.seed)
        traced[label] = c.request("train_epoch", trace_memory=True, timeout=float(protocol["time_budget_s"]) + 60)[0]
    runs: dict[str, list[dict]] = {label: [] for label in contenders}

    def once(label: str) -> float:
        runs[label].append(_train_to_target(contenders[label], event_id, protocol, data, cfg.seed))
        return runs[label][-1]["time_s"] or math.nan

    progress("training interleaved rounds to the target accuracy")
    measure = {label: (lambda label=label: once(label)) for label in contenders}
    values: dict[str, list[float]] = {label: [] for label in contenders}
    started = time.perf_counter()
    for r in range(cfg.training_rounds):
        elapsed = time.perf_counter() - started
        if r >= cfg.min_training_rounds and elapsed * (r + 1) / r > cfg.training_budget_s:
            break  # one more round of the average length would overrun the budget
        for label, new in interleaved_rounds(measure, 1, seed=cfg.seed + r).items():
            values[label].extend(new)
    out = {}
    for label in ("candidate", "baseline"):
        c, last = contenders[label], runs[label][-1]
        reached = [v for v in values[label] if not math.isnan(v)]
        rss = c.request("rss")[0]["max_rss_bytes"]
        out[label] = measurements(
            accuracy=last["accuracy"], time_s=stats.estimate(reached, unit="s", seed=cfg.seed) if reached else None,
            peak_memory={"tracemalloc_bytes": traced[label].get("tracemalloc_bytes"),
                         "rss_delta_bytes": rss - import_rss},
            model_size_bytes=last.get("model_size_bytes"), parameter_count=last.get("parameter_count"),
            energy=energy.energy_record(None, 0, "energy is measured for inference and generation events only"),
            reached_target=last["reached"], epochs=last["epochs"])
    pairs = list(zip(values["baseline"], values["candidate"], values["baseline_aa"]))
    speedup = [b / c for b, c, _ in pairs if not (math.isnan(b) or math.isnan(c))]
    aa = [b / a for b, _, a in pairs if not (math.isnan(b) or math.isnan(a))]
    return Outcome(out["candidate"], out["baseline"], speedup, aa, len(values["candidate"]))


def measure_generation(event_id: str, protocol: dict, data: EventData, contenders: dict[str, Contender],
                       cfg: RunConfig, import_rss: int, gemm: float | None, energy_reason: str | None,
                       progress: Callable[[str], None]) -> Outcome:
    """Tokens/s of greedy generation, perplexity on validation windows, character BLEU of continuations.
    event.dataset then describes the evaluation arrays: their SHA-256 and the number of scored positions."""
    new_tokens, prompt_tokens = int(protocol["new_tokens"]), int(protocol["prompt_tokens"])
    window = int(protocol.get("perplexity_window", cfg.perplexity_window))
    evalset = text_eval_set(data.tokens, cfg.perplexity_windows, window, cfg.bleu_prompts, prompt_tokens, new_tokens)
    kwargs = {"max_new_tokens": new_tokens}
    timing_prompts, _ = spaced_prompts(data.tokens, cfg.rounds + 1, prompt_tokens, new_tokens)
    timing_prompts = timing_prompts[1:]  # the first prompt is also the first BLEU prompt
    round_prompts = {f"prompt{r}": timing_prompts[r:r + 1] for r in range(cfg.rounds)}
    for c in contenders.values():
        c.store(prompt=evalset.prompts[:1], prompts=evalset.prompts, windows=evalset.windows[:, :-1], **round_prompts)
    progress(f"timing interleaved rounds of {new_tokens}-token generation")
    call = {"fn": "generate", "args": ["prompt"], "kwargs": kwargs}
    values = _timed_rounds(contenders, call, new_tokens, cfg, [[name] for name in round_prompts])
    out = {}
    for label in ("candidate", "baseline"):
        c = contenders[label]
        progress(f"{label}: memory, perplexity, BLEU")
        generated = c.request("run", fn="generate", args=["prompts"], batch_size=1, kwargs=kwargs)[1][0]
        expected = (len(evalset.prompts), prompt_tokens + new_tokens)
        if generated.shape != expected:
            raise ValueError(f"{label}: generate() must return {expected[1:]} tokens per prompt, got {generated.shape}")
        logits = c.request("run", fn="next_token_logits", args=["windows"], batch_size=16)[1][0]
        time_s = stats.estimate(values[label], unit="s", seed=cfg.seed)
        out[label] = measurements(
            perplexity=text.perplexity(logits, evalset.windows[:, 1:]),
            bleu=text.corpus_bleu(generated[:, prompt_tokens:].tolist(), evalset.references.tolist()),
            time_s=time_s, throughput_per_s=new_tokens / time_s["median"],
            model_size_bytes=c.info.get("model_size_bytes"), parameter_count=c.info.get("parameter_count"),
            energy=_energy(c, energy_reason),
            **_memory_and_flops(c, call, import_rss, time_s["median"], gemm))
    speedup, aa = _ratios(values)
    scored = {"sha256": evalset.sha256, "n_examples": int(evalset.windows[:, 1:].size)}
    return Outcome(out["candidate"], out["baseline"], speedup, aa, len(speedup), dataset=scored)
