"""The entry's model.py: load() rebuilds the model from the shipped weights alone (tinytorch.rebuild).

Optimize with the kit (prune, prune.shrink, fuse_modules, quantize_dynamic int8/int4, distill into a narrower
student), then save the result over the weights file of this folder:

    tt.save(model.state_dict(), "submissions/<you>/mnist_cnn.npz")

and load() rebuilds whatever kit form it holds (docs/students.md, "Your model.py").
"""

import numpy as np

import tinytorch as tt
from tinytorch.rebuild import load_model
from tinytorch.competition import sliding_window_logits

# Which weights file serves which event (named after the reference model).
EVENT_MODELS = {'transformer_decathlon': 'shakespeare_gpt'}
# Sliding KV cache: re-encode the window every N generated tokens past the context (None: never slide).
REENCODE_EVERY = 128


def load(event: str):
    """The model saved in this folder for `event`, rebuilt from its weights, in eval mode."""
    return load_model(EVENT_MODELS[event] + ".npz")


def next_token_logits(model, tokens: np.ndarray) -> np.ndarray:
    """(B, T) ids -> (B, T, vocab) logits: what generate() predicts each next token from."""
    if REENCODE_EVERY is None or tokens.shape[1] <= model.context_length:
        with tt.no_grad():
            return model(tokens).numpy()
    return sliding_window_logits(model, tokens, REENCODE_EVERY)


def generate(model, prompt: np.ndarray, max_new_tokens: int) -> np.ndarray:
    """Greedy continuation with the KV cache (sliding past the context length when REENCODE_EVERY is set)."""
    return model.generate(prompt, max_new_tokens, temperature=0.0, use_kv_cache=True,
                          reencode_every=REENCODE_EVERY).numpy()
