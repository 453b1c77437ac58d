"""NumPy replays of the work any implementation of the TinyGPT AdamW training step runs, in the least NumPy passes
found: operands ready, outputs into buffers allocated once (no fresh pages), one thread. Their times bound from below
what a NumPy framework can reach for that step (`floor.py --only transformer_gemms`).

Each factory returns a callable that replays one step's share of one kind of work, for a model of ``layers``
norm-first blocks of ``width`` channels (feed-forward 4 x width) on ``rows`` = batch x context tokens.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from tinytorch.nn import functional as F

Replay = Callable[[], None]


def linear_gemms(rng: np.random.Generator, rows: int, shapes: list[tuple[int, int]]) -> Replay:
    """Every Linear's three GEMMs: output, input gradient, weight gradient, for each (fan_in, fan_out) in ``shapes``."""
    calls = []
    for fan_in, fan_out in shapes:
        x, w = rng.random((rows, fan_in), dtype=np.float32), rng.random((fan_out, fan_in), dtype=np.float32)
        g = rng.random((rows, fan_out), dtype=np.float32)
        calls.append((x, w, g, np.empty_like(g), np.empty_like(x), np.empty_like(w)))

    def replay() -> None:
        for x, w, g, out, grad_x, grad_w in calls:
            np.matmul(x, w.T, out=out)
            np.matmul(g, w, out=grad_x)
            np.matmul(g.T, x, out=grad_w)
    return replay


def attention_gemms(rng: np.random.Generator, layers: int, samples: int, context: int, head_dim: int) -> Replay:
    """Each layer's six batched attention products at full (L, L) size: scores, weights x values, and their four
    gradients; ``samples`` = batch x heads."""
    per_head = rng.random((samples, context, head_dim), dtype=np.float32)
    scores = rng.random((samples, context, context), dtype=np.float32)
    square, thin = np.empty_like(scores), np.empty_like(per_head)

    def replay() -> None:
        for _ in range(layers):
            for _ in range(2):  # Q K^T and dP = dO V^T
                np.matmul(per_head, per_head.transpose(0, 2, 1), out=square)
            for _ in range(4):  # P V, dV = P^T dO, dQ = dS K, dK = dS^T Q
                np.matmul(scores, per_head, out=thin)
    return replay


def attention_softmax(rng: np.random.Generator, layers: int, samples: int, context: int) -> Replay:
    """Masked softmax forward and backward at full (L, L) size, one (query x key) matrix at a time (in cache):
    P = exp(S + M - max) / sum; dS = P * (dP - rowsum(dP * P))."""
    scores = rng.random((samples, context, context), dtype=np.float32)
    grad = rng.random(scores.shape, dtype=np.float32)
    probs, grad_scores = np.empty_like(scores), np.empty_like(scores)
    mask = np.triu(np.full((context, context), -np.inf, dtype=np.float32), 1)
    row, total = np.empty((context, 1), np.float32), np.empty((context, 1), np.float32)

    def replay() -> None:
        for _ in range(layers):
            for s, p, g, ds in zip(scores, probs, grad, grad_scores):
                np.add(s, mask, out=p)
                np.subtract(p, p.max(axis=1, keepdims=True, out=row), out=p)
                np.exp(p, out=p)
                p *= np.reciprocal(p.sum(axis=1, keepdims=True, out=total), out=total)
                product = np.multiply(g, p, out=ds)
                np.subtract(g, product.sum(axis=1, keepdims=True, out=row), out=ds)
                ds *= p
    return replay


def gelu(rng: np.random.Generator, layers: int, rows: int, hidden: int) -> Replay:
    """tinytorch's erf GELU forward with its derivative (the fastest NumPy GELU found: ~20 passes in L2-sized
    chunks), and the backward's one product, per layer."""
    x = rng.standard_normal((rows, hidden), dtype=np.float32)

    def replay() -> None:
        for _ in range(layers):
            _, derivative = F._gelu_erf(x, with_derivative=True)
            derivative *= x
    return replay


