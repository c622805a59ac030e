"""Layers and models: the building blocks of a neural network.

Every layer is a ``Module``: ``forward(x)`` computes the output and remembers
what the backward pass will need; ``backward(grad_output)`` receives
dL/d(output), *adds* dL/d(parameter) into each parameter's ``.grad``, and
returns dL/d(input).
"""

import numpy as np


class Parameter:
    """A trainable array and the gradient of the loss with respect to it.

    Attributes
    ----------
    data : ndarray
        The values; its dtype is kept as given.
    grad : ndarray
        Same shape and dtype as ``data``; ``zero_grad()`` fills it with zeros
        (it is never None).
    """

    def __init__(self, data):
        self.data = np.asarray(data)
        self.grad = np.zeros_like(self.data)

    @property
    def shape(self):
        return self.data.shape

    def zero_grad(self):
        self.grad.fill(0)

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of every layer and model.

    Subclasses implement ``forward(x)`` and ``backward(grad_output)``.
    """

    training = True

    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def named_parameters(self, prefix=""):
        """Yield ``(name, Parameter)`` pairs, e.g. ``("0.weight", p)`` in a Sequential."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
            elif isinstance(value, Module):
                yield from value.named_parameters(prefix + name + ".")

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()
