"""Tests of course_lib.nn: shapes, dtypes, gradients (against finite differences),
accumulation, state dicts, train/eval, and every error message."""

import sys
import types

import numpy as np
import pytest

import course_lib
from course_lib import nn
from course_lib.errors import HyperparameterError, ShapeError, StateDictError
from course_lib.gradcheck import check_layer_gradients, numerical_gradient, relative_error

TOLERANCE = 1e-6


def random(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def small_mlp(seed=0, dtype=np.float64):
    return nn.Sequential(nn.Linear(4, 6, seed=seed, dtype=dtype), nn.ReLU(),
                         nn.Linear(6, 3, seed=seed + 1, dtype=dtype))


# ---------------------------------------------------------------------------
# Parameter
# ---------------------------------------------------------------------------

def test_parameter_keeps_dtype_and_has_zero_grad():
    p = nn.Parameter(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert p.data.dtype == np.float32 and p.grad.dtype == np.float32
    assert p.grad.shape == (2, 3) and np.all(p.grad == 0)
    p.grad += 5
    p.zero_grad()
    assert p.grad is not None and np.all(p.grad == 0)


# ---------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------

def test_linear_computes_x_at_w_plus_b_with_documented_shapes():
    layer = nn.Linear(5, 3, seed=0, dtype=np.float64)
    assert layer.weight.shape == (5, 3) and layer.bias.shape == (3,)
    x = random((4, 5))
    np.testing.assert_allclose(layer(x), x @ layer.weight.data + layer.bias.data)


def test_linear_initialisation_is_uniform_in_plus_minus_one_over_sqrt_fan_in():
    layer = nn.Linear(400, 300, seed=1)
    bound = 1 / np.sqrt(400)
    for values in (layer.weight.data, layer.bias.data):
        assert values.min() >= -bound and values.max() <= bound
    # spread over the whole interval, not a narrower one: uniform variance is bound²/3
    assert abs(layer.weight.data.std() - bound / np.sqrt(3)) < 0.02 * bound


def test_same_seed_same_initialisation_different_seed_different():
    a, b, c = nn.Linear(8, 4, seed=7), nn.Linear(8, 4, seed=7), nn.Linear(8, 4, seed=8)
    assert np.array_equal(a.weight.data, b.weight.data) and np.array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(a.weight.data, c.weight.data)
    m1, m2 = small_mlp(seed=3), small_mlp(seed=3)
    for (n1, p1), (n2, p2) in zip(m1.named_parameters(), m2.named_parameters()):
        assert n1 == n2 and np.array_equal(p1.data, p2.data)


def test_linear_float32_stays_float32_and_other_inputs_are_cast():
    layer = nn.Linear(3, 2, seed=0)
    assert layer.weight.data.dtype == np.float32
    for x in (np.ones((2, 3), np.float64), np.ones((2, 3), np.uint8), np.ones((2, 3), np.float32)):
        y = layer(x)
        assert y.dtype == np.float32
        layer.zero_grad()
        grad_input = layer.backward(np.ones((2, 2), np.float64))
        assert grad_input.dtype == np.float32 and layer.weight.grad.dtype == np.float32


def test_linear_gradients_match_finite_differences():
    errors = check_layer_gradients(nn.Linear(5, 3, seed=0, dtype=np.float64), random((4, 5)))
    assert set(errors) == {"input", "weight", "bias"}
    assert max(errors.values()) < TOLERANCE, errors


@pytest.mark.parametrize("layer_class", [nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Softmax])
def test_activation_input_gradients_match_finite_differences(layer_class):
    x = random((3, 5), seed=1) * 2
    x[np.abs(x) < 1e-3] = 0.5          # keep ReLU's kink out of reach of the finite difference
    errors = check_layer_gradients(layer_class(), x)
    assert errors["input"] < TOLERANCE, errors


def test_flatten_gradients_and_shapes():
    layer = nn.Flatten()
    x = random((2, 3, 4))
    assert layer(x).shape == (2, 12)
    assert layer.backward(np.ones((2, 12))).shape == (2, 3, 4)
    assert check_layer_gradients(layer, x)["input"] < TOLERANCE


def test_dropout_gradient_matches_finite_differences_with_a_fixed_mask():
    layer = nn.Dropout(0.4, seed=0)
    x = random((3, 7))
    G = random((3, 7), seed=1)

    def forward_with_same_mask(x_):
        layer.rng = np.random.default_rng(5)   # the same mask on every call
        return layer.forward(x_)

    forward_with_same_mask(x)
    grad_input = layer.backward(G)
    numerical = numerical_gradient(lambda x_: np.sum(forward_with_same_mask(x_) * G), x)
    assert relative_error(grad_input, numerical) < TOLERANCE


def test_sequential_gradients_match_finite_differences_including_input():
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 5, seed=0, dtype=np.float64), nn.Tanh(),
                          nn.Linear(5, 4, seed=1, dtype=np.float64), nn.Sigmoid(),
                          nn.Linear(4, 3, seed=2, dtype=np.float64), nn.Softmax())
    errors = check_layer_gradients(model, random((2, 2, 3)))
    assert set(errors) == {"input", "1.weight", "1.bias", "3.weight", "3.bias", "5.weight", "5.bias"}
    assert max(errors.values()) < TOLERANCE, errors


