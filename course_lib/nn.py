"""Layers and models: the building blocks of a neural network.

Every layer is a ``Module``: ``forward(x)`` computes the output and remembers
what the backward pass will need; ``backward(grad_output)`` receives
dL/d(output), *adds* dL/d(parameter) into each parameter's ``.grad``, and
returns dL/d(input).

Shapes use ``N`` for the batch size. All layers keep the dtype they are
given (float32 for training networks, float64 for exact checks); ``Linear``
casts an input of another dtype to its own dtype once, at the door.

Two things are done only for speed; both are marked ``# Speed:`` where they
happen:

* ``needs_input_grad``: a layer whose ``needs_input_grad`` is False may skip
  computing dL/d(input) and return None from ``backward``. ``Sequential``
  uses it: nobody needs the gradient with respect to the *data*, so the
  first trainable layer skips that matrix product. Set
  ``model.needs_input_grad = True`` on a Sequential when you do want
  dL/d(input) (e.g. for a saliency map).
* ``Parameter.grad_is_zero``: ``zero_grad()`` sets it; a layer that sees it
  may *write* its gradient straight into ``.grad`` (``np.matmul(..., out=)``)
  instead of computing a temporary and adding it, which gives the same
  numbers without one extra pass over the weights. Backward still
  accumulates: the second backward without ``zero_grad()`` adds.
"""

import numpy as np

from .errors import HyperparameterError, ShapeError, StateDictError


