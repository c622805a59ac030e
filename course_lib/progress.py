"""The progress display of ``fit``: a bar in a notebook, a Keras-like line in a terminal.

``fit`` talks to a display through four calls::

    display = make_display(verbose, epochs, steps_per_epoch)
    display.start_epoch(epoch)              # epoch counts from 1
    display.batch_done(step, mean_loss)     # after every batch (cheap: see below)
    display.end_epoch(epoch, logs, seconds) # logs = {"loss": ..., "val_loss": ..., ...}
    display.close()

What is shown:

- ``verbose=0``: nothing.
- ``verbose=1`` in a Jupyter notebook: a progress bar (ipywidgets) with the
  epoch, the batch and the running loss, and one text line per finished epoch.
- ``verbose=1`` in a terminal: the same line, redrawn in place while the epoch
  runs (only if the output is a terminal), then kept::

      Epoch 3/10 - 1.2s - loss: 0.4123 - accuracy: 0.8510 - val_loss: 0.4410 - val_accuracy: 0.8402

- ``verbose=2``: only the line per finished epoch.

Cost: ``batch_done`` only compares the clock with the last redraw and
returns; the display is redrawn at most 10 times a second.
"""

import sys
import time

REDRAW_INTERVAL = 0.1   # seconds between two redraws of the live display


def format_number(value):
    """4 decimals (``0.4123``), or scientific notation for very large or small values (``9.6155e+98``)."""
    if value != 0 and not 1e-3 <= abs(value) < 1e5:
        return f"{value:.4e}"
    return f"{value:.4f}"


def format_logs(logs):
    """``{"loss": 0.41234, "accuracy": 0.851}`` -> ``"loss: 0.4123 - accuracy: 0.8510"``."""
    return " - ".join(f"{name}: {format_number(value)}" for name, value in logs.items())


def epoch_line(epoch, epochs, seconds, logs):
    """The line printed when an epoch ends, e.g. ``Epoch 3/10 - 1.2s - loss: 0.4123``."""
    parts = [f"Epoch {epoch}/{epochs}", f"{seconds:.1f}s"]
    if logs:
        parts.append(format_logs(logs))
    return " - ".join(parts)


def in_notebook():
    """True when running inside a Jupyter kernel (where widgets can be shown)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class SilentDisplay:
    """``verbose=0``: shows nothing."""

    def __init__(self, epochs=1, steps=0):
        self.epochs, self.steps = epochs, steps
        self.epoch = 0

    def start_epoch(self, epoch):
        self.epoch = epoch

    def batch_done(self, step, mean_loss):
        pass

    def end_epoch(self, epoch, logs, seconds):
        pass

    def close(self):
        pass


class TerminalDisplay(SilentDisplay):
    """A Keras-like text line per epoch; redrawn in place during the epoch on a terminal."""

    def __init__(self, epochs, steps, live=None, stream=None):
        super().__init__(epochs, steps)
        self.stream = stream or sys.stdout
        if live is None:
            live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.live = live
        self._last_redraw = 0.0

    def batch_done(self, step, mean_loss):
        if not self.live:
            return
        now = time.monotonic()
        if now - self._last_redraw < REDRAW_INTERVAL and step != self.steps:
            return
        self._last_redraw = now
        self.stream.write(f"\rEpoch {self.epoch}/{self.epochs} - {step}/{self.steps} - "
                          f"loss: {format_number(mean_loss)}")
        self.stream.flush()

    def end_epoch(self, epoch, logs, seconds):
        start = "\r\033[K" if self.live else ""     # erase the live line first
        self.stream.write(start + epoch_line(epoch, self.epochs, seconds, logs) + "\n")
        self.stream.flush()


class NotebookDisplay(SilentDisplay):
    """An ipywidgets progress bar for the running epoch, plus a printed line per epoch."""

    def __init__(self, epochs, steps):
        super().__init__(epochs, steps)
        import ipywidgets as widgets
        from IPython.display import display

        self.bar = widgets.IntProgress(value=0, min=0, max=max(steps, 1), description="")
        self.label = widgets.HTML(value="")
        self.box = widgets.HBox([self.bar, self.label])
        self._last_redraw = 0.0
        display(self.box)

    def start_epoch(self, epoch):
        self.epoch = epoch
        self.bar.value = 0
        self.bar.bar_style = ""
        self.label.value = f"Epoch {epoch}/{self.epochs}"

    def batch_done(self, step, mean_loss):
        now = time.monotonic()
        if now - self._last_redraw < REDRAW_INTERVAL and step != self.steps:
            return
        self._last_redraw = now
        self.bar.value = step
        self.label.value = (f"Epoch {self.epoch}/{self.epochs} &nbsp; batch {step}/{self.steps}"
                            f" &nbsp; loss: {format_number(mean_loss)}")

    def end_epoch(self, epoch, logs, seconds):
        self.bar.value = self.bar.max
        self.label.value = epoch_line(epoch, self.epochs, seconds, logs)
        print(epoch_line(epoch, self.epochs, seconds, logs))

    def close(self):
        if self.epoch and self.bar.value < self.bar.max:
            self.bar.bar_style = "danger"        # stopped early (e.g. the loss diverged)


def make_display(verbose, epochs, steps):
    """The display for ``verbose`` (0, 1 or 2) where the code runs (notebook or terminal)."""
    if verbose not in (0, 1, 2, True, False):
        from .errors import HyperparameterError
        raise HyperparameterError(f"Invalid verbose value: {verbose!r} (verbose must be 0 "
                                  "(silent), 1 (progress bar) or 2 (one line per epoch))")
    if not verbose:
        return SilentDisplay(epochs, steps)
    if verbose == 1 and in_notebook():
        try:
            return NotebookDisplay(epochs, steps)
        except ImportError:             # ipywidgets missing: fall back to text
            pass
    return TerminalDisplay(epochs, steps, live=None if verbose == 1 else False)
