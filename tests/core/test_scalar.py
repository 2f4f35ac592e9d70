"""Tests of the Scalar engine: every op's value and gradient against torch float64,
shared sub-expressions, repeated backward, deep graphs, memory, bad inputs and
the small API around a node (no_grad, detach, comparisons, hashing, repr)."""

import gc
import math
import operator
import random
import sys
import weakref

import numpy
import pytest
import torch
import torch.nn.functional as TF
from parameterized import parameterized

import scalargrad
from scalargrad import functional as F
from scalargrad.scalar import Scalar, enable_grad, is_grad_enabled, no_grad
from tests.helpers import assert_close, check_against_torch, tt

INF = math.inf
NAN = math.nan


# --------------------------------------------------------------------------
# Every op, value and gradient, against torch float64.
# --------------------------------------------------------------------------

# (label, value): ordinary, zero, negative and extreme inputs, including ones
# where torch answers inf, -inf or nan.
INPUTS = [
    ("zero", 0.0),
    ("neg_zero", -0.0),
    ("half", 0.5),
    ("neg_half", -0.5),
    ("one", 1.0),
    ("neg_one", -1.0),
    ("2_5", 2.5),
    ("neg_3_75", -3.75),
    ("700", 700.0),
    ("neg_700", -700.0),
    ("1000", 1000.0),
    ("neg_1000", -1000.0),
    ("1e300", 1e300),
    ("tiny", 1e-300),
    ("neg_tiny", -1e-300),
    ("inf", INF),
    ("neg_inf", -INF),
    ("nan", NAN),
]

# (name, scalargrad function, torch function)
UNARY_OPS = [
    ("neg", lambda x: -x, lambda t: -t),
    ("abs", lambda x: abs(x), lambda t: t.abs()),
    ("abs_method", lambda x: x.abs(), lambda t: t.abs()),
    ("exp", lambda x: x.exp(), lambda t: t.exp()),
    ("log", lambda x: x.log(), lambda t: t.log()),
    ("log1p", lambda x: x.log1p(), lambda t: t.log1p()),
    ("sqrt", lambda x: x.sqrt(), lambda t: t.sqrt()),
    ("sin", lambda x: x.sin(), lambda t: t.sin()),
    ("cos", lambda x: x.cos(), lambda t: t.cos()),
    ("tanh", lambda x: x.tanh(), lambda t: t.tanh()),
    ("arctanh", lambda x: x.arctanh(), lambda t: t.arctanh()),
    ("sigmoid", lambda x: x.sigmoid(), lambda t: t.sigmoid()),
    ("relu", lambda x: x.relu(), lambda t: t.relu()),
    ("softplus", lambda x: x.softplus(), lambda t: TF.softplus(t)),
    ("identity", lambda x: x.identity(), lambda t: t.clone()),
    ("leaky_relu_default", lambda x: x.leaky_relu(), lambda t: TF.leaky_relu(t, 0.01)),
    ("leaky_relu_0_2", lambda x: x.leaky_relu(0.2), lambda t: TF.leaky_relu(t, 0.2)),
    ("leaky_relu_slope_kw", lambda x: x.leaky_relu(slope=0.3), lambda t: TF.leaky_relu(t, 0.3)),
    ("leaky_relu_neg_slope", lambda x: x.leaky_relu(-0.5), lambda t: TF.leaky_relu(t, -0.5)),
]

# torch's softplus returns x itself (gradient 1) above its threshold of 20,
# an approximation that differs from log1p(e^x) by up to 2e-9 just above 20.
# No input here falls in (20, 40), where the two could disagree at 1e-9.
UNARY_CASES = [
    (f"{name}_at_{label}", sg_fn, torch_fn, value)
    for name, sg_fn, torch_fn in UNARY_OPS
    for label, value in INPUTS
]


class TestUnaryOps:
    @parameterized.expand(UNARY_CASES)
    def test_value_and_grad_match_torch(self, _name, sg_fn, torch_fn, value):
        check_against_torch(sg_fn, torch_fn, [value])


