"""Lesson 6 (momentum, RMSProp, Adam): its exercises, demos and widgets, headless."""

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from PIL import Image
from exercise_helpers import assert_question_behaves

from course_lib import nn, optim
from course_lib.demos import optimizers as op
from course_lib.exercises import lesson6 as ex

# ---------------------------------------------------------------------------
# Exercises
# ---------------------------------------------------------------------------


def test_q1_momentum_step():
    assert_question_behaves(ex.q1, wrong_answers={
        "exponential-average form": lambda param, grad, velocity, lr, momentum: (
            param - lr * (momentum * velocity + (1 - momentum) * grad),
            momentum * velocity + (1 - momentum) * grad),
        "old velocity": lambda param, grad, velocity, lr, momentum: (
            param - lr * velocity, momentum * velocity + grad),
        "other convention": lambda param, grad, velocity, lr, momentum: (
            param - lr * (momentum * velocity + grad), -lr * (momentum * velocity + grad)),
    })


def test_q2_rmsprop_step():
    assert_question_behaves(ex.q2, wrong_answers={
        "swapped": lambda param, grad, square_avg, lr, alpha, eps=1e-8: (
            param - lr * grad / (np.sqrt(alpha * grad ** 2 + (1 - alpha) * square_avg) + eps),
            alpha * grad ** 2 + (1 - alpha) * square_avg),
        "square root is missing": lambda param, grad, square_avg, lr, alpha, eps=1e-8: (
            param - lr * grad / (alpha * square_avg + (1 - alpha) * grad ** 2 + eps),
            alpha * square_avg + (1 - alpha) * grad ** 2),
        "inside the square root": lambda param, grad, square_avg, lr, alpha, eps=1e-8: (
            param - lr * grad / np.sqrt(alpha * square_avg + (1 - alpha) * grad ** 2 + eps),
            alpha * square_avg + (1 - alpha) * grad ** 2),
    })


def _adam(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, t_used=None, correct=True, root=True):
    beta1, beta2 = betas
    t_used = t if t_used is None else t_used
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t_used) if correct else m
    v_hat = v / (1 - beta2 ** t_used) if correct else v
    return param - lr * m_hat / ((np.sqrt(v_hat) if root else v_hat) + eps), m, v


def test_q3_adam_step():
    assert_question_behaves(ex.q3, wrong_answers={
        "off by one": lambda param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8:
            _adam(param, grad, m, v, t, lr, betas, eps, t_used=t + 1),
        "no bias correction": lambda param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8:
            _adam(param, grad, m, v, t, lr, betas, eps, correct=False),
        "square root of v̂ is missing": lambda param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8:
            _adam(param, grad, m, v, t, lr, betas, eps, root=False),
    })


