"""Elementwise ops on Scalar and in functional (scalargrad.elementwise) against torch float64.

Every name: its value and gradient at ordinary points, at its ties and bounds, at +-inf and nan, as a
Scalar method and as ``F.<name>``; second derivatives of the smooth ones; nested lists, tuples and numpy
arrays in, the same nesting out; broadcasting of the two-input ones; the errors; and a graph of every new op
compiled and replayed, bit for bit with building it again.
"""

import math

import numpy
import pytest
import torch
import torch.nn.functional as TF
from parameterized import parameterized

import scalargrad
from scalargrad import Scalar
from scalargrad import _floats as fl
from scalargrad import functional as F
from scalargrad.compile import compile_graph
from scalargrad.replay import Replay
from tests.helpers import assert_close, tt

INF, NAN = math.inf, math.nan
SPECIAL = [INF, -INF, NAN]

# name, the op on a Scalar (its method), the same through F, torch's, the points to check
ONE_INPUT = [
    ("relu", lambda x: x.relu(), F.relu, torch.relu, [-1.0, -0.0, 0.0, 0.5, *SPECIAL]),
    ("sigmoid", lambda x: x.sigmoid(), F.sigmoid, torch.sigmoid, [-800.0, -1.0, 0.0, 2.0, 800.0, *SPECIAL]),
    ("tanh", lambda x: x.tanh(), F.tanh, torch.tanh, [-30.0, -0.5, 0.0, 0.7, *SPECIAL]),
    ("exp", lambda x: x.exp(), F.exp, torch.exp, [-1000.0, -1.0, 0.0, 1.5, 1000.0, *SPECIAL]),
    ("log", lambda x: x.log(), F.log, torch.log, [-1.0, 0.0, 0.5, 3.0, *SPECIAL]),
    ("log1p", lambda x: x.log1p(), F.log1p, torch.log1p, [-2.0, -1.0, -0.5, 1e-10, 3.0, *SPECIAL]),
    ("sqrt", lambda x: x.sqrt(), F.sqrt, torch.sqrt, [-1.0, 0.0, 0.25, 4.0, *SPECIAL]),
    ("abs", lambda x: abs(x), F.abs, torch.abs, [-2.0, -0.0, 0.0, 3.0, *SPECIAL]),
    ("neg", lambda x: -x, F.neg, torch.neg, [-2.0, 0.0, 1.5, *SPECIAL]),
    ("sin", lambda x: x.sin(), F.sin, torch.sin, [-2.0, 0.0, 1.5, *SPECIAL]),
    ("cos", lambda x: x.cos(), F.cos, torch.cos, [-2.0, 0.0, 1.5, *SPECIAL]),
    ("arctanh", lambda x: x.arctanh(), F.arctanh, torch.arctanh, [-1.0, -0.5, 0.0, 0.5, 1.0, 2.0, *SPECIAL]),
    ("atanh", lambda x: x.arctanh(), F.atanh, torch.atanh, [-0.5, 1.0]),
    ("leaky_relu", lambda x: x.leaky_relu(0.2), lambda x: F.leaky_relu(x, 0.2),
     lambda t: TF.leaky_relu(t, 0.2), [-2.0, 0.0, 3.0, *SPECIAL]),
    ("leaky_relu_default", lambda x: x.leaky_relu(), F.leaky_relu, TF.leaky_relu, [-2.0, 3.0]),
    ("tan", lambda x: x.tan(), F.tan, torch.tan, [-1.0, 0.0, 1.5, 1000.0, *SPECIAL]),
    ("asin", lambda x: x.asin(), F.asin, torch.asin, [-2.0, -1.0, -0.3, 0.0, 0.6, 1.0, 1.5, *SPECIAL]),
    ("acos", lambda x: x.acos(), F.acos, torch.acos, [-2.0, -1.0, -0.3, 0.0, 0.6, 1.0, 1.5, *SPECIAL]),
    ("atan", lambda x: x.atan(), F.atan, torch.atan, [-3.0, 0.0, 0.5, 1e300, *SPECIAL]),
    ("sinh", lambda x: x.sinh(), F.sinh, torch.sinh, [-1000.0, -2.0, 0.0, 0.5, 1000.0, *SPECIAL]),
    ("cosh", lambda x: x.cosh(), F.cosh, torch.cosh, [-1000.0, -2.0, 0.0, 0.5, 1000.0, *SPECIAL]),
    ("erf", lambda x: x.erf(), F.erf, torch.erf, [-3.0, -0.5, 0.0, 0.2, 30.0, *SPECIAL]),
    ("square", lambda x: x.square(), F.square, torch.square, [-3.0, -0.0, 0.5, 1e200, *SPECIAL]),
    ("sign", lambda x: x.sign(), F.sign, torch.sign, [-3.0, -0.0, 0.0, 1e-300, *SPECIAL]),
    ("gelu", lambda x: x.gelu(), F.gelu, TF.gelu, [-40.0, -3.0, -0.5, 0.0, 0.7, 10.0, *SPECIAL]),
    ("gelu_tanh", lambda x: x.gelu(approximate="tanh"), lambda x: F.gelu(x, approximate="tanh"),
     lambda t: TF.gelu(t, approximate="tanh"), [-40.0, -3.0, -0.5, 0.0, 0.7, 10.0, *SPECIAL]),
    ("silu", lambda x: x.silu(), F.silu, TF.silu, [-1000.0, -3.0, 0.0, 0.5, 1000.0, *SPECIAL]),
    ("elu", lambda x: x.elu(), F.elu, TF.elu, [-800.0, -2.0, -0.0, 0.0, 1.5, *SPECIAL]),
    ("elu_alpha", lambda x: x.elu(2.5), lambda x: F.elu(x, alpha=2.5), lambda t: TF.elu(t, alpha=2.5),
     [-2.0, -0.0, 0.0, 1e-300, 1.5, *SPECIAL]),
    ("softsign", lambda x: x.softsign(), F.softsign, TF.softsign, [-3.0, -0.0, 0.0, 0.5, 1e300, *SPECIAL]),
    ("hardtanh", lambda x: x.hardtanh(), F.hardtanh, TF.hardtanh, [-2.0, -1.0, 0.0, 0.5, 1.0, 3.0, *SPECIAL]),
    ("hardtanh_bounds", lambda x: x.hardtanh(-0.5, 2.0), lambda x: F.hardtanh(x, min_val=-0.5, max_val=2.0),
     lambda t: TF.hardtanh(t, -0.5, 2.0), [-1.0, -0.5, 0.0, 2.0, 2.5, *SPECIAL]),
    ("hardtanh_point", lambda x: x.hardtanh(1.0, 1.0), lambda x: F.hardtanh(x, 1.0, 1.0),
     lambda t: TF.hardtanh(t, 1.0, 1.0), [0.0, 1.0, 2.0]),
    ("logsigmoid", lambda x: x.logsigmoid(), F.logsigmoid, TF.logsigmoid,
     [-1000.0, -3.0, -0.0, 0.0, 2.0, 1000.0, *SPECIAL]),
    ("softplus", lambda x: x.softplus(1.0, 20.0), F.softplus, TF.softplus,
     [-1000.0, -2.0, 0.0, 19.5, 20.0, 20.5, 1000.0, *SPECIAL]),
    ("softplus_beta_threshold", lambda x: x.softplus(beta=2.0, threshold=3.0),
     lambda x: F.softplus(x, beta=2.0, threshold=3.0), lambda t: TF.softplus(t, beta=2.0, threshold=3.0),
     [-2.0, 0.0, 1.0, 1.5, 1.6, *SPECIAL]),
    ("softplus_small_beta", lambda x: x.softplus(0.5, 20.0), lambda x: F.softplus(x, 0.5),
     lambda t: TF.softplus(t, 0.5), [-3.0, 0.7, 40.0, 40.5]),
    ("clamp", lambda x: x.clamp(-0.5, 1.0), lambda x: F.clamp(x, -0.5, 1.0),
     lambda t: torch.clamp(t, -0.5, 1.0), [-1.0, -0.5, 0.0, 1.0, 2.0, *SPECIAL]),
    ("clamp_min", lambda x: x.clamp(min=1.0), lambda x: F.clamp(x, min=1.0),
     lambda t: torch.clamp(t, min=1.0), [0.0, 1.0, 2.0, *SPECIAL]),
    ("clamp_max", lambda x: x.clamp(max=1.0), lambda x: F.clamp(x, max=1.0),
     lambda t: torch.clamp(t, max=1.0), [0.0, 1.0, 2.0, *SPECIAL]),
    ("clamp_min_above_max", lambda x: x.clamp(2.0, 1.0), lambda x: F.clamp(x, 2.0, 1.0),
     lambda t: torch.clamp(t, 2.0, 1.0), [0.0, 1.0, 1.5, 2.0, 3.0]),
    ("clamp_nan_bound", lambda x: x.clamp(NAN, 1.0), lambda x: F.clamp(x, NAN, 1.0),
     lambda t: torch.clamp(t, NAN, 1.0), [0.0, 2.0]),
    ("clip", lambda x: x.clip(-0.5, 1.0), lambda x: F.clip(x, -0.5, 1.0),
     lambda t: torch.clip(t, -0.5, 1.0), [-1.0, -0.5, 1.0, 2.0]),
    ("pow_number", lambda x: x.pow(2.5), lambda x: F.pow(x, 2.5), lambda t: torch.pow(t, 2.5),
     [-1.0, 0.0, 0.5, 3.0, *SPECIAL]),
    ("pow_integer", lambda x: x.pow(3), lambda x: F.pow(x, 3), lambda t: torch.pow(t, 3), [-2.0, 0.0, 1.5]),
    ("maximum_number", lambda x: x.maximum(1.0), lambda x: F.maximum(x, 1.0),
     lambda t: torch.maximum(t, torch.tensor(1.0, dtype=torch.float64)), [0.0, 1.0, 2.0, *SPECIAL]),
    ("minimum_number", lambda x: x.minimum(1.0), lambda x: F.minimum(x, 1.0),
     lambda t: torch.minimum(t, torch.tensor(1.0, dtype=torch.float64)), [0.0, 1.0, 2.0, *SPECIAL]),
    ("maximum_nan_number", lambda x: x.maximum(NAN), lambda x: F.maximum(x, NAN),
     lambda t: torch.maximum(t, torch.tensor(NAN, dtype=torch.float64)), [0.0]),
]