# (label, a, b) for a binary op a <op> b
PAIRS = [
    ("ordinary", 2.5, -1.5),
    ("ordinary_neg_base", -3.0, 2.0),
    ("neg_base_frac_exp", -3.0, 0.5),
    ("fractions", 1.7, 0.3),
    ("zero_zero", 0.0, 0.0),
    ("zero_two", 0.0, 2.0),
    ("two_zero", 2.0, 0.0),
    ("zero_neg_one", 0.0, -1.0),
    ("zero_neg_half", 0.0, -0.5),
    ("neg_zero_neg_three", -0.0, -3.0),
    ("neg_two_three", -2.0, 3.0),
    ("big_big", 1000.0, 1000.0),
    ("neg_big_three", -1000.0, 3.0),
    ("big_neg_big", 1000.0, -1000.0),
    ("ten_400", 10.0, 400.0),
    ("neg_ten_401", -10.0, 401.0),
    ("tiny_tiny", 1e-300, 1e-300),
    ("tiny_neg_tiny", 1e-300, -1e-300),
    ("huge_large", 1e300, 1e200),
    ("neg_tiny_huge", -1e-300, 1e300),
    ("half_big", 0.5, 1000.0),
    ("inf_two", INF, 2.0),
    ("two_inf", 2.0, INF),
    ("inf_inf", INF, INF),
    ("neg_inf_zero", -INF, 0.0),
    ("half_neg_inf", 0.5, -INF),
    ("nan_zero", NAN, 0.0),
    ("one_nan", 1.0, NAN),
    ("nan_one", NAN, 1.0),
]

BINARY_OPS = [
    ("add", operator.add),
    ("sub", operator.sub),
    ("mul", operator.mul),
    ("div", operator.truediv),
    ("pow", operator.pow),
]


def _binary_case(form, op, a, b):
    """(scalargrad fn, torch fn, recorded inputs) for a Scalar/number on either side.

    The same operator works on Scalars and tensors, so one function serves both.
    'ss': Scalar <op> Scalar; 'sn': Scalar <op> number; 'ns': number <op> Scalar (reflected).
    """
    if form == "ss":
        return op, op, [a, b]
    if form == "sn":
        return (lambda x: op(x, b)), (lambda t: op(t, b)), [a]
    return (lambda x: op(a, x)), (lambda t: op(a, t)), [b]


BINARY_CASES = [
    (f"{op_name}_{form}_{label}", form, op, a, b)
    for op_name, op in BINARY_OPS
    for form in ("ss", "sn", "ns")
    for label, a, b in PAIRS
]


class TestBinaryOps:
    @parameterized.expand(BINARY_CASES)
    def test_value_and_grad_match_torch(self, _name, form, op, a, b):
        sg_fn, torch_fn, values = _binary_case(form, op, a, b)
        check_against_torch(sg_fn, torch_fn, values)

    @parameterized.expand([
        ("add_int", lambda x: x + 2, lambda t: t + 2),
        ("radd_int", lambda x: 2 + x, lambda t: 2 + t),
        ("rsub_int", lambda x: 2 - x, lambda t: 2 - t),
        ("mul_int", lambda x: x * 3, lambda t: t * 3),
        ("rmul_int", lambda x: 3 * x, lambda t: 3 * t),
        ("div_int", lambda x: x / 3, lambda t: t / 3),
        ("rdiv_int", lambda x: 2 / x, lambda t: 2 / t),
        ("pow_int", lambda x: x ** 3, lambda t: t ** 3),
        ("pow_int_zero", lambda x: x ** 0, lambda t: t ** 0),
        ("pow_int_neg", lambda x: x ** -2, lambda t: t ** -2),
        ("rpow_int", lambda x: 2 ** x, lambda t: 2 ** t),
        ("rpow_zero_base", lambda x: 0 ** x, lambda t: 0 ** t),
        ("pos", lambda x: +x * 1.5, lambda t: +t * 1.5),
        ("numpy_float_const", lambda x: x * numpy.float64(1.5) + numpy.float64(2), lambda t: t * 1.5 + 2),
    ])
    def test_plain_int_constants(self, _name, sg_fn, torch_fn):
        for value in (-1.5, 0.0, 2.0):
            y, _ = check_against_torch(sg_fn, torch_fn, [value])
            assert type(y.data) is float

    @parameterized.expand([
        ("x_plus_x", lambda x: x + x),
        ("x_minus_x", lambda x: x - x),
        ("x_times_x", lambda x: x * x),
        ("x_over_x", lambda x: x / x),
        ("x_pow_x", lambda x: x ** x),
    ])
    def test_same_scalar_on_both_sides(self, _name, fn):
        for value in (0.0, 0.75, -2.0, 3.0):
            check_against_torch(fn, fn, [value])

    def test_pow_scalar_exponent_gradient_of_base_and_exponent(self):
        a, b = Scalar(1.5), Scalar(2.5)
        y = a ** b
        y.backward()
        assert math.isclose(a.grad, 2.5 * 1.5 ** 1.5, rel_tol=1e-12)
        assert math.isclose(b.grad, 1.5 ** 2.5 * math.log(1.5), rel_tol=1e-12)


