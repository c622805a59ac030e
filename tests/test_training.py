"""Tests of course_lib.training (train_epoch / evaluate, compile / fit / History) and progress."""

import io
import math

import numpy as np
import pytest

from course_lib import losses, nn, optim, progress, training, metrics
from course_lib.data import DataLoader
from course_lib.errors import DivergenceError, HyperparameterError, ShapeError, UnknownNameError


def classification_data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1).astype(np.int64)
    return X, y                                        # 3 classes: 0, 1, 2


def classifier(seed=0, dtype=np.float64):
    return nn.Sequential(nn.Linear(4, 8, seed=seed, dtype=dtype), nn.ReLU(),
                         nn.Linear(8, 3, seed=seed + 1, dtype=dtype))


def regression_data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.1
    return X, y


def regressor(seed=0):
    return nn.Sequential(nn.Linear(3, 1, seed=seed, dtype=np.float64))


# ===========================================================================
# train_epoch / evaluate
# ===========================================================================

def test_train_epoch_is_the_five_line_loop():
    X, y = classification_data()
    model_a, model_b = classifier(), classifier()
    optimizer_a, optimizer_b = optim.Adam(model_a, lr=0.01), optim.Adam(model_b, lr=0.01)
    loader_a, loader_b = DataLoader(X, y, 16, seed=3), DataLoader(X, y, 16, seed=3)

    logs = training.train_epoch(model_a, loader_a, "cross_entropy", optimizer_a)

    batch_losses, batch_sizes = [], []
    for X_batch, y_batch in loader_b:                 # the loop, written out
        optimizer_b.zero_grad()
        y_pred = model_b(X_batch)
        value, grad = losses.cross_entropy.value_and_gradient(y_batch, y_pred)
        model_b.backward(grad)
        optimizer_b.step()
        batch_losses.append(value)
        batch_sizes.append(len(X_batch))

    for a, b in zip(model_a.parameters(), model_b.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    # batches of 16, 16, 16, 12: the average weights each batch by its size
    assert batch_sizes == [16, 16, 16, 12]
    expected = sum(v * n for v, n in zip(batch_losses, batch_sizes)) / 60
    assert logs == {"loss": pytest.approx(expected, rel=1e-12)}


def test_train_epoch_with_metrics_and_train_mode():
    X, y = classification_data()
    model = classifier()
    model.eval()
    def mean_top_score(y_true, y_pred):                # a metric of your own: a function
        return float(np.mean(y_pred.max(axis=1)))
    logs = training.train_epoch(model, DataLoader(X, y, 20, seed=0), "cross_entropy",
                                optim.SGD(model, lr=0.1), metrics=["accuracy", mean_top_score])
    assert set(logs) == {"loss", "accuracy", "mean_top_score"}
    assert 0 <= logs["accuracy"] <= 1
    assert model.training                              # train_epoch switched it on


def test_train_epoch_needs_a_loader():
    X, y = classification_data()
    model = classifier()
    with pytest.raises(TypeError, match="needs a DataLoader"):
        training.train_epoch(model, (X, y), "cross_entropy", optim.SGD(model))


def test_evaluate_is_the_mean_over_all_examples_and_switches_to_eval_mode():
    X, y = classification_data()
    model = nn.Sequential(nn.Linear(4, 8, seed=0, dtype=np.float64), nn.Dropout(0.5, seed=1),
                          nn.Linear(8, 3, seed=2, dtype=np.float64))
    logs = training.evaluate(model, (X, y), "cross_entropy", metrics=["accuracy"], batch_size=7)
    assert not model.training
    y_pred = model(X)                                  # eval mode: no dropout, deterministic
    assert logs["loss"] == pytest.approx(losses.cross_entropy(y, y_pred), rel=1e-12)
    assert logs["accuracy"] == pytest.approx(np.mean(y_pred.argmax(axis=1) == y))
    again = training.evaluate(model, DataLoader(X, y, 13, shuffle=False), "cross_entropy",
                              metrics=["accuracy"])
    assert again == pytest.approx(logs)


# ===========================================================================
# Metrics
# ===========================================================================

def test_accuracy_integer_labels_and_scores():
    scores = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0], [0.0, 0.0, 5.0], [1.0, 2.0, 0.0]])
    assert metrics.accuracy(np.array([1, 0, 2, 0]), scores) == 0.75
    assert metrics.accuracy(np.array([[1], [0], [2], [0]]), scores) == 0.75
    one_hot = np.eye(3)[[1, 0, 2, 0]]
    assert metrics.accuracy(one_hot, scores) == 0.75


