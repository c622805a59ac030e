"""Test functions for the gradient-descent lessons.

Each function is a small object::

    f.value(x)        the function value
    f.gradient(x)     its gradient
    f.minima          the local minima, as a list of points (f.global_minimum: the lowest, or None)
    f.maxima          the local maxima
    f.x_range         a good plotting range (and f.y_range for 2-D functions)
    f.formula         the formula as text, for plot titles

1-D functions take x as a number or an array of any shape and work
elementwise. 2-D functions take a point p whose FIRST axis holds the two
coordinates: p = (x, y) with x and y numbers or arrays of the same shape, so
a whole meshgrid is evaluated at once::

    X, Y = np.meshgrid(np.linspace(-2, 2, 200), np.linspace(-1, 3, 200))
    Z = rosenbrock().value((X, Y))            # shape (200, 200)
    # or: X, Y, Z = rosenbrock().grid()

``gradient`` returns an array of shape (2, ...) for 2-D functions: the
derivative along x, then along y.
"""

import numpy as np

from .errors import HyperparameterError


class Function1D:
    """Shared helpers of the 1-D functions."""

    formula = ""
    x_range = (-2.0, 2.0)
    minima = ()
    maxima = ()
    global_minimum = None

    def __call__(self, x):
        return self.value(x)

    def curve(self, n=400):
        """``(x, f(x))`` on ``n`` points of ``x_range``, ready for ``plt.plot``."""
        x = np.linspace(*self.x_range, n)
        return x, self.value(x)

    def __repr__(self):
        return f"{type(self).__name__}: f(x) = {self.formula}"


class Function2D:
    """Shared helpers of the 2-D functions."""

    formula = ""
    x_range = (-2.0, 2.0)
    y_range = (-2.0, 2.0)
    minima = ()
    maxima = ()
    global_minimum = None

    def __call__(self, p):
        return self.value(p)

    def grid(self, n=200):
        """``(X, Y, Z)`` on an n x n meshgrid of the plotting ranges, ready for ``plt.contour``."""
        X, Y = np.meshgrid(np.linspace(*self.x_range, n), np.linspace(*self.y_range, n))
        return X, Y, self.value((X, Y))

    def __repr__(self):
        return f"{type(self).__name__}: f(x, y) = {self.formula}"


def _coordinates(p):
    """Split a point p = (x, y) (or an array of shape (2, ...)) into float arrays x and y."""
    p = np.asarray(p, dtype=np.float64)
    if p.shape[:1] != (2,):
        raise ValueError(f"a 2-D function needs a point (x, y): an array whose first axis has "
                         f"length 2, got shape {p.shape}.")
    return p[0], p[1]


# ===========================================================================
# 1-D
# ===========================================================================

class Cubic(Function1D):
    """f(x) = x³ − 2x² + 2,  f'(x) = 3x² − 4x = x (3x − 4).

    f' = 0 at x = 0 (a local maximum, f = 2) and x = 4/3 (a local minimum,
    f = 22/27 ≈ 0.815). There is NO global minimum: f(x) → −∞ as x → −∞,
    so gradient descent started left of 0 runs off to −∞.
    """

    formula = "x³ − 2x² + 2"
    x_range = (-1.0, 2.5)
    minima = (4 / 3,)
    maxima = (0.0,)
    global_minimum = None  # the function is unbounded below

    def value(self, x):
        x = np.asarray(x, dtype=np.float64)
        return x ** 3 - 2 * x ** 2 + 2

    def gradient(self, x):
        x = np.asarray(x, dtype=np.float64)
        return 3 * x ** 2 - 4 * x


class TiltedDoubleWell(Function1D):
    """f(x) = x⁴ − 4x² + x: two valleys of different depth.

    f'(x) = 4x³ − 8x + 1. Its three real roots are the critical points:
    a global minimum near x = −1.473, a local maximum near x = 0.126 and a
    local minimum near x = 1.347 (the shallower valley). Where gradient
    descent ends depends on where it starts.
    """

    formula = "x⁴ − 4x² + x"
    x_range = (-2.2, 2.2)

    def __init__(self):
        roots = np.sort(np.roots([4, 0, -8, 1]).real)   # f'(x) = 4x³ + 0x² − 8x + 1
        self.minima = (float(roots[0]), float(roots[2]))
        self.maxima = (float(roots[1]),)
        self.global_minimum = self.minima[0]

    def value(self, x):
        x = np.asarray(x, dtype=np.float64)
        return x ** 4 - 4 * x ** 2 + x

    def gradient(self, x):
        x = np.asarray(x, dtype=np.float64)
        return 4 * x ** 3 - 8 * x + 1


# ===========================================================================
# 2-D
# ===========================================================================

