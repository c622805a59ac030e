"""LivePlot: a figure drawn once and updated in place (course_lib/demos/live_plot.py)."""

import io

import ipywidgets as widgets
import ipywidgets.widgets.widget_output as widget_output
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from course_lib.demos.live_plot import LivePlot, PlotRow, explorer


def pixels(png):
    return np.asarray(Image.open(io.BytesIO(png)))


def two_panel_plot():
    plot = LivePlot(figsize=(6, 3))
    left, right = plot.figure.subplots(1, 2)
    xs = np.linspace(-2, 2, 200)
    left.plot(xs, xs ** 2, color="0.3")
    left.contour(xs, xs, xs[:, None] ** 2 + xs[None, :] ** 2, levels=8)
    dot, = plot.moving(left.plot([], [], "o", color="C1"))
    curve, = plot.moving(right.plot([], [], color="C3"))
    title = plot.moving(left.set_title("\n", fontsize=9))
    right.set_xlim(0, 10)
    right.set_ylim(-1, 1)
    return plot, dot, curve, title


def move(dot, curve, title, x):
    dot.set_data([x], [x ** 2])
    curve.set_data(np.arange(11), np.sin(np.arange(11) * x))
    title.set_text(f"x = {x:.2f}\na second line")


def test_a_blitted_redraw_gives_the_same_picture_as_a_full_one():
    plot, dot, curve, title = two_panel_plot()
    plot.fix_layout()
    move(dot, curve, title, 0.5)
    plot.redraw()                                   # draws the background
    move(dot, curve, title, -1.25)
    plot.redraw()                                   # background + moving artists only
    blitted = pixels(plot.image.value)
    plot.redraw(everything=True)
    full = pixels(plot.image.value)
    assert blitted.shape == full.shape == (300, 600, 3)
    assert np.array_equal(blitted, full)


def test_the_old_position_of_a_moving_artist_is_gone():
    plot, dot, curve, title = two_panel_plot()
    plot.fix_layout()
    move(dot, curve, title, 0.5)
    plot.redraw()
    first = pixels(plot.image.value)
    move(dot, curve, title, -1.5)
    plot.redraw()
    second = pixels(plot.image.value)
    move(dot, curve, title, 0.5)
    plot.redraw()
    assert not np.array_equal(first, second)
    assert np.array_equal(first, pixels(plot.image.value))    # back where it was: the same picture


def test_fix_layout_keeps_the_axes_where_they_are():
    plot, dot, curve, title = two_panel_plot()
    plot.fix_layout()
    before = [ax.get_position().bounds for ax in plot.figure.axes]
    title.set_text("a much longer title\nover two lines")
    plot.redraw(everything=True)
    assert [ax.get_position().bounds for ax in plot.figure.axes] == before


def test_explorer_wires_controls_like_interactive_and_shows_the_plot():
    plt.close("all")
    plot, dot, curve, title = two_panel_plot()
    calls = []

    def update(x):
        move(dot, curve, title, x)
        plot.redraw()
        calls.append(x)
        return x ** 2

    slider = widgets.FloatSlider(value=0.5, min=-2, max=2, step=0.25, description="x")
    widget = explorer(update, plot, x=slider)
    assert widget.children[0] is slider                     # controls first, as with interactive
    assert widget.children[1] is plot.image and widget.children[2] is widget.out
    assert widget.plot is plot
    assert calls == [0.5] and widget.result == 0.25        # drawn once when built
    first = bytes(plot.image.value)
    assert first.startswith(b"\x89PNG")
    slider.value = 1.0
    assert widget.result == 1.0 and bytes(plot.image.value) != first
    assert plt.get_fignums() == []                          # no pyplot figure, so nothing leaks


def test_a_hidden_moving_artist_is_not_drawn():
    plot, dot, curve, title = two_panel_plot()
    plot.fix_layout()
    move(dot, curve, title, 0.5)
    plot.redraw()
    shown = pixels(plot.image.value)
    dot.set_visible(False)
    plot.redraw()
    hidden = pixels(plot.image.value)
    dot.set_visible(True)
    plot.redraw()
    assert not np.array_equal(shown, hidden)
    assert np.array_equal(shown, pixels(plot.image.value))