def test_accuracy_binary_outputs():
    probabilities = np.array([[0.9], [0.2], [0.6], [0.4]])
    assert metrics.accuracy(np.array([1, 0, 0, 0]), probabilities) == 0.75
    logits = np.array([2.0, -1.0, 0.5, -0.1])
    assert metrics.accuracy(np.array([1, 0, 1, 1]), logits, threshold=0.0) == 0.75
    # hinge-style labels -1 / +1
    assert metrics.accuracy(np.array([1, -1, 1, 1]), logits, threshold=0.0) == 0.75


def test_accuracy_threshold_follows_the_loss():
    _, on_logits = metrics.get_metric("accuracy", losses.get("binary_crossentropy",
                                                              from_logits=True))
    _, on_probabilities = metrics.get_metric("accuracy", losses.binary_crossentropy)
    _, on_hinge = metrics.get_metric("acc", losses.hinge)
    y_true, y_pred = np.array([1, 0]), np.array([0.3, -0.2])
    assert on_logits(y_true, y_pred) == 1.0           # 0.3 > 0 -> 1, -0.2 -> 0
    assert on_probabilities(y_true, y_pred) == 0.5    # 0.3 < 0.5 -> 0
    assert on_hinge(np.array([1, -1]), y_pred) == 1.0


def test_accuracy_shape_mismatch():
    with pytest.raises(ShapeError, match=r"y_pred has shape \(4, 3\).*y_true has shape \(5,\)"):
        metrics.accuracy(np.zeros(5), np.zeros((4, 3)))


def test_regression_metrics_do_not_broadcast():
    y_true, y_pred = np.array([1.0, 2.0, 3.0]), np.array([[1.5], [2.0], [1.0]])
    assert metrics.mean_absolute_error(y_true, y_pred) == pytest.approx((0.5 + 0 + 2) / 3)
    assert metrics.mean_squared_error(y_true, y_pred) == pytest.approx((0.25 + 0 + 4) / 3)


def test_unknown_metric_lists_the_valid_names():
    with pytest.raises(UnknownNameError) as caught:
        metrics.get_metric("precision")
    assert "unknown metric 'precision'" in str(caught.value)
    assert "'accuracy'" in str(caught.value) and "'mae'" in str(caught.value)


# ===========================================================================
# compile / fit / evaluate_model / predict
# ===========================================================================

def test_fit_before_compile_says_to_compile():
    X, y = regression_data()
    with pytest.raises(RuntimeError, match=r"not been compiled yet: call model.compile\("):
        regressor().fit(X, y, verbose=0)
    with pytest.raises(RuntimeError, match="before model.evaluate"):
        regressor().evaluate(X, y, verbose=0)


def test_compile_needs_a_loss_and_checks_the_optimizer():
    model = regressor()
    with pytest.raises(ValueError, match="compile needs a loss"):
        model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="built on other parameters"):
        model.compile(optimizer=optim.Adam(regressor(seed=5)), loss="mse")
    with pytest.raises(UnknownNameError, match="unknown optimizer 'adamm'"):
        model.compile(optimizer="adamm", loss="mse")
    model.compile(loss="mae")
    assert isinstance(model.optimizer, optim.RMSprop)          # Keras's default