def test_sigmoid_tanh_softplus_are_stable_at_extremes():
    expected = {  # value, gradient at +1000 and -1000
        "sigmoid": ((1.0, 0.0), (0.0, 0.0)),
        "tanh": ((1.0, 0.0), (-1.0, 0.0)),
        "softplus": ((1000.0, 1.0), (0.0, 0.0)),
    }
    for op, results in expected.items():
        for value, (want, want_grad) in zip((1000.0, -1000.0), results):
            x = Scalar(value)
            y = getattr(x, op)()
            y.backward()
            assert y.data == want, (op, value, y.data)
            assert x.grad == want_grad, (op, value, x.grad)


def test_ieee_results_instead_of_python_errors():
    assert Scalar(1000.0).exp().data == INF
    assert Scalar(0.0).log().data == -INF
    assert math.isnan(Scalar(-1.0).log().data)
    assert math.isnan((Scalar(0.0) / Scalar(0.0)).data)
    assert (Scalar(1.0) / 0).data == INF
    assert (-1 / Scalar(0.0)).data == -INF
    assert math.isnan(Scalar(-1.0).sqrt().data)
    assert Scalar(1.0).arctanh().data == INF
    assert (Scalar(10.0) ** 400).data == INF
    assert math.isnan((Scalar(-8.0) ** (1 / 3)).data)


# --------------------------------------------------------------------------
# Composite expressions with shared sub-expressions, against torch.
# These functions use only what Scalars and tensors have in common.
# --------------------------------------------------------------------------

def expr_issue(a, b):
    y = a * b
    return y * y + y.exp() - y / a


def expr_diamond(a, b):
    c = a + b
    d = c * c
    e = c.exp()
    return d / e + c.tanh() * c - c.sigmoid() ** a + (c * d).sin()


def expr_node_used_many_times(a, b):
    y = a * b
    acc = y
    for _ in range(60):
        acc = acc * 0.9 + y.sin() * y - y.cos() / (2 + y * y)
    return acc + y


def expr_self_ops(a, b):
    return a * a + a / a - a ** a + (a - a) * b + b ** 2 / b + (b + b).abs()


def expr_all_unary(a, b):
    s = a.sigmoid() * b.tanh()
    return (s.exp() + (a * a + b * b).sqrt().log() + a.sin() * b.cos()
            + (a * b).abs().log1p() + (a.sigmoid() - 0.5).arctanh() + (a - b).relu())


def expr_reflected(a, b):
    c = a * b
    return (2 - c) / (1 + b * b) + 2 ** c - 3 / (a * a + 1) + 1 - a + 0.5 ** (c - a) * c


def expr_deep_shared(a, b):
    x, y = a, b
    for _ in range(30):  # each step reuses both previous nodes twice
        x, y = (x * y).tanh() + x, (x - y).sigmoid() * y + x * 0.1
    return x * y + x / (y * y + 1)