POINTS = [(f"{name}_{i}", method, through_f, reference, x)
          for name, method, through_f, reference, xs in ONE_INPUT for i, x in enumerate(xs)]


def torch_value_and_grad(reference, x):
    t = tt(x)
    y = reference(t)
    y.backward()
    return y, t.grad


def assert_value_and_grad_as_torch(s, y, reference, x):
    """``y`` (made from the leaf ``s`` holding ``x``) and ``s.grad`` after ``y.backward()`` are torch's."""
    y.backward()
    ty, tgrad = torch_value_and_grad(reference, x)
    assert_close(y.data, ty, f"value at {x}")
    assert_close(s.grad, tgrad, f"gradient at {x}")


class TestOneInput:
    @parameterized.expand(POINTS)
    def test_method_matches_torch(self, _name, method, _through_f, reference, x):
        s = Scalar(x)
        assert_value_and_grad_as_torch(s, method(s), reference, x)

    @parameterized.expand(POINTS)
    def test_through_functional_on_a_scalar(self, _name, method, through_f, reference, x):
        s = Scalar(x)
        y = through_f(s)
        assert isinstance(y, Scalar) and y.parents == (s,)
        assert_value_and_grad_as_torch(s, y, reference, x)

    @parameterized.expand(POINTS)
    def test_a_number_gives_a_constant(self, _name, method, through_f, reference, x):
        y = through_f(x)
        assert isinstance(y, Scalar) and y.is_leaf and y.parents == ()
        assert_close(y.data, reference(torch.tensor(x, dtype=torch.float64)), f"value at {x}")


