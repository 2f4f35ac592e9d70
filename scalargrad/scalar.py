"""The autograd engine: a `Scalar` node, the ops that make nodes, and backward.

Read it top to bottom: the node and its builders (one input, two, n), ``Scalar`` with its ops, backward
(the sort, then the propagation), and recomputing a node in place (for replay); the modes are in
``modes.py``. Every op is one block in ``Scalar``: its ``Op`` (``op.py``: name, float value, derivative
rule) and its method; backward, ``create_graph``, replay, anomaly mode, pictures and compiled code
(templates in ``compile/``) all read the op from it.

Why (docs/architecture.md, benchmarks/bench_engine.py): a node keeps its inputs and local derivatives in
its ``__slots__`` and refers to its shared ``Op``, never to a closure over itself, so a graph has no
reference cycles; the topological sort is iterative, so no depth reaches Python's recursion limit.
"""

from __future__ import annotations

import operator
import threading
from contextlib import nullcontext
from typing import Any, Callable, Union

from . import _floats as fl
from ._floats import INF, FloatMath
from ._util.checks import number, one_of, plain_number
from .anomaly import AnomalyError
from .hooks import HookTable, RemovableHandle
from .modes import (
    anomaly_checker,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    mode_block,
    no_grad,
    open_blocks,
    this_thread,
)
from .op import Op, ScalarMath

__all__ = ["AnomalyError", "FloatMath", "Number", "RemovableHandle", "Scalar", "ScalarMath",
           "anomaly_checker", "as_float", "backward_lock", "backward_order", "declaration", "detect_anomaly",
           "enable_grad", "is_grad_enabled", "make_node", "no_grad", "recompute_function", "run_backward"]

Number = Union[int, float]
_NUMBERS = (int, float)  # plain numbers mix with Scalars (bool is an int, as in torch); numpy's: below

# ==== The node. Its slots:
#   leaf or constant:  _op is None, _a is None
#   one input:         _a = input,             _da = d y/d input,       _b = None
#   two inputs:        _a, _b = inputs,        _da, _db = derivatives
#   n inputs:          _a = tuple of inputs,   _da = list of derivatives, _b = None
# _constant is what the op keeps besides its inputs (an exponent, a slope, a target). Every op makes its node
# with the builder for its number of inputs: the hot path, so each is straight-line code setting every slot.

_new = object.__new__  # ops skip Scalar.__init__: its checks cost more than the op, and ops give floats


def unary_node(op_: Op, y: float, constant: Any, x: Scalar) -> Scalar:
    """The node of ``op_``'s value ``y`` over one input ``x`` (a constant under ``no_grad()``)."""
    s = _new(Scalar)
    s.data = y
    s.grad = 0.0
    s.name = None
    s._constant = constant
    s._b = s._db = None
    if open_blocks and not this_thread.grad_enabled:  # open_blocks first: a thread-local read costs more
        s._op = s._a = s._da = None
        return s
    s._op = op_
    s._a = x
    s._da = op_.derivative(FloatMath, x.data, y, constant)
    if open_blocks and this_thread.anomaly is not None:
        this_thread.anomaly.created(s)
    return s


def binary_node(op_: Op, y: float, constant: Any, a: Scalar, b: Scalar) -> Scalar:
    """The node of ``op_``'s value ``y`` over two inputs ``a``, ``b`` (a constant under ``no_grad()``)."""
    s = _new(Scalar)
    s.data = y
    s.grad = 0.0
    s.name = None
    s._constant = constant
    if open_blocks and not this_thread.grad_enabled:
        s._op = s._a = s._da = s._b = s._db = None
        return s
    s._op = op_
    s._a = a
    s._b = b
    s._da, s._db = op_.derivative(FloatMath, a.data, b.data, y, constant)
    if open_blocks and this_thread.anomaly is not None:
        this_thread.anomaly.created(s)
    return s


