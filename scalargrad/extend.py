"""The public extension API: what a new op, layer or tool needs from the engine.

An op is declared once (``defop``): its name, the float function that
computes its value, and its derivative rule. The function ``defop`` returns
applies the op to Scalars, and the op then gets everything the built-in ops
get: ``backward()``, derivatives of any order with ``create_graph=True``,
graph replay, compiled code (``scalargrad.compile``, through its float
function), its name in ``render()`` and in anomaly messages, and
``gradcheck``.

>>> from scalargrad import Scalar
>>> @defop("softsign", lambda x: x / (1.0 + abs(x)))
... def softsign(maths, x, y, constant):          # d/dx x / (1 + |x|) = 1 / (1 + |x|)**2
...     return maths.div(1.0, (1.0 + abs(x)) * (1.0 + abs(x)))
>>> x = Scalar(3.0)
>>> y = softsign(x)
>>> y.backward()
>>> y.data, x.grad, y.op
(0.75, 0.0625, 'softsign')

The rule takes ``maths`` (``FloatMath`` on floats, ``ScalarMath`` on Scalars),
the inputs, the output ``y`` and the op's ``constant``; write it with
``+ - *`` and ``abs``, comparisons, and ``maths.div``/``maths.exp``/``maths.log``/... for
anything that could raise on floats, and it serves both first derivatives
and recorded higher-order ones. Library code (``functional``, the losses)
uses the lower-level pieces below: ``Op`` and ``make_node`` (or, in a hot
loop, the engine's builders ``unary_node``, ``binary_node`` and ``nary_node``)
to build nodes with derivatives it already has, ``SCALAR_OPS`` to reuse the
engine's ops, and ``current_replay_build`` to keep a graph's structure fixed
while a Replay is built. A tool that needs a graph's values walks it with
``reading_order``, and reads a node's local derivatives with
``local_derivatives``.
"""

from __future__ import annotations

from typing import Any, Callable

from .op import Op, declare
from .replay.build import ReplayBuild, SharedValues, current_build
from .scalar import (
    SCALAR_OPS,
    FloatMath,
    Scalar,
    ScalarMath,
    as_float,
    binary_node,
    declaration,
    is_grad_enabled,
    make_node,
    nary_node,
    unary_node,
)
from .walk import reading_order

__all__ = ["SCALAR_OPS", "FloatMath", "Op", "ReplayBuild", "ScalarMath", "SharedValues", "as_float",
           "binary_node", "building_replay", "current_replay_build", "declare", "defop", "is_grad_enabled",
           "local_derivatives",
           "make_node", "nary_node", "new_node", "reading_order", "unary_node"]


def local_derivatives(node: Scalar) -> list[float]:
    """d(node)/d(parent) for each of ``node``'s parents (none for a leaf), from its op's declaration: the
    rule the engine ran when it made the node, run again on the parents' current values.

    >>> from scalargrad import Scalar
    >>> a, b = Scalar(2.0), Scalar(3.0)
    >>> local_derivatives(a * b), local_derivatives(a)
    ([3.0, 2.0], [])
    """
    op, constant = declaration(node)
    if op is None:
        return []
    if op.recompute is not None:  # an op that computes its value and derivatives together (a neuron)
        local = op.recompute(node.parents, constant)[1]
    else:
        local = op.local_derivatives([p.data for p in node.parents], node.data, constant)
    return [float(d) for d in local]


def defop(name: str, value: Callable, **options: Any) -> Callable[[Callable], Callable[..., Scalar]]:
    """Decorator: declare the op ``name`` whose float value is ``value`` and whose derivative rule is the
    decorated function; returns the op as a function on Scalars (numbers become constants).

    The rule's arguments, for an op of one input (the default):

    - ``maths``: the math functions to use, ``maths.exp``, ``maths.log``, ``maths.div``, ``maths.sqrt``,
      ``maths.pow``, ``maths.sigmoid``, ... Backward passes plain floats (``FloatMath``); with
      ``backward(create_graph=True)`` it passes Scalars (``ScalarMath``), so the derivative is itself
      recorded and can be differentiated again. Use these, ``+ - * /`` and ``abs``, never the ``math``
      module: ``math.exp(x)`` turns a Scalar into a float and is refused under ``create_graph``.
    - ``x``: the input's value (a float, or a Scalar under ``create_graph``).
    - ``y``: the op's output, ``value(x)``, for rules that reuse it (d/dx e**x is ``y``).
    - ``constant``: the op's constant (None unless ``constant=True``: then ``value(x, constant)`` and
      ``fn(x, constant=...)``).

    It returns d(y)/d(x). With ``arity=2`` the rule is ``rule(maths, a, b, y, constant) -> (da, db)``;
    with ``arity='n'``, ``rule(maths, xs, y, constant) -> [dx, ...]`` and ``value`` takes the list.
    ``options`` go to ``scalargrad.op.Op`` (``arity``, ``constant``, ``label``, ...); the declaration is
    ``fn.op``. ``inline=`` gives the op's form in compiled code, registered with
    ``scalargrad.compile.register_template`` (see there); without it compiled code calls ``value`` and
    the rule.

    >>> import math
    >>> from scalargrad import Scalar, grad
    >>> @defop("gauss", lambda x: math.exp(-x * x))
    ... def gauss(maths, x, y, constant):          # d/dx e**(-x*x) = -2 x e**(-x*x)
    ...     return -2.0 * x * maths.exp(-x * x)
    >>> x = Scalar(0.3)
    >>> (dx,) = grad(gauss(x), [x], create_graph=True)
    >>> round(dx.data, 6), round(grad(dx, [x])[0], 6)   # the first and the second derivative
    (-0.548359, -1.498847)
    """
    template = options.pop("inline", None)

    def make(rule: Callable) -> Callable[..., Scalar]:
        declared = Op(name, value, rule, **options)
        if template is not None:
            # imported when an op brings a template: compile/ imports functional, which imports this module
            from .compile.templates import register_template
            register_template(declared, template)

        def apply(*inputs: Any, constant: Any = None) -> Scalar:
            items = inputs[0] if declared.arity == "n" and len(inputs) == 1 else inputs
            xs = tuple([x if isinstance(x, Scalar) else Scalar(x) for x in items])
            if declared.arity != "n" and len(xs) != declared.arity:
                raise TypeError(f"op {name!r} takes {declared.arity} input(s), got {len(xs)}")
            return make_node(declared, xs, declared.evaluate([x.data for x in xs], constant), constant)

        apply.__name__, apply.__doc__, apply.op = name, rule.__doc__, declared
        return apply
    return make


def new_node(op_: Op, y: float, constant: Any, a: Any, b: Any = None, local: list | None = None) -> Scalar:
    """The one node builder of earlier versions, kept for extensions that call it: the node over ``a``
    (and ``b``), or over the tuple ``a`` with the local derivatives ``local``. ``unary_node``,
    ``binary_node`` and ``nary_node`` say what they build and skip this dispatch."""
    if local is not None:
        return nary_node(op_, y, constant, a, local)
    if b is None:
        return unary_node(op_, y, constant, a)
    return binary_node(op_, y, constant, a, b)


def current_replay_build() -> ReplayBuild | None:
    """The Replay build in progress (for ``SharedValues`` and its fed inputs), or None."""
    return current_build()


def building_replay() -> bool:
    """True while a ``Replay`` builds its graph: code whose graph would depend on values must then
    make a fixed structure (or refuse)."""
    return current_build() is not None