# The smooth ones: the second derivative through backward(create_graph=True), against torch.autograd.grad.
SMOOTH = [
    ("tan", lambda x: x.tan(), torch.tan, [-1.0, 0.3, 1.2]),
    ("asin", lambda x: x.asin(), torch.asin, [-0.7, 0.0, 0.4]),
    ("acos", lambda x: x.acos(), torch.acos, [-0.7, 0.0, 0.4]),
    ("atan", lambda x: x.atan(), torch.atan, [-2.0, 0.0, 0.5]),
    ("sinh", lambda x: x.sinh(), torch.sinh, [-2.0, 0.0, 0.5]),
    ("cosh", lambda x: x.cosh(), torch.cosh, [-2.0, 0.0, 0.5]),
    ("erf", lambda x: x.erf(), torch.erf, [-1.5, 0.0, 0.3]),
    ("square", lambda x: x.square(), torch.square, [-2.0, 0.5]),
    ("gelu", lambda x: x.gelu(), TF.gelu, [-2.5, -0.3, 0.0, 0.8, 3.0]),
    ("gelu_tanh", lambda x: x.gelu("tanh"), lambda t: TF.gelu(t, approximate="tanh"),
     [-2.5, -0.3, 0.0, 0.8, 3.0]),
    ("silu", lambda x: x.silu(), TF.silu, [-4.0, -0.5, 0.0, 1.5]),
    ("elu", lambda x: x.elu(2.5), lambda t: TF.elu(t, 2.5), [-1.5, -0.2, 0.7]),
    ("softsign", lambda x: x.softsign(), TF.softsign, [-3.0, -0.4, 0.6, 2.0]),
    ("logsigmoid", lambda x: x.logsigmoid(), TF.logsigmoid, [-8.0, -1.0, 0.0, 2.0, 8.0]),
    ("softplus", lambda x: x.softplus(2.0, 20.0), lambda t: TF.softplus(t, 2.0, 20.0),
     [-3.0, 0.0, 1.5, 11.0]),
    ("softplus_no_arguments", lambda x: x.softplus(), TF.softplus, [-3.0, 0.0, 1.5]),
    ("pow", lambda x: x.pow(3.5), lambda t: torch.pow(t, 3.5), [0.5, 2.0]),
    ("pow_scalar_exponent", lambda x: x.pow(x * 0.5), lambda t: torch.pow(t, t * 0.5), [0.5, 2.0]),
]


