"""Run one event for one submission against the baseline (+ an A/A baseline twin) -> a schema-valid result dict.

Flow: jail check -> static check -> dataset (parent only) -> the weight files each load() needs (measure/weights.py)
-> import-only worker (memory floor, GEMM peak) -> candidate, baseline and baseline twin workers -> the event kind's
protocol (measure/inference.py, training.py, generation.py), timed and verified by this process -> closed-division
conformance -> scores (competition.scoring). Nothing from the submission runs in this process, and no number in the result comes from
the worker: it returns outputs, which are checked here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

import competition
import numpy as np

from competition import conformance, private_split, scoring
from competition.conformance import architecture
from competition.datasets import load_event_data
from competition.measure import (draws, energy, flops, gemm, generation, hardware, inference, memory, protocols,
                                 provenance, training, verify, weights)
from competition.measure.contender import Contender, start_all
from competition.measure.source_payload import payload_problems
from competition.measure.stats import estimate
from competition.rules import Event, load_rules
from competition.sandbox import jail
from competition.sandbox.limits import Limits
from competition.sandbox.process import WorkerError, inert
from competition.sandbox.static_check import check_folder
from competition.validation import manifest

Progress = Callable[[str], None]


def run_event(event_id: str, submission_dir: Path, baseline_dir: Path, runner_class: str = "local",
              quick: bool = False, progress: Progress | None = None, budget_scale: float = 1.0) -> dict:
    """Measure `submission_dir` on `event_id` against `baseline_dir` on this machine; return the result dict.
    `budget_scale` multiplies the rounds and timing budgets of a full run (protocols.scaled).
    Raises jail.JailUnavailable for runner classes that must be jailed when the jail does not work here."""
    say = progress or (lambda message: None)
    jail_state = jail.require(runner_class)
    if not jail_state.available:
        say(f"WARNING: the OS jail is not available ({jail_state.reason}); the submission runs in a plain process "
            "sandbox and this result will never be ranked")
    event = load_rules().event(event_id)
    cfg = protocols.QUICK if quick else protocols.scaled(protocols.FULL, budget_scale)
    rng, seed_sha256 = draws.secret_seed()
    submission_dir, baseline_dir = Path(submission_dir), Path(baseline_dir)
    result = _skeleton(event, submission_dir, runner_class, _now(), cfg, seed_sha256, quick,
                       1.0 if quick else float(budget_scale))
    training = [event.id] if event.kind == "training" else []
    problems = [("static_check", p) for p in check_folder(submission_dir) + payload_problems(submission_dir, training)]
    problems += _closed_problems(event, submission_dir, baseline_dir, result)
    ratios, units = None, None
    stage = ["measure"]  # the stage running now, named in the error if it fails
    if problems:
        result["status"] = "disqualified"
        result["errors"] = [{"stage": where, "message": inert(p, 2000)} for where, p in problems[:50]]
    else:
        try:
            ratios, units = _measure(event, submission_dir, baseline_dir, cfg, rng, result, say, stage)
        except verify.Disqualified as err:
            result["status"] = "disqualified"
            result["candidate"] = None
            result["errors"].append({"stage": "verify", "message": str(err)[:2000]})
        except (WorkerError, ValueError, KeyError, TypeError, OSError) as err:
            result["status"] = "failed"
            result["errors"].append({"stage": stage[0], "message": str(err)[:2000]})
    result["scores"] = scoring.score(event, result["candidate"], result["baseline"], speedup_ratios=ratios,
                                     aa_speedup=result["noise"]["aa_speedup"], runner_class=runner_class,
                                     speedup_units=units)
    result["finished_at"] = _stamp(_now())
    return result


def _closed_problems(event: Event, folder: Path, baseline_dir: Path, result: dict) -> list[tuple[str, object]]:
    """A closed entry's static conformance (every .npz in the folder, the baseline's keys under the kit's forms), as
    `tito submit --validate-only` checks it: a failure disqualifies before any submission code runs."""
    if result["submission"]["division"] != "closed":
        return []
    problems = conformance.check_folder(folder, baseline_dir, [event.id])
    if problems:
        result["conformance"] = {"division": "closed", "verdict": "fails", "max_abs_diff": None, "tolerance": None,
                                 "reason": inert(f"the shipped weights are not the baseline's architecture: "
                                                 f"{problems[0]}", 480)}
    return [("conformance", p) for p in problems]


def run_events(event_ids: Iterable[str], submission_dir: Path, baseline_dir: Path, runner_class: str = "local",
               quick: bool = False, progress: Progress | None = None) -> list[dict]:
    """run_event for each event id, in order."""
    return [run_event(e, submission_dir, baseline_dir, runner_class, quick, progress) for e in event_ids]


def _loads(event: Event, limits: Limits, blas_threads: int) -> Callable[[Path], bool]:
    """Whether a fresh worker on a folder imports model.py and runs load(event) without error."""
    def loads(folder: Path) -> bool:
        try:
            Contender("weights-probe", folder, limits, blas_threads).start(event.id, load=True).close()
        except WorkerError:
            return False
        return True
    return loads


def _measure(event: Event, submission_dir: Path, baseline_dir: Path, cfg: protocols.RunConfig,
             rng: np.random.Generator, result: dict, say: Progress,
             stage: list[str]) -> tuple[list[float] | None, list[int] | None]:
    """Fill the measured parts of `result`; return the per-round speedup ratios (None if there are none) and the
    independent unit of each (protocols.Sampler)."""
    stage[0] = "dataset"
    say(f"{event.id}: loading {event.dataset}/{event.split}")
    data = private_split.load_private_split(event) or load_event_data(event.dataset, event.split, event.kind)
    result["event"]["dataset"].update(private_split.dataset_record(data))
    rapl, energy_reason = energy.find_rapl()
    limits = _limits(event, cfg)
    stage[0] = "weights"
    say("finding the weight files load() needs")
    loads = _loads(event, limits, cfg.blas_threads)
    shipped = {"candidate": weights.shipped(submission_dir, event.kind, loads)}
    same = provenance.tree_sha256(submission_dir) == provenance.tree_sha256(baseline_dir)  # an A/A run: probe once
    shipped["baseline"] = shipped["candidate"] if same else weights.shipped(baseline_dir, event.kind, loads)
    reference = Contender("import-only", None, limits, cfg.blas_threads)
    contenders = {label: Contender(label, shipped[label.removesuffix("_aa")].folder, limits, cfg.blas_threads, rapl)
                  for label in protocols.LABELS}
    try:
        stage[0] = "reference"
        say("measuring the import-only worker and this runner's GEMM peak")
        reference.start(None, load=False)
        floor = memory.peak_bytes(reference.worker)
        result["runner"]["gemm_gflops"] = gemm.gemm_gflops(reference)
        result["sandbox"] = reference.worker.sandbox_record()
        reference.close()
        stage[0] = "load"
        start_all(list(contenders.values()), event.id, load=event.kind != "training", progress=say)
        stage[0] = "measure"
        kind_protocol = {"inference": inference.measure, "training": training.measure,
                         "generation": partial(generation.measure, division=result["submission"]["division"])
                         }[event.kind]
        ctx = protocols.Context(cfg, rng, floor, reference.worker.memory_meter, energy_reason, say)
        outcome = kind_protocol(event.id, dict(event.protocol), data, contenders, ctx)
    finally:
        reference.close()
        for contender in contenders.values():
            contender.close()
        for item in shipped.values():
            weights.discard(item)
    for label, measured in (("candidate", outcome.candidate), ("baseline", outcome.baseline)):
        measured["model_size_bytes"] = shipped[label].model_size_bytes
        measured["parameter_count"] = shipped[label].parameter_count
    stage[0] = "conformance"
    divisions = {"candidate": result["submission"]["division"], "baseline": _submission_meta(baseline_dir)["division"]}
    for label, folder, measured in (("candidate", submission_dir, outcome.candidate),
                                    ("baseline", baseline_dir, outcome.baseline)):
        count = flops.pass_flops(event.id, event.kind, divisions[label], folder, outcome.timed_inputs)
        if count:
            measured.update(flops.throughput(count, measured["time_s"]["median"], result["runner"]["gemm_gflops"]))
    records = {label: _conformance(event, folder, divisions[label], outcome, label)
               for label, folder in (("candidate", submission_dir), ("baseline", baseline_dir))}
    result["event"]["dataset"].update(outcome.dataset)
    result["candidate"], result["baseline"] = outcome.candidate, outcome.baseline
    result["config"]["rounds"] = outcome.rounds
    aa = estimate(outcome.aa_ratios, seed=cfg.seed, units=outcome.aa_units) if outcome.aa_ratios else None
    result["noise"] = {"aa_speedup": aa, "rounds": outcome.rounds, "clock_overhead_s": outcome.clock_overhead_s}
    if outcome.sampling is not None:
        result["noise"]["sampling"] = outcome.sampling
    result["conformance"] = records["candidate"]
    if conformance.is_refused(result["conformance"]):
        raise verify.Disqualified(f"closed division: {result['conformance']['reason']}")
    return (outcome.speedup_ratios or None), (outcome.speedup_units if outcome.speedup_ratios else None)


def _conformance(event: Event, folder: Path, division: str, outcome: protocols.Outcome, label: str) -> dict:
    """Closed division: timed outputs against the shipped weights run by tinytorch's reference (inference: one timed
    pass; generation: the perplexity windows), or against the trained weights the worker reports (training; if they
    reproduce the timed outputs, their array bytes become the model size the parent could not otherwise read)."""
    def not_checked(reason: str) -> dict:
        return {"division": division, "verdict": "not_checked", "max_abs_diff": None, "tolerance": None,
                "reason": reason}

    if division != "closed":
        return conformance.conformance_record(division, None, None, "outputs")
    if event.id not in architecture.EVENT_MODELS:
        return not_checked(f"{event.id} has no reference model in competition.conformance")
    trained = outcome.trained.get(label)
    if event.kind == "training" and (trained is None or trained.state is None):
        return not_checked("the trained model has no state_dict() to compare")
    try:
        if trained is not None:
            reference = conformance.reference_outputs_from_state(event.id, trained.state, trained.inputs)
            record = conformance.conformance_record(division, trained.outputs, reference, "logits")
            if record["verdict"] == "conforms":  # the reported weights are the timed model's: count them
                measured = outcome.candidate if label == "candidate" else outcome.baseline
                measured["model_size_bytes"] = int(sum(a.nbytes for a in trained.state.values()))
                measured["parameter_count"] = int(sum(a.size for a in trained.state.values()))
            return record
        if label != "candidate":
            return not_checked("only the candidate's timed outputs are compared")
        reference = conformance.reference_outputs(event.id, folder, outcome.timed_inputs)
    except conformance.ConformanceError as err:
        return conformance.failed_record(division, err)
    return conformance.conformance_record(division, outcome.timed_outputs, reference, "logits")


def _limits(event: Event, cfg: protocols.RunConfig) -> Limits:
    budget = float(event.protocol.get("time_budget_s", 0))
    rounds = cfg.min_training_rounds + 1 if event.kind == "training" else 1
    wall = 900.0 + cfg.training_budget_s + rounds * (budget + 60.0)
    return Limits(wall_seconds=wall, cpu_seconds=int(wall) * 2)


def _skeleton(event: Event, submission_dir: Path, runner_class: str, started: dt.datetime,
              cfg: protocols.RunConfig, seed_sha256: str, quick: bool, budget_scale: float) -> dict:
    meta = _submission_meta(submission_dir)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    return {
        "schema_version": 1,
        "result_id": f"{meta['name']}--{event.id}--{runner_class}--{stamp}",
        "submission": {**meta, "tree_sha256": provenance.tree_sha256(submission_dir)},
        "event": {"id": event.id, "name": event.name, "official": bool(event.official), "kind": event.kind,
                  "dataset": {"name": event.dataset, "split": event.split, "n_examples": 0, "sha256": None,
                              "visibility": "public"}},
        "runner": {"class": runner_class, "hardware": hardware.fingerprint(cfg.blas_threads), "gemm_gflops": None},
        "harness": {"version": competition.__version__, "git_commit": provenance.git_commit()},
        "started_at": _stamp(started),
        "finished_at": None,
        "status": "ok",
        "errors": [],
        "sandbox": {"network_isolated": False, "method": "not started", "limits": {}},
        "config": {"quick": quick, "rounds": 0, "blas_threads": cfg.blas_threads,
                   "seed_sha256": seed_sha256, "budget_scale": budget_scale},
        "conformance": {"division": meta["division"], "verdict": "not_checked", "max_abs_diff": None,
                        "tolerance": None, "reason": "the run did not reach the conformance check"},
        "candidate": None,
        "baseline": None,
        "noise": {"aa_speedup": None, "rounds": 0, "clock_overhead_s": None},
        "scores": None,
    }


def _submission_meta(folder: Path) -> dict:
    """Identity fields from submission.yaml (validated elsewhere); the folder name is the submission name."""
    doc = manifest.read_bounded(folder / "submission.yaml")

    def text(value: object, limit: int) -> str:  # printable, bounded: it reaches terminals, markdown and the site
        return inert(value if isinstance(value, str) else "", limit)

    techniques = doc.get("techniques_used")
    return {
        "name": text(folder.resolve().name.lower(), 100),
        "athlete_name": text(doc.get("athlete_name"), 100) or text(folder.resolve().name, 100),
        "github_handle": text(doc.get("github_handle"), 39) or "unknown",
        "team": text(doc.get("team"), 100) if isinstance(doc.get("team"), str) else None,
        "division": doc.get("division") if doc.get("division") in ("closed", "open") else "open",
        "techniques_used": [text(t, 80) for t in techniques[:32]] if isinstance(techniques, list) else [],
    }


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _stamp(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
