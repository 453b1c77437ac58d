"""Train TinyGPT on the bundled Shakespeare: ``python -m tinytorch.train.gpt [--steps N] [--seed S]``.

Character-level next-token prediction with AdamW (warm-up + cosine decay) on random windows of the train split.
At the end it measures the validation perplexity on evenly spaced windows of the validation split, next to the
perplexity of a unigram model (train-split character frequencies) on the same characters, samples some text, and
writes ``tinytorch/models/weights/shakespeare_gpt.{npz,json}`` unless ``--no-save``.
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Sequence

import numpy as np

import tinytorch as tt
from tinytorch import nn
from tinytorch.data.hashing import dataset_sha256
from tinytorch.models import GPT

from .loop import WEIGHTS_DIR, announce, progress_bar, save_model_card, with_provenance

MODULE = "tinytorch.train.gpt"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch-size", type=int, default=24)
    parser.add_argument("--context", type=int, default=256, help="context_length (training window)")
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--n-heads", type=int, default=4)
    parser.add_argument("--n-layers", type=int, default=4)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--warmup", type=int, default=30, help="linear warm-up steps")
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--clip", type=float, default=1.0, help="max global gradient norm")
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--eval-windows", type=int, default=16, help="validation windows for progress reports")
    parser.add_argument("--final-windows", type=int, default=128, help="validation windows for the final metric")
    parser.add_argument("--check-windows", type=int, default=8,
                        help="first N final windows whose perplexity the card records for a quick re-check")
    parser.add_argument("--sample-tokens", type=int, default=600, help="length of the text sample in the card")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="shakespeare_gpt")
    parser.add_argument("--out", default=str(WEIGHTS_DIR))
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    return parser.parse_args(argv)


def random_windows(tokens: np.ndarray, context: int, batch: int, rng: np.random.Generator) -> tuple:
    """``batch`` random (input, target) windows of ``context`` tokens; targets are inputs shifted by one."""
    starts = rng.integers(0, len(tokens) - context - 1, size=batch)
    positions = starts[:, None] + np.arange(context)
    return tokens[positions], tokens[positions + 1]


def spaced_windows(tokens: np.ndarray, context: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` evenly spaced, non-overlapping (input, target) windows spanning ``tokens`` (deterministic)."""
    count = min(count, (len(tokens) - 1) // context)
    starts = np.linspace(0, len(tokens) - context - 1, count).astype(np.int64)
    positions = starts[:, None] + np.arange(context)
    return tokens[positions], tokens[positions + 1]


def perplexity(model: GPT, inputs: np.ndarray, targets: np.ndarray, batch: int = 8) -> float:
    """exp(mean next-token cross-entropy) of ``model`` over every position of the windows (eval mode)."""
    was_training = model.training
    model.eval()
    total = 0.0
    with tt.no_grad():
        for start in range(0, len(inputs), batch):
            logits = model(inputs[start:start + batch]).data.astype(np.float64)
            shifted = logits - logits.max(axis=-1, keepdims=True)
            log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
            picked = np.take_along_axis(log_probs, targets[start:start + batch][..., None], axis=-1)
            total -= float(picked.sum())
    model.train(was_training)
    return math.exp(total / targets.size)


def unigram_perplexity(train_tokens: np.ndarray, targets: np.ndarray, vocab_size: int) -> float:
    """Perplexity on ``targets`` of the unigram model with add-one-smoothed train-split character frequencies."""
    counts = np.bincount(train_tokens, minlength=vocab_size).astype(np.float64) + 1.0
    log_probs = np.log(counts / counts.sum())
    return math.exp(-float(log_probs[targets].mean()))


def learning_rate(step: int, args: argparse.Namespace) -> float:
    """Linear warm-up to ``lr``, then cosine decay to lr/10 at the last step."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * progress)))


def train(args: argparse.Namespace) -> tuple[GPT, dict]:
    """Train, measure, sample; return the model (eval mode) and its model card."""
    from tinytorch.data import shakespeare_text, shakespeare_tokenizer  # noqa: PLC0415

    tokenizer = shakespeare_tokenizer()
    train_text, val_text = shakespeare_text("train"), shakespeare_text("validation")
    train_tokens, val_tokens = tokenizer.encode(train_text), tokenizer.encode(val_text)
    tt.manual_seed(args.seed)
    config = {"vocab_size": tokenizer.vocab_size, "context_length": args.context, "d_model": args.d_model,
              "n_heads": args.n_heads, "n_layers": args.n_layers, "dropout": args.dropout}
    model = GPT(**config)
    optimizer = tt.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    batches = np.random.default_rng(args.seed)
    progress_inputs, progress_targets = spaced_windows(val_tokens, args.context, args.eval_windows)
    announce(f"{MODULE}: GPT {config}, {sum(p.data.size for p in model.parameters()):,} parameters; "
             f"{len(train_tokens):,} train / {len(val_tokens):,} val characters; seed {args.seed}")
    history, train_seconds, smoothed = [], 0.0, None
    with progress_bar(args.quiet) as progress:
        task = progress.add_task("steps", total=args.steps, metrics="")
        for step in range(args.steps):
            started = time.perf_counter()
            model.train()
            inputs, targets = random_windows(train_tokens, args.context, args.batch_size, batches)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, args)
            logits = model(inputs)
            loss = nn.functional.cross_entropy(logits.reshape(-1, config["vocab_size"]),
                                               tt.from_numpy(targets.reshape(-1)))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            train_seconds += time.perf_counter() - started
            value = float(loss.item())
            smoothed = value if smoothed is None else 0.9 * smoothed + 0.1 * value
            metrics = f"loss {smoothed:.3f}"
            if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
                val_ppl = perplexity(model, progress_inputs, progress_targets)
                history.append({"step": step + 1, "train_loss": round(smoothed, 4), "val_perplexity": val_ppl,
                                "train_seconds": round(train_seconds, 1)})
                progress.console.print(f"step {step + 1}: train loss {smoothed:.3f}  val ppl {val_ppl:.2f} "
                                       f"({args.eval_windows} windows)  {train_seconds:.0f} s")
            progress.update(task, advance=1, metrics=metrics)
    model.eval()
    val_inputs, val_targets = spaced_windows(val_tokens, args.context, args.final_windows)
    val_ppl = perplexity(model, val_inputs, val_targets)
    unigram = unigram_perplexity(train_tokens, val_targets, tokenizer.vocab_size)
    unigram_full = unigram_perplexity(train_tokens, val_tokens, tokenizer.vocab_size)
    announce(f"validation perplexity {val_ppl:.3f} vs unigram {unigram:.3f} "
             f"({val_targets.size:,} characters); training {train_seconds:.0f} s")
    check_ppl = perplexity(model, val_inputs[:args.check_windows], val_targets[:args.check_windows])
    prompt = tokenizer.encode("\n")[None]
    sample_settings = {"prompt": "\n", "max_new_tokens": args.sample_tokens, "temperature": 0.8, "top_k": 20,
                       "rng": f"np.random.default_rng({args.seed})"}
    sample = tokenizer.decode(model.generate(prompt, args.sample_tokens, temperature=0.8, top_k=20,
                                             rng=np.random.default_rng(args.seed)).data[0])
    announce(f"sample:\n{sample}")
    options = {k: v for k, v in vars(args).items() if k not in ("out", "no_save", "quiet")}
    card = {
        "name": args.name,
        "model": "GPT",
        "config": config,
        "seed": args.seed,
        "tokenizer": tokenizer.to_dict(),
        "data": {"train": {"dataset": "shakespeare (bundled)", "split": "train", "characters": len(train_tokens),
                           "sha256": dataset_sha256(train_tokens)},
                 "held_out": {"dataset": "shakespeare (bundled)", "split": "validation", "characters": len(val_tokens),
                              "sha256": dataset_sha256(val_tokens)}},
        "training": {"steps": args.steps, "batch_size": args.batch_size, "tokens_seen": args.steps *
                     args.batch_size * args.context, "optimizer": "AdamW", "lr": args.lr, "warmup": args.warmup,
                     "schedule": "linear warm-up, cosine decay to lr/10", "weight_decay": args.weight_decay,
                     "clip_grad_norm": args.clip, "wall_seconds": round(train_seconds, 1), "history": history},
        "metrics": {"val_perplexity": val_ppl, "unigram_perplexity": unigram, "split": "validation",
                    "windows": len(val_inputs), "window": args.context, "characters": int(val_targets.size),
                    "evaluation": "evenly spaced non-overlapping windows, every position scored",
                    "unigram_perplexity_full_validation": unigram_full,
                    "check": {"windows": min(args.check_windows, len(val_inputs)), "val_perplexity": check_ppl}},
        "sample": {**sample_settings, "text": sample},
    }
    card = with_provenance(card, model, MODULE, options)
    if not args.no_save:
        announce(f"wrote {save_model_card(args.name, model, card, Path(args.out))}")
    return model, card


def run(argv: Sequence[str] | None = None) -> tuple[GPT, dict]:
    """Parse ``argv`` like the command line, train, return (model, model card)."""
    return train(parse_args(argv))


def main(argv: Sequence[str] | None = None) -> None:
    run(argv)


if __name__ == "__main__":
    main()
