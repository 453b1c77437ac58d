"""Generation events: tokens/s of greedy generation from secret prompts, the timed tokens judged by the trusted side,
BLEU of the timed continuations, perplexity (docs/measurement.md, "Generation events").

A round times SEGMENTS shorter generations per contender, each from a fresh secret prompt shared by the
contenders and interleaved request by request in a secret slot order. Together they cover the positions of one
generation of new_tokens after prompt_tokens: segment s continues a prompt of prompt_tokens + s * L real tokens
by L = new_tokens / SEGMENTS, so a round still generates new_tokens tokens at the same context lengths (past the
context window included) and tokens/s keeps its meaning; each segment re-encodes its longer prompt (one forward
pass) where one long generation would have cached it. A round is an independent unit (fresh workers, Sampler).

Who judges the timed tokens (never a function the entry supplies and can tell apart):
- every division: the greedy check. The entry's next_token_logits is asked once, after the rounds, in a fresh
  worker, on the perplexity windows with the timed sequences' first `window` tokens mixed among them (same width,
  same batches, secret order); each new token inside that width must be (up to ties) the argmax of the row before
  it, and the perplexity is read from the same reply.
- closed: the timed tokens are the reference's greedy decoding of the shipped weights
  (competition.conformance.generation).
- open: the timed tokens are text the baseline GPT, run in this process, finds about as likely as the baseline's
  own generations (judge.py).
"""

from __future__ import annotations

import math

import numpy as np

import tinytorch.data as ttd
from competition import conformance
from competition.conformance import generation as closed_generation
from competition.datasets import EventData, perplexity_windows, prompt_at
from competition.measure import judge, stats, text, verify
from competition.measure.contender import Contender
from competition.measure.draws import batches
from competition.measure.protocols import (Context, Outcome, Sampler, clock_overhead, energy_of, measurements,
                                           memory_of, respawner)
from competition.measure.timing import interleaved_rounds
from competition.rules import load_rules
from competition.validation import BASELINE_DIR

SEGMENTS = 4  # timed generations per contender per round
CHECK_BATCH = 16  # windows per next_token_logits call
CLOSED_JUDGED = 8  # timed generations the closed judge replays (a secret sample)


