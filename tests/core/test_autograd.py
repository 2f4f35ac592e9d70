"""Higher-order derivatives, ``grad``/``jacobian``/``hessian``, ``gradcheck``, hooks and anomaly mode.

Every derivative is compared with ``torch.autograd.grad`` or
``torch.autograd.functional`` in float64.
"""

import math

import pytest
import torch
from parameterized import parameterized

from scalargrad import (
    AnomalyError,
    GradcheckError,
    Scalar,
    detect_anomaly,
    grad,
    gradcheck,
    hessian,
    jacobian,
    no_grad,
)
from scalargrad import functional as F
from scalargrad.replay import Replay
from tests.helpers import assert_close, tt

# name, scalargrad f(x), torch f(x), points (inside the domain)
FUNCTIONS = [
    ("sin", lambda x: x.sin(), torch.sin, [-1.3, 0.4, 2.0]),
    ("cos", lambda x: x.cos(), torch.cos, [-1.3, 0.4, 2.0]),
    ("exp", lambda x: x.exp(), torch.exp, [-2.0, 0.3, 1.5]),
    ("log", lambda x: x.log(), torch.log, [0.2, 1.0, 3.5]),
    ("log1p", lambda x: x.log1p(), torch.log1p, [-0.5, 0.0, 2.0]),
    ("sqrt", lambda x: x.sqrt(), torch.sqrt, [0.3, 2.0]),
    ("pow_const", lambda x: x ** 3.5, lambda x: x ** 3.5, [0.4, 1.7]),
    ("pow_int", lambda x: x ** 3, lambda x: x ** 3, [-1.5, 0.6]),
    ("rpow", lambda x: 2.5 ** x, lambda x: 2.5 ** x, [-1.0, 0.7]),
    ("pow_self", lambda x: x ** x, lambda x: x ** x, [0.5, 1.8]),
    ("div", lambda x: 1.5 / x, lambda x: 1.5 / x, [-2.0, 0.7]),
    ("tanh", lambda x: x.tanh(), torch.tanh, [-1.1, 0.0, 0.9]),
    ("sigmoid", lambda x: x.sigmoid(), torch.sigmoid, [-2.0, 0.0, 1.2]),
    ("softplus", lambda x: x.softplus(), torch.nn.functional.softplus, [-2.0, 0.5]),
    ("arctanh", lambda x: x.arctanh(), torch.atanh, [-0.6, 0.3]),
    ("composition", lambda x: (x.sin() * x.exp() + x.tanh() ** 2).sigmoid(),
     lambda x: torch.sigmoid(torch.sin(x) * torch.exp(x) + torch.tanh(x) ** 2), [-0.8, 0.5]),
    ("nested", lambda x: ((x * x + 1.0).log() / (x.cos() + 2.0)).sqrt(),
     lambda x: torch.sqrt(torch.log(x * x + 1.0) / (torch.cos(x) + 2.0)), [0.3, 1.4]),
    ("logsumexp", lambda x: F.logsumexp([x, x * 2.0, x.sin()]),
     lambda x: torch.logsumexp(torch.stack([x, x * 2.0, torch.sin(x)]), 0), [-0.5, 1.0]),
]
CASES = [(f"{name}_{i}", f, tf, p) for name, f, tf, points in FUNCTIONS for i, p in enumerate(points)]


def _torch_derivatives(tf, point, order):
    x = tt(point)
    y = tf(x)
    out = []
    for _ in range(order):
        (y,) = torch.autograd.grad(y, x, create_graph=True)
        out.append(y.item())
    return out


class TestHigherOrder:
    @parameterized.expand(CASES)
    def test_first_second_and_third_derivatives_with_grad(self, _name, f, tf, point):
        x = Scalar(point)
        y = f(x)
        got = []
        for _ in range(3):
            (y,) = grad(y, x, create_graph=True)
            got.append(y.data)
        for k, (a, b) in enumerate(zip(got, _torch_derivatives(tf, point, 3))):
            assert_close(a, b, f"derivative {k + 1}", rel_tol=1e-9, abs_tol=1e-12)

    @parameterized.expand(CASES)
    def test_second_derivative_with_backward_create_graph(self, _name, f, tf, point):
        x = Scalar(point)
        f(x).backward(create_graph=True)
        first = x.grad
        assert isinstance(first, Scalar)
        x.grad = 0.0
        first.backward()
        assert_close(x.grad, _torch_derivatives(tf, point, 2)[1], "second derivative", abs_tol=1e-12)

    def test_mixed_partials_of_two_variables(self):
        x, y = Scalar(0.7), Scalar(-0.4)
        f = (x * y).sin() + x ** 2 * y.exp()
        dx, dy = grad(f, [x, y], create_graph=True)
        dxy = grad(dx, y)[0]
        dyx = grad(dy, x)[0]
        tx, ty = tt(0.7), tt(-0.4)
        tf = torch.sin(tx * ty) + tx ** 2 * torch.exp(ty)
        tdx, _ = torch.autograd.grad(tf, [tx, ty], create_graph=True)
        (tdxy,) = torch.autograd.grad(tdx, ty)
        assert_close(dxy, tdxy, "d2f/dxdy")
        assert_close(dyx, tdxy, "d2f/dydx")


