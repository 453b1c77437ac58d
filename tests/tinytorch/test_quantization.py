"""tinytorch.quantization against torch.ao.quantization: observers, per-channel INT8/INT4 codes, dynamic quantized
outputs; exact save/load round trips; clear errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.quantization as tq
from tinytorch import nn
from tinytorch.nn import quantized as nnq
from tinytorch.nn.quantized.functional import pack_int4, unpack_int4


@pytest.fixture
def tao(torch):
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    import torch.ao.quantization as tao  # noqa: PLC0415
    return tao


def mlp_twins(oracle):
    mine = nn.Sequential(nn.Linear(300, 64), nn.ReLU(), nn.Linear(64, 10))
    theirs = oracle.torch.nn.Sequential(oracle.torch.nn.Linear(300, 64), oracle.torch.nn.ReLU(),
                                        oracle.torch.nn.Linear(64, 10))
    oracle.copy_weights(mine, theirs)
    return mine, theirs


@pytest.mark.parametrize("dtype, qscheme, reduce_range", [
    ("uint8", "per_tensor_affine", False), ("uint8", "per_tensor_affine", True),
    ("int8", "per_tensor_symmetric", False), ("int8", "per_tensor_affine", False),
])
def test_min_max_observer_qparams_equal_torch(dtype, qscheme, reduce_range, tao, rng):
    torch = pytest.importorskip("torch")
    mine = tq.MinMaxObserver(getattr(tt, dtype), getattr(tq, qscheme), reduce_range)
    theirs = tao.MinMaxObserver(dtype=torch.quint8 if dtype == "uint8" else torch.qint8,
                                qscheme=getattr(torch, qscheme), reduce_range=reduce_range)
    for shift in (0.3, -1.2):
        batch = (rng.standard_normal((16, 20)) + shift).astype(np.float32)
        mine(tt.tensor(batch))
        theirs(torch.tensor(batch))
    scale, zero_point = mine.calculate_qparams()
    tscale, tzero_point = theirs.calculate_qparams()
    np.testing.assert_array_equal(scale.data, tscale.numpy())
    np.testing.assert_array_equal(zero_point.data, tzero_point.numpy())


@pytest.mark.parametrize("qscheme", ["per_channel_symmetric", "per_channel_affine"])
def test_per_channel_observer_qparams_equal_torch(qscheme, tao, rng):
    torch = pytest.importorskip("torch")
    weight = rng.standard_normal((12, 5, 3, 3)).astype(np.float32)
    mine = tq.PerChannelMinMaxObserver(0, tt.int8, getattr(tq, qscheme))
    theirs = tao.PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=getattr(torch, qscheme))
    mine(tt.tensor(weight))
    theirs(torch.tensor(weight))
    for ours, reference in zip(mine.calculate_qparams(), theirs.calculate_qparams()):
        np.testing.assert_array_equal(ours.data, reference.numpy())


@pytest.mark.parametrize("bits, quant_range", [(8, (-128, 127)), (4, (-8, 7))])
def test_weight_codes_and_scales_equal_torch_per_channel_quantization(bits, quant_range, tao, rng):
    torch = pytest.importorskip("torch")
    conv = nn.Conv2d(5, 12, 3)
    layer = nnq.dynamic.Conv2d.from_float(conv, tt.int8 if bits == 8 else tq.int4)
    observer = tao.PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric,
                                            quant_min=quant_range[0], quant_max=quant_range[1])
    weight = torch.tensor(conv.weight.data)
    observer(weight)
    scale, zero_point = observer.calculate_qparams()
    codes = torch.quantize_per_channel(weight, scale, zero_point, 0, torch.qint8).int_repr().numpy()
    codes = np.clip(codes, *quant_range)
    np.testing.assert_array_equal(layer.weight_scale.data, scale.numpy())
    if bits == 8:
        np.testing.assert_array_equal(layer.weight.data, codes)
    else:
        assert layer.weight.dtype == np.uint8 and layer.weight.shape == (12, 23)  # 45 codes -> 22.5 -> 23 bytes
        np.testing.assert_array_equal(unpack_int4(layer.weight.data)[:, :45], codes.reshape(12, 45))
        assert np.all(unpack_int4(layer.weight.data)[:, 45] == 0)  # the documented padding code
    np.testing.assert_array_equal(layer.dequantized_weight(), codes * scale.numpy()[:, None, None, None])


def test_quantize_dynamic_matches_torch_outputs(oracle, tao, rng):
    mine, theirs = mlp_twins(oracle)
    qmine = tq.quantize_dynamic(mine)
    qtheirs = tao.quantize_dynamic(theirs, {oracle.torch.nn.Linear: tao.per_channel_dynamic_qconfig},
                                   dtype=oracle.torch.qint8)
    np.testing.assert_array_equal(qmine[0].weight.data, qtheirs[0].weight().int_repr().numpy())
    assert type(mine[0]) is nn.Linear  # not in place by default
    for x in (rng.standard_normal((8, 300)), 3 * rng.random((8, 300))):
        x = x.astype(np.float32)
        ours, reference = qmine(tt.tensor(x)).data, qtheirs(oracle.torch.tensor(x)).numpy()
        # activation quantization moves the float model's outputs by ~1e-2; ours agrees with torch to float rounding
        assert np.abs(mine(tt.tensor(x)).data - reference).max() > 1e-3
        np.testing.assert_allclose(ours, reference, atol=1e-5, rtol=1e-5)


def test_static_quantized_conv_equals_torch_fake_quantized_reference(tao, rng):
    torch = pytest.importorskip("torch")
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 36, 4))
    batches = [rng.standard_normal((4, 3, 6, 6)).astype(np.float32) for _ in range(3)]
    quantized = tq.convert(tq.calibrate(tq.prepare(model), batches))
    observer = tao.MinMaxObserver(dtype=torch.quint8)
    for batch in batches:
        observer(torch.tensor(batch))
    scale, zero_point = observer.calculate_qparams()
    conv = quantized[0]
    assert float(conv.input_scale.data) == float(scale) and int(conv.input_zero_point.data) == int(zero_point)
    x = torch.tensor(batches[0])
    fake = torch.fake_quantize_per_tensor_affine(x, float(scale), int(zero_point), 0, 255)
    reference = torch.nn.functional.conv2d(fake, torch.tensor(conv.dequantized_weight()),
                                           torch.tensor(conv.bias.data), padding=1)
    np.testing.assert_allclose(conv(tt.tensor(batches[0])).data, reference.numpy(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("dtype", [tt.int8, tq.int4])
@pytest.mark.parametrize("static", [False, True])
def test_save_load_round_trip_is_bit_identical(dtype, static, tmp_path, rng):
    tt.manual_seed(0)
    model = tt.models.BaselineCNN(1, 10, 12)
    x = tt.tensor(rng.random((6, 1, 12, 12)).astype(np.float32))
    spec = {nn.Linear: dtype, nn.Conv2d: dtype}
    if static:
        quantized = tq.convert(tq.calibrate(tq.prepare(model, spec), [x]))
    else:
        quantized = tq.quantize_dynamic(model, spec)
    tt.save(quantized.state_dict(), tmp_path / "q.npz")
    tt.manual_seed(1)
    skeleton = tt.models.BaselineCNN(1, 10, 12)  # different float weights: everything must come from the file
    fresh = tq.convert(tq.calibrate(tq.prepare(skeleton, spec), [x * 2])) if static else \
        tq.quantize_dynamic(skeleton, spec)
    fresh.load_state_dict(tt.load(tmp_path / "q.npz"))
    assert fresh(x).data.tobytes() == quantized(x).data.tobytes()
    for key, value in quantized.state_dict().items():
        assert fresh.state_dict()[key].dtype == value.dtype


def test_quantized_bytes_shrink():
    model = tt.models.BaselineCNN(1, 10, 28)
    float_bytes = sum(v.data.nbytes for v in model.state_dict().values())
    spec = {nn.Linear, nn.Conv2d}
    int8_bytes = sum(v.data.nbytes for v in tq.quantize_dynamic(model, spec).state_dict().values())
    int4_bytes = sum(v.data.nbytes for v in tq.quantize_dynamic(model, spec, dtype=tq.int4).state_dict().values())
    assert 0.25 < int8_bytes / float_bytes < 0.27
    assert 0.125 < int4_bytes / float_bytes < 0.14


def test_int4_packing_layout_and_odd_length_error():
    codes = np.array([[-8, 7, 0, -1], [1, 2, 3, 4]], dtype=np.int8)
    packed = pack_int4(codes)
    assert packed.dtype == np.uint8 and packed.shape == (2, 2)
    assert packed[0, 0] == (0x8 | 0x7 << 4) and packed[0, 1] == (0x0 | 0xF << 4)  # low nibble first
    np.testing.assert_array_equal(unpack_int4(packed), codes)
    with pytest.raises(ValueError, match="odd length 3"):
        pack_int4(np.zeros((2, 3), np.int8))
    with pytest.raises(ValueError, match=r"\[-8, 7\]"):
        pack_int4(np.array([9, 0]))


def test_bad_requests_get_clear_errors():
    model = tt.models.BaselineCNN(1, 10, 12)
    with pytest.raises(ValueError, match="MaxPool2d has no quantized version"):
        tq.quantize_dynamic(model, {"features.2"})
    with pytest.raises(ValueError, match="cannot quantize BatchNorm2d"):
        tq.quantize_dynamic(model, {nn.BatchNorm2d})
    with pytest.raises(ValueError, match="no such submodule"):
        tq.quantize_dynamic(model, {"features.9"})
    with pytest.raises(ValueError, match=r"tt.qint8 \(tt.int8\), tt.float16 or 'int4'"):
        tq.quantize_dynamic(model, dtype=tt.quint8)  # PyTorch refuses quint8 weights too
    with pytest.raises(ValueError, match="dynamic-quantization choice"):
        tq.prepare(model, dtype=tt.float16)
    with pytest.raises(ValueError, match="INT4 weights are per_channel_symmetric only"):
        nnq.dynamic.Linear(4, 3, dtype=tq.int4, qscheme="per_tensor_symmetric")
    with pytest.raises(ValueError, match="saw no data"):
        tq.convert(tq.prepare(model))
    with pytest.raises(ValueError, match="call prepare"):
        tq.convert(model)
    with pytest.raises(TypeError, match="expects nn.Linear"):
        nnq.dynamic.Linear.from_float(nn.Conv2d(1, 2, 3))


def test_quantized_dtype_names_are_the_storage_dtypes():
    assert tt.qint8 is tq.qint8 is np.int8 and tt.quint8 is tq.quint8 is np.uint8 and tq.float16 is tt.float16


def _weight_observer(tao, torch, qscheme):
    return {"per_tensor_symmetric": tao.default_weight_observer,
            "per_channel_symmetric": tao.default_per_channel_weight_observer,
            "per_tensor_affine": tao.MinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_tensor_affine),
            "per_channel_affine": tao.PerChannelMinMaxObserver.with_args(dtype=torch.qint8,
                                                                         qscheme=torch.per_channel_affine)}[qscheme]


@pytest.mark.parametrize("qscheme", ["per_tensor_symmetric", "per_tensor_affine", "per_channel_symmetric",
                                     "per_channel_affine"])
def test_int8_qconfigs_match_torch_codes_qparams_and_outputs(qscheme, oracle, tao, rng):
    torch = oracle.torch
    mine, theirs = mlp_twins(oracle)
    observer = {"per_tensor_symmetric": tq.default_weight_observer,
                "per_channel_symmetric": tq.default_per_channel_weight_observer,
                "per_tensor_affine": tq.MinMaxObserver.with_args(dtype=tt.qint8, qscheme=tq.per_tensor_affine),
                "per_channel_affine": tq.PerChannelMinMaxObserver.with_args(dtype=tt.qint8,
                                                                            qscheme=tq.per_channel_affine)}[qscheme]
    qmine = tq.quantize_dynamic(mine, {nn.Linear: tq.QConfig(tq.default_dynamic_quant_observer, observer)})
    tconfig = tao.QConfig(activation=tao.default_dynamic_quant_observer,
                          weight=_weight_observer(tao, torch, qscheme))
    qtheirs = tao.quantize_dynamic(theirs, {torch.nn.Linear: tconfig})
    for index in (0, 2):
        layer, weight = qmine[index], qtheirs[index].weight()
        np.testing.assert_array_equal(layer.weight.data, weight.int_repr().numpy())
        per_channel = qscheme.startswith("per_channel")
        scale = weight.q_per_channel_scales() if per_channel else torch.tensor(weight.q_scale())
        zero_point = weight.q_per_channel_zero_points() if per_channel else torch.tensor(weight.q_zero_point())
        assert layer.weight_scale.shape == (() if not per_channel else (layer.weight_shape[0],))
        np.testing.assert_allclose(layer.weight_scale.data, scale.numpy(), rtol=1e-6)
        if qscheme.endswith("affine"):
            np.testing.assert_array_equal(layer.weight_zero_point.data, zero_point.numpy())
        else:
            assert "weight_zero_point" not in layer.state_dict()
    x = rng.standard_normal((8, 300)).astype(np.float32)
    np.testing.assert_allclose(qmine(tt.tensor(x)).data, qtheirs(torch.tensor(x)).numpy(), atol=2e-5, rtol=1e-5)


@pytest.mark.parametrize("spec", ["dtype", "qconfig"])
def test_float16_dynamic_matches_torch_and_halves_the_weights(spec, oracle, tao, rng):
    torch = oracle.torch
    mine, theirs = mlp_twins(oracle)
    qmine = (tq.quantize_dynamic(mine, {nn.Linear}, dtype=tt.float16) if spec == "dtype" else
             tq.quantize_dynamic(mine, {nn.Linear: tq.float16_dynamic_qconfig}))
    qtheirs = tao.quantize_dynamic(theirs, {torch.nn.Linear}, dtype=torch.float16)
    assert qmine[0].weight.dtype == np.float16 and set(qmine[0].state_dict()) == {"weight", "bias"}
    x = rng.standard_normal((8, 300)).astype(np.float32)
    ours, reference = qmine(tt.tensor(x)).data, qtheirs(torch.tensor(x)).detach().numpy()
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, reference, atol=1e-5, rtol=1e-5)
    assert np.abs(mine(tt.tensor(x)).data - reference).max() > 1e-6  # the float16 rounding is really there
    floats = sum(v.data.nbytes for v in mine.state_dict().values())
    halves = sum(v.data.nbytes for v in qmine.state_dict().values())
    assert 0.5 < halves / floats < 0.51  # float16 weights, float32 biases


def test_named_module_qconfig_overrides_its_type(rng):
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    quantized = tq.quantize_dynamic(model, {nn.Linear: tq.default_dynamic_qconfig, "2": tq.float16_dynamic_qconfig})
    assert quantized[0].weight.dtype == np.int8 and quantized[0].weight_scale.shape == ()
    assert quantized[2].weight.dtype == np.float16


@pytest.mark.parametrize("config", ["float16_dynamic_qconfig", "per_channel_affine"])
def test_new_weight_forms_save_and_load_bit_identically(config, tmp_path, rng):
    spec = tq.float16_dynamic_qconfig if config == "float16_dynamic_qconfig" else tq.QConfig(
        tq.default_dynamic_quant_observer,
        tq.PerChannelMinMaxObserver.with_args(dtype=tt.qint8, qscheme=tq.per_channel_affine))
    tt.manual_seed(0)
    quantized = tq.quantize_dynamic(tt.models.BaselineCNN(1, 10, 12), {nn.Linear: spec, nn.Conv2d: spec})
    tt.save(quantized.state_dict(), tmp_path / "q.npz")
    tt.manual_seed(1)
    fresh = tq.quantize_dynamic(tt.models.BaselineCNN(1, 10, 12), {nn.Linear: spec, nn.Conv2d: spec})
    fresh.load_state_dict(tt.load(tmp_path / "q.npz"))
    x = tt.tensor(rng.random((3, 1, 12, 12)).astype(np.float32))
    assert fresh(x).data.tobytes() == quantized(x).data.tobytes()


@pytest.mark.parametrize("qscheme", ["per_tensor_symmetric", "per_tensor_affine", "per_channel_affine"])
def test_loading_takes_the_qscheme_the_weights_carry(qscheme, tmp_path, rng):
    observer = (tq.PerChannelMinMaxObserver if qscheme.startswith("per_channel") else tq.MinMaxObserver).with_args(
        dtype=tt.qint8, qscheme=qscheme)
    spec = dict.fromkeys((nn.Linear, nn.Conv2d), tq.QConfig(tq.default_dynamic_quant_observer, observer))
    tt.manual_seed(0)
    quantized = tq.quantize_dynamic(tt.models.BaselineCNN(1, 10, 12), spec)
    tt.save(quantized.state_dict(), tmp_path / "q.npz")
    skeleton = tq.quantize_dynamic(tt.models.BaselineCNN(1, 10, 12), {nn.Linear, nn.Conv2d})  # per channel, symmetric
    skeleton.load_state_dict(tt.load(tmp_path / "q.npz"))
    assert skeleton.features[0].qscheme == qscheme
    x = tt.tensor(rng.random((3, 1, 12, 12)).astype(np.float32))
    assert skeleton(x).data.tobytes() == quantized(x).data.tobytes()