def test_nested_sequential_gradients():
    inner = nn.Sequential(nn.Linear(3, 4, seed=0, dtype=np.float64), nn.Tanh())
    outer = nn.Sequential(nn.Linear(2, 3, seed=1, dtype=np.float64), nn.Tanh(), inner)
    errors = check_layer_gradients(outer, random((5, 2)))
    assert set(errors) == {"input", "0.weight", "0.bias", "2.0.weight", "2.0.bias"}
    assert max(errors.values()) < TOLERANCE, errors


def test_sequential_skips_the_input_gradient_only_when_the_call_asks():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3, seed=0), nn.ReLU(), nn.Linear(3, 2, seed=1))
    X, G = np.ones((5, 2, 2), np.float32), np.ones((5, 2), np.float32)
    model(X)
    assert model.backward(G).shape == (5, 2, 2)                      # the default: dL/dX
    model.zero_grad()
    model(X)
    assert model.backward(G, need_input_grad=False) is None          # asked to skip it
    assert np.any(model[1].weight.grad != 0)   # the first layer's own gradients are still there


def test_no_flag_is_left_on_a_layer_after_a_skipping_backward():
    """Old bug: after Sequential.backward, model[0].backward(G) returned None."""
    model = nn.Sequential(nn.Linear(4, 3, seed=0, dtype=np.float64), nn.Tanh(),
                          nn.Linear(3, 2, seed=1, dtype=np.float64))
    X = random((5, 4))
    model(X)
    model.backward(random((5, 2), seed=1), need_input_grad=False)
    first = model[0]
    first(X)
    grad_input = first.backward(random((5, 3), seed=2))
    assert grad_input is not None and grad_input.shape == (5, 4)
    assert check_layer_gradients(first, X)["input"] < TOLERANCE


@pytest.mark.parametrize("with_optimizer", [False, True])
def test_backward_adds_to_whatever_grad_holds(with_optimizer):
    """Old bug: after zero_grad, a '+1' put into .grad before backward was overwritten."""
    from course_lib import optim
    model = nn.Sequential(nn.Linear(4, 3, seed=0), nn.ReLU(), nn.Linear(3, 2, seed=1))
    if with_optimizer:
        optimizer = optim.Adam(model)        # the fast path, where numba is installed
        optimizer.zero_grad()
    X, G = np.ones((5, 4), np.float32), np.ones((5, 2), np.float32)
    model(X)
    model.backward(G)
    plain = model[0].weight.grad.copy()
    model.zero_grad()
    model[0].weight.grad += 1.0              # e.g. an L2 term added before backward
    model(X)
    model.backward(G)
    np.testing.assert_allclose(model[0].weight.grad, plain + 1.0, rtol=1e-6)


def test_an_l2_term_added_before_or_after_backward_gives_the_same_gradient():
    model = nn.Linear(4, 3, seed=0, dtype=np.float64)
    X, G = random((5, 4)), random((5, 3), seed=1)
    model.zero_grad()
    model.weight.grad += 0.1 * model.weight.data         # before
    model(X)
    model.backward(G)
    before = model.weight.grad.copy()
    model.zero_grad()
    model(X)
    model.backward(G)
    model.weight.grad += 0.1 * model.weight.data         # after
    np.testing.assert_allclose(model.weight.grad, before, rtol=1e-14)


