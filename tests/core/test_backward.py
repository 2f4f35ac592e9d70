"""``scalargrad.backward(outputs, grad_outputs)``: one pass from several outputs, as
``torch.autograd.backward``, checked against torch float64."""

import math

import pytest
import torch
from parameterized import parameterized

import scalargrad
from scalargrad import Scalar, grad
from scalargrad import functional as F
from tests.helpers import assert_close, tt


def _graph(x, y, lib):
    """Three outputs sharing a subexpression, in scalargrad or torch."""
    h = x * y + x.exp() if lib is None else x * y + torch.exp(x)
    tanh = h.tanh() if lib is None else torch.tanh(h)
    return h, [h * h, tanh * y, h + x], tanh


GRAD_OUTPUTS = [
    ("default", None),
    ("numbers", [0.5, -2.0, 3]),
    ("zeros_and_one", [0.0, 0.0, 1.0]),
]


class TestAgainstTorch:
    @parameterized.expand(GRAD_OUTPUTS)
    def test_several_outputs_at_once(self, _name, grad_outputs):
        x, y = Scalar(0.7), Scalar(-1.3)
        _, outputs, _ = _graph(x, y, None)
        scalargrad.backward(outputs, grad_outputs=grad_outputs)
        tx, ty = tt(0.7), tt(-1.3)
        _, touts, _ = _graph(tx, ty, torch)
        tgrads = None if grad_outputs is None else [torch.tensor(float(g), dtype=torch.float64)
                                                    for g in grad_outputs]
        if tgrads is None:  # torch needs explicit gradients only for non-scalar outputs; these are 0-d
            torch.autograd.backward(touts)
        else:
            torch.autograd.backward(touts, grad_tensors=tgrads)
        assert_close(x.grad, tx.grad, "dx")
        assert_close(y.grad, ty.grad, "dy")

    def test_nested_outputs_are_a_tensor(self):
        """The (2, 2) result of a tensordot back-propagates as torch's (2, 2) tensor with a gradient."""
        a = [[Scalar(0.5), Scalar(-1.0)], [Scalar(2.0), Scalar(0.25)]]
        b = [[Scalar(1.5), Scalar(0.5)], [Scalar(-0.75), Scalar(3.0)]]
        gradient = [[1.0, -0.5], [2.0, 0.25]]
        scalargrad.backward(F.tensordot(a, b, 1), grad_outputs=gradient)
        ta, tb = tt([[0.5, -1.0], [2.0, 0.25]]), tt([[1.5, 0.5], [-0.75, 3.0]])
        torch.autograd.backward(ta @ tb, grad_tensors=torch.tensor(gradient, dtype=torch.float64))
        for rows, t in ((a, ta), (b, tb)):
            for i in range(2):
                for j in range(2):
                    assert_close(rows[i][j].grad, t.grad[i][j], f"grad [{i}][{j}]")

    def test_gradients_accumulate_across_calls_as_torch(self):
        x = Scalar(0.4)
        tx = tt(0.4)
        for _ in range(2):
            scalargrad.backward([x.sin(), x * x])
            torch.autograd.backward([torch.sin(tx), tx * tx])
        assert_close(x.grad, tx.grad)

    def test_an_output_that_is_a_leaf_or_repeated(self):
        x = Scalar(1.5)
        scalargrad.backward([x, x * x, x], grad_outputs=[1.0, 2.0, 0.5])
        tx = tt(1.5)
        torch.autograd.backward([tx, tx * tx, tx], grad_tensors=[torch.tensor(v, dtype=torch.float64)
                                                                 for v in (1.0, 2.0, 0.5)])
        assert_close(x.grad, tx.grad)

    # torch's note on its .grad cycle
    @pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
    def test_create_graph_gives_differentiable_gradients(self):
        x, y = Scalar(0.3), Scalar(0.9)
        scalargrad.backward([x * x * y, (x * y).sin()], create_graph=True)
        dx = x.grad
        x.grad, y.grad = 0.0, 0.0
        dx.backward()  # d/dx and d/dy of d(out)/dx
        tx, ty = tt(0.3), tt(0.9)
        torch.autograd.backward([tx * tx * ty, torch.sin(tx * ty)], create_graph=True)
        tdx = tx.grad
        tx.grad = None
        ty.grad = None
        tdx.backward()
        assert_close(dx.data, tdx, "d/dx")
        assert_close(x.grad, tx.grad, "d2/dx2")
        assert_close(y.grad, ty.grad, "d2/dxdy")

    def test_scalar_grad_outputs_record_only_with_create_graph(self):
        x, w = Scalar(2.0), Scalar(3.0)
        scalargrad.backward([x * x], grad_outputs=[w])
        assert x.grad == 12.0 and w.grad == 0.0
        x.grad = 0.0
        scalargrad.backward([x * x], grad_outputs=[w], create_graph=True)
        x.grad.backward()  # d(2 x w)/dw = 2x
        assert w.grad == 4.0
        assert grad(x * x, x, grad_outputs=[w]) == (12.0,)  # grad: a float too, as torch


