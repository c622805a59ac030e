"""Layers and models: the building blocks of a neural network.

Every layer is a ``Module``: ``forward(x)`` computes the output and remembers
what backward needs; ``backward(grad_output)`` receives dL/d(output), *adds*
dL/d(parameter) into each parameter's ``.grad`` and returns dL/d(input).
Each layer's backward sits right below its forward. Two rules, no exceptions:

* ``backward`` always *accumulates* (``p.grad += ...``): two backward calls
  without ``zero_grad()`` add up, and what you put into ``p.grad`` is kept.
* ``backward`` always returns dL/d(input) unless the call says
  ``need_input_grad=False`` (``Linear`` then skips a matrix product, and
  ``Sequential`` skips the layers in front of its first ``Linear``; the
  training loop asks for that, since its input is the data).

``N`` is the batch size. Layers keep their dtype (float32 for training,
float64 for exact checks); ``Linear`` casts its input to its dtype.
"""

import numpy as np

from . import checks
from .errors import ShapeError, UsageError


class Parameter:
    """A trainable array ``data`` and ``grad``, the gradient of the loss with respect to it.

    ``grad`` has the shape and dtype of ``data``; it is never None:
    ``zero_grad()`` fills it with zeros and ``backward`` adds into it.
    """

    def __init__(self, data):
        self.data = np.asarray(data)
        self.grad = np.zeros_like(self.data)

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

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of every layer and model: subclasses write ``forward`` and ``backward``.

    Parameters and sub-modules kept as attributes are found automatically:
    ``self.weight`` is named ``"weight"``, ``self.encoder.weight`` ``"encoder.weight"``.
    """

    training = True            # train() / eval() switch it (Dropout reads it)

    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def __repr__(self):
        return f"{type(self).__name__}()"

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
        self.training = checks.flag("mode", mode)
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
        self.check_state_dict(state)
        for name, p in self.named_parameters():
            p.data[...] = state[name]

    def check_state_dict(self, state, source="the state dict"):
        """Raise a clear error unless ``state`` has exactly this model's names and shapes."""
        checks.state_dict_fits(self, state, source)


# --- Layers with parameters ------------------------------------------------

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
        dL/dx = G @ W.T        (N, in_features)   not computed if need_input_grad=False
    """

    def __init__(self, in_features, out_features, seed=None, dtype=np.float32):
        checks.positive_int("Linear", "in_features", in_features)
        checks.positive_int("Linear", "out_features", out_features)
        self.dtype = checks.float_dtype("Linear", dtype)
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(in_features)
        self.weight = Parameter(
            rng.uniform(-bound, bound, size=(in_features, out_features)).astype(self.dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, size=out_features).astype(self.dtype))
        self._input = None

    def forward(self, x):
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ShapeError(checks.linear_input_message(self, x.shape, self.in_features))
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)  # one cast at the door, e.g. uint8 pixels or float64 data
        self._input = x
        y = x @ self.weight.data
        y += self.bias.data  # in place: no second (N, out_features) array
        return y

    def backward(self, grad_output, need_input_grad=True):
        grad_output = np.asarray(grad_output, dtype=self.dtype)
        x = self._input
        checks.grad_shape(self, grad_output, None if x is None else (x.shape[0], self.out_features))
        self.weight.grad += x.T @ grad_output           # dL/dW = xᵀ G
        self.bias.grad += grad_output.sum(axis=0)       # dL/db = G summed over the batch
        if not need_input_grad:
            return None                                 # asked to skip it: one matmul saved
        return grad_output @ self.weight.data.T         # dL/dx = G Wᵀ

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features})"


# --- Activations (no parameters) -------------------------------------------

def sigmoid(x):
    """``1 / (1 + exp(-x))`` elementwise, computed as ``0.5 (1 + tanh(x / 2))``: the same
    function, without overflow for large negative x."""
    return 0.5 * (1 + np.tanh(0.5 * x))


def softmax(logits):
    """``exp(z_i) / sum_j exp(z_j)`` along the last axis; each row sums to 1.

    The row maximum m is subtracted first: exp(z_i - m) / sum_j exp(z_j - m) is the
    same value, and exp cannot overflow (exp(1000) would be inf).
    """
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def log_softmax(logits):
    """``log(softmax(z))`` along the last axis, computed stably::

        log softmax(z)_i = (z_i - m) - log(sum_j exp(z_j - m))     with m = max_j z_j
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


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
        grad_output = np.asarray(grad_output)
        checks.grad_shape(self, grad_output, None if self._positive is None else self._positive.shape)
        return grad_output * self._positive  # one masked multiply (True = 1, False = 0)


