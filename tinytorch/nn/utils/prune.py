"""``tinytorch.nn.utils.prune``: PyTorch's pruning API (``torch.nn.utils.prune``) on NumPy.

Pruning ``module.weight`` moves the parameter to ``weight_orig``, adds a ``weight_mask`` buffer (same dtype, 1 =
kept) and a forward pre-hook that recomputes ``weight = weight_orig * weight_mask`` before every call, so training
after pruning keeps the pruned entries at zero. Pruning the same tensor again only considers what is still unpruned
(``amount`` is relative to the remaining entries or channels), as in PyTorch. ``remove`` makes the pruning permanent.

Masks equal PyTorch's on the same weights (ties in magnitude are broken by position here; PyTorch's ``topk`` leaves
their order unspecified). ``random_*`` draw from tinytorch's generator, so ``tt.manual_seed`` makes them repeatable.
``shrink`` (see ``tinytorch.nn.utils.shrink``) then removes pruned channels physically.
"""
from __future__ import annotations

import numbers
from typing import Any, Iterable

import numpy as np

from ... import random
from ...tensor import Tensor
from ..module import Module
from .shrink import shrink

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
           "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured",
           "l1_unstructured", "random_structured", "ln_structured", "global_unstructured", "custom_from_mask",
           "remove", "is_pruned", "channels", "shrink"]


# ---- amount validation (PyTorch's messages) ----------------------------------------------------------------------

def _validate_amount_init(amount: Any) -> None:
    if not isinstance(amount, numbers.Real) or isinstance(amount, bool):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")


def _units_to_prune(amount: float | int, size: int) -> int:
    """``amount`` as a count: an int is a count, a float a fraction (rounded half to even, like Python/PyTorch)."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters to prune={size}")
        return int(amount)
    return round(amount * size)


def _smallest(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` smallest scores (ties broken by position)."""
    return np.argsort(scores, kind="stable")[:k]


def _norm(t: np.ndarray, n: float, dim: int) -> np.ndarray:
    """The ``n``-norm of every slice ``t[..., i, ...]`` along ``dim`` (torch.norm over the other dims)."""
    axes = tuple(d for d in range(t.ndim) if d != dim % t.ndim)
    magnitude = np.abs(t.astype(np.float64))
    if n == float("inf"):
        return magnitude.max(axis=axes)
    if n == float("-inf"):
        return magnitude.min(axis=axes)
    if n == 0:
        return (magnitude != 0).sum(axis=axes).astype(np.float64)
    return (magnitude ** n).sum(axis=axes) ** (1.0 / n)


def _check_structured(t: np.ndarray, dim: int) -> None:
    if t.ndim <= 1:
        raise ValueError("Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {t.shape} with {t.ndim} dims")
    if dim >= t.ndim or dim < -t.ndim:
        raise IndexError(f"Invalid index {dim} for tensor of size {t.shape}")


# ---- pruning methods ------------------------------------------------------------------------------------------------

