"""Inputs that used to give a silent wrong answer, each now refused with a message that names
the fix. Every test here fails on the engine before the change that added it (the losses' cases
are in test_losses.py, the hidden-state cases in test_nn.py and test_optim.py, the damaged cache
stamp in test_data.py, load() of a foreign file in test_serialization.py)."""

import math

import numpy as np
import pytest

from course_lib import nn, optim, schedules
from course_lib.data import DataLoader
from course_lib.errors import DivergenceError, HyperparameterError


@pytest.mark.parametrize("option", ["shuffle", "replacement", "drop_last"])
@pytest.mark.parametrize("value", ["no", "False", 0, None])
def test_dataloader_flags_must_be_bools(option, value):
    """Old bug: DataLoader(shuffle="no") shuffled."""
    with pytest.raises(HyperparameterError, match=f"{option} must be True or False"):
        DataLoader(np.zeros((10, 2)), np.zeros(10), batch_size=4, **{option: value})


def small_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]])
    model = nn.Sequential(nn.Linear(3, 8, seed=0, dtype=np.float64), nn.ReLU(),
                          nn.Linear(8, 1, seed=1, dtype=np.float64))
    return X, y, model


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan])
def test_a_schedule_that_returns_a_bad_rate_is_refused(bad):
    """Old bug: fit(lr_schedule=lambda t: -1.0) trained uphill."""
    X, y, model = small_regression()
    model.compile(optimizer=optim.SGD(model, lr=0.01), loss="mse")
    with pytest.raises(HyperparameterError, match="learning rate from the schedule"):
        model.fit(X, y, epochs=3, verbose=0, lr_schedule=lambda t: 0.01 if t == 1 else bad)


def test_a_scheduler_refuses_a_bad_rate_when_it_sets_it():
    param = nn.Parameter(np.zeros(2))
    optimizer = optim.SGD([param], lr=0.1)
    scheduler = schedules.Scheduler(optimizer, lambda t: 0.1 - 0.06 * t)     # negative at t = 2
    with pytest.raises(HyperparameterError, match="at t=2.*lr must be >= 0"):
        scheduler.step()


@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop", "adam", "adamw"])
def test_compile_gives_a_name_exactly_the_documented_defaults(name):
    X, y, model = small_regression()
    model.compile(optimizer=name, loss="mse")
    expected = optim.OPTIMIZERS[name].defaults
    assert model.optimizer.hyperparameters == expected
    default_model = small_regression()[2]
    default_model.compile(loss="mse")                 # Keras's default choice: rmsprop
    assert type(default_model.optimizer) is optim.RMSprop
    assert default_model.optimizer.hyperparameters == optim.RMSprop.defaults
    assert (optim.RMSprop.defaults["lr"], optim.RMSprop.defaults["alpha"]) == (1e-2, 0.99)


def test_divergence_advice_is_finite_and_tells_the_truth_about_the_parameters():
    """Old bug: 'try a smaller one, e.g. lr=inf' and 'the parameters were not updated'."""
    X, y, model = small_regression()
    model.compile(optimizer=optim.SGD(model, lr=10.0), loss="mse")
    with pytest.raises(DivergenceError) as caught:
        model.fit(X * 100, y * 100, epochs=50, batch_size=8, verbose=0, seed=0)
    message = str(caught.value)
    assert "lr=1" in message and "inf" not in message.split("The learning rate")[1]
    finite = all(np.all(np.isfinite(p.data)) for p in model.parameters())
    if finite:
        assert "they are finite" in message and "rebuild the model" in message
    else:
        assert "already NaN or infinite" in message


def test_divergence_with_parameters_already_broken_says_so():
    X, y, model = small_regression()
    model.compile(optimizer=optim.SGD(model, lr=0.01), loss="mse")
    model[0].weight.data[0, 0] = np.nan
    with pytest.raises(DivergenceError, match="1 parameter values are already NaN"):
        model.fit(X, y, epochs=1, verbose=0)


def test_a_learning_rate_of_inf_is_refused_at_construction():
    with pytest.raises(HyperparameterError, match="finite"):
        optim.Adam([nn.Parameter(np.zeros(2))], lr=float("inf"))


def test_train_mode_must_be_a_bool():
    """model.train("no") used to switch training mode on."""
    with pytest.raises(HyperparameterError, match="mode must be True or False"):
        nn.Dropout(0.5).train("no")
