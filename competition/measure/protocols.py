"""The measurement protocol of each event kind: inference, training, generation (see docs/measurement.md).

Each function gets started contenders ("candidate", "baseline", "baseline_aa") and returns the two measurement
objects of the result schema plus the per-round speedup and A/A ratios. Every time is the parent's clock around a
request that carries the round's inputs and returns its outputs; every output that is timed is checked
(measure/verify.py); accuracy comes from the timed outputs. Labels and reference text never leave the parent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import tinytorch.data as ttd
from competition.datasets import EventData, perplexity_windows, prompt_at
from competition.measure import energy, stats, text, verify
from competition.measure.contender import Contender
from competition.measure.draws import ImageDraws, batches, perturbed
from competition.measure.memory import peak_record
from competition.measure.timing import charged, clocked, interleaved_rounds
from competition.sandbox.process import WorkerError


@dataclass(frozen=True)
class RunConfig:
    """How much to measure. `--quick` runs fewer rounds and smaller evaluation subsets; the result records them."""

    rounds: int = 30  # at most; fewer when the timing budget runs out, never fewer than min_rounds
    min_rounds: int = 5
    timing_budget_s: float = 30.0  # estimated seconds of timed calls per event, from the warm-up
    repeats: int = 3  # timed passes per contender per round (fresh inputs each); the round keeps the fastest
    training_rounds: int = 80  # at most; rounds stop once the training budget would be exceeded
    min_training_rounds: int = 3
    training_budget_s: float = 45.0  # seconds of interleaved training rounds (after min_training_rounds)
    latency_samples: int = 100
    perplexity_windows: int = 128
    perplexity_window: int = 128
    overhead_calls: int = 7
    greedy_samples: int = 8  # secret positions per generation checked beyond the first context window
    blas_threads: int = 1
    seed: int = 0  # of the bootstrap only (the run's draws use a secret seed, measure/draws.py)


FULL = RunConfig()
QUICK = RunConfig(rounds=5, min_rounds=3, timing_budget_s=15.0, repeats=2, training_rounds=3, min_training_rounds=1,
                  training_budget_s=10.0, latency_samples=20, perplexity_windows=16, overhead_calls=3)
LABELS = ("candidate", "baseline", "baseline_aa")
MIN_ROUND_S = 0.1  # short passes are repeated until a contender's round lasts about this long...
MAX_REPEATS = 16
LONG_PASS_S = 1.0  # ...and passes this long are not repeated at all (they are stable already)


@dataclass
class Context:
    """What every protocol needs besides the contenders."""

    cfg: RunConfig
    rng: np.random.Generator  # from the run's secret seed
    floor: int | None  # the import-only worker's resident peak
    meter: str
    energy_reason: str | None
    progress: Callable[[str], None]


@dataclass
class Outcome:
    candidate: dict
    baseline: dict
    speedup_ratios: list[float] = field(default_factory=list)
    aa_ratios: list[float] = field(default_factory=list)
    rounds: int = 0
    dataset: dict = field(default_factory=dict)  # corrections to event.dataset (what was really scored)
    clock_overhead_s: float | None = None
    timed_inputs: np.ndarray | None = None  # one timed round's inputs and the candidate's outputs on them
    timed_outputs: np.ndarray | None = None  # (for the closed-division conformance check)
    trained: dict[str, "Trained"] = field(default_factory=dict)  # training: the last model of each contender


@dataclass(frozen=True)
class Trained:
    """A contender's last trained model as its worker reports it (state) and as it was timed (inputs, outputs).
    The state is believed only where the parent can reproduce the outputs from it (competition.conformance)."""

    state: dict[str, np.ndarray] | None
    inputs: np.ndarray
    outputs: np.ndarray | None


def measurements(**values: object) -> dict:
    """A schema `measurements` object: every field present, null where not measured."""
    out = {"accuracy": None, "perplexity": None, "bleu": None, "time_s": None, "latency_ms": None,
           "throughput_per_s": None, "peak_memory": peak_record(None, None, "none"),
           "model_size_bytes": None, "parameter_count": None,
           "energy": energy.energy_record(None, 0, "not measured for this event kind"),
           "reached_target": None, "epochs": None, "achieved_gflops": None, "percent_of_peak": None}
    out.update(values)
    return out


def planned_repeats(warm: dict[str, float], cfg: RunConfig) -> int:
    """Timed passes per contender per round, the same for every contender: cfg.repeats, more for short passes (so a
    round lasts about MIN_ROUND_S), one when any pass lasts LONG_PASS_S or more."""
    if max(warm.values()) >= LONG_PASS_S:
        return 1
    return int(min(MAX_REPEATS, max(cfg.repeats, math.ceil(MIN_ROUND_S / max(min(warm.values()), 1e-6)))))


def fastest_passes(passes: dict[str, list[list[tuple[float, float]]]],
                   honest: tuple[str, ...]) -> dict[str, list[float]]:
    """Per contender and round, its fastest pass: (placement, call) seconds charged by timing.charged against the
    quickest placement of the same inputs by an `honest` (harness-owned) contender."""
    def value(label: str, r: int) -> float:
        return min(charged(call, placed, min(passes[h][r][p][0] for h in honest))
                   for p, (placed, call) in enumerate(passes[label][r]))

    return {label: [value(label, r) for r in range(len(rounds))] for label, rounds in passes.items()}


def planned_rounds(seconds_per_round: float, cfg: RunConfig) -> int:
    """As many rounds as fit the timing budget, between cfg.min_rounds and cfg.rounds."""
    fitting = int(cfg.timing_budget_s // max(seconds_per_round, 1e-9))
    return max(cfg.min_rounds, min(cfg.rounds, fitting))


def _energy(c: Contender, reason: str | None) -> dict:
    if c.rapl is None:
        return energy.energy_record(None, 0, reason)
    return energy.energy_record(c.joules, c.energy_units)


def _ratios(values: dict[str, list[float]]) -> tuple[list[float], list[float]]:
    return (stats.ratios(values["baseline"], values["candidate"]),
            stats.ratios(values["baseline"], values["baseline_aa"]))


def clock_overhead(c: Contender, inputs: list[np.ndarray], output_shapes: list[tuple[int, ...]], calls: int,
                   placed: bool = False) -> float:
    """Median parent-clock seconds of the empty call: the same inputs (placed beforehand if `placed`, else sent with
    the request), zeros of the outputs' shapes back."""
    shapes = [list(s) for s in output_shapes]

    def once() -> float:
        if placed:
            return clocked(c.request, "noop", shapes=shapes, take=c.place(inputs)[1])[0]
        return clocked(c.request, "noop", inputs, shapes=shapes)[0]

    return float(np.median([once() for _ in range(calls)]))


