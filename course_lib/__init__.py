"""course_lib: the small NumPy engine behind the Descent course.

Modules (each one is meant to be read):

The core, the algorithms as the lessons write them:

- ``nn``            layers and models: Parameter, Module, Linear, ReLU, ..., Sequential
- ``losses``        loss functions with their gradients (Keras names, ``loss(y_true, y_pred)``)
- ``optim``         SGD, Adagrad, RMSprop, Adam, AdamW (the torch.optim algorithms, in NumPy)
- ``training``      the train / evaluate loop, ``compile`` / ``fit``

Around it:

- ``checks``        input checks and the messages that name the fix (``errors``: their classes)
- ``metrics``       accuracy, MAE, MSE as numbers to watch
- ``callbacks``     ``EarlyStopping`` and ``History``
- ``schedules``     learning-rate schedules
- ``fast_optim``    optional: the optimizers as compiled loops (numba), same numbers, faster
- ``data``          the shipped datasets, scaling, splitting and ``DataLoader``
- ``gradcheck``     finite-difference gradients and relative error
- ``functions``     test functions for gradient descent (cubic, bowls, Rosenbrock, ...)
- ``serialization`` ``save`` / ``load`` of model and optimizer state (.npz, no pickle)
- ``exercises``     the exercise checkers used by the notebooks
- ``preflight``     the setup check a workshop participant runs first
"""

__version__ = "0.1.0"

# ``course_lib.save(path, state)`` / ``course_lib.load(path)``: the DESIGN's names, from serialization.
from .serialization import load, save  # noqa: E402

# In Jupyter, an error raised on purpose shows the learner's own lines and our message,
# not the lines inside course_lib that led to it (see errors.learner_frames).
from .errors import install_short_tracebacks  # noqa: E402

install_short_tracebacks()

__all__ = ["__version__", "save", "load"]