COMPOSITES = [
    ("issue_example", expr_issue),
    ("diamond", expr_diamond),
    ("node_used_many_times", expr_node_used_many_times),
    ("self_ops", expr_self_ops),
    ("all_unary", expr_all_unary),
    ("reflected", expr_reflected),
    ("deep_shared", expr_deep_shared),
]

COMPOSITE_POINTS = [(0.7, -1.3), (1.5, 0.25), (0.3, 2.0), (2.0, 0.9)]


class TestComposite:
    @parameterized.expand([
        (f"{name}_{i}", fn, a, b)
        for name, fn in COMPOSITES
        for i, (a, b) in enumerate(COMPOSITE_POINTS)
    ])
    def test_matches_torch(self, _name, fn, a, b):
        y, (xa, xb) = check_against_torch(fn, fn, [a, b])
        assert math.isfinite(y.data) and math.isfinite(xa.grad) and math.isfinite(xb.grad)

    def test_softplus_leaky_relu_identity_in_a_graph(self):
        def sg(a, b):
            y = a * b
            return y.softplus() * y.leaky_relu(0.1) + y.identity() * a - (y - a).leaky_relu() * y

        def th(a, b):
            y = a * b
            return TF.softplus(y) * TF.leaky_relu(y, 0.1) + y * a - TF.leaky_relu(y - a, 0.01) * y

        for a, b in COMPOSITE_POINTS:
            check_against_torch(sg, th, [a, b])

    def test_gradient_fans_in_from_many_uses(self):
        x = Scalar(0.5)
        y = x * 2.0
        z = y
        for _ in range(999):
            z = z + y  # y used 1000 times
        z.backward()
        assert z.data == 1000.0
        assert y.grad == 1000.0
        assert x.grad == 2000.0


# --------------------------------------------------------------------------
# backward(): repeated calls, seeds, leaves.
# --------------------------------------------------------------------------

def _interior_nodes(root):
    """Every non-leaf node reachable from root (iteratively)."""
    seen, stack, nodes = set(), [root], []
    while stack:
        node = stack.pop()
        if node in seen or node.is_leaf:
            continue
        seen.add(node)
        nodes.append(node)
        stack.extend(node.parents)
    return nodes


class TestBackward:
    def test_backward_twice_doubles_leaves_and_recomputes_interior(self):
        a, b = Scalar(0.7), Scalar(-1.3)
        out = expr_deep_shared(a, b) + expr_issue(a, b)
        interior = _interior_nodes(out)
        assert len(interior) > 100

        out.backward()
        first_leaves = (a.grad, b.grad)
        first_interior = [n.grad for n in interior]
        assert first_leaves != (0.0, 0.0)

        out.backward()
        assert (a.grad, b.grad) == (2 * first_leaves[0], 2 * first_leaves[1])
        assert [n.grad for n in interior] == first_interior

        out.backward()
        assert (a.grad, b.grad) == (3 * first_leaves[0], 3 * first_leaves[1])

    def test_backward_twice_matches_torch_accumulation(self):
        ta, tb = tt(0.7), tt(-1.3)
        t_out = expr_issue(ta, tb)
        t_out.backward(retain_graph=True)
        t_out.backward()

        a, b = Scalar(0.7), Scalar(-1.3)
        out = expr_issue(a, b)
        out.backward()
        out.backward()
        assert_close(a.grad, ta.grad)
        assert_close(b.grad, tb.grad)

    def test_leaf_gradients_accumulate_across_graphs(self):
        x = Scalar(3.0)
        (x * x).backward()
        (x.exp()).backward()
        assert math.isclose(x.grad, 6.0 + math.exp(3.0), rel_tol=1e-15)

    def test_seed_gradient_scales(self):
        x = Scalar(0.4)
        y = x.sin() * x
        y.backward(2.5)
        assert math.isclose(x.grad, 2.5 * (math.cos(0.4) * 0.4 + math.sin(0.4)), rel_tol=1e-15)
        assert y.grad == 2.5

    def test_backward_on_interior_node_only_reaches_its_subgraph(self):
        a, b = Scalar(2.0), Scalar(3.0)
        y = a * b
        z = y + b
        y.backward()
        assert (a.grad, b.grad) == (3.0, 2.0)
        assert z.grad == 0.0

    def test_backward_on_leaf(self):
        x = Scalar(1.5)
        x.backward()
        x.backward(3)
        assert x.grad == 4.0

    def test_backward_grad_type_is_checked(self):
        y = Scalar(1.0) * 2
        with pytest.raises(TypeError, match="str"):
            y.backward("1")

    def test_grads_are_plain_floats(self):
        a, b = Scalar(2), Scalar(3)
        y = a * b + a / b + 2 ** a
        y.backward()
        assert type(a.grad) is float and type(b.grad) is float and type(y.grad) is float