def _memory(c: Contender, ctx: Context) -> dict:
    return peak_record(c.peak_memory(), ctx.floor, ctx.meter)


# -- inference ---------------------------------------------------------------------------------------------------------
def measure_inference(event_id: str, protocol: dict, data: EventData, contenders: dict[str, Contender],
                      ctx: Context) -> Outcome:
    """Wall time of n_inferences predictions in batches, single-sample latency, resident peak, accuracy of the
    timed outputs. Each round draws fresh images (order, batching, perturbation) shared by the three contenders."""
    cfg, rng = ctx.cfg, ctx.rng
    batch_size, n = int(protocol["batch_size"]), int(protocol["n_inferences"])
    classes = int(data.labels.max()) + 1
    draws = ImageDraws(len(data.inputs), rng)

    def draw(count: int) -> tuple[np.ndarray, list[np.ndarray]]:
        idx = draws.take(count)
        return idx, batches(perturbed(data.inputs[idx], rng), batch_size)

    def predict(c: Contender, idx: np.ndarray, xs: list[np.ndarray]) -> tuple[float, float, np.ndarray]:
        """(seconds placing the inputs, seconds of the timed call, checked scores)."""
        placing, names = c.place(xs)
        seconds, outs = c.go("predict", names, units=len(idx))
        values = np.concatenate([verify.scores(o, len(x), classes, c.label) for o, x in zip(outs, xs)])
        return placing, seconds, values

    def single(c: Contender, x: np.ndarray) -> float:
        seconds, (out,) = c.call("predict", [x], units=1)
        verify.scores(out, 1, classes, c.label)
        return seconds

    for c in contenders.values():
        c.reset_peak_memory()
    ctx.progress("warm-up pass of every contender")
    idx, xs = draw(n)
    warm = {label: predict(c, idx, xs)[1] for label, c in contenders.items()}
    overhead = clock_overhead(contenders["baseline"], xs, [(len(x), classes) for x in xs], cfg.overhead_calls, True)
    repeats = planned_repeats(warm, cfg)
    rounds = planned_rounds(sum(warm.values()) * repeats, cfg)
    ctx.progress(f"timing {rounds} interleaved rounds of {repeats} x {n} predictions")
    round_inputs = [[draw(n) for _ in range(repeats)] for _ in range(rounds)]
    predictions: dict[str, list] = {label: [] for label in contenders}
    passes: dict[str, list[list[tuple[float, float]]]] = {label: [] for label in contenders}
    first_outputs: dict[str, np.ndarray] = {}

    def measure(label: str, r: int) -> float:
        """Time the round's passes (each on its own fresh draw); keep (placement, call) seconds of each."""
        passes[label].append([])
        for idx, xs in round_inputs[r]:
            placed, seconds, values = predict(contenders[label], idx, xs)
            predictions[label].append((idx, values.argmax(axis=1)))
            passes[label][-1].append((placed, seconds))
            first_outputs.setdefault(label, values)
        return math.nan  # the round's value needs every contender's placements: fastest_passes below

    interleaved_rounds({label: (lambda r, label=label: measure(label, r)) for label in contenders}, rounds, rng)
    values = fastest_passes(passes, ("baseline", "baseline_aa"))
    ctx.progress("single-sample latency")
    singles = [perturbed(data.inputs[i:i + 1], rng) for i in draws.take(cfg.latency_samples)]
    out = {}
    for label in ("candidate", "baseline"):
        c = contenders[label]
        latency = np.asarray([single(c, x) for x in singles]) * 1e3
        accuracy = verify.rounds_agree(predictions[label], data.labels, label)
        time_s = stats.estimate(values[label], unit="s", seed=cfg.seed)
        out[label] = measurements(
            accuracy=accuracy, time_s=time_s,
            latency_ms={"p50": stats.percentile(latency, 50), "p90": stats.percentile(latency, 90),
                        "n": int(latency.size)},
            throughput_per_s=n / time_s["median"], energy=_energy(c, ctx.energy_reason), peak_memory=_memory(c, ctx))
    speedup, aa = _ratios(values)
    first_x = np.concatenate(round_inputs[0][0][1])
    return Outcome(out["candidate"], out["baseline"], speedup, aa, rounds, clock_overhead_s=overhead,
                   timed_inputs=first_x, timed_outputs=first_outputs["candidate"])