def test_q3_returning_corrected_moments_is_wrong():
    def returns_hats(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        beta1, beta2 = betas
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad ** 2
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        return param - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat

    result = ex.q3.evaluate(returns_hats)
    assert result.status == "incorrect" and "new_m" in result.message
    assert "bias-corrected moments" in result.diagnosis          # names the slip, not "a constant factor"
    assert "constant factor" not in result.message and "times 10" not in result.message


def test_q3_reference_is_the_engines_adam_over_many_steps():
    """Chaining the reference step for step equals running optim.Adam."""
    rng = np.random.default_rng(0)
    theta = nn.Parameter(rng.normal(size=5))
    adam = optim.Adam([theta], lr=0.01, betas=(0.8, 0.99))
    param, m, v = theta.data.copy(), np.zeros(5), np.zeros(5)
    for t in range(1, 21):
        g = rng.normal(size=5)
        adam.zero_grad()
        theta.grad[...] = g
        adam.step()
        param, m, v = ex.adam_step_reference(param, g, m, v, t, lr=0.01, betas=(0.8, 0.99))
        assert np.allclose(param, theta.data, rtol=1e-12, atol=1e-14)


def test_q4_first_step_uncorrected():
    results = assert_question_behaves(ex.q4, wrong_answers={
        "*with* bias correction": 0.01,
        "division by √v": 0.004,
    })
    assert ex.q4.evaluate(0.0316).correct


def test_solution_texts_are_correct():
    for question, name in [(ex.q1, "momentum_step"), (ex.q2, "rmsprop_step"), (ex.q3, "adam_step")]:
        namespace = {"np": np}
        exec(question.solution_code, namespace)
        assert question.evaluate(namespace[name]).correct, name
    namespace = {"np": np}
    exec(ex.q4.solution_code, namespace)
    assert ex.q4.evaluate(namespace["first_step_uncorrected"]).correct


# ---------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------

def test_adam_first_steps_matches_optim_adam():
    grads = np.array([1.0, -0.5, 2.0, 0.1, 0.1, 3.0])
    by_hand = op.adam_first_steps(grads, lr=0.01, betas=(0.9, 0.99))
    theta = nn.Parameter(np.zeros(1))
    adam = optim.Adam([theta], lr=0.01, betas=(0.9, 0.99))
    for t, g in enumerate(grads):
        before = theta.data.copy()
        adam.zero_grad()
        theta.grad[...] = g
        adam.step()
        assert np.isclose(theta.data[0] - before[0], by_hand.step[t], rtol=1e-10)


def test_bias_correction_numbers():
    grads = np.ones(5)
    corrected = op.adam_first_steps(grads, lr=0.01)
    uncorrected = op.adam_first_steps(grads, lr=0.01, bias_correction=False)
    assert np.allclose(corrected.m_hat, 1.0) and np.allclose(corrected.v_hat, 1.0)
    assert np.allclose(corrected.step, -0.01)
    assert np.isclose(uncorrected.m[0], 0.1) and np.isclose(uncorrected.v[0], 0.001)
    assert np.isclose(uncorrected.step[0], -0.01 * 0.1 / np.sqrt(0.001))       # 3.16 η: too large
    # with beta1 == beta2 the uncorrected first step is too small instead
    same = op.adam_first_steps(grads, lr=0.01, betas=(0.9, 0.9), bias_correction=False)
    assert abs(same.step[0]) < 0.01
    assert "step (uncorrected)" in op.adam_steps_table(grads)


def test_paths_use_the_engine_and_show_each_optimizers_character():
    bowl = op.compare_optimizers("bowl")
    for label in op.OPTIMIZERS:
        assert bowl[label].diverged_at is None
        assert bowl[label].values[-1] < bowl[label].values[0] / 100
    # momentum beats plain SGD on the ill-conditioned bowl, RMSProp beats both
    assert bowl["momentum"].values[-1] < bowl["SGD"].values[-1]
    assert bowl["RMSProp"].values[-1] < bowl["momentum"].values[-1]
    rosen = op.compare_optimizers("rosenbrock")
    finals = {label: rosen[label].values[-1] for label in op.OPTIMIZERS}
    assert min(finals, key=finals.get) == "Adam"
    assert finals["momentum"] < finals["SGD"]
    assert np.linalg.norm(rosen["Adam"].points[-1] - np.array([1.0, 1.0])) < 0.3


def test_path_is_the_optimizer_run_by_hand():
    surface = op.ill_conditioned_bowl(25)
    path = op.optimizer_path(surface, "sgd", steps=3, lr=0.01, momentum=0.9)
    theta, v = surface.start.copy(), np.zeros(2)
    for k in range(3):
        v = 0.9 * v + surface.gradient(theta)
        theta = theta - 0.01 * v
        assert np.allclose(path.points[k + 1], theta)


def test_divergence_is_caught_and_drawn_inside_the_view():
    import matplotlib.pyplot as plt

    surface = op.ill_conditioned_bowl(25)
    path = op.optimizer_path(surface, "sgd", steps=200, lr=0.09)
    assert path.diverged_at is not None and path.steps == path.diverged_at
    assert "diverged" in path.summary()
    fig, ax = plt.subplots()
    op.draw_contours(ax, surface)
    op.draw_path(ax, path, "C0")
    assert ax.get_xlim() == surface.xlim and ax.get_ylim() == surface.ylim
    assert "diverged" in ax.get_title()
    plt.close(fig)


# ---------------------------------------------------------------------------
# Widgets, headless
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("surface_name", ["bowl", "rosenbrock"])
def test_optimizer_race_controls_change_the_paths(surface_name):
    w = op.optimizer_race(surface_name)
    controls = {c.description: c for c in w.kwargs_widgets}
    assert set(controls) == {"steps", "SGD lr η", "momentum lr η", "momentum β", "RMSProp lr η",
                             "RMSProp α", "Adam lr η", "Adam β1", "Adam β2"}
    first = w.result
    assert first["SGD"].options == {"lr": op.DEFAULTS[surface_name]["sgd_lr"]}

    controls["SGD lr η"].value = 3.0                      # far too large: diverges, no crash
    assert w.result["SGD"].diverged_at is not None
    controls["momentum β"].value = 0.0                    # momentum 0 is plain SGD
    assert w.result["momentum"].options["momentum"] == 0.0
    controls["RMSProp α"].value = 0.5
    assert w.result["RMSProp"].options["alpha"] == 0.5
    controls["Adam β1"].value = 0.5
    controls["Adam β2"].value = 0.9
    assert w.result["Adam"].options["betas"] == (0.5, 0.9)
    controls["Adam lr η"].value = 0.001
    assert w.result["Adam"].options["lr"] == pytest.approx(0.001)
    controls["steps"].value = 20
    assert all(w.result[label].steps <= 20 for label in op.OPTIMIZERS)


def test_race_momentum_zero_equals_sgd_with_the_same_lr():
    w = op.optimizer_race("bowl")
    controls = {c.description: c for c in w.kwargs_widgets}
    controls["momentum β"].value = 0.0
    controls["momentum lr η"].value = 0.01
    controls["SGD lr η"].value = 0.01
    assert np.allclose(w.result["momentum"].points, w.result["SGD"].points)


def test_bias_correction_explorer():
    w = op.bias_correction_explorer()
    controls = {c.description: c for c in w.kwargs_widgets}
    corrected, uncorrected = w.result
    assert np.allclose(np.abs(corrected.step), 1e-3)
    assert abs(uncorrected.step[0]) > 3 * 1e-3
    controls["β2"].value = 0.9
    corrected, uncorrected = w.result
    assert abs(uncorrected.step[0]) < 1e-3                # β1 = β2: too small instead
    controls["gradients"].value = "noisy"
    corrected, uncorrected = w.result
    assert not np.allclose(np.abs(corrected.step), 1e-3)


def test_race_draws_into_live_plots_and_redraws_only_what_changed():
    import matplotlib.pyplot as plt

    figures_before = plt.get_fignums()
    w = op.optimizer_race("bowl")
    assert set(w.plots) == {*op.OPTIMIZERS, "f"} and w.plot.plots == list(w.plots.values())
    assert w.plot.image in w.children                     # the five panels, one picture
    sent = []
    w.plot.image.observe(lambda change: sent.append(change["new"]), "value")
    controls = {c.description: c for c in w.kwargs_widgets}

    def panels():
        return {name: plot.pixels().copy() for name, plot in w.plots.items()}

    def changed_since(before):
        return {name for name, pixels in panels().items() if not np.array_equal(pixels, before[name])}

    before = panels()
    title = w.plots["SGD"].figure.axes[0].title
    assert title.get_text() == f"SGD\nf = {w.result['SGD'].values[-1]:.3g}"

    controls["SGD lr η"].value = 3.0                      # diverges: red title, red cross
    assert changed_since(before) == {"SGD", "f"}          # the other panels are not redrawn
    assert len(sent) == 1                                 # and the row is sent once
    assert w.result["SGD"].diverged_at is not None
    assert "diverged" in title.get_text() and title.get_color() == "red"

    before = panels()
    controls["steps"].value = 30
    assert changed_since(before) == set(w.plots) - {"SGD"}    # SGD diverged after 17 steps: same path
    assert len(sent) == 2 and sent[0] != sent[1]
    # the picture sent is the five panels side by side
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(sent[-1]))),
                          np.hstack([plot.pixels()[:, :, :3] for plot in w.plots.values()]))
    f_axes = w.plots["f"].figure.axes[0]
    assert f_axes.get_xlim() == pytest.approx((0, 1.02 * controls["steps"].max))   # fixed: only curves move
    assert max(line.get_xdata()[-1] for line in f_axes.get_lines()) == 30
    assert w.result["Adam"].steps == 30
    assert plt.get_fignums() == figures_before            # no pyplot figure made, none leaked