class QuadraticBowl(Function2D):
    """f(p) = ½ (p − c)ᵀ A (p − c),  ∇f(p) = A (p − c).

    A = R diag(1, κ) Rᵀ has eigenvalues 1 and κ = ``condition_number``
    (R rotates by ``angle`` radians), so the bowl is κ times steeper across
    its valley than along it. Minimum at the ``center`` c, value 0.
    Gradient descent converges only for lr < 2 / κ (``max_stable_lr``), and
    then it needs about κ steps per digit: this is what momentum fixes.
    """

    def __init__(self, condition_number=10.0, center=(0.0, 0.0), angle=0.0):
        if not np.isfinite(condition_number) or condition_number < 1:
            raise HyperparameterError(f"quadratic_bowl: condition_number must be >= 1 (the "
                                      f"ratio of the largest to the smallest curvature), got "
                                      f"{condition_number!r}.")
        self.condition_number = float(condition_number)
        self.center = np.array(center, dtype=np.float64)
        self.angle = float(angle)
        cos, sin = np.cos(angle), np.sin(angle)
        rotation = np.array([[cos, -sin], [sin, cos]])
        self.hessian = rotation @ np.diag([1.0, self.condition_number]) @ rotation.T  # A
        self.max_stable_lr = 2 / self.condition_number
        self.minima = (tuple(self.center),)
        self.global_minimum = tuple(self.center)
        self.x_range = (self.center[0] - 3, self.center[0] + 3)
        self.y_range = (self.center[1] - 3, self.center[1] + 3)
        self.formula = f"½ (p − c)ᵀ A (p − c), condition number {self.condition_number:g}"

    def _offset(self, p):
        x, y = _coordinates(p)
        return np.stack([x - self.center[0], y - self.center[1]])   # p − c, shape (2, ...)

    def gradient(self, p):
        offset = self._offset(p)
        return np.tensordot(self.hessian, offset, axes=1)             # A (p − c) at every point

    def value(self, p):
        offset = self._offset(p)
        return 0.5 * np.sum(offset * np.tensordot(self.hessian, offset, axes=1), axis=0)


class Rosenbrock(Function2D):
    """f(x, y) = (a − x)² + b (y − x²)²: a curved, flat-bottomed valley.

    ∂f/∂x = −2 (a − x) − 4 b x (y − x²),   ∂f/∂y = 2 b (y − x²).
    The only minimum is at (a, a²), value 0; finding the valley is easy,
    following it to the minimum is hard.
    """

    x_range = (-2.0, 2.0)
    y_range = (-1.0, 3.0)

    def __init__(self, a=1.0, b=100.0):
        if not b > 0:
            raise HyperparameterError(f"rosenbrock: b must be > 0, got {b!r}.")
        self.a = float(a)
        self.b = float(b)
        self.minima = ((self.a, self.a ** 2),)
        self.global_minimum = (self.a, self.a ** 2)
        self.formula = f"({self.a:g} − x)² + {self.b:g} (y − x²)²"

    def value(self, p):
        x, y = _coordinates(p)
        return (self.a - x) ** 2 + self.b * (y - x ** 2) ** 2

    def gradient(self, p):
        x, y = _coordinates(p)
        d_dx = -2 * (self.a - x) - 4 * self.b * x * (y - x ** 2)
        d_dy = 2 * self.b * (y - x ** 2)
        return np.stack([d_dx, d_dy])


class Himmelblau(Function2D):
    """f(x, y) = (x² + y − 11)² + (x + y² − 7)²: four minima of equal depth.

    ∂f/∂x = 4x (x² + y − 11) + 2 (x + y² − 7)
    ∂f/∂y = 2 (x² + y − 11) + 4y (x + y² − 7)

    The four minima (value 0) are (3, 2), (−2.8051, 3.1313),
    (−3.7793, −3.2832) and (3.5844, −1.8481) (given to full precision
    below); a local maximum sits at (−0.2708, −0.9230), value 181.62.
    Which minimum gradient descent reaches depends on the start.
    """

    formula = "(x² + y − 11)² + (x + y² − 7)²"
    x_range = (-5.0, 5.0)
    y_range = (-5.0, 5.0)
    minima = (
        (3.0, 2.0),
        (-2.805118086952745, 3.131312518250573),
        (-3.779310253377747, -3.2831859912861696),
        (3.5844283403304917, -1.8481265269644034),
    )
    maxima = ((-0.2708445906673476, -0.9230385564799815),)
    global_minimum = (3.0, 2.0)  # one of four, all with value 0

    def value(self, p):
        x, y = _coordinates(p)
        return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2

    def gradient(self, p):
        x, y = _coordinates(p)
        first = x ** 2 + y - 11
        second = x + y ** 2 - 7
        return np.stack([4 * x * first + 2 * second, 2 * first + 4 * y * second])


# Lower-case names, as the lessons call them: functions.rosenbrock(a=1, b=100)
cubic = Cubic
tilted_double_well = TiltedDoubleWell
quadratic_bowl = QuadraticBowl
rosenbrock = Rosenbrock
himmelblau = Himmelblau
