"""Written by tinytorch.competition.generate_submission: the optimized model rebuilt from RECIPE and shakespeare_gpt.npz."""

import numpy as np

import tinytorch as tt
from tinytorch.competition import load_entry, sliding_window_logits

RECIPE = {'model': 'GPT', 'config': {'vocab_size': 84, 'context_length': 256, 'd_model': 128, 'n_heads': 4, 'n_layers': 4, 'dropout': 0.0}, 'fuse': [], 'shapes': {'blocks.0.self_attn.out_proj': [128, 128], 'blocks.0.linear1': [512, 128], 'blocks.0.linear2': [128, 512], 'blocks.1.self_attn.out_proj': [128, 128], 'blocks.1.linear1': [512, 128], 'blocks.1.linear2': [128, 512], 'blocks.2.self_attn.out_proj': [128, 128], 'blocks.2.linear1': [512, 128], 'blocks.2.linear2': [128, 512], 'blocks.3.self_attn.out_proj': [128, 128], 'blocks.3.linear1': [512, 128], 'blocks.3.linear2': [128, 512], 'head': [84, 128]}, 'quantize': {'blocks.0.self_attn.out_proj': 'int8', 'blocks.0.linear1': 'int8', 'blocks.0.linear2': 'int8', 'blocks.1.self_attn.out_proj': 'int8', 'blocks.1.linear1': 'int8', 'blocks.1.linear2': 'int8', 'blocks.2.self_attn.out_proj': 'int8', 'blocks.2.linear1': 'int8', 'blocks.2.linear2': 'int8', 'blocks.3.self_attn.out_proj': 'int8', 'blocks.3.linear1': 'int8', 'blocks.3.linear2': 'int8'}, 'techniques': ['kv_cache', 'quantization'], 'reencode_every': 128}


def load(event: str):
    """The optimized model with the shipped weights, in eval mode."""
    return load_entry(RECIPE, "shakespeare_gpt.npz")


def next_token_logits(model, tokens: np.ndarray) -> np.ndarray:
    """(B, T) ids -> (B, T, vocab) logits: what generate() predicts each next token from."""
    if RECIPE["reencode_every"] is None or tokens.shape[1] <= model.context_length:
        with tt.no_grad():
            return model(tokens).numpy()
    return sliding_window_logits(model, tokens, RECIPE["reencode_every"])


def generate(model, prompt: np.ndarray, max_new_tokens: int) -> np.ndarray:
    """Greedy continuation with the KV cache (sliding window past the context length if RECIPE says so)."""
    return model.generate(prompt, max_new_tokens, temperature=0.0, use_kv_cache=True,
                          reencode_every=RECIPE["reencode_every"]).numpy()