def test_race_cache_gives_the_same_paths_as_a_fresh_run():
    cache = {}
    for steps, lr in [(60, 0.07), (120, 0.07), (30, 0.07), (30, 0.09), (120, 0.09), (120, 0.07)]:
        cached = op.compare_optimizers("bowl", steps=steps, sgd_lr=lr, cache=cache)
        fresh = op.compare_optimizers("bowl", steps=steps, sgd_lr=lr)
        for label in op.OPTIMIZERS:
            assert np.array_equal(cached[label].points, fresh[label].points)
            assert np.array_equal(cached[label].values, fresh[label].values)
            assert cached[label].diverged_at == fresh[label].diverged_at
            assert cached[label].summary() == fresh[label].summary()


def test_bias_correction_explorer_redraws_its_plot():
    import matplotlib.pyplot as plt

    figures_before = plt.get_fignums()
    w = op.bias_correction_explorer()
    controls = {c.description: c for c in w.kwargs_widgets}
    before = w.plot.image.value
    controls["β1"].value = 0.5
    assert w.plot.image.value != before
    corrected, uncorrected = w.result
    assert corrected.betas == (0.5, 0.999)
    assert np.isclose(abs(uncorrected.step[0]), 1e-3 * 0.5 / np.sqrt(0.001))
    line = w.plot.figure.axes[0].lines[1]
    assert np.allclose(line.get_ydata(), np.abs(uncorrected.step) / 1e-3)
    assert "β1=0.5" in w.plot.figure.axes[0].get_title()
    assert plt.get_fignums() == figures_before


