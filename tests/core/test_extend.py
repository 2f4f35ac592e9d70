"""Ops declared through the public extension API get what built-in ops get.

Each op below is one the library does not have, declared once with
``scalargrad.extend.defop``; its values and derivatives (first, second,
third) are checked against torch float64, and it must replay bit for bit,
show its name in pictures and anomaly messages, and pass ``gradcheck``.
"""

import math

import pytest
import torch
from parameterized import parameterized

from scalargrad import AnomalyError, Scalar, detect_anomaly, grad, gradcheck
from scalargrad.extend import Op, defop, make_node
from scalargrad.replay import Replay
from tests.helpers import assert_close, tt


@defop("softsign", lambda x: x / (1.0 + abs(x)))
def softsign(maths, x, y, const):  # 1 / (1 + |x|)**2
    return maths.div(1.0, (1.0 + abs(x)) * (1.0 + abs(x)))


@defop("hypot", lambda a, b: math.hypot(a, b), arity=2)
def hypot(maths, a, b, y, const):  # (a / y, b / y)
    return maths.div(a, y), maths.div(b, y)


@defop("sum_of_squares", lambda xs, scale: scale * sum(x * x for x in xs), arity="n", constant=True)
def sum_of_squares(maths, xs, y, scale):
    return [2.0 * scale * x for x in xs]


def torch_softsign(t):
    return torch.nn.functional.softsign(t)


def derivatives(f_sg, f_torch, values, order=3):
    """[(scalargrad, torch)] for the value and each derivative up to ``order`` along the first input."""
    xs = [Scalar(v) for v in values]
    ts = [tt(v) for v in values]
    y_sg, y_t = f_sg(*xs), f_torch(*ts)
    pairs = [(y_sg.data, y_t.item())]
    for _ in range(order):
        (y_sg,) = grad(y_sg, xs[0], create_graph=True)
        (y_t,) = torch.autograd.grad(y_t, ts[0], create_graph=True)
        pairs.append((y_sg.data, y_t.item()))
    return pairs


@parameterized.expand([("negative", -2.5), ("small", 0.3), ("large", 40.0)])
def test_unary_op_matches_torch_to_third_order(_, x):
    for ours, theirs in derivatives(softsign, torch_softsign, [x]):
        assert_close(ours, theirs)


@parameterized.expand([("mixed", [0.7, -1.2]), ("wide", [3.0, 4.0])])
def test_binary_op_matches_torch_to_second_order(_, values):
    for ours, theirs in derivatives(hypot, torch.hypot, values, order=2):
        assert_close(ours, theirs)


def test_n_ary_op_with_a_constant_matches_torch():
    xs = [Scalar(v) for v in (0.5, -1.5, 2.0)]
    y = sum_of_squares(xs, constant=0.5)
    y.backward()
    t = tt([0.5, -1.5, 2.0])
    (0.5 * (t * t).sum()).backward()
    assert_close(y.data, 0.5 * (0.25 + 2.25 + 4.0))
    for x, g in zip(xs, t.grad.tolist()):
        assert_close(x.grad, g)
    assert y.op == "sum_of_squares" and len(y.parents) == 3


def test_numbers_become_constants_and_arity_is_checked():
    y = hypot(3.0, Scalar(4.0))
    assert y.data == 5.0 and len(y.parents) == 2
    with pytest.raises(TypeError, match="takes 2 input"):
        hypot(Scalar(1.0))


def test_user_op_replays_bit_for_bit():
    x, w = Scalar(0.0), Scalar(1.5)
    step = Replay(lambda: softsign(w * x) * hypot(x, w), inputs=[x])
    for value in (0.25, -3.0, 7.5):
        replayed = step.forward([value])
        step.backward()
        replay_grad, w.grad = w.grad, 0.0
        x2 = Scalar(value)
        rebuilt = softsign(w * x2) * hypot(x2, w)
        rebuilt.backward()
        assert replayed == rebuilt.data and replay_grad == w.grad
        w.grad = 0.0


def test_user_op_passes_gradcheck_and_names_itself():
    assert gradcheck(lambda a, b: softsign(a) * hypot(a, b), [0.4, -0.9])
    y = softsign(Scalar(1.0))
    assert y.op == "softsign" and softsign.op.name == "softsign" and isinstance(softsign.op, Op)
    graphviz = pytest.importorskip("graphviz")
    assert isinstance(y.render(path=None, show=False), graphviz.Digraph)
    assert "softsign" in y.render(path=None, show=False).source


def test_anomaly_mode_names_a_user_op():
    bad = Op("log_of", lambda x: math.log(x) if x > 0 else -math.inf,
             lambda maths, x, y, const: maths.div(1.0, x))
    with detect_anomaly(), pytest.raises(AnomalyError, match="'log_of' made -inf"):
        make_node(bad, (Scalar(0.0),), bad.value(0.0))


# ---- a rule written with the math module instead of maths ------------------------------------------

@defop("gauss_by_math", lambda x: math.exp(-x * x))
def gauss_by_math(maths, x, y, c):  # the trap: math.exp turns a Scalar into a float
    return -2.0 * x * math.exp(-x * x)


@defop("gauss_by_float", lambda x: math.exp(-x * x))
def gauss_by_float(maths, x, y, c):
    return -2.0 * float(x) * y


@defop("gauss", lambda x: math.exp(-x * x))
def gauss(maths, x, y, c):
    return -2.0 * x * maths.exp(-x * x)


@parameterized.expand([("math.exp", gauss_by_math), ("float", gauss_by_float)])
def test_a_rule_that_drops_to_floats_works_at_first_order(_, op):
    x = Scalar(0.3)
    op(x).backward()
    assert_close(x.grad, -2.0 * 0.3 * math.exp(-0.09), "first derivative")
    assert gradcheck(op, [0.3])


@parameterized.expand([("math.exp", gauss_by_math), ("float", gauss_by_float)])
def test_a_rule_that_drops_to_floats_is_refused_under_create_graph(_, op):
    x = Scalar(0.3)
    x.grad = 5.0
    y = op(x * 1.0)
    with pytest.raises(TypeError, match=f"op '{op.op.name}'.*maths.exp"):
        y.backward(create_graph=True)
    assert x.grad == 5.0  # the failed pass left the gradient as it was
    assert float(x) == 0.3  # and float() works again after it


def test_the_same_rule_with_maths_records_the_second_derivative():
    x, t = Scalar(0.3), tt(0.3)
    (dx,) = grad(gauss(x), [x], create_graph=True)
    (dt,) = torch.autograd.grad(torch.exp(-t * t), [t], create_graph=True)
    assert_close(dx.data, dt, "first derivative")
    dx.backward()
    dt.backward()
    assert_close(x.grad, t.grad, "second derivative")


def test_float_is_refused_only_inside_the_rule_not_in_a_hook():
    x = Scalar(0.3)
    seen = []
    y = gauss(x * 2.0)
    y.register_hook(lambda g: seen.append(float(g)))
    y.backward(create_graph=True)
    assert seen == [1.0]
    assert isinstance(x.grad, Scalar)
