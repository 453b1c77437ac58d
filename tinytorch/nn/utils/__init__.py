"""``tinytorch.nn.utils``: gradient clipping, pruning (``prune``) and sparse checkpoints (``save_sparse``).

``prune`` loads on first use (``from tinytorch.nn.utils import prune``, as with ``torch.nn.utils.prune``), so
``import tinytorch`` — which every jailed worker does — stays light."""
import importlib

from .clip_grad import clip_grad_norm_
from .sparse import load_sparse, save_sparse

__all__ = ["clip_grad_norm_", "prune", "save_sparse", "load_sparse"]


def __getattr__(name: str):
    if name == "prune":
        return importlib.import_module(".prune", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
