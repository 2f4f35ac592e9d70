"""An n-ary ``defop`` rule gets its inputs as a list under ``create_graph`` too, as at first order.

``help(defop)``: with ``arity='n'`` the rule is ``rule(maths, xs, y, c) -> [dx, ...]`` and ``value``
takes the list. A rule may therefore use list methods on ``xs``; the backward pass that records the
rule's graph (``create_graph=True``) must hand it the same kind of argument as the first-order pass,
or the second derivative fails where the first one worked.
"""

import math

import pytest
import torch

from scalargrad import Scalar, grad
from scalargrad.extend import defop


@defop("product", lambda xs: math.prod(xs), arity="n")
def product(maths, xs, y, c):
    """d/dx_i of x_0 * x_1 * ... is the product of the others, found without a division (a zero is fine)."""
    derivatives = []
    for i in range(len(xs)):
        others = xs.copy()
        del others[i]
        d = 1.0
        for x in others:
            d = d * x
        derivatives.append(d)
    return derivatives


@pytest.mark.parametrize("values", [[0.5, -1.5, 2.0], [0.0, 3.0, -2.0, 1.25]])
def test_an_n_ary_rule_using_list_methods_gives_torchs_hessian(values):
    xs = [Scalar(v) for v in values]
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    first = grad(product(xs), xs, create_graph=True)
    (expected_first,) = torch.autograd.grad(torch.prod(t), [t])
    assert [d.data for d in first] == pytest.approx(expected_first.tolist(), rel=1e-15, abs=1e-15)
    rows = [grad(d, xs, allow_unused=True) for d in first]  # d/dx_i does not use x_i: None, i.e. 0
    hessian = [[0.0 if v is None else v for v in row] for row in rows]
    expected = torch.autograd.functional.hessian(torch.prod, t.detach())
    assert hessian == [pytest.approx(row, rel=1e-15, abs=1e-15) for row in expected.tolist()]


def test_an_n_ary_rule_gets_a_list_at_first_and_at_second_order():
    seen = []

    @defop("sum_of_squares", lambda xs: sum(x * x for x in xs), arity="n")
    def sum_of_squares(maths, xs, y, c):
        seen.append(type(xs))
        return [2.0 * x for x in xs]

    xs = [Scalar(1.5), Scalar(-0.5)]
    y = sum_of_squares(xs)
    assert seen == [list]  # the first-order rule, run on floats
    seen.clear()
    (dx, _) = grad(y, xs, create_graph=True)
    assert seen == [list] and isinstance(dx, Scalar) and dx.data == 3.0  # the same rule, recorded
