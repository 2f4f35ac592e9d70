"""micrograd's API on scalargrad's engine: ``Value``, ``Module``, ``Neuron``, ``Layer`` and ``MLP``.

Code written for micrograd (0.1.0 from PyPI, or the version built in its lecture, which adds
``tanh``, ``exp`` and ``label``) runs with only its import line changed::

    from micrograd.engine import Value            # becomes
    from scalargrad.compat.micrograd import Value
    from micrograd.nn import Neuron, Layer, MLP   # becomes
    from scalargrad.compat.micrograd import Neuron, Layer, MLP

>>> a, b = Value(-4.0), Value(2.0)
>>> c = (a * b + b**3).relu() + 1
>>> c.backward()
>>> c, a.grad, b.grad, c._op
(Value(data=1.0, grad=1.0), 0.0, 0.0, '+')

Each operator builds the graph micrograd builds: ``a - b`` is ``a + (-b)``, ``-b`` is ``b * -1``,
``a / b`` is ``a * b**-1``, and a plain number becomes a leaf ``Value``. So a graph drawn from
``_prev`` and ``_op`` (micrograd's ``draw_dot``) looks as micrograd draws it, and the values are
micrograd's float for float; gradients agree to rounding (summed in another order).

The lecture's backward pass by hand works as there: ``_backward()`` on a node adds its ``grad`` times
each local derivative into its inputs' ``grad`` (``+=``, so ``a + a`` gives ``a`` twice), and does
nothing on a leaf; so ``o.grad = 1.0; o._backward(); n._backward(); ...``, or the lecture's loop
``for node in reversed(topo): node._backward()``, gives the lecture's numbers. ``backward()`` runs
scalargrad's engine instead: the same numbers, to rounding (it adds them up in its own order).

>>> x, w = Value(2.0, label='x'), Value(-3.0, label='w')
>>> xw = x * w
>>> y = xw + x
>>> y.grad = 1.0
>>> y._backward()      # +: y.grad times 1 into each input
>>> xw._backward()     # *: xw.grad times w.data into x, times x.data into w
>>> x.grad, w.grad, xw.grad
(-2.0, 2.0, 1.0)

Each ``_backward()`` reads the current ``data`` of the node and of its inputs, as micrograd's closures
read ``.data`` when they run. Edit a value by hand and the numbers are still micrograd's, but for
``tanh`` (micrograd's closure keeps the output it computed when the node was made) and ``relu`` (it
looks at its output, scalargrad's rule at its input): those two differ only once the graph's values
no longer follow from each other. ``backward()`` uses the local derivatives computed when the graph
was built, so after editing ``data``, run the forward pass again (as the lecture does) before either.

What differs from micrograd: ``data`` and ``grad`` are always floats (micrograd keeps ints as
given: ``Value(0)``); wrong input fails with a TypeError or ValueError that names it (``**`` with
a Value exponent, a Neuron fed the wrong number of inputs, a string as data); and ``backward()``
is scalargrad's engine, so deep graphs need no raised recursion limit, and calling
``backward()`` twice gives leaves exactly twice the gradient.

Why ``Value`` wraps a ``Scalar`` instead of being one (or a subclass): micrograd's ``_op`` is the
op's name, a string that ``draw_dot`` prints, while in the engine a node's ``_op`` slot holds the
op's declaration that backward reads; and the engine's one node builder makes ``Scalar`` nodes, so
a subclass's arithmetic would hand back plain Scalars without ``_prev``. A ``Value`` is therefore
one small object per node: the ``Scalar`` that does the maths (``value.scalar``, the way into the
rest of scalargrad), the children it was made from, and the op's name. No Value refers back to
its own result (micrograd's ``_backward`` closures do, a reference cycle per node), so a graph
is freed as soon as its output is dropped: ``_backward`` is a method, which gets the node's local
derivatives from its op's declaration (``scalargrad.extend.local_derivatives``, which the
explorable graph shows). ``benchmarks/bench_compat.py`` times micrograd's demo.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Any, Union

from .._util.checks import boolean, plain_number, positive_int
from ..extend import Scalar, as_float, local_derivatives
from ..nn import Linear, Sequential

__all__ = ["MLP", "Layer", "Module", "Neuron", "Value"]

Number = Union[int, float]
_new = object.__new__  # op results skip Value.__init__: their data is already a checked float


def _operand(other: Any) -> Value | None:
    """``other`` as a Value: itself, a plain number as a new leaf (as micrograd does), else None."""
    if isinstance(other, Value):
        return other
    number = plain_number(other)
    return None if number is None else Value(number)


def _result(scalar: Scalar, child: Value, op: str) -> Value:
    """The Value of a one-input op: the engine's node ``scalar``, made by ``op`` from ``child``."""
    value = _new(Value)
    value.scalar = scalar
    value._left = child
    value._right = None
    value._others = ()
    value._op_name = op
    return value