# -- training ----------------------------------------------------------------------------------------------------------
def _train_to_target(c: Contender, event_id: str, protocol: dict, data: EventData, test: list[np.ndarray],
                     seed: int) -> dict:
    """One training round in a fresh worker. The clock runs over every request in which the submission's code runs
    (importing model.py, sending the training data, train(), each next(), predict on the test images after each
    epoch) until the yielded model first reaches the target; its accuracy comes from those timed predictions."""
    target, budget = float(protocol["target_accuracy"]), float(protocol["time_budget_s"])
    classes = int(data.labels.max()) + 1
    c.restart(None, load=False)
    c.reset_peak_memory()
    total = clocked(c.request, "import")[0]  # model.py's top level is submission code too
    total += clocked(c.store, train_x=data.train_inputs, train_y=data.train_labels)[0]
    total += clocked(c.request, "train_start", args=["train_x", "train_y"], event=event_id, seed=seed)[0]
    epochs, acc = 0, None
    while epochs < int(protocol["max_epochs"]) and total <= budget:
        seconds, (header, _) = clocked(c.request, "train_next", timeout=budget - total + 60)
        total += seconds
        if header.get("done"):
            break
        epochs += 1
        seconds, outs = c.call("predict", test)
        total += seconds
        scores = np.concatenate([verify.scores(o, len(x), classes, c.label) for o, x in zip(outs, test)])
        acc = float(np.mean(scores.argmax(axis=1) == data.labels))
        if acc >= target and total <= budget:
            return {"time_s": total, "epochs": epochs, "accuracy": acc, "reached": True, "peak": c.peak_memory(),
                    "outputs": scores}
    return {"time_s": None, "epochs": epochs, "accuracy": acc, "reached": False, "peak": c.peak_memory(),
            "outputs": scores if epochs else None}


