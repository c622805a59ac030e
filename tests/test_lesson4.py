"""Lesson 4 (mini-batch gradient descent): its exercises, demos and widgets, headless."""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from exercise_helpers import assert_question_behaves

from course_lib.demos import minibatch as mb
from course_lib.exercises import lesson4 as ex


@pytest.fixture(scope="module")
def line_data():
    return mb.make_line_data(n=256, seed=0)


# ---------------------------------------------------------------------------
# Exercises
# ---------------------------------------------------------------------------

def test_q1_iterations():
    results = assert_question_behaves(ex.q1, wrong_answers={
        "one epoch": 125,
        "examples processed": 5000,
        "batch size × epochs": 40,
    })
    assert "multiply by 5" in results["one epoch"].diagnosis


def test_q1_accepts_a_float_of_the_right_value():
    assert ex.q1.evaluate(625.0).correct


def test_q2_iterations_per_epoch():
    assert_question_behaves(ex.q2, wrong_answers={
        "round *up*": lambda n_examples, batch_size, drop_last=False: n_examples // batch_size,
        "round *down*": lambda n_examples, batch_size, drop_last=False: math.ceil(n_examples / batch_size),
        "whole number": lambda n_examples, batch_size, drop_last=False: n_examples / batch_size,
    })


def test_q3_minibatch_gradient():
    def full_data(x, y, w, b, batch):
        r = w * x + b - y
        return 2 * np.mean(r * x), 2 * np.mean(r)

    def divide_by_n(x, y, w, b, batch):
        r = w * x[batch] + b - y[batch]
        return 2 * np.sum(r * x[batch]) / len(x), 2 * np.sum(r) / len(x)

    def no_two(x, y, w, b, batch):
        r = w * x[batch] + b - y[batch]
        return np.mean(r * x[batch]), np.mean(r)

    assert_question_behaves(ex.q3, wrong_answers={
        "not only the batch": full_data,
        "divide by len(batch)": divide_by_n,
        "factor 2": no_two,
    })


def test_q3_solution_text_is_correct():
    namespace = {"np": np}
    exec(ex.q3.solution_code, namespace)
    assert ex.q3.evaluate(namespace["minibatch_gradient"]).correct
    namespace = {"math": math}
    exec(ex.q2.solution_code, namespace)
    assert ex.q2.evaluate(namespace["iterations_per_epoch"]).correct


# ---------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------

def test_iterations_arithmetic_matches_the_dataloader():
    assert mb.iterations_per_epoch(1000, 8) == 125
    assert 5 * mb.iterations_per_epoch(1000, 8) == 625
    batches = mb.make_batches(1000, 8, epochs=5, scheme="shuffle", seed=0)
    assert len(batches) == 625
    batches = mb.make_batches(1000, 7, epochs=1, scheme="random", seed=0)
    assert len(batches) == 143 and len(batches[-1]) == 1000 - 142 * 7


def test_shuffled_pass_uses_every_example_once_random_batches_miss_about_a_third():
    shuffled = mb.usage_counts(1000, mb.make_batches(1000, 8, 1, "shuffle", seed=1))
    assert np.all(shuffled == 1)
    random = mb.usage_counts(1000, mb.make_batches(1000, 8, 1, "random", seed=1))
    assert random.sum() == 1000
    assert 0.31 < np.mean(random == 0) < 0.42          # about 1/e
    assert random.max() >= 3


def test_same_seed_same_run(line_data):
    x, y = line_data
    a = mb.minibatch_gd(x, y, batch_size=8, lr=0.1, epochs=2, seed=3)
    b = mb.minibatch_gd(x, y, batch_size=8, lr=0.1, epochs=2, seed=3)
    assert np.array_equal(a.w, b.w) and np.array_equal(a.loss, b.loss)


def test_full_batch_is_gradient_descent(line_data):
    x, y = line_data
    run = mb.minibatch_gd(x, y, batch_size=len(x), lr=0.1, epochs=3, seed=0)
    w, b = -2.0, 2.0
    for k in range(3):
        dw, db = mb.line_mse_gradient(x, y, w, b)
        w, b = w - 0.1 * dw, b - 0.1 * db
        assert np.isclose(run.w[k + 1], w) and np.isclose(run.b[k + 1], b)


