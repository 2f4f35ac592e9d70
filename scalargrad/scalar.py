"""The autograd engine: a `Scalar` node and the local-derivative rule of every op.

Every op computes its value on plain floats and records, on the new node, its
parents (``_prev``) and the local derivatives d(out)/d(parent) (``_local``).
``backward()`` then needs only one multiply-add per edge.

Each op's derivative is written once, as a *rule* ``rule(M, xs, y, ctx)``:
``xs`` are the parents' values, ``y`` the op's output and ``ctx`` an op
constant (an exponent, a slope). ``M`` is a small math namespace: with
``FloatMath`` the rule runs on floats and fills ``_local`` during the forward
pass; with ``ScalarMath`` it runs on Scalars, which is how
``backward(create_graph=True)`` records the backward pass for higher-order
derivatives. Rules use ``+ - *`` directly and ``M`` for everything that could
raise on floats (division, exp, log, ...).

Why the engine looks the way it does (measured, see DESIGN.md):

* ``__slots__`` and no per-node names keep a node small and cheap to create.
* A node stores its rule (a module-level function), never a closure over
  itself, so a graph holds no reference cycles: dropping the last reference
  to the output frees the whole graph at once, without the cyclic GC.
* The topological sort is iterative, so a graph of millions of nodes never
  hits Python's recursion limit, and leaves are kept out of it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable, Union

__all__ = ["FloatMath", "Scalar", "ScalarMath", "enable_grad", "is_grad_enabled", "no_grad"]

Number = Union[int, float]

_INF = math.inf
_NAN = math.nan
_object_new = object.__new__


# --------------------------------------------------------------------------
# IEEE float64 helpers: the value torch gives instead of a Python exception.
# --------------------------------------------------------------------------

def _fexp(x: float) -> float:
    try:
        return math.exp(x)
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
# The node.
# --------------------------------------------------------------------------

_NO_PARENTS: tuple = ()


def _node(data: float, prev: tuple, local, rule: Callable, ctx=None) -> Scalar:
    """Create an interior node without the argument checks of ``Scalar()``."""
    s = _object_new(Scalar)
    s.data = data
    s.grad = 0.0
    s.name = None
    if _grad_enabled:
        s._prev = prev
        s._local = local
        s._rule = rule
    else:
        s._prev = _NO_PARENTS
        s._local = _NO_PARENTS
        s._rule = None
    s._ctx = ctx
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

    __slots__ = ("__weakref__", "_ctx", "_local", "_prev", "_rule", "data", "grad", "name")

    def __init__(self, data: Number, name: str | None = None) -> None:
        self.data = _checked_float(data, "Scalar data")
        self.grad = 0.0
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Scalar name must be a str, got {type(name).__name__}")
        self.name = name
        self._prev = _NO_PARENTS
        self._local = _NO_PARENTS
        self._rule = None
        self._ctx = None

    # ---- basics -----------------------------------------------------------

    @property
    def is_leaf(self) -> bool:
        """True for a value that no recorded op produced (inputs, parameters)."""
        return not self._prev

    @property
    def parents(self) -> tuple[Scalar, ...]:
        """The Scalars this one was computed from (empty for a leaf)."""
        return self._prev

    @property
    def op(self) -> str:
        """Name of the op that produced this value ('' for a leaf)."""
        return _OP_NAMES.get(self._rule, "") if self._rule is not None else ""

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

    # ---- arithmetic: forward value and, beside it, the derivative rule ------

    def __add__(self, other):
        if isinstance(other, Scalar):
            return _node(self.data + other.data, (self, other), _ONE_ONE, _add_rule)
        if isinstance(other, (int, float)):
            return _node(self.data + float(other), (self,), _ONE, _add_rule)
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, Scalar):
            return _node(self.data - other.data, (self, other), _ONE_MINUS_ONE, _sub_rule)
        if isinstance(other, (int, float)):
            return _node(self.data - float(other), (self,), _ONE, _add_rule)
        return NotImplemented

    def __rsub__(self, other):  # other - self
        if isinstance(other, (int, float)):
            return _node(float(other) - self.data, (self,), _MINUS_ONE, _neg_rule)
        return NotImplemented

    def __neg__(self):
        return _node(-self.data, (self,), _MINUS_ONE, _neg_rule)

    def __pos__(self):
        return self

    def __mul__(self, other):
        if isinstance(other, Scalar):
            a, b = self.data, other.data
            return _node(a * b, (self, other), (b, a), _mul_rule)
        if isinstance(other, (int, float)):
            c = float(other)
            return _node(self.data * c, (self,), (c,), _scale_rule, c)
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Scalar):
            return _binary(self, other, _fdiv(self.data, other.data), _div_rule)
        if isinstance(other, (int, float)):
            c = float(other)
            inv = _fdiv(1.0, c)
            return _node(_fdiv(self.data, c), (self,), (inv,), _scale_rule, inv)
        return NotImplemented

    def __rtruediv__(self, other):  # other / self
        if isinstance(other, (int, float)):
            c = float(other)
            return _unary(self, _fdiv(c, self.data), _rdiv_rule, c)
        return NotImplemented

    def __pow__(self, other):
        if isinstance(other, Scalar):
            return _binary(self, other, _fpow(self.data, other.data), _pow_rule)
        if isinstance(other, (int, float)):
            c = float(other)
            return _unary(self, _fpow(self.data, c), _pow_const_rule, c)
        return NotImplemented

    def __rpow__(self, other):  # other ** self
        if isinstance(other, (int, float)):
            c = float(other)
            return _unary(self, _fpow(c, self.data), _exp_base_rule, c)
        return NotImplemented

    # ---- functions ----------------------------------------------------------

    def __abs__(self):
        return _unary(self, abs(self.data), _abs_rule)

    def abs(self) -> Scalar:
        """|x|; the gradient at 0 is 0, as in PyTorch."""
        return _unary(self, abs(self.data), _abs_rule)

    def exp(self) -> Scalar:
        """e**x (inf when it overflows)."""
        return _unary(self, _fexp(self.data), _exp_rule)

    def log(self) -> Scalar:
        """Natural log (-inf at 0, nan below)."""
        return _unary(self, _flog(self.data), _log_rule)

    def log1p(self) -> Scalar:
        """log(1 + x), accurate for small x."""
        return _unary(self, _flog1p(self.data), _log1p_rule)

    def sqrt(self) -> Scalar:
        """Square root (nan below 0)."""
        return _unary(self, _fsqrt(self.data), _sqrt_rule)

    def sin(self) -> Scalar:
        """Sine."""
        return _unary(self, _fsin(self.data), _sin_rule)

    def cos(self) -> Scalar:
        """Cosine."""
        return _unary(self, _fcos(self.data), _cos_rule)

    def tanh(self) -> Scalar:
        """Hyperbolic tangent (stable for any input)."""
        return _unary(self, math.tanh(self.data), _tanh_rule)

    def arctanh(self) -> Scalar:
        """Inverse hyperbolic tangent (+-inf at +-1, nan outside)."""
        return _unary(self, _fatanh(self.data), _arctanh_rule)

    def sigmoid(self) -> Scalar:
        """1 / (1 + e**-x) (stable for any input)."""
        return _unary(self, _fsigmoid(self.data), _sigmoid_rule)

    def relu(self) -> Scalar:
        """max(x, 0); the gradient at 0 is 0, as in PyTorch."""
        x = self.data
        return _unary(self, 0.0 if x <= 0.0 else x, _relu_rule)

    def leaky_relu(self, slope: float = 0.01) -> Scalar:
        """x for x > 0, slope * x otherwise."""
        x = self.data
        slope = float(slope)
        return _unary(self, x if x > 0.0 else x * slope, _leaky_relu_rule, slope)

    def softplus(self) -> Scalar:
        """log(1 + e**x) (stable for any input)."""
        return _unary(self, _fsoftplus(self.data), _softplus_rule)

    def identity(self) -> Scalar:
        """x itself, as a node (so activations can be chosen by name)."""
        return _node(self.data, (self,), _ONE, _add_rule)

    def render(self, path: str | None = None, format: str | None = None, show: bool | None = None,
               rankdir: str = "LR", max_nodes: int = 500, show_grad: bool = True):
        """Draw the graph that produced this value (needs graphviz).

        See ``scalargrad.viz.draw_graph``; returns the graphviz Digraph.
        """
        from .viz import draw_graph  # optional dependency, imported on use

        return draw_graph(self, path=path, format=format, show=show, rankdir=rankdir,
                          max_nodes=max_nodes, show_grad=show_grad)

    # ---- backward -----------------------------------------------------------

    def backward(self, grad: Number = 1.0, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf below.

        Leaf gradients add up across calls, as in PyTorch; interior gradients
        are recomputed on each call. With ``create_graph=True`` every
        ``.grad`` becomes a Scalar with a graph of its own, so it can be
        differentiated again.
        """
        grad = _checked_float(grad, "backward grad")
        if not self._prev:
            self.grad = self.grad + grad
            return
        leaves = set()
        topo = _topological_order(self, leaves)
        for node in topo:
            node.grad = 0.0
        # Leaves that already hold a gradient gather this call's gradient from
        # zero and add it to the old one once at the end, as torch does, so
        # backward twice gives exactly twice the gradient (adding edge by
        # edge onto the old value would round differently).
        held = [(leaf, leaf.grad) for leaf in leaves]
        for leaf, _ in held:
            leaf.grad = 0.0
        self.grad = grad
        if create_graph:
            with enable_grad():
                for node in reversed(topo):
                    g = node.grad
                    local = node._rule(ScalarMath, node._prev, node, node._ctx)
                    for p, d in zip(node._prev, local):
                        p.grad = p.grad + g * d
        else:
            # The hot loop: one multiply-add per edge, no calls.
            for node in reversed(topo):
                g = node.grad
                for p, d in zip(node._prev, node._local):
                    p.grad += g * d
        for leaf, old in held:
            leaf.grad = old + leaf.grad