def trained_state(c: Contender) -> dict[str, np.ndarray] | None:
    """The state_dict() arrays of the model in c's worker (None if it has none): untimed, after the round."""
    try:
        header, arrays = c.request("state")
    except WorkerError:
        return None
    names = header.get("names")
    return dict(zip(names, arrays)) if isinstance(names, list) and len(names) == len(arrays) else None


def measure_training(event_id: str, protocol: dict, data: EventData, contenders: dict[str, Contender],
                     ctx: Context) -> Outcome:
    """Training wall time to the target accuracy, in interleaved rounds, each contender in a fresh worker per round
    (nothing, not even a trained model, survives from one round to the next). The test images are evaluated in
    batches of 1 000, perturbed and in a new order each round; labels are re-ordered to match in the parent."""
    cfg, rng = ctx.cfg, ctx.rng
    runs: dict[str, list[dict]] = {label: [] for label in contenders}
    round_seed = int(rng.integers(0, 2**31 - 1))
    test_inputs: list[np.ndarray] = []

    def once(label: str, r: int, test: list[np.ndarray], order: np.ndarray) -> float:
        shuffled = EventData(data.name, data.split, labels=data.labels[order], train_inputs=data.train_inputs,
                             train_labels=data.train_labels)
        run = _train_to_target(contenders[label], event_id, protocol, shuffled, test, round_seed)
        runs[label].append(run)
        return run["time_s"] or math.nan

    ctx.progress("training interleaved rounds to the target accuracy")
    values: dict[str, list[float]] = {label: [] for label in contenders}
    started = time.perf_counter()
    for r in range(cfg.training_rounds):
        elapsed = time.perf_counter() - started
        if r >= cfg.min_training_rounds and elapsed * (r + 1) / r > cfg.training_budget_s:
            break  # one more round of the average length would overrun the budget
        order = rng.permutation(len(data.inputs))
        test = batches(perturbed(data.inputs[order], rng), 1000)
        test_inputs[:] = test
        measure = {label: (lambda _r, label=label: once(label, r, test, order)) for label in contenders}
        for label, new in interleaved_rounds(measure, 1, rng).items():
            values[label].extend(new)
    out = {}
    for label in ("candidate", "baseline"):
        last = runs[label][-1]
        reached = [v for v in values[label] if not math.isnan(v)]
        peaks = [run["peak"] for run in runs[label] if run["peak"] is not None]
        out[label] = measurements(
            accuracy=last["accuracy"], time_s=stats.estimate(reached, unit="s", seed=cfg.seed) if reached else None,
            peak_memory=peak_record(max(peaks) if peaks else None, ctx.floor, ctx.meter),
            energy=energy.energy_record(None, 0, "energy is measured for inference and generation events only"),
            reached_target=last["reached"], epochs=last["epochs"])
    pairs = list(zip(values["baseline"], values["candidate"], values["baseline_aa"]))
    speedup = [b / c for b, c, _ in pairs if not (math.isnan(b) or math.isnan(c))]
    aa = [b / a for b, _, a in pairs if not (math.isnan(b) or math.isnan(a))]
    inputs = np.concatenate(test_inputs)
    trained = {label: Trained(trained_state(contenders[label]), inputs, runs[label][-1]["outputs"])
               for label in ("candidate", "baseline")}
    return Outcome(out["candidate"], out["baseline"], speedup, aa, len(values["candidate"]), trained=trained)


# -- generation --------------------------------------------------------------------------------------------------------
def verify_greedy(c: Contender, sequences: list[np.ndarray], prompt_len: int, contexts: list[int],
                  rng: np.random.Generator, samples: int) -> None:
    """Disqualify unless the new tokens are the argmax of c's next_token_logits on what precedes them, for one of
    `contexts` (the longest the model accepts first; a generator may crop its context like the baseline's). Tokens
    beyond the first window: `samples` secret random positions per sequence."""
    def logits_of(windows: np.ndarray) -> np.ndarray:
        return np.concatenate(c.request("call", batches(windows, 16), fn="next_token_logits", kwargs={})[1])

    first_bad = None
    for context in contexts:
        try:
            bad = [verify.greedy_mismatches(s, prompt_len, context, logits_of, samples, rng) for s in sequences]
        except WorkerError:
            continue  # the model does not take windows this long
        if not any(bad):
            return
        first_bad = first_bad or next((k, b[0]) for k, b in enumerate(bad) if b)
    if first_bad is None:
        raise verify.Disqualified(f"{c.label}: next_token_logits failed on every context length {contexts}")
    k, position = first_bad
    raise verify.Disqualified(f"{c.label}: generate() is not greedy decoding of the model's own next_token_logits "
                              f"(sequence {k + 1}, token {position}: not the argmax of the logits before it)")