class TestGrad:
    def test_leaves_every_grad_untouched(self):
        x, w = Scalar(1.5), Scalar(-0.5)
        x.grad, w.grad = 7.0, -3.0
        h = x * w
        y = h.tanh() + x
        y.backward()
        before = (x.grad, w.grad, h.grad, y.grad)
        dx, dw = grad(y, [x, w])
        assert (x.grad, w.grad, h.grad, y.grad) == before
        tx, tw = tt(1.5), tt(-0.5)
        ty = torch.tanh(tx * tw) + tx
        tdx, tdw = torch.autograd.grad(ty, [tx, tw])
        assert_close(dx, tdx, "dx")
        assert_close(dw, tdw, "dw")

    def test_several_outputs_with_grad_outputs_and_an_interior_input(self):
        x = Scalar(0.3)
        h = x.exp()
        a, b = h * 2.0, h.sin()
        da, dh = grad([a, b], [x, h], grad_outputs=[0.5, -2.0])
        tx = tt(0.3)
        th = torch.exp(tx)
        th.retain_grad()
        ta, tb = th * 2.0, torch.sin(th)
        tdx, tdh = torch.autograd.grad([ta, tb], [tx, th],
                                       grad_outputs=[torch.tensor(0.5, dtype=torch.float64),
                                                     torch.tensor(-2.0, dtype=torch.float64)])
        assert_close(da, tdx, "d/dx")
        assert_close(dh, tdh, "d/dh")

    def test_unused_inputs(self):
        x, z = Scalar(1.0), Scalar(2.0)
        y = x * 3.0
        with pytest.raises(ValueError, match="input 1 is not used"):
            grad(y, [x, z])
        assert grad(y, [x, z], allow_unused=True) == (3.0, None)

    def test_an_output_that_is_an_input(self):
        x = Scalar(2.0)
        assert grad(x, x) == (1.0,)
        assert grad([x, x * x], x, grad_outputs=[2.0, 1.0]) == (6.0,)

    def test_bad_arguments(self):
        x = Scalar(1.0)
        with pytest.raises(TypeError, match="outputs must be a Scalar"):
            grad(1.0, x)
        with pytest.raises(TypeError, match=r"inputs\[1\] must be a Scalar"):
            grad(x * 2.0, [x, 2.0])
        with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
            grad(x * 2.0, x, grad_outputs=[1.0, 2.0])
        with pytest.raises(TypeError, match="grad_outputs must be an int or float, got str"):
            grad(x * 2.0, x, grad_outputs="1")

    def test_grad_inside_no_grad_still_differentiates(self):
        x = Scalar(0.5)
        y = x.sin()
        with no_grad():
            assert grad(y, x) == (math.cos(0.5),)


def _vector_fn(x, y, z):
    return [x * y.sin(), (x + z).exp() / (1.0 + y * y), F.logsumexp([x, y, z])]


def _torch_vector_fn(x, y, z):
    return torch.stack([x * torch.sin(y), torch.exp(x + z) / (1.0 + y * y),
                        torch.logsumexp(torch.stack([x, y, z]), 0)])


def _scalar_fn(x, y, z):
    return (x * y * z).tanh() + x.exp() * y.sin() + z ** 3.0


def _torch_scalar_fn(x, y, z):
    return torch.tanh(x * y * z) + torch.exp(x) * torch.sin(y) + z ** 3.0