# --------------------------------------------------------------------------
# Deep graphs and memory.
# --------------------------------------------------------------------------

def test_million_node_chain_backward_without_recursion():
    original = sys.getrecursionlimit()
    # A limit no engine would pick, so any change made by backward() shows up,
    # even one made by an earlier test's backward().
    limit = original + 7
    sys.setrecursionlimit(limit)
    try:
        _check_million_node_chain(limit)
    finally:
        sys.setrecursionlimit(original)


def _check_million_node_chain(limit):
    x, w = Scalar(0.5), Scalar(1.0000001)
    y = x
    steps = 500_000  # two nodes per step: 1,000,000 nodes
    for _ in range(steps):
        y = y * w
        y = y + 0.0
    y.backward()

    assert sys.getrecursionlimit() == limit
    # y = x * w**m, so dy/dx = w**m and dy/dw = m * w**(m - 1) * x.
    assert math.isclose(y.data, 0.5 * 1.0000001 ** steps, rel_tol=1e-9)
    assert math.isclose(x.grad, 1.0000001 ** steps, rel_tol=1e-9)
    assert math.isclose(w.grad, steps * 1.0000001 ** (steps - 1) * 0.5, rel_tol=1e-9)

    ref = weakref.ref(y)
    del y  # freeing a million-deep chain must not overflow the C stack either
    assert ref() is None
    assert sys.getrecursionlimit() == limit


def _build_mixed_graph(leaves, target_nodes):
    """A graph of at least ``target_nodes`` interior nodes that uses every op,
    scalar and functional, with sub-expressions shared between later nodes."""
    rng = random.Random(1)
    pool = list(leaves)
    made = 0
    while made < target_nodes:
        a, b = rng.choice(pool[-50:]), rng.choice(pool)
        new = [
            a + b, a - b, a * b, a / (b * b + 1), (a * a + 1) ** b, 2 - a, 2 / (a * a + 1), 2 ** a,
            a + 1, a * 0.5, a ** 2, -a, abs(a), a.tanh().exp(), (a * a + 1).log(), a.log1p(),
            (a * a + 1).sqrt(), a.sin(), a.cos(), (a.tanh() * 0.5).arctanh(), a.sigmoid(), a.relu(),
            a.leaky_relu(0.1), a.softplus(), a.identity(),
            F.sum([a, b, 1.0]), F.mean([a, b]), F.dot([a, b], [b, 0.5]), F.dot([a, 2.0], [b, a], bias=b),
            F.logsumexp([a, b]), *F.softmax([a, b]), *F.log_softmax([a, b]), *F.matvec([[a, b]], [1.0, b]),
        ]
        pool.extend(v * 0.01 for v in new)  # keep values small and shared
        made += 2 * len(new)
    return F.sum(pool[len(leaves):])


def test_graph_is_freed_by_reference_counting_alone():
    gc.collect()
    gc.disable()
    try:
        leaves = [Scalar(0.1 * i - 0.5) for i in range(10)]
        out = _build_mixed_graph(leaves, 10_000)
        assert len(_interior_nodes(out)) >= 10_000
        out.backward()
        assert all(math.isfinite(x.grad) for x in leaves)
        refs = [weakref.ref(out)] + [weakref.ref(p) for p in out.parents[::100]]
        del out
        assert all(r() is None for r in refs), "the graph was not freed when its last reference was dropped"
        assert gc.collect() == 0, "building and back-propagating a graph left reference cycles"
    finally:
        gc.enable()
    assert gc.isenabled()