def _data_of(value) -> float | None:
    if isinstance(value, Scalar):
        return value.data
    if isinstance(value, (int, float)):
        return value
    return None


def _topological_order(root: Scalar, leaves: set | None = None) -> list:
    """Interior nodes reachable from root, every node after all its parents.

    Iterative depth-first search, so depth is never limited by recursion.
    A node is pushed with a ``None`` marker below its parents; when the
    marker comes off the stack all its parents are done and the node is
    appended. The stack holds only references (no per-node tuples or
    iterators), which keeps the cyclic GC from waking up during the sort.
    Leaves are left out of the order (they only receive gradient and never
    pass it on); those already holding a nonzero gradient are added to
    ``leaves`` when a set is given.
    """
    order = []
    seen = set()
    stack = [root]
    push, pop, finish, mark = stack.append, stack.pop, order.append, seen.add
    add_leaf = (set() if leaves is None else leaves).add
    while stack:
        node = pop()
        if node is None:
            finish(pop())
            continue
        if node in seen:
            continue
        mark(node)
        push(node)
        push(None)
        for p in node._prev:
            if p._prev:
                if p not in seen:
                    push(p)
            elif p.grad:
                add_leaf(p)
    return order


# --------------------------------------------------------------------------
# Node constructors and the derivative rules, op by op.
# --------------------------------------------------------------------------