# ---------------------------------------------------------------------------
# Backward accumulates
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_accumulates_into_grad(dtype):
    model = small_mlp(dtype=dtype)
    x, G = random((5, 4)).astype(dtype), random((5, 3), seed=1).astype(dtype)
    model.zero_grad()
    model(x)
    model.backward(G)
    once = {name: p.grad.copy() for name, p in model.named_parameters()}
    model(x)
    model.backward(G)                       # no zero_grad: adds
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, 2 * once[name], rtol=1e-5)
    model.zero_grad()
    model(x)
    model.backward(G)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, once[name], rtol=1e-6)


def test_backward_adds_to_a_gradient_zeroed_elsewhere_or_set_by_hand():
    layer = nn.Linear(3, 2, seed=0, dtype=np.float64)
    x, G = random((4, 3)), random((4, 2), seed=1)
    layer.zero_grad()
    layer(x)
    layer.backward(G)
    expected = x.T @ G
    np.testing.assert_allclose(layer.weight.grad, expected)
    # an optimizer zeroes a flat buffer without telling the parameter: still correct
    layer.weight.grad.fill(0)
    layer.weight.grad += 1.0                # e.g. a hand-added penalty gradient
    layer.backward(G)
    np.testing.assert_allclose(layer.weight.grad, expected + 1.0)
    np.testing.assert_allclose(layer.bias.grad, 2 * G.sum(axis=0))


def test_backward_writes_into_a_grad_that_is_a_view_of_a_flat_buffer():
    layer = nn.Linear(3, 2, seed=0, dtype=np.float64)
    flat = np.zeros(8)
    layer.weight.grad = flat[:6].reshape(3, 2)
    layer.bias.grad = flat[6:]
    layer.zero_grad()
    x, G = random((4, 3)), random((4, 2), seed=1)
    layer(x)
    layer.backward(G)
    np.testing.assert_allclose(flat[:6], (x.T @ G).ravel())
    np.testing.assert_allclose(flat[6:], G.sum(axis=0))


def test_mlp_in_float32_keeps_float32_everywhere():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 8, seed=0), nn.ReLU(), nn.Dropout(0.5, seed=0),
                          nn.Linear(8, 3, seed=1), nn.Softmax())
    out = model(np.ones((2, 3, 4), np.uint8))
    assert out.dtype == np.float32
    model.backward(np.ones((2, 3), np.float32))
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

def test_linear_on_unflattened_images_names_both_shapes_and_flatten():
    with pytest.raises(ShapeError) as info:
        nn.Linear(784, 512)(np.zeros((64, 28, 28), np.float32))
    message = str(info.value)
    assert "Linear(784, 512)" in message and "(batch, 784)" in message
    assert "(64, 28, 28)" in message and "nn.Flatten()" in message


def test_linear_with_wrong_width_names_both_widths():
    with pytest.raises(ShapeError, match=r"\(batch, 10\).*\(3, 7\).*in_features"):
        nn.Linear(10, 2)(np.zeros((3, 7)))


def test_linear_on_a_single_example_suggests_a_batch_axis():
    with pytest.raises(ShapeError, match=r"\(5,\).*reshape\(1, -1\)"):
        nn.Linear(5, 2)(np.zeros(5))


def test_sequential_reports_the_layer_that_failed():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(5, 2))
    with pytest.raises(ShapeError, match=r"Linear\(5, 2\) expects .*\(batch, 5\).*\(2, 3\)"):
        model(np.zeros((2, 4)))


@pytest.mark.parametrize("layer, x, bad_grad", [
    (nn.Linear(4, 3), np.zeros((2, 4)), np.zeros((2, 4))),
    (nn.ReLU(), np.zeros((2, 4)), np.zeros((4, 2))),
    (nn.Sigmoid(), np.zeros((2, 4)), np.zeros((2, 5))),
    (nn.Tanh(), np.zeros((2, 4)), np.zeros(8)),
    (nn.Softmax(), np.zeros((2, 4)), np.zeros((2, 3))),
    (nn.Flatten(), np.zeros((2, 2, 2)), np.zeros((2, 2, 2))),
    (nn.Dropout(0.5, seed=0), np.zeros((2, 4)), np.zeros((2, 3))),
])
def test_backward_with_a_wrong_gradient_shape_names_both_shapes(layer, x, bad_grad):
    output = layer(x)
    with pytest.raises(ShapeError) as info:
        layer.backward(bad_grad)
    message = str(info.value)
    assert str(output.shape) in message and str(bad_grad.shape) in message