class TestSecondDerivatives:
    @parameterized.expand([(f"{name}_{i}", f, ref, x)
                           for name, f, ref, xs in SMOOTH for i, x in enumerate(xs)])
    def test_matches_torch(self, _name, f, reference, x):
        s = Scalar(x)
        f(s).backward(create_graph=True)
        first = s.grad
        s.grad = 0.0
        if isinstance(first, Scalar):  # a constant derivative (elu's 1 for x > 0) is a plain float
            first.backward()
        t = tt(x)
        (tfirst,) = torch.autograd.grad(reference(t), t, create_graph=True)
        tsecond = torch.autograd.grad(tfirst, t)[0] if tfirst.requires_grad else 0.0
        assert_close(float(first), tfirst, f"first derivative at {x}")
        assert_close(s.grad, tsecond, f"second derivative at {x}")


class TestSoftplus:
    @parameterized.expand([(str(x), x) for x in [-800.0, -2.0, -0.0, 0.0, 1e-9, 3.0, 25.0, 800.0, *SPECIAL]])
    def test_no_arguments_gives_the_bits_of_the_neurons_softplus(self, _name, x):
        s = Scalar(x)
        y = s.softplus()
        y.backward()
        neuron = F.neuron([Scalar(1.0)], [x], Scalar(0.0), activation="softplus")
        expected = max(x, 0.0) + math.log1p(math.exp(-abs(x))) if not math.isnan(x) else NAN
        for got, want in ((y.data, fl.softplus(x)), (y.data, neuron.data), (s.grad, fl.sigmoid(x)),
                          (y.data, expected)):
            assert got == want or (math.isnan(got) and math.isnan(want)), (x, got, want)

    def test_threshold_is_strict_as_torch(self):
        # beta x == threshold is computed, above it x itself: 1.5 * 2 == 3
        at = Scalar(1.5).softplus(2.0, 3.0).data
        assert at == pytest.approx(math.log1p(math.exp(3.0)) / 2.0, rel=1e-15) and at != 1.5
        assert Scalar(1.5000001).softplus(2.0, 3.0).data == 1.5000001