_ONE = (1.0,)
_MINUS_ONE = (-1.0,)
_ONE_ONE = (1.0, 1.0)
_ONE_MINUS_ONE = (1.0, -1.0)


def _unary(x: Scalar, y: float, rule: Callable, ctx=None) -> Scalar:
    return _node(y, (x,), rule(FloatMath, (x.data,), y, ctx), rule, ctx)


def _binary(a: Scalar, b: Scalar, y: float, rule: Callable) -> Scalar:
    return _node(y, (a, b), rule(FloatMath, (a.data, b.data), y, None), rule)


# rule(M, xs, y, ctx) -> local derivatives d y / d xs[i]

def _add_rule(M, xs, y, c):  # y = a + b (or a + const, or identity)
    return _ONE_ONE if len(xs) == 2 else _ONE


def _sub_rule(M, xs, y, c):  # y = a - b
    return _ONE_MINUS_ONE


def _neg_rule(M, xs, y, c):  # y = -x (or const - x)
    return _MINUS_ONE


def _mul_rule(M, xs, y, c):  # y = a * b
    a, b = xs
    return (b, a)


def _scale_rule(M, xs, y, c):  # y = c * x
    return (c,)


def _div_rule(M, xs, y, c):  # y = a / b; torch: d/db = -(a / b) / b, finite where b * b is not
    b = xs[1]
    return (M.div(1.0, b), M.div(-y, b))


