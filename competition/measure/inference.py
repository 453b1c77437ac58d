"""Inference events: wall time of n_inferences predictions in batches, single-sample latency, resident peak, and
the accuracy of the timed outputs themselves (docs/measurement.md, "Inference events")."""

from __future__ import annotations

import math

import numpy as np

from competition.datasets import EventData
from competition.measure import audit, stats, verify
from competition.measure.contender import Contender
from competition.measure.draws import ImageDraws, batches, perturbed
from competition.measure.protocols import (Context, Outcome, Sampler, clock_overhead, energy_of, fastest_passes,
                                           measurements, memory_of, planned_repeats, request_batches, respawner)
from competition.measure.timing import interleaved_rounds


def measure(event_id: str, protocol: dict, data: EventData, contenders: dict[str, Contender],
            ctx: Context) -> Outcome:
    """Wall time of n_inferences predictions in batches, single-sample latency, resident peak, accuracy of the
    timed outputs. Each round draws fresh images (order, batching, perturbation) shared by the three contenders."""
    cfg, rng = ctx.cfg, ctx.rng
    batch_size, n = int(protocol["batch_size"]), int(protocol["n_inferences"])
    classes = int(data.labels.max()) + 1
    pools = audit.split_pool(len(data.inputs), n, rng)  # the audit pool stays unseen until the audit pass
    draws = ImageDraws(pools.timed, rng)

    def draw(count: int) -> tuple[np.ndarray, list[np.ndarray]]:
        idx = draws.take(count)
        return idx, batches(perturbed(data.inputs[idx], rng), batch_size)

    def predict(c: Contender, xs: list[np.ndarray]) -> tuple[float, float, np.ndarray]:
        """(seconds placing the inputs, seconds of the timed call, checked scores)."""
        placing, names = c.place(xs)
        seconds, outs = c.go("predict", names, units=sum(len(x) for x in xs))
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
    warm = {label: predict(c, xs)[1] for label, c in contenders.items()}
    per_request = request_batches(warm, len(xs))
    requests = [slice(k, k + per_request) for k in range(0, len(xs), per_request)]
    overhead = len(requests) * clock_overhead(contenders["baseline"], xs[requests[0]],
                                              [(len(x), classes) for x in xs[requests[0]]], cfg.overhead_calls, True)
    repeats = planned_repeats(warm, cfg)
    sampler = Sampler.for_kind(cfg, "inference")
    ctx.progress(f"timing up to {sampler.max_rounds} interleaved rounds of {repeats} x {n} predictions "
                 f"({len(requests)} request{'s' if len(requests) > 1 else ''} each)")
    round_inputs: list[list[tuple[np.ndarray, list[np.ndarray]]]] = []
    respawn = respawner(contenders, event_id, cfg)

    def before_round(r: int) -> None:
        """Fresh workers at a unit's first round (respawner), then the round's fresh draws."""
        if respawn is not None:
            respawn(r)
        round_inputs.append([draw(n) for _ in range(repeats)])
    ledger = audit.Ledger(data.labels)
    timed: dict[str, list[list[tuple[float, float]]]] = {label: [] for label in contenders}
    pass_scores: dict[str, list[np.ndarray]] = {label: [] for label in contenders}
    first_outputs: dict[str, np.ndarray] = {}

    def time_request(label: str, r: int) -> float:
        """Time the contender's next request of round r (a pass is len(requests) of them, each pass on its own
        fresh draw); keep (placement, call) seconds, and the pass's predictions once it is complete."""
        if len(timed[label]) == r:
            timed[label].append([])
        done = len(timed[label][r])
        idx, xs = round_inputs[r][done // len(requests)]
        placed, seconds, values = predict(contenders[label], xs[requests[done % len(requests)]])
        timed[label][r].append((placed, seconds))
        pass_scores[label].append(values)
        if done % len(requests) == len(requests) - 1:
            scores = np.concatenate(pass_scores[label])
            pass_scores[label].clear()
            ledger.add(label, idx, scores)
            first_outputs.setdefault(label, scores)
        return math.nan  # the round's value needs every contender's placements: fastest_passes below

    def values_now() -> dict[str, list[float]]:
        return fastest_passes(timed, ("baseline", "baseline_aa"), len(requests))

    interleaved_rounds({label: (lambda r, label=label: time_request(label, r)) for label in contenders},
                       sampler.max_rounds, rng, ctx.progress, before_round, passes=repeats * len(requests),
                       until=sampler.until(values_now))
    values = values_now()
    ctx.progress("fresh-input audit")
    fresh = audit.audit_pass(contenders, data.inputs, pools, batch_size, per_request, predict, rng)
    accuracy, fresh_record = audit.judge(fresh, values, ledger, pools)
    ctx.progress("single-sample latency")
    singles = [perturbed(data.inputs[i:i + 1], rng) for i in draws.take(cfg.latency_samples)]
    out = {}
    for label in ("candidate", "baseline"):
        c = contenders[label]
        latency = np.asarray([single(c, x) for x in singles]) * 1e3
        time_s = stats.estimate(values[label], unit="s", seed=cfg.seed)
        out[label] = measurements(
            accuracy=accuracy[label], time_s=time_s,
            latency_ms={"p50": stats.percentile(latency, 50), "p90": stats.percentile(latency, 90),
                        "n": int(latency.size)},
            throughput_per_s=n / time_s["median"], energy=energy_of(c, ctx.energy_reason), peak_memory=memory_of(c, ctx))
    first_x = np.concatenate(round_inputs[0][0][1])
    return Outcome(out["candidate"], out["baseline"], rounds=len(values["baseline"]), clock_overhead_s=overhead,
                   timed_inputs=first_x, timed_outputs=first_outputs["candidate"],
                   dataset={"fresh_inputs": fresh_record}, **sampler.outcome(values))
