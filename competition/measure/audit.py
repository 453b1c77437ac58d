"""The fresh-input audit of inference events: timed work is work a deployed model would do, on inputs it has never
seen (docs/measurement.md, "Inference events").

Before the warm-up a secret part of the test images, the audit pool (half of them, at most one pass of
n_inferences), is set aside: the warm-up, the timed rounds, the clock-overhead calls and the latency samples draw
only from the rest, the timed pool. After the rounds every contender predicts the audit pool once, perturbed like
every timed input, in the same batches and requests, interleaved in a secret slot order and timed by the parent
like the rounds (placement charged the same way). A cache of any kind (exact bytes, rounded pixels, nearest
neighbour) answers only for images it has seen; on the audit it must compute, so its speedup there falls back to
what its model really does, and its outputs for images it never saw are its model's own.

The candidate is disqualified when
- time: its speedup over the timed rounds (median of the rounds' ratios) is more than TIME_TOLERANCE times its
  speedup on each of the audit's two halves (a ratio of ratios: the machine's speed cancels) - "faster on inputs it
  had seen before";
- accuracy: its accuracy on the timed pool beats its accuracy on the audit pool by more than ACCURACY_Z standard
  errors of the difference, or the gap exceeds MAX_ACCURACY_GAP - "more accurate on inputs it had seen before".
The time check needs an audit long enough to time: when the baseline's shorter half lasts under MIN_AUDIT_S (a
model of a few milliseconds a pass, where one preemption by the machine's other load can double a half), the ratios
are recorded but not judged (`time_checked` false); a cache on such a model is then caught only if its outputs
repeat or its accuracy drops on the audit. The A/A twin goes through the same audit, and its ratios are recorded:
the honest spread of this run.
The result's `event.dataset.fresh_inputs` records the pools, the ratios, the accuracies, and whether the dataset was
large enough for a full audit (an audit pool of a whole timed pass and a timed pool of at least one pass).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from competition.measure import verify
from competition.measure.contender import Contender
from competition.measure.draws import batches, perturbed
from competition.measure.protocols import fastest_passes
from competition.measure.timing import interleaved_rounds

HONEST = ("baseline", "baseline_aa")  # harness-owned contenders whose placements charge the others'
TIME_TOLERANCE = 1.5  # timed speedup / audit speedup; see docs/measurement.md for the measured honest spread
MIN_AUDIT_S = 0.02  # the baseline's shorter audit half must last this long for the time check (else not timed)
ACCURACY_Z = 4.0
MAX_ACCURACY_GAP = 0.10  # whatever the pool sizes (tiny pools make the z-test wide)
Predict = Callable[[Contender, list[np.ndarray]], tuple[float, float, np.ndarray]]


@dataclass(frozen=True)
class Pools:
    """Indices of the test images the timed work draws from, and of those held back for the audit."""

    timed: np.ndarray
    audit: np.ndarray
    n_inferences: int

    @property
    def complete(self) -> bool:
        """Whether the dataset is large enough: an audit of a whole timed pass, and a timed pool of at least one."""
        return self.audit.size >= self.n_inferences and self.timed.size >= self.n_inferences

    def record(self) -> dict:
        """The pools part of the result's event.dataset.fresh_inputs."""
        out = {"timed_pool": int(self.timed.size), "audit_pool": int(self.audit.size), "complete": self.complete,
               "limit": None}
        if not self.complete:
            n = self.timed.size + self.audit.size
            out["limit"] = (f"the test set has {n} images, too few for a full audit: {self.audit.size} are held back "
                            f"(a timed pass is {self.n_inferences}) and the timed passes repeat the other "
                            f"{self.timed.size}; the audit's time rests on fewer inputs, so a cache may gain up to "
                            f"{TIME_TOLERANCE}x undetected")
        return out


