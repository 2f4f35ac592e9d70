"""Tests of scalargrad.functional: node structure (one node, n parents) and
values and gradients against torch float64."""

import math
import random

import numpy
import pytest
import torch
import torch.nn.functional as TF
from parameterized import parameterized

from scalargrad import functional as F
from scalargrad import neuron as neuron_module
from scalargrad.scalar import Scalar, declaration
from tests.bits import equal_up_to_sum_rounding
from tests.helpers import as_float, assert_close, tt


def scalars(values):
    return [Scalar(v) for v in values]


def random_values(n, seed, low=-2.0, high=2.0):
    rng = random.Random(seed)
    return [rng.uniform(low, high) for _ in range(n)]


def assert_grads(xs, t, what="grad"):
    """The .grad of each Scalar in xs (a flat or nested list) equals torch's t.grad entry."""
    expected = t.grad.tolist() if t.grad is not None else numpy.zeros(numpy.shape(xs)).tolist()
    flat_xs = list(numpy.ravel(numpy.array(xs, dtype=object)))
    flat_expected = list(numpy.ravel(numpy.array(expected)))
    assert len(flat_xs) == len(flat_expected)
    for i, (x, g) in enumerate(zip(flat_xs, flat_expected)):
        assert_close(x.grad, float(g), f"{what}[{i}]")


def weighted_sum(outputs, weights):
    """sum(w_i * out_i) with plain float weights, for Scalars or a tensor, so every
    output's gradient matters and each gets a different one."""
    if isinstance(outputs, torch.Tensor):
        return (outputs * torch.tensor(weights, dtype=torch.float64)).sum()
    return F.dot(outputs, weights)


SIZES = [("n1", 1), ("n2", 2), ("n10", 10), ("n100", 100)]


# --------------------------------------------------------------------------
# sum and mean
# --------------------------------------------------------------------------

class TestSum:
    @parameterized.expand(SIZES)
    def test_one_node_with_n_parents(self, _name, n):
        xs = scalars(random_values(n, n))
        s = F.sum(xs)
        assert len(s.parents) == n
        assert all(p is x for p, x in zip(s.parents, xs))
        assert not s.is_leaf

    @parameterized.expand(SIZES)
    def test_matches_torch(self, _name, n):
        values = random_values(n, 10 + n)
        xs = scalars(values)
        y = F.sum(xs) * F.sum([x * x for x in xs])
        y.backward()
        t = tt(values)
        ty = t.sum() * (t * t).sum()
        ty.backward()
        assert_close(y.data, ty)
        assert_grads(xs, t)

    def test_numbers_are_constants(self):
        a, b = Scalar(1.5), Scalar(-2.0)
        s = F.sum([a, 2.0, b, 3, numpy.float64(0.25)])
        assert s.parents == (a, b) and s.parents[0] is a and s.parents[1] is b
        assert type(s.data) is float and s.data == 4.75
        s.backward()
        assert a.grad == 1.0 and b.grad == 1.0

    def test_start(self):
        s = F.sum([Scalar(1.0), Scalar(2.0)], start=10.0)
        assert s.data == 13.0 and len(s.parents) == 2

    def test_empty(self):
        s = F.sum([])
        assert s.data == 0.0 and s.parents == ()

    def test_gradient_through_shared_input(self):
        x = Scalar(3.0)
        s = F.sum([x, x, x * x])
        s.backward()
        assert s.data == 15.0 and x.grad == 8.0

    @parameterized.expand([("str", "a"), ("none", None), ("bool", True), ("list", [1.0])])
    def test_bad_element(self, _name, bad):
        with pytest.raises(TypeError, match=type(bad).__name__):
            F.sum([Scalar(1.0), bad])


class TestMean:
    @parameterized.expand(SIZES)
    def test_one_node_matches_torch(self, _name, n):
        values = random_values(n, 20 + n)
        xs = scalars(values)
        m = F.mean(xs)
        assert len(m.parents) == n and all(p is x for p, x in zip(m.parents, xs))
        y = m * m.exp()
        y.backward()
        t = tt(values)
        tm = t.mean()
        ty = tm * tm.exp()
        ty.backward()
        assert_close(m.data, tm)
        assert_close(y.data, ty)
        assert_grads(xs, t)

    def test_numbers_count_in_n(self):
        a = Scalar(4.0)
        m = F.mean([a, 2.0, numpy.float64(0.0), 2])
        assert m.parents == (a,)
        assert type(m.data) is float and m.data == 2.0
        m.backward()
        assert a.grad == 0.25

    def test_empty_raises(self):
        with pytest.raises(ValueError):
            F.mean([])