def test_fit_returns_history_and_is_the_same_loop():
    X, y = regression_data()
    X_val, y_val = regression_data(20, seed=1)
    model = regressor()
    model.compile(optimizer=optim.Adam(model, lr=0.05), loss="mse", metrics=["mae"])
    history = model.fit(X, y, batch_size=8, epochs=3, validation_data=(X_val, y_val), seed=4,
                        verbose=0)
    assert list(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert all(len(values) == 3 for values in history.history.values())
    assert history.epoch == [0, 1, 2]
    assert history.params["epochs"] == 3 and history.params["steps"] == math.ceil(50 / 8)
    assert model.history is history
    assert history.history["loss"][-1] < history.history["loss"][0]

    # the same numbers from the explicit pair
    twin = regressor()
    optimizer = optim.Adam(twin, lr=0.05)
    loader = DataLoader(X, y, 8, seed=4)
    for epoch in range(3):
        logs = training.train_epoch(twin, loader, "mse", optimizer, metrics=["mae"])
        val_logs = training.evaluate(twin, (X_val, y_val), "mse", metrics=["mae"], batch_size=8)
        assert history.history["loss"][epoch] == logs["loss"]
        assert history.history["mae"][epoch] == logs["mae"]
        assert history.history["val_loss"][epoch] == val_logs["loss"]
    for a, b in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_fit_lr_schedule_sets_the_rate_before_each_epoch_and_records_it():
    from course_lib import schedules

    X, y = regression_data()
    schedule = schedules.get("step_decay", lr=0.05, step_size=2, gamma=0.1)
    model = regressor()
    model.compile(optimizer=optim.Adam(model, lr=0.05), loss="mse")
    history = model.fit(X, y, batch_size=8, epochs=5, seed=4, verbose=0, lr_schedule=schedule)
    assert history.history["lr"] == pytest.approx([0.05, 0.05, 0.005, 0.005, 0.0005])

    # the same numbers as the explicit loop that changes optimizer.lr by hand
    twin = regressor()
    optimizer = optim.Adam(twin, lr=0.05)
    loader = DataLoader(X, y, 8, seed=4)
    for epoch in range(1, 6):
        optimizer.lr = schedule(epoch)
        logs = training.train_epoch(twin, loader, "mse", optimizer)
        assert history.history["loss"][epoch - 1] == logs["loss"]
    for a, b in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_fit_lr_schedule_by_name_starts_from_the_optimizers_lr():
    X, y = regression_data()
    model = regressor()
    model.compile(optimizer=optim.SGD(model, lr=0.04), loss="mse")
    history = model.fit(X, y, epochs=4, verbose=0, lr_schedule="inverse_sqrt")
    assert history.history["lr"] == pytest.approx([0.04 / math.sqrt(t) for t in (1, 2, 3, 4)])


def test_fit_lr_schedule_errors_say_how_to_give_options():
    X, y = regression_data()
    model = regressor()
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(HyperparameterError, match=r"total_steps.*schedules\.get\('cosine'"):
        model.fit(X, y, epochs=1, verbose=0, lr_schedule="cosine")
    with pytest.raises(UnknownNameError, match="valid names"):
        model.fit(X, y, epochs=1, verbose=0, lr_schedule="warmup")
    with pytest.raises(TypeError, match="function of the epoch"):
        model.fit(X, y, epochs=1, verbose=0, lr_schedule=0.1)


def test_fit_calls_train_epoch(monkeypatch):
    calls = []
    real = training.train_epoch

    def spy(*args, **kwargs):
        calls.append(kwargs.get("epoch"))
        return real(*args, **kwargs)
    monkeypatch.setattr(training, "train_epoch", spy)
    X, y = regression_data()
    model = regressor()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X, y, epochs=2, verbose=0)
    assert calls == [1, 2]


def test_same_seed_same_numbers_different_seed_different_numbers():
    X, y = classification_data()

    def run(seed):
        model = classifier(seed=0)
        model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
        history = model.fit(X, y, batch_size=8, epochs=2, seed=seed, verbose=0)
        return history.history, [p.data.copy() for p in model.parameters()]

    history_1, params_1 = run(seed=11)
    history_2, params_2 = run(seed=11)
    assert history_1 == history_2
    for a, b in zip(params_1, params_2):
        np.testing.assert_array_equal(a, b)
    history_3, _ = run(seed=12)
    assert history_3 != history_1


def test_fit_learns_fashion_like_classification_with_accuracy():
    X, y = classification_data(n=300)
    model = classifier()
    model.compile(optimizer=optim.Adam(model, lr=0.02), loss="cross_entropy",
                  metrics=["accuracy"])
    history = model.fit(X, y, batch_size=32, epochs=15, seed=0, verbose=0)
    assert history.history["accuracy"][-1] > 0.85
    assert model.evaluate(X, y, verbose=0)["accuracy"] > 0.85


def test_evaluate_model_and_predict():
    X, y = classification_data()
    model = classifier()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["acc"])
    model.layers.append(nn.Softmax())                 # probabilities out, for this loss
    result = model.evaluate(X, y, batch_size=7, verbose=0)
    assert set(result) == {"loss", "acc"}
    probabilities = model.predict(X, batch_size=7)
    assert probabilities.shape == (60, 3)
    np.testing.assert_allclose(probabilities, model(X), rtol=1e-12)
    assert result["loss"] == pytest.approx(
        losses.sparse_categorical_crossentropy(y, probabilities), rel=1e-10)


def test_evaluate_model_prints_with_verbose(capsys):
    X, y = regression_data()
    model = regressor()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.evaluate(X, y, verbose=0)
    assert capsys.readouterr().out == ""
    model.evaluate(X, y)
    assert capsys.readouterr().out.startswith("loss: ")


def test_shape_errors_reach_the_user_unwrapped():
    X, y = regression_data()
    model = nn.Sequential(nn.Linear(5, 1, seed=0, dtype=np.float64))   # expects 5 features
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ShapeError) as caught:
        model.fit(X, y, verbose=0)
    assert type(caught.value) is ShapeError
    assert "expects inputs of shape (batch, 5) but got (32, 3)" in str(caught.value)


# ===========================================================================
# Divergence
# ===========================================================================

class NaNOnCall(losses.MeanSquaredError):
    """MSE, except that call number ``bad_call`` returns NaN (a controlled divergence)."""

    def __init__(self, bad_call):
        self.bad_call, self.calls = bad_call, 0

    def value_and_gradient(self, y_true, y_pred):
        self.calls += 1
        value, grad = super().value_and_gradient(y_true, y_pred)
        return (float("nan") if self.calls == self.bad_call else value), grad