class Parameter:
    """A trainable array and the gradient of the loss with respect to it.

    Attributes
    ----------
    data : ndarray
        The values; its dtype is kept as given.
    grad : ndarray
        Same shape and dtype as ``data``; ``zero_grad()`` fills it with zeros
        (it is never None).
    grad_is_zero : bool
        True right after ``zero_grad()``, False once a backward pass has
        written into ``grad``. Anything that zeroes ``grad`` some other way
        (e.g. an optimizer that zeroes one flat buffer) may set it to True;
        leaving it False is always safe, only slower.
    """

    def __init__(self, data):
        self.data = np.asarray(data)
        self.grad = np.zeros_like(self.data)
        self.grad_is_zero = True

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    def zero_grad(self):
        self.grad.fill(0)
        self.grad_is_zero = True

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of every layer and model.

    Subclasses implement ``forward(x)`` and ``backward(grad_output)``.
    Parameters and sub-modules stored as attributes are found automatically:
    a ``Parameter`` in ``self.weight`` is named ``"weight"``; one inside the
    sub-module ``self.encoder`` is named ``"encoder.weight"``.
    """

    training = True            # train() / eval() switch it (Dropout reads it)
    needs_input_grad = True    # False: backward may skip dL/d(input) and return None

    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError

    def __call__(self, x):
        __tracebackhide__ = True  # IPython hides this frame in error tracebacks
        return self.forward(x)

    # -- finding parameters ------------------------------------------------
    def named_children(self):
        """Yield ``(name, sub-module)`` pairs of the direct sub-modules."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def named_parameters(self, prefix=""):
        """Yield ``(name, Parameter)`` pairs, e.g. ``("0.weight", p)`` in a Sequential."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child.named_parameters(prefix + name + ".")

    def parameters(self):
        """The list of every ``Parameter`` of this module and its sub-modules."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()

    # -- train / eval ------------------------------------------------------
    def train(self, mode=True):
        """Switch this module and every sub-module to training mode; returns self."""
        self.training = bool(mode)
        for _, child in self.named_children():
            child.train(mode)
        return self

    def eval(self):
        """Switch to evaluation mode (Dropout becomes the identity); returns self."""
        return self.train(False)

    # -- saving and loading ------------------------------------------------
    def state_dict(self):
        """A dict ``name -> copy of the parameter's values``, e.g. ``{"0.weight": array}``."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state):
        """Copy the arrays of ``state`` (as made by ``state_dict()``) into the parameters.

        Names and shapes must match exactly; nothing is changed unless all do.
        Values are copied *in place* (``p.data[...] = value``), so anything
        that holds a view of ``p.data`` (e.g. an optimizer's flat buffer)
        sees the new values.
        """
        __tracebackhide__ = True
        self.check_state_dict(state)
        for name, p in self.named_parameters():
            p.data[...] = state[name]

    def check_state_dict(self, state, source="the state dict"):
        """Raise a clear error unless ``state`` has exactly this model's names and shapes.

        ``StateDictError`` names the missing and unexpected entries; ``ShapeError``
        names each entry whose saved shape differs from the model's. ``source``
        (e.g. a file name) says where the state came from in the message.
        """
        __tracebackhide__ = True
        params = dict(self.named_parameters())
        missing = [name for name in params if name not in state]
        unexpected = [name for name in state if name not in params]
        advice = ". Build the model exactly as when it was saved."
        if missing or unexpected:
            problems = []
            if missing:
                problems.append(f"missing from it: {missing}")
            if unexpected:
                problems.append(f"not in this model: {unexpected}")
            raise StateDictError(f"{source} does not fit this {type(self).__name__}: "
                                 + "; ".join(problems) + advice)
        wrong = [f"{name!r}: saved {np.shape(state[name])}, model {p.shape}"
                 for name, p in params.items() if np.shape(state[name]) != p.shape]
        if wrong:
            raise ShapeError(f"{source} does not fit this {type(self).__name__}, shapes differ: "
                             + "; ".join(wrong) + advice)


def _check_grad_shape(layer, grad_output, expected_shape):
    """Raise ShapeError unless ``grad_output`` has the shape of the layer's last output."""
    __tracebackhide__ = True
    if expected_shape is None:
        raise RuntimeError(f"{layer!r}.backward was called before forward; call forward first.")
    if grad_output.shape != expected_shape:
        raise ShapeError(
            f"{layer!r}.backward expects a gradient of shape {expected_shape} (the shape of its "
            f"last output) but got {grad_output.shape}; pass dL/d(output) of the last forward call.")


# ===========================================================================
# Layers with parameters
# ===========================================================================

class Linear(Module):
    """A fully connected layer: ``y = x @ W + b``.

    Shapes: ``x`` (N, in_features) -> ``y`` (N, out_features);
    ``weight`` W (in_features, out_features), ``bias`` b (out_features,).

    Initialisation, the same rule as PyTorch's ``nn.Linear`` (its
    ``kaiming_uniform_`` with a = sqrt(5) works out to this bound): every
    entry of W and b is drawn from U(-1/sqrt(in_features), 1/sqrt(in_features))
    by ``np.random.default_rng(seed)``; the same seed gives the same numbers.
    (The draws differ from PyTorch's: another random generator.)

    Backward, for dL/dy = G of shape (N, out_features)::

        dL/dW = x.T @ G        (in_features, out_features)
        dL/db = G.sum(axis=0)  (out_features,)
        dL/dx = G @ W.T        (N, in_features)   skipped if needs_input_grad is False
    """

    def __init__(self, in_features, out_features, seed=None, dtype=np.float32):
        __tracebackhide__ = True
        _check_positive_int("Linear", "in_features", in_features)
        _check_positive_int("Linear", "out_features", out_features)
        self.dtype = np.dtype(dtype)
        if not np.issubdtype(self.dtype, np.floating):
            raise HyperparameterError(f"Linear: dtype must be a float type such as "
                                      f"np.float32 or np.float64, got {self.dtype}.")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(in_features)
        self.weight = Parameter(
            rng.uniform(-bound, bound, size=(in_features, out_features)).astype(self.dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, size=out_features).astype(self.dtype))
        self._input = None

    def forward(self, x):
        __tracebackhide__ = True
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ShapeError(self._input_shape_message(x.shape))
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)  # one cast at the door, e.g. uint8 pixels or float64 data
        self._input = x
        y = x @ self.weight.data
        y += self.bias.data  # in place: no second (N, out_features) array
        return y

    def backward(self, grad_output):
        __tracebackhide__ = True
        grad_output = np.asarray(grad_output, dtype=self.dtype)
        x = self._input
        _check_grad_shape(self, grad_output, None if x is None else (x.shape[0], self.out_features))
        weight, bias = self.weight, self.bias
        if weight.grad_is_zero:
            # Speed: .grad holds zeros, so "add" = "write": multiply straight into it.
            np.matmul(x.T, grad_output, out=weight.grad)
        else:
            weight.grad += x.T @ grad_output
        if bias.grad_is_zero:
            np.sum(grad_output, axis=0, out=bias.grad)
        else:
            bias.grad += grad_output.sum(axis=0)
        weight.grad_is_zero = bias.grad_is_zero = False
        if not self.needs_input_grad:
            return None  # Speed: nobody needs dL/dx (x is the data); skip a matmul
        return grad_output @ weight.data.T

    def _input_shape_message(self, shape):
        expected = f"{self!r} expects inputs of shape (batch, {self.in_features}) but got {shape}"
        if len(shape) > 2 and int(np.prod(shape[1:])) == self.in_features:
            return expected + "; flatten the images first with nn.Flatten()."
        if len(shape) == 1 and shape[0] == self.in_features:
            return expected + "; add a batch axis, e.g. x.reshape(1, -1)."
        if len(shape) == 2:
            return (expected + f"; the input width ({shape[1]}) must equal in_features "
                    f"({self.in_features}): check the previous layer's out_features.")
        return expected + "."

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features})"