class TestJacobianHessian:
    POINT = (0.4, -0.7, 1.1)

    def test_jacobian_matches_torch(self):
        got = jacobian(_vector_fn, list(self.POINT))
        want = torch.autograd.functional.jacobian(_torch_vector_fn, tuple(tt(v) for v in self.POINT))
        for i in range(3):
            for j in range(3):
                assert_close(got[i][j], want[j][i], f"J[{i}][{j}]")

    def test_gradient_of_a_scalar_function(self):
        got = jacobian(_scalar_fn, list(self.POINT))
        xs = [tt(v) for v in self.POINT]
        want = torch.autograd.grad(_torch_scalar_fn(*xs), xs)
        for j in range(3):
            assert_close(got[j], want[j], f"g[{j}]")

    def test_hessian_matches_torch(self):
        got = hessian(_scalar_fn, list(self.POINT))
        want = torch.autograd.functional.hessian(_torch_scalar_fn, tuple(tt(v) for v in self.POINT))
        for i in range(3):
            for j in range(3):
                assert_close(got[i][j], want[i][j], f"H[{i}][{j}]", abs_tol=1e-12)

    def test_constant_parts_and_create_graph(self):
        assert jacobian(lambda x, y: [x * 2.0, 5.0], [1.0, 2.0]) == [[2.0, 0.0], [0.0, 0.0]]
        assert hessian(lambda x, y: x * 3.0 + y, [1.0, 2.0]) == [[0.0, 0.0], [0.0, 0.0]]
        x = Scalar(0.5)
        (row,) = hessian(lambda v: v.sin(), [x], create_graph=True)
        (third,) = grad(row[0], x)  # d/dx of -sin(x)
        assert_close(third, -math.cos(0.5), "third derivative")

    def test_bad_functions(self):
        with pytest.raises(TypeError, match="list of numbers or Scalars"):
            jacobian(lambda x: x, 1.0)
        with pytest.raises(TypeError, match="must return a Scalar or a list"):
            jacobian(lambda x: "no", [1.0])
        with pytest.raises(TypeError, match="hessian: f must return a Scalar"):
            hessian(lambda x: [x], [1.0])


class TestGradcheck:
    @parameterized.expand([(name, f, p) for name, f, _, points in FUNCTIONS for p in points[:1]])
    def test_every_op_passes(self, _name, f, point):
        result = gradcheck(f, [point])
        assert result and result.passed
        assert result.max_error < 1e-5

    def test_layers_and_losses_pass(self):
        w = [[Scalar(0.3), Scalar(-0.2)], [Scalar(0.5), Scalar(0.1)]]

        def loss(a, b, t):
            logits = F.linear(w, [a, b], None, "tanh")
            return F.log_softmax(logits)[0] * t

        assert gradcheck(loss, [0.4, -0.9, 1.5])

    def test_a_wrong_gradient_is_caught_and_named(self):
        def wrong(x, y):  # d/dx is 2xy, but backward sees only x.detach() * ...: half of it
            return x * x.detach() * y

        with pytest.raises(GradcheckError,
                           match=r"d output\[0\] / d input\[0\] at \[1.5, 2.0\] is 3.0 by backward"):
            gradcheck(wrong, [1.5, 2.0])
        result = gradcheck(wrong, [1.5, 2.0], raise_exception=False)
        assert not result
        k, j, analytical, numerical = result.worst
        assert (k, j, analytical) == (0, 0, 3.0)
        assert math.isclose(numerical, 6.0, rel_tol=1e-6)
        assert "passed=False" in repr(result)

    def test_several_outputs_and_nan(self):
        assert gradcheck(lambda x, y: [x * y, (x - y).exp()], [0.2, 0.9])
        with pytest.raises(GradcheckError):
            gradcheck(lambda x: (x - 1.0).sqrt(), [1.0])  # inf/nan at the boundary
        with pytest.raises(ValueError, match="eps must be positive"):
            gradcheck(lambda x: x, [1.0], eps=0.0)