# --------------------------------------------------------------------------
# dot, matvec, matmul
# --------------------------------------------------------------------------

def _dot_case(w_kind, x_kind, n, seed):
    """Values and Scalar/float lists for one side kind: 'scalar', 'float' or 'mix'."""
    rng = random.Random(seed)
    w_vals = [rng.uniform(-2, 2) for _ in range(n)]
    x_vals = [rng.uniform(-2, 2) for _ in range(n)]

    def side(vals, kind):
        if kind == "scalar":
            return [Scalar(v) for v in vals]
        if kind == "float":
            return list(vals)
        return [Scalar(v) if i % 2 == 0 else v for i, v in enumerate(vals)]

    return w_vals, x_vals, side(w_vals, w_kind), side(x_vals, x_kind)


DOT_KINDS = [
    ("scalar", "scalar"), ("scalar", "float"), ("float", "scalar"),
    ("mix", "scalar"), ("scalar", "mix"), ("mix", "mix"), ("mix", "float"), ("float", "mix"),
]


class TestDot:
    @parameterized.expand([
        (f"{wk}_{xk}_{bias}_{n}", wk, xk, bias, n)
        for wk, xk in DOT_KINDS
        for bias in ("no_bias", "scalar_bias", "float_bias")
        for n in (1, 2, 10)
    ])
    def test_matches_torch_and_is_one_node(self, _name, w_kind, x_kind, bias_kind, n):
        w_vals, x_vals, ws, xs = _dot_case(w_kind, x_kind, n, seed=n)
        bias = {"no_bias": None, "scalar_bias": Scalar(0.75), "float_bias": 0.75}[bias_kind]
        y = F.dot(ws, xs, bias=bias) if bias is not None else F.dot(ws, xs)

        # one node whose parents are exactly the Scalars, in order, bias last
        recorded = [v for v in ws if isinstance(v, Scalar)] + [v for v in xs if isinstance(v, Scalar)]
        if isinstance(bias, Scalar):
            recorded.append(bias)
        assert len(y.parents) == len(recorded)
        assert set(map(id, y.parents)) == set(map(id, recorded))
        if isinstance(bias, Scalar):
            assert y.parents[-1] is bias
        assert all(p.is_leaf for p in y.parents)

        out = y * y.tanh()  # a non-linear use so the gradient is not just the partner
        out.backward()

        tw, tx = tt(w_vals), tt(x_vals)
        tb = tt(0.75) if isinstance(bias, Scalar) else 0.0 if bias is None else 0.75
        ty = (tw * tx).sum() + tb
        t_out = ty * ty.tanh()
        t_out.backward()
        assert_close(y.data, ty)
        assert_close(out.data, t_out)
        for i, w in enumerate(ws):
            if isinstance(w, Scalar):
                assert_close(w.grad, tw.grad[i], f"w[{i}].grad")
        for i, x in enumerate(xs):
            if isinstance(x, Scalar):
                assert_close(x.grad, tx.grad[i], f"x[{i}].grad")
        if isinstance(bias, Scalar):
            assert_close(bias.grad, tb.grad, "bias.grad")

    def test_both_sides_scalars_parents_are_ws_then_xs(self):
        ws, xs = scalars([1.0, 2.0]), scalars([3.0, 4.0])
        y = F.dot(ws, xs)
        assert len(y.parents) == 4
        assert all(p is q for p, q in zip(y.parents, ws + xs))
        y.backward()
        assert [w.grad for w in ws] == [3.0, 4.0]
        assert [x.grad for x in xs] == [1.0, 2.0]

    def test_floats_on_one_side_make_n_parents(self):
        ws = scalars([1.0, 2.0, 3.0])
        for y in (F.dot(ws, [0.5, 1, -2.0]), F.dot([0.5, 1, -2.0], ws)):
            assert len(y.parents) == 3 and all(p is w for p, w in zip(y.parents, ws))
            assert type(y.data) is float and y.data == -3.5

    def test_same_scalars_on_both_sides(self):
        v = scalars([1.5, -2.0, 0.5])
        y = F.dot(v, v)
        y.backward()
        assert y.data == 1.5 ** 2 + 4.0 + 0.25
        assert [x.grad for x in v] == [3.0, -4.0, 1.0]

    def test_numpy_inputs(self):
        ws = scalars([1.0, -2.0])
        for xs in (numpy.array([0.5, 3.0]), [numpy.float64(0.5), numpy.float64(3.0)]):
            y = F.dot(ws, xs, bias=numpy.float64(1.0))
            assert type(y.data) is float and y.data == -4.5
            assert len(y.parents) == 2
        y = F.dot(numpy.array([0.5, 3.0]), ws)
        y.backward()
        assert [w.grad for w in ws] == [0.5, 3.0]

    def test_empty(self):
        for y, want in ((F.dot([], []), 0.0), (F.dot([], [], bias=Scalar(2.0)), 2.0),
                        (F.dot([], [], bias=3), 3.0), (F.sum([]), 0.0)):
            assert type(y.data) is float and y.data == want

    @parameterized.expand([
        ("longer_w", 3, 2, None),
        ("longer_x", 2, 3, None),
        ("with_bias", 1, 2, Scalar(1.0)),
        ("empty_w", 0, 1, None),
    ])
    def test_length_mismatch_raises_value_error(self, _name, n_w, n_x, bias):
        for ws, xs in ((scalars([1.0] * n_w), scalars([2.0] * n_x)), (scalars([1.0] * n_w), [2.0] * n_x),
                       ([1.0] * n_w, scalars([2.0] * n_x))):
            with pytest.raises(ValueError, match="length"):
                F.dot(ws, xs, bias=bias)

    def test_bad_element_raises_type_error(self):
        with pytest.raises(TypeError, match="str"):
            F.dot([Scalar(1.0), "a"], [1.0, 2.0])
        with pytest.raises(TypeError, match="str"):
            F.dot([Scalar(1.0)], [2.0], bias="b")