def test_backward_before_forward_says_so():
    with pytest.raises(RuntimeError, match="before forward"):
        nn.ReLU().backward(np.zeros(3))


@pytest.mark.parametrize("args, name", [((0, 5), "in_features"), ((5, -1), "out_features"),
                                        ((2.5, 3), "in_features"), ((3, True), "out_features")])
def test_linear_rejects_bad_sizes(args, name):
    with pytest.raises(HyperparameterError, match=rf"{name} must be a positive integer"):
        nn.Linear(*args)


def test_linear_rejects_a_non_float_dtype():
    with pytest.raises(HyperparameterError, match="dtype"):
        nn.Linear(2, 2, dtype=np.int32)


@pytest.mark.parametrize("p", [1, 1.0, -0.1, 2, "0.5"])
def test_dropout_rejects_p_outside_zero_one(p):
    with pytest.raises(HyperparameterError, match=r"p .* must be in \[0, 1\)"):
        nn.Dropout(p)


def test_sequential_rejects_a_class_instead_of_a_layer():
    with pytest.raises(TypeError, match=r"layer 1 .*nn.ReLU\(\)"):
        nn.Sequential(nn.Linear(2, 2), nn.ReLU)


# ---------------------------------------------------------------------------
# Sequential as a container
# ---------------------------------------------------------------------------

def test_sequential_indexing_len_iteration_and_parameter_names():
    layers = [nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3)]
    model = nn.Sequential(*layers)
    assert len(model) == 3 and model[0] is layers[0] and model[-1] is layers[2]
    assert list(model) == layers
    assert isinstance(model[1:], nn.Sequential) and len(model[1:]) == 2
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert model.parameters()[2] is layers[2].weight
    assert "25" not in model.summary() and "total" in model.summary()
    assert "(2): Linear(6, 3)" in repr(model)
    model.add(nn.Softmax())
    assert len(model) == 4 and isinstance(model[3], nn.Softmax)


# ---------------------------------------------------------------------------
# state_dict / load_state_dict
# ---------------------------------------------------------------------------

def test_state_dict_holds_copies_under_layer_names():
    model = small_mlp()
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    state["0.weight"][...] = 123.0
    assert not np.any(model[0].weight.data == 123.0)


def test_state_dict_round_trip_reproduces_the_outputs():
    source, target = small_mlp(seed=0), small_mlp(seed=10)
    x = random((3, 4))
    assert not np.allclose(source(x), target(x))
    target.load_state_dict(source.state_dict())
    assert np.array_equal(source(x), target(x))


def test_load_state_dict_copies_in_place_into_existing_arrays():
    model = small_mlp()
    flat = np.zeros(4 * 6)
    model[0].weight.data = flat.reshape(4, 6)     # as an optimizer's flat buffer would
    before = model[0].weight.data
    state = small_mlp(seed=5).state_dict()
    model.load_state_dict(state)
    assert model[0].weight.data is before
    np.testing.assert_array_equal(flat, state["0.weight"].ravel())


