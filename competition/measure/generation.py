"""Generation events: tokens/s of greedy generation from secret prompts, every timed output checked against the
model's own next_token_logits, BLEU of the timed continuations, perplexity (docs/measurement.md, "Generation
events")."""

from __future__ import annotations

import numpy as np

import tinytorch.data as ttd
from competition.datasets import EventData, perplexity_windows, prompt_at
from competition.measure import stats, text, verify
from competition.measure.contender import Contender
from competition.measure.draws import batches
from competition.measure.protocols import (Context, Outcome, clock_overhead, energy_of, measurements, memory_of,
                                           planned_rounds, ratios_of, respawner)
from competition.measure.timing import interleaved_rounds
from competition.sandbox.process import WorkerError


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


def measure(event_id: str, protocol: dict, data: EventData, contenders: dict[str, Contender],
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

    def time_round(label: str, r: int) -> float:
        seconds, seq = generate(contenders[label], prompts[r][0])
        timed_sequences[label].append(seq)
        return seconds

    ctx.progress(f"timing {rounds} interleaved rounds of {new_tokens}-token generation")
    values = interleaved_rounds({label: (lambda r, label=label: time_round(label, r)) for label in contenders},
                                rounds, rng, ctx.progress, respawner(contenders, event_id, cfg))
    references = [reference.tolist() for _, reference in prompts]
    out, logits = {}, {}
    for label in ("candidate", "baseline"):
        c = contenders[label]
        ctx.progress(f"{label}: perplexity" + (", greedy check of every timed generation" if label == "candidate" else ""))
        memory = memory_of(c, ctx)
        if label == "candidate":  # the baseline is the harness's own reference entrant
            verify_greedy(c, timed_sequences[label], prompt_tokens, contexts, rng, cfg.greedy_samples)
        logits[label] = np.concatenate(c.call("next_token_logits", batches(windows[:, :-1], 16))[1])
        time_s = stats.estimate(values[label], unit="s", seed=cfg.seed)
        out[label] = measurements(
            perplexity=text.perplexity(logits[label], windows[:, 1:]),
            bleu=text.corpus_bleu([s[0, prompt_tokens:].tolist() for s in timed_sequences[label]], references),
            time_s=time_s, throughput_per_s=new_tokens / time_s["median"], energy=energy_of(c, ctx.energy_reason),
            peak_memory=memory)
    speedup, aa = ratios_of(values)
    used = ttd.dataset_sha256(windows, *(p for p, _ in prompts), *(np.asarray(r) for r in references))
    scored = {"sha256": used, "n_examples": int(windows[:, 1:].size)}
    return Outcome(out["candidate"], out["baseline"], speedup, aa, rounds, dataset=scored, clock_overhead_s=overhead,
                   timed_inputs=windows[:, :-1], timed_outputs=logits["candidate"])