class TestMatrices:
    @parameterized.expand([
        ("1x1", 1, 1, "scalar"), ("3x4", 3, 4, "scalar"), ("5x2", 5, 2, "scalar"),
        ("4x6_float_x", 4, 6, "float"), ("2x3_float_w", 2, 3, "float_w"),
    ])
    def test_matvec_matches_torch(self, _name, m, k, kind):
        rng = random.Random(m * 10 + k)
        w_vals = [[rng.uniform(-1, 1) for _ in range(k)] for _ in range(m)]
        x_vals = [rng.uniform(-1, 1) for _ in range(k)]
        weights = [rng.uniform(-1, 1) for _ in range(m)]
        W = w_vals if kind == "float_w" else [scalars(row) for row in w_vals]
        x = x_vals if kind == "float" else scalars(x_vals)
        out = F.matvec(W, x)
        assert len(out) == m
        loss = weighted_sum([o.tanh() for o in out], weights)
        loss.backward()

        tW, tx = tt(w_vals), tt(x_vals)
        t_out = tW @ tx
        t_loss = weighted_sum(t_out.tanh(), weights)
        t_loss.backward()
        for i in range(m):
            assert_close(out[i].data, t_out[i])
        assert_close(loss.data, t_loss)
        if kind != "float_w":
            assert_grads(W, tW, "W.grad")
        if kind != "float":
            assert_grads(x, tx, "x.grad")

    @parameterized.expand([
        ("1x1x1", 1, 1, 1, "scalar", "scalar"),
        ("2x3x4", 2, 3, 4, "scalar", "scalar"),
        ("4x1x3", 4, 1, 3, "scalar", "scalar"),
        ("3x5x2_float_b", 3, 5, 2, "scalar", "float"),
        ("3x2x4_float_a", 3, 2, 4, "float", "scalar"),
    ])
    def test_matmul_matches_torch(self, _name, m, k, n, a_kind, b_kind):
        rng = random.Random(m * 100 + k * 10 + n)
        a_vals = [[rng.uniform(-1, 1) for _ in range(k)] for _ in range(m)]
        b_vals = [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(k)]
        weights = [rng.uniform(-1, 1) for _ in range(m * n)]
        A = a_vals if a_kind == "float" else [scalars(row) for row in a_vals]
        B = b_vals if b_kind == "float" else [scalars(row) for row in b_vals]
        C = F.matmul(A, B)
        assert len(C) == m and all(len(row) == n for row in C)
        loss = weighted_sum([c.sigmoid() for row in C for c in row], weights)
        loss.backward()

        tA, tB = tt(a_vals), tt(b_vals)
        tC = tA @ tB
        t_loss = weighted_sum(tC.sigmoid().reshape(-1), weights)
        t_loss.backward()
        for i in range(m):
            for j in range(n):
                assert_close(C[i][j].data, tC[i][j])
        assert_close(loss.data, t_loss)
        if a_kind != "float":
            assert_grads(A, tA, "A.grad")
        if b_kind != "float":
            assert_grads(B, tB, "B.grad")

    def test_matvec_row_length_mismatch(self):
        W = [scalars([1.0, 2.0]), scalars([3.0, 4.0, 5.0])]
        with pytest.raises(ValueError):
            F.matvec(W, scalars([1.0, 1.0]))
        with pytest.raises(ValueError):
            F.matvec([scalars([1.0, 2.0])], scalars([1.0, 1.0, 1.0]))

    def test_matmul_shape_mismatch(self):
        A = [scalars([1.0, 2.0]), scalars([3.0, 4.0])]
        with pytest.raises(ValueError, match="shape"):
            F.matmul(A, [scalars([1.0, 2.0])])  # 2x2 times 1x2
        with pytest.raises(ValueError, match="shape"):
            F.matmul(A, [[1.0], [2.0], [3.0]])  # 2x2 times 3x1

    def test_matmul_ragged_rows_raise(self):
        with pytest.raises(ValueError):
            F.matmul([scalars([1.0, 2.0]), scalars([3.0])], [[1.0], [2.0]])
        with pytest.raises(ValueError):
            F.matmul([scalars([1.0, 2.0])], [[1.0, 2.0], [3.0]])
        with pytest.raises(ValueError):
            F.matmul([scalars([1.0, 2.0])], [])