@pytest.mark.parametrize("in_ipython", [False, True])
def test_an_update_that_raises_is_not_swallowed_and_the_next_good_setting_draws(monkeypatch, in_ipython):
    # ipywidgets' Output shows the traceback when an IPython shell runs (and stops the error there),
    # and lets it through otherwise: both set here, so an IPython shell another test started in
    # this process (IPython.testing.globalipapp) cannot decide which case runs
    shown = []

    class Shell:
        def showtraceback(self, exc_tuple, tb_offset=None):
            shown.append(exc_tuple[1])

    monkeypatch.setattr(widget_output, "get_ipython", Shell if in_ipython else (lambda: None))
    plot, dot, curve, title = two_panel_plot()

    def update(x):
        if x < 0:
            raise ValueError("x must be at least 0")
        move(dot, curve, title, x)
        plot.redraw()
        return x

    slider = widgets.FloatSlider(value=0.5, min=-2, max=2, step=0.25)
    widget = explorer(update, plot, x=slider)
    good = bytes(plot.image.value)
    if in_ipython:                                        # in Jupyter: the traceback under the plot
        slider.value = -1.0
        assert [str(error) for error in shown] == ["x must be at least 0"]
    else:
        with pytest.raises(ValueError, match="at least 0"):
            slider.value = -1.0
    assert widget.result == 0.5 and bytes(plot.image.value) == good     # the last good picture stays
    slider.value = 1.5
    assert widget.result == 1.5 and bytes(plot.image.value) != good


def test_a_plot_row_sends_its_plots_side_by_side_as_one_picture():
    (left, dot, curve, title), (right, *right_artists) = two_panel_plot(), two_panel_plot()
    row = PlotRow([left, right])
    assert row.image.layout.width == "1200px"
    row.fix_layout()
    move(dot, curve, title, 0.5)
    move(*right_artists, -1.0)
    sent = []
    row.image.observe(lambda change: sent.append(change["new"]), "value")
    row.redraw()                                        # both drawn, one picture
    first_right = right.pixels().copy()
    move(dot, curve, title, 1.25)
    row.redraw([left])                                  # the left plot only: the right keeps its picture
    assert len(sent) == 2
    assert np.array_equal(right.pixels(), first_right)
    both = pixels(sent[-1])
    assert both.shape == (300, 1200, 3)
    assert left._image is None and right._image is None    # the row's plots made no widget of their own
    left.redraw(everything=True)                        # the same as each plot drawn in full on its own
    right.redraw(everything=True)
    assert np.array_equal(both, np.hstack([pixels(left.image.value), pixels(right.image.value)]))


def test_a_plot_row_refuses_plots_of_different_heights():
    with pytest.raises(ValueError, match="same height in pixels, got \\[200, 300\\]"):
        PlotRow([LivePlot(figsize=(3, 3)), LivePlot(figsize=(3, 2))])


def test_a_rarely_moving_axis_is_drawn_again_only_on_a_rare_change():
    plot, dot, curve, title = two_panel_plot()
    right = plot.figure.axes[1]
    plot.rarely_moving(right.xaxis)
    plot.fix_layout()
    move(dot, curve, title, 0.5)
    plot.redraw()
    right.set_xlim(0, 30)                            # the axis changes ...
    plot.redraw()                                    # ... but is not drawn again: the old ticks stay
    stale = pixels(plot.image.value)
    plot.redraw(rare_change=True)                    # now it is: the same picture as a full draw
    rare = pixels(plot.image.value)
    plot.redraw(everything=True)
    assert np.array_equal(rare, pixels(plot.image.value))
    ticks_row = int(plot.figure.bbox.height - right.bbox.y0) + 8      # the x tick labels, under the panel
    assert not np.array_equal(stale[ticks_row - 4:ticks_row + 8], rare[ticks_row - 4:ticks_row + 8])
    move(dot, curve, title, -1.0)                    # later events reuse the new background
    plot.redraw()
    blitted = pixels(plot.image.value)
    plot.redraw(everything=True)
    assert np.array_equal(blitted, pixels(plot.image.value))


def test_a_plot_row_draws_a_plot_never_drawn_even_when_not_named():
    (left, *_), (right, *_) = two_panel_plot(), two_panel_plot()
    row = PlotRow([left, right])
    row.fix_layout()
    row.redraw([left])                                  # right was never drawn: drawn now, not an error
    assert pixels(row.image.value).shape == (300, 1200, 3)
    assert right.base is not None