def test_no_reference_cycles_through_leaves_after_backward():
    gc.collect()
    gc.disable()
    try:
        w = Scalar(0.3)
        for _ in range(3):  # leaves kept alive across several graphs
            y = F.dot([w, w], [Scalar(1.0), 2.0]).tanh() * w
            y.backward()
            ref = weakref.ref(y)
            del y
            assert ref() is None
        assert gc.collect() == 0
    finally:
        gc.enable()


# --------------------------------------------------------------------------
# Construction and bad inputs.
# --------------------------------------------------------------------------

class TestConstruction:
    @parameterized.expand([
        ("bool", True, "bool"),
        ("str", "1", "str"),
        ("none", None, "NoneType"),
        ("list", [1.0], "list"),
        ("scalar", Scalar(1), "Scalar"),
        ("complex", 1j, "complex"),
    ])
    def test_bad_data_raises_type_error_naming_the_type(self, _name, data, type_name):
        with pytest.raises(TypeError, match=type_name):
            Scalar(data)

    @parameterized.expand([
        ("int", 3, 3.0),
        ("float", 2.5, 2.5),
        ("numpy_float64", numpy.float64(2), 2.0),
        ("numpy_int64", numpy.int64(7), 7.0),
        ("negative_int", -4, -4.0),
    ])
    def test_numbers_are_stored_as_float(self, _name, data, expected):
        s = Scalar(data)
        assert type(s.data) is float
        assert s.data == expected
        assert s.grad == 0.0 and s.is_leaf and s.parents == ()

    def test_name_positional_and_keyword(self):
        assert Scalar(0.1, "x0").name == "x0"
        assert Scalar(0.1, name="x0").name == "x0"
        assert Scalar(0.1).name is None
        with pytest.raises(TypeError, match="int"):
            Scalar(0.1, 5)

    @parameterized.expand([
        ("add", lambda s: s + "a"),
        ("radd", lambda s: "a" + s),
        ("sub", lambda s: s - "a"),
        ("rsub", lambda s: "a" - s),
        ("mul_none", lambda s: s * None),
        ("rmul_list", lambda s: [1.0] * s),
        ("div", lambda s: s / "a"),
        ("rdiv", lambda s: "a" / s),
        ("pow", lambda s: s ** "a"),
        ("rpow", lambda s: "a" ** s),
        ("lt", lambda s: s < "a"),
    ])
    def test_ops_with_non_numbers_raise_type_error(self, _name, fn):
        with pytest.raises(TypeError):
            fn(Scalar(1.0))


# --------------------------------------------------------------------------
# no_grad, detach, comparisons, hashing, repr.
# --------------------------------------------------------------------------

class TestGradMode:
    def test_no_grad_records_nothing(self):
        x = Scalar(2.0)
        with no_grad():
            assert not is_grad_enabled()
            y = x * x + x.exp() - 2 / x
            s = F.sum([x, y])
            d = F.dot([x, y], [x, 1.0])
            probs = F.softmax([x, y])
        assert is_grad_enabled()
        for node in (y, s, d, *probs):
            assert node.is_leaf and node.parents == ()
        assert math.isclose(y.data, 4.0 + math.exp(2.0) - 1.0)
        y.backward()
        assert x.grad == 0.0
        assert y.grad == 1.0

    def test_nested_no_grad_and_enable_grad_restore_state(self):
        x = Scalar(1.0)
        with no_grad():
            with enable_grad():
                assert is_grad_enabled()
                recorded = x * 2
                with no_grad():
                    assert not is_grad_enabled()
                    unrecorded = x * 2
                assert is_grad_enabled()
            assert not is_grad_enabled()
            with no_grad():
                assert not is_grad_enabled()
            assert not is_grad_enabled()
        assert is_grad_enabled()
        assert recorded.parents == (x,)
        assert unrecorded.is_leaf

    def test_state_restored_after_exception(self):
        with pytest.raises(TypeError), no_grad():
            Scalar(1.0) * Scalar("1")
        assert is_grad_enabled()
        with no_grad():
            with pytest.raises(KeyError), enable_grad():
                raise KeyError("x")
            assert not is_grad_enabled()
        assert is_grad_enabled()

    def test_no_grad_as_decorator(self):
        @no_grad()
        def evaluate(x):
            assert not is_grad_enabled()
            return x * 3

        y = evaluate(Scalar(1.0))
        assert y.is_leaf and y.data == 3.0
        assert is_grad_enabled()

    def test_top_level_reexports(self):
        assert scalargrad.Scalar is Scalar
        assert scalargrad.no_grad is no_grad
        assert scalargrad.enable_grad is enable_grad