def split_pool(n_images: int, n_inferences: int, rng: np.random.Generator) -> Pools:
    """A secret audit pool of min(n_inferences, n_images // 2) images; the timed pool is the rest."""
    order = rng.permutation(n_images)
    size = min(n_inferences, n_images // 2)
    return Pools(timed=np.sort(order[size:]), audit=np.sort(order[:size]), n_inferences=n_inferences)


class Ledger:
    """Every checked pass of every contender: the images, the predicted classes and a key of each output row."""

    def __init__(self, labels: np.ndarray) -> None:
        self.labels = labels
        self.passes: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.keys: dict[str, list[np.ndarray]] = {}

    def add(self, label: str, idx: np.ndarray, scores: np.ndarray) -> None:
        self.passes.setdefault(label, []).append((idx, scores.argmax(axis=1)))
        self.keys.setdefault(label, []).append(verify.row_keys(scores))

    def accuracy(self, label: str, more_scores: np.ndarray) -> tuple[float, float]:
        """(accuracy over the timed passes after verify.rounds_agree, the fraction of repeated rows after
        verify.distinct_outputs over their rows and `more_scores`, the audit's)."""
        accuracy = verify.rounds_agree(self.passes[label], self.labels, label)
        keys = np.concatenate([*self.keys[label], verify.row_keys(more_scores)])
        return accuracy, verify.distinct_outputs(keys, label)


@dataclass
class Audit:
    """The audit pass: per contender, the charged seconds of each of its two halves, and its checked scores on the
    audit pool (in `idx` order)."""

    idx: np.ndarray
    seconds: dict[str, list[float]]
    scores: dict[str, np.ndarray]


def audit_pass(contenders: Mapping[str, Contender], inputs: np.ndarray, pools: Pools, batch_size: int,
               per_request: int, predict: Predict, rng: np.random.Generator) -> Audit:
    """Every contender predicts the audit pool once (fresh order and perturbation), in two halves of whole batches
    timed as two rounds of the timed protocol: request by request in the secret balanced slot order, each request
    placed, timed and charged like theirs. Two halves, because a burst of the machine's own load can slow one turn
    of one contender: it must hit both halves to make an honest entry look like a cache."""
    idx = rng.permutation(pools.audit)
    xs = batches(perturbed(inputs[idx], rng), batch_size)
    cut = (len(xs) + 1) // 2
    halves = [[h[k:k + per_request] for k in range(0, len(h), per_request)] for h in (xs[:cut], xs[cut:])]
    timed: dict[str, list[list[tuple[float, float]]]] = {label: [] for label in contenders}
    scores: dict[str, list[np.ndarray]] = {label: [] for label in contenders}

    def request(label: str, half: int) -> float:
        if len(timed[label]) == half:
            timed[label].append([])
        placed, seconds, values = predict(contenders[label], halves[half][len(timed[label][half])])
        timed[label][half].append((placed, seconds))
        scores[label].append(values)
        return math.nan

    for half, requests in enumerate(halves):  # the halves may have different numbers of requests
        interleaved_rounds({label: (lambda r, label=label: request(label, half)) for label in contenders}, 1, rng,
                           passes=len(requests))
    charged = {label: [fastest_passes({k: [v[h]] for k, v in timed.items()}, HONEST, len(requests))[label][0]
                       for h, requests in enumerate(halves)] for label in contenders}
    return Audit(idx, charged, {label: np.concatenate(s) for label, s in scores.items()})


def judge(audit: Audit, values: Mapping[str, list[float]], ledger: Ledger, pools: Pools) -> tuple[dict, dict]:
    """(accuracy over the whole test set per contender, the result's event.dataset.fresh_inputs). Raises
    verify.Disqualified when the candidate is faster or more accurate on the inputs it had seen before."""
    record = pools.record()
    accuracy, audit_accuracy, timed_accuracy, repeated = {}, {}, {}, {}
    for label in ("candidate", "baseline"):
        timed_accuracy[label], repeated[label] = ledger.accuracy(label, audit.scores[label])
        audit_accuracy[label] = float(np.mean(audit.scores[label].argmax(axis=1) == ledger.labels[audit.idx]))
        n_timed, n_audit = pools.timed.size, audit.idx.size
        accuracy[label] = (timed_accuracy[label] * n_timed + audit_accuracy[label] * n_audit) / (n_timed + n_audit)
    ratios = {label: ratios_of_ratios(values, audit.seconds, label) for label in ("candidate", "baseline_aa")}
    record.update({"tolerance": TIME_TOLERANCE, "ratios": ratios["candidate"], "aa_ratios": ratios["baseline_aa"],
                   "accuracy_timed": timed_accuracy["candidate"], "accuracy_audit": audit_accuracy["candidate"],
                   "repeated_outputs": repeated["candidate"]})
    _check_accuracy(timed_accuracy["candidate"], audit_accuracy["candidate"], pools.timed.size, audit.idx.size)
    record["time_checked"] = min(audit.seconds["baseline"]) >= MIN_AUDIT_S
    if record["time_checked"] and min(ratios["candidate"]) > TIME_TOLERANCE:
        shown = " and ".join(f"{r:.2f}x" for r in ratios["candidate"])
        twin = " and ".join(f"{r:.2f}x" for r in ratios["baseline_aa"])
        raise verify.Disqualified(
            f"candidate: faster on inputs it had seen before: caching is not allowed. Its speedup over the timed "
            f"rounds is {shown} its speedup on the two halves of {audit.idx.size} test images it had never seen "
            f"(at most {TIME_TOLERANCE}x allowed; the baseline's twin: {twin})")
    return accuracy, record


def ratios_of_ratios(values: Mapping[str, list[float]], audit_s: Mapping[str, list[float]],
                     label: str) -> list[float]:
    """Per audit half: the contender's speedup over the baseline in the timed rounds (median of the rounds' ratios)
    divided by its speedup on that half."""
    timed = float(np.median([b / c for b, c in zip(values["baseline"], values[label])]))
    return [timed / (b / c) for b, c in zip(audit_s["baseline"], audit_s[label])]


def _check_accuracy(timed: float, audit: float, n_timed: int, n_audit: int) -> None:
    """Disqualify a timed-pool accuracy above the audit's by more than ACCURACY_Z standard errors (the two pools are
    independent samples of the test set; the timed pool counted by its images) or MAX_ACCURACY_GAP."""
    pooled = (timed * n_timed + audit * n_audit) / (n_timed + n_audit)
    se = math.sqrt(max(pooled * (1 - pooled), 1e-4) * (1 / n_timed + 1 / n_audit))
    if timed - audit > min(ACCURACY_Z * se, MAX_ACCURACY_GAP):
        raise verify.Disqualified(
            f"candidate: more accurate on inputs it had seen before: {timed:.1%} on the timed passes against "
            f"{audit:.1%} on {n_audit} test images it had never seen (a gap of {timed - audit:.1%}; at most "
            f"{min(ACCURACY_Z * se, MAX_ACCURACY_GAP):.1%} allowed): caching is not allowed")
