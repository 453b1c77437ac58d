"""PyTorch twins of the reference models: the numerical oracle (tests) and speed anchor (benchmarks).

Each twin builds the same module tree as its tinytorch model, so ``state_dict()`` keys and shapes are equal and a
tinytorch state dict loads straight into it. PyTorch is imported lazily: tinytorch never needs it at runtime.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np


def _torch() -> Any:
    import torch  # noqa: PLC0415  (oracle only; not a runtime dependency)

    return torch


def torch_mlp(in_features: int = 784, hidden: tuple[int, ...] = (128, 64), num_classes: int = 10) -> Any:
    """The PyTorch twin of :class:`tinytorch.models.MLP`."""
    nn = _torch().nn

    class MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers: list[nn.Module] = []
            width = in_features
            for size in hidden:
                layers += [nn.Linear(width, size), nn.ReLU()]
                width = size
            layers.append(nn.Linear(width, num_classes))
            self.layers = nn.Sequential(*layers)

        def forward(self, x):
            return self.layers(x.reshape(x.shape[0], -1))

    return MLP()


def torch_baseline_cnn(in_channels: int = 3, num_classes: int = 10, image_size: int = 32) -> Any:
    """The PyTorch twin of :class:`tinytorch.models.BaselineCNN`."""
    nn = _torch().nn

    class BaselineCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(in_channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            )
            side = image_size // 4
            self.classifier = nn.Sequential(
                nn.Flatten(), nn.Linear(64 * side * side, 128), nn.ReLU(), nn.Linear(128, num_classes)
            )

        def forward(self, x):
            return self.classifier(self.features(x))

    return BaselineCNN()


def torch_gpt(vocab_size: int, context_length: int = 256, d_model: int = 128, n_heads: int = 4,
              n_layers: int = 4, dropout: float = 0.0) -> Any:
    """The PyTorch twin of :class:`tinytorch.models.GPT`, with the same KV-cached greedy/sampling loop."""
    torch = _torch()
    nn = torch.nn
    F = torch.nn.functional

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.context_length = context_length
            self.n_heads = n_heads
            self.tok_emb = nn.Embedding(vocab_size, d_model)
            self.pos_emb = nn.Embedding(context_length, d_model)
            self.blocks = nn.ModuleList(
                nn.TransformerEncoderLayer(d_model, n_heads, 4 * d_model, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
                for _ in range(n_layers)
            )
            self.ln_f = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab_size)

        def forward(self, idx):
            t = idx.shape[1]
            x = self.tok_emb(idx) + self.pos_emb(torch.arange(t))
            mask = nn.Transformer.generate_square_subsequent_mask(t)
            for block in self.blocks:
                x = block(x, src_mask=mask, is_causal=True)
            return self.head(self.ln_f(x))

        def _block_step(self, block, x, cache_k, cache_v, start):
            """One norm-first encoder layer on new positions [start, start+T) with cached keys/values."""
            attn = block.self_attn
            b, t, c = x.shape
            dh = c // self.n_heads
            h = block.norm1(x)
            q, k, v = F.linear(h, attn.in_proj_weight, attn.in_proj_bias).split(c, dim=-1)
            q, k, v = (z.view(b, t, self.n_heads, dh).transpose(1, 2) for z in (q, k, v))
            cache_k[:, :, start:start + t] = k
            cache_v[:, :, start:start + t] = v
            keys, values = cache_k[:, :, :start + t], cache_v[:, :, :start + t]
            scores = q @ keys.transpose(-1, -2) / dh ** 0.5
            if t > 1:
                allowed = torch.ones(t, start + t, dtype=torch.bool).tril(diagonal=start)
                scores = scores.masked_fill(~allowed, float("-inf"))
            y = (scores.softmax(-1) @ values).transpose(1, 2).reshape(b, t, c)
            x = x + attn.out_proj(y)
            return x + block.linear2(F.gelu(block.linear1(block.norm2(x))))

        @torch.no_grad()
        def generate(self, idx, max_new_tokens: int):
            """Greedy KV-cached generation (the benchmark's reference loop); needs T + new - 1 <= context."""
            b, t = idx.shape
            dh = self.blocks[0].self_attn.embed_dim // self.n_heads
            shape = (b, self.n_heads, self.context_length, dh)
            caches = [(torch.empty(shape), torch.empty(shape)) for _ in self.blocks]
            tokens, pos = idx, 0
            for _ in range(max_new_tokens):
                x = self.tok_emb(tokens) + self.pos_emb(torch.arange(pos, pos + tokens.shape[1]))
                for block, (ck, cv) in zip(self.blocks, caches):
                    x = self._block_step(block, x, ck, cv, pos)
                pos += tokens.shape[1]
                logits = self.head(self.ln_f(x[:, -1]))
                tokens = logits.argmax(-1, keepdim=True)
                idx = torch.cat([idx, tokens], dim=1)
            return idx

    return GPT()


def load_into_torch(module: Any, state: Mapping[str, Any]) -> Any:
    """Copy a tinytorch state dict (Tensors or arrays) into a torch module (strict) and return it in eval mode."""
    torch = _torch()
    tensors = {k: torch.from_numpy(np.ascontiguousarray(getattr(v, "data", v))) for k, v in state.items()}
    module.load_state_dict(tensors, strict=True)
    return module.eval()
