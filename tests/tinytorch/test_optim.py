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
    "adamw_maximize_amsgrad": ("AdamW", dict(lr=0.01, weight_decay=0.1, betas=(0.8, 0.9), eps=1e-3, amsgrad=True,
                                             maximize=True)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_steps_match_torch(name, oracle, rng):
    cls, kwargs = OPTIMIZERS[name]
    _train(oracle, rng, lambda p: getattr(tt.optim, cls)(p, **kwargs),
           lambda p: getattr(oracle.torch.optim, cls)(p, **kwargs))


SCHEDULERS = {
    "step": ("StepLR", dict(step_size=2, gamma=0.5)),
    "multistep": ("MultiStepLR", dict(milestones=[2, 5], gamma=0.3)),
    "exponential": ("ExponentialLR", dict(gamma=0.8)),
    "constant": ("ConstantLR", dict(factor=0.5, total_iters=3)),
    "linear": ("LinearLR", dict(start_factor=0.1, total_iters=4)),
    "linear_decay": ("LinearLR", dict(start_factor=1.0, end_factor=0.2, total_iters=6)),
    "cosine": ("CosineAnnealingLR", dict(T_max=4, eta_min=0.001)),
    "lambda": ("LambdaLR", dict(lr_lambda=lambda epoch: 1.0 / (epoch + 1))),
    "onecycle": ("OneCycleLR", dict(max_lr=0.5, total_steps=9)),
    "onecycle_linear_3phase": ("OneCycleLR", dict(max_lr=0.3, epochs=3, steps_per_epoch=3, pct_start=0.4,
                                                  anneal_strategy="linear", three_phase=True)),
    "onecycle_no_momentum": ("OneCycleLR", dict(max_lr=0.2, total_steps=12, cycle_momentum=False,
                                                div_factor=10, final_div_factor=100)),
}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_schedulers_match_torch(name, oracle, rng):
    cls, kwargs = SCHEDULERS[name]
    torch = oracle.torch
    _train(oracle, rng, lambda p: tt.optim.SGD(p, lr=0.1, momentum=0.9),
           lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), steps=9,
           scheduler=(lambda o: getattr(tt.optim.lr_scheduler, cls)(o, **kwargs),
                      lambda o: getattr(torch.optim.lr_scheduler, cls)(o, **kwargs)))


def _momentum(optimizer):
    group = optimizer.param_groups[0]
    return group["betas"][0] if "betas" in group else group["momentum"]


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "AdamW"])
def test_one_cycle_cycles_momentum_and_beta1_like_torch(optimizer, oracle, rng):
    torch = oracle.torch
    mine, theirs = _twins(oracle)
    kwargs = dict(lr=0.1, momentum=0.9) if optimizer == "SGD" else dict(lr=0.01)
    opt = getattr(tt.optim, optimizer)(mine.parameters(), **kwargs)
    topt = getattr(torch.optim, optimizer)(theirs.parameters(), **kwargs)
    sched = tt.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=10)
    tsched = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.05, total_steps=10)
    for _ in range(10):
        assert _momentum(opt) == pytest.approx(_momentum(topt))
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr())
        x = tt.tensor(rng.standard_normal((4, 5)).astype(np.float32))
        opt.zero_grad()
        topt.zero_grad()
        mine(x).sum().backward()
        theirs(torch.tensor(x.data)).sum().backward()
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
    for p, tp in zip(mine.parameters(), theirs.parameters()):
        oracle.close(p, tp, atol=1e-5)
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        sched.step()


def test_one_cycle_needs_a_momentum_to_cycle():
    class Plain(tt.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, dict(lr=0.1))

    with pytest.raises(ValueError, match="momentum or beta1"):
        tt.optim.lr_scheduler.OneCycleLR(Plain(nn.Linear(2, 2).parameters()), max_lr=1.0, total_steps=4)
    with pytest.raises(ValueError, match="total_steps OR"):
        tt.optim.lr_scheduler.OneCycleLR(tt.optim.SGD(nn.Linear(2, 2).parameters()), max_lr=1.0)


@pytest.mark.parametrize("milestones", [[3], [2, 5]])
def test_sequential_lr_matches_torch(milestones, oracle):
    torch = oracle.torch
    lrs = []
    for lib, params in ((tt, nn.Linear(2, 2).parameters()), (torch, torch.nn.Linear(2, 2).parameters())):
        opt = lib.optim.SGD(params, lr=0.4)
        s = lib.optim.lr_scheduler
        parts = [s.LinearLR(opt, start_factor=0.25, total_iters=3), s.CosineAnnealingLR(opt, T_max=4, eta_min=0.01),
                 s.ExponentialLR(opt, gamma=0.5)][:len(milestones) + 1]
        sched = s.SequentialLR(opt, parts, milestones=milestones)
        seen = [sched.get_last_lr()[0]]
        for _ in range(9):
            opt.step()
            sched.step()
            seen.append(sched.get_last_lr()[0])
        lrs.append(seen)
    assert lrs[0] == pytest.approx(lrs[1])


@pytest.mark.parametrize("kwargs", [dict(patience=1), dict(mode="max", factor=0.5, patience=0, cooldown=2),
                                    dict(threshold=0.1, threshold_mode="abs", patience=1, min_lr=0.02)])
def test_reduce_lr_on_plateau_matches_torch(kwargs, oracle):
    torch = oracle.torch
    metrics = [1.0, 0.9, 0.95, 0.93, 0.96, -0.5, -0.4, -0.45, -0.6, -0.59, -0.58, -0.7, -0.7]
    lrs = []
    for lib, params in ((tt, nn.Linear(2, 2).parameters()), (torch, torch.nn.Linear(2, 2).parameters())):
        opt = lib.optim.SGD(params, lr=0.4)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        seen = []
        for metric in metrics:
            sched.step(metric)
            seen.append(opt.param_groups[0]["lr"])
        lrs.append(seen)
    assert len(set(lrs[0])) > 1
    assert lrs[0] == pytest.approx(lrs[1])
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        tt.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)


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