class TestOnePass:
    def test_a_shared_node_is_visited_once(self):
        """A hook on a node all outputs share runs once, with the summed gradient, as in torch."""
        x = Scalar(0.5)
        h = x.exp()
        seen = []
        h.register_hook(lambda g: seen.append(g))
        scalargrad.backward([h * 2.0, h.sin(), h])
        tx = tt(0.5)
        th = torch.exp(tx)
        tseen = []
        th.register_hook(lambda g: tseen.append(g.item()))
        torch.autograd.backward([th * 2.0, torch.sin(th), th])
        assert len(seen) == len(tseen) == 1
        assert_close(seen[0], tseen[0])

    def test_same_as_backward_of_the_weighted_sum(self):
        x, y = Scalar(0.7), Scalar(-1.3)
        _, outputs, _ = _graph(x, y, None)
        scalargrad.backward(outputs, grad_outputs=[0.5, 2.0, -1.0])
        got = (x.grad, y.grad)
        x.grad = y.grad = 0.0
        F.dot(outputs, [0.5, 2.0, -1.0]).backward()
        assert all(math.isclose(a, b, rel_tol=1e-14) for a, b in zip(got, (x.grad, y.grad)))

    def test_a_failed_pass_changes_no_gradient(self):
        x = Scalar(0.5)
        x.grad = 7.0
        y = x * 3.0

        def fail(g):
            raise RuntimeError("hook failed")
        handle = y.register_hook(fail)
        with pytest.raises(RuntimeError, match="hook failed"):
            scalargrad.backward([y, x * x])
        handle.remove()
        assert x.grad == 7.0


class TestErrors:
    @parameterized.expand([
        ("a_number", 3.0, None, TypeError, "backward: outputs must be a Scalar, got float"),
        ("a_number_in_a_list", [Scalar(1.0) * 2.0, [2.0]], None, TypeError,
         r"outputs\[1\]\[0\] must be a Scalar"),
        ("empty", [], None, ValueError, "outputs is empty"),
        ("too_many_grad_outputs", [Scalar(1.0) * 2.0], [1.0, 2.0], ValueError,
         r"grad_outputs has shape \(2,\) but outputs have shape \(1,\)"),
        ("other_shape", [[Scalar(1.0) * 2.0, Scalar(1.0) * 3.0]], [[1.0], [2.0]], ValueError,
         r"grad_outputs has shape \(2, 1\) but outputs have shape \(1, 2\)"),
        ("string_grad_output", [Scalar(1.0) * 2.0], ["1"], TypeError, "grad_outputs must be an int or float"),
    ])
    def test_bad_arguments_are_named(self, _name, outputs, grad_outputs, error, message):
        with pytest.raises(error, match=message):
            scalargrad.backward(outputs, grad_outputs=grad_outputs)

    def test_a_single_output_takes_a_number_or_a_list_of_one(self):
        x = Scalar(2.0)
        scalargrad.backward(x * x, grad_outputs=0.5)
        scalargrad.backward(x * x, grad_outputs=[0.5])
        assert x.grad == 4.0