def layer_norms(rng: np.random.Generator, count: int, rows: int, width: int) -> Replay:
    """``count`` LayerNorms forward and backward: row mean and variance as BLAS matrix-vector and row dot products,
    column sums of the gradients as products with a ones vector, every pass into a ready buffer."""
    x, g = rng.standard_normal((rows, width), dtype=np.float32), rng.standard_normal((rows, width), dtype=np.float32)
    w, b = rng.random(width, dtype=np.float32), rng.random(width, dtype=np.float32)
    xhat, out, dxhat, scratch = (np.empty_like(x) for _ in range(4))
    averager, ones = np.full(width, 1.0 / width, np.float32), np.ones(rows, np.float32)
    inv_std, row = np.empty(rows, np.float32), np.empty(rows, np.float32)

    def one() -> None:
        np.subtract(x, np.matmul(x, averager, out=row)[:, None], out=xhat)
        np.einsum("ij,ij->i", xhat, xhat, out=inv_std)
        np.multiply(inv_std, np.float32(1.0 / width), out=inv_std)
        np.add(inv_std, np.float32(1e-5), out=inv_std)
        np.reciprocal(np.sqrt(inv_std, out=inv_std), out=inv_std)
        np.multiply(xhat, inv_std[:, None], out=xhat)
        np.multiply(xhat, w, out=out)
        np.add(out, b, out=out)
        ones @ np.multiply(g, xhat, out=scratch), ones @ g  # the weight's and the bias's gradients
        np.multiply(g, w, out=dxhat)
        np.subtract(dxhat, np.matmul(dxhat, averager, out=row)[:, None], out=dxhat)
        np.einsum("ij,ij->i", dxhat, xhat, out=row)
        np.multiply(row, np.float32(1.0 / width), out=row)
        np.subtract(dxhat, np.multiply(xhat, row[:, None], out=scratch), out=dxhat)
        np.multiply(dxhat, inv_std[:, None], out=dxhat)

    def replay() -> None:
        for _ in range(count):
            one()
    return replay


def adamw(rng: np.random.Generator, parameters: int) -> Replay:
    """One AdamW update of ``parameters`` float32 weights held as one flat array (the fewest calls), bias
    corrections folded into two scalars."""
    p, g = rng.standard_normal(parameters, dtype=np.float32), rng.standard_normal(parameters, dtype=np.float32)
    m, v, scratch = np.zeros_like(p), np.zeros_like(p), np.empty_like(p)
    decay, beta1, beta2 = np.float32(1 - 1e-3 * 1e-2), np.float32(0.9), np.float32(0.999)

    def replay() -> None:
        np.multiply(p, decay, out=p)
        np.multiply(m, beta1, out=m)
        np.add(m, np.multiply(g, np.float32(1 - beta1), out=scratch), out=m)
        np.multiply(v, beta2, out=v)
        np.multiply(g, g, out=scratch)
        np.multiply(scratch, np.float32(1 - beta2), out=scratch)
        np.add(v, scratch, out=v)
        np.sqrt(v, out=scratch)
        np.add(scratch, np.float32(1e-8), out=scratch)
        np.divide(m, scratch, out=scratch)
        np.multiply(scratch, np.float32(1e-3), out=scratch)
        np.subtract(p, scratch, out=p)
    return replay


def stream(rng: np.random.Generator, layers: int, linears: list[tuple[int, int]], batch: int, context: int,
           width: int, vocab: int) -> Replay:
    """Everything else the step does to the residual stream: the token and position embeddings forward and backward
    (gradients as GEMMs with a one-hot matrix and a ones vector), the two residual adds per layer and their gradients'
    sums, every Linear's bias add and bias gradient, and the cross-entropy forward and backward over the logits."""
    rows = batch * context
    tokens = rng.integers(0, vocab, rows)
    table, positions = rng.standard_normal((vocab, width), dtype=np.float32), rng.standard_normal(
        (context, width), dtype=np.float32)
    one_hot = np.zeros((vocab, rows), np.float32)
    one_hot[tokens, np.arange(rows)] = 1.0
    residual, branch, total = (rng.standard_normal((batch, context, width), dtype=np.float32) for _ in range(3))
    outputs = [(rng.standard_normal((rows, fan_out), dtype=np.float32), np.zeros(fan_out, np.float32))
               for _, fan_out in linears]
    ones_rows, ones_batch = np.ones(rows, np.float32), np.ones(batch, np.float32)
    logits, probs = rng.standard_normal((rows, vocab), dtype=np.float32), np.empty((rows, vocab), np.float32)
    row, picked = np.empty(rows, np.float32), np.empty(rows, np.float32)
    every_row, targets = np.arange(rows), rng.integers(0, vocab, rows)
    target_entries = every_row * vocab + targets

    def replay() -> None:
        np.take(table, tokens, axis=0, out=residual.reshape(rows, width))
        np.add(residual, positions, out=residual)
        for _ in range(2 * layers):
            np.add(residual, branch, out=total)  # the forward's add, and the backward's sum of two gradients
            np.add(residual, branch, out=total)
        for out, bias in outputs:
            out += bias
            ones_rows @ out
        one_hot @ residual.reshape(rows, width), ones_batch @ residual.reshape(batch, context * width)
        np.subtract(logits, logits.max(axis=1, out=row)[:, None], out=probs)
        np.take(probs.reshape(-1), target_entries, out=picked)
        np.exp(probs, out=probs)
        np.divide(probs, np.sum(probs, axis=1, out=row)[:, None], out=probs)
        np.log(row, out=row).sum() - picked.sum()  # the loss
        probs[every_row, targets] -= 1.0
        np.multiply(probs, np.float32(1.0 / rows), out=probs)
    return replay