def test_minibatch_gd_converges_near_least_squares(line_data):
    x, y = line_data
    run = mb.minibatch_gd(x, y, batch_size=16, lr=0.1, epochs=20, seed=0)
    w_best, b_best = mb.least_squares_line(x, y)
    assert abs(run.w[-1] - w_best) < 0.15 and abs(run.b[-1] - b_best) < 0.1
    assert run.loss[-1] < 1.05 * mb.line_mse(x, y, w_best, b_best)
    assert run.diverged_at is None
    assert run.examples_seen[-1] == 20 * len(x)


def test_large_learning_rate_diverges_cleanly(line_data):
    x, y = line_data
    run = mb.minibatch_gd(x, y, batch_size=8, lr=3.0, epochs=4, seed=0)
    assert run.diverged_at is not None and run.diverged_at < 64
    assert "diverged" in run.summary()
    assert run.updates == run.diverged_at
    import matplotlib.pyplot as plt
    axes = mb.plot_run(run, x, y)
    low, high = axes[1].get_ylim()
    assert np.isfinite(low) and np.isfinite(high) and high < 1e8
    plt.close("all")


def test_sweep_small_batches_win_per_example_large_per_update(line_data):
    x, y = line_data
    sweep = mb.batch_size_sweep(x, y, batch_sizes=(1, 8, 64, 256), lr=0.1, epochs=4, seed=0)
    assert [sweep[b].updates for b in (1, 8, 64, 256)] == [1024, 128, 16, 4]
    # per example seen (same 4 epochs): the smaller batches end lower
    assert sweep[8].loss[-1] < sweep[64].loss[-1] < sweep[256].loss[-1]
    # per update: after 4 updates, the full batch is ahead of batch size 1 ... on average over seeds
    after_4 = {b: np.mean([mb.minibatch_gd(x, y, b, 0.1, 4, seed=s).loss[4] for s in range(5)])
               for b in (1, 256)}
    assert after_4[256] < after_4[1]


def test_gradient_noise_falls_like_one_over_sqrt_b(line_data):
    x, y = line_data
    noise = mb.gradient_noise(x, y, 0.0, 0.0, batch_sizes=(1, 4, 16, 64), n_samples=400, seed=0)
    values = [noise.noise[b] for b in (1, 4, 16, 64)]
    assert values == sorted(values, reverse=True)
    ratio = noise.noise[1] / noise.noise[64]
    assert 5 < ratio < 12                       # √64 = 8
    assert [noise.cost[b] for b in (1, 4, 16, 64)] == [1, 4, 16, 64]
    full = mb.gradient_noise(x, y, 0.0, 0.0, batch_sizes=(len(x),), n_samples=5, seed=0)
    assert full.noise[len(x)] < 1e-9


# ---------------------------------------------------------------------------
# Widgets, headless
# ---------------------------------------------------------------------------

def test_fit_player_plays_frames(line_data):
    x, y = line_data
    run = mb.minibatch_gd(x, y, batch_size=8, lr=0.1, epochs=1, seed=0)
    player = mb.fit_player(run, x, y)
    assert player.result == 0
    assert player.play.max == run.updates
    slider = player.kwargs_widgets[0]
    slider.value = 7
    assert player.result == 7
    player.play.value = 12           # the Play button is linked to the slider in the browser (jslink)
    assert slider.max == run.updates


def test_minibatch_explorer_reruns_with_the_controls(line_data):
    x, y = line_data
    w = mb.minibatch_explorer(x, y)
    controls = {c.description: c for c in w.kwargs_widgets}
    first = w.result
    assert first.batch_size == 8 and first.diverged_at is None
    controls["batch size"].value = 1
    assert w.result.batch_size == 1
    assert w.result.updates == 8 * first.updates          # 8 times as many updates per epoch
    controls["lr η"].value = 3.0
    assert w.result.diverged_at is not None               # shown, not crashing
    controls["lr η"].value = 0.1
    controls["batches"].value = "random"
    assert w.result.scheme == "random"
    controls["epochs"].value = 4
    assert w.result.updates == 4 * 256


def test_noise_explorer_cloud_shrinks_with_batch_size(line_data):
    x, y = line_data
    w = mb.noise_explorer(x, y)
    controls = {c.description: c for c in w.kwargs_widgets}
    controls["batch size"].value = 4
    small = w.result.noise[4]
    controls["batch size"].value = 64
    large = w.result.noise[64]
    assert large < small / 2
    controls["w"].value = 2.0
    controls["b"].value = -1.0
    assert np.linalg.norm(w.result.full) < 0.3            # near the minimum the full gradient is small
    assert w.result.noise[1] > 5 * np.linalg.norm(w.result.full)