class TestNodeApi:
    def test_detach(self):
        x = Scalar(2.0)
        y = x * 3
        d = y.detach()
        assert d is not y and d.is_leaf and d.data == 6.0 and d.grad == 0.0
        z = d * x
        z.backward()
        assert x.grad == 6.0  # only through the direct use of x, not through d
        assert d.grad == 2.0

    @parameterized.expand([
        ("lt", operator.lt), ("le", operator.le), ("gt", operator.gt),
        ("ge", operator.ge), ("eq", operator.eq), ("ne", operator.ne),
    ])
    def test_comparisons_return_bool(self, _name, op):
        for a, b in [(1.0, 2.0), (2.0, 1.0), (1.5, 1.5), (-1.0, 0.0)]:
            want = op(a, b)
            for got in (op(Scalar(a), Scalar(b)), op(Scalar(a), b), op(a, Scalar(b))):
                assert type(got) is bool
                assert got == want, (a, b)

    def test_comparison_with_non_number(self):
        assert (Scalar(1.0) == "1.0") is False
        assert (Scalar(1.0) != "1.0") is True
        assert Scalar(1.0).__eq__(None) is NotImplemented
        assert Scalar(1.0).__ne__(None) is NotImplemented

    def test_hash_by_identity(self):
        a, b = Scalar(1.0), Scalar(1.0)
        assert a == b
        assert len({a, b}) == 2
        assert a in {a} and b in {b}
        table = {a: "a", b: "b"}
        assert table[a] == "a" and table[b] == "b"
        assert hash(a) == hash(a)

    def test_repr_shows_data_grad_and_name(self):
        s = Scalar(0.5, name="w0")
        y = s * 4
        y.backward()
        r = repr(s)
        assert "0.5" in r and "4.0" in r and "w0" in r
        assert "grad" in r
        r2 = repr(Scalar(-2.25))
        assert "-2.25" in r2 and "0.0" in r2 and "name" not in r2

    def test_float_and_bool(self):
        s = Scalar(2.5)
        assert float(s) == 2.5 and type(float(s)) is float
        assert math.isclose(math.sqrt(Scalar(4.0)), 2.0)
        assert bool(Scalar(0.0)) is False and bool(Scalar(-1.0)) is True

    def test_leaf_and_parents(self):
        a, b = Scalar(1.0), Scalar(2.0)
        y = a * b
        assert a.is_leaf and not y.is_leaf
        assert y.parents == (a, b) and y.parents[0] is a and y.parents[1] is b
        assert (a + 1).parents == (a,)
        assert (2 ** a).parents == (a,)


# --------------------------------------------------------------------------
# The seed API.
# --------------------------------------------------------------------------

def test_seed_linear_function():
    x0 = Scalar(0.1, "x0")
    x1 = Scalar(0.2, name="x1")
    w0 = Scalar(0.3, name="w0")
    w1 = Scalar(0.4, name="w1")
    b = Scalar(0.5, name="b")
    f = (x0 * w0) + (x1 * w1) + b
    f.backward()
    assert math.isclose(f.data, 0.61)
    assert math.isclose(w0.grad, 0.1)
    assert math.isclose(w1.grad, 0.2)
    assert math.isclose(x0.grad, 0.3) and math.isclose(x1.grad, 0.4)
    assert b.grad == 1.0
    assert x0.name == "x0"


# --------------------------------------------------------------------------
# create_graph=True: second derivatives against torch.
# --------------------------------------------------------------------------