class TestHooks:
    def test_interior_hook_changes_what_flows_on_as_in_torch(self):
        x, w = Scalar(0.8), Scalar(-1.2)
        h = x * w
        seen = []
        h.register_hook(lambda g: seen.append(g) or g * 3.0)
        y = h.sin() + h * h
        y.backward()
        tx, tw = tt(0.8), tt(-1.2)
        th = tx * tw
        th.register_hook(lambda g: g * 3.0)
        ty = torch.sin(th) + th * th
        ty.backward()
        assert_close(seen[0], math.cos(-0.96) + 2 * -0.96, "gradient the hook saw")
        assert_close(x.grad, tx.grad, "x.grad")
        assert_close(w.grad, tw.grad, "w.grad")

    def test_leaf_hook_sees_one_pass_before_accumulation(self):
        x = Scalar(2.0)
        seen = []
        x.register_hook(lambda g: seen.append(g))
        x.grad = 10.0
        (x * x + x).backward()
        assert seen == [5.0] and x.grad == 15.0
        handle = x.register_hook(lambda g: -g)
        (x * 3.0).backward()
        assert seen == [5.0, 3.0] and x.grad == 12.0  # hooks run in order: the second negates
        handle.remove()
        handle.remove()
        (x * 3.0).backward()
        assert x.grad == 15.0

    def test_hooks_run_in_grad_and_on_a_leaf_root(self):
        x = Scalar(1.0)
        calls = []
        x.register_hook(lambda g: calls.append(g))
        assert grad(x * 4.0, x) == (4.0,)
        x.backward(2.0)
        assert calls == [4.0, 2.0]

    def test_hook_with_create_graph_and_replay(self):
        x = Scalar(0.5)
        h = x.exp()
        h.register_hook(lambda g: g * h)  # a Scalar: recorded
        h.sin().backward(create_graph=True)
        first = x.grad  # cos(e^x) * e^x * e^x
        x.grad = 0.0
        first.backward()
        tx = tt(0.5)
        th = torch.exp(tx)
        th.register_hook(lambda g: g * th)
        (tfirst,) = torch.autograd.grad(torch.sin(th), tx, create_graph=True)
        (tsecond,) = torch.autograd.grad(tfirst, tx)
        assert_close(first.data, tfirst, "first")
        assert_close(x.grad, tsecond, "second")

        p, w = Scalar(0.0), Scalar(2.0)
        replay = Replay(lambda: (p * w).tanh(), [p])
        w.register_hook(lambda g: g * 0.5)
        replay.forward([0.3])
        replay.backward()
        assert_close(w.grad, 0.5 * 0.3 * (1 - math.tanh(0.6) ** 2), "hooked weight through a Replay")

    def test_bad_hooks(self):
        x = Scalar(1.0)
        with pytest.raises(TypeError, match="needs a callable"):
            x.register_hook(3)
        x.register_hook(lambda g: "big")
        with pytest.raises(TypeError, match="hook returned str"):
            (x * 2.0).backward()

    def test_hook_table_forgets_freed_nodes(self):
        import gc

        import scalargrad.scalar as engine

        x = Scalar(1.0)
        x.register_hook(lambda g: g)
        key = id(x)
        assert key in engine._HOOKS
        del x
        gc.collect()
        assert key not in engine._HOOKS


class TestDetectAnomaly:
    @parameterized.expand([
        ("log", lambda x: x.log(), 0.0, r"'log' made -inf from finite inputs \[0.0\]"),
        ("div", lambda x: 1.0 / x, 0.0, r"'/' made inf from finite inputs \[0.0\]"),
        ("exp", lambda x: x.exp(), 1000.0, r"'exp' made inf from finite inputs \[1000.0\]"),
        ("pow", lambda x: x ** 0.5, -1.0, r"'\*\*' made nan from finite inputs \[-1.0\]"),
        ("neuron", lambda x: F.neuron([x], [1e308], Scalar(1e308)), 10.0,
         r"'dot' made inf from finite inputs"),
    ])
    def test_forward_names_the_op_the_inputs_and_the_line(self, _name, f, value, message):
        x = Scalar(value)
        with detect_anomaly(), pytest.raises(AnomalyError, match=message) as info:
            f(x)
        assert "test_autograd.py" in str(info.value)

    def test_backward_names_the_op(self):
        x = Scalar(0.0)
        with detect_anomaly():
            y = x.sqrt() * 2.0  # finite value, infinite derivative at 0
            with pytest.raises(AnomalyError,
                               match=r"backward of 'sqrt' \(made at .*test_autograd.py:\d+ .*\) "
                                                   r"gave inf for its input 0 of 1 \(value 0.0\)"):
                y.backward()

    def test_already_non_finite_inputs_pass_through(self):
        x = Scalar(math.nan)
        with detect_anomaly():
            y = x * 2.0 + 1.0  # the nan came from outside, not from these ops
        assert math.isnan(y.data)

    def test_off_outside_and_restored_after(self):
        x = Scalar(0.0)
        assert x.log().data == -math.inf  # no check outside
        with pytest.raises(AnomalyError), detect_anomaly():
            x.log()
        assert x.log().data == -math.inf
        y = x.sqrt()
        y.backward()  # built and run outside: inf, as torch, no error
        assert x.grad == math.inf

    def test_replayed_forward_is_checked(self):
        x, w = Scalar(1.0), Scalar(1.0)
        replay = Replay(lambda: (x * w).log(), [x])
        with detect_anomaly():
            with pytest.raises(AnomalyError, match="'log' made -inf"):
                replay.forward([0.0])
            assert replay.forward([2.0]) == math.log(2.0)
