"""EarlyStopping: fit and the explicit loop stop at the same epoch with the same weights."""

import numpy as np
import pytest

from course_lib import nn, optim
from course_lib.callbacks import EarlyStopping
from course_lib.data import DataLoader
from course_lib.errors import HyperparameterError
from course_lib.training import evaluate, train_epoch


def overfitting_problem():
    """20 noisy training points, a wide network: the validation loss falls, then rises."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(20, 1))
    y = np.sin(3 * X) + 0.3 * rng.normal(size=X.shape)
    X_val = rng.uniform(-1, 1, size=(200, 1))
    y_val = np.sin(3 * X_val)
    return X, y, X_val, y_val


def network():
    return nn.Sequential(nn.Linear(1, 64, seed=1, dtype=np.float64), nn.Tanh(),
                         nn.Linear(64, 64, seed=2, dtype=np.float64), nn.Tanh(),
                         nn.Linear(64, 1, seed=3, dtype=np.float64))


def test_fit_stops_after_patience_and_restores_the_best_weights():
    X, y, X_val, y_val = overfitting_problem()
    model = network()
    model.compile(optimizer=optim.Adam(model, lr=0.01), loss="mse")
    stopper = EarlyStopping(patience=10)
    history = model.fit(X, y, batch_size=20, epochs=2000, validation_data=(X_val, y_val),
                        callbacks=[stopper], verbose=0, seed=0)
    val = history.history["val_loss"]
    assert 0 < stopper.stopped_epoch < 2000                     # it did stop early
    assert len(val) == stopper.stopped_epoch                     # history holds the epochs run
    assert stopper.stopped_epoch - stopper.best_epoch == 10      # patience epochs after the best
    assert stopper.best_value == min(val) == val[stopper.best_epoch - 1]
    restored = evaluate(model, (X_val, y_val), "mse")["loss"]
    assert restored == pytest.approx(stopper.best_value, rel=1e-12)
    assert val[-1] > stopper.best_value                          # the last epoch was worse


def test_the_explicit_loop_gives_the_same_numbers_as_fit():
    X, y, X_val, y_val = overfitting_problem()
    model = network()
    model.compile(optimizer=optim.Adam(model, lr=0.01), loss="mse")
    by_fit = EarlyStopping(patience=10)
    model.fit(X, y, batch_size=20, epochs=2000, validation_data=(X_val, y_val),
              callbacks=[by_fit], verbose=0, seed=0)

    model2 = network()
    optimizer = optim.Adam(model2, lr=0.01)
    loader = DataLoader(X, y, batch_size=20, seed=0)
    by_hand = EarlyStopping(patience=10)
    by_hand.on_train_begin(model2)
    for epoch in range(1, 2001):
        logs = train_epoch(model2, loader, "mse", optimizer)
        logs["val_loss"] = evaluate(model2, (X_val, y_val), "mse")["loss"]
        if by_hand.on_epoch_end(epoch, logs, model2):
            break
    by_hand.on_train_end(model2)
    assert (by_hand.best_epoch, by_hand.stopped_epoch) == (by_fit.best_epoch, by_fit.stopped_epoch)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(model2.state_dict()[name], value)


def test_min_delta_and_max_mode():
    stopper = EarlyStopping(monitor="val_accuracy", patience=2, mode="max", min_delta=0.01,
                            restore_best_weights=False)
    stopper.on_train_begin(None)
    values = [0.5, 0.6, 0.605, 0.609]        # the last two improve by less than min_delta
    stops = [stopper.on_epoch_end(i + 1, {"val_accuracy": v}, None) for i, v in enumerate(values)]
    assert stops == [False, False, False, True]
    assert (stopper.best_epoch, stopper.best_value, stopper.stopped_epoch) == (2, 0.6, 4)


@pytest.mark.parametrize("options, words", [
    ({"patience": 0}, "patience must be an integer >= 1"),
    ({"patience": 2.5}, "patience must be an integer >= 1"),
    ({"min_delta": -1}, "min_delta must be a number >= 0"),
    ({"mode": "maximum"}, "mode must be 'min'"),
    ({"restore_best_weights": "yes"}, "restore_best_weights must be True or False"),
])
def test_bad_options_are_refused(options, words):
    with pytest.raises(HyperparameterError, match=words):
        EarlyStopping(**options)


def test_a_missing_monitor_names_the_fix():
    X, y, _, _ = overfitting_problem()
    model = network()
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(KeyError, match="validation_data"):
        model.fit(X, y, epochs=2, callbacks=[EarlyStopping()], verbose=0)
