"""`Tensor`: an N-d NumPy array plus the autograd graph edge that produced it.

Each op computes its result with NumPy and, only when grad mode is on and an input requires grad, records
``(parents, backward_fn)`` on the result (see `tinytorch.autograd`). Under ``no_grad`` an op costs one NumPy call
plus one cheap object construction. Dtypes are preserved: float32 stays float32, float16 stays float16, int8 stays
int8 (only true division and Python-float operands promote integers, to float32 like PyTorch).
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .autograd import _GradMode, run_backward, unbroadcast

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])

_BASIC_INDEX_TYPES = (int, np.integer, slice, type(None), type(Ellipsis))


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Array from Python data with PyTorch's defaults: floats -> float32, ints -> int64, bools -> bool."""
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    array = np.asarray(data)
    if array.dtype == np.float64 and not isinstance(data, np.ndarray):
        return array.astype(np.float32)
    return array


def rectified(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """max(a, 0), taken against zeros of one sample's shape: NumPy's two-array SIMD loop runs 1.4-2.6x faster than
    its loop with a scalar 0 (CNN and MLP activations, measured)."""
    return np.maximum(a, np.zeros(a.shape[1:], dtype=a.dtype), out=out)


def _new(data: np.ndarray) -> Tensor:
    """Wrap ``data`` without copying and without graph (the cheap constructor every op uses)."""
    out = object.__new__(Tensor)
    out.data = data if type(data) is np.ndarray else np.asarray(data)
    out.grad = None
    out.requires_grad = False
    out._ctx = None
    return out


def _op(data: np.ndarray, parents: tuple[Tensor, ...], backward: Callable) -> Tensor:
    """Result of an op: records ``(parents, backward)`` when grad mode is on and some parent requires grad."""
    out = _new(data)
    if _GradMode.enabled:
        for parent in parents:
            if parent.requires_grad:
                out.requires_grad = True
                out._ctx = (parents, backward)
                break
    return out


def _array(x: Any) -> Any:
    """NumPy view of an operand: Tensor -> its array; scalars and arrays pass through."""
    return x.data if isinstance(x, Tensor) else x


def _float32_if_promoted(result: np.ndarray, *operands: Any) -> np.ndarray:
    """Undo NumPy's int/float -> float64 promotion when no operand was float64 (PyTorch yields float32)."""
    if result.dtype != np.float64:
        return result
    for x in operands:
        if getattr(x, "dtype", None) == np.float64:
            return result
    return result.astype(np.float32)


def dtype_argument(*candidates: Any) -> Any:
    """The dtype among ``.to(...)`` arguments (device strings such as "cpu" are skipped), or None."""
    return next((c for c in candidates if c is not None and not isinstance(c, str)), None)


def _reduced_grad(grad: np.ndarray, shape: tuple[int, ...], dim: Any, keepdim: bool) -> np.ndarray:
    """Broadcast the gradient of a reduction over ``dim`` back to the input ``shape``."""
    if dim is not None and not keepdim:
        grad = np.expand_dims(grad, dim)
    return np.broadcast_to(grad, shape)


def _axis(dim: int | Sequence[int] | None) -> int | tuple[int, ...] | None:
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


class Tensor:
    """N-d array with reverse-mode autograd. ``Tensor(ndarray)`` wraps the array without copying."""

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected op

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        self.data = data if type(data) is np.ndarray and dtype is None else as_array(data, dtype)
        self.grad: Tensor | None = None
        self.requires_grad = requires_grad
        self._ctx = None

    # ---- properties ---------------------------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.data.ndim)))

    @property
    def mT(self) -> Tensor:
        return self.transpose(-2, -1)

    @property
    def device(self) -> str:
        return "cpu"

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"tensor({np.array2string(self.data, separator=', ', prefix='tensor(')}, dtype={self.dtype}{grad})"

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    __hash__ = object.__hash__

    # ---- conversion ---------------------------------------------------------------------------------------------

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self) -> int | float | bool:
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        """Same data, no graph."""
        return _new(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    def clone(self) -> Tensor:
        return _op(self.data.copy(), (self,), lambda g: (g,))

    def contiguous(self) -> Tensor:
        return self

    def to(self, dtype: Any = None, *args: Any, **kwargs: Any) -> Tensor:
        """Cast to ``dtype`` (a device string such as "cpu" is accepted and ignored); gradients flow back cast."""
        dtype = dtype_argument(dtype, *args, kwargs.get("dtype"))
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return self
        source = self.data.dtype
        return _op(self.data.astype(dtype), (self,), lambda g: (g.astype(source),))

    def type(self, dtype: Any) -> Tensor:
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(np.float32)

    def half(self) -> Tensor:
        return self.to(np.float16)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def int(self) -> Tensor:
        return self.to(np.int32)

    def bool(self) -> Tensor:
        return self.to(np.bool_)

    # ---- autograd -----------------------------------------------------------------------------------------------

    def backward(self, gradient: Tensor | np.ndarray | None = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``; frees the graph unless ``retain_graph``."""
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(_array(gradient), dtype=self.data.dtype)
        run_backward(self, grad, retain_graph)

    # ---- in-place (no graph) ------------------------------------------------------------------------------------

    def _check_inplace(self) -> None:
        if self.requires_grad and _GradMode.enabled:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation; "
                               "wrap it in `with tt.no_grad():`")

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace()
        self.data[_index(index)] = _array(value)

    def zero_(self) -> Tensor:
        self._check_inplace()
        self.data[...] = 0
        return self

    def fill_(self, value: float) -> Tensor:
        self._check_inplace()
        self.data[...] = value
        return self

    def copy_(self, source: Tensor | np.ndarray) -> Tensor:
        self._check_inplace()
        np.copyto(self.data, _array(source), casting="unsafe")
        return self

    # ---- arithmetic ---------------------------------------------------------------------------------------------

    def __add__(self, other: Any) -> Tensor:
        b = _array(other)
        out = _float32_if_promoted(self.data + b, self.data, b)
        return _op(out, _parents(self, other), lambda g: _binary_grads(self, other, g, g))

    __radd__ = __add__

    def __sub__(self, other: Any) -> Tensor:
        b = _array(other)
        out = _float32_if_promoted(self.data - b, self.data, b)
        return _op(out, _parents(self, other), lambda g: _binary_grads(self, other, g, -g))

    def __rsub__(self, other: Any) -> Tensor:
        return _lift(other, self) - self

    def __mul__(self, other: Any) -> Tensor:
        b = _array(other)
        out = _float32_if_promoted(self.data * b, self.data, b)
        return _op(out, _parents(self, other), lambda g: _binary_grads(self, other, g * b, g * self.data))

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Tensor:
        b = _array(other)
        out = _float32_if_promoted(self.data / b, self.data, b)
        return _op(out, _parents(self, other),
                   lambda g: _binary_grads(self, other, g / b, -g * out / b))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _lift(other, self) / self

    def __neg__(self) -> Tensor:
        return _op(-self.data, (self,), lambda g: (-g,))

    def __pow__(self, exponent: Any) -> Tensor:
        if isinstance(exponent, Tensor):
            return (self.log() * exponent).exp()
        out = self.data ** exponent
        return _op(out, (self,), lambda g: (g * exponent * self.data ** (exponent - 1),))

    def __rpow__(self, base: float) -> Tensor:
        out = _float32_if_promoted(np.power(base, self.data), self.data)
        return _op(out, (self,), lambda g: (g * out * np.log(base).astype(out.dtype),))

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(_lift(other, self), self)

    # comparisons: no gradient, boolean results
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _new(self.data == _array(other))

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _new(self.data != _array(other))

    def __lt__(self, other: Any) -> Tensor:
        return _new(self.data < _array(other))

    def __le__(self, other: Any) -> Tensor:
        return _new(self.data <= _array(other))

    def __gt__(self, other: Any) -> Tensor:
        return _new(self.data > _array(other))

    def __ge__(self, other: Any) -> Tensor:
        return _new(self.data >= _array(other))

    def __invert__(self) -> Tensor:
        return _new(~self.data)

    def __and__(self, other: Any) -> Tensor:
        return _new(self.data & _array(other))

    def __or__(self, other: Any) -> Tensor:
        return _new(self.data | _array(other))

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.data)

    def __int__(self) -> int:
        return int(self.data)

    def __index__(self) -> int:
        return self.data.__index__()

    # ---- elementwise functions ----------------------------------------------------------------------------------

    def exp(self) -> Tensor:
        out = np.exp(self.data)
        return _op(out, (self,), lambda g: (g * out,))

    def log(self) -> Tensor:
        return _op(np.log(self.data), (self,), lambda g: (g / self.data,))

    def sqrt(self) -> Tensor:
        out = np.sqrt(self.data)
        return _op(out, (self,), lambda g: (g * 0.5 / out,))

    def rsqrt(self) -> Tensor:
        return self.sqrt().reciprocal()

    def reciprocal(self) -> Tensor:
        out = 1.0 / self.data
        return _op(out, (self,), lambda g: (-g * out * out,))

    def abs(self) -> Tensor:
        return _op(np.abs(self.data), (self,), lambda g: (g * np.sign(self.data),))

    def tanh(self) -> Tensor:
        out = np.tanh(self.data)
        return _op(out, (self,), lambda g: (g * (1 - out * out),))

    def sigmoid(self) -> Tensor:
        x = self.data
        out = np.exp(-np.logaddexp(0, -x)).astype(x.dtype, copy=False)
        return _op(out, (self,), lambda g: (g * out * (1 - out),))

    def relu(self) -> Tensor:
        return _op(rectified(self.data), (self,), lambda g: (g * (self.data > 0),))

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        out = np.clip(self.data, min, max)
        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            keep = np.ones(self.data.shape, dtype=bool)
            if min is not None:
                keep &= self.data >= min
            if max is not None:
                keep &= self.data <= max
            return (g * keep,)
        return _op(out, (self,), backward)

    clip = clamp

    def masked_fill(self, mask: Tensor | np.ndarray, value: float) -> Tensor:
        """Entries where ``mask`` is True become ``value`` (and get no gradient)."""
        mask = _array(mask)
        out = np.where(mask, np.asarray(value, dtype=self.data.dtype), self.data)
        return _op(out, (self,), lambda g: (unbroadcast(np.where(mask, 0, g), self.data.shape),))

    # ---- reductions ---------------------------------------------------------------------------------------------

    def sum(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        axis = _axis(dim)
        out = np.sum(self.data, axis=axis, keepdims=keepdim)
        return _op(out, (self,), lambda g: (_reduced_grad(g, self.data.shape, axis, keepdim),))

    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        axis = _axis(dim)
        out = np.mean(self.data, axis=axis, keepdims=keepdim)
        count = self.data.size // max(out.size, 1) if self.data.size else 1
        return _op(out, (self,), lambda g: (_reduced_grad(g / count, self.data.shape, axis, keepdim),))

    def var(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, unbiased: bool = True,
            correction: int | None = None) -> Tensor:
        correction = (1 if unbiased else 0) if correction is None else correction
        mean = self.mean(dim, keepdim=True)
        centered = self - mean
        count = self.data.size // max(mean.data.size, 1)
        return (centered * centered).sum(dim, keepdim) / max(count - correction, 0)

    def std(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, unbiased: bool = True) -> Tensor:
        return self.var(dim, keepdim, unbiased).sqrt()

    def max(self, dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:
        """Largest entry, or ``(values, indices)`` along ``dim`` like ``torch.max``."""
        return self._extremum(np.argmax, dim, keepdim)

    def min(self, dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:
        return self._extremum(np.argmin, dim, keepdim)

    def _extremum(self, arg_fn: Callable, dim: int | None, keepdim: bool) -> Tensor | ValuesIndices:
        x = self.data
        if dim is None:
            out = x.max() if arg_fn is np.argmax else x.min()
            def spread(g: np.ndarray) -> tuple[np.ndarray]:
                ties = x == out
                return (ties * (g / int(ties.sum())),)
            return _op(np.asarray(out), (self,), spread)
        kept_indices = np.expand_dims(arg_fn(x, axis=dim), dim)
        values = np.take_along_axis(x, kept_indices, axis=dim)
        def scatter(g: np.ndarray) -> tuple[np.ndarray]:
            grad = np.zeros_like(x)
            np.put_along_axis(grad, kept_indices, g if keepdim else np.expand_dims(g, dim), axis=dim)
            return (grad,)
        if keepdim:
            return ValuesIndices(_op(values, (self,), scatter), _new(kept_indices))
        return ValuesIndices(_op(values.squeeze(dim), (self,), scatter), _new(kept_indices.squeeze(dim)))

    def amax(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        axis = _axis(dim)
        out = np.max(self.data, axis=axis, keepdims=keepdim)
        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            full = _reduced_grad(out, self.data.shape, axis, keepdim)
            ties = self.data == full
            count = _reduced_grad(np.sum(ties, axis=axis, keepdims=keepdim), self.data.shape, axis, keepdim)
            return (ties * _reduced_grad(g, self.data.shape, axis, keepdim) / count.astype(g.dtype),)
        return _op(out, (self,), backward)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _new(np.argmax(self.data, axis=dim, keepdims=keepdim))

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _new(np.argmin(self.data, axis=dim, keepdims=keepdim))

    def softmax(self, dim: int = -1) -> Tensor:
        """Numerically stable softmax along ``dim``."""
        shifted = self.data - self.data.max(axis=dim, keepdims=True)
        out = np.exp(shifted)
        out /= out.sum(axis=dim, keepdims=True)
        return _op(out, (self,), lambda g: (out * (g - (g * out).sum(axis=dim, keepdims=True)),))

    def log_softmax(self, dim: int = -1) -> Tensor:
        """Numerically stable log-softmax along ``dim``."""
        shifted = self.data - self.data.max(axis=dim, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        return _op(out, (self,), lambda g: (g - np.exp(out) * g.sum(axis=dim, keepdims=True),))

    # ---- shape --------------------------------------------------------------------------------------------------

    def reshape(self, *shape: Any) -> Tensor:
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return _op(self.data.reshape(shape), (self,), lambda g: (g.reshape(self.data.shape),))

    view = reshape

    def view_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        shape = self.data.shape
        if not shape:
            return self.reshape(1)
        start, end = start_dim % len(shape), end_dim % len(shape)
        return self.reshape(shape[:start] + (-1,) + shape[end + 1:])

    def unsqueeze(self, dim: int) -> Tensor:
        return self.reshape(np.expand_dims(self.data, dim).shape)

    def squeeze(self, dim: int | None = None) -> Tensor:
        if dim is not None and self.data.shape[dim] != 1:
            return self
        return self.reshape(np.squeeze(self.data, axis=dim).shape)

    def permute(self, *dims: Any) -> Tensor:
        dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        inverse = np.argsort(dims)
        return _op(self.data.transpose(dims), (self,), lambda g: (g.transpose(inverse),))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return _op(np.swapaxes(self.data, dim0, dim1), (self,), lambda g: (np.swapaxes(g, dim0, dim1),))

    def expand(self, *sizes: Any) -> Tensor:
        sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        lead = len(sizes) - self.data.ndim
        shape = tuple(s if s != -1 else self.data.shape[i - lead] for i, s in enumerate(sizes))
        return _op(np.broadcast_to(self.data, shape), (self,), lambda g: (unbroadcast(g, self.data.shape),))

    def split(self, split_size: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        length = self.data.shape[dim]
        sizes = [split_size] * -(-length // split_size) if isinstance(split_size, int) else list(split_size)
        bounds = np.cumsum([0] + sizes)
        prefix = (slice(None),) * (dim % self.data.ndim)
        return tuple(self[prefix + (slice(int(a), int(min(b, length))),)] for a, b in zip(bounds[:-1], bounds[1:]))

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return self.split(-(-self.data.shape[dim] // chunks), dim)

    def __getitem__(self, index: Any) -> Tensor:
        index = _index(index)
        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            grad = np.zeros_like(self.data)
            if _is_basic_index(index):
                grad[index] = g
            else:
                np.add.at(grad, index, g)
            return (grad,)
        return _op(self.data[index], (self,), backward)


def _index(index: Any) -> Any:
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index.data if isinstance(index, Tensor) else index


def _is_basic_index(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, _BASIC_INDEX_TYPES) for i in items)


def _parents(a: Tensor, b: Any) -> tuple[Tensor, ...]:
    return (a, b) if isinstance(b, Tensor) else (a,)


def _lift(x: Any, like: Tensor) -> Tensor:
    """A constant operand as a Tensor (Python scalars take ``like``'s dtype when it is floating)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (int, float)) and like.data.dtype.kind == "f":
        return _new(np.asarray(x, dtype=like.data.dtype))
    return _new(as_array(x))


def _binary_grads(a: Tensor, b: Any, grad_a: np.ndarray, grad_b: np.ndarray) -> tuple:
    """Unbroadcast the raw gradients of a binary op to its operands' shapes."""
    ga = unbroadcast(grad_a, a.data.shape) if a.requires_grad else None
    if isinstance(b, Tensor):
        return ga, unbroadcast(grad_b, b.data.shape) if b.requires_grad else None
    return (ga,)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch broadcasting of batch dims and 1-D promotion."""
    a = a if isinstance(a, Tensor) else _lift(a, b)
    b = b if isinstance(b, Tensor) else _lift(b, a)
    x, y = a.data, b.data
    def backward(g: np.ndarray) -> tuple:
        x2 = x[None, :] if x.ndim == 1 else x  # 1-D operands act as a row / column matrix
        y2 = y[:, None] if y.ndim == 1 else y
        batch = np.broadcast_shapes(x2.shape[:-2], y2.shape[:-2])
        g2 = g.reshape(batch + (x2.shape[-2], y2.shape[-1]))
        ga = unbroadcast(g2 @ np.swapaxes(y2, -1, -2), x2.shape).reshape(x.shape) if a.requires_grad else None
        gb = unbroadcast(np.swapaxes(x2, -1, -2) @ g2, y2.shape).reshape(y.shape) if b.requires_grad else None
        return ga, gb
    return _op(np.matmul(x, y), (a, b), backward)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate along an existing ``dim``."""
    tensors = tuple(tensors)
    arrays = [t.data for t in tensors]
    bounds = np.cumsum([0] + [a.shape[dim] for a in arrays])
    prefix = (slice(None),) * (dim % arrays[0].ndim)
    def backward(g: np.ndarray) -> tuple:
        return tuple(g[prefix + (slice(lo, hi),)] for lo, hi in zip(bounds[:-1], bounds[1:]))
    return _op(np.concatenate(arrays, axis=dim), tensors, backward)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack along a new ``dim``."""
    tensors = tuple(tensors)
    out = np.stack([t.data for t in tensors], axis=dim)
    return _op(out, tensors, lambda g: tuple(np.moveaxis(g, dim, 0)))


def where(condition: Tensor | np.ndarray, input: Any, other: Any) -> Tensor:
    """Elementwise ``input if condition else other``; gradients flow to the chosen side."""
    cond = _array(condition)
    a = input if isinstance(input, Tensor) else _lift(input, other if isinstance(other, Tensor) else input)
    b = other if isinstance(other, Tensor) else _lift(other, a)
    def backward(g: np.ndarray) -> tuple:
        return (unbroadcast(np.where(cond, g, 0), a.data.shape) if a.requires_grad else None,
                unbroadcast(np.where(cond, 0, g), b.data.shape) if b.requires_grad else None)
    return _op(np.where(cond, a.data, b.data), (a, b), backward)


def tensor_op(data: np.ndarray, parents: Iterable[Tensor], backward: Callable) -> Tensor:
    """Public hook for fused ops (nn.functional): result ``data`` whose gradient rule is ``backward``."""
    return _op(data, tuple(parents), backward)