def test_fit_player_redraws_its_live_plot_per_frame(line_data):
    import matplotlib.pyplot as plt

    x, y = line_data
    plt.close("all")
    run = mb.minibatch_gd(x, y, batch_size=8, lr=0.1, epochs=1, seed=0)
    player = mb.fit_player(run, x, y)
    slider = player.kwargs_widgets[0]
    assert player.plot.image in player.children and player.children[0].children[1] is slider
    first = bytes(player.plot.image.value)
    assert first.startswith(b"\x89PNG")
    slider.value = 5
    assert player.result == 5 and bytes(player.plot.image.value) != first
    frame = bytes(player.plot.image.value)
    slider.value = 5 + 1
    slider.value = 5
    assert bytes(player.plot.image.value) == frame          # a frame is a function of k alone
    assert plt.get_fignums() == []                   # no pyplot figure behind the widget


def test_fit_frame_shows_the_batch_and_the_lines_of_update_k(line_data):
    from course_lib.demos.live_plot import LivePlot

    x, y = line_data
    run = mb.minibatch_gd(x, y, batch_size=8, lr=0.1, epochs=1, seed=0)
    plot = LivePlot()
    frame = mb.FitFrame(plot.figure.subplots(1, 2), x, y, plot)
    frame.show(run, 3)
    assert np.array_equal(frame.batch.get_offsets(), np.column_stack([x[run.batches[2]], y[run.batches[2]]]))
    assert np.allclose(frame.after.get_ydata(), run.w[3] * frame.grid + run.b[3])
    assert np.allclose(frame.before.get_ydata(), run.w[2] * frame.grid + run.b[2])
    assert "update 3 of 32" in frame.title.get_text()
    assert np.array_equal(frame.so_far.get_ydata(), run.loss[:4])
    frame.show(run, 0)
    assert len(frame.batch.get_offsets()) == 0 and not frame.before.get_visible()
    assert not frame.cross.get_visible()


def test_minibatch_explorer_redraws_its_live_plot(line_data):
    import matplotlib.pyplot as plt

    x, y = line_data
    plt.close("all")
    w = mb.minibatch_explorer(x, y)
    controls = {c.description: c for c in w.kwargs_widgets}
    assert w.plot.image in w.children
    first = bytes(w.plot.image.value)
    controls["batch size"].value = 16
    assert w.result.batch_size == 16 and w.result.updates == 32
    assert bytes(w.plot.image.value) != first
    assert "batch size 16" in w.plot.figure.texts[0].get_text()      # the summary above the panels
    before = bytes(w.plot.image.value)
    controls["lr η"].value = 1.5
    assert w.result.diverged_at is not None
    assert bytes(w.plot.image.value) != before
    assert "diverged after" in w.plot.figure.texts[0].get_text()
    controls["epochs"].value = 4                                      # a new x range: drawn again
    assert w.result.updates <= 4 * 16
    assert w.plot.figure.axes[1].get_xlim()[1] > 4
    assert plt.get_fignums() == []


def test_noise_explorer_redraws_its_live_plot_and_matches_gradient_noise(line_data):
    import matplotlib.pyplot as plt

    x, y = line_data
    plt.close("all")
    w = mb.noise_explorer(x, y)
    controls = {c.description: c for c in w.kwargs_widgets}
    first = bytes(w.plot.image.value)
    controls["w"].value = 1.0
    assert bytes(w.plot.image.value) != first
    reference = mb.gradient_noise(x, y, 1.0, 0.0, batch_sizes=(1, 16), n_samples=300, seed=0)
    for B in (1, 16):
        assert np.array_equal(w.result.samples[B], reference.samples[B])    # same batches, same numbers
        assert w.result.noise[B] == reference.noise[B]
    before = bytes(w.plot.image.value)
    controls["batch size"].value = 1
    assert w.result.batch_sizes == [1] and bytes(w.plot.image.value) != before
    assert plt.get_fignums() == []


