"""Interactive demos for the lessons: pure functions that compute, thin widget builders that draw.

One module per lesson topic (``start_here``, ``loss_functions``,
``gradient_descent``, ``sgd``, ...). In each, the functions that compute take
plain numbers and arrays and return small result objects, so they can be
tested without a browser; the ``*_explorer()`` functions wire ipywidgets
controls to them (``live_plot.explorer``, which works like
``ipywidgets.interactive``: the last result is ``widget.result``) and only draw, into a ``LivePlot``: a
figure made once, whose moving parts alone are redrawn on each event.
"""
