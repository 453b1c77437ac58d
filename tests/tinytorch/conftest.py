"""Shared fixtures for tinytorch tests: the PyTorch oracle and helpers to copy weights and compare results."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt


@pytest.fixture
def torch():
    """PyTorch (CPU), the numerical oracle; tests that need it are skipped when it is missing."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return torch


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


class Oracle:
    """Moves data between tinytorch and PyTorch and compares values, gradients and dtypes."""

    def __init__(self, torch) -> None:
        self.torch = torch

    def pair(self, array: np.ndarray, requires_grad: bool = True):
        """The same data as a tinytorch leaf and a torch leaf."""
        array = np.ascontiguousarray(array)
        return (tt.tensor(array, requires_grad=requires_grad),
                self.torch.tensor(array, requires_grad=requires_grad))

    def copy_weights(self, source_tt, target_torch) -> None:
        """Load a tinytorch module's state_dict into the torch twin (keys and shapes must agree)."""
        state = {k: self.torch.from_numpy(np.array(v.data)) for k, v in source_tt.state_dict().items()}
        target_torch.load_state_dict(state, strict=True)

    @staticmethod
    def close(mine, theirs, atol: float = 1e-5, rtol: float = 1e-4) -> None:
        mine_array = mine.data if isinstance(mine, tt.Tensor) else np.asarray(mine)
        theirs_array = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
        assert mine_array.shape == theirs_array.shape
        np.testing.assert_allclose(mine_array, theirs_array, atol=atol, rtol=rtol)

    def grads_close(self, tt_module, torch_module, atol: float = 1e-5, rtol: float = 1e-4) -> None:
        """Every parameter gradient of the two modules agrees (matched by name)."""
        theirs = dict(torch_module.named_parameters())
        mine = dict(tt_module.named_parameters())
        assert mine.keys() == theirs.keys()
        for name, param in mine.items():
            assert param.grad is not None, name
            assert param.grad.dtype == param.dtype, name
            self.close(param.grad, theirs[name].grad, atol, rtol)


@pytest.fixture
def oracle(torch) -> Oracle:
    return Oracle(torch)