class BasePruningMethod:
    """A pruning rule: ``compute_mask(t, default_mask)``; an instance is also the module's forward pre-hook."""

    PRUNING_TYPE = "unstructured"
    _tensor_name: str

    def __call__(self, module: Module, inputs: tuple) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    def compute_mask(self, t: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def apply_mask(self, module: Module) -> Tensor:
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return orig * mask

    @classmethod
    def apply(cls, module: Module, name: str, *args: Any, importance_scores: Tensor | np.ndarray | None = None,
              **kwargs: Any) -> BasePruningMethod:
        """Prune ``module.<name>`` with a new ``cls(*args, **kwargs)`` (combined with any earlier pruning)."""
        if not isinstance(getattr(module, name, None), Tensor):
            raise AttributeError(f"{type(module).__name__} has no tensor {name!r} to prune")
        method = cls(*args, **kwargs)
        method._tensor_name = name
        previous = _pruning_hook(module, name)
        if previous is not None:  # a new container, so a failing compute_mask leaves the old state intact
            earlier = previous._pruning_methods if isinstance(previous, PruningContainer) else (previous,)
            method = PruningContainer(*earlier, method)
        orig = getattr(module, name)
        scores = orig.data if importance_scores is None else _array(importance_scores)
        if scores.shape != orig.shape:
            raise ValueError(f"importance_scores should have the same shape as parameter {name} of {module}: "
                             f"{scores.shape} != {orig.shape}")
        if previous is None:
            default_mask = np.ones_like(orig.data)
        else:
            default_mask = getattr(module, name + "_mask").data.copy()
        mask = method.compute_mask(scores, default_mask)  # raises before anything changed
        if previous is None:
            module._parameters.pop(name)
            module.register_parameter(name + "_orig", orig)
        else:
            _drop_hook(module, previous)
        module.register_buffer(name + "_mask", Tensor(mask.astype(orig.dtype)))
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def remove(self, module: Module) -> None:
        """Make the pruning permanent: ``<name>`` becomes a plain Parameter holding ``orig * mask``."""
        weight = self.apply_mask(module).data
        orig = module._parameters.pop(self._tensor_name + "_orig")
        module._buffers.pop(self._tensor_name + "_mask")
        for attribute in (self._tensor_name, self._tensor_name + "_orig", self._tensor_name + "_mask"):
            module.__dict__.pop(attribute, None)
        orig.data = weight
        setattr(module, self._tensor_name, orig)


class PruningContainer(BasePruningMethod):
    """Successive pruning of one tensor: each new method only sees what earlier ones kept."""

    def __init__(self, *methods: BasePruningMethod) -> None:
        self._pruning_methods: tuple[BasePruningMethod, ...] = ()
        for method in methods:
            self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        if not isinstance(method, BasePruningMethod):
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if self._pruning_methods and method._tensor_name != self._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named '{self._tensor_name}' "
                             f"to PruningContainer. Found '{method._tensor_name}'")
        self._tensor_name = method._tensor_name
        self._pruning_methods += (method,)

    def compute_mask(self, t: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        method = self._pruning_methods[-1]
        new_mask = default_mask.astype(t.dtype if t.dtype.kind == "f" else np.float32)
        if method.PRUNING_TYPE == "unstructured":
            region: Any = default_mask == 1
        elif method.PRUNING_TYPE == "structured":
            dim = method.dim % t.ndim  # type: ignore[attr-defined]
            kept = default_mask.sum(axis=tuple(d for d in range(t.ndim) if d != dim)) != 0
            region = tuple(kept if d == dim else slice(None) for d in range(t.ndim))
        else:
            region = (slice(None),) * t.ndim
        new_mask[region] = method.compute_mask(t[region], default_mask[region])
        return new_mask


class Identity(BasePruningMethod):
    """Prunes nothing (the mask is all ones); useful to give a tensor the orig/mask form."""

    def compute_mask(self, t: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        return default_mask


class _Unstructured(BasePruningMethod):
    """Prune the `amount` entries with the smallest `scores`."""

    def __init__(self, amount: float | int) -> None:
        _validate_amount_init(amount)
        self.amount = amount

    def scores(self, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def compute_mask(self, t: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        count = _units_to_prune(self.amount, t.size)
        mask = default_mask.copy()
        mask.reshape(-1)[_smallest(self.scores(t), count)] = 0
        return mask


class RandomUnstructured(_Unstructured):
    def scores(self, t: np.ndarray) -> np.ndarray:
        return random.generator().random(t.size)


class L1Unstructured(_Unstructured):
    def scores(self, t: np.ndarray) -> np.ndarray:
        return np.abs(t).reshape(-1)


class _Structured(BasePruningMethod):
    PRUNING_TYPE = "structured"

    def __init__(self, amount: float | int, dim: int = -1) -> None:
        _validate_amount_init(amount)
        self.amount = amount
        self.dim = dim

    def channel_scores(self, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def compute_mask(self, t: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        _check_structured(t, self.dim)
        channels = t.shape[self.dim]
        count = _units_to_prune(self.amount, channels)
        if count == 0:
            return default_mask
        keep = np.zeros(channels, dtype=bool)
        keep[_smallest(-self.channel_scores(t), channels - count)] = True  # the largest scores stay
        shape = [1] * t.ndim
        shape[self.dim] = channels
        return default_mask * keep.reshape(shape).astype(default_mask.dtype)


class RandomStructured(_Structured):
    def channel_scores(self, t: np.ndarray) -> np.ndarray:
        return random.generator().random(t.shape[self.dim])


class LnStructured(_Structured):
    def __init__(self, amount: float | int, n: float | int | str, dim: int = -1) -> None:
        super().__init__(amount, dim)
        self.n = 2 if n == "fro" else n
        if not isinstance(self.n, numbers.Real):
            raise ValueError(f"ln_structured: n must be a number, inf, -inf or 'fro', got {n!r}")

    def channel_scores(self, t: np.ndarray) -> np.ndarray:
        return _norm(t, float(self.n), self.dim)


class CustomFromMask(BasePruningMethod):
    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor | np.ndarray) -> None:
        self.mask = _array(mask)

    def compute_mask(self, t: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        if self.mask.shape != default_mask.shape:
            raise ValueError(f"custom_from_mask: mask shape {self.mask.shape} != tensor shape {default_mask.shape}")
        return default_mask * self.mask.astype(default_mask.dtype)


# ---- functional API ------------------------------------------------------------------------------------------------

def identity(module: Module, name: str) -> Module:
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount: float | int) -> Module:
    """Zero ``amount`` (fraction or count) of ``module.<name>``'s entries chosen at random."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Module, name: str, amount: float | int,
                    importance_scores: Tensor | np.ndarray | None = None) -> Module:
    """Zero the ``amount`` (fraction or count) entries of smallest magnitude (or importance score)."""
    L1Unstructured.apply(module, name, amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount: float | int, dim: int) -> Module:
    """Zero ``amount`` whole slices along ``dim`` chosen at random."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Module, name: str, amount: float | int, n: float | int | str, dim: int,
                  importance_scores: Tensor | np.ndarray | None = None) -> Module:
    """Zero the ``amount`` slices along ``dim`` with the smallest L``n`` norm (``dim=0``: output channels)."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def channels(module: Module, amount: float | int, n: float | int = 2) -> Module:
    """Prune whole output channels / neurons (tinytorch extension): ``ln_structured(weight, dim=0)`` plus the same
    mask on the bias, so the pruned units output exactly 0 and ``shrink`` can remove them."""
    ln_structured(module, "weight", amount, n=n, dim=0)
    if getattr(module, "bias", None) is not None:
        kept = module.weight_mask.data.reshape(module.weight_mask.shape[0], -1).any(axis=1)
        custom_from_mask(module, "bias", kept)
    return module


def custom_from_mask(module: Module, name: str, mask: Tensor | np.ndarray) -> Module:
    """Prune with a given 0/1 ``mask`` (combined with any existing mask)."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters: Iterable[tuple[Module, str]], pruning_method: type[BasePruningMethod],
                        importance_scores: dict | None = None, **kwargs: Any) -> None:
    """Prune across several tensors at once: ``amount`` counts over all of them together (e.g. the smallest 20 %
    of all conv and linear weights by magnitude with ``pruning_method=prune.L1Unstructured``)."""
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = {} if importance_scores is None else importance_scores
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    tensors = [getattr(module, name) for module, name in parameters]
    scores = np.concatenate([_array(importance_scores.get((module, name), tensor)).reshape(-1)
                             for (module, name), tensor in zip(parameters, tensors)])
    masks = [getattr(module, name + "_mask", None) for module, name in parameters]
    default_mask = np.concatenate([np.ones(t.data.size, t.dtype) if m is None else m.data.reshape(-1)
                                   for t, m in zip(tensors, masks)])
    method._tensor_name = "temp"
    final_mask = PruningContainer(method).compute_mask(scores, default_mask)
    start = 0
    for (module, name), tensor in zip(parameters, tensors):
        custom_from_mask(module, name, final_mask[start:start + tensor.data.size].reshape(tensor.shape))
        start += tensor.data.size


def remove(module: Module, name: str) -> Module:
    """Make ``module.<name>``'s pruning permanent (drops ``<name>_orig``, ``<name>_mask`` and the hook)."""
    hook = _pruning_hook(module, name)
    if hook is None:
        raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")
    hook.remove(module)
    _drop_hook(module, hook)
    return module


def is_pruned(module: Module) -> bool:
    """True if ``module`` or any submodule carries a pruning hook."""
    return any(isinstance(hook, BasePruningMethod)
               for sub in module.modules() for hook in sub._forward_pre_hooks.values())


def _pruning_hook(module: Module, name: str) -> BasePruningMethod | None:
    hooks = [hook for hook in module._forward_pre_hooks.values()
             if isinstance(hook, BasePruningMethod) and hook._tensor_name == name]
    return hooks[0] if hooks else None


def _drop_hook(module: Module, hook: BasePruningMethod) -> None:
    for key in [key for key, value in module._forward_pre_hooks.items() if value is hook]:
        del module._forward_pre_hooks[key]


def _array(x: Tensor | np.ndarray) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)