# ---- two inputs -------------------------------------------------------------------------------------------

PAIRS = [(-1.0, 2.0), (2.0, -1.0), (1.0, 1.0), (-0.0, 0.0), (NAN, 1.0), (1.0, NAN), (INF, INF), (-INF, 3.0)]
TWO_INPUT = [("maximum", lambda a, b: a.maximum(b), F.maximum, torch.maximum),
             ("minimum", lambda a, b: a.minimum(b), F.minimum, torch.minimum)]


class TestTwoInputs:
    @parameterized.expand([(f"{name}_{i}", method, through_f, ref, a, b) for name, method, through_f, ref
                           in TWO_INPUT for i, (a, b) in enumerate(PAIRS)])
    def test_maximum_and_minimum_split_ties_as_torch(self, _name, method, through_f, reference, a, b):
        for fn in (method, through_f):
            sa, sb = Scalar(a), Scalar(b)
            y = fn(sa, sb)
            y.backward()
            ta, tb = tt(a), tt(b)
            ty = reference(ta, tb)
            ty.backward()
            assert_close(y.data, ty, f"value at {a, b}")
            assert_close(sa.grad, ta.grad, f"gradient of a at {a, b}")
            assert_close(sb.grad, tb.grad, f"gradient of b at {a, b}")

    @parameterized.expand([(str(i), a, b) for i, (a, b) in enumerate(PAIRS)])
    def test_a_number_first_is_a_constant(self, _name, a, b):
        for through_f, reference in ((F.maximum, torch.maximum), (F.minimum, torch.minimum)):
            sb = Scalar(b)
            y = through_f(a, sb)
            y.backward()
            tb = tt(b)
            ty = reference(torch.tensor(a, dtype=torch.float64), tb)
            ty.backward()
            assert y.parents == (sb,)
            assert_close(y.data, ty)
            assert_close(sb.grad, tb.grad)

    @parameterized.expand([(f"{a}_{b}", a, b) for a, b in [(2.0, 3.0), (0.0, 0.0), (0.0, 2.0), (-2.0, 3.0),
                                                           (-8.0, 1.0 / 3.0), (0.5, -1.0), (0.0, -1.0)]])
    def test_pow_of_two_scalars_and_with_a_number_on_either_side(self, _name, a, b):
        sa, sb = Scalar(a), Scalar(b)
        y = sa.pow(sb)
        y.backward()
        ta, tb = tt(a), tt(b)
        ty = torch.pow(ta, tb)
        ty.backward()
        assert_close(y.data, ty)
        assert_close(sa.grad, ta.grad, "gradient of the base")
        assert_close(sb.grad, tb.grad, "gradient of the exponent")
        sb = Scalar(b)
        z = F.pow(a, sb)  # a number to a Scalar power
        z.backward()
        tb = tt(b)
        tz = torch.pow(a, tb)
        tz.backward()
        assert z.parents == (sb,)
        assert_close(z.data, tz)
        assert_close(sb.grad, tb.grad)


# ---- nesting, numpy arrays and broadcasting -------------------------------------------------------------

def values_of(x):
    if isinstance(x, list):
        return [values_of(v) for v in x]
    assert isinstance(x, Scalar), f"an element of the result is a {type(x).__name__}, not a Scalar"
    return x.data


def nested_scalars(values):
    if isinstance(values, list):
        return [nested_scalars(v) for v in values]
    return Scalar(values)


def flat(x):
    return [v for item in x for v in flat(item)] if isinstance(x, list) else [x]


