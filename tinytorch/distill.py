"""Knowledge distillation (Hinton et al., 2015): a student learns the teacher's softened output distribution.

``distillation_loss = alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * CE(student,
labels)``, the KL averaged over the batch (``reduction="batchmean"``). The ``T^2`` keeps the soft term's gradient
on the same scale as the hard term's when the temperature ``T`` changes.
"""
from __future__ import annotations

from typing import Any, Iterable

from .autograd import no_grad
from .nn import functional as F
from .nn.module import Module
from .tensor import Tensor

__all__ = ["distillation_loss", "DistillationLoss", "distill"]


def _check(temperature: float, alpha: float) -> None:
    if not temperature > 0:
        raise ValueError(f"distillation: temperature must be > 0, got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"distillation: alpha (the weight of the teacher's soft targets) must be in [0, 1], "
                         f"got {alpha}")


def distillation_loss(student_logits: Tensor, teacher_logits: Tensor, target: Tensor | None = None,
                      temperature: float = 4.0, alpha: float = 0.5) -> Tensor:
    """Soft-target KL (scaled by T^2) blended with cross-entropy on ``target`` labels; ``target=None`` or
    ``alpha=1`` gives the soft term alone. No gradient flows into the teacher."""
    _check(temperature, alpha)
    student_log_probs = F.log_softmax(student_logits * (1.0 / temperature), dim=-1)
    teacher_log_probs = F.log_softmax(Tensor(teacher_logits.data) * (1.0 / temperature), dim=-1)  # detached
    soft = F.kl_div(student_log_probs, teacher_log_probs, reduction="batchmean", log_target=True)
    soft = soft * (temperature * temperature)
    if target is None or alpha == 1.0:
        return soft
    return soft * alpha + F.cross_entropy(student_logits, target) * (1.0 - alpha)


class DistillationLoss(Module):
    """``distillation_loss`` as a module: ``DistillationLoss(T, alpha)(student_logits, teacher_logits, labels)``."""

    def __init__(self, temperature: float = 4.0, alpha: float = 0.5) -> None:
        super().__init__()
        _check(temperature, alpha)
        self.temperature, self.alpha = temperature, alpha

    def forward(self, student_logits: Tensor, teacher_logits: Tensor, target: Tensor | None = None) -> Tensor:
        return distillation_loss(student_logits, teacher_logits, target, self.temperature, self.alpha)


def distill(student: Module, teacher: Module, loader: Iterable[Any], optimizer: Any, epochs: int = 1,
            temperature: float = 4.0, alpha: float = 0.5) -> list[float]:
    """Train ``student`` on ``loader``'s (inputs, labels) batches against the frozen ``teacher`` (eval mode, no
    autograd); return the mean loss of each epoch."""
    _check(temperature, alpha)
    if epochs < 1:
        raise ValueError(f"distill: epochs must be >= 1, got {epochs}")
    teacher.eval()
    student.train()
    history = []
    for _ in range(epochs):
        total, seen = 0.0, 0
        for inputs, labels in loader:
            with no_grad():
                teacher_logits = teacher(inputs)
            loss = distillation_loss(student(inputs), teacher_logits, labels, temperature, alpha)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.item()) * len(labels.data)
            seen += len(labels.data)
        history.append(total / seen)
    return history
