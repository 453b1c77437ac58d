"""Training events: the parent's clock over everything the submission's code does until its model first reaches the
target accuracy, each round in fresh workers (docs/measurement.md, "Training events")."""

from __future__ import annotations

import math
from collections.abc import Generator

import numpy as np

from competition.datasets import EventData
from competition.measure import energy, scramble, stats, verify
from competition.measure.contender import Contender
from competition.measure.draws import batches, perturbed
from competition.measure.memory import peak_record
from competition.measure.protocols import Context, Outcome, Sampler, Trained, measurements
from competition.measure.timing import lockstep
from competition.sandbox.process import WorkerError


def _train_to_target(c: Contender, event_id: str, protocol: dict, data: EventData, test: list[np.ndarray],
                     seed: int, task: scramble.Scramble) -> Generator[None, None, dict]:
    """One training round in a fresh worker, one timed request per step (the caller interleaves the contenders'
    steps; the generator returns the round's record). The clock runs over every request in which the submission's
    code runs (importing model.py, sending the training data, train(), each next(), predict on the test images after
    each epoch) until the yielded model first reaches the target; its accuracy comes from those timed predictions.
    `data` and `test` are already scrambled by `task`; `data.labels` are the original classes of `test`'s rows."""
    target, budget = float(protocol["target_accuracy"]), float(protocol["time_budget_s"])
    classes = int(data.labels.max()) + 1
    c.restart(None, load=False)
    c.reset_peak_memory()
    total = c.timed("import")[0]  # model.py's top level is submission code too
    yield
    total += c.timed("store", [data.train_inputs, data.train_labels], names=["train_x", "train_y"])[0]
    yield
    total += c.timed("train_start", args=["train_x", "train_y"], event=event_id, seed=seed)[0]
    epochs, acc, scores = 0, None, None
    while epochs < int(protocol["max_epochs"]) and total <= budget:
        yield
        seconds, (header, _) = c.clocked_request("train_next", timeout=budget - total + 60)
        total += seconds
        if header.get("done"):
            break
        epochs += 1
        yield
        seconds, outs = c.call("predict", test)
        total += seconds
        scores = np.concatenate([verify.scores(o, len(x), classes, c.label) for o, x in zip(outs, test)])
        acc = float(np.mean(task.scores(scores).argmax(axis=1) == data.labels))
        if acc >= target and total <= budget:
            return {"time_s": total, "epochs": epochs, "accuracy": acc, "reached": True, "peak": c.peak_memory(),
                    "outputs": scores}
    return {"time_s": None, "epochs": epochs, "accuracy": acc, "reached": False, "peak": c.peak_memory(),
            "outputs": scores}


def trained_state(c: Contender) -> dict[str, np.ndarray] | None:
    """The state_dict() arrays of the model in c's worker (None if it has none): untimed, after the round."""
    try:
        header, arrays = c.request("state")
    except WorkerError:
        return None
    names = header.get("names")
    return dict(zip(names, arrays)) if isinstance(names, list) and len(names) == len(arrays) else None


def measure(event_id: str, protocol: dict, data: EventData, contenders: dict[str, Contender],
            ctx: Context) -> Outcome:
    """Training wall time to the target accuracy, in interleaved rounds, each contender in a fresh worker per round
    (nothing, not even a trained model, survives from one round to the next). The test images are evaluated in
    batches of 1 000, perturbed and in a new order each round; labels are re-ordered to match in the parent. Each
    round also draws a secret scramble of the pixels and classes (competition.measure.scramble), the same for every
    contender of the round, so a model trained before the run scores chance."""
    cfg, rng = ctx.cfg, ctx.rng
    runs: dict[str, list[dict]] = {label: [] for label in contenders}
    round_seed = int(rng.integers(0, 2**31 - 1))
    classes = int(data.labels.max()) + 1
    test_inputs: list[np.ndarray] = []

    ctx.progress("training interleaved rounds to the target accuracy")
    values: dict[str, list[float]] = {label: [] for label in contenders}
    sampler = Sampler.for_kind(cfg, "training")  # every round runs in fresh workers: a round is a unit
    enough = sampler.until()
    for r in range(sampler.max_rounds):
        order = rng.permutation(len(data.inputs))
        task = scramble.draw(rng, int(np.prod(data.inputs.shape[1:])), classes)
        test = batches(task.images(perturbed(data.inputs[order], rng)), 1000)
        round_data = EventData(data.name, data.split, labels=data.labels[order],
                               train_inputs=task.images(data.train_inputs), train_labels=task.labels(data.train_labels))
        test_inputs[:] = test
        steps = {label: _train_to_target(c, event_id, protocol, round_data, test, round_seed, task)
                 for label, c in contenders.items()}
        for label, run in lockstep(steps, rng).items():
            runs[label].append(run)
            values[label].append(run["time_s"] or math.nan)
        ctx.progress(f"training round {r + 1}/{expected_rounds(r + 1, sampler)}")
        if enough(r + 1, values):
            break
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
    inputs = np.concatenate(test_inputs)
    trained = {label: Trained(trained_state(contenders[label]), inputs, runs[label][-1]["outputs"])
               for label in ("candidate", "baseline")}
    return Outcome(out["candidate"], out["baseline"], rounds=len(values["candidate"]), trained=trained,
                   **sampler.outcome(values))


def expected_rounds(done: int, sampler: Sampler) -> int:
    """How many training rounds the sampler's maximum budget allows at the pace so far (the progress display's
    ETA; the rounds stop sooner when the interval reaches its target width)."""
    elapsed = sampler.elapsed()
    fitting = int(sampler.max_budget_s / (elapsed / done)) if elapsed > 0 else sampler.max_rounds
    return max(done, min(sampler.max_rounds, max(sampler.min_units, fitting)))
