"""Reverse-mode autograd: the grad-mode switch, the backward pass over the recorded graph, and `unbroadcast`.

Every differentiable op stores ``(parents, backward_fn)`` in its output's ``_ctx``; ``backward_fn(grad)`` returns
one gradient array (or None) per parent. `run_backward` walks the graph in reverse topological order, accumulates
gradients into leaf tensors' ``.grad`` and frees the graph (unless ``retain_graph``).
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor


class _GradMode:
    """Global switch read by every op; a class attribute is the cheapest lookup."""

    enabled = True


def is_grad_enabled() -> bool:
    """Whether ops currently record a graph."""
    return _GradMode.enabled


class _GradModeContext:
    """Context manager / decorator that sets grad mode to ``self.mode`` and restores the previous mode on exit."""

    mode = False

    def __enter__(self) -> None:
        self.previous = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _GradMode.enabled = self.previous

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = _GradMode.enabled
            _GradMode.enabled = self.mode
            try:
                return fn(*args, **kwargs)
            finally:
                _GradMode.enabled = previous
        return wrapper


class no_grad(_GradModeContext):
    """Disable graph recording (``with tt.no_grad():`` or ``@tt.no_grad()``)."""

    mode = False


class enable_grad(_GradModeContext):
    """Re-enable graph recording inside a ``no_grad`` block."""

    mode = True


class inference_mode(_GradModeContext):
    """Like ``no_grad`` (NumPy has no extra inference-only savings to make); ``inference_mode(False)`` records."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode


class set_grad_enabled(_GradModeContext):
    """Set grad mode now (usable as a plain call) and restore the previous mode when used as a context manager."""

    def __init__(self, mode: bool) -> None:
        self.previous = _GradMode.enabled
        self.mode = mode
        _GradMode.enabled = mode

    def __enter__(self) -> None:
        pass


_FREED = ((), None)  # _ctx of a node whose graph was released by backward()


class _Backward:
    """Whether the running backward pass frees the graph (class attribute: the cheapest lookup)."""

    releasing = False


def releasing_graph() -> bool:
    """True inside a backward pass that frees the graph: each backward function then runs once and nothing reads
    what its op saved afterwards, so it may overwrite its own saved arrays instead of allocating fresh ones."""
    return _Backward.releasing


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes NumPy broadcasting added or stretched so it has ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and grad.shape[extra + i] != 1)
    return grad.sum(axis=axes, keepdims=False).reshape(shape) if axes else grad.reshape(shape)


def _topological_order(root: Tensor) -> list[Tensor]:
    """Nodes reachable from ``root`` through recorded ops, parents before children (iterative DFS)."""
    order: list[Tensor] = []
    visited = {id(root)}
    stack = [(root, iter(root._ctx[0] if root._ctx else ()))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if id(parent) not in visited and parent.requires_grad:
                visited.add(id(parent))
                stack.append((parent, iter(parent._ctx[0] if parent._ctx else ())))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def _accumulate_leaf(leaf: Tensor, grad: np.ndarray) -> None:
    from .tensor import Tensor
    if leaf.grad is None:  # a private copy: op gradients may alias each other or their inputs
        leaf.grad = Tensor(np.array(grad, dtype=leaf.data.dtype, copy=True))
    else:
        np.add(leaf.grad.data, grad, out=leaf.grad.data, casting="unsafe")


def run_backward(root: Tensor, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Backpropagate ``grad`` (d out / d root) to every leaf that requires grad."""
    previous, _Backward.releasing = _Backward.releasing, not retain_graph
    try:
        _propagate(root, grad, retain_graph)
    finally:
        _Backward.releasing = previous


def _propagate(root: Tensor, grad: np.ndarray, retain_graph: bool) -> None:
    grads: dict[int, np.ndarray] = {id(root): grad}
    for node in reversed(_topological_order(root)):
        node_grad = grads.pop(id(node), None)
        ctx = node._ctx
        if ctx is _FREED:
            raise RuntimeError("Trying to backward through the graph a second time; "
                               "call .backward(retain_graph=True) the first time if you need to.")
        if ctx is None:
            if node_grad is not None:
                _accumulate_leaf(node, node_grad)
            continue
        if not retain_graph:
            node._ctx = _FREED
        if node_grad is None:
            continue
        parents, backward_fn = ctx
        for parent, parent_grad in zip(parents, backward_fn(node_grad)):
            if parent_grad is None or not parent.requires_grad:
                continue
            key = id(parent)
            grads[key] = grads[key] + parent_grad if key in grads else parent_grad