class Value:
    """One number of a micrograd graph: ``data``, ``grad``, the children it was made from (``_prev``)
    and the op that made it (``_op``); the engine's ``Scalar`` underneath is ``value.scalar``.

    >>> x = Value(2.0, label='x')
    >>> y = x * x + 1
    >>> y.backward()
    >>> y.data, x.grad, y._op, sorted(child.data for child in y._prev)
    (5.0, 4.0, '+', [1.0, 4.0])
    """

    # An op keeps its one or two children in two slots, not in a tuple per node: one object fewer per
    # node for the cyclic garbage collector to walk (measured: a third less time with it on). A Value
    # made by hand keeps its children, however many, in _others.
    __slots__ = ("_left", "_op_name", "_others", "_right", "scalar")
    __array_ufunc__ = None  # numpy numbers hand their operators to ours: np.int64(-1) * v is a Value

    def __init__(self, data: Number, _children: Iterable[Value] = (), _op: str = "", label: str = "") -> None:
        children = tuple(_children)
        for child in children:
            if not isinstance(child, Value):
                raise TypeError(f"Value children must be Values, got {type(child).__name__}")
        if not isinstance(_op, str):
            raise TypeError(f"Value _op must be a str, got {type(_op).__name__}")
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        self.scalar = Scalar(as_float(data, "Value data"), label or None)
        self._left = self._right = None
        self._others = children
        self._op_name = _op

    # ---- what micrograd's users and its draw_dot read and write -------------

    @property
    def data(self) -> float:
        """The number (assign to it to update a parameter: ``p.data -= lr * p.grad``)."""
        return self.scalar.data

    @data.setter
    def data(self, value: Number) -> None:
        self.scalar.data = as_float(value, "Value data")

    @property
    def grad(self) -> float:
        """d(output)/d(this value) after ``output.backward()``; ``p.grad = 0`` resets it."""
        return self.scalar.grad

    @grad.setter
    def grad(self, value: Number) -> None:
        self.scalar.grad = as_float(value, "Value grad")

    @property
    def label(self) -> str:
        """A name for pictures ('' for none); it is the Scalar's ``name``."""
        return self.scalar.name or ""

    @label.setter
    def label(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"Value label must be a str, got {type(text).__name__}")
        self.scalar.name = text or None

    @property
    def _prev(self) -> set[Value]:
        """The Values this one was made from, as a set (empty for a leaf), as micrograd keeps them."""
        children = {self._left, self._right, *self._others}
        children.discard(None)
        return children

    @property
    def _op(self) -> str:
        """The name of the op that made this value ('' for a leaf): '+', '*', '**2', 'ReLU', ..."""
        return self._op_name

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    # ---- arithmetic: each result's number and derivatives come from the engine's op --

    # + and * are the hot path of every neuron: written out, with no calls but the engine's op
    def __add__(self, other: Any) -> Value:
        if type(other) is not Value:
            other = _operand(other)
            if other is None:
                return NotImplemented
        out = _new(Value)
        out.scalar = self.scalar + other.scalar
        out._left, out._right, out._others = self, other, ()
        out._op_name = "+"
        return out

    def __mul__(self, other: Any) -> Value:
        if type(other) is not Value:
            other = _operand(other)
            if other is None:
                return NotImplemented
        out = _new(Value)
        out.scalar = self.scalar * other.scalar
        out._left, out._right, out._others = self, other, ()
        out._op_name = "*"
        return out

    def __rpow__(self, base: Any) -> Value:
        raise TypeError(f"{type(base).__name__} ** Value: micrograd raises only Values to a power; for a "
                        "Value exponent use scalargrad: base ** x.scalar")

    def __pow__(self, exponent: Number) -> Value:
        if isinstance(exponent, (Value, Scalar)):
            raise TypeError(f"Value ** {type(exponent).__name__}: the exponent must be an int or float, as "
                            "in micrograd; for a variable exponent use scalargrad: x.scalar ** y.scalar")
        number = plain_number(exponent)
        if number is None:
            return NotImplemented
        return _result(self.scalar ** number, self, f"**{number}")

    # micrograd writes the rest with the ops above, so its graphs hold only +, *, ** and functions
    def __neg__(self) -> Value:
        return self * -1

    def __sub__(self, other: Any) -> Value:
        return self + (-other)

    def __truediv__(self, other: Any) -> Value:
        if isinstance(other, Value):
            return self * other**-1
        number = plain_number(other)
        return NotImplemented if number is None else self * number**-1

    def __radd__(self, other: Any) -> Value:
        return self + other

    def __rmul__(self, other: Any) -> Value:
        return self * other

    def __rsub__(self, other: Any) -> Value:
        return other + (-self)

    def __rtruediv__(self, other: Any) -> Value:
        return other * self**-1

    def relu(self) -> Value:
        """max(x, 0); its gradient at 0 is 0."""
        return _result(self.scalar.relu(), self, "ReLU")

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _result(self.scalar.tanh(), self, "tanh")

    def exp(self) -> Value:
        """e**x."""
        return _result(self.scalar.exp(), self, "exp")

    def backward(self) -> None:
        """Fill in ``grad`` for every Value this one was made from: d(self)/d(that value).

        Leaves add to the gradient they hold (reset them with ``zero_grad()`` or ``p.grad = 0``).
        """
        self.scalar.backward()

    def _backward(self) -> None:
        """One step of the backward pass, by hand as in micrograd's lecture: add ``self.grad`` times the
        local derivative d(self)/d(input) into each input's ``grad``; nothing for a leaf.

        The local derivatives come from the op's declaration at the current ``data`` (see the module's
        docstring). Call it on each node after every node that uses it, the output first (with
        ``output.grad = 1.0``): the lecture's ``for node in reversed(topo): node._backward()``.
        """
        node = self.scalar
        upstream = node.grad
        for parent, local in zip(node.parents, local_derivatives(node)):
            parent.grad += local * upstream