def test_divergence_stops_with_epoch_step_value_and_lr_and_keeps_history():
    X, y = regression_data(n=40)                      # batch 10: 4 steps per epoch
    model = regressor()
    model.compile(optimizer=optim.SGD(model, lr=0.05), loss=NaNOnCall(bad_call=11), metrics=["mae"])
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(DivergenceError) as caught:
        model.fit(X, y, batch_size=10, epochs=5, seed=0, verbose=0)
    message = str(caught.value)
    assert "the loss became nan at epoch 3, step 3 of 4" in message
    assert "lr=0.05" in message and "smaller" in message and "lr=0.005" in message
    assert "error.history" in message and "model.history" in message
    assert (caught.value.epoch, caught.value.step, caught.value.lr) == (3, 3, 0.05)
    assert math.isnan(caught.value.loss_value)
    history = caught.value.history
    assert history is model.history
    assert history.epoch == [0, 1] and len(history.history["loss"]) == 2
    assert isinstance(caught.value, FloatingPointError)
    assert not any(np.array_equal(b, p.data) for b, p in zip(before, model.parameters()))


def test_real_divergence_with_a_huge_learning_rate():
    X, y = regression_data()
    model = regressor()
    model.compile(optimizer=optim.SGD(model, lr=1e3), loss="mse")
    with np.errstate(all="ignore"), pytest.raises(DivergenceError) as caught:
        model.fit(X * 100, y, batch_size=10, epochs=50, seed=0, verbose=0)
    assert "lr=1000" in str(caught.value)
    assert all(np.isfinite(p.data).all() for p in model.parameters())   # not updated with it


def test_divergence_in_train_epoch_alone():
    X, y = regression_data(n=40)
    model = regressor()
    with pytest.raises(DivergenceError, match=r"the loss became nan at step 2 of 4"):
        training.train_epoch(model, DataLoader(X, y, 10, seed=0), NaNOnCall(bad_call=2),
                             optim.Adam(model))


# ===========================================================================
# Progress display
# ===========================================================================

def test_verbose_0_prints_nothing_and_verbose_2_prints_keras_lines(capsys):
    X, y = regression_data()
    X_val, y_val = regression_data(10, seed=2)
    model = regressor()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(X, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(X, y, epochs=2, validation_data=(X_val, y_val), verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Epoch 1/2 - ") and lines[1].startswith("Epoch 2/2 - ")
    for piece in ("s - loss: ", " - mae: ", " - val_loss: ", " - val_mae: "):
        assert piece in lines[1]


def test_verbose_1_outside_a_terminal_prints_one_line_per_epoch(capsys):
    X, y = regression_data()
    model = regressor()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X, y, epochs=3)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]


def test_invalid_verbose():
    X, y = regression_data()
    model = regressor()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(HyperparameterError, match="verbose must be 0"):
        model.fit(X, y, verbose=5)


def test_epoch_line_format():
    line = progress.epoch_line(3, 10, 1.234, {"loss": 0.41234, "accuracy": 0.851})
    assert line == "Epoch 3/10 - 1.2s - loss: 0.4123 - accuracy: 0.8510"


def test_live_terminal_line_is_throttled():
    stream = io.StringIO()
    display = progress.TerminalDisplay(epochs=1, steps=10_000, live=True, stream=stream)
    display.start_epoch(1)
    for step in range(1, 10_001):                     # far faster than 10 redraws a second
        display.batch_done(step, 0.5)
    display.end_epoch(1, {"loss": 0.5}, 0.1)
    text = stream.getvalue()
    assert text.count("\r") <= 5                      # a few redraws, not 10,000
    assert "10000/10000" in text                      # the last batch is always drawn
    assert text.endswith("Epoch 1/1 - 0.1s - loss: 0.5000\n")


def test_notebook_display_updates_the_widgets(capsys):
    display = progress.NotebookDisplay(epochs=2, steps=100)
    display.start_epoch(1)
    for step in range(1, 101):
        display.batch_done(step, 0.25)
    assert display.bar.value == 100 and "batch 100/100" in display.label.value
    display.end_epoch(1, {"loss": 0.25}, 0.5)
    assert "Epoch 1/2 - 0.5s - loss: 0.2500" in capsys.readouterr().out
    display.start_epoch(2)
    display.batch_done(10, 0.2)
    display.close()                                   # stopped early: the bar turns red
    assert display.bar.bar_style == "danger"


def test_numbers_in_the_progress_line():
    assert progress.format_logs({"loss": 9.6155e98, "mae": 0.0, "mse": 1.5e-5, "acc": 0.5}) == (
        "loss: 9.6155e+98 - mae: 0.0000 - mse: 1.5000e-05 - acc: 0.5000")