def assert_nested_close(got, want: torch.Tensor, what="value"):
    got_values = values_of(got)
    assert numpy.shape(got_values) == tuple(want.shape), (numpy.shape(got_values), tuple(want.shape))
    for i, (g, w) in enumerate(zip(flat(got_values), want.flatten().tolist())):
        assert_close(g, w, f"{what}[{i}]")


GRID = [[-2.0, -1.0, -0.5, 0.0], [0.3, 0.5, 1.0, 2.0], [-0.0, 1.5, 20.0, -30.0]]


class TestNesting:
    @parameterized.expand([(name, through_f, reference) for name, _, through_f, reference, _ in ONE_INPUT])
    def test_nested_lists_in_the_same_nesting_out_with_gradients(self, _name, through_f, reference):
        xs = nested_scalars(GRID)
        ys = through_f(xs)
        weights = [[0.5 + i + 0.25 * j for j in range(4)] for i in range(3)]
        scalargrad.backward(ys, grad_outputs=weights)
        t = tt(GRID)
        ty = reference(t)
        ty.backward(torch.tensor(weights, dtype=torch.float64))
        assert_nested_close(ys, ty)
        for x, g in zip(flat(xs), t.grad.flatten().tolist()):
            assert_close(x.grad, g)

    @parameterized.expand([(name, through_f, reference) for name, _, through_f, reference, _ in ONE_INPUT])
    def test_numpy_array_in_nested_constants_out(self, _name, through_f, reference):
        ys = through_f(numpy.array(GRID))
        assert all(y.is_leaf for y in flat(ys))
        assert_nested_close(ys, reference(torch.tensor(GRID, dtype=torch.float64)))

    def test_tuples_and_mixed_elements(self):
        a = Scalar(-2.0)
        ys = F.relu(((a, 3), (numpy.float64(-1.5), 0.5)))
        assert isinstance(ys, list) and all(isinstance(row, list) for row in ys)
        assert values_of(ys) == [[0.0, 3.0], [0.0, 0.5]]
        assert ys[0][0].parents == (a,) and ys[0][1].is_leaf
        assert F.relu([]) == [] and F.relu([[], []]) == [[], []]
        assert F.sign(numpy.float32(-2.0)).data == -1.0


SHAPES = [((), ()), ((3,), ()), ((), (2, 3)), ((2, 1), (3,)), ((2, 3), (2, 3)), ((1, 3), (2, 1))]


def grid_of(shape, offset):
    """Values of ``shape`` with ties against grid_of(shape, 0) where they broadcast together."""
    n = math.prod(shape)
    values = [round(0.5 * ((i * 7 + offset) % 5) - 1.0, 2) for i in range(n)]
    return torch.tensor(values, dtype=torch.float64).reshape(shape).tolist()


class TestBroadcasting:
    @parameterized.expand([(f"{name}_{sa}_{sb}", through_f, reference, sa, sb)
                           for name, _, through_f, reference in TWO_INPUT for sa, sb in SHAPES])
    def test_maximum_and_minimum(self, _name, through_f, reference, shape_a, shape_b):
        self._check(through_f, reference, grid_of(shape_a, 0), grid_of(shape_b, 2))

    @parameterized.expand([(f"{sa}_{sb}", sa, sb) for sa, sb in SHAPES])
    def test_pow(self, _name, shape_a, shape_b):
        base = torch.tensor(grid_of(shape_a, 0), dtype=torch.float64).abs().add(0.5).tolist()
        self._check(F.pow, torch.pow, base, grid_of(shape_b, 3))

    @parameterized.expand([(f"{sa}_{sb}", sa, sb) for sa, sb in SHAPES])
    def test_where_sends_the_gradient_to_the_chosen_side(self, _name, shape_a, shape_b):
        a, b = grid_of(shape_a, 0), grid_of(shape_b, 4)
        condition = (torch.tensor(a, dtype=torch.float64) > torch.tensor(b, dtype=torch.float64))
        self._check(lambda x, y: F.where(condition.tolist(), x, y),
                    lambda x, y: torch.where(condition, x, y), a, b)

    @staticmethod
    def _check(through_f, reference, a, b):
        sa, sb = nested_scalars(a), nested_scalars(b)
        out = through_f(sa, sb)
        ta, tb = tt(a), tt(b)
        tout = reference(ta, tb)
        assert_nested_close(out, tout)
        weights = torch.arange(1.0, tout.numel() + 1.0, dtype=torch.float64).reshape(tout.shape)
        scalargrad.backward(out, grad_outputs=weights.tolist())
        tout.backward(weights)
        for x, t in ((sa, ta), (sb, tb)):
            grads = t.grad if t.grad is not None else torch.zeros_like(t)
            for s, g in zip(flat(x), grads.flatten().tolist()):
                assert_close(s.grad, g, "gradient")

    def test_where_takes_numbers_and_bools_and_keeps_the_chosen_scalars(self):
        x = [Scalar(-1.0), Scalar(2.0), Scalar(3.0)]
        out = F.where([1, 0.0, numpy.bool_(True)], x, [10, 20, 30])
        assert out[0] is x[0] and out[2] is x[2] and out[1].is_leaf and out[1].data == 20.0
        assert F.where(False, Scalar(1.0), 2.0).data == 2.0
        scalargrad.backward(out)
        assert [v.grad for v in x] == [1.0, 0.0, 1.0]

    def test_numbers_on_both_sides_give_constants(self):
        assert [v.data for v in F.maximum([1.0, 5.0], 2)] == [2.0, 5.0]
        assert all(v.is_leaf for v in F.pow(numpy.array([2.0, 3.0]), 2))


