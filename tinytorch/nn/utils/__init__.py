"""``tinytorch.nn.utils``: gradient clipping, pruning (``prune``) and sparse checkpoints (``save_sparse``)."""
from . import prune
from .clip_grad import clip_grad_norm_
from .sparse import load_sparse, save_sparse

__all__ = ["clip_grad_norm_", "prune", "save_sparse", "load_sparse"]