def nary_node(op_: Op, y: float, constant: Any, inputs: tuple, local: list) -> Scalar:
    """The node of ``op_``'s value ``y`` over the tuple ``inputs``, with their local derivatives
    ``local`` (a constant under ``no_grad()`` or with no inputs)."""
    s = _new(Scalar)
    s.data = y
    s.grad = 0.0
    s.name = None
    s._constant = constant
    s._b = s._db = None
    if not inputs or (open_blocks and not this_thread.grad_enabled):
        s._op = s._a = s._da = None
        return s
    s._op = op_
    s._a = inputs
    s._da = local
    if open_blocks and this_thread.anomaly is not None:
        this_thread.anomaly.created(s)
    return s


def make_node(op_: Op, inputs: tuple, y: float, constant: Any = None, local: list | None = None) -> Scalar:
    """A node for ``op_`` with value ``y`` over the Scalars ``inputs``, by the op's arity. ``local``
    (n-ary ops only) gives the local derivatives when the caller has them; otherwise the rule does."""
    if op_.arity == 1:
        return unary_node(op_, y, constant, inputs[0])
    if op_.arity == 2:
        return binary_node(op_, y, constant, inputs[0], inputs[1])
    if local is None and inputs and (not open_blocks or this_thread.grad_enabled):
        local = op_.derivative(FloatMath, [x.data for x in inputs], y, constant)
    return nary_node(op_, y, constant, tuple(inputs), local if local is not None else [])


def _function(op_: Op, doc: str) -> Callable[[Scalar], Scalar]:
    """The ``Scalar`` method of a one-input op: its value by the op's own float function, then the node."""
    value = op_.value
    def method(self: Scalar) -> Scalar:
        return unary_node(op_, value(self.data), None, self)
    method.__name__, method.__doc__, method.op = op_.name, doc, op_  # .op is public: losses reuse relu's rule
    return method


def _operator(with_scalar: Op | None, with_number: Op, name: str = "", doc: str = "") -> Callable[..., Any]:
    """An arithmetic method from its ops: ``with_scalar`` for a Scalar on the other side (None for reflected
    methods), ``with_number`` (the number its constant) for a number; a ``name``d one raises TypeError."""
    number_value = with_number.value
    scalar_value = with_scalar.value if with_scalar is not None else None
    def method(self: Scalar, other: Any) -> Any:
        if isinstance(other, Scalar) and with_scalar is not None:
            return binary_node(with_scalar, scalar_value(self.data, other.data), None, self, other)
        if isinstance(other, _NUMBERS):
            c = float(other)
            return unary_node(with_number, number_value(self.data, c), c, self)
        if (c := plain_number(other)) is None and name:
            raise TypeError(f"{name}: other must be a Scalar or a number, got {type(other).__name__}")
        return NotImplemented if c is None else method(self, float(c))  # numpy
    method.__name__, method.__doc__ = name or method.__name__, doc or None
    return method


def _compare(test: Callable[[float, float], bool]) -> Callable[[Scalar, Any], Any]:
    """A comparison method: on the data, with a Scalar or a plain number."""
    def method(self: Scalar, y: Any) -> Any:
        c = y.data if isinstance(y, Scalar) else y if isinstance(y, _NUMBERS) else plain_number(y)  # numpy's
        return NotImplemented if c is None else test(self.data, c)
    return method


def as_float(value: Any, what: str) -> float:
    """``value`` as a float; TypeError naming the type for anything that is not a real number."""
    if isinstance(value, Scalar):
        raise TypeError(f"{what} must be an int or float, got Scalar; use .data or .detach()")
    return value if type(value) is float else number(value, what)


