"""Find and replace submodules by dotted name (``features.0``), keeping the parent's child order."""
from __future__ import annotations

from ..nn.module import Module


def get_submodule(model: Module, target: str) -> Module:
    module = model
    for part in target.split(".") if target else []:
        child = module._modules.get(part)
        if child is None:
            known = ", ".join(name for name, _ in model.named_modules() if name) or "none"
            raise ValueError(f"{type(model).__name__} has no submodule {target!r} (submodules: {known})")
        module = child
    return module


def set_submodule(model: Module, target: str, module: Module) -> None:
    """Replace ``target`` in place in its parent's registry (a Sequential keeps running it at the same position)."""
    parent_name, _, child = target.rpartition(".")
    parent = get_submodule(model, parent_name)
    get_submodule(parent, child)  # must exist
    parent._modules[child] = module
    object.__setattr__(parent, child, module)
