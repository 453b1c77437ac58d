"""Reference models of the competition and their committed pretrained weights."""
from .cnn import BaselineCNN
from .gpt import GPT
from .kv_cache import KVCache
from .mlp import MLP
from .pretrained import PRETRAINED, model_card, pretrained, pretrained_tokenizer

__all__ = ["BaselineCNN", "GPT", "KVCache", "MLP", "PRETRAINED", "model_card", "pretrained", "pretrained_tokenizer"]
