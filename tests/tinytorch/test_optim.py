"""Optimizers and schedulers against PyTorch over several steps; clip_grad_norm_."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from tinytorch import nn


def _twins(oracle):
    torch = oracle.torch
    mine = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    oracle.copy_weights(mine, theirs)
    return mine, theirs


def _train(oracle, rng, make_mine, make_theirs, steps=6, scheduler=None):
    torch = oracle.torch
    mine, theirs = _twins(oracle)
    opt, topt = make_mine(mine.parameters()), make_theirs(theirs.parameters())
    sched = scheduler[0](opt) if scheduler else None
    tsched = scheduler[1](topt) if scheduler else None
    for _ in range(steps):
        x = rng.standard_normal((8, 5)).astype(np.float32)
        y = rng.integers(0, 3, size=8)
        opt.zero_grad()
        topt.zero_grad()
        nn.CrossEntropyLoss()(mine(tt.tensor(x)), tt.tensor(y)).backward()
        torch.nn.CrossEntropyLoss()(theirs(torch.tensor(x)), torch.tensor(y)).backward()
        opt.step()
        topt.step()
        if sched:
            sched.step()
            tsched.step()
            assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr())
    for (name, p), tp in zip(mine.named_parameters(), theirs.parameters()):
        assert p.dtype == np.float32, name
        oracle.close(p, tp, atol=1e-5)


OPTIMIZERS = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd_momentum_decay": ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    "sgd_dampening": ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.3)),
    "sgd_nesterov": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    "adam": ("Adam", dict(lr=0.01)),
    "adam_l2": ("Adam", dict(lr=0.01, weight_decay=0.1, betas=(0.8, 0.99))),
    "adam_amsgrad": ("Adam", dict(lr=0.01, amsgrad=True)),
    "adamw": ("AdamW", dict(lr=0.01)),
    "adamw_decay": ("AdamW", dict(lr=0.01, weight_decay=0.3)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_steps_match_torch(name, oracle, rng):
    cls, kwargs = OPTIMIZERS[name]
    _train(oracle, rng, lambda p: getattr(tt.optim, cls)(p, **kwargs),
           lambda p: getattr(oracle.torch.optim, cls)(p, **kwargs))


SCHEDULERS = {
    "step": ("StepLR", dict(step_size=2, gamma=0.5)),
    "cosine": ("CosineAnnealingLR", dict(T_max=4, eta_min=0.001)),
    "lambda": ("LambdaLR", dict(lr_lambda=lambda epoch: 1.0 / (epoch + 1))),
}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_schedulers_match_torch(name, oracle, rng):
    cls, kwargs = SCHEDULERS[name]
    torch = oracle.torch
    _train(oracle, rng, lambda p: tt.optim.SGD(p, lr=0.1, momentum=0.9),
           lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), steps=9,
           scheduler=(lambda o: getattr(tt.optim.lr_scheduler, cls)(o, **kwargs),
                      lambda o: getattr(torch.optim.lr_scheduler, cls)(o, **kwargs)))


def test_parameter_groups_and_zero_grad():
    a, b = nn.Parameter(np.ones(2, dtype=np.float32)), nn.Parameter(np.ones(2, dtype=np.float32))
    opt = tt.optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    ((a + b) * 2).sum().backward()
    opt.step()
    np.testing.assert_allclose(a.data, [0.8, 0.8])
    np.testing.assert_allclose(b.data, [-1.0, -1.0])
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_optimizer_state_dict_round_trip(rng):
    layer = nn.Linear(3, 2)
    opt = tt.optim.Adam(layer.parameters(), lr=0.1)
    layer(tt.randn(4, 3)).sum().backward()
    opt.step()
    state = opt.state_dict()
    fresh = tt.optim.Adam(layer.parameters(), lr=0.5)
    fresh.load_state_dict(state)
    assert fresh.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(fresh.state[layer.weight]["exp_avg"], opt.state[layer.weight]["exp_avg"])


@pytest.mark.parametrize("max_norm,norm_type", [(0.5, 2.0), (100.0, 2.0), (0.1, 1.0), (0.2, float("inf"))])
def test_clip_grad_norm_matches_torch(max_norm, norm_type, oracle):
    mine, theirs = _twins(oracle)
    x = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    (mine(tt.tensor(x)) ** 2).sum().backward()
    (theirs(oracle.torch.tensor(x)) ** 2).sum().backward()
    norm = nn.utils.clip_grad_norm_(mine.parameters(), max_norm, norm_type)
    tnorm = oracle.torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm, norm_type)
    assert norm.item() == pytest.approx(tnorm.item(), rel=1e-5)
    oracle.grads_close(mine, theirs)
