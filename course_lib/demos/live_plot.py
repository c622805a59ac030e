"""A figure made once and updated in place: what lets a slider answer at once.

Making a new Matplotlib figure for every move of a slider costs 150–650 ms
(new axes, ticks, contours, a tight layout, and the inline backend draws it
twice). A ``LivePlot`` does the slow part once:

1. Build the figure, its axes and every artist (lines, markers, titles) once.
   Mark the artists that a control changes with ``plot.moving(artist)``.
2. On each event, change those artists in place (``line.set_data(x, y)``,
   ``text.set_text(...)``) and call ``plot.redraw()``.

``redraw()`` renders with Matplotlib's Agg renderer into an
``ipywidgets.Image`` (``plot.image``), which the page updates in place. The
parts that never move (curves, contours, axes, labels) are rendered once into
a background picture; each redraw pastes that picture back and draws only the
moving artists on top ("blitting"). An artist that only one control changes
(the x axis, when a slider sets the number of epochs) is marked with
``plot.rarely_moving(ax.xaxis)`` and drawn again with
``plot.redraw(rare_change=True)``. If anything else in the background
changes, call ``plot.redraw(everything=True)``.

    plot = LivePlot(figsize=(7, 4))
    ax = plot.figure.add_subplot()
    ax.plot(xs, f(xs))                                # drawn once, in the background
    dot, = plot.moving(ax.plot([], [], "o"))          # redrawn on every event

    def update(x):
        dot.set_data([x], [f(x)])
        plot.redraw()

``explorer(update, plot, **controls)`` wires sliders to such an ``update``
as ``ipywidgets.interactive`` would (``.result`` is the last result) and
shows the plot under the controls.
"""

import contextlib
import io

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image


@contextlib.contextmanager
def unhinted_text():
    """Draw text without FreeType's hinting, then restore the setting.

    Each glyph is rasterised anew on every draw; without hinting a 95-character
    title takes 5.5 ms instead of 9.6. (Only this one setting is swapped:
    ``matplotlib.rc_context`` copies all of them, 1.5 ms per redraw.)
    """
    saved = matplotlib.rcParams["text.hinting"]
    matplotlib.rcParams["text.hinting"] = "no_hinting"
    try:
        yield
    finally:
        matplotlib.rcParams["text.hinting"] = saved


class LivePlot:
    """One Matplotlib figure, rendered into ``self.image`` (an ``ipywidgets.Image``) on demand.

    ``figsize`` is in inches, as for ``plt.figure``; the picture is
    ``figsize × dpi`` pixels (``dpi`` defaults to ``rcParams["figure.dpi"]``).
    ``layout`` is Matplotlib's layout engine ("constrained", "tight" or None);
    ``fix_layout()`` runs it once (``explorer`` does, before the first update)
    and the layout stays put from then on.
    """

    def __init__(self, figsize=(7, 4), dpi=None, layout="constrained"):
        self.figure = Figure(figsize=figsize, dpi=dpi or matplotlib.rcParams["figure.dpi"], layout=layout,
                             facecolor="white")             # opaque: png() drops the alpha channel
        self.layout = layout
        self.canvas = FigureCanvasAgg(self.figure)
        self._image = None              # made when first asked for: a plot inside a PlotRow needs none
        self.moving_artists = []
        self.rarely_moving_artists = []
        self.base = None                # the picture without any moving artist, once drawn
        self.background = None          # the base with the rarely moving artists drawn on it

    @property
    def image(self):
        """The ``ipywidgets.Image`` that shows this plot (made on first use)."""
        if self._image is None:
            width, _ = self.canvas.get_width_height()
            self._image = picture_widget(width)
        return self._image

    def moving(self, artists):
        """Mark an artist (or a list of them, as ``ax.plot`` returns) as redrawn on every event.

        Returns its argument, so ``line, = plot.moving(ax.plot(...))`` reads naturally.
        """
        return self._keep_out_of_background(artists, self.moving_artists)

    def rarely_moving(self, artists):
        """Mark an artist that only some events change (an axis whose limits one slider sets).

        It is kept out of the background, like a moving artist, but drawn only
        when ``redraw(rare_change=True)``, into a copy of the background that the
        following events reuse. Drawing an axis costs 5–15 ms (ticks, labels,
        grid lines): far less than ``redraw(everything=True)``, and nothing on the
        events that leave it alone.
        """
        return self._keep_out_of_background(artists, self.rarely_moving_artists)

    @staticmethod
    def _keep_out_of_background(artists, into):
        """Mark ``artists`` (one, or a list) as animated: ``canvas.draw()`` then leaves them out.
        Append them to the list ``into``, whose artists ``render`` draws itself; return ``artists``."""
        for artist in artists if isinstance(artists, (list, tuple)) else [artists]:
            artist.set_animated(True)
            into.append(artist)
        return artists

    def fix_layout(self):
        """Lay the figure out now, with the texts it has, and keep that layout from then on.

        Call it before the first update, with placeholder texts as long as the
        longest message (``"\\n"`` reserves two lines for a title): then a long
        message never pushes the axes around or runs off the picture. Call it
        again (then ``redraw(everything=True)``) after changing labels or ticks.
        """
        if self.layout is None:
            return
        self.figure.set_layout_engine(self.layout)
        self.figure.get_layout_engine().execute(self.figure)
        self.figure.set_layout_engine("none")

    def render(self, everything=False, rare_change=False):
        """Draw the figure into the canvas, without sending it (``redraw`` draws and sends).

        1. The base (everything not marked as moving) is drawn the first time,
           and again when ``everything`` is True.
        2. The rarely moving artists are drawn on a copy of the base then, and
           when ``rare_change`` is True: that is the background.
        3. The moving artists are drawn on a copy of the background.
        """
        with unhinted_text():
            if everything or self.base is None:
                self.canvas.draw()                               # everything not marked as moving
                self.base = self.canvas.copy_from_bbox(self.figure.bbox)
                rare_change = True
            if rare_change and self.rarely_moving_artists:
                self.canvas.restore_region(self.base)
                for artist in self.rarely_moving_artists:
                    self.figure.draw_artist(artist)
                self.background = self.canvas.copy_from_bbox(self.figure.bbox)
            elif rare_change:
                self.background = self.base
            self.canvas.restore_region(self.background)
            for artist in self.moving_artists:
                if artist.get_visible():
                    self.figure.draw_artist(artist)

    def pixels(self):
        """The canvas as an array of shape (height, width, 4): red, green, blue, alpha, uint8."""
        return np.asarray(self.canvas.buffer_rgba())

    def redraw(self, everything=False, rare_change=False):
        """Render the figure (``render``) and send it to ``self.image`` as a PNG."""
        self.render(everything, rare_change)
        self.image.value = png(self.pixels())


