"""The reference entrant: the course's baseline models exactly as trained, unoptimized.

Every other entry's speedup and compression are measured against this folder on the same machine in the same run.
The harness imports this file in a sandboxed worker whose working directory is a copy of this folder, so the
weights are loaded by file name. The .npz files are copies of tinytorch/models/weights/ (a test keeps them
identical); the architectures come from the model cards next to those weights.
"""

import numpy as np

import tinytorch as tt
from tinytorch import nn, optim
from tinytorch.data import DataLoader, TensorDataset
from tinytorch.models import GPT, MLP, BaselineCNN, model_card

BUILDERS = {"MLP": MLP, "BaselineCNN": BaselineCNN, "GPT": GPT}
# Which committed model serves which event (training events build a fresh MLP in `train`).
EVENT_MODELS = {"cnn_marathon_offline": "mnist_cnn", "memory_master_offline": "mnist_cnn", "memory_master": "mnist_cnn",
                "transformer_decathlon": "shakespeare_gpt",
                "cnn_marathon": "cifar10_cnn"}  # entered once `tito baseline train --event cnn_marathon` has run
# The MLP Sprint training recipe of tinytorch.train.mlp (SGD with momentum, cross-entropy).
TRAINING = {"batch_size": 64, "lr": 0.05, "momentum": 0.9, "max_epochs": 20}


def build(name: str) -> nn.Module:
    """A freshly initialised model with the architecture of the committed model `name` (from its model card)."""
    card = model_card(name)
    config = {key: tuple(value) if isinstance(value, list) else value for key, value in card["config"].items()}
    return BUILDERS[card["model"]](**config)


def load(event: str) -> nn.Module:
    """The committed model for `event` with its weights from this folder, in eval mode."""
    name = EVENT_MODELS[event]
    model = build(name)
    model.load_state_dict(tt.load(name + ".npz"), strict=True)
    return model.eval()


def predict(model: nn.Module, inputs: np.ndarray) -> np.ndarray:
    """(N, C, H, W) float32 images in [0, 1] -> (N, 10) logits."""
    with tt.no_grad():
        return model(tt.from_numpy(inputs)).numpy()


def train(event: str, inputs: np.ndarray, labels: np.ndarray, seed: int):
    """MLP Sprint: train a fresh MLP with SGD + momentum; yield the model after every epoch."""
    tt.manual_seed(seed)
    model = build("mnist_mlp")
    optimizer = optim.SGD(model.parameters(), lr=TRAINING["lr"], momentum=TRAINING["momentum"])
    loader = DataLoader(TensorDataset(inputs, labels), batch_size=TRAINING["batch_size"], shuffle=True, seed=seed)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(TRAINING["max_epochs"]):
        model.train()
        for batch_inputs, batch_labels in loader:
            optimizer.zero_grad()
            loss_fn(model(batch_inputs), batch_labels).backward()
            optimizer.step()
        model.eval()
        yield model


def next_token_logits(model: GPT, tokens: np.ndarray) -> np.ndarray:
    """(B, T) character ids -> (B, T, vocab) next-token logits."""
    with tt.no_grad():
        return model(tokens).numpy()


def generate(model: GPT, prompt: np.ndarray, max_new_tokens: int) -> np.ndarray:
    """Greedy continuation with the KV cache: (1, T) -> (1, T + max_new_tokens) ids."""
    return model.generate(prompt, max_new_tokens, temperature=0.0, use_kv_cache=True).numpy()