def _check_positive_int(owner, name, value):
    __tracebackhide__ = True
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise HyperparameterError(f"{owner}: {name} must be a positive integer (1, 2, ...), "
                                  f"got {value!r}.")


# ===========================================================================
# Activations (no parameters)
# ===========================================================================

class ReLU(Module):
    """``y = max(x, 0)`` elementwise; dL/dx = dL/dy where x > 0, else 0.

    Any shape in, the same shape out. At x = 0 the gradient is taken as 0.
    """

    def __init__(self):
        self._positive = None

    def forward(self, x):
        x = np.asarray(x)
        self._positive = x > 0          # remembered for backward
        return np.maximum(x, 0)

    def backward(self, grad_output):
        __tracebackhide__ = True
        grad_output = np.asarray(grad_output)
        _check_grad_shape(self, grad_output, None if self._positive is None else self._positive.shape)
        return grad_output * self._positive  # one masked multiply (True = 1, False = 0)

    def __repr__(self):
        return "ReLU()"


class Sigmoid(Module):
    """``y = 1 / (1 + exp(-x))`` elementwise; dL/dx = dL/dy * y * (1 - y).

    Computed as ``0.5 * (1 + tanh(x / 2))``, the same function, which never
    overflows for large negative x.
    """

    def __init__(self):
        self._output = None

    def forward(self, x):
        x = np.asarray(x)
        self._output = 0.5 * (1 + np.tanh(0.5 * x))
        return self._output

    def backward(self, grad_output):
        __tracebackhide__ = True
        grad_output = np.asarray(grad_output)
        y = self._output
        _check_grad_shape(self, grad_output, None if y is None else y.shape)
        return grad_output * y * (1 - y)

    def __repr__(self):
        return "Sigmoid()"


class Tanh(Module):
    """``y = tanh(x)`` elementwise; dL/dx = dL/dy * (1 - y²)."""

    def __init__(self):
        self._output = None

    def forward(self, x):
        self._output = np.tanh(np.asarray(x))
        return self._output

    def backward(self, grad_output):
        __tracebackhide__ = True
        grad_output = np.asarray(grad_output)
        y = self._output
        _check_grad_shape(self, grad_output, None if y is None else y.shape)
        return grad_output * (1 - y * y)

    def __repr__(self):
        return "Tanh()"


class Softmax(Module):
    """Softmax along the last axis: ``y_i = exp(x_i) / sum_j exp(x_j)``.

    Shapes: (..., C) -> (..., C); each row of the output sums to 1.
    The row maximum is subtracted first (the result is the same, and exp
    cannot overflow).

    Backward is the Jacobian-vector product, without building the C x C
    Jacobian dy_i/dx_j = y_i (delta_ij - y_j)::

        dL/dx = y * (g - sum(g * y, axis=-1))      with g = dL/dy

    For classification, prefer ``losses.cross_entropy`` on the logits: it is
    more accurate and faster than Softmax followed by a cross-entropy.
    """

    def __init__(self):
        self._output = None

    def forward(self, x):
        x = np.asarray(x)
        exp = np.exp(x - x.max(axis=-1, keepdims=True))
        exp /= exp.sum(axis=-1, keepdims=True)
        self._output = exp
        return exp

    def backward(self, grad_output):
        __tracebackhide__ = True
        grad_output = np.asarray(grad_output)
        y = self._output
        _check_grad_shape(self, grad_output, None if y is None else y.shape)
        return y * (grad_output - np.sum(grad_output * y, axis=-1, keepdims=True))

    def __repr__(self):
        return "Softmax()"


# ===========================================================================
# Reshaping and regularisation
# ===========================================================================

class Flatten(Module):
    """Keep the batch axis, flatten the rest: (N, d1, d2, ...) -> (N, d1 * d2 * ...).

    E.g. a batch of images (64, 28, 28) -> (64, 784). Backward reshapes the
    gradient back to the input's shape. No copy is made when the input is
    contiguous.
    """

    def __init__(self):
        self._input_shape = None

    def forward(self, x):
        x = np.asarray(x)
        self._input_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_output):
        __tracebackhide__ = True
        grad_output = np.asarray(grad_output)
        shape = self._input_shape
        expected = None if shape is None else (shape[0], int(np.prod(shape[1:])))
        _check_grad_shape(self, grad_output, expected)
        return grad_output.reshape(shape)

    def __repr__(self):
        return "Flatten()"


