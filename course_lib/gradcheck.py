"""Checking gradients with finite differences.

A backward pass is easy to get subtly wrong; a finite difference is slow but
hard to get wrong. Comparing the two is how every gradient in course_lib is
tested::

    df/dx_i  ~  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)     (central difference)

The error of a central difference is about eps² (f''' / 6) plus rounding
error of about (machine epsilon * |f|) / eps: with float64 and eps = 1e-6
both are around 1e-10 relative, which is why checks run in float64 (in
float32 the rounding error alone would be about 1e-1).
"""

import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """The central-difference gradient of a scalar function at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a number.
    x : float64 ndarray of any shape, or a number / list
        The point. An ndarray is changed *in place* while ``f`` runs and
        restored exactly before returning, so ``f`` may also ignore its
        argument and read the array from elsewhere (e.g.
        ``numerical_gradient(lambda _: loss_of_model(), layer.weight.data)``).
        A number or list is first turned into a new float64 array.
    eps : float
        The step.

    Returns
    -------
    float64 ndarray of x's shape (a float when x is a number): entry i is
    ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``.
    """
    if not isinstance(x, np.ndarray):
        gradient = numerical_gradient(f, np.array(x, dtype=np.float64), eps)
        return float(gradient) if gradient.ndim == 0 else gradient
    if x.dtype != np.float64:
        raise TypeError(f"numerical_gradient needs float64 values (finite differences in "
                        f"{x.dtype} lose most of their digits); pass x.astype(np.float64) "
                        f"(and, for a layer, build it with dtype=np.float64).")
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:
            x[index] = original + eps
            f_plus = float(f(x))
            x[index] = original - eps
            f_minus = float(f(x))
        finally:
            x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a, b, tiny=1e-12):
    """How far apart two arrays are, relative to their size::

        max_i |a_i - b_i|  /  max(max_i (|a_i| + |b_i|), tiny)

    One number for the whole array: 0 when equal, 1 when, e.g., b = -a.
    Dividing by the *largest* magnitude (not entry by entry) means that
    entries which are tiny in both arrays (say 1e-13 vs 3e-13) do not
    make the error look large. ``tiny`` avoids 0 / 0 when both are zero.
    Below 1e-6 means "agree" for float64 gradient checks. An inf or NaN in
    either array gives nan or inf, without a warning.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        from .errors import ShapeError
        raise ShapeError(f"relative_error: a has shape {a.shape} but b has shape {b.shape}; "
                         f"compare arrays of the same shape.")
    if a.size == 0:
        return 0.0
    with np.errstate(invalid="ignore", over="ignore"):      # inf - inf is nan: say so quietly
        return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), tiny))


def check_layer_gradients(layer, x, seed=0, eps=1e-6):
    """Compare a layer's backward pass with finite differences.

    Uses the scalar L = sum(layer(x) * G) for a fixed random G, whose
    gradient with respect to the output is exactly G. The layer should hold
    float64 parameters and ``x`` should be float64. The layer must be
    deterministic (put Dropout in eval mode, or check it separately).

    Returns a dict ``{"input": error, "weight": error, ...}`` of
    ``relative_error`` values (the input entry is left out when the layer
    returns None from backward).
    """
    x = np.array(x, dtype=np.float64)           # our own copy, perturbed in place
    output = layer.forward(x)
    G = np.random.default_rng(seed).normal(size=output.shape)

    layer.zero_grad()
    layer.forward(x)
    grad_input = layer.backward(G)

    def loss(_):
        return np.sum(layer.forward(x) * G)

    errors = {}
    if grad_input is not None:
        errors["input"] = relative_error(grad_input, numerical_gradient(loss, x, eps))
    for name, p in layer.named_parameters():
        errors[name] = relative_error(p.grad, numerical_gradient(loss, p.data, eps))
    return errors
