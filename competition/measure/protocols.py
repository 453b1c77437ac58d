"""What the protocols of the three event kinds share (measure/inference.py, training.py, generation.py; see
docs/measurement.md): how much to measure, what a protocol gets and returns, rounds and passes, the clock overhead.

Each protocol gets started contenders ("candidate", "baseline", "baseline_aa") and returns the two measurement
objects of the result schema plus the per-round speedup and A/A ratios. Every time is the parent's clock around a
request; every output that is timed is checked (measure/verify.py). Labels and reference text never leave the parent.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from competition.measure import energy, stats
from competition.measure.contender import Contender
from competition.measure.memory import peak_record
from competition.measure.timing import charged


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
    respawn_every: int = 3  # rounds per worker process (0: one process for the whole run), see respawner()
    seed: int = 0  # of the bootstrap only (the run's draws use a secret seed, measure/draws.py)


FULL = RunConfig()
QUICK = RunConfig(rounds=5, min_rounds=3, timing_budget_s=15.0, repeats=2, training_rounds=3, min_training_rounds=1,
                  training_budget_s=10.0, latency_samples=20, perplexity_windows=16, overhead_calls=3, respawn_every=0)
LABELS = ("candidate", "baseline", "baseline_aa")
MIN_ROUND_S = 0.1  # short passes are repeated until a contender's round lasts about this long...
MAX_REPEATS = 16
LONG_PASS_S = 1.0  # ...and passes this long are not repeated at all (they are stable already)
REQUEST_S = 0.05  # a pass is cut into timed requests of about this long (the fastest contender's), request_batches


def scaled(cfg: RunConfig, factor: float) -> RunConfig:
    """`cfg` with `factor` times the timing budgets and round caps: more rounds where the machine is noisy (on the
    2-vCPU development VM, 4x the rounds narrowed the CNN's A/A interval from about 2 % to 0.9-1.5 %)."""
    if factor <= 0:
        raise ValueError(f"budget scale must be positive, got {factor}")
    return replace(cfg, rounds=math.ceil(cfg.rounds * factor), timing_budget_s=cfg.timing_budget_s * factor,
                   training_rounds=math.ceil(cfg.training_rounds * factor),
                   training_budget_s=cfg.training_budget_s * factor)


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


def request_batches(warm: dict[str, float], n_batches: int) -> int:
    """Batches per timed request, the same for every contender: the fewest that keep the fastest contender's request
    about REQUEST_S long (from its warm-up pass of `n_batches`), all of them when its whole pass is shorter.

    A pass in several requests lets the contenders take turns every ~50 ms instead of every pass: on the 2-vCPU
    development VM each turn runs at its own speed, about 5 % sd whether it lasts 30 ms or 300 ms, so more, shorter
    turns in the same time narrow the A/A interval (benchmarks/turn_length.py, docs/measurement.md). Each request
    costs the clock overhead once, which keeps requests from being cut shorter."""
    per_batch = min(warm.values()) / max(n_batches, 1)
    return int(min(n_batches, max(1, math.ceil(REQUEST_S / max(per_batch, 1e-9)))))


def fastest_passes(requests: dict[str, list[list[tuple[float, float]]]], honest: tuple[str, ...],
                   requests_per_pass: int = 1) -> dict[str, list[float]]:
    """Per contender and round, its fastest pass. requests[label][r] lists the (placement, call) seconds of each
    timed request of round r, `requests_per_pass` consecutive ones making a pass; each is charged (timing.charged)
    against the quickest placement of the same inputs by an `honest` (harness-owned) contender, and a pass is their
    sum. The round, not the pass, is the sample: passes of one round share the workers' processes (and their luck)."""
    def value(label: str, r: int) -> float:
        charged_s = [charged(call, placed, min(requests[h][r][k][0] for h in honest))
                     for k, (placed, call) in enumerate(requests[label][r])]
        return min(sum(charged_s[p:p + requests_per_pass]) for p in range(0, len(charged_s), requests_per_pass))

    return {label: [value(label, r) for r in range(len(rounds))] for label, rounds in requests.items()}


def planned_rounds(seconds_per_round: float, cfg: RunConfig) -> int:
    """As many rounds as fit the timing budget, between cfg.min_rounds and cfg.rounds."""
    fitting = int(cfg.timing_budget_s // max(seconds_per_round, 1e-9))
    return max(cfg.min_rounds, min(cfg.rounds, fitting))


def energy_of(c: Contender, reason: str | None) -> dict:
    if c.rapl is None:
        return energy.energy_record(None, 0, reason)
    return energy.energy_record(c.joules, c.energy_units)


def ratios_of(values: dict[str, list[float]]) -> tuple[list[float], list[float]]:
    return (stats.ratios(values["baseline"], values["candidate"]),
            stats.ratios(values["baseline"], values["baseline_aa"]))


def clock_overhead(c: Contender, inputs: list[np.ndarray], output_shapes: list[tuple[int, ...]], calls: int,
                   placed: bool = False) -> float:
    """Median parent-clock seconds of the empty call: the same inputs (placed beforehand if `placed`, else sent with
    the request), zeros of the outputs' shapes back."""
    shapes = [list(s) for s in output_shapes]

    def once() -> float:
        if placed:
            return c.timed("noop", shapes=shapes, take=c.place(inputs)[1])[0]
        return c.timed("noop", inputs, shapes=shapes)[0]

    return float(np.median([once() for _ in range(calls)]))


def memory_of(c: Contender, ctx: Context) -> dict:
    return peak_record(c.peak_memory(), ctx.floor, ctx.meter)


def respawner(contenders: dict[str, Contender], event_id: str, cfg: RunConfig) -> Callable[[int], None] | None:
    """Fresh workers for every contender each cfg.respawn_every rounds (before_round of interleaved_rounds). Two
    identical workers can differ by a few per cent for their whole life (where their buffers landed in memory): with
    one process per contender that luck is a hidden bias the rounds cannot see; spread over several processes it
    becomes variance the bootstrap interval does see."""
    if cfg.respawn_every <= 0:
        return None

    def respawn(r: int) -> None:
        if r and r % cfg.respawn_every == 0:
            for c in contenders.values():
                c.restart(event_id, load=True)
                c.reset_peak_memory()
    return respawn