# ---------------------------------------------------------------------------
# Issue 13: Adagrad, RMSProp's first steps, the uncorrected-Adam curve, the tilted bowl
# ---------------------------------------------------------------------------


def test_adagrad_steps_shrink_like_one_over_sqrt_t_and_rmsprop_starts_at_ten_eta():
    steady = np.ones(10_000)
    adagrad = op.step_sizes("adagrad", steady, lr=0.1)
    assert np.allclose(adagrad[[0, 99, 9999]], [0.1, 0.01, 0.001], rtol=1e-5)   # "a tenth ... a hundredth"
    rmsprop = op.step_sizes("rmsprop", steady, lr=0.1, alpha=0.99)
    assert np.isclose(rmsprop[0], 1.0, rtol=1e-6)             # η / √(1 − α) = 10 η: "a step of 1.0"
    assert np.isclose(rmsprop[9] / 0.1, 3.2, atol=0.05)        # "3.2 at t = 10"
    assert np.isclose(rmsprop[99] / 0.1, 1.26, atol=0.01)      # "1.26 at t = 100"
    assert np.isclose(rmsprop[-1], 0.1, rtol=1e-4)             # settles at η


def test_uncorrected_adam_is_a_curve_not_one_factor():
    t = np.arange(1, 5001)
    ratio = op.uncorrected_adam_ratio(t)
    assert np.isclose(ratio[0], 3.16, atol=0.005)
    assert int(np.argmax(ratio)) + 1 == 12 and np.isclose(ratio.max(), 6.6, atol=0.05)
    assert np.isclose(ratio[999], 1.26, atol=0.005)
    # the same ratio from the hand-written Adam, with and without correction
    grads = np.ones(20)
    corrected = op.adam_first_steps(grads, lr=0.01, bias_correction=True).step
    uncorrected = op.adam_first_steps(grads, lr=0.01, bias_correction=False).step
    assert np.allclose(np.abs(uncorrected) / np.abs(corrected), ratio[:20], rtol=1e-5)


