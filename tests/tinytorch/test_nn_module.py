"""Module protocol: registration, traversal, state_dict / load_state_dict, modes, hooks."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from tinytorch import nn


def _net_class(lib):
    """The same small model tree written against tinytorch.nn or torch.nn."""
    class Net(lib.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = lib.Sequential(lib.Conv2d(1, 2, 3), lib.BatchNorm2d(2), lib.ReLU())
            self.blocks = lib.ModuleList([lib.Linear(8, 8), lib.LayerNorm(8)])
            self.emb = lib.Embedding(5, 8)
            self.head = lib.Linear(8, 3, bias=False)

        def forward(self, x):
            return self.head(self.blocks[1](self.blocks[0](self.features(x).flatten(1))))
    return Net


Net = _net_class(nn)


def test_state_dict_keys_and_shapes_equal_torch(torch):
    mine, theirs = Net(), _net_class(torch.nn)()
    assert {k: v.shape for k, v in mine.state_dict().items()} == \
           {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in mine.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in mine.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [type(c).__name__ for c in mine.children()] == [type(c).__name__ for c in theirs.children()]


def test_state_dict_shares_memory_and_load_copies_in_place():
    net = Net()
    state = net.state_dict()
    assert state["head.weight"].data is net.head.weight.data
    weight_array = net.head.weight.data
    net.load_state_dict({k: np.full(v.shape, 0.5, dtype=v.dtype) for k, v in state.items()})
    assert net.head.weight.data is weight_array and np.all(weight_array == 0.5)


def test_load_state_dict_shape_error_names_the_key():
    net = Net()
    state = dict(net.state_dict())
    state["blocks.0.weight"] = np.zeros((8, 7), dtype=np.float32)
    with pytest.raises(ValueError, match=r"blocks\.0\.weight.*\(8, 7\).*\(8, 8\)"):
        net.load_state_dict(state)


def test_load_state_dict_strict_missing_and_unexpected():
    net = Net()
    state = dict(net.state_dict())
    del state["head.weight"]
    state["extra"] = np.zeros(1)
    with pytest.raises(ValueError, match=r"head\.weight.*extra"):
        net.load_state_dict(state)
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert missing == ["head.weight"] and unexpected == ["extra"]


def test_load_state_dict_casts_to_parameter_dtype():
    layer = nn.Linear(2, 2)
    layer.load_state_dict({"weight": np.ones((2, 2)), "bias": np.zeros(2)})
    assert layer.weight.dtype == np.float32


def test_train_eval_propagates_and_zero_grad():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net(tt.randn(2, 1, 4, 4)).sum().backward()
    assert net.head.weight.grad is not None
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_parameters_are_deduplicated_when_shared():
    a = nn.Linear(3, 3)
    model = nn.Sequential(a, a)
    assert len(list(model.parameters())) == 2


def test_registration_rules():
    module = nn.Module()
    module.weight = nn.Parameter(np.ones(2, dtype=np.float32))
    module.register_buffer("stat", tt.zeros(2))
    module.register_buffer("scratch", tt.zeros(1), persistent=False)
    module.child = nn.ReLU()
    assert list(module.state_dict()) == ["weight", "stat"]
    assert [n for n, _ in module.named_buffers()] == ["stat", "scratch"]
    with pytest.raises(TypeError, match="weight"):
        module.weight = tt.ones(2)
    module.weight = None
    assert list(module.parameters()) == []
    del module.child
    assert list(module.children()) == []
    with pytest.raises(AttributeError, match="super"):
        class Broken(nn.Module):
            def __init__(self):
                self.layer = nn.Linear(1, 1)
        Broken()


def test_forward_hooks_can_replace_inputs_and_outputs_and_be_removed():
    layer = nn.Linear(2, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = layer.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = layer(tt.ones(1, 2))
    np.testing.assert_allclose(out.data, layer.bias.data[None] + 1)
    assert calls == [(1, 2)]
    pre.remove()
    post.remove()
    np.testing.assert_allclose(layer(tt.ones(1, 2)).data, tt.ones(1, 2).data @ layer.weight.data.T + layer.bias.data)


def test_hooks_enable_per_layer_profiling():
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    seen = []
    handles = [m.register_forward_hook(lambda m, a, o, name=name: seen.append(name))
               for name, m in model.named_modules() if name]
    model(tt.randn(3, 4))
    assert seen == ["0", "1", "2"]
    for handle in handles:
        handle.remove()
    model(tt.randn(3, 4))
    assert len(seen) == 3


def test_module_to_half_keeps_int_buffers():
    net = Net().half()
    assert net.head.weight.dtype == np.float16
    assert net.features[1].num_batches_tracked.dtype == np.int64
    assert net(tt.randn(1, 1, 4, 4).half()).dtype == np.float16


def test_sequential_indexing_and_repr():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(model[0], nn.Linear) and len(model[1:]) == 2 and len(model) == 3
    assert "Linear(in_features=2, out_features=3, bias=True)" in repr(model)


def test_failed_load_modifies_nothing():
    net = Net()
    before = {k: v.data.copy() for k, v in net.state_dict().items()}
    state = {k: np.zeros(v.shape, dtype=v.dtype) for k, v in net.state_dict().items()}
    state["head.weight"] = np.zeros((1, 1), dtype=np.float32)
    with pytest.raises(ValueError, match=r"head\.weight"):
        net.load_state_dict(state)
    assert all(np.array_equal(before[k], v.data) for k, v in net.state_dict().items())


def test_deepcopy_and_pickle_give_independent_equal_modules():
    import copy
    import pickle
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert isinstance(clone[3].weight, nn.Parameter)
        assert clone[3].weight is not net[3].weight
        np.testing.assert_array_equal(clone[3].weight.data, net[3].weight.data)
        assert list(clone.state_dict()) == list(net.state_dict())
