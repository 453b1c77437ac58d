"""Written by scripts/build_entrants.py: the reference MLP of MLP Sprint trained with AdamW, a
one-cycle learning rate stepped every batch (OneCycleLR; after the cycle it stays at its final value) and label
smoothing."""

import numpy as np

import tinytorch as tt
from tinytorch import nn, optim
from tinytorch.data import DataLoader, TensorDataset
from tinytorch.models import MLP

BATCH_SIZE, MAX_LR, CYCLE_EPOCHS = 64, 0.01, 3
LABEL_SMOOTHING, MAX_EPOCHS = 0.1, 20


def train(event: str, inputs: np.ndarray, labels: np.ndarray, seed: int):
    """Yield the model after every epoch."""
    tt.manual_seed(seed)
    model = MLP(784, (128, 64), 10)
    loader = DataLoader(TensorDataset(inputs, labels), batch_size=BATCH_SIZE, shuffle=True, seed=seed)
    optimizer = optim.AdamW(model.parameters(), lr=MAX_LR)
    schedule = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=MAX_LR, epochs=CYCLE_EPOCHS,
                                             steps_per_epoch=len(loader), final_div_factor=1.0)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=LABEL_SMOOTHING)
    for _ in range(MAX_EPOCHS):
        model.train()
        for batch_inputs, batch_labels in loader:
            optimizer.zero_grad()
            loss_fn(model(batch_inputs), batch_labels).backward()
            optimizer.step()
            if schedule.last_epoch < schedule.total_steps:
                schedule.step()
        model.eval()
        yield model


def predict(model: nn.Module, inputs: np.ndarray) -> np.ndarray:
    """(N, 1, 28, 28) float32 images -> (N, 10) logits."""
    with tt.no_grad():
        return model(tt.from_numpy(inputs)).numpy()
