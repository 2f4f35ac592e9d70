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
    bad = Op("log_of", lambda x: math.log(x) if x > 0 else -math.inf, lambda maths, x, y, const: maths.div(1.0, x))
    with detect_anomaly(), pytest.raises(AnomalyError, match="'log_of' made -inf"):
        make_node(bad, (Scalar(0.0),), bad.value(0.0))