class Dropout(Module):
    """Inverted dropout: in training, zero each input with probability ``p``
    and scale the survivors by ``1 / (1 - p)``, so the expected output equals
    the input. In evaluation mode (``model.eval()``) it is the identity.

    ``y = x * mask`` with ``mask = (u >= p) / (1 - p)``, u ~ U(0, 1) drawn by
    ``np.random.default_rng(seed)`` (a new mask every forward call);
    ``dL/dx = dL/dy * mask``. Any shape in, the same shape out.
    """

    def __init__(self, p=0.5, seed=None):
        __tracebackhide__ = True
        if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p < 1:
            raise HyperparameterError(f"Dropout: p (the probability of zeroing an input) must "
                                      f"be in [0, 1), got {p!r}.")
        self.p = float(p)
        self.rng = np.random.default_rng(seed)
        self._mask = None

    def forward(self, x):
        x = np.asarray(x)
        if not self.training or self.p == 0:
            self._mask = None           # identity: backward passes the gradient through
            return x
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        keep = self.rng.random(x.shape, dtype=dtype) >= self.p
        self._mask = keep * dtype.type(1 / (1 - self.p))   # 0 or 1/(1-p), in x's dtype
        return x * self._mask

    def backward(self, grad_output):
        __tracebackhide__ = True
        grad_output = np.asarray(grad_output)
        if self._mask is None:
            return grad_output
        _check_grad_shape(self, grad_output, self._mask.shape)
        return grad_output * self._mask

    def __repr__(self):
        return f"Dropout(p={self.p})"


# ===========================================================================
# Containers
# ===========================================================================

class Sequential(Module):
    """Layers applied one after the other: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 1))``.

    ``model[0]``, ``len(model)`` and ``for layer in model`` work as for a
    list. Parameters are named by position: ``"0.weight"``, ``"0.bias"``,
    ``"2.weight"``, ...

    ``backward(grad_output)`` runs the layers' backward in reverse order and
    returns dL/d(input) -- or None when ``needs_input_grad`` is False, which
    is the default: the input is normally the data, so (for speed) the layers
    in front of the first trainable layer are not run backward, and that
    layer skips its input gradient. Set ``model.needs_input_grad = True`` to
    get dL/d(input).

    Keras-style training (``compile``, ``fit``, ``evaluate``, ``predict``) is
    delegated to ``course_lib.training``, which runs the same explicit loop
    the lessons teach.
    """

    def __init__(self, *layers):
        __tracebackhide__ = True
        self.layers = []
        self.needs_input_grad = False
        for layer in layers:
            self.add(layer)

    def add(self, layer):
        """Append a layer at the end (as Keras' ``model.add``)."""
        __tracebackhide__ = True
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential: layer {len(self.layers)} is {layer!r}, which is not a "
                            f"Module; did you forget the parentheses, e.g. nn.ReLU()?")
        self.layers.append(layer)

    def named_children(self):
        for index, layer in enumerate(self.layers):
            yield str(index), layer

    def forward(self, x):
        __tracebackhide__ = True
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_output):
        __tracebackhide__ = True
        # Speed: without needs_input_grad, stop at the first layer with parameters.
        first = 0 if self.needs_input_grad else self._first_trainable_index()
        grad = grad_output
        for index in range(len(self.layers) - 1, first - 1, -1):
            layer = self.layers[index]
            layer.needs_input_grad = index > first or self.needs_input_grad
            grad = layer.backward(grad)
        return grad if self.needs_input_grad else None

    def _first_trainable_index(self):
        for index, layer in enumerate(self.layers):
            if layer.parameters():
                return index
        return len(self.layers)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        lines = [f"  ({index}): {layer!r}" for index, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"

    def summary(self):
        """A table of the layers, their output widths and parameter counts (as a string)."""
        rows = [f"{'layer':<24}{'parameters':>12}"]
        total = 0
        for index, layer in enumerate(self.layers):
            count = sum(p.size for p in layer.parameters())
            total += count
            rows.append(f"{f'({index}) {layer!r}':<24}{count:>12,}")
        rows.append(f"{'total':<24}{total:>12,}")
        return "\n".join(rows)

    # -- Keras-style training, delegated to course_lib.training -------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        from . import training
        training.compile(self, optimizer=optimizer, loss=loss, metrics=metrics)

    def fit(self, X, y, **options):
        from . import training
        return training.fit(self, X, y, **options)

    def evaluate(self, X, y, **options):
        from . import training
        return training.evaluate_model(self, X, y, **options)

    def predict(self, X, batch_size=32):
        from . import training
        return training.predict(self, X, batch_size=batch_size)
