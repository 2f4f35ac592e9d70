"""The fast form over every layer width from 1 to 40: the gradients eager ``backward()`` gives.

The fast form starts each layer's weight gradients at 0.0 in chained assignments of at most 16 names
(``g_a = g_b = ... = 0.0``). A width that leaves one weight in a last, short chunk (17, 33 weights)
is where a bound off by one would leave a gradient unset or never zeroed, so every width from 1 to
40 is compiled: a first layer of ``width`` weights (one input, no bias) and a second of ``width + 1``
(``width`` inputs and a bias) cover every weight count from 1 to 41.
"""

import random

import pytest

from scalargrad import Scalar
from scalargrad.compile import compile_graph
from scalargrad.nn import Linear, MSELoss, Sequential
from tests.bits import equal_up_to_sum_rounding

BATCH = 3  # a layer becomes a loop once its weights run twice or more


def model_of_width(width):
    random.seed(width)
    return Sequential([Linear(1, width, activation="tanh", bias=False), Linear(width, 1)])


def batch_values(width):
    rng = random.Random(1000 + width)
    xs = [[rng.uniform(-2.0, 2.0)] for _ in range(BATCH)]
    ys = [[rng.uniform(-1.0, 1.0)] for _ in range(BATCH)]
    return xs, ys


def eager_gradients(model, xs, ys):
    """The loss and every parameter's gradient from the graph built and backpropagated as usual."""
    model.zero_grad()
    loss = MSELoss()([model([Scalar(v) for v in x]) for x in xs], ys)
    loss.backward()
    return loss.data, [p.grad for p in model.parameters()]


def compiled_step(model):
    """The fast form of one MSE step of ``model`` over a batch fed as ``x`` and ``y``."""
    x_in = [[Scalar(0.0)] for _ in range(BATCH)]
    y_in = [[Scalar(0.0)] for _ in range(BATCH)]
    build = lambda: MSELoss()([model(x) for x in x_in], y_in)
    return compile_graph(build, {"x": x_in, "y": y_in}, form="fast")


@pytest.mark.parametrize("width", range(1, 41))
def test_compiled_layer_gradients_equal_eager_backward_at_every_width(width):
    model = model_of_width(width)
    xs, ys = batch_values(width)
    expected_loss, expected_grads = eager_gradients(model, xs, ys)
    step = compiled_step(model)
    model.zero_grad()
    loss = step(x=xs, y=ys)
    grads = [p.grad for p in model.parameters()]
    assert "    for " in step.source  # the layers were written as loops (what this sweep is about)
    assert equal_up_to_sum_rounding(loss, expected_loss), (loss, expected_loss)
    assert len(grads) == len(expected_grads) == 2 * width + 1
    wrong = [(i, g, e) for i, (g, e) in enumerate(zip(grads, expected_grads))
             if not equal_up_to_sum_rounding(g, e)]
    assert not wrong, wrong


@pytest.mark.parametrize("width", [16, 17, 33])
def test_a_second_call_adds_the_same_gradients_again(width):
    """Each call starts its gradient sums at 0.0: two calls leave twice one call's gradient in .grad."""
    model = model_of_width(width)
    xs, ys = batch_values(width)
    _, once = eager_gradients(model, xs, ys)
    step = compiled_step(model)
    model.zero_grad()
    step(x=xs, y=ys)
    step(x=xs, y=ys)
    twice = [p.grad for p in model.parameters()]
    assert any(g != 0.0 for g in once)
    assert all(equal_up_to_sum_rounding(g2, 2 * g1) for g2, g1 in zip(twice, once)), list(zip(twice, once))