def test_load_state_dict_names_missing_and_unexpected_entries_and_changes_nothing():
    model = small_mlp()
    before = model.state_dict()
    state = small_mlp(seed=9).state_dict()
    del state["2.bias"]
    state["3.weight"] = np.zeros((6, 3))
    with pytest.raises(StateDictError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "missing" in message and "'2.bias'" in message
    assert "not in this model" in message and "'3.weight'" in message
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


def test_load_state_dict_names_both_shapes_and_changes_nothing():
    model = small_mlp()
    before = model.state_dict()
    state = small_mlp(seed=9).state_dict()
    state["2.weight"] = np.zeros((7, 3))
    with pytest.raises(ShapeError, match=r"'2.weight'.*\(7, 3\).*\(6, 3\)"):
        model.load_state_dict(state)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


# ---------------------------------------------------------------------------
# train / eval and Dropout
# ---------------------------------------------------------------------------

def test_train_and_eval_switch_every_layer_recursively():
    inner = nn.Sequential(nn.Dropout(0.5), nn.ReLU())
    model = nn.Sequential(nn.Linear(2, 2), inner)
    assert model.eval() is model
    assert not model.training and not inner.training and not inner[0].training
    model.train()
    assert model.training and inner[0].training


def test_dropout_in_training_zeroes_about_p_and_scales_the_rest():
    layer = nn.Dropout(0.25, seed=0)
    x = np.ones((200, 500), np.float32)
    y = layer(x)
    assert y.dtype == np.float32
    assert set(np.unique(y).tolist()) == {0.0, np.float32(1 / 0.75)}
    assert abs(np.mean(y == 0) - 0.25) < 0.01
    assert abs(y.mean() - 1.0) < 0.01                  # inverted dropout keeps the mean
    grad = layer.backward(np.ones_like(x))
    assert np.array_equal(grad == 0, y == 0)           # backward uses the same mask


def test_dropout_is_the_identity_in_eval_mode_and_for_p_zero():
    x = random((4, 5))
    layer = nn.Dropout(0.5, seed=0)
    layer.eval()
    assert np.array_equal(layer(x), x) and np.array_equal(layer.backward(x), x)
    assert np.array_equal(nn.Dropout(0.0)(x), x)


def test_dropout_same_seed_same_masks():
    x = np.ones((10, 10))
    a, b = nn.Dropout(0.5, seed=3), nn.Dropout(0.5, seed=3)
    assert np.array_equal(a(x), b(x)) and np.array_equal(a(x), b(x))
    assert not np.array_equal(a(x), nn.Dropout(0.5, seed=4)(x))


# ---------------------------------------------------------------------------
# Keras-style methods delegate to course_lib.training
# ---------------------------------------------------------------------------

def test_keras_style_methods_delegate_to_training(monkeypatch):
    calls = []
    fake = types.ModuleType("course_lib.training")
    fake.compile = lambda model, **kw: calls.append(("compile", kw))
    fake.fit = lambda model, X, y, **kw: calls.append(("fit", kw)) or "history"
    fake.evaluate_model = lambda model, X, y, **kw: calls.append(("evaluate", kw)) or {"loss": 1.0}
    fake.predict = lambda model, X, batch_size: calls.append(("predict", batch_size)) or "out"
    monkeypatch.setitem(sys.modules, "course_lib.training", fake)
    monkeypatch.setattr(course_lib, "training", fake, raising=False)
    model = small_mlp()
    model.compile(optimizer="adam", loss="mae", metrics=["mae"])
    assert model.fit(1, 2, epochs=3, verbose=0) == "history"
    assert model.evaluate(1, 2, verbose=0) == {"loss": 1.0}
    assert model.predict(1, batch_size=7) == "out"
    assert calls == [("compile", {"optimizer": "adam", "loss": "mae", "metrics": ["mae"]}),
                     ("fit", {"epochs": 3, "verbose": 0}), ("evaluate", {"verbose": 0}),
                     ("predict", 7)]


@pytest.mark.parametrize("layer_class", [nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Softmax, nn.Flatten])
def test_activations_keep_float32(layer_class):
    layer = layer_class()
    x = np.linspace(-100, 100, 12, dtype=np.float32).reshape(3, 4)
    y = layer(x)
    assert y.dtype == np.float32 and np.all(np.isfinite(y))
    assert layer.backward(np.ones_like(y)).dtype == np.float32


def test_sigmoid_and_softmax_do_not_overflow_for_extreme_inputs():
    x = np.array([[-1000.0, 0.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        np.testing.assert_allclose(nn.Sigmoid()(x), [[0.0, 0.5, 1.0]])
        np.testing.assert_allclose(nn.Softmax()(x), [[0.0, 0.0, 1.0]])


def test_nested_sequential_first_gives_the_input_gradient_when_asked():
    inner = nn.Sequential(nn.Linear(2, 3, seed=0, dtype=np.float64), nn.Tanh())
    outer = nn.Sequential(inner, nn.Linear(3, 2, seed=1, dtype=np.float64))
    errors = check_layer_gradients(outer, random((4, 2)))
    assert "input" in errors and max(errors.values()) < TOLERANCE, errors
