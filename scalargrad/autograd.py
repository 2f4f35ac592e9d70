"""Gradients as values: ``grad``, ``jacobian``, ``hessian``, and ``gradcheck`` for your own functions.

``Scalar.backward()`` accumulates into ``.grad``; ``grad(outputs, inputs)``
returns the derivatives instead and leaves every ``.grad`` as it was, so it
can be called inside a computation. With ``create_graph=True`` the results
are Scalars with graphs of their own, so derivatives of any order follow:

>>> from scalargrad import Scalar, grad
>>> x = Scalar(2.0)
>>> y = x ** 3
>>> (dy,) = grad(y, x, create_graph=True)      # 3 x^2
>>> (d2y,) = grad(dy, x, create_graph=True)    # 6 x
>>> (d3y,) = grad(d2y, x)                      # 6
>>> dy.data, d2y.data, d3y, x.grad
(12.0, 12.0, 6.0, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Callable, Union

from ._util.nested import is_nested, leaves, named_leaves, shape, to_lists
from .extend import Op, Scalar, as_float, make_node
from .scalar import backward_lock, backward_order, enable_grad, no_grad, run_backward
from .walk import reading_order

__all__ = ["GradcheckError", "GradcheckResult", "backward", "grad", "gradcheck", "hessian", "jacobian"]

Number = Union[int, float]


# The virtual root of grad(): y = sum_i weights_i * outputs_i, the weights its constant (its value is never
# read).
_seed = Op("grad_outputs", lambda xs, constant: sum(w * x for w, x in zip(constant, xs)),
           lambda maths, xs, y, constant: constant, arity="n", constant=True)


def _scalars(values, what: str) -> list[Scalar]:
    if isinstance(values, Scalar):
        return [values]
    if not isinstance(values, (list, tuple)) or not values:
        raise TypeError(f"{what} must be a Scalar or a non-empty list of Scalars, "
                        f"got {type(values).__name__}")
    for i, v in enumerate(values):
        if not isinstance(v, Scalar):
            raise TypeError(f"{what}[{i}] must be a Scalar, got {type(v).__name__}")
    return list(values)


def _seed_root(outputs: list[Scalar], grad_outputs: list | None, what: str, create_graph: bool) -> Scalar:
    """The virtual root ``sum_i grad_outputs[i] * outputs[i]`` whose backward pass is the one asked for.

    A Scalar among ``grad_outputs`` counts as its value unless ``create_graph``
    records the pass (as torch, where the gradients then have no graph).
    """
    if grad_outputs is None:
        weights = [1.0] * len(outputs)
    else:
        if len(grad_outputs) != len(outputs):
            raise ValueError(f"{what}: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
        weights = [(w if create_graph else w.data) if isinstance(w, Scalar) else as_float(w, "grad_outputs")
                   for w in grad_outputs]
    with enable_grad():
        return make_node(_seed, tuple(outputs), 0.0, weights, weights)


def grad(outputs: Scalar | Sequence[Scalar], inputs: Scalar | Sequence[Scalar],
         grad_outputs: Number | Scalar | Sequence[Number | Scalar] | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """The gradients of ``sum(grad_outputs[i] * outputs[i])`` with respect to each input, as a tuple.

    As ``torch.autograd.grad``: no ``.grad`` changes (hooks registered on
    the nodes do run). ``grad_outputs`` defaults to 1 for every output.
    Inputs may be leaves or computed Scalars. An input the outputs do not
    depend on raises ValueError, or gives None with ``allow_unused=True``.
    With ``create_graph=True`` the gradients are Scalars that can be
    differentiated again.
    """
    outputs, inputs = _scalars(outputs, "outputs"), _scalars(inputs, "inputs")
    if grad_outputs is not None and not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    root = _seed_root(outputs, grad_outputs, "grad", create_graph)
    nodes = reading_order(root)  # every value below the root, leaves included
    reached = {id(n) for n in nodes}
    unused = [i for i, x in enumerate(inputs) if id(x) not in reached]
    if unused and not allow_unused:
        raise ValueError(f"grad: input {unused[0]} is not used by the outputs (pass allow_unused=True "
                         f"to get None for it)")
    with backward_lock:
        saved = [(n, n.grad) for n in nodes]
        try:
            for n in nodes:  # start from zero, so the results are this pass alone
                n.grad = 0.0
            order = backward_order(root, [])
            run_backward(root, order, 1.0, [], create_graph)
            return tuple(None if id(x) not in reached else x.grad for x in inputs)
        finally:
            for n, g in saved:
                n.grad = g


def backward(outputs: Scalar | Sequence[Any], grad_outputs: Number | Scalar | Sequence[Any] | None = None,
             create_graph: bool = False) -> None:
    """Back-propagate from several outputs at once, as ``torch.autograd.backward``: one pass over
    their joint graph, adding ``sum(grad_outputs[i] * outputs[i])``'s gradient into every leaf's ``.grad``.

    ``outputs`` is a Scalar or a list of them, nested lists too (the result
    of ``functional.tensordot``, say); ``grad_outputs`` has the same shape
    and defaults to 1 for every output, so ``backward([a, b])`` gives what
    ``(a + b).backward()`` gives. Leaf gradients accumulate across calls;
    with ``create_graph=True`` they become Scalars that can be
    differentiated again. A pass that fails leaves every gradient as it was.

    >>> from scalargrad import Scalar, backward
    >>> x = Scalar(3.0)
    >>> backward([x * x, [x * 2.0, x]], grad_outputs=[1.0, [10.0, 1.0]])
    >>> x.grad                                  # 2x + 10 * 2 + 1
    27.0
    """
    flat_outputs = _nested_scalars(outputs, "outputs")
    if grad_outputs is not None:
        grad_outputs = to_lists(grad_outputs)
        given, expected = shape(grad_outputs), shape(outputs)
        if is_nested(grad_outputs) and is_nested(outputs) and given != expected:
            raise ValueError(f"backward: grad_outputs has shape {given} but outputs have shape {expected}")
        grad_outputs = leaves(grad_outputs)
    root = _seed_root(flat_outputs, grad_outputs, "backward", create_graph)
    with backward_lock:
        earlier_grads = []
        order = backward_order(root, earlier_grads)
        run_backward(root, order, 1.0, earlier_grads, create_graph)


def _nested_scalars(values: Any, what: str) -> list[Scalar]:
    """The Scalars of a Scalar or of (nested) lists of them, in row-major order."""
    found = leaves(values)
    if is_nested(values) and not found:
        raise ValueError(f"backward: {what} is empty; give at least one Scalar")
    for path, v in named_leaves(values):  # path: "1.0" for values[1][0]
        if not isinstance(v, Scalar):
            place = what + "".join(f"[{i}]" for i in path.split(".")) if path else what
            raise TypeError(f"backward: {place} must be a Scalar, got {type(v).__name__}")
    return found


def _leaves(xs: Sequence[Number | Scalar]) -> list[Scalar]:
    """The Scalars given, and new leaves for the plain numbers (a numpy array is read as its list)."""
    xs = to_lists(xs)
    if isinstance(xs, Scalar) or not isinstance(xs, (list, tuple)):
        raise TypeError(f"inputs must be a list of numbers or Scalars, got {type(xs).__name__}")
    return [x if isinstance(x, Scalar) else Scalar(as_float(x, "an input")) for x in xs]


def _zero_if_none(values: tuple) -> list:
    return [0.0 if v is None else v for v in values]


def jacobian(f: Callable[..., Scalar | Sequence[Scalar]], xs: Sequence[Number | Scalar],
             create_graph: bool = False) -> list:
    """``J[i][j] = d f_i / d x_j`` of ``f(*xs)``; a single Scalar output gives the gradient list ``J[j]``.

    Numbers in ``xs`` become new leaves; Scalars are used as they are, so
    with ``create_graph=True`` the entries stay connected to them.

    >>> jacobian(lambda x, y: [x * y, x + y], [2.0, 3.0])
    [[3.0, 2.0], [1.0, 1.0]]
    """
    xs = _leaves(xs)
    out = f(*xs)
    if isinstance(out, Scalar):
        return _zero_if_none(grad(out, xs, create_graph=create_graph, allow_unused=True))
    if not isinstance(out, (list, tuple)):
        raise TypeError(f"jacobian: f must return a Scalar or a list of Scalars, got {type(out).__name__}")
    return [_zero_if_none(grad(o, xs, create_graph=create_graph, allow_unused=True)) if isinstance(o, Scalar)
            else [0.0] * len(xs) for o in out]


def hessian(f: Callable[..., Scalar], xs: Sequence[Number | Scalar], create_graph: bool = False) -> list:
    """``H[i][j] = d^2 f / dx_i dx_j`` of a Scalar-valued ``f(*xs)``.

    >>> hessian(lambda x, y: x * x * y, [2.0, 3.0])
    [[6.0, 4.0], [4.0, 0.0]]
    """
    xs = _leaves(xs)
    out = f(*xs)
    if not isinstance(out, Scalar):
        raise TypeError(f"hessian: f must return a Scalar, got {type(out).__name__}")
    gradient = grad(out, xs, create_graph=True, allow_unused=True)
    return [_zero_if_none(grad(g, xs, create_graph=create_graph, allow_unused=True))
            if isinstance(g, Scalar) else [0.0] * len(xs) for g in gradient]


class GradcheckError(ValueError):
    """``gradcheck`` found a gradient that does not match finite differences."""


class GradcheckResult:
    """What ``gradcheck`` found; true when every gradient matched.

    ``worst`` is ``(output index, input index, analytical, numerical)`` of
    the largest mismatch relative to its tolerance, ``max_error`` its
    absolute difference.
    """

    def __init__(self, passed: bool, worst: tuple, max_error: float) -> None:
        self.passed, self.worst, self.max_error = passed, worst, max_error

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        k, j, a, n = self.worst
        return (f"GradcheckResult(passed={self.passed}, worst: d out[{k}] / d in[{j}] analytical {a!r}, "
                f"numerical {n!r}, |difference| {self.max_error:.3g})")


def _outputs(value) -> list:
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def gradcheck(fn: Callable[..., Scalar | Sequence[Scalar]], inputs: Sequence[Number | Scalar],
              eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> GradcheckResult:
    """Compare backward's gradients of ``fn(*inputs)`` with central finite differences.

    Every output's derivative with respect to every input must satisfy
    ``|analytical - numerical| <= atol + rtol * |numerical|``, as in
    ``torch.autograd.gradcheck``. Returns a ``GradcheckResult`` (true when
    all match); on a mismatch raises ``GradcheckError`` naming the worst one,
    unless ``raise_exception=False``.

    >>> from scalargrad import Scalar
    >>> bool(gradcheck(lambda x, y: (x * y).sin() + x.exp(), [0.3, -1.2]))
    True
    """
    if not eps > 0.0:
        raise ValueError(f"gradcheck: eps must be positive, got {eps}")
    values = [x.data if isinstance(x, Scalar) else as_float(x, "gradcheck input") for x in inputs]
    xs = [Scalar(v) for v in values]
    outs = _outputs(fn(*xs))
    analytical = [_zero_if_none(grad(o, xs, allow_unused=True)) if isinstance(o, Scalar) else [0.0] * len(xs)
                  for o in outs]

    def evaluate(point: list[float]) -> list[float]:
        with no_grad():
            return [float(o) for o in _outputs(fn(*[Scalar(v) for v in point]))]

    worst, worst_excess, max_error, passed = (0, 0, 0.0, 0.0), -math.inf, 0.0, True
    for j in range(len(values)):
        up, down = list(values), list(values)
        up[j] += eps
        down[j] -= eps
        numerical = [(a - b) / (2.0 * eps) for a, b in zip(evaluate(up), evaluate(down))]
        for k, n in enumerate(numerical):
            a = float(analytical[k][j])
            error = abs(a - n)
            allowed = atol + rtol * abs(n)
            excess = math.inf if math.isnan(error) else error - allowed
            if excess > 0.0:
                passed = False
            if excess > worst_excess:
                worst, worst_excess, max_error = (k, j, a, n), excess, error
    result = GradcheckResult(passed, worst, max_error)
    if not passed and raise_exception:
        k, j, a, n = worst
        raise GradcheckError(f"gradcheck: d output[{k}] / d input[{j}] at {values} is {a!r} by backward but "
                             f"{n!r} by finite differences (|difference| {max_error:.3g} > atol {atol:g} + "
                             f"rtol {rtol:g} * |numerical|)")
    return result