class Scalar:
    """A float that remembers how it was computed, so gradients can flow back.

    >>> x0, w0, b = Scalar(0.1, name='x0'), Scalar(0.3, name='w0'), Scalar(0.5, name='b')
    >>> f = x0 * w0 + b; f.backward(); round(f.data, 2), round(w0.grad, 2)
    (0.53, 0.1)
    """

    __slots__ = ("__weakref__", "_a", "_b", "_constant", "_da", "_db", "_op", "data", "grad", "name")
    __array_ufunc__ = None  # numpy hands its numbers to our methods: np.float32(2) * x is a Scalar too

    def __init__(self, data: Number, name: str | None = None) -> None:
        self.data = as_float(data, "Scalar data")
        self.grad = 0.0
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Scalar name must be a str, got {type(name).__name__}")
        self.name = name
        self._a = self._b = self._da = self._db = self._op = self._constant = None

    # ---- basics -----------------------------------------------------------

    @property
    def is_leaf(self) -> bool:
        """True for a value that no recorded op produced (inputs, parameters)."""
        return self._a is None

    @property
    def parents(self) -> tuple[Scalar, ...]:
        """The Scalars this one was computed from (empty for a leaf)."""
        a = self._a
        return () if a is None else a if type(a) is tuple else (a,) if self._b is None else (a, self._b)

    @property
    def op(self) -> str:
        """Name of the op that produced this value ('' for a leaf)."""
        return "" if self._op is None else self._op.display_name(self._constant)

    def __repr__(self) -> str:
        name = f", name={self.name!r}" if self.name is not None else ""
        return f"Scalar(data={self.data!r}, grad={self.grad!r}{name})"

    def __float__(self) -> float:
        if open_blocks and this_thread.recording_rule is not None:  # math.exp(x) in a rule: graph lost
            raise this_thread.recording_rule.float_in_rule_error()
        return self.data

    def __bool__(self) -> bool:
        return self.data != 0.0

    def detach(self) -> Scalar:
        """A new leaf with the same value, cut off from this graph."""
        return Scalar(self.data)

    # Comparisons read the data and return bools (as PyTorch's one-element tensors); hashing is by identity.
    __hash__ = object.__hash__

    __eq__, __ne__, __lt__, __le__, __gt__, __ge__ = (_compare(test) for test in (
        operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge))

    # ---- arithmetic: each op is Op(name, float value, derivative rule), the rule taking (maths, the
    # inputs, the output y, the op's constant) and giving d y/d input for each input. An operator has two
    # ops: one with a Scalar on the other side, one with a plain number, which becomes the op's constant.

    # + - * are written out: the commonest ops, and an inline operator beats calling the declared one.
    _add = Op("+", operator.add, lambda maths, a, b, y, constant: (1.0, 1.0), arity=2)
    _add_constant = Op("+", operator.add, lambda maths, x, y, constant: 1.0, constant=True)

    def __add__(self, other):
        if isinstance(other, Scalar):
            return binary_node(Scalar._add, self.data + other.data, None, self, other)
        if isinstance(other, _NUMBERS):
            c = float(other)
            return unary_node(Scalar._add_constant, self.data + c, c, self)
        return NotImplemented if (c := plain_number(other)) is None else self + float(c)  # numpy numbers

    __radd__ = __add__

    _sub = Op("-", operator.sub, lambda maths, a, b, y, constant: (1.0, -1.0), arity=2)
    _sub_constant = Op("-", operator.sub, lambda maths, x, y, constant: 1.0, constant=True)

    def __sub__(self, other):
        if isinstance(other, Scalar):
            return binary_node(Scalar._sub, self.data - other.data, None, self, other)
        if isinstance(other, _NUMBERS):
            c = float(other)
            return unary_node(Scalar._sub_constant, self.data - c, c, self)
        return NotImplemented if (c := plain_number(other)) is None else self - float(c)

    _subtract_from = Op("-", lambda x, constant: constant - x,  # y = constant - x
                        lambda maths, x, y, constant: -1.0, constant=True)
    __rsub__ = _operator(None, _subtract_from)

    _mul = Op("*", operator.mul, lambda maths, a, b, y, constant: (b, a), arity=2)
    _scale = Op("*", operator.mul, lambda maths, x, y, constant: constant, constant=True)

    def __mul__(self, other):
        if isinstance(other, Scalar):
            return binary_node(Scalar._mul, self.data * other.data, None, self, other)
        if isinstance(other, _NUMBERS):
            c = float(other)
            return unary_node(Scalar._scale, self.data * c, c, self)
        return NotImplemented if (c := plain_number(other)) is None else self * float(c)

    __rmul__ = __mul__

    # d/db written -(a / b) / b as torch, finite where b * b is not
    _div = Op("/", fl.div, lambda maths, a, b, y, constant: (maths.div(1.0, b), maths.div(-y, b)), arity=2)
    _div_by_constant = Op("/", fl.div, lambda maths, x, y, constant: maths.div(1.0, constant), constant=True)
    __truediv__ = _operator(_div, _div_by_constant)

    # y = constant / x: d/dx is -constant * (1/x)**2, with r = 1/x computed once, as torch does it
    _divide_constant = Op("/", lambda x, constant: fl.div(constant, x), constant=True,
                          derivative=lambda maths, x, y, constant: -constant * ((r := maths.div(1.0, x)) * r))
    __rtruediv__ = _operator(None, _divide_constant)

    # as torch: d/da is 0 where b == 0, d/db is 0 where a == 0 and b >= 0 (no 0 * -inf = nan)
    _pow = Op("**", fl.pow, arity=2, derivative=lambda maths, a, b, y, constant: (
        0.0 if b == 0.0 else b * maths.pow(a, b - 1.0),
        0.0 if (a == 0.0 and b >= 0.0) else y * maths.log(a)))
    _pow_constant = Op("**", fl.pow, lambda maths, x, y, constant:  # y = x ** constant
                       0.0 if constant == 0.0 else constant * maths.pow(x, constant - 1.0), constant=True)
    __pow__ = _operator(_pow, _pow_constant)
    pow = _operator(_pow, _pow_constant, "pow", "x ** other (a Scalar or a number): ``**`` as a method.")

    # y = constant ** x: y log(constant), 0 where constant == 0 and x >= 0, as torch
    _constant_pow = Op("**", lambda x, constant: fl.pow(constant, x), lambda maths, x, y, constant:
                       0.0 if (constant == 0.0 and x >= 0.0) else y * maths.log(constant), constant=True)
    __rpow__ = _operator(None, _constant_pow)

    _neg = Op("neg", operator.neg, lambda maths, x, y, constant: -1.0)
    __neg__ = _function(_neg, "-x.")

    def __pos__(self):
        return self

    # ---- functions: each method is made from its op's declaration (value and rule) -------------

    _abs = Op("abs", abs, lambda maths, x, y, constant: 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0)
    abs = __abs__ = _function(_abs, "|x|; the gradient at 0 (and at nan) is 0, as in PyTorch.")
    _exp = Op("exp", fl.exp, lambda maths, x, y, constant: y)
    exp = _function(_exp, "e**x (inf when it overflows).")
    _log = Op("log", fl.log, lambda maths, x, y, constant: maths.div(1.0, x))
    log = _function(_log, "Natural log (-inf at 0, nan below).")
    _log1p = Op("log1p", fl.log1p, lambda maths, x, y, constant: maths.div(1.0, 1.0 + x))
    log1p = _function(_log1p, "log(1 + x), accurate for small x.")
    _sqrt = Op("sqrt", fl.sqrt, lambda maths, x, y, constant: maths.div(0.5, y))
    sqrt = _function(_sqrt, "Square root (nan below 0).")
    _sin = Op("sin", fl.sin, lambda maths, x, y, constant: maths.cos(x))
    sin = _function(_sin, "Sine.")
    _cos = Op("cos", fl.cos, lambda maths, x, y, constant: -maths.sin(x))
    cos = _function(_cos, "Cosine.")
    _tanh = Op("tanh", fl.tanh, lambda maths, x, y, constant: 1.0 - y * y)
    tanh = _function(_tanh, "Hyperbolic tangent (stable for any input).")
    _arctanh = Op("arctanh", fl.atanh, lambda maths, x, y, constant: maths.div(1.0, 1.0 - x * x))
    arctanh = _function(_arctanh, "Inverse hyperbolic tangent (+-inf at +-1, nan outside).")
    _sigmoid = Op("sigmoid", fl.sigmoid, lambda maths, x, y, constant: y * (1.0 - y))
    sigmoid = _function(_sigmoid, "1 / (1 + e**-x) (stable for any input).")
    _relu = Op("relu", fl.relu, lambda maths, x, y, constant: 0.0 if x <= 0.0 else 1.0)  # torch: 1 at nan
    relu = _function(_relu, "max(x, 0), keeping nan; the gradient at 0 is 0, as in PyTorch.")
    _softplus = Op("softplus", fl.softplus, lambda maths, x, y, constant: maths.sigmoid(x))  # neurons' own
    _softplus_beta = Op("softplus", fl.softplus_beta, lambda maths, x, y, c:  # c: (beta, threshold)
                        1.0 if x * c[0] > c[1] else maths.sigmoid(x * c[0]), constant=True)
    def softplus(self, beta: float = 1.0, threshold: float = INF) -> Scalar:
        """log(1 + e**(beta x)) / beta, stable for any input; x where beta x > threshold (F.softplus: 20)."""
        c = (number(beta, "beta"), number(threshold, "threshold"))
        return unary_node(Scalar._softplus_beta, fl.softplus_beta(self.data, c), c, self)

    _identity = Op("identity", fl.identity, lambda maths, x, y, constant: 1.0)
    identity = _function(_identity, "x itself, as a node (so activations can be chosen by name).")

    _leaky_relu = Op("leaky_relu", fl.leaky_relu, lambda maths, x, y, constant: 1.0 if x > 0.0 else constant,
                     constant=True)
    def leaky_relu(self, slope: float = 0.01) -> Scalar:
        """x for x > 0, slope * x otherwise."""
        return unary_node(Scalar._leaky_relu, fl.leaky_relu(self.data, c := number(slope, "slope")), c, self)

    # ---- more of torch's functions, as torch float64 computes them: ties, bounds, inf and nan included
    _erf = Op("erf", fl.erf, lambda maths, x, y, constant: fl.TWO_OVER_SQRT_PI * maths.exp(-(x * x)))
    erf = _function(_erf, "The error function (+-1 at +-inf).")
    _tan = Op("tan", fl.tan, lambda maths, x, y, constant: 1.0 + y * y)
    tan = _function(_tan, "Tangent (nan at +-inf).")
    _asin = Op("asin", fl.asin, lambda maths, x, y, constant: maths.div(1.0, maths.sqrt(1.0 - x * x)))
    asin = _function(_asin, "Inverse sine: nan outside [-1, 1], and the gradient inf at +-1.")
    _acos = Op("acos", fl.acos, lambda maths, x, y, constant: -maths.div(1.0, maths.sqrt(1.0 - x * x)))
    acos = _function(_acos, "Inverse cosine: nan outside [-1, 1], and the gradient -inf at +-1.")
    _atan = Op("atan", fl.atan, lambda maths, x, y, constant: maths.div(1.0, x * x + 1.0))
    atan = _function(_atan, "Inverse tangent (+-pi/2 at +-inf).")
    _sinh = Op("sinh", fl.sinh, lambda maths, x, y, constant: maths.cosh(x))
    sinh = _function(_sinh, "Hyperbolic sine (+-inf when it overflows).")
    _cosh = Op("cosh", fl.cosh, lambda maths, x, y, constant: maths.sinh(x))
    cosh = _function(_cosh, "Hyperbolic cosine (inf when it overflows).")
    _square = Op("square", fl.square, lambda maths, x, y, constant: 2.0 * x)
    square = _function(_square, "x * x.")
    _sign = Op("sign", fl.sign, lambda maths, x, y, constant: 0.0)
    sign = _function(_sign, "1, -1 or 0, with gradient 0. As in PyTorch, the sign of nan is 0, not nan.")
    _silu = Op("silu", fl.silu, lambda maths, x, y, constant: (s := maths.sigmoid(x)) * (1.0 + x * (1.0 - s)))
    silu = _function(_silu, "x * sigmoid(x). As in PyTorch: nan at -inf, and the gradient nan at +-inf.")
    _softsign = Op("softsign", fl.softsign, lambda maths, x, y, c: 1.0 / (d := abs(x) + 1.0) - abs(x) / d / d)
    softsign = _function(_softsign, "x / (1 + |x|). As in PyTorch, value and gradient are nan at +-inf.")
    _logsigmoid = Op("logsigmoid", fl.logsigmoid, lambda maths, x, y, constant: maths.sigmoid(-x))
    logsigmoid = _function(_logsigmoid, "log(sigmoid(x)), stable for any input.")
    _gelu = Op("gelu", fl.gelu, lambda maths, x, y, constant:  # Phi(x) + x phi(x), Phi the normal CDF
               0.5 * (1.0 + maths.erf(x * fl.SQRT1_2)) + x * (fl.GELU_PDF * maths.exp(x * x * -0.5)))
    _gelu_tanh = Op("gelu_tanh", fl.gelu_tanh, lambda maths, x, y, constant: 0.5 * (1.0 + (t := maths.tanh(
        fl.GELU_BETA * (x + fl.GELU_KAPPA * (x * x * x))))) + 0.5 * x * (1.0 - t * t) * (
        fl.GELU_BETA * (1.0 + 3.0 * fl.GELU_KAPPA * (x * x))))
    def gelu(self, approximate: str = "none") -> Scalar:
        """x Phi(x), or torch's tanh form (``approximate='tanh'``). As in PyTorch, nan at -inf."""
        tanh_form = one_of(approximate, "approximate", ("none", "tanh")) == "tanh"
        op_ = Scalar._gelu_tanh if tanh_form else Scalar._gelu
        return unary_node(op_, op_.value(self.data), None, self)

    _elu = Op("elu", fl.elu, lambda maths, x, y, a: a * maths.exp(x) if x <= 0.0 else 1.0, constant=True)
    def elu(self, alpha: float = 1.0) -> Scalar:
        """x for x > 0, alpha (e**x - 1) otherwise. As in PyTorch, the gradient at 0 is alpha, not 1."""
        return unary_node(Scalar._elu, fl.elu(self.data, a := number(alpha, "alpha")), a, self)

    _clamp = Op("clamp", fl.clamp, lambda maths, x, y, c: 1.0 if c[0] <= x <= c[1] else 0.0, constant=True)
    def clamp(self, min: float | None = None, max: float | None = None) -> Scalar:
        """min(max(x, min), max), a bound None for none. As in PyTorch: max where min > max, and the
        gradient 1 at the bounds themselves (hardtanh's is 0), 0 at nan. ``clip`` is the same."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be a number, not None")
        bounds = (-INF if min is None else number(min, "min"), INF if max is None else number(max, "max"))
        return unary_node(Scalar._clamp, fl.clamp(self.data, bounds), bounds, self)
    clip = clamp
    """``clamp``, by its other name in PyTorch."""
    _hardtanh = Op("hardtanh", fl.clamp, lambda maths, x, y, c: 0.0 if x <= c[0] or x >= c[1] else 1.0,
                   constant=True)
    def hardtanh(self, min_val: float = -1.0, max_val: float = 1.0) -> Scalar:
        """x clamped to [min_val, max_val]. As in PyTorch, the gradient is 0 at the bounds themselves
        (clamp's is 1) and 1 at nan; ValueError if min_val > max_val."""
        if (bounds := (number(min_val, "min_val"), number(max_val, "max_val")))[0] > bounds[1]:
            raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
        return unary_node(Scalar._hardtanh, fl.clamp(self.data, bounds), bounds, self)

    _maximum = Op("maximum", fl.maximum, lambda maths, a, b, y, c: (fl.share(a, b), fl.share(b, a)), arity=2)
    _maximum_constant = Op("maximum", fl.maximum, lambda maths, x, y, c: fl.share(x, c), constant=True)
    maximum = _operator(_maximum, _maximum_constant, "maximum", "max(x, other), other a Scalar or a number; "
                        "nan if either is. As PyTorch, a tie gives each side half the gradient; a nan, all.")
    _minimum = Op("minimum", fl.minimum, lambda maths, a, b, y, c: (fl.share(b, a), fl.share(a, b)), arity=2)
    _minimum_constant = Op("minimum", fl.minimum, lambda maths, x, y, c: fl.share(c, x), constant=True)
    minimum = _operator(_minimum, _minimum_constant, "minimum", "min(x, other), other a Scalar or a number; "
                        "nan if either is. As PyTorch, a tie gives each side half the gradient; a nan, all.")

    # ---- hooks and pictures ----------------------------------------------------

    def register_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(grad)`` when backward has this node's gradient, as in PyTorch.

        It may return a replacement (a number; a Scalar under ``create_graph``) that flows on, or None. A
        leaf's hook sees one pass's gradient before it joins ``.grad``. A hook whose closure refers to its own
        Scalar keeps that graph alive until removed, as in PyTorch.

        >>> x = Scalar(3.0)
        >>> handle = x.register_hook(lambda g: g * 10)
        >>> (x * x).backward(); x.grad
        60.0
        >>> handle.remove()
        """
        if not callable(hook):
            raise TypeError(f"register_hook needs a callable, got {type(hook).__name__}")
        return _HOOKS.add(self, hook)

    def render(self, path: str | None = None, format: str | None = None, show: bool | None = None,
               rankdir: str = "LR", max_nodes: int | None = None, show_grad: bool = True,
               layout_timeout: float = 60.0):
        """Draw this value's graph (needs graphviz; inline in a notebook): ``scalargrad.viz.draw_graph``."""
        from .viz import draw_graph  # façade for an optional extra: viz sits above the engine

        return draw_graph(self, path=path, format=format, show=show, rankdir=rankdir,
                          max_nodes=max_nodes, show_grad=show_grad, layout_timeout=layout_timeout)

    # ---- backward -----------------------------------------------------------

    def backward(self, grad: Number = 1.0, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf below (adding up across calls, as
        in PyTorch). With ``create_graph=True`` every ``.grad`` becomes a Scalar with a graph of its own,
        so it can be differentiated again. A pass that fails leaves every leaf's gradient as it was."""
        grad = as_float(grad, "backward grad")
        if self._a is None:
            seen = _call_hooks(self, grad, create_graph) if id(self) in _HOOKS else grad
            self.grad = seen if self.grad is None else self.grad + seen
            return
        with backward_lock:
            earlier_grads = []
            order = backward_order(self, earlier_grads)
            run_backward(self, order, grad, earlier_grads, create_graph)


SCALAR_OPS = {name.lstrip("_"): op_ for name, op_ in vars(Scalar).items() if isinstance(op_, Op)}
"""Scalar's ops by name (``"add"``, ``"exp"``, ...), for functional's neurons and compile's templates."""

# ==== Backward, part 1: the topological sort.

class _Visited:
    """Marks, in ``grad``, an interior node the topological sort has reached."""
    __repr__ = lambda self: "<being sorted for backward>"


_VISITED = _Visited()


def backward_order(root: Scalar, earlier_grads: list) -> list:
    """Interior nodes reachable from root, every node after all its inputs, gradients zeroed.

    Iterative depth-first search: a node is pushed with a ``None`` marker below its inputs, and appended when
    the marker comes off the stack (no per-node tuples to wake the cyclic GC). Not ``walk.reading_order``: it
    marks a node in its ``grad`` slot, not in a set (slow on PyPy for millions), and zeroes gradients. A
    leaf's earlier gradient goes to ``earlier_grads`` as ``(leaf, old)``, added back at the end as torch."""
    order = []
    stack = [root]
    push, pop, finish = stack.append, stack.pop, order.append  # bound methods: no attribute lookup per node
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
                elif p.grad != 0.0:  # a gradient from earlier calls (or None: zero_grad(set_to_none))
                    earlier_grads.append((p, p.grad))
                    p.grad = 0.0
    except BaseException:  # e.g. Ctrl-C mid-sort: leave no marks behind, and the leaves as they were
        for node in order + stack:
            if node is not None and node.grad is visited:
                node.grad = 0.0
        for leaf, old in earlier_grads:
            leaf.grad = old
        raise
    for node in order:
        node.grad = 0.0
    return order


# ==== Backward, part 2: the propagation.

_HOOKS = HookTable()


def _call_hooks(node: Scalar, grad: Any, create_graph: bool) -> Any:
    """Run ``node``'s hooks; a Scalar returned outside ``create_graph`` counts as its value."""
    def accept(result: Any, current: Any) -> Any:
        if result is None:
            return current
        if not isinstance(result, (Scalar, int, float)) or isinstance(result, bool):
            raise TypeError(f"a gradient hook returned {type(result).__name__}; "
                            "return a number, a Scalar or None")
        return result if create_graph and isinstance(result, Scalar) else float(result)
    return _HOOKS.call(node, grad, accept)


# One backward pass at a time: the sort marks nodes in their grad slots, so two passes over a shared graph
# in two threads would corrupt each other. (The GIL runs one anyway.)
backward_lock = threading.RLock()


def run_backward(root: Scalar, order: list, grad: float, earlier_grads: list, create_graph: bool) -> None:
    """Seed ``root`` with ``grad``, run the pass over ``order``, then add the leaves' earlier gradients
    back. All or nothing for leaves, as in torch: if the pass fails (a hook raises, ``AnomalyError``,
    Ctrl-C), every leaf keeps the gradient it had before."""
    root.grad = grad
    try:
        if create_graph or _HOOKS or anomaly_checker() is not None:
            with enable_grad() if create_graph else nullcontext():
                hooked_leaves = _propagate_general(order, create_graph)
            for leaf in hooked_leaves:  # a leaf's hooks see the sum of this pass, before it is added
                leaf.grad = _call_hooks(leaf, leaf.grad, create_graph)
        else:
            _propagate(order)
    except BaseException:
        before = {id(leaf): old for leaf, old in earlier_grads}
        for node in order:
            for p in node.parents:
                if p._a is None:
                    p.grad = before.get(id(p), 0.0)
        raise
    for leaf, old in earlier_grads:
        leaf.grad = leaf.grad if old is None else old + leaf.grad


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
    hooks, anomaly = _HOOKS, anomaly_checker()
    hooked_leaves = {}
    for node in reversed(order):
        g = node.grad
        if hooks and id(node) in hooks:
            g = node.grad = _call_hooks(node, g, create_graph)
        a, b = node._a, node._b
        parents = a if type(a) is tuple else (a,) if b is None else (a, b)
        if create_graph:
            with mode_block("recording_rule", node._op):  # Scalar.__float__ refuses while a rule records
                local = node._op.local_derivatives(parents, node, node._constant, ScalarMath)
        else:
            local = node._da if type(a) is tuple else (node._da,) if b is None else (node._da, node._db)
        for i, (p, d) in enumerate(zip(parents, local)):
            v = g * d
            if anomaly is not None:
                anomaly.check_backward(node, i, g, d, v)
            pg = p.grad
            # a recorded first contribution is the gradient itself: no "0 + v" node in its graph
            first = create_graph and type(pg) is float and pg == 0.0 and isinstance(v, Scalar)
            p.grad = v if first else pg + v
            if hooks and p._a is None and id(p) in hooks:
                hooked_leaves[id(p)] = p
    return list(hooked_leaves.values())


# ==== Recomputing a node in place (what scalargrad.replay runs at each step), and reading its op.

def declaration(node: Scalar) -> tuple[Op | None, Any]:
    """``node``'s ``Op`` and constant, ``(None, None)`` for a leaf (``scalargrad.compile`` reads them)."""
    return node._op, node._constant


def _recompute_unary(node: Scalar) -> None:
    x, constant, op_ = node._a.data, node._constant, node._op
    node.data = y = op_.value(x, constant) if op_.constant else op_.value(x)
    node._da = op_.derivative(FloatMath, x, y, constant)


def _recompute_binary(node: Scalar) -> None:
    a, b, constant, op_ = node._a.data, node._b.data, node._constant, node._op
    node.data = y = op_.value(a, b, constant) if op_.constant else op_.value(a, b)
    node._da, node._db = op_.derivative(FloatMath, a, b, y, constant)


def _recompute_nary(node: Scalar) -> None:
    xs, constant, op_ = [p.data for p in node._a], node._constant, node._op
    node.data = y = op_.value(xs, constant) if op_.constant else op_.value(xs)
    node._da = op_.derivative(FloatMath, xs, y, constant)


_CUSTOM_RECOMPUTES: dict[Op, Callable] = {}  # one in-place closure per op: a replayed step runs it per node


def _custom_recompute(op_: Op) -> Callable[[Scalar], None]:
    recompute = op_.recompute

    def run(node: Scalar) -> None:
        node.data, node._da = recompute(node._a, node._constant)
    return _CUSTOM_RECOMPUTES.setdefault(op_, run)


def recompute_function(node: Scalar) -> Callable[[Scalar], None] | None:
    """The function that recomputes ``node``'s value and local derivatives in place from its
    inputs' current data, with the op's own float code (None if its op cannot be replayed)."""
    op_ = node._op
    if op_ is None or not op_.replayable:
        return None
    if op_.recompute is not None:
        return _CUSTOM_RECOMPUTES.get(op_) or _custom_recompute(op_)
    return {1: _recompute_unary, 2: _recompute_binary, "n": _recompute_nary}[op_.arity]

