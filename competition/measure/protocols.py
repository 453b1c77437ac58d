"""What the protocols of the three event kinds share (measure/inference.py, training.py, generation.py; see
docs/measurement.md): how much to measure, what a protocol gets and returns, rounds and passes, the clock overhead,
and when to stop measuring.

Each protocol gets started contenders ("candidate", "baseline", "baseline_aa") and returns the two measurement
objects of the result schema plus the per-round speedup and A/A ratios. Every time is the parent's clock around a
request; every output that is timed is checked (measure/verify.py). Labels and reference text never leave the parent.

Independent units and the adaptive stop (any protocol; issue 17). Rounds of one worker process share its luck, so
the speedup interval resamples units, not rounds: a unit is `rounds_per_unit` consecutive rounds in the same
processes, and `respawner` gives every contender fresh workers at each unit's first round. A protocol measures
until the interval is as narrow as the event's target or its budget is spent:

    sampler = Sampler.for_kind(cfg, "generation")                  # target, budget, units from cfg and the kind
    values = interleaved_rounds(measure, sampler.max_rounds, rng, ctx.progress,
                                respawner(contenders, event_id, cfg), until=sampler.until())
    return Outcome(..., **sampler.outcome(values))                  # ratios, their units, the stop record

`until(values_now)` takes a function returning the per-label values so far when the round values are computed
after the rounds (inference: fastest_passes over the placements); a custom loop calls `sampler.until()(rounds_done,
values)` itself after each round and stops when it returns True (training). A shorter unit (one request of a
generation instead of a whole round) needs only `rounds_per_unit` and a respawn schedule that match.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from competition.measure import energy, stats
from competition.measure.contender import Contender
from competition.measure.memory import peak_record
from competition.measure.timing import charged


@dataclass(frozen=True)
class RunConfig:
    """How much to measure. `--quick` runs fewer rounds and smaller evaluation subsets; the result records them."""

    rounds: int = 30  # at most (x max_budget_factor); fewer when the target is reached or the budget runs out
    min_rounds: int = 5  # with respawn_every, at least max(min_rounds / respawn_every, min_units) units
    timing_budget_s: float = 25.0  # the default seconds of rounds per event (respawns included), see Sampler
    repeats: int = 3  # timed passes per contender per round (fresh inputs each); the round keeps the fastest
    training_rounds: int = 80  # at most (x max_budget_factor); the Sampler stops them sooner
    min_training_rounds: int = 5  # = scoring.MIN_UNITS_FOR_VERDICT: each training round is a unit
    training_budget_s: float = 30.0  # seconds of interleaved training rounds (after min_training_rounds)
    latency_samples: int = 100
    perplexity_windows: int = 128
    perplexity_window: int = 128
    overhead_calls: int = 7
    greedy_samples: int = 8  # secret positions per generation checked beyond the first context window
    blas_threads: int = 1
    respawn_every: int = 1  # rounds per worker process = per independent unit (0: one process), see respawner()
    min_units: int = 6  # independent units before the adaptive stop may end the rounds
    # Rounds go on past the default budget, up to this multiple, toward the target. The budgets keep a full 4-event
    # run within 180 s on a quiet 2-vCPU machine when every event spends its maximum (3 x 37.5 s + 45 s of rounds
    # and about 20 s of the rest); 30 s / 45 s x 2 took 201-221 s there, two events spending it.
    max_budget_factor: float = 1.5
    seed: int = 0  # of the bootstrap only (the run's draws use a secret seed, measure/draws.py)


FULL = RunConfig()
QUICK = RunConfig(rounds=5, min_rounds=3, timing_budget_s=15.0, repeats=2, training_rounds=3, min_training_rounds=1,
                  training_budget_s=10.0, latency_samples=20, perplexity_windows=16, overhead_calls=3, respawn_every=0,
                  min_units=3, max_budget_factor=1.0)
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
    speedup_units: list[int] | None = None  # the independent unit of each speedup / A/A ratio (Sampler)
    aa_units: list[int] | None = None
    sampling: dict | None = None  # Sampler.record(): units, why the rounds stopped, the achieved half-width


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


def energy_of(c: Contender, reason: str | None) -> dict:
    if c.rapl is None:
        return energy.energy_record(None, 0, reason)
    return energy.energy_record(c.joules, c.energy_units)


def ratios_of(values: dict[str, list[float]]) -> tuple[list[float], list[float]]:
    """(speedup ratios, A/A ratios) per round, without units (Sampler.outcome gives them with their units)."""
    speedup, _, aa, _ = unit_ratios(values, list(range(len(values["baseline"]))))
    return speedup, aa


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


@dataclass
class Sampler:
    """When to stop the rounds, and which rounds form one independent unit (see the module docstring).

    After each complete unit, once `min_units` are in: stop when the relative half-widths of both the speedup and
    the A/A interval (stats.unit_median_ci) are at most `target` ("target_reached"), or when `max_rounds` are done
    or one more unit at the pace so far would pass `max_budget_s` of wall time, respawns included ("budget_spent").
    Stopping on the interval's width, never on where it lies, leaves the verdict's odds alone. `one_process`: the
    run keeps its workers (respawn_every 0, `--quick`), so all its rounds are one unit (no verdict, the interval is
    the ratios' range); the rounds still pace the budget one by one."""

    target: float
    rounds_per_unit: int
    min_units: int
    max_rounds: int
    max_budget_s: float
    started: float = field(default_factory=time.perf_counter)
    stop: str | None = None
    halfwidths: tuple[float | None, float | None] = (None, None)  # speedup, A/A at the last check
    rounds_done: int = 0
    one_process: bool = False

    @classmethod
    def for_kind(cls, cfg: RunConfig, kind: str, rounds_per_unit: int | None = None) -> "Sampler":
        """The target of `kind` (stats.TARGET_HALFWIDTH), the budget and units of `cfg`: a unit is respawn_every
        rounds (all of them if the run keeps one process; training rounds always run in fresh workers)."""
        training = kind == "training"
        one_process = not training and cfg.respawn_every <= 0
        per_unit = rounds_per_unit or (1 if training or one_process else cfg.respawn_every)
        budget, rounds = ((cfg.training_budget_s, cfg.training_rounds) if training else
                          (cfg.timing_budget_s, cfg.rounds))
        least = cfg.min_training_rounds if training else max(cfg.min_units, math.ceil(cfg.min_rounds / per_unit))
        max_rounds = max(least * per_unit, math.ceil(rounds * cfg.max_budget_factor))
        return cls(stats.TARGET_HALFWIDTH[kind], per_unit, least, max_rounds, budget * cfg.max_budget_factor,
                   one_process=one_process)

    def units(self, rounds: int) -> list[int]:
        """The unit of each of `rounds` rounds."""
        return [0 if self.one_process else r // self.rounds_per_unit for r in range(rounds)]

    def until(self, values_now: Callable[[], Mapping[str, list[float]]] | None = None
              ) -> Callable[[int, Mapping[str, list[float]]], bool]:
        """The stop rule as interleaved_rounds' `until(rounds_done, values)`; `values_now()`, if given, replaces
        the values it is passed (per label, one value per round; NaN where a round has none)."""
        def done(rounds_done: int, values: Mapping[str, list[float]]) -> bool:
            self.rounds_done = rounds_done
            if rounds_done % self.rounds_per_unit and rounds_done < self.max_rounds:
                return False
            self.halfwidths = interval_halfwidths(values_now() if values_now else values, self.units(rounds_done))
            if rounds_done >= self.max_rounds:
                self.stop = "budget_spent"
            elif rounds_done // self.rounds_per_unit >= self.min_units:
                if all(h is not None and h <= self.target for h in self.halfwidths):
                    self.stop = "target_reached"
                elif self.elapsed() * (rounds_done + self.rounds_per_unit) / rounds_done > self.max_budget_s:
                    self.stop = "budget_spent"
            return self.stop is not None
        return done

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def record(self) -> dict:
        """The result's noise.sampling: units used, why the rounds stopped, the achieved half-widths."""
        speed, aa = self.halfwidths
        return {"units": len(set(self.units(self.rounds_done))), "rounds_per_unit": self.rounds_per_unit,
                "stop": self.stop or "budget_spent", "target_halfwidth": self.target, "halfwidth": speed,
                "aa_halfwidth": aa, "seconds": round(self.elapsed(), 3), "max_seconds": self.max_budget_s}

    def outcome(self, values: Mapping[str, list[float]]) -> dict:
        """Outcome's ratio fields from the per-round values: speedup_ratios, aa_ratios, their units, sampling."""
        speedup, speedup_units, aa, aa_units = unit_ratios(values, self.units(len(values["baseline"])))
        return {"speedup_ratios": speedup, "aa_ratios": aa, "speedup_units": speedup_units, "aa_units": aa_units,
                "sampling": self.record()}


def unit_ratios(values: Mapping[str, list[float]], units: list[int]
                ) -> tuple[list[float], list[int], list[float], list[int]]:
    """(speedup ratios, their units, A/A ratios, their units): baseline / candidate and baseline / twin per round,
    leaving out rounds where either time is missing (NaN: a training round that never reached the target)."""
    def paired(other: str) -> tuple[list[float], list[int]]:
        kept = [(b / o, u) for b, o, u in zip(values["baseline"], values[other], units)
                if not (math.isnan(b) or math.isnan(o))]
        return [r for r, _ in kept], [u for _, u in kept]

    return (*paired("candidate"), *paired("baseline_aa"))


def interval_halfwidths(values: Mapping[str, list[float]], units: list[int]) -> tuple[float | None, float | None]:
    """Relative half-widths of the speedup and A/A unit intervals so far (None with fewer than two units)."""
    speedup, speedup_units, aa, aa_units = unit_ratios(values, units)

    def width(ratios: list[float], of: list[int]) -> float | None:
        if len(set(of)) < 2:
            return None
        return stats.halfwidth(*stats.unit_median_ci(ratios, of))
    return width(speedup, speedup_units), width(aa, aa_units)