# --------------------------------------------------------------------------
# logsumexp, log_softmax, softmax
# --------------------------------------------------------------------------

def _logits(kind, n, seed):
    rng = random.Random(seed)
    if kind == "ordinary":
        return [rng.uniform(-3, 3) for _ in range(n)]
    if kind == "big_positive":
        return [1000.0 + rng.uniform(-5, 5) for _ in range(n)]
    if kind == "big_negative":
        return [-1000.0 + rng.uniform(-5, 5) for _ in range(n)]
    if kind == "plus_minus_1000":
        return [1000.0 if i % 2 == 0 else -1000.0 for i in range(n)]
    if kind == "spread":
        return [rng.uniform(-1000, 1000) for _ in range(n)]
    raise AssertionError(kind)


LOGIT_KINDS = ["ordinary", "big_positive", "big_negative", "plus_minus_1000", "spread"]

SOFTMAX_CASES = [
    (f"{kind}_{label}", kind, n)
    for kind in LOGIT_KINDS
    for label, n in SIZES
]


def _check_finite(*values):
    for v in values:
        assert math.isfinite(v), v


class TestSoftmaxFamily:
    @parameterized.expand(SOFTMAX_CASES)
    def test_logsumexp_matches_torch(self, _name, kind, n):
        values = _logits(kind, n, seed=n)
        xs = scalars(values)
        y = F.logsumexp(xs)
        assert len(y.parents) == n and all(p is x for p, x in zip(y.parents, xs))
        (y * 0.5 + y.sin()).backward()

        t = tt(values)
        ty = torch.logsumexp(t, 0)
        (ty * 0.5 + ty.sin()).backward()
        assert_close(y.data, ty)
        assert_grads(xs, t)
        _check_finite(y.data, *(x.grad for x in xs))

    @parameterized.expand(SOFTMAX_CASES)
    def test_log_softmax_matches_torch(self, _name, kind, n):
        values = _logits(kind, n, seed=100 + n)
        weights = random_values(n, 200 + n)
        xs = scalars(values)
        out = F.log_softmax(xs)
        assert len(out) == n
        weighted_sum(out, weights).backward()

        t = tt(values)
        t_out = torch.log_softmax(t, 0)
        weighted_sum(t_out, weights).backward()
        for o, to in zip(out, t_out):
            # x - logsumexp(x) cancels for the largest logit: the absolute error
            # is an ulp of the logits (1e-13 at 1000), so allow that much.
            assert_close(o.data, to, abs_tol=1e-12)
        assert_grads(xs, t)
        _check_finite(*(o.data for o in out), *(x.grad for x in xs))

    @parameterized.expand(SOFTMAX_CASES)
    def test_softmax_matches_torch(self, _name, kind, n):
        values = _logits(kind, n, seed=300 + n)
        weights = random_values(n, 400 + n)
        xs = scalars(values)
        out = F.softmax(xs)
        assert len(out) == n
        weighted_sum(out, weights).backward()

        t = tt(values)
        t_out = torch.softmax(t, 0)
        weighted_sum(t_out, weights).backward()
        for o, to in zip(out, t_out):
            assert_close(o.data, to, abs_tol=1e-300)
        assert_grads(xs, t)
        _check_finite(*(o.data for o in out), *(x.grad for x in xs))
        assert math.isclose(math.fsum(o.data for o in out), 1.0, rel_tol=1e-12)

    def test_cross_entropy_style_loss(self):
        # -log_softmax(x)[target] averaged over a small batch, vs torch.cross_entropy
        batch = [[0.3, -1.2, 2.0], [1000.0, -1000.0, 0.0], [-5.0, -5.0, -4.0]]
        targets = [2, 1, 0]
        rows = [scalars(r) for r in batch]
        loss = F.mean([-F.log_softmax(r)[c] for r, c in zip(rows, targets)])
        loss.backward()
        t = tt(batch)
        t_loss = torch.nn.functional.cross_entropy(t, torch.tensor(targets))
        t_loss.backward()
        assert_close(loss.data, t_loss)
        assert_grads(rows, t)

    def test_softmax_node_structure(self):
        xs = scalars([1.0, 2.0, 3.0])
        probs = F.softmax(xs)
        lse = probs[0].parents[1]
        assert lse.op == "logsumexp" and len(lse.parents) == 3
        for p, x in zip(probs, xs):
            assert p.parents[0] is x and p.parents[1] is lse

    def test_empty_raises(self):
        with pytest.raises(ValueError):
            F.logsumexp([])
        with pytest.raises(ValueError):
            F.softmax([])
        with pytest.raises(ValueError):
            F.log_softmax([])

    def test_numbers_rejected(self):
        with pytest.raises(TypeError):
            F.logsumexp([Scalar(1.0), 2.0])