def segment_prompts(tokens: np.ndarray, prompt_tokens: int, new_tokens: int,
                    rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """One round's (prompt, real continuation) per segment (module docstring), at fresh secret places."""
    if new_tokens % SEGMENTS:
        raise ValueError(f"new_tokens ({new_tokens}) must be a multiple of {SEGMENTS} (the generations per round)")
    step = new_tokens // SEGMENTS
    out = []
    for s in range(SEGMENTS):
        length = prompt_tokens + s * step
        out.append(prompt_at(tokens, int(rng.integers(0, len(tokens) - length - step)), length, step))
    return out


def check_windows(sequences: list[np.ndarray], prompt_lens: list[int], width: int) -> list[int]:
    """Indices of the sequences with new tokens the greedy check sees at `width`: next_token_logits on their first
    `width` tokens predicts positions 1..width, so the prompt must be at most `width` long."""
    return [k for k, (s, n) in enumerate(zip(sequences, prompt_lens)) if s.shape[1] >= width and n <= width]


def judged_logits(c: Contender, perplexity_inputs: np.ndarray, checks: list[np.ndarray],
                  rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    """next_token_logits on the perplexity inputs and the check windows (each (1, width)) mixed in a secret order,
    in batches of CHECK_BATCH: (perplexity logits, one (width, vocab) array per check)."""
    rows = np.concatenate([perplexity_inputs, *checks]) if checks else perplexity_inputs
    order = rng.permutation(len(rows))
    logits = np.concatenate(c.call("next_token_logits", batches(rows[order], CHECK_BATCH))[1])
    if logits.ndim != 3 or logits.shape[:2] != rows.shape or not np.all(np.isfinite(logits)):
        raise verify.Disqualified(f"{c.label}: next_token_logits returned shape {logits.shape} for {rows.shape} "
                                  "token windows (or non-finite values)")
    unmixed = np.empty_like(logits)
    unmixed[order] = logits
    n = len(perplexity_inputs)
    return unmixed[:n], [unmixed[n + k] for k in range(len(checks))]


def measure(event_id: str, protocol: dict, data: EventData, contenders: dict[str, Contender],
            ctx: Context, division: str = "open") -> Outcome:
    """Tokens/s of greedy generation (module docstring); every timed token judged by the trusted side; BLEU of the
    timed continuations against the real text after their prompts; perplexity on fixed validation windows."""
    cfg, rng = ctx.cfg, ctx.rng
    new_tokens, prompt_tokens = int(protocol["new_tokens"]), int(protocol["prompt_tokens"])
    window = int(protocol.get("perplexity_window", cfg.perplexity_window))
    windows = perplexity_windows(data.tokens, cfg.perplexity_windows, window)
    step = new_tokens // SEGMENTS

    def generate(c: Contender, p: np.ndarray) -> tuple[float, np.ndarray]:
        seconds, (out,) = c.call("generate", [p], units=step, max_new_tokens=step)
        return seconds, verify.tokens(out, p, step, c.label)

    for c in contenders.values():
        c.reset_peak_memory()
    ctx.progress("warm-up generation of every contender")
    warm_prompt = segment_prompts(data.tokens, prompt_tokens, new_tokens, rng)[0][0]
    for c in contenders.values():
        generate(c, warm_prompt)
    overhead = SEGMENTS * clock_overhead(contenders["baseline"], [warm_prompt], [(1, prompt_tokens + step)],
                                         cfg.overhead_calls)
    sampler = Sampler.for_kind(cfg, "generation")
    respawn = respawner(contenders, event_id, cfg)
    rounds: list[list[tuple[np.ndarray, np.ndarray]]] = []
    timed: dict[str, list[list[float]]] = {label: [] for label in contenders}
    sequences: dict[str, list[np.ndarray]] = {label: [] for label in contenders}

    def before_round(r: int) -> None:
        if respawn is not None:
            respawn(r)
        rounds.append(segment_prompts(data.tokens, prompt_tokens, new_tokens, rng))

    def time_generation(label: str, r: int) -> float:
        if len(timed[label]) == r:
            timed[label].append([])
        seconds, seq = generate(contenders[label], rounds[r][len(timed[label][r])][0])
        timed[label][r].append(seconds)
        sequences[label].append(seq)
        return math.nan  # the round's value is the sum of its generations: values_now

    def values_now() -> dict[str, list[float]]:
        return {label: [sum(t) if len(t) == SEGMENTS else math.nan for t in per_round]
                for label, per_round in timed.items()}

    ctx.progress(f"timing up to {sampler.max_rounds} interleaved rounds of {SEGMENTS} x {step}-token generations")
    interleaved_rounds({label: (lambda r, label=label: time_generation(label, r)) for label in contenders},
                       sampler.max_rounds, rng, ctx.progress, before_round, passes=SEGMENTS,
                       until=sampler.until(values_now))
    values = values_now()
    prompts = [p for per_round in rounds for p, _ in per_round]
    references = [reference.tolist() for per_round in rounds for _, reference in per_round]
    prompt_lens = [p.shape[1] for p in prompts]
    out, logits = {}, {}
    for label in ("candidate", "baseline"):
        c = contenders[label]
        memory = memory_of(c, ctx)
        c.restart(event_id, load=True)  # a fresh process: nothing it remembers of its generations
        checks = check_windows(sequences[label], prompt_lens, window) if label == "candidate" else []
        checking = f" and greedy check of {len(checks)} timed generations" if checks else ""
        ctx.progress(f"{label}: perplexity{checking}")
        logits[label], check_logits = judged_logits(c, windows[:, :-1], [sequences[label][k][:, :window]
                                                                          for k in checks], rng)
        for k, rows in zip(checks, check_logits):
            bad = verify.greedy_mismatches(sequences[label][k], prompt_lens[k], rows)
            if bad:
                raise verify.Disqualified(f"{c.label}: generate() is not greedy decoding of the model's own "
                                          f"next_token_logits (timed generation {k + 1}, token {bad[0]}: not the "
                                          "argmax of the logits before it)")
        time_s = stats.estimate(values[label], unit="s", seed=cfg.seed)
        out[label] = measurements(
            perplexity=text.perplexity(logits[label], windows[:, 1:]),
            bleu=text.corpus_bleu([s[0, n:].tolist() for s, n in zip(sequences[label], prompt_lens)], references),
            time_s=time_s, throughput_per_s=new_tokens / time_s["median"], energy=energy_of(c, ctx.energy_reason),
            peak_memory=memory)
    _judge(event_id, division, contenders, sequences, prompt_lens, load_rules().event(event_id).max_perplexity,
           rng, cfg.greedy_samples, ctx)
    used = ttd.dataset_sha256(windows, *prompts, *(np.asarray(r) for r in references))
    scored = {"sha256": used, "n_examples": int(windows[:, 1:].size)}
    return Outcome(out["candidate"], out["baseline"], rounds=len(values["baseline"]), dataset=scored,
                   clock_overhead_s=overhead, timed_inputs=windows[:, :-1], timed_outputs=logits["candidate"],
                   **sampler.outcome(values))


def _judge(event_id: str, division: str, contenders: dict[str, Contender], sequences: dict[str, list[np.ndarray]],
           prompt_lens: list[int], max_perplexity: float | None, rng: np.random.Generator, samples: int,
           ctx: Context) -> None:
    """The trusted judge of the candidate's timed tokens (module docstring); Disqualified if they fail it."""
    label = contenders["candidate"].label
    reference = conformance.reference_model(event_id, BASELINE_DIR)[0]  # the harness's own weights
    vocab = reference.tok_emb.weight.shape[0]
    if max(int(s.max()) for s in sequences["candidate"]) >= vocab:
        raise verify.Disqualified(f"{label}: generate() returned token ids outside the event's {vocab}-token "
                                  "vocabulary")
    if division == "closed":
        ctx.progress("closed division: replaying the timed generations with the shipped weights")
        picked = sorted(rng.choice(len(sequences["candidate"]), size=min(CLOSED_JUDGED, len(prompt_lens)),
                                   replace=False).tolist())
        try:
            reason = closed_generation.greedy_failure(event_id, contenders["candidate"].folder,
                                                      [sequences["candidate"][k] for k in picked],
                                                      [prompt_lens[k] for k in picked], rng, samples)
        except conformance.ConformanceError as err:
            reason = f"no reference decoding: {err}"
        if reason:
            raise verify.Disqualified(f"{label}: closed division: the timed tokens are not the greedy decoding of "
                                      f"the shipped weights: {reason}")
        return
    ctx.progress("judging the timed generations with the reference model")
    nll = {who: judge.mean_nll(reference, sequences[who], prompt_lens) for who in ("candidate", "baseline")}
    reason = judge.failure(nll["candidate"], nll["baseline"], max_perplexity or judge.DEFAULT_MAX_PERPLEXITY)
    if reason:
        raise verify.Disqualified(f"{label}: {reason}")