def _rdiv_rule(M, xs, y, c):  # y = c / x
    (x,) = xs
    return (M.div(-c, x * x),)


def _pow_const_rule(M, xs, y, c):  # y = x ** c; torch: zero gradient when c == 0
    return (0.0,) if c == 0.0 else (c * M.pow(xs[0], c - 1.0),)


def _exp_base_rule(M, xs, y, c):  # y = c ** x; torch masks c == 0, x >= 0 to 0
    if c == 0.0 and xs[0] >= 0.0:
        return (0.0,)
    return (y * M.log(c),)


def _pow_rule(M, xs, y, c):  # y = a ** b, both recorded
    a, b = xs
    da = 0.0 if b == 0.0 else b * M.pow(a, b - 1.0)
    db = 0.0 if (a == 0.0 and b >= 0.0) else y * M.log(a)
    return (da, db)


def _abs_rule(M, xs, y, c):  # y = |x|; torch: sgn(x), which is 0 at 0 and at nan
    x = xs[0]
    return (1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0,)


def _exp_rule(M, xs, y, c):  # y = e^x
    return (y,)


def _log_rule(M, xs, y, c):  # y = log x
    return (M.div(1.0, xs[0]),)


def _log1p_rule(M, xs, y, c):  # y = log(1 + x)
    return (M.div(1.0, 1.0 + xs[0]),)


def _sqrt_rule(M, xs, y, c):  # y = sqrt x
    return (M.div(0.5, y),)


def _sin_rule(M, xs, y, c):  # y = sin x
    return (M.cos(xs[0]),)


def _cos_rule(M, xs, y, c):  # y = cos x
    return (-M.sin(xs[0]),)


def _tanh_rule(M, xs, y, c):  # y = tanh x
    return (1.0 - y * y,)


def _arctanh_rule(M, xs, y, c):  # y = artanh x
    x = xs[0]
    return (M.div(1.0, 1.0 - x * x),)


def _sigmoid_rule(M, xs, y, c):  # y = sigmoid x
    return (y * (1.0 - y),)


def _relu_rule(M, xs, y, c):  # y = max(x, 0); torch: gradient 0 where x <= 0 (not at nan)
    return (0.0,) if xs[0] <= 0.0 else _ONE


def _leaky_relu_rule(M, xs, y, c):  # y = x if x > 0 else c * x
    return _ONE if xs[0] > 0.0 else (c,)


def _softplus_rule(M, xs, y, c):  # y = log(1 + e^x)
    return (M.sigmoid(xs[0]),)


_OP_NAMES = {
    _add_rule: "+", _sub_rule: "-", _neg_rule: "neg", _mul_rule: "*", _scale_rule: "*",
    _div_rule: "/", _rdiv_rule: "/", _pow_const_rule: "**", _exp_base_rule: "**",
    _pow_rule: "**", _abs_rule: "abs", _exp_rule: "exp", _log_rule: "log",
    _log1p_rule: "log1p", _sqrt_rule: "sqrt", _sin_rule: "sin", _cos_rule: "cos",
    _tanh_rule: "tanh", _arctanh_rule: "arctanh", _sigmoid_rule: "sigmoid",
    _relu_rule: "relu", _leaky_relu_rule: "leaky_relu", _softplus_rule: "softplus",
}


def register_op_name(rule: Callable, name: str) -> None:
    """Give a rule a display name (used by ``Scalar.op`` and graph pictures)."""
    _OP_NAMES[rule] = name


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
    def div(a, b):
        if isinstance(a, Scalar) or isinstance(b, Scalar):
            return a / b
        return _fdiv(a, b)

    @staticmethod
    def pow(a, b):
        if isinstance(a, Scalar) or isinstance(b, Scalar):
            return a ** b
        return _fpow(a, b)
