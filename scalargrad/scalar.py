"""The autograd engine: a `Scalar` node and the local-derivative rule of every op.

Every op computes its value on plain floats and records, on the new node, its
parents and the local derivatives d(out)/d(parent). ``backward()`` then needs
only one multiply-add per edge.

Each op's derivative is written once, as a *rule* beside the op. A rule takes
``M`` (a math namespace), the op's inputs, its output ``y`` and an op constant
``c`` (an exponent, a slope), and returns the local derivatives:
``rule(M, x, y, c) -> dx`` for one input, ``rule(M, a, b, y, c) -> (da, db)``
for two, ``rule(M, xs, y, c) -> [dx, ...]`` for n. With ``FloatMath`` the rule
runs on floats during the forward pass; with ``ScalarMath`` it runs on
Scalars, which is how ``backward(create_graph=True)`` records the backward
pass for higher-order derivatives. Rules use ``+ - *`` directly and ``M`` for
whatever could raise on floats (division, exp, log, ...).

Why the engine looks the way it does (measured with benchmarks/bench_engine.py):

* A node keeps up to two parents and their local derivatives in its own
  slots (``_a``/``_da``, ``_b``/``_db``); only n-ary nodes (sum, dot, ...)
  hold a tuple of parents and a list of derivatives. One object per node
  instead of three roughly halves what the cyclic garbage collector walks
  while a graph is built, and saves memory.
* ``__slots__`` and no per-node names keep a node small and cheap to create.
* A node stores its rule (a plain function), never a closure over itself, so a
  graph holds no reference cycles: dropping the last reference to the output
  frees the whole graph at once.
* The topological sort is iterative, so a graph of millions of nodes never hits
  Python's recursion limit, and leaves are kept out of it.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable, Union

__all__ = ["AnomalyError", "FloatMath", "RemovableHandle", "Scalar", "ScalarMath", "detect_anomaly", "enable_grad",
           "is_grad_enabled", "no_grad", "register_op_name", "register_replay"]

Number = Union[int, float]

_INF = math.inf
_NAN = math.nan
_object_new = object.__new__
_NUMBERS = (int, float)  # plain numbers mix with Scalars (bool is an int, as in torch)


# --------------------------------------------------------------------------
# IEEE float64 helpers: the value torch gives instead of a Python exception.
# --------------------------------------------------------------------------

def _fexp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


def _fexpm1(x: float) -> float:
    try:
        return math.expm1(x)
    except OverflowError:
        return _INF


def _flog(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    return -_INF if x == 0.0 else _NAN


def _flog1p(x: float) -> float:
    if x > -1.0:
        return math.log1p(x)
    return -_INF if x == -1.0 else _NAN


def _fsqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else _NAN


def _fsin(x: float) -> float:
    try:
        return math.sin(x)
    except ValueError:  # sin(+-inf)
        return _NAN


def _fcos(x: float) -> float:
    try:
        return math.cos(x)
    except ValueError:
        return _NAN


def _fatanh(x: float) -> float:
    if -1.0 < x < 1.0:
        return math.atanh(x)
    if x == 1.0:
        return _INF
    return -_INF if x == -1.0 else _NAN


def _fsigmoid(x: float) -> float:
    # Never exponentiate a positive number: stable for any finite input.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = _fexp(x)  # also the nan path
    return e / (1.0 + e)


def _fsoftplus(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large x.
    return (x if x > 0.0 else 0.0) + math.log1p(_fexp(-abs(x)))


def _fdiv(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0.0 or math.isnan(a):
            return _NAN
        return math.copysign(_INF, a) * math.copysign(1.0, b)


def _is_odd_integer(b: float) -> bool:
    return math.isfinite(b) and b == int(b) and int(b) % 2 == 1


def _fpow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        return -_INF if a < 0.0 and _is_odd_integer(b) else _INF
    except ValueError:
        if a == 0.0:  # zero to a negative power
            return -_INF if math.copysign(1.0, a) < 0.0 and _is_odd_integer(b) else _INF
        return _NAN  # negative base, non-integer exponent


class FloatMath:
    """Math on plain floats with IEEE results; rules run on it in the forward pass."""

    exp = staticmethod(_fexp)
    expm1 = staticmethod(_fexpm1)
    log = staticmethod(_flog)
    sqrt = staticmethod(_fsqrt)
    sin = staticmethod(_fsin)
    cos = staticmethod(_fcos)
    sigmoid = staticmethod(_fsigmoid)
    div = staticmethod(_fdiv)
    pow = staticmethod(_fpow)


# --------------------------------------------------------------------------
# Gradient recording switch.
# --------------------------------------------------------------------------

_grad_enabled = True


def is_grad_enabled() -> bool:
    """Whether new ops record their inputs for ``backward()``."""
    return _grad_enabled


@contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = enabled
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad():
    """Context manager in which ops record no graph (for evaluation).

    >>> x = Scalar(2.0)
    >>> with no_grad():
    ...     y = x * x
    >>> y.is_leaf
    True
    """
    return _grad_mode(False)


def enable_grad():
    """Context manager that turns graph recording back on inside ``no_grad()``."""
    return _grad_mode(True)


# --------------------------------------------------------------------------
# Node constructors. Slots of a node:
#   leaf:    _a is None
#   unary:   _a = input,           _da = d y/d input,      _b = None
#   binary:  _a, _b = inputs,      _da, _db = derivatives
#   n-ary:   _a = tuple of inputs, _da = list of derivatives, _b = None
# --------------------------------------------------------------------------


def _unary(x: Scalar, y: float, rule: Callable, c=None) -> Scalar:
    s = _object_new(Scalar)
    s.data = y
    s.grad = 0.0
    s.name = None
    s._b = s._db = None
    s._ctx = c
    if _grad_enabled:
        s._a = x
        s._da = rule(FloatMath, x.data, y, c)
        s._rule = rule
        if _anomaly is not None:
            _anomaly.created(s)
    else:
        s._a = s._da = s._rule = None
    return s


def _binary(a: Scalar, b: Scalar, y: float, rule: Callable, c=None) -> Scalar:
    s = _object_new(Scalar)
    s.data = y
    s.grad = 0.0
    s.name = None
    s._ctx = c
    if _grad_enabled:
        s._a = a
        s._b = b
        s._da, s._db = rule(FloatMath, a.data, b.data, y, c)
        s._rule = rule
        if _anomaly is not None:
            _anomaly.created(s)
    else:
        s._a = s._b = s._da = s._db = s._rule = None
    return s


def _nary(xs: tuple, y: float, local: list, rule: Callable, c=None) -> Scalar:
    """An n-ary node; ``local`` is ``rule(FloatMath, data of xs, y, c)``, computed by the caller."""
    s = _object_new(Scalar)
    s.data = y
    s.grad = 0.0
    s.name = None
    s._b = s._db = None
    s._ctx = c
    if _grad_enabled and xs:
        s._a = xs
        s._da = local
        s._rule = rule
        if _anomaly is not None:
            _anomaly.created(s)
    else:
        s._a = s._da = s._rule = None
    return s


def _checked_float(value, what: str) -> float:
    """``value`` as a float; TypeError naming the type for anything that is not a real number."""
    if type(value) is float:
        return value
    if isinstance(value, (bool, Scalar)) or not isinstance(value, numbers.Real):
        hint = "; use .data or .detach()" if isinstance(value, Scalar) else ""
        raise TypeError(f"{what} must be an int or float, got {type(value).__name__}{hint}")
    return float(value)


class Scalar:
    """A float that remembers how it was computed, so gradients can flow back.

    >>> x0, w0, b = Scalar(0.1, name='x0'), Scalar(0.3, name='w0'), Scalar(0.5, name='b')
    >>> f = x0 * w0 + b
    >>> f.backward()
    >>> round(f.data, 2), round(w0.grad, 2)
    (0.53, 0.1)
    """

    __slots__ = ("__weakref__", "_a", "_b", "_ctx", "_da", "_db", "_rule", "data", "grad", "name")

    def __init__(self, data: Number, name: str | None = None) -> None:
        self.data = _checked_float(data, "Scalar data")
        self.grad = 0.0
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Scalar name must be a str, got {type(name).__name__}")
        self.name = name
        self._a = self._b = self._da = self._db = self._rule = self._ctx = None

    # ---- basics -----------------------------------------------------------

    @property
    def is_leaf(self) -> bool:
        """True for a value that no recorded op produced (inputs, parameters)."""
        return self._a is None

    @property
    def parents(self) -> tuple[Scalar, ...]:
        """The Scalars this one was computed from (empty for a leaf)."""
        a = self._a
        if a is None:
            return ()
        if type(a) is tuple:
            return a
        return (a,) if self._b is None else (a, self._b)

    @property
    def op(self) -> str:
        """Name of the op that produced this value ('' for a leaf)."""
        if self._rule is None:
            return ""
        name = _OP_NAMES.get(self._rule, "")
        return name(self._ctx) if callable(name) else name

    def __repr__(self) -> str:
        name = f", name={self.name!r}" if self.name is not None else ""
        return f"Scalar(data={self.data!r}, grad={self.grad!r}{name})"

    def __float__(self) -> float:
        return self.data

    def __bool__(self) -> bool:
        return self.data != 0.0

    def detach(self) -> Scalar:
        """A new leaf with the same value, cut off from this graph."""
        return Scalar(self.data)

    # Comparisons look at the data only and return bools, as in PyTorch for
    # one-element tensors; hashing stays by identity so Scalars can be kept
    # in sets and dict keys.
    __hash__ = object.__hash__

    def __eq__(self, other):
        o = _data_of(other)
        return NotImplemented if o is None else self.data == o

    def __ne__(self, other):
        o = _data_of(other)
        return NotImplemented if o is None else self.data != o

    def __lt__(self, other):
        o = _data_of(other)
        return NotImplemented if o is None else self.data < o

    def __le__(self, other):
        o = _data_of(other)
        return NotImplemented if o is None else self.data <= o

    def __gt__(self, other):
        o = _data_of(other)
        return NotImplemented if o is None else self.data > o

    def __ge__(self, other):
        o = _data_of(other)
        return NotImplemented if o is None else self.data >= o

    # ---- arithmetic: each op, then its derivative rule ----------------------

    def __add__(self, other):
        if isinstance(other, Scalar):
            return _binary(self, other, self.data + other.data, Scalar._d_add)
        if isinstance(other, _NUMBERS):
            c = float(other)
            return _unary(self, self.data + c, Scalar._d_shift, c)
        return NotImplemented

    __radd__ = __add__

    @staticmethod
    def _d_add(M, a, b, y, c):  # y = a + b
        return 1.0, 1.0

    @staticmethod
    def _d_shift(M, x, y, c):  # y = x + c (x - c is x + -c; identity has c None)
        return 1.0

    def __sub__(self, other):
        if isinstance(other, Scalar):
            return _binary(self, other, self.data - other.data, Scalar._d_sub)
        if isinstance(other, _NUMBERS):
            c = float(other)
            return _unary(self, self.data - c, Scalar._d_shift, -c)  # exactly x + -c in IEEE
        return NotImplemented

    @staticmethod
    def _d_sub(M, a, b, y, c):  # y = a - b
        return 1.0, -1.0

    def __rsub__(self, other):  # other - self
        if isinstance(other, _NUMBERS):
            c = float(other)
            return _unary(self, c - self.data, Scalar._d_neg, c)
        return NotImplemented

    def __neg__(self):
        return _unary(self, -self.data, Scalar._d_neg)

    @staticmethod
    def _d_neg(M, x, y, c):  # y = -x, or c - x when c is not None
        return -1.0

    def __pos__(self):
        return self

    def __mul__(self, other):
        if isinstance(other, Scalar):
            return _binary(self, other, self.data * other.data, Scalar._d_mul)
        if isinstance(other, _NUMBERS):
            c = float(other)
            return _unary(self, self.data * c, Scalar._d_scale, c)
        return NotImplemented

    __rmul__ = __mul__

    @staticmethod
    def _d_mul(M, a, b, y, c):  # y = a * b
        return b, a

    @staticmethod
    def _d_scale(M, x, y, c):  # y = c * x
        return c

    def __truediv__(self, other):
        if isinstance(other, Scalar):
            return _binary(self, other, _fdiv(self.data, other.data), Scalar._d_div)
        if isinstance(other, _NUMBERS):
            c = float(other)
            return _unary(self, _fdiv(self.data, c), Scalar._d_div_const, c)
        return NotImplemented

    @staticmethod
    def _d_div_const(M, x, y, c):  # y = x / c
        return M.div(1.0, c)

    @staticmethod
    def _d_div(M, a, b, y, c):  # y = a / b; d/db written -(a / b) / b as torch, finite where b * b is not
        return M.div(1.0, b), M.div(-y, b)

    def __rtruediv__(self, other):  # other / self
        if isinstance(other, _NUMBERS):
            c = float(other)
            return _unary(self, _fdiv(c, self.data), Scalar._d_rdiv, c)
        return NotImplemented

    @staticmethod
    def _d_rdiv(M, x, y, c):  # y = c / x; written -c * (1/x)**2 as torch (c * reciprocal(x)) does
        r = M.div(1.0, x)
        return -c * (r * r)

    def __pow__(self, other):
        if isinstance(other, Scalar):
            return _binary(self, other, _fpow(self.data, other.data), Scalar._d_pow)
        if isinstance(other, _NUMBERS):
            c = float(other)
            return _unary(self, _fpow(self.data, c), Scalar._d_pow_const, c)
        return NotImplemented

    @staticmethod
    def _d_pow(M, a, b, y, c):  # y = a ** b; torch zeroes d/da where b == 0 and d/db where a == 0, b >= 0
        da = 0.0 if b == 0.0 else b * M.pow(a, b - 1.0)
        db = 0.0 if (a == 0.0 and b >= 0.0) else y * M.log(a)
        return da, db

    @staticmethod
    def _d_pow_const(M, x, y, c):  # y = x ** c
        return 0.0 if c == 0.0 else c * M.pow(x, c - 1.0)

    def __rpow__(self, other):  # other ** self
        if isinstance(other, _NUMBERS):
            c = float(other)
            return _unary(self, _fpow(c, self.data), Scalar._d_exp_base, c)
        return NotImplemented

    @staticmethod
    def _d_exp_base(M, x, y, c):  # y = c ** x, dy/dx = y log c (0 where c == 0, x >= 0, as torch)
        return 0.0 if (c == 0.0 and x >= 0.0) else y * M.log(c)

    # ---- functions ----------------------------------------------------------

    def abs(self) -> Scalar:
        """|x|; the gradient at 0 is 0, as in PyTorch."""
        return _unary(self, abs(self.data), Scalar._d_abs)

    __abs__ = abs

    @staticmethod
    def _d_abs(M, x, y, c):  # torch: sgn(x), which is 0 at 0 and at nan
        return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0

    def exp(self) -> Scalar:
        """e**x (inf when it overflows)."""
        return _unary(self, _fexp(self.data), Scalar._d_exp)

    @staticmethod
    def _d_exp(M, x, y, c):
        return y

    def log(self) -> Scalar:
        """Natural log (-inf at 0, nan below)."""
        return _unary(self, _flog(self.data), Scalar._d_log)

    @staticmethod
    def _d_log(M, x, y, c):
        return M.div(1.0, x)

    def log1p(self) -> Scalar:
        """log(1 + x), accurate for small x."""
        return _unary(self, _flog1p(self.data), Scalar._d_log1p)

    @staticmethod
    def _d_log1p(M, x, y, c):
        return M.div(1.0, 1.0 + x)

    def sqrt(self) -> Scalar:
        """Square root (nan below 0)."""
        return _unary(self, _fsqrt(self.data), Scalar._d_sqrt)

    @staticmethod
    def _d_sqrt(M, x, y, c):
        return M.div(0.5, y)

    def sin(self) -> Scalar:
        """Sine."""
        return _unary(self, _fsin(self.data), Scalar._d_sin)

    @staticmethod
    def _d_sin(M, x, y, c):
        return M.cos(x)

    def cos(self) -> Scalar:
        """Cosine."""
        return _unary(self, _fcos(self.data), Scalar._d_cos)

    @staticmethod
    def _d_cos(M, x, y, c):
        return -M.sin(x)

    def tanh(self) -> Scalar:
        """Hyperbolic tangent (stable for any input)."""
        return _unary(self, math.tanh(self.data), Scalar._d_tanh)

    @staticmethod
    def _d_tanh(M, x, y, c):
        return 1.0 - y * y

    def arctanh(self) -> Scalar:
        """Inverse hyperbolic tangent (+-inf at +-1, nan outside)."""
        return _unary(self, _fatanh(self.data), Scalar._d_arctanh)

    @staticmethod
    def _d_arctanh(M, x, y, c):
        return M.div(1.0, 1.0 - x * x)

    def sigmoid(self) -> Scalar:
        """1 / (1 + e**-x) (stable for any input)."""
        return _unary(self, _fsigmoid(self.data), Scalar._d_sigmoid)

    @staticmethod
    def _d_sigmoid(M, x, y, c):
        return y * (1.0 - y)

    def relu(self) -> Scalar:
        """max(x, 0); the gradient at 0 is 0, as in PyTorch."""
        x = self.data
        return _unary(self, 0.0 if x <= 0.0 else x, Scalar._d_relu)  # not max(): relu(nan) is nan

    @staticmethod
    def _d_relu(M, x, y, c):  # torch: 0 where x <= 0, else 1 (also at nan)
        return 0.0 if x <= 0.0 else 1.0

    def leaky_relu(self, slope: float = 0.01) -> Scalar:
        """x for x > 0, slope * x otherwise."""
        x = self.data
        slope = float(slope)
        return _unary(self, x if x > 0.0 else x * slope, Scalar._d_leaky_relu, slope)

    @staticmethod
    def _d_leaky_relu(M, x, y, c):
        return 1.0 if x > 0.0 else c

    def softplus(self) -> Scalar:
        """log(1 + e**x) (stable for any input)."""
        return _unary(self, _fsoftplus(self.data), Scalar._d_softplus)

    @staticmethod
    def _d_softplus(M, x, y, c):
        return M.sigmoid(x)

    def identity(self) -> Scalar:
        """x itself, as a node (so activations can be chosen by name)."""
        return _unary(self, self.data, Scalar._d_shift)

    # ---- hooks ----------------------------------------------------------------

    def register_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(grad)`` when backward has this node's gradient, as in PyTorch.

        The hook may return a replacement (a number, or a Scalar under
        ``create_graph=True``), which is what flows on to the inputs, or what
        a leaf accumulates; ``None`` keeps the gradient. For a leaf the hook
        sees the gradient of one backward pass, before it is added to ``.grad``.

        >>> x = Scalar(3.0)
        >>> handle = x.register_hook(lambda g: g * 10)
        >>> (x * x).backward()
        >>> x.grad
        60.0
        >>> handle.remove()
        """
        if not callable(hook):
            raise TypeError(f"register_hook needs a callable, got {type(hook).__name__}")
        return _HOOKS.add(self, hook)

    # ---- pictures -----------------------------------------------------------

    def render(self, path: str | None = None, format: str | None = None, show: bool | None = None,
               rankdir: str = "LR", max_nodes: int = 500, show_grad: bool = True, layout_timeout: float = 60.0):
        """Draw the graph that produced this value (needs graphviz).

        See ``scalargrad.viz.draw_graph``; returns the graphviz Digraph.
        """
        from .viz import draw_graph  # optional dependency, imported on use

        return draw_graph(self, path=path, format=format, show=show, rankdir=rankdir,
                          max_nodes=max_nodes, show_grad=show_grad, layout_timeout=layout_timeout)

    # ---- backward -----------------------------------------------------------

    def backward(self, grad: Number = 1.0, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf below.

        Leaf gradients add up across calls, as in PyTorch; interior gradients
        are recomputed on each call. With ``create_graph=True`` every
        ``.grad`` becomes a Scalar with a graph of its own, so it can be
        differentiated again.
        """
        grad = _checked_float(grad, "backward grad")
        if self._a is None:
            self.grad = self.grad + (_HOOKS.call(self, grad, create_graph) if id(self) in _HOOKS else grad)
            return
        held = []
        order = _backward_order(self, held)
        _run_backward(self, order, grad, held, create_graph)


def _run_backward(root: Scalar, order: list, grad: float, held: list, create_graph: bool) -> None:
    """Seed ``root`` with ``grad``, run the pass over ``order``, then add the held leaf gradients back."""
    root.grad = grad
    if create_graph or _HOOKS or _anomaly is not None:
        with _grad_mode(True if create_graph else _grad_enabled):
            hooked_leaves = _propagate_general(order, create_graph)
        for leaf in hooked_leaves:  # a leaf's hooks see the sum of this pass, before it is added
            leaf.grad = _HOOKS.call(leaf, leaf.grad, create_graph)
    else:
        _propagate(order)
    for leaf, old in held:
        leaf.grad = old + leaf.grad


def _propagate(order: list) -> None:
    """The hot loop of backward: one multiply-add per edge, no calls."""
    for node in reversed(order):
        g = node.grad
        a = node._a
        if type(a) is tuple:
            for p, d in zip(a, node._da):
                p.grad += g * d
        else:
            a.grad += g * node._da
            b = node._b
            if b is not None:
                b.grad += g * node._db


def _propagate_general(order: list, create_graph: bool) -> list:
    """The backward loop with hooks, anomaly checks or ``create_graph`` (then the rules run on Scalars,
    so every step is recorded). Returns the leaves reached that have hooks."""
    hooks, anomaly = _HOOKS, _anomaly
    hooked_leaves = {}
    for node in reversed(order):
        g = node.grad
        if hooks and id(node) in hooks:
            g = node.grad = hooks.call(node, g, create_graph)
        a, b, rule, c = node._a, node._b, node._rule, node._ctx
        if type(a) is tuple:
            parents, local = a, (rule(ScalarMath, a, node, c) if create_graph else node._da)
        elif b is None:
            parents, local = (a,), ((rule(ScalarMath, a, node, c) if create_graph else node._da),)
        else:
            parents, local = (a, b), (rule(ScalarMath, a, b, node, c) if create_graph else (node._da, node._db))
        for i, (p, d) in enumerate(zip(parents, local)):
            v = g * d
            if anomaly is not None:
                anomaly.check_backward(node, i, g, d, v)
            pg = p.grad
            # a recorded first contribution is the gradient itself: no "0 + v" node in its graph
            p.grad = v if create_graph and type(pg) is float and pg == 0.0 and isinstance(v, Scalar) else pg + v
            if hooks and p._a is None and id(p) in hooks:
                hooked_leaves[id(p)] = p
    return list(hooked_leaves.values())


def _data_of(value) -> float | None:
    if isinstance(value, Scalar):
        return value.data
    if isinstance(value, (int, float)):
        return value
    return None


class _Visited:
    """Marks, in ``grad``, an interior node the topological sort has reached."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<being sorted for backward>"


_VISITED = _Visited()


# --------------------------------------------------------------------------
# Hooks and anomaly detection. Both are tables keyed by node id, outside the
# nodes: a node holds no hook list (no slot, no cost when unused), and an
# entry goes away with its node through a weakref callback.
# --------------------------------------------------------------------------

class RemovableHandle:
    """What ``Scalar.register_hook`` returns: ``handle.remove()`` takes the hook off again."""

    __slots__ = ("_fn", "_key", "_table")

    def __init__(self, table: _HookTable, key: int, fn: Callable) -> None:
        self._table, self._key, self._fn = table, key, fn

    def remove(self) -> None:
        """Take the hook off (a second call does nothing)."""
        self._table.remove(self._key, self._fn)


class _HookTable:
    """The hooks of every node that has any, by ``id(node)``."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple] = {}  # id -> (weakref to the node, [hooks])

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __contains__(self, key: int) -> bool:
        return key in self._entries

    def add(self, node: Scalar, fn: Callable) -> RemovableHandle:
        key = id(node)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = (weakref.ref(node, lambda _, k=key: self._entries.pop(k, None)), [])
        entry[1].append(fn)
        return RemovableHandle(self, key, fn)

    def remove(self, key: int, fn: Callable) -> None:
        entry = self._entries.get(key)
        if entry is not None and fn in entry[1]:
            entry[1].remove(fn)
            if not entry[1]:
                del self._entries[key]

    def call(self, node: Scalar, grad, create_graph: bool = False):
        """Run the node's hooks in order; each may return a replacement gradient.

        A Scalar returned outside ``create_graph`` counts as its value, so
        ``.grad`` stays a float.
        """
        for fn in list(self._entries[id(node)][1]):
            result = fn(grad)
            if result is not None:
                if not isinstance(result, (Scalar, int, float)) or isinstance(result, bool):
                    raise TypeError(f"a gradient hook returned {type(result).__name__}; "
                                    f"return a number, a Scalar or None")
                grad = result if create_graph and isinstance(result, Scalar) else float(result)
        return grad


_HOOKS = _HookTable()


class AnomalyError(RuntimeError):
    """Raised inside ``detect_anomaly()`` by the first op that makes a nan or inf."""


def _isfinite(v) -> bool:
    return math.isfinite(v.data if isinstance(v, Scalar) else v)


def _describe(values) -> str:
    shown = [f"{v.data if isinstance(v, Scalar) else v!r}" for v in values[:6]]
    return "[" + ", ".join(shown) + (f", ... ({len(values)} in all)]" if len(values) > 6 else "]")


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _caller_outside_package() -> str:
    """'file:line in function' of the nearest frame outside scalargrad (where an op was called)."""
    frame = sys._getframe(2)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) \
            .startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "an unknown place"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


class _AnomalyMode:
    """What ``detect_anomaly()`` checks: each new node's value, and each gradient backward makes."""

    def __init__(self) -> None:
        self._sites: dict[int, tuple] = {}  # id -> (weakref to the node, where it was made)

    def created(self, node: Scalar) -> None:
        key = id(node)
        self._sites[key] = (weakref.ref(node, lambda _, k=key: self._sites.pop(k, None)),
                            _caller_outside_package())
        self.check_forward(node)

    def check_forward(self, node: Scalar) -> None:
        parents = node.parents
        if not math.isfinite(node.data) and all(_isfinite(p) for p in parents):
            raise AnomalyError(f"{node.op!r} made {node.data} from finite inputs {_describe(parents)} "
                               f"(at {self.site(node)})")

    def site(self, node: Scalar) -> str:
        entry = self._sites.get(id(node))
        return entry[1] if entry is not None else "a place outside detect_anomaly()"

    def check_backward(self, node: Scalar, i: int, g, d, v) -> None:
        if not _isfinite(v) and _isfinite(g):
            parents = node.parents
            raise AnomalyError(
                f"backward of {node.op!r} (made at {self.site(node)}) gave {v.data if isinstance(v, Scalar) else v}"
                f" for its input {i} of {len(parents)} (value {parents[i].data}): incoming gradient "
                f"{g.data if isinstance(g, Scalar) else g}, local derivative {d.data if isinstance(d, Scalar) else d};"
                f" its inputs are {_describe(parents)}")


_anomaly: _AnomalyMode | None = None


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Inside it, the first op that makes a nan or inf raises ``AnomalyError`` naming it.

    Forward: an op whose inputs are finite but whose value is not. Backward:
    a gradient that turns non-finite where the incoming one was finite. The
    message names the op, its inputs and the line that made the node. The
    checks cost time; use it to find a problem, not while training.

    >>> x = Scalar(0.0)
    >>> with detect_anomaly():
    ...     y = x.log()
    Traceback (most recent call last):
    ...
    scalargrad.scalar.AnomalyError: 'log' made -inf from finite inputs [0.0] (at <doctest ...>)
    """
    global _anomaly
    previous = _anomaly
    _anomaly = _AnomalyMode()
    try:
        yield
    finally:
        _anomaly = previous


def _backward_order(root: Scalar, held: list) -> list:
    """Interior nodes reachable from root, every node after all its parents, gradients zeroed.

    Iterative depth-first search, so depth is never limited by recursion. A
    node is pushed with a ``None`` marker below its parents; when the marker
    comes off the stack all its parents are done and the node is appended.
    The stack holds only references (no per-node tuples or iterators), which
    keeps the cyclic GC asleep during the sort. A node reached once is marked
    in its own ``grad`` slot (backward resets interior gradients anyway), not
    in a set: hashing millions of nodes by identity is slow on PyPy.
    Leaves stay out of the order: they only receive gradient. A leaf that
    already holds a gradient is zeroed and listed in ``held`` as
    ``(leaf, old)``: the caller adds the old value back once at the end, as
    torch does, so two backward calls give exactly twice the gradient.
    """
    order = []
    stack = [root]
    push, pop, finish = stack.append, stack.pop, order.append
    visited = _VISITED
    try:
        while stack:
            node = pop()
            if node is None:
                finish(pop())
                continue
            if node.grad is visited:
                continue
            node.grad = visited
            push(node)
            push(None)
            a = node._a
            if type(a) is not tuple:
                a = (a,) if node._b is None else (a, node._b)
            for p in a:
                if p._a is not None:
                    if p.grad is not visited:
                        push(p)
                elif p.grad:
                    held.append((p, p.grad))
                    p.grad = 0.0
    except BaseException:  # e.g. Ctrl-C mid-sort: leave no marks behind
        for node in order + stack:
            if node is not None and node.grad is visited:
                node.grad = 0.0
        raise
    for node in order:
        node.grad = 0.0
    return order


_OP_NAMES = {
    Scalar._d_add: "+", Scalar._d_shift: "+", Scalar._d_sub: "-", Scalar._d_neg: "neg",
    Scalar._d_mul: "*", Scalar._d_scale: "*", Scalar._d_div: "/", Scalar._d_div_const: "/", Scalar._d_rdiv: "/",
    Scalar._d_pow: "**", Scalar._d_pow_const: "**", Scalar._d_exp_base: "**", Scalar._d_abs: "abs",
    Scalar._d_exp: "exp", Scalar._d_log: "log", Scalar._d_log1p: "log1p", Scalar._d_sqrt: "sqrt",
    Scalar._d_sin: "sin", Scalar._d_cos: "cos", Scalar._d_tanh: "tanh", Scalar._d_arctanh: "arctanh",
    Scalar._d_sigmoid: "sigmoid", Scalar._d_relu: "relu", Scalar._d_leaky_relu: "leaky_relu",
    Scalar._d_softplus: "softplus",
}


def register_op_name(rule: Callable, name: str | Callable) -> None:
    """Give a rule a display name (used by ``Scalar.op`` and graph pictures).

    ``name`` may be a function of the node's op constant, for ops whose name depends on it.
    """
    _OP_NAMES[rule] = name


# --------------------------------------------------------------------------
# Replay (scalargrad.replay): recompute a recorded node in place from its
# parents' current data. Each rule maps to a ``forward(node)`` that sets
# ``node.data`` and the node's local derivatives with exactly the float
# expressions the op used when it made the node, so a replayed graph gives
# the same bits as a rebuilt one.
# --------------------------------------------------------------------------

_REPLAY: dict[Callable, Callable] = {}
_REPLAY_GATHERS: dict[Callable, Callable] = {}

class _Gather:
    """The values of some Scalars, read once per replayed forward and shared by several nodes.

    ``values`` holds the data of ``sources`` followed by fixed ``extra``
    numbers. A layer's weights are read once per step for all the samples of
    a batch, and a sample's input to a layer once for all the layer's
    neurons, instead of once per neuron per sample.
    """

    __slots__ = ("sources", "values")

    def __init__(self, sources: tuple, extra: list) -> None:
        self.sources = sources
        self.values = [p.data for p in sources] + extra

    def refresh(self) -> None:
        """Read the sources' current data (Replay runs this before the first node that uses it)."""
        self.values[:len(self.sources)] = [p.data for p in self.sources]


class _ReplayBuild:
    """What a ``Replay`` collects while its graph is built.

    Code whose graph would depend on the data (a ReLU left out when it is
    off, a Dropout mask, a max-pool choice) checks for a build in progress
    and makes a fixed structure or refuses. ``input_ids`` are the ids of the
    fed inputs. ``gather(sources)`` gives one shared ``_Gather`` per distinct
    tuple of sources (a neuron's weights, used by every sample).
    """

    __slots__ = ("_gathers", "input_ids")

    def __init__(self, inputs: list) -> None:
        self.input_ids = {id(p) for p in inputs}
        self._gathers: dict[tuple, _Gather] = {}  # the Gathers keep their sources alive, so ids stay unique

    def gather(self, sources: tuple) -> _Gather:
        key = tuple(map(id, sources))
        g = self._gathers.get(key)
        if g is None:
            g = self._gathers[key] = _Gather(sources, [])
        return g


_replay_build: _ReplayBuild | None = None  # the Replay being built, if any


def register_replay(rule: Callable, forward: Callable, gathers: Callable | None = None) -> None:
    """Teach ``Replay`` an op: ``forward(node)`` recomputes ``node.data`` and its derivatives in place.

    ``gathers(node)``, if given, lists the shared ``_Gather`` objects the
    node reads; Replay refreshes each before the first node that uses it.
    """
    _REPLAY[rule] = forward
    if gathers is not None:
        _REPLAY_GATHERS[rule] = gathers


def unary_replay(rule: Callable, value: Callable) -> Callable:
    """The replay forward of a one-input op whose value is ``value(x, c)``."""
    def forward(node):
        x, c = node._a.data, node._ctx
        node.data = y = value(x, c)
        node._da = rule(FloatMath, x, y, c)
    return forward


def binary_replay(rule: Callable, value: Callable) -> Callable:
    """The replay forward of a two-input op whose value is ``value(a, b, c)``."""
    def forward(node):
        a, b, c = node._a.data, node._b.data, node._ctx
        node.data = y = value(a, b, c)
        node._da, node._db = rule(FloatMath, a, b, y, c)
    return forward


def nary_replay(rule: Callable, value: Callable) -> Callable:
    """The replay forward of an n-input op whose value is ``value(list of input data, c)``."""
    def forward(node):
        xs, c = [p.data for p in node._a], node._ctx
        node.data = y = value(xs, c)
        node._da = rule(FloatMath, xs, y, c)
    return forward


for _rule, _value in (  # each value is the expression the op method above computes
    (Scalar._d_shift, lambda x, c: x if c is None else x + c),
    (Scalar._d_neg, lambda x, c: -x if c is None else c - x),
    (Scalar._d_scale, lambda x, c: x * c),
    (Scalar._d_div_const, lambda x, c: _fdiv(x, c)),
    (Scalar._d_rdiv, lambda x, c: _fdiv(c, x)),
    (Scalar._d_pow_const, lambda x, c: _fpow(x, c)),
    (Scalar._d_exp_base, lambda x, c: _fpow(c, x)),
    (Scalar._d_abs, lambda x, c: abs(x)),
    (Scalar._d_exp, lambda x, c: _fexp(x)),
    (Scalar._d_log, lambda x, c: _flog(x)),
    (Scalar._d_log1p, lambda x, c: _flog1p(x)),
    (Scalar._d_sqrt, lambda x, c: _fsqrt(x)),
    (Scalar._d_sin, lambda x, c: _fsin(x)),
    (Scalar._d_cos, lambda x, c: _fcos(x)),
    (Scalar._d_tanh, lambda x, c: math.tanh(x)),
    (Scalar._d_arctanh, lambda x, c: _fatanh(x)),
    (Scalar._d_sigmoid, lambda x, c: _fsigmoid(x)),
    (Scalar._d_relu, lambda x, c: 0.0 if x <= 0.0 else x),
    (Scalar._d_leaky_relu, lambda x, c: x if x > 0.0 else x * c),
    (Scalar._d_softplus, lambda x, c: _fsoftplus(x)),
):
    register_replay(_rule, unary_replay(_rule, _value))
for _rule, _value in (
    (Scalar._d_add, lambda a, b, c: a + b),
    (Scalar._d_sub, lambda a, b, c: a - b),
    (Scalar._d_mul, lambda a, b, c: a * b),
    (Scalar._d_div, lambda a, b, c: _fdiv(a, b)),
    (Scalar._d_pow, lambda a, b, c: _fpow(a, b)),
):
    register_replay(_rule, binary_replay(_rule, _value))


def _scalar_or(method: str, on_float: Callable) -> Callable:
    def apply(x):
        return getattr(x, method)() if isinstance(x, Scalar) else on_float(x)
    return staticmethod(apply)


class ScalarMath:
    """The same functions as ``FloatMath`` on Scalars (and floats), recording a graph."""

    exp = _scalar_or("exp", _fexp)
    log = _scalar_or("log", _flog)
    sqrt = _scalar_or("sqrt", _fsqrt)
    sin = _scalar_or("sin", _fsin)
    cos = _scalar_or("cos", _fcos)
    sigmoid = _scalar_or("sigmoid", _fsigmoid)

    @staticmethod
    def expm1(x):
        return x.exp() - 1.0 if isinstance(x, Scalar) else _fexpm1(x)

    @staticmethod
    def div(a, b):
        if isinstance(a, Scalar) or isinstance(b, Scalar):
            return a / b
        return _fdiv(a, b)

    @staticmethod
    def pow(a, b):
        if isinstance(a, Scalar) or isinstance(b, Scalar):
            return a ** b
        return _fpow(a, b)