class Sigmoid(Module):
    """``y = 1 / (1 + exp(-x))`` elementwise; dL/dx = dL/dy * y * (1 - y).

    Computed by ``sigmoid`` above (no overflow for large negative x).
    """

    def __init__(self):
        self._output = None

    def forward(self, x):
        self._output = sigmoid(np.asarray(x))
        return self._output

    def backward(self, grad_output):
        grad_output = np.asarray(grad_output)
        y = self._output
        checks.grad_shape(self, grad_output, None if y is None else y.shape)
        return grad_output * y * (1 - y)


class Tanh(Module):
    """``y = tanh(x)`` elementwise; dL/dx = dL/dy * (1 - y²)."""

    def __init__(self):
        self._output = None

    def forward(self, x):
        self._output = np.tanh(np.asarray(x))
        return self._output

    def backward(self, grad_output):
        grad_output = np.asarray(grad_output)
        y = self._output
        checks.grad_shape(self, grad_output, None if y is None else y.shape)
        return grad_output * (1 - y * y)


class Softmax(Module):
    """Softmax along the last axis (``softmax`` above); (..., C) -> (..., C), rows sum to 1.

    Backward, without building the C x C Jacobian dy_i/dx_j = y_i (δ_ij - y_j)::

        dL/dx = y * (g - sum(g * y, axis=-1))      with g = dL/dy

    To classify, prefer ``losses.cross_entropy`` on the logits (more accurate, faster).
    """

    def __init__(self):
        self._output = None

    def forward(self, x):
        self._output = softmax(np.asarray(x))
        return self._output

    def backward(self, grad_output):
        grad_output = np.asarray(grad_output)
        y = self._output
        checks.grad_shape(self, grad_output, None if y is None else y.shape)
        return y * (grad_output - np.sum(grad_output * y, axis=-1, keepdims=True))


# --- Reshaping and regularisation ------------------------------------------

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
        grad_output = np.asarray(grad_output)
        shape = self._input_shape
        expected = None if shape is None else (shape[0], int(np.prod(shape[1:])))
        checks.grad_shape(self, grad_output, expected)
        return grad_output.reshape(shape)


class Dropout(Module):
    """Inverted dropout: in training, zero each input with probability ``p``
    and scale the survivors by ``1 / (1 - p)``, so the expected output equals
    the input. In evaluation mode (``model.eval()``) it is the identity.

    ``y = x * mask`` with ``mask = (u >= p) / (1 - p)``, u ~ U(0, 1) drawn by
    ``np.random.default_rng(seed)`` (a new mask every forward call);
    ``dL/dx = dL/dy * mask``. Any shape in, the same shape out.
    """

    def __init__(self, p=0.5, seed=None):
        self.p = checks.in_unit_interval("Dropout: p (the probability of zeroing an input)", p)
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
        grad_output = np.asarray(grad_output)
        if self._mask is None:
            return grad_output
        checks.grad_shape(self, grad_output, self._mask.shape)
        return grad_output * self._mask

    def __repr__(self):
        return f"Dropout(p={self.p})"


# --- Containers ------------------------------------------------------------

class Sequential(Module):
    """Layers applied one after the other: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 1))``.

    ``model[0]``, ``len(model)``, ``for layer in model`` work as for a list;
    parameters are named by position (``"0.weight"``, ``"0.bias"``, ...).
    ``backward`` runs the layers' backward in reverse order (see the module
    docstring for ``need_input_grad``). ``compile``, ``fit``, ``evaluate`` and
    ``predict`` are ``course_lib.training``'s, which runs the lessons' loop.
    """

    def __init__(self, *layers):
        self.layers = []
        for layer in layers:
            self.add(layer)

    def add(self, layer):
        """Append a layer at the end (as Keras' ``model.add``)."""
        if not isinstance(layer, Module):
            raise UsageError(f"Sequential: layer {len(self.layers)} is {layer!r}, which is not a "
                            f"Module; did you forget the parentheses, e.g. nn.ReLU()?")
        self.layers.append(layer)

    def named_children(self):
        for index, layer in enumerate(self.layers):
            yield str(index), layer

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_output, need_input_grad=True):
        first = 0 if need_input_grad else self._first_trainable_index()
        grad = grad_output
        for index in range(len(self.layers) - 1, first - 1, -1):
            layer = self.layers[index]
            if index == first and not need_input_grad and isinstance(layer, (Linear, Sequential)):
                layer.backward(grad, need_input_grad=False)
                return None
            grad = layer.backward(grad)
        return grad if need_input_grad else None

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

    # -- Keras-style training: course_lib.training's functions (imported late: it imports nn)
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        from .training import compile
        compile(self, optimizer=optimizer, loss=loss, metrics=metrics)

    def fit(self, X, y, **options):
        from .training import fit
        return fit(self, X, y, **options)

    def evaluate(self, X, y, **options):
        from .training import evaluate_model
        return evaluate_model(self, X, y, **options)

    def predict(self, X, batch_size=32):
        from .training import predict
        return predict(self, X, batch_size=batch_size)