class PlotRow:
    """``LivePlot``s of the same height, shown side by side as one picture (``self.image``).

    Each picture sent is a message to the page and an image for it to decode:
    in the browser, a slider that sent five small pictures (and computed
    nothing) took 41 ms (p50) from key press to picture, and one picture of the
    same five side by side 27 ms. ``redraw(plots)`` renders only the plots
    given (each as ``LivePlot.render`` does) and sends the whole row once; the
    others keep the picture they had.
    """

    def __init__(self, plots):
        self.plots = list(plots)
        sizes = [plot.canvas.get_width_height() for plot in self.plots]      # (width, height) each
        heights = {height for _, height in sizes}
        if len(heights) != 1:
            raise ValueError(f"the plots of a PlotRow need the same height in pixels, got {sorted(heights)}: "
                             "give them the same figsize height and dpi")
        self.image = picture_widget(sum(width for width, _ in sizes))

    def fix_layout(self):
        """``LivePlot.fix_layout`` for every plot of the row."""
        for plot in self.plots:
            plot.fix_layout()

    def redraw(self, plots=None, everything=False):
        """Render ``plots`` (default: all of them), then send the whole row as one PNG.

        A plot of the row that was never drawn is drawn too, whether given or not.
        """
        for plot in self.plots:
            if plots is None or plot in plots or plot.base is None:
                plot.render(everything)
        self.image.value = png(np.hstack([plot.pixels() for plot in self.plots]))


def picture_widget(width):
    """An ``ipywidgets.Image`` for a PNG ``width`` pixels wide: shown at its size in pixels,
    shrunk to the notebook's width when that is narrower."""
    return widgets.Image(format="png", layout=widgets.Layout(width=f"{width}px", height="auto", max_width="100%"))


def png(pixels):
    """PNG bytes of ``pixels`` (height, width, 4) uint8, without the alpha channel (the figures
    are opaque) and with zlib's fastest level: the picture is sent once, not stored, so speed
    beats size."""
    buffer = io.BytesIO()
    Image.fromarray(pixels[:, :, :3]).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def explorer(update, plot, **controls):
    """Controls, then ``plot``, then an output area: ``update(**values)`` runs when a control changes.

    ``controls`` are ipywidgets controls by keyword; ``update`` receives their
    values under the same names, moves the plot's artists and calls
    ``plot.redraw()``. As with ``ipywidgets.interactive``, ``widget.result`` is
    what the last call returned and ``widget.kwargs_widgets`` the controls; it
    runs once when built. Unlike ``interactive``, a call is not captured into an
    ``Output`` widget (that costs three extra messages per event): ``update``
    prints nothing (messages belong in the picture), and if it raises, the
    traceback is shown in ``widget.out``, under the plot.
    """
    plot.fix_layout()                      # before the first update: room for the placeholder texts
    out = widgets.Output()
    widget = widgets.VBox([*controls.values(), plot.image, out])
    widget.kwargs_widgets = list(controls.values())
    widget.out, widget.plot, widget.result = out, plot, None

    def call_update(change=None):
        values = {name: control.value for name, control in controls.items()}
        try:
            widget.result = update(**values)
        except Exception:
            out.clear_output()
            with out:                      # in Jupyter, Output shows the traceback and stops it here
                raise
        else:
            if out.outputs:                # a traceback from an earlier setting is gone now
                out.clear_output()

    for control in controls.values():
        control.observe(call_update, "value")
    call_update()
    return widget