def _torch_first_and_second(torch_fn, value):
    t = tt(value)
    (g,) = torch.autograd.grad(torch_fn(t), t, create_graph=True)
    (h,) = torch.autograd.grad(g, t)
    return g.item(), h.item()


def expr_issue_1d(x):
    return expr_issue(x, x * 0.5 + 1)


SECOND_ORDER_OPS = [
    ("cube", lambda x: x ** 3, lambda t: t ** 3),
    ("sin", lambda x: x.sin(), lambda t: t.sin()),
    ("cos", lambda x: x.cos(), lambda t: t.cos()),
    ("exp", lambda x: x.exp(), lambda t: t.exp()),
    ("log", lambda x: x.log(), lambda t: t.log()),
    ("tanh", lambda x: x.tanh(), lambda t: t.tanh()),
    ("sigmoid", lambda x: x.sigmoid(), lambda t: t.sigmoid()),
    ("sqrt", lambda x: x.sqrt(), lambda t: t.sqrt()),
    ("log1p", lambda x: x.log1p(), lambda t: t.log1p()),
    ("arctanh", lambda x: x.arctanh(), lambda t: t.arctanh()),
    ("softplus", lambda x: x.softplus(), lambda t: TF.softplus(t)),
    ("rdiv", lambda x: 2 / x, lambda t: 2 / t),
    ("rpow", lambda x: 3 ** x, lambda t: 3 ** t),
    ("x_pow_x", lambda x: x ** x, lambda t: t ** t),
    ("composite", expr_issue_1d, expr_issue_1d),
]


class TestCreateGraph:
    @parameterized.expand([
        (f"{name}_at_{value}", sg_fn, torch_fn, value)
        for name, sg_fn, torch_fn in SECOND_ORDER_OPS
        for value in (0.3, 0.8)
    ])
    def test_second_derivative_matches_torch(self, _name, sg_fn, torch_fn, value):
        want_g, want_h = _torch_first_and_second(torch_fn, value)
        x = Scalar(value)
        sg_fn(x).backward(create_graph=True)
        g = x.grad
        assert isinstance(g, Scalar)
        assert_close(g.data, want_g, "first derivative")
        x.grad = 0.0
        g.backward()
        assert_close(x.grad, want_h, "second derivative")

    def test_mixed_partial_derivative(self):
        def fn(a, b):
            return a * b.exp() * b + (a * b).sin() / b

        ta, tb = tt(0.6), tt(-0.7)
        (ga,) = torch.autograd.grad(fn(ta, tb), ta, create_graph=True)
        dga_da, dga_db = torch.autograd.grad(ga, (ta, tb))

        a, b = Scalar(0.6), Scalar(-0.7)
        fn(a, b).backward(create_graph=True)
        g = a.grad
        assert_close(g.data, ga)
        a.grad, b.grad = 0.0, 0.0
        g.backward()
        assert_close(a.grad, dga_da)
        assert_close(b.grad, dga_db)

    def test_first_order_backward_still_plain_after_create_graph(self):
        x = Scalar(0.5)
        y = x.exp() * x
        y.backward(create_graph=True)
        assert isinstance(x.grad, Scalar)
        x2 = Scalar(0.5)
        (x2.exp() * x2).backward()
        assert type(x2.grad) is float
        assert_close(x2.grad, x.grad.data)


def test_an_exception_during_backward_leaves_no_sort_marks_in_gradients():
    """The topological sort marks nodes in .grad; an error mid-sort must not leave those marks behind."""
    x = Scalar(2.0)
    a = x * 3.0
    b = a + 1.0
    c = b * b
    a.grad = b.grad = c.grad = 5.0

    class Broken:  # a parent that fails when the sort looks at it
        @property
        def _a(self):
            raise KeyboardInterrupt

    b._a = (a, Broken())  # n-ary layout: the sort walks this tuple
    b._da = [1.0, 1.0]
    with pytest.raises(KeyboardInterrupt):
        c.backward()
    for node in (a, b, c):
        assert isinstance(node.grad, float), node.grad