# ---- errors ---------------------------------------------------------------------------------------------

ERRORS = [
    ("string_element", lambda: F.relu([Scalar(1.0), "a"]), TypeError,
     r"relu: x must hold Scalars or numbers.*x\[1\] is a str"),
    ("string_alone", lambda: F.tanh("a"), TypeError, r"tanh: x must hold Scalars or numbers.*str"),
    ("none_element", lambda: F.gelu([None]), TypeError, r"gelu: x must hold Scalars or numbers.*NoneType"),
    ("bool_element", lambda: F.exp([True]), TypeError, r"exp: .*bool"),
    ("ragged", lambda: F.sigmoid([[1.0, 2.0], [3.0]]), ValueError, r"sigmoid: x is ragged"),
    ("clamp_without_bounds", lambda: F.clamp([1.0]), ValueError, r"clamp: at least one of min and max"),
    ("clamp_method_without_bounds", lambda: Scalar(1.0).clip(), ValueError, r"clamp: at least one"),
    ("clamp_string_bound", lambda: Scalar(1.0).clamp(min="0"), TypeError,
     r"min must be an int or float, got str"),
    ("clamp_scalar_bound", lambda: F.clamp([1.0], max=Scalar(0.0)), TypeError, r"max must be .*got Scalar"),
    ("hardtanh_min_above_max", lambda: F.hardtanh([0.0], 2.0, 1.0), ValueError,
     r"hardtanh: min_val \(2.0\) cannot be greater than max_val \(1.0\)"),
    ("gelu_approximate", lambda: F.gelu(1.0, approximate="erf"), ValueError,
     r"unknown approximate 'erf'; choose one of: none, tanh"),
    ("elu_alpha", lambda: Scalar(1.0).elu(alpha="1"), TypeError, r"alpha must be an int or float, got str"),
    ("softplus_beta", lambda: F.softplus([1.0], beta=None), TypeError, r"beta must be an int or float"),
    ("leaky_slope", lambda: F.leaky_relu([1.0], negative_slope=[0.1]), TypeError,
     r"negative_slope must be an int or float, got list"),
    ("maximum_shapes", lambda: F.maximum([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError,
     r"maximum: shapes \(2,\), \(3,\) do not broadcast"),
    ("pow_shapes", lambda: F.pow([[1.0, 2.0]], [[1.0, 2.0, 3.0]]), ValueError, r"pow: shapes"),
    ("minimum_string", lambda: F.minimum([1.0], ["x"]), TypeError, r"minimum: input 1 must hold"),
    ("maximum_method_string", lambda: Scalar(1.0).maximum("2"), TypeError,
     r"maximum: other must be a Scalar or a number, got str"),
    ("pow_method_list", lambda: Scalar(1.0).pow([2.0]), TypeError,
     r"pow: other must be a Scalar or a number"),
    ("where_string", lambda: F.where(["yes"], 1.0, 2.0), TypeError,
     r"where: an element of condition must be a bool"),
    ("where_scalar", lambda: F.where([Scalar(1.0)], 1.0, 2.0), TypeError, r"where: condition holds a Scalar"),
    ("where_shapes", lambda: F.where([True, False, True], [1.0, 2.0], 0.0), ValueError, r"where: shapes"),
    ("where_ragged_condition", lambda: F.where([[True], [True, False]], 1.0, 2.0), ValueError,
     r"where: .*ragged"),
]


class TestErrors:
    @parameterized.expand(ERRORS)
    def test_clear_errors(self, _name, call, error, pattern):
        with pytest.raises(error, match=pattern):
            call()

    def test_the_operators_still_return_not_implemented(self):
        assert Scalar(1.0).__pow__("a") is NotImplemented
        with pytest.raises(TypeError):
            Scalar(1.0) ** "a"


# ---- compiled and replayed -------------------------------------------------------------------------------

P = [Scalar(0.5), Scalar(-0.5)]  # parameters: compiled code and Replay give these their gradients


def every_new_op(x):
    a, b = x[0] * P[0], x[1] - P[1]  # exact for these feeds: the ties and bounds below are met exactly
    terms = [a.tan(), (a * 0.3).asin(), (a * 0.3).acos(), a.atan(), a.sinh(), a.cosh(), a.erf(), a.square(),
             a.sign() * b, a.gelu(), a.gelu("tanh"), a.silu(), a.elu(1.5), a.softsign(),
             a.hardtanh(-0.25, 0.5), a.logsigmoid(), a.softplus(2.0, 1.0), a.softplus(), a.clamp(-0.25, 0.5),
             a.clip(min=0.25),
             a.maximum(b), a.minimum(b), a.maximum(0.25), a.minimum(0.25), b.abs().pow(a), a.pow(2.0),
             F.maximum(0.3, b), F.minimum(b, a)]
    out = terms[0]
    for t in terms[1:]:
        out = out + t * b
    return out


# at build time, then fed: branches flip; a == b and a == 0.25 (maximum's and minimum's ties, clip's bound);
# a == 0.5 and a == -0.25 (the bounds of clamp and hardtanh; softplus's threshold); a == 0 (elu, sign); nan
FEEDS = [("flips", [0.3, 0.7], [-0.6, 0.25]), ("ties", [0.3, 0.7], [0.5, -0.25]),
         ("at_the_upper_bounds", [0.3, 0.7], [1.0, 0.2]), ("at_the_lower_bounds", [0.3, 0.7], [-0.5, 0.2]),
         ("at_zero", [0.3, 0.7], [0.0, 0.3]),
         ("nan", [0.3, 0.7], [NAN, 0.1])]


def _same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


def _zero():
    for p in P:
        p.grad = 0.0


class TestCompiledAndReplayed:
    @parameterized.expand([(f"{name}_{form}", at, new, form) for name, at, new in FEEDS
                           for form in ("fast", "readable")])
    def test_every_new_op_bit_for_bit(self, _name, at_build, values, form):
        xs = [Scalar(v) for v in at_build]
        step = compile_graph(lambda: every_new_op(xs), xs, form=form)
        _zero()
        compiled = (step(values), [p.grad for p in P])
        xr = [Scalar(v) for v in at_build]
        replay = Replay(lambda: every_new_op(xr), xr)
        _zero()
        replayed = (replay.forward(values), None)
        replay.backward()
        replayed = (replayed[0], [p.grad for p in P])
        _zero()
        y = every_new_op([Scalar(v) for v in values])
        y.backward()
        eager = (y.data, [p.grad for p in P])
        for other in (replayed, eager):
            assert _same(compiled[0], other[0]), (compiled, other)
            assert all(_same(g, r) for g, r in zip(compiled[1], other[1])), (compiled, other)