# --------------------------------------------------------------------------
# create_graph through the n-ary nodes
# --------------------------------------------------------------------------

@parameterized.expand([
    ("logsumexp", lambda xs: F.logsumexp(xs), lambda t: torch.logsumexp(t, 0)),
    ("softmax", lambda xs: F.dot(F.softmax(xs), [0.3, -1.0, 2.0]),
     lambda t: (torch.softmax(t, 0) * torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64)).sum()),
    ("dot_bias", lambda xs: F.dot(xs, [x.exp() for x in xs], bias=xs[0]),
     lambda t: (t * t.exp()).sum() + t[0]),
    ("dot_scalars", lambda xs: F.dot([x.sin() for x in xs], xs), lambda t: (t.sin() * t).sum()),
    ("dot_mixed", lambda xs: F.dot([xs[0], 2.0, xs[2]], [xs[1] * xs[1], xs[2], 0.5]),
     lambda t: t[0] * t[1] * t[1] + 2.0 * t[2] + t[2] * 0.5),
    ("sum_mean", lambda xs: F.sum(xs) * F.mean([x * x for x in xs]), lambda t: t.sum() * (t * t).mean()),
])
def test_second_derivative_through_functional(_name, sg_fn, torch_fn):
    values = [0.4, -0.9, 1.3]
    t = tt(values)
    (g,) = torch.autograd.grad(torch_fn(t), t, create_graph=True)
    (h0,) = torch.autograd.grad(g[0], t)  # row 0 of the Hessian

    xs = scalars(values)
    sg_fn(xs).backward(create_graph=True)
    grads = [x.grad for x in xs]
    assert isinstance(grads[0], Scalar)
    for i, gi in enumerate(grads):
        # a gradient that is constant in every input may stay a plain float
        assert_close(as_float(gi), g[i], f"first derivative {i}")
    for x in xs:
        x.grad = 0.0
    grads[0].backward()
    for i, x in enumerate(xs):
        assert_close(x.grad, h0[i], f"hessian[0][{i}]")