def test_noise_batches_do_not_depend_on_the_point(line_data):
    x, y = line_data
    batches = mb.noise_batches(len(x), [1, 16], n_samples=50, seed=2)
    assert batches[1].shape == (50, 1) and batches[16].shape == (50, 16)
    assert all(len(set(row)) == 16 for row in batches[16])            # without replacement inside a batch
    for w, b in [(0.0, 0.0), (2.0, -1.0)]:
        cloud = mb.gradient_cloud(x, y, w, b, batches)
        direct = mb.gradient_noise(x, y, w, b, batch_sizes=(1, 16), n_samples=50, seed=2)
        assert np.array_equal(cloud.samples[16], direct.samples[16])
        assert np.allclose(cloud.samples[16][0], mb.line_mse_gradient(x[batches[16][0]], y[batches[16][0]], w, b))


# ---------------------------------------------------------------------------
# Issue 13: which learning rates diverge, judged by the loss
# ---------------------------------------------------------------------------


def test_full_batch_limit_and_which_batch_sizes_diverge(line_data):
    x, y = line_data
    limit = mb.full_batch_lr_limit(x)
    assert abs(limit - 0.99) < 0.005                           # "2/λmax ≈ 0.99"
    sweep = mb.stability_sweep(x, y, batch_sizes=(1, 8, 64, 256), epochs=4, seed=0)
    above = sweep.lrs > 1.04
    for batch_size in (1, 8, 64, 256):
        assert sweep.diverged[batch_size][above].all()       # no batch size survives beyond the limit
        assert sweep.smallest_diverging_lr(batch_size) <= 1.05
    assert sweep.smallest_diverging_lr(1) == 0.8               # "batch 1 already diverges at η = 0.8"
    assert not sweep.diverged[1][sweep.lrs == 0.7].any()      # "at 0.7 it survives"
    assert sweep.final_loss[1][sweep.lrs == 0.7][0] > 5       # "... but ends far from the minimum"
    for batch_size in (8, 64, 256):
        assert not sweep.diverged[batch_size][sweep.lrs < 0.95].any()
    # just above the limit the full batch diverges too slowly for 4 updates to show it, but it does diverge
    assert not mb.minibatch_gd(x, y, batch_size=256, lr=1.0, epochs=4, seed=0).diverged
    assert mb.minibatch_gd(x, y, batch_size=256, lr=1.0, epochs=40, seed=0).diverged


def test_a_large_batch_diverging_in_few_updates_is_flagged_by_its_loss(line_data):
    x, y = line_data
    run = mb.minibatch_gd(x, y, batch_size=256, lr=1.5, epochs=4, seed=0)
    assert run.updates == 4 and run.diverged_at is None      # never reached the blow-up threshold ...
    assert run.diverged                                       # ... but flagged by its loss
    assert 1800 < run.loss[-1] < 1900 and abs(run.loss[0] - 13.35) < 0.01   # "from 13 to about 1,860"
    assert "diverging" in run.summary() and "1,86" in run.summary()
    two_epochs = mb.minibatch_gd(x, y, batch_size=256, lr=1.5, epochs=2, seed=0)
    assert two_epochs.diverged and 100 < two_epochs.loss[-1] < 120   # the explorer's default 2 epochs: "about 110"
    small = mb.minibatch_gd(x, y, batch_size=8, lr=1.5, epochs=2, seed=0)
    assert small.diverged_at is not None and small.diverged_at <= 32  # blows up within the first epoch
    ok = mb.minibatch_gd(x, y, batch_size=8, lr=0.1, epochs=2, seed=0)
    assert not ok.diverged


def test_best_loss_is_the_least_squares_loss(line_data):
    x, y = line_data
    w, b = mb.least_squares_line(x, y)
    assert round(mb.line_mse(x, y, w, b), 3) == 0.255          # "the best possible 0.255"


def test_batches_toggle_is_wide_enough_for_its_labels(line_data):
    x, y = line_data
    w = mb.minibatch_explorer(x, y)
    toggle = {c.description: c for c in w.kwargs_widgets}["batches"]
    assert toggle.style.button_width == "190px"


def test_what_keras_prints_is_batches_per_epoch():
    assert mb.iterations_per_epoch(60_000, 32) == 1875       # "1875/1875"
    assert mb.iterations_per_epoch(10_000, 32) == 313        # "313/313", the last batch has 16 images
    assert 10_000 - 312 * 32 == 16
    assert {n for n in range(1, 300) if mb.iterations_per_epoch(n, 32) == 5} == set(range(129, 161))