def test_eta_is_an_upper_bound_on_adams_step():
    assert np.isclose(op.adam_mean_step(1.0, 0.0), 1.0, atol=1e-6)
    assert np.isclose(op.adam_mean_step(1.0, 1.0), 0.70, atol=0.01)
    assert np.isclose(op.adam_mean_step(0.1, 1.0), 0.20, atol=0.01)


def test_gd_and_momentum_are_rotation_invariant_and_per_coordinate_methods_are_not():
    tilt = op.rotation_comparison(angle_degrees=45, steps=60)
    angle = np.radians(45)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    for label in ("GD", "momentum"):
        aligned, tilted = tilt[label]
        assert np.allclose(tilted.points, aligned.points @ rotation.T, atol=1e-9)
        assert np.allclose(tilted.values, aligned.values, rtol=1e-9, atol=1e-15)
    finals = {label: (tilt[label][0].values[-1], tilt[label][1].values[-1]) for label in op.ROTATION_OPTIMIZERS}
    assert finals["RMSProp"][0] < 1e-9 and 0.04 < finals["RMSProp"][1] < 0.08      # 4e-10 -> 0.06
    assert finals["Adagrad"][0] < 1e-7 and 0.08 < finals["Adagrad"][1] < 0.15      # 1e-8 -> 0.1
    assert 0.02 < finals["Adam"][0] < 0.04 and 0.3 < finals["Adam"][1] < 0.5       # 0.03 -> 0.4
    import matplotlib.pyplot as plt
    axes = op.plot_rotation_comparison(tilt)
    assert len(axes) == 2 and len(axes[0]) == 5
    plt.close("all")


@pytest.fixture(scope="module")
def wine():
    from course_lib import data

    X, y, _ = data.load_red_wine()
    X_train, X_val, y_train, y_val = data.train_val_split(X, y, val_fraction=0.2, seed=0)
    X_train, scaler = data.standardize(X_train)
    X_val = scaler.transform(X_val)
    return (X_train.astype(np.float32), y_train.astype(np.float32).reshape(-1, 1),
            X_val.astype(np.float32), y_val.astype(np.float32).reshape(-1, 1))


def _wine_model():
    return nn.Sequential(nn.Linear(11, 512, seed=0), nn.ReLU(), nn.Linear(512, 512, seed=1), nn.ReLU(),
                         nn.Linear(512, 512, seed=2), nn.ReLU(), nn.Linear(512, 1, seed=3))


def test_early_stopping_on_the_wine_network_as_the_lesson_says(wine):
    from course_lib.training import EarlyStopping

    X_train, y_train, X_val, y_val = wine
    results = {}
    for patience in (5, 10):
        model = _wine_model()
        model.compile(optimizer="adam", loss="mae")
        stopper = EarlyStopping(patience=patience)
        history = model.fit(X_train, y_train, batch_size=64, epochs=100, validation_data=(X_val, y_val),
                            seed=0, verbose=0, callbacks=[stopper])
        assert 0 < stopper.stopped_epoch == len(history.history["loss"]) < 100
        assert stopper.stopped_epoch - stopper.best_epoch == patience
        assert np.isclose(model.evaluate(X_val, y_val, verbose=0)["loss"], stopper.best_value, rtol=1e-5)
        results[patience] = stopper
    # "with a patience of 5 this run would have stopped after epoch 17 and kept epoch 12 (0.514)"
    assert (results[5].stopped_epoch, results[5].best_epoch) == (17, 12)
    assert round(results[5].best_value, 3) == 0.514
    assert results[10].best_value < results[5].best_value < 0.64     # and both beat the median baseline