LINEAR_ACTS = {"identity": lambda t: t, "relu": torch.relu, "leaky_relu": lambda t: TF.leaky_relu(t, 0.01),
               "sigmoid": torch.sigmoid, "tanh": torch.tanh,
               "softplus": lambda t: TF.softplus(t, threshold=50)}


@parameterized.expand([(f"{a}_{inp}_{bias}", a, inp, bias) for a in LINEAR_ACTS
                       for inp in ("scalars", "floats", "mixed") for bias in (True, False)])
def test_linear_matches_torch(_name, activation, inputs, with_bias):
    rng = random.Random(5)
    w_vals = [[rng.uniform(-1, 1) for _ in range(4)] for _ in range(3)]
    b_vals = [rng.uniform(-1, 1) for _ in range(3)]
    x_vals = [rng.uniform(-1, 1) for _ in range(4)]
    ws = [[Scalar(v) for v in row] for row in w_vals]
    bs = [Scalar(v) for v in b_vals] if with_bias else None
    if inputs == "scalars":
        xs = [Scalar(v) for v in x_vals]
    elif inputs == "floats":
        xs = list(x_vals)
    else:  # a Scalar among numbers: the general path through dot
        xs = [Scalar(x_vals[0])] + x_vals[1:]
    ys = F.linear(ws, xs, bs, activation)
    coeffs = [0.5, -1.5, 2.0]
    F.dot(ys, coeffs).backward()

    tw, tx = tt(w_vals), tt(x_vals)
    tb = tt(b_vals) if with_bias else None
    ty = LINEAR_ACTS[activation](TF.linear(tx, tw, tb))
    (ty * torch.tensor(coeffs, dtype=torch.float64)).sum().backward()
    for i in range(3):
        assert_close(ys[i].data, ty[i], f"output {i}")
        for k in range(4):
            assert_close(ws[i][k].grad, tw.grad[i][k], f"w[{i}][{k}]")
        if with_bias:
            assert_close(bs[i].grad, tb.grad[i], f"b[{i}]")
    if inputs != "floats":
        assert_close(xs[0].grad, tx.grad[0], "x[0]")


@pytest.mark.parametrize("activation", F.ACTIVATIONS)
@pytest.mark.parametrize("inputs", ["scalars", "floats"])
def test_the_neuron_paths_agree_bit_for_bit(activation, inputs):
    """scalargrad.neuron's paths: the node ``linear`` records, the declared value and rule (the reference,
    on floats), the recompute outside a Replay; and the plain path (dot, then the activation) gives the
    same value. Gradients are compared as ``backward()`` makes them: g times each local derivative."""
    act = neuron_module.ACTIVATION_OPS[activation]
    rng = random.Random(11)
    for _ in range(30):
        w = scalars([rng.uniform(-2, 2) for _ in range(4)])
        b = Scalar(rng.uniform(-1, 1))
        x_values = [rng.choice([rng.uniform(-2, 2), 0.0, -0.0, 1.0]) for _ in range(4)]
        x = scalars(x_values) if inputs == "scalars" else list(x_values)
        y = F.neuron(w, x, b, activation)
        plain = neuron_module.plain_neuron(w, x, b, act, 0.01)
        assert equal_up_to_sum_rounding(y.data, plain.data)
        if not y.parents:  # a ReLU that is off: a constant, as torch masks it
            assert activation == "relu" and y.data == 0.0
            continue
        op, constant = declaration(y)
        assert op is F.linear.op is neuron_module.NEURON
        assert isinstance(constant, neuron_module.NeuronConstant)
        data = [p.data for p in y.parents]
        assert equal_up_to_sum_rounding(op.evaluate(data, constant), y.data)
        reference = op.local_derivatives(data, y.data, constant)
        recomputed_y, recomputed = op.recompute(y.parents, constant)
        assert equal_up_to_sum_rounding(recomputed_y, y.data)
        g = rng.uniform(-3, 3)
        y.backward(g)
        for p, d, e in zip(y.parents, reference, recomputed):
            # backward() adds g * d to a gradient that starts at 0.0 (which turns -0.0 into 0.0)
            assert equal_up_to_sum_rounding(p.grad, 0.0 + g * d)
            assert equal_up_to_sum_rounding(p.grad, 0.0 + g * e)