def measure_generation(event_id: str, protocol: dict, data: EventData, contenders: dict[str, Contender],
                       ctx: Context) -> Outcome:
    """Tokens/s of greedy generation from a fresh secret prompt per round (shared by the contenders); every timed
    output checked against teacher-forced greedy decoding; BLEU of those timed continuations against the real text
    after their prompts; perplexity on fixed validation windows. event.dataset then describes the arrays used."""
    cfg, rng = ctx.cfg, ctx.rng
    new_tokens, prompt_tokens = int(protocol["new_tokens"]), int(protocol["prompt_tokens"])
    window = int(protocol.get("perplexity_window", cfg.perplexity_window))
    windows = perplexity_windows(data.tokens, cfg.perplexity_windows, window)
    total = prompt_tokens + new_tokens
    contexts = sorted({total - 1, 2 * window, window}, reverse=True)

    def prompt() -> tuple[np.ndarray, np.ndarray]:
        return prompt_at(data.tokens, int(rng.integers(0, len(data.tokens) - total)), prompt_tokens, new_tokens)

    def generate(c: Contender, p: np.ndarray) -> tuple[float, np.ndarray]:
        seconds, (out,) = c.call("generate", [p], units=new_tokens, max_new_tokens=new_tokens)
        return seconds, verify.tokens(out, p, new_tokens, c.label)

    for c in contenders.values():
        c.reset_peak_memory()
    ctx.progress("warm-up generation of every contender")
    p, _ = prompt()
    warm = {label: generate(c, p)[0] for label, c in contenders.items()}
    overhead = clock_overhead(contenders["baseline"], [p], [(1, total)], cfg.overhead_calls)
    rounds = planned_rounds(sum(warm.values()), cfg)
    prompts = [prompt() for _ in range(rounds)]
    timed_sequences: dict[str, list[np.ndarray]] = {label: [] for label in contenders}

    def measure(label: str, r: int) -> float:
        seconds, seq = generate(contenders[label], prompts[r][0])
        timed_sequences[label].append(seq)
        return seconds

    ctx.progress(f"timing {rounds} interleaved rounds of {new_tokens}-token generation")
    values = interleaved_rounds({label: (lambda r, label=label: measure(label, r)) for label in contenders},
                                rounds, rng)
    references = [reference.tolist() for _, reference in prompts]
    out, logits = {}, {}
    for label in ("candidate", "baseline"):
        c = contenders[label]
        ctx.progress(f"{label}: perplexity" + (", greedy check of every timed generation" if label == "candidate" else ""))
        memory = _memory(c, ctx)
        if label == "candidate":  # the baseline is the harness's own reference entrant
            verify_greedy(c, timed_sequences[label], prompt_tokens, contexts, rng, cfg.greedy_samples)
        logits[label] = np.concatenate(c.call("next_token_logits", batches(windows[:, :-1], 16))[1])
        time_s = stats.estimate(values[label], unit="s", seed=cfg.seed)
        out[label] = measurements(
            perplexity=text.perplexity(logits[label], windows[:, 1:]),
            bleu=text.corpus_bleu([s[0, prompt_tokens:].tolist() for s in timed_sequences[label]], references),
            time_s=time_s, throughput_per_s=new_tokens / time_s["median"], energy=_energy(c, ctx.energy_reason),
            peak_memory=memory)
    speedup, aa = _ratios(values)
    used = ttd.dataset_sha256(windows, *(p for p, _ in prompts), *(np.asarray(r) for r in references))
    scored = {"sha256": used, "n_examples": int(windows[:, 1:].size)}
    return Outcome(out["candidate"], out["baseline"], speedup, aa, rounds, dataset=scored, clock_overhead_s=overhead,
                   timed_inputs=windows[:, :-1], timed_outputs=logits["candidate"])
