"""Lesson 7 (the Fashion-MNIST classifier): exercises, demos, widgets, and the accuracy targets."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from exercise_helpers import assert_question_behaves

from course_lib import data, losses, nn, optim, serialization
from course_lib.demos import fashion
from course_lib.exercises import lesson7 as ex

# ---------------------------------------------------------------------------
# Exercises
# ---------------------------------------------------------------------------


def test_q1_count_parameters():
    results = assert_question_behaves(ex.q1, wrong_answers={
        "only the weights": lambda layer_sizes: sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])),
        "*input* a bias": lambda layer_sizes: sum(a * b + a for a, b in zip(layer_sizes[:-1], layer_sizes[1:])),
        "one bias per layer": lambda layer_sizes: sum(a * b + 1 for a, b in zip(layer_sizes[:-1], layer_sizes[1:])),
    })
    assert "7,850" in results["only the weights"].diagnosis
    assert ex.count_parameters_reference([784, 10]) == 7850
    assert ex.count_parameters_reference([784, 256, 10]) == 203530


def test_q1_reference_agrees_with_the_engine():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256, seed=0), nn.ReLU(), nn.Linear(256, 10, seed=1))
    assert sum(p.data.size for p in model.parameters()) == ex.count_parameters_reference([784, 256, 10])


def test_q2_accuracy():
    assert_question_behaves(ex.q2, wrong_answers={
        "axis 0": lambda logits, labels: np.mean(np.argmax(logits, axis=0) == labels),
        "*fraction*": lambda logits, labels: np.sum(np.argmax(logits, axis=1) == labels),
        "error rate": lambda logits, labels: np.mean(np.argmax(logits, axis=1) != labels),
        "percentage": lambda logits, labels: 100 * np.mean(np.argmax(logits, axis=1) == labels),
    })
    percent = ex.q2.evaluate(lambda logits, labels: 100 * np.mean(np.argmax(logits, axis=1) == labels))
    assert "sum" not in percent.message


def test_q3_confusion_matrix():
    def transposed(y_true, y_pred, n_classes):
        cm = np.zeros((n_classes, n_classes), dtype=int)
        for t, p in zip(y_true, y_pred):
            cm[p, t] += 1
        return cm

    def buffered(y_true, y_pred, n_classes):
        cm = np.zeros((n_classes, n_classes), dtype=int)
        cm[y_true, y_pred] += 1
        return cm

    def sized_by_labels(y_true, y_pred, n_classes):
        n = max(y_true.max(), y_pred.max()) + 1
        cm = np.zeros((n, n), dtype=int)
        np.add.at(cm, (y_true, y_pred), 1)
        return cm

    assert_question_behaves(ex.q3, wrong_answers={
        "swapped": transposed,
        "np.add.at": buffered,
        "n_classes × n_classes": sized_by_labels,
    })


def test_solution_texts_are_correct():
    for question, name in [(ex.q1, "count_parameters"), (ex.q2, "accuracy"), (ex.q3, "confusion_matrix")]:
        namespace = {"np": np}
        exec(question.solution_code, namespace)
        assert question.evaluate(namespace[name]).correct, name


# ---------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------

def test_confusion_matrix_and_normalisation():
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 2])
    cm = fashion.confusion_matrix(y_true, y_pred, n_classes=4)
    assert cm.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]]
    by_true = fashion.normalize_confusion(cm, "true")
    assert np.allclose(by_true.sum(axis=1), [1, 1, 1, 0])          # empty class: zeros, not NaN
    by_pred = fashion.normalize_confusion(cm, "pred")
    assert np.allclose(by_pred.sum(axis=0), [1, 1, 1, 0])
    assert np.array_equal(fashion.normalize_confusion(cm, "counts"), cm)


def test_most_confident_mistakes_are_wrong_and_sorted():
    rng = np.random.default_rng(0)
    probs = losses.softmax(rng.normal(size=(200, 10)) * 3)
    y = rng.integers(0, 10, size=200)
    idx = fashion.most_confident_mistakes(probs, y, k=9)
    pred = probs.argmax(axis=1)
    assert len(idx) == 9 and np.all(pred[idx] != y[idx])
    confidence = probs[idx, pred[idx]]
    assert np.all(np.diff(confidence) <= 0)
    wrong = pred != y
    assert confidence[0] == probs[wrong].max(axis=1).max()


def test_select_images():
    y = np.array([0, 1, 1, 2, 1])
    pred = np.array([0, 1, 0, 2, 2])
    assert fashion.select_images(y).indices.tolist() == [0, 1, 2, 3, 4]
    name = data.FASHION_MNIST_CLASSES[1]
    assert fashion.select_images(y, pred, name).indices.tolist() == [1, 2, 4]
    assert fashion.select_images(y, pred, name, only_mistakes=True).indices.tolist() == [2, 4]
    assert fashion.select_images(y, pred, "all", only_mistakes=True).indices.tolist() == [2, 4]


# ---------------------------------------------------------------------------
# Widgets, headless (small synthetic images: no data needed)
# ---------------------------------------------------------------------------

@pytest.fixture
def fake_predictions():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=50)
    probs = losses.softmax(rng.normal(size=(50, 10)))
    probs[:25] = np.eye(10)[labels[:25]] * 0.9 + 0.01            # the first half right
    return images, labels, probs


def test_image_browser_filters(fake_predictions):
    images, labels, probs = fake_predictions
    w = fashion.image_browser(images, labels, probs)
    controls = {c.description: c for c in w.kwargs_widgets}
    assert w.result["index"] == 0
    controls["misclassified only"].value = True
    first_wrong = w.result["index"]
    assert w.result["predicted"] != labels[first_wrong]
    controls["position"].value = 3
    assert w.result["index"] == w.result["selection"].indices[3]
    cls = int(labels[30])
    controls["class"].value = data.FASHION_MNIST_CLASSES[cls]
    i = w.result["index"]
    assert i is None or (labels[i] == cls and w.result["predicted"] != cls)
    count = len(w.result["selection"].indices)
    assert controls["position"].max == max(count - 1, 0)           # the slider spans the selection
    controls["position"].value = controls["position"].max
    if w.result["index"] is not None:
        assert w.result["index"] == w.result["selection"].indices[-1]
    controls["class"].value = "all"
    controls["misclassified only"].value = False
    assert controls["position"].max == len(labels) - 1


def test_image_browser_empty_selection_does_not_crash(fake_predictions):
    images, labels, probs = fake_predictions
    labels = labels.copy()
    labels[labels == 3] = 4
    probs = np.eye(10)[labels]                                       # all right
    w = fashion.image_browser(images, labels, probs)
    controls = {c.description: c for c in w.kwargs_widgets}
    controls["misclassified only"].value = True
    assert w.result["index"] is None and len(w.result["selection"].indices) == 0


def test_confusion_explorer_toggle(fake_predictions):
    _, labels, probs = fake_predictions
    w = fashion.confusion_explorer(labels, probs.argmax(axis=1))
    assert w.result.sum() == len(labels)
    mode = w.kwargs_widgets[0]
    mode.value = "true"
    rows = w.result.sum(axis=1)
    assert np.allclose(rows[rows > 0], 1)
    mode.value = "pred"
    columns = w.result.sum(axis=0)
    assert np.allclose(columns[columns > 0], 1)


def test_image_browser_redraws_its_live_plot(fake_predictions):
    import matplotlib.pyplot as plt

    images, labels, probs = fake_predictions
    figures_before = plt.get_fignums()
    w = fashion.image_browser(images, labels, probs)
    controls = {c.description: c for c in w.kwargs_widgets}
    picture, bars = w.plot.figure.axes[0].images[0], w.plot.figure.axes[1].patches
    before = w.plot.image.value
    controls["position"].value = 30                                 # in the second half: wrong
    assert w.plot.image.value != before
    i = w.result["index"]
    assert i == 30 and np.array_equal(picture.get_array(), images[30])
    assert [bar.get_width() for bar in bars] == pytest.approx(list(probs[30]))
    wrong = w.result["predicted"]
    assert wrong != labels[30] and bars[wrong].get_facecolor()[:3] == pytest.approx((0.839, 0.153, 0.157), abs=0.01)
    title = w.plot.figure.axes[1].title
    assert title.get_text().startswith("wrong: predicted") and title.get_color() == "red"
    assert w.plot.figure.axes[0].title.get_text() == f"test image #30\ntrue: {data.FASHION_MNIST_CLASSES[labels[30]]}"
    before = w.plot.image.value
    controls["misclassified only"].value = True                     # a new selection, said above the plot
    assert w.plot.image.value != before
    assert w.plot.figure.get_suptitle() == "browsing " + w.result["selection"].description
    assert plt.get_fignums() == figures_before


def test_confusion_explorer_redraws_the_whole_picture_once_per_mode(fake_predictions):
    _, labels, probs = fake_predictions
    w = fashion.confusion_explorer(labels, probs.argmax(axis=1))
    mode = w.kwargs_widgets[0]
    counts_picture = w.plot.image.value
    mode.value = "true"
    assert w.plot.image.value != counts_picture
    ax = w.plot.figure.axes[0]
    assert ax.get_title() == "normalised by true class (diagonal = recall)"
    assert np.allclose(ax.images[0].get_array(), w.result)
    mode.value = "counts"
    assert w.plot.image.value == counts_picture                      # the same picture, kept


# ---------------------------------------------------------------------------
# The lesson's models on the real data: the accuracy targets, and save / load
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fashion_data():
    (X_all, y_all), (X_test, y_test) = data.load_fashion_mnist()
    assert X_all.shape == (60000, 28, 28) and X_test.shape == (10000, 28, 28)
    X_train, X_val, y_train, y_val = data.train_val_split(X_all, y_all, val_fraction=1 / 6, seed=0)
    return (X_train, y_train), (X_val, y_val), (X_test, y_test)


def _make_mlp():
    return nn.Sequential(nn.Flatten(), fashion.Rescale(1 / 255), nn.Linear(784, 256, seed=1), nn.ReLU(),
                         nn.Linear(256, 10, seed=2))


@pytest.mark.slow
def test_lesson_accuracy_targets(fashion_data, tmp_path):
    """The settings of lesson 7 reach its targets: ≥ 0.83 (softmax regression, validation), ≥ 0.88 (MLP, Adam,
    validation and test), with the split 50,000 / 10,000 and uint8 images rescaled in the model."""
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = fashion_data
    assert X_train.shape == (50000, 28, 28) and X_train.dtype == np.uint8 and X_val.shape == (10000, 28, 28)

    softmax_regression = nn.Sequential(nn.Flatten(), fashion.Rescale(1 / 255), nn.Linear(784, 10, seed=0))
    softmax_regression.compile(optimizer=optim.Adam(softmax_regression, lr=5e-3), loss="cross_entropy",
                               metrics=["accuracy"])
    softmax_regression.fit(X_train, y_train, batch_size=256, epochs=5, seed=0, verbose=0)
    assert softmax_regression.evaluate(X_val, y_val, verbose=0)["accuracy"] >= 0.83

    mlp = _make_mlp()
    mlp.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    first = mlp.fit(X_train, y_train, batch_size=128, epochs=8, validation_data=(X_val, y_val), seed=0, verbose=0)
    mlp.optimizer.lr = 1e-4
    second = mlp.fit(X_train, y_train, batch_size=128, epochs=2, validation_data=(X_val, y_val), seed=1, verbose=0)
    assert second.history["val_loss"][-1] < min(first.history["val_loss"])     # the drop is kept on validation
    assert second.history["val_accuracy"][-1] >= 0.88
    assert mlp.evaluate(X_test, y_test, verbose=0)["accuracy"] >= 0.88

    # save and load: identical predictions
    path = tmp_path / "fashion_mlp.npz"
    serialization.save(path, mlp.state_dict())
    restored = _make_mlp()
    restored.load_state_dict(serialization.load(path))
    assert np.array_equal(restored.predict(X_val, batch_size=1000), mlp.predict(X_val, batch_size=1000))


def test_rescale_layer_keeps_images_uint8_until_the_batch():
    layer = fashion.Rescale(1 / 255)
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    out = layer(images)
    assert out.dtype == np.float32 and np.allclose(out, images / 255.0)
    assert np.allclose(layer.backward(np.ones((1, 2, 2), np.float32)), 1 / 255)
    assert repr(layer) == "Rescale(1/255)" and layer.parameters() == []
    # the memory figures of the lesson: 50,000 images of 784 pixels
    n_pixels = 50_000 * 28 * 28
    assert (round(n_pixels / 1e6), round(4 * n_pixels / 1e6), round(8 * n_pixels / 1e6)) == (39, 157, 314)
    assert (np.zeros((2, 2), np.uint8) / 255.0).dtype == np.float64      # "X_train / 255.0 gives float64"


def test_warmup_and_per_step_schedules():
    from course_lib import schedules

    cosine = schedules.get("cosine", lr=0.1, total_steps=395)
    rate = fashion.with_warmup(cosine, 79, 0.1)
    assert np.isclose(rate(1), 0.1 / 79) and np.isclose(rate(79), 0.1)
    assert np.isclose(rate(80), 0.1) and rate(80 + 395) == 0.0
    assert fashion.steps_per_epoch(10_000, 128) == 79 and fashion.steps_per_epoch(50_000, 256) == 196
    assert fashion.with_warmup(cosine, 0, 0.1) is cosine

    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(300, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=300)
    record = fashion.train_per_step_schedule(_make_mlp, X, y, (X[:100], y[:100]), rate, epochs=2, batch_size=128)
    assert len(record["lr"]) == 2 * 3 and np.allclose(record["lr"], [rate(t) for t in range(1, 7)])
    assert len(record["val_loss"]) == 2 and all(0 <= a <= 1 for a in record["val_accuracy"])


def test_lr_sweep_gives_one_validation_accuracy_per_rate():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 256, size=(200, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=200)
    sweep = fashion.lr_sweep(_make_mlp, "sgd", [0.01, 0.1], X, y, (X[:50], y[:50]), epochs=1, momentum=0.9)
    assert list(sweep) == [0.01, 0.1] and all(0 <= v <= 1 for v in sweep.values())


def test_save_and_load_give_identical_predictions(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(64, 28, 28), dtype=np.uint8)
    model = _make_mlp()
    model.compile(optimizer="adam", loss="cross_entropy")
    model.fit(X, rng.integers(0, 10, size=64), batch_size=16, epochs=1, seed=0, verbose=0)
    serialization.save(tmp_path / "m.npz", model.state_dict())
    restored = _make_mlp()
    assert not np.array_equal(restored.predict(X), model.predict(X))
    restored.load_state_dict(serialization.load(tmp_path / "m.npz"))
    assert np.array_equal(restored.predict(X), model.predict(X))


@pytest.mark.slow
def test_fair_race_and_schedules_as_the_lesson_says(fashion_data):
    """The numbers behind section 3's fair race and schedule comparison (10,000-image subset, seed 0)."""
    from course_lib import schedules

    (X_train, y_train), (X_val, y_val), _ = fashion_data
    subset = slice(0, 10_000)
    sgd = fashion.lr_sweep(_make_mlp, "sgd", [0.01, 0.03, 0.1, 0.3], X_train[subset], y_train[subset],
                           (X_val, y_val), epochs=2, momentum=0.9)
    adam = fashion.lr_sweep(_make_mlp, "adam", [3e-4, 1e-3, 3e-3, 1e-2], X_train[subset], y_train[subset],
                            (X_val, y_val), epochs=2)
    assert max(sgd, key=sgd.get) == 0.03 and max(adam, key=adam.get) == 0.01   # "tens of times larger"

    steps = fashion.steps_per_epoch(10_000, 128)
    runs = {
        "constant": schedules.get("constant", lr=0.1),
        "step": schedules.get("step_decay", lr=0.1, step_size=4 * steps, gamma=0.1),
        "cosine": fashion.with_warmup(schedules.get("cosine", lr=0.1, total_steps=5 * steps), steps, 0.1),
    }
    results = {name: fashion.train_per_step_schedule(_make_mlp, X_train[subset], y_train[subset],
                                                     (X_val, y_val), rate, epochs=6, seed=0)
               for name, rate in runs.items()}
    final = {name: r["val_loss"][-1] for name, r in results.items()}
    assert max(results["constant"]["val_loss"][1:5]) > 0.55                     # "jumps around"
    assert final["step"] < final["constant"] and final["cosine"] < final["constant"]
    assert results["cosine"]["val_loss"][0] > results["constant"]["val_loss"][0]   # warm-up's first epoch is worse


def test_notebook_uses_validation_for_decisions_and_the_loop_cell_is_rerunnable():
    import json
    from pathlib import Path

    notebook = json.loads((Path(__file__).resolve().parent.parent / "source" / "lessons" /
                           "07_fashion_mnist.ipynb").read_text(encoding="utf-8"))
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    # running the explicit loop cell twice gives the same numbers: it builds its own model and optimizer
    loop_cell = next(c for c in code if "train_one_epoch(softmax_regression" in c)
    assert "softmax_regression = make_softmax_regression()" in loop_cell and "optim.Adam(" in loop_cell
    # no decision watches the test set: it appears in no fit / evaluate call, only in one predict
    assert not any("validation_data=(X_test" in c for c in code)
    assert sum("predict(X_test" in c for c in code) == 1
    # and a failing comparison says which cell to re-run
    assert any("run the explicit-loop cell again" in c for c in code)