def test_linear_bad_inputs_are_named():
    w = [[Scalar(1.0), Scalar(2.0)]]
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        F.linear(w, [1.0, 2.0], activation="gelu")
    with pytest.raises(ValueError, match="1 weight rows but 2 biases"):
        F.linear(w, [1.0, 2.0], [Scalar(0.0), Scalar(0.0)])
    with pytest.raises(ValueError, match="different lengths"):
        F.linear(w, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="str"):
        F.linear(w, [1.0, "2"])


class TestWindowMax:
    @parameterized.expand([
        ("distinct", [0.3, -1.0, 2.5, 0.7]),
        ("tie_first_wins", [1.0, 3.0, 3.0, -2.0]),
        ("single", [4.0]),
        ("negative", [-3.0, -1.5, -2.0]),
    ])
    def test_matches_torch_max_pooling(self, _name, values):
        xs = [Scalar(v) for v in values]
        y = F.window_max(xs) * 2.0
        y.backward()
        t = tt(values)
        ty = TF.max_pool1d(t.view(1, 1, -1), kernel_size=len(values)).sum() * 2.0
        ty.backward()
        assert_close(y.data, ty, "value")
        for i, x in enumerate(xs):
            assert_close(x.grad, t.grad[i], f"grad {i}")
        assert F.max_index(values) == int(torch.argmax(torch.tensor(values)))

    def test_numbers_become_constants_and_nan_wins(self):
        x = Scalar(1.0)
        y = F.window_max([x, 5.0])
        assert y.data == 5.0 and len(y.parents) == 2
        y.backward()
        assert x.grad == 0.0
        assert F.max_index([1.0, math.nan, 2.0]) == 1


def test_functional_gathers_each_name_from_one_module():
    """Every name of ``functional.__all__`` is listed once, and reads the object of the module that defines
    it, so no module's name hides another's."""
    assert len(F.__all__) == len(set(F.__all__))
    for name in F.__all__:
        assert getattr(F, name) is not None


def _signature_text(name: str) -> str:
    """``name(params)`` as ``inspect.signature`` gives it, without annotations: what the docs' table shows."""
    import inspect

    signature = inspect.signature(getattr(F, name))
    bare = [p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()]
    return name + str(signature.replace(parameters=bare, return_annotation=inspect.Signature.empty))


def test_the_pytorch_page_lists_every_functional_name_with_its_signature_today():
    """docs/coming-from-micrograd-and-pytorch.md ends with a table of every function of ``functional``:
    torch's signature beside scalargrad's, which must be the signature the code has now."""
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "coming-from-micrograd-and-pytorch.md"
    section = page.read_text(encoding="utf-8").split("## torch's functional names, one by one", 1)[1]
    rows = [line for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| PyTorch")]
    ours = [row.rstrip(" |").rsplit("| `", 1)[1].rstrip("`") for row in rows]
    listed = {text.split("(", 1)[0]: text for text in ours}
    functions = {name for name in F.__all__ if callable(getattr(F, name))}
    assert len(listed) == len(ours), "a name is listed twice"
    assert set(listed) == functions, (f"missing: {sorted(functions - set(listed))}, "
                                      f"not in functional: {sorted(set(listed) - functions)}")
    stale = {name: (text, _signature_text(name))
             for name, text in listed.items() if text != _signature_text(name)}
    assert not stale, f"the page shows old signatures (page, code): {stale}"