def _inputs(x: Any) -> Sequence:
    """A layer's inputs as a sequence: a list or tuple as it is, one Value as a list of one
    (what a layer of one neuron gives), anything else iterable (a numpy row) as a list."""
    if isinstance(x, (list, tuple)):
        return x
    return [x] if isinstance(x, Value) else list(x)


class Module:
    """The base of micrograd's layers: ``parameters()`` lists the Values to train."""

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0 (do it before each ``backward()``)."""
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        """The Values training updates (none here; layers override it)."""
        return []


class Neuron(Module):
    """``relu(w . x + b)`` (or without the relu when ``nonlin=False``), weights uniform in [-1, 1],
    drawn with ``random.uniform`` in micrograd's order, so a seed gives micrograd's model; bias 0.

    >>> n = Neuron(2)
    >>> n.w[0].data = 0.5; n.w[1].data = -1.0
    >>> n([3.0, 1.0]), n
    (Value(data=0.5, grad=0.0), ReLUNeuron(2))
    """

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        nin = positive_int(nin, "nin", " in Neuron")
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = boolean(nonlin, "nonlin", " in Neuron")

    def __call__(self, x: Sequence[Value | Number]) -> Value:
        x = _inputs(x)
        if len(x) != len(self.w):
            raise ValueError(f"{self!r} takes {len(self.w)} inputs, got {len(x)}")
        activation = self.b  # b + w0*x0 + w1*x1 + ..., added in micrograd's order
        for w, xi in zip(self.w, x):
            activation = activation + w * xi
        return activation.relu() if self.nonlin else activation

    def parameters(self) -> list[Value]:
        """The weights, then the bias."""
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons over the same ``nin`` inputs; options go to each ``Neuron``. Called on one
    input list it gives a list of Values, or the Value itself when ``nout`` is 1."""

    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        nout = positive_int(nout, "nout", " in Layer")
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | Number]) -> Value | list[Value]:
        x = _inputs(x)
        outputs = [neuron(x) for neuron in self.neurons]
        return outputs[0] if len(outputs) == 1 else outputs

    def parameters(self) -> list[Value]:
        """Neuron by neuron, each its weights then its bias."""
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(map(repr, self.neurons))}]"


class MLP(Module):
    """Layers of sizes ``nin -> nouts[0] -> nouts[1] -> ...``, relu in all but the last.

    >>> model = MLP(2, [4, 1])
    >>> model, len(model.parameters())  # doctest: +NORMALIZE_WHITESPACE
    (MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2)],
             Layer of [LinearNeuron(4)]], 17)
    """

    def __init__(self, nin: int, nouts: Sequence[int]) -> None:
        if isinstance(nouts, (int, str)) or not isinstance(nouts, Sequence) or not nouts:
            raise TypeError(f"MLP nouts must be a non-empty list of layer sizes, got {nouts!r}")
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != last) for i in range(len(nouts))]

    def __call__(self, x: Sequence[Value | Number]) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        """Layer by layer."""
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(map(repr, self.layers))}]"

    def to_scalargrad(self) -> Sequential:
        """The same network as scalargrad layers: a ``Sequential`` of ``Linear`` with copies of these
        weights (a fused node per neuron, so training is much faster). Its output is always a list.

        >>> model = MLP(2, [3, 1])
        >>> native = model.to_scalargrad()
        >>> abs(model([1.0, 2.0]).data - native([1.0, 2.0])[0].data) < 1e-12  # summed in another order
        True
        """
        layers = []
        for layer in self.layers:
            first = layer.neurons[0]
            linear = Linear(len(first.w), len(layer.neurons),
                            activation="relu" if first.nonlin else "identity")
            linear.initialize([([w.data for w in n.w], n.b.data) for n in layer.neurons])
            layers.append(linear)
        return Sequential(layers)
