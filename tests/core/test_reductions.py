"""Reductions with dim and keepdim (scalargrad.reductions, gathered in functional) against torch float64.

Each case runs the op on nested lists of Scalars and on a torch tensor holding the same values, compares
every value, back-propagates the same random output gradient on both sides (a random weighted sum of the
outputs, so every output's gradient counts) and compares every input gradient; the smooth reductions also
compare second derivatives. Then ties and nans, numpy input, the one-list forms of earlier versions, the
node structure (one node per reduced group), replay, and the errors torch raises too.
"""

import math

import numpy as np
import pytest
import torch
from parameterized import parameterized

import scalargrad
from scalargrad import Scalar, list_ops, softmax
from scalargrad import functional as F
from scalargrad.compile import compile_graph
from scalargrad.replay import Replay
from tests.core.test_nested_ops import (
    check_nested,
    elements_of,
    leaves_of,
    random_tensor,
    shape_of,
    values_of,
)
from tests.helpers import assert_close

# torch warns where var and std have no degrees of freedom left (n <= correction); the cases check its values
pytestmark = pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning")

# (shape, dim): 0-d, 1-d and more, dims positive, negative, tuples, None and ()
DIMS = [((), None), ((), 0), ((), -1), ((5,), None), ((5,), 0), ((5,), -1), ((2, 3), 1), ((2, 3), -2),
        ((2, 3), None), ((2, 3, 4), (0, 2)), ((2, 3, 4), (-1, 1)), ((2, 3, 4), 1), ((2, 3, 4), 0),
        ((3, 1, 2), ())]
INT_DIMS = [(shape, dim) for shape, dim in DIMS if not isinstance(dim, tuple)]


def _name(shape, dim, keepdim):
    dims = "all" if dim is None else "empty" if dim == () else str(dim).replace("-", "m").replace(", ", "_")
    return f"{'x'.join(map(str, shape)) or '0d'}_dim_{dims.strip('()')}{'_keepdim' if keepdim else ''}"


def _cases(ops, dims):
    return [(f"{op}_{_name(shape, dim, keepdim)}", op, shape, dim, keepdim)
            for op in ops for shape, dim in dims for keepdim in (False, True)]


TORCH = {  # op -> torch call with dim and keepdim (None: every dimension)
    "sum": lambda t, dim, keepdim: t.sum(dim=dim, keepdim=keepdim),
    "mean": lambda t, dim, keepdim: t.mean(dim=dim, keepdim=keepdim),
    "amax": lambda t, dim, keepdim: t.amax(dim=() if dim is None else dim, keepdim=keepdim),
    "amin": lambda t, dim, keepdim: t.amin(dim=() if dim is None else dim, keepdim=keepdim),
    # torch's var and std take dim=() as every dimension, but their backward then divides by n - 1 = 0 (inf
    # gradients): the reference for () is dim=None, the same reduction
    "var": lambda t, dim, keepdim: t.var(dim=None if dim == () else dim, keepdim=keepdim),
    "std": lambda t, dim, keepdim: t.std(dim=None if dim == () else dim, keepdim=keepdim),
    "logsumexp": lambda t, dim, keepdim: t.logsumexp(dim=tuple(range(t.dim())) if dim is None else dim,
                                                     keepdim=keepdim),
    "prod": lambda t, dim, keepdim: t.prod() if dim is None and not keepdim else
    t.prod(dim=dim, keepdim=keepdim) if dim is not None else t.prod().reshape((1,) * t.dim()),
}
TUPLE_OPS = ["sum", "mean", "amax", "amin", "var", "std", "logsumexp"]
SMOOTH = ["sum", "mean", "prod", "var", "std", "logsumexp"]


def _sg(op, x, dim, keepdim):
    if op == "logsumexp" and dim is None:  # its dim defaults to -1, as the softmax family's
        dim = tuple(range(len(shape_of(x))))
    return getattr(F, op)(x, dim=dim, keepdim=keepdim)


def _weighted(out, seed):
    """A random weighted sum of the outputs, on both sides: (scalargrad Scalar, torch tensor)."""
    weights = random_tensor((len(elements_of(out)),), seed)
    return F.dot(elements_of(out), weights.tolist()), weights


def _second_derivatives(x, t, out, torch_out, seed):
    """The Hessian of a weighted sum of the outputs times a random vector, on both sides, compared."""
    loss, weights = _weighted(out, seed)
    loss.backward(create_graph=True)
    first = [e.grad for e in elements_of(x)]
    for e in elements_of(x):
        e.grad = 0.0
    vector = random_tensor((len(first),), seed + 1)
    F.dot(first, vector.tolist()).backward()
    (grad,) = torch.autograd.grad((torch_out.flatten() * weights).sum(), t, create_graph=True)
    if grad.requires_grad:
        (hessian_vector,) = torch.autograd.grad((grad.flatten() * vector).sum(), t)
    else:  # the first derivatives are constants (sum, mean): torch records nothing more
        hessian_vector = torch.zeros_like(t)
    for i, (e, want) in enumerate(zip(elements_of(x), hessian_vector.flatten().tolist())):
        assert_close(e.grad, want, f"second derivative of element {i}", abs_tol=1e-12)


class TestAgainstTorch:
    @parameterized.expand([case for case in _cases(TUPLE_OPS, DIMS)
                           if case[1] != "logsumexp" or case[3] != ()] + _cases(["prod"], INT_DIMS))
    def test_values_and_gradients(self, _name, op, shape, dim, keepdim):
        x, t = leaves_of(random_tensor(shape, 1))
        check_nested([x], [t], _sg(op, x, dim, keepdim), TORCH[op](t, dim, keepdim))

    @parameterized.expand([case for case in _cases(SMOOTH, DIMS)
                           if not (case[1] == "prod" and isinstance(case[3], tuple)) and case[2] != ()
                           and not (case[1] == "logsumexp" and case[3] == ())])
    def test_second_derivatives(self, _name, op, shape, dim, keepdim):
        x, t = leaves_of(random_tensor(shape, 2))
        _second_derivatives(x, t, _sg(op, x, dim, keepdim), TORCH[op](t, dim, keepdim), 3)

    @parameterized.expand([(f"{op}_{_name(shape, dim, False)}", op, shape, dim)
                           for op in ("softmax", "log_softmax") for shape, dim in INT_DIMS
                           if dim is not None])
    def test_softmax_family_along_a_dimension(self, _name, op, shape, dim):
        x, t = leaves_of(random_tensor(shape, 4))
        check_nested([x], [t], getattr(F, op)(x, dim=dim), getattr(torch, op)(t, dim))
        x, t = leaves_of(random_tensor(shape, 5))
        _second_derivatives(x, t, getattr(F, op)(x, dim=dim), getattr(torch, op)(t, dim), 6)

    @parameterized.expand([("flat", (5,)), ("matrix", (2, 3)), ("three_d", (2, 3, 4))])
    def test_softmax_family_and_logsumexp_default_to_the_last_dimension(self, _name, shape):
        x, t = leaves_of(random_tensor(shape, 7))
        check_nested([x], [t], F.softmax(x), torch.softmax(t, -1))
        x, t = leaves_of(random_tensor(shape, 8))
        check_nested([x], [t], F.log_softmax(x), torch.log_softmax(t, -1))
        x, t = leaves_of(random_tensor(shape, 9))
        check_nested([x], [t], F.logsumexp(x), torch.logsumexp(t, -1))

    @parameterized.expand([(f"{op}_{_name(shape, dim, keepdim)}", op, shape, dim, keepdim)
                           for op in ("max", "min") for shape, dim in INT_DIMS if dim is not None
                           for keepdim in (False, True)])
    def test_max_and_min_along_a_dimension(self, _name, op, shape, dim, keepdim):
        x, t = leaves_of(random_tensor(shape, 10))
        values, indices = getattr(F, op)(x, dim, keepdim)
        want = getattr(torch, op)(t, dim, keepdim)
        assert indices == want.indices.tolist()
        check_nested([x], [t], values, want.values)

    @parameterized.expand([(f"{op}_{'x'.join(map(str, shape)) or '0d'}", op, shape)
                           for op in ("max", "min") for shape in ((), (5,), (2, 3))])
    def test_max_and_min_of_everything(self, _name, op, shape):
        x, t = leaves_of(random_tensor(shape, 11))
        check_nested([x], [t], getattr(F, op)(x), getattr(torch, op)(t))

    @parameterized.expand([(f"{op}_{_name(shape, dim, keepdim)}", op, shape, dim, keepdim)
                           for op in ("argmax", "argmin") for shape, dim in INT_DIMS
                           for keepdim in (False, True)])
    def test_argmax_and_argmin(self, _name, op, shape, dim, keepdim):
        x, t = leaves_of(random_tensor(shape, 12))
        got = getattr(F, op)(x, dim, keepdim)
        assert got == getattr(torch, op)(t, dim, keepdim).tolist()
        assert all(type(i) is int for i in elements_of(got))

    @parameterized.expand([("correction_0", 0), ("correction_2", 2), ("correction_half", 0.5),
                           ("correction_3_no_degrees_left", 3), ("correction_5_past_n", 5)])
    def test_var_and_std_with_a_correction(self, _name, correction):
        for op in ("var", "std"):
            x, t = leaves_of(random_tensor((2, 3), 13))
            out = getattr(F, op)(x, 1, correction=correction, keepdim=True)
            check_nested([x], [t], out, getattr(torch, op)(t, 1, correction=correction, keepdim=True))

    def test_var_and_std_of_one_element_are_nan_with_nan_gradients(self):
        for op in ("var", "std"):
            x, t = leaves_of(random_tensor((1,), 14))
            check_nested([x], [t], getattr(F, op)(x), getattr(torch, op)(t))
            assert math.isnan(x[0].grad)

    def test_std_of_equal_elements_has_zero_gradient_as_torch(self):
        x, t = leaves_of(torch.full((2, 3), 1.5, dtype=torch.float64))
        check_nested([x], [t], F.std(x, dim=1), t.std(dim=1))
        assert all(e.grad == 0.0 for e in elements_of(x))

    @parameterized.expand([("one_zero", [2.0, 0.0, -3.0, 0.5]), ("two_zeros", [0.0, 2.0, 0.0, 1.5]),
                           ("no_zero", [2.0, -1.0, 0.5, 4.0])])
    def test_prod_with_zeros(self, _name, values):
        x, t = leaves_of(torch.tensor(values, dtype=torch.float64))
        check_nested([x], [t], F.prod(x), t.prod())
        x, t = leaves_of(torch.tensor(values, dtype=torch.float64))
        _second_derivatives(x, t, F.prod(x), t.prod(), 15)

    def test_numbers_mixed_with_scalars(self):
        for op in ("sum", "mean", "prod", "amax", "var", "std"):
            x, t = leaves_of(random_tensor((3, 4), 16), numbers_every=3)
            dim = 1 if op == "prod" else (0, 1) if op == "var" else 0
            check_nested([x], [t], getattr(F, op)(x, dim), TORCH[op](t, dim, False))


# ---- ties and nans: which element gets the gradient, which index is picked --------------------------

TIES = [[1.0, 3.0, 3.0, -2.0, 3.0], [3.0, 3.0, 3.0, 3.0, 3.0], [-2.0, 5.0, -2.0, -2.0, 1.0]]
NANS = [[1.0, math.nan, 2.0, math.nan, 0.5], [math.nan, 4.0, math.nan, 4.0, -1.0]]


class TestTiesAndNans:
    @parameterized.expand([(f"{op}_{i}", op, i) for op in ("amax", "amin") for i in range(3)])
    def test_amax_and_amin_split_the_gradient_evenly_among_ties(self, _name, op, row):
        x, t = leaves_of(torch.tensor(TIES, dtype=torch.float64))
        check_nested([x], [t], getattr(F, op)(x, 1), getattr(torch, op)(t, 1))
        x, t = leaves_of(torch.tensor(TIES[row], dtype=torch.float64))
        check_nested([x], [t], getattr(F, op)(x), getattr(torch, op)(t))

    @parameterized.expand([(f"{op}_dim_{dim}", op, dim) for op in ("max", "min") for dim in (0, 1, -1)])
    def test_max_and_min_pick_the_first_of_ties_as_torch(self, _name, op, dim):
        x, t = leaves_of(torch.tensor(TIES, dtype=torch.float64))
        values, indices = getattr(F, op)(x, dim)
        want = getattr(torch, op)(t, dim)
        assert indices == want.indices.tolist()
        check_nested([x], [t], values, want.values)

    @parameterized.expand([(op,) for op in ("max", "min")])
    def test_max_and_min_of_everything_split_the_gradient_among_ties(self, op):
        for row in TIES:
            x, t = leaves_of(torch.tensor(row, dtype=torch.float64))
            check_nested([x], [t], getattr(F, op)(x), getattr(torch, op)(t))

    @parameterized.expand([(op, dim) for op in ("argmax", "argmin") for dim in (None, 0, 1)])
    def test_argmax_and_argmin_pick_the_first_of_ties(self, op, dim):
        t = torch.tensor(TIES, dtype=torch.float64)
        assert getattr(F, op)(TIES, dim) == getattr(torch, op)(t, dim).tolist()

    @parameterized.expand([("max_dim", lambda x: F.max(x, 1).values, lambda t: t.max(1).values),
                           ("min_dim", lambda x: F.min(x, 1).values, lambda t: t.min(1).values),
                           ("amax", lambda x: F.amax(x, 1), lambda t: t.amax(1)),
                           ("amin", lambda x: F.amin(x, 1), lambda t: t.amin(1)),
                           ("max_all_row_0", lambda x: F.max(x[0]), lambda t: t[0].max()),
                           ("min_all_row_1", lambda x: F.min(x[1]), lambda t: t[1].min())])
    def test_nans_win_and_take_the_gradient_as_in_torch(self, _name, op, torch_op):
        x, t = leaves_of(torch.tensor(NANS, dtype=torch.float64))
        check_nested([x], [t], op(x), torch_op(t))

    def test_the_index_of_a_nan(self):
        t = torch.tensor(NANS, dtype=torch.float64)
        for op in ("max", "min"):
            assert getattr(F, op)(NANS, 1).indices == getattr(torch, op)(t, 1).indices.tolist()
        assert F.argmax(NANS, 1) == t.argmax(1).tolist() and F.argmin(NANS) == t.argmin().item()


# ---- numpy input -----------------------------------------------------------------------------------

class TestNumpy:
    @parameterized.expand([(op,) for op in ("sum", "mean", "prod", "amax", "amin", "var", "std")])
    def test_an_array_of_numbers_gives_what_its_lists_give(self, op):
        a = np.random.default_rng(0).normal(size=(3, 4))
        got, want = getattr(F, op)(a, 1, keepdim=True), getattr(F, op)(a.tolist(), 1, keepdim=True)
        assert values_of(got) == values_of(want)
        assert values_of(getattr(F, op)(a)) == values_of(getattr(F, op)(a.tolist()))

    @parameterized.expand([(op,) for op in ("softmax", "log_softmax", "logsumexp", "sum", "amax")])
    def test_an_array_of_scalars_gives_the_same_gradients_as_lists(self, op):
        x, t = leaves_of(random_tensor((2, 3), 17))
        want = TORCH[op](t, 0, False) if op in TORCH else getattr(torch, op)(t, 0)
        check_nested([x], [t], getattr(F, op)(np.array(x, dtype=object), 0), want)

    def test_argmax_max_and_numpy_numbers(self):
        a = np.array([[1.0, 5.0, 5.0], [7.0, -1.0, 2.0]])
        assert F.argmax(a, 1) == [1, 0] and F.argmin(a) == 4
        assert F.max(a, np.int64(1)).indices == [1, 0]
        assert F.sum(a, dim=np.int64(-1))[1].data == 8.0


# ---- the one-list forms of earlier versions ------------------------------------------------------------

class TestOneListForms:
    def test_sum_and_mean_of_a_flat_list_are_the_one_node_of_list_ops(self):
        xs = [Scalar(v) for v in (0.1, 0.2, 0.7, -1.3)]
        for new, old in ((F.sum(xs), list_ops.sum(xs)), (F.mean(xs), list_ops.mean(xs)),
                         (F.sum(xs, start=1.5), list_ops.sum(xs, 1.5)),
                         (F.sum(xs, start=xs[0]), list_ops.sum(xs, xs[0])),
                         (F.sum(xs, dim=0), list_ops.sum(xs)), (F.mean(xs, -1), list_ops.mean(xs))):
            assert new.op == old.op and new.parents == old.parents and new.data.hex() == old.data.hex()

    def test_start_is_keyword_only_and_a_float_or_scalar_dim_is_refused_as_torch_does(self):
        xs, start = [Scalar(1.0), 2.0], Scalar(0.25)
        total = F.sum(xs, start=start)
        total.backward()
        assert total.data == 3.25 and start.grad == 1.0 and xs[0].grad == 1.0
        assert F.sum([[1.0, 2.0], [3.0, 4.0]], 0, start=10.0)[1].data == 16.0
        for dim in (0.5, start):
            with pytest.raises(TypeError, match="dim"):
                F.sum(xs, dim)
        with pytest.raises(TypeError):
            torch.sum(torch.tensor([1.0, 2.0]), 0.5)

    def test_iterators_are_read_as_lists(self):
        assert F.sum(Scalar(v) for v in (1.0, 2.0)).data == 3.0
        assert [v.data for v in F.sum(([Scalar(1.0), Scalar(v)] for v in (2.0, 3.0)), dim=0)] == [2.0, 5.0]
        assert F.amax(iter([1.0, 4.0, 2.0])).data == 4.0

    @parameterized.expand([("softmax",), ("log_softmax",), ("logsumexp",)])
    def test_softmax_family_of_a_flat_list_is_unchanged(self, op):
        xs = [Scalar(v) for v in (0.3, -1.2, 2.0)]
        new, old = getattr(F, op)(xs), getattr(softmax, op)(xs)
        for a, b in zip(elements_of(new), elements_of(old)):
            assert a.op == b.op and a.data.hex() == b.data.hex() and a.parents[0] is b.parents[0]


# ---- structure: one node per reduced group --------------------------------------------------------------

class TestStructure:
    @parameterized.expand([("sum", "sum", (0, 2)), ("sum_dims_in_any_order", "sum", (2, -3)),
                           ("mean", "mean", (0, 2)), ("prod", "prod", 1),
                           ("amax", "amax", (0, 2)), ("amin", "amin", 1), ("var", "var", (0, 2)),
                           ("std", "std", 1), ("logsumexp", "logsumexp", (0, 2)), ("max", "max", 1),
                           ("min", "min", 1), ("max_all", "max", None), ("min_all", "min", None)])
    def test_each_group_is_one_node_over_its_elements(self, name, op_name, dim):
        x, _ = leaves_of(random_tensor((2, 3, 4), 18))
        fn = getattr(F, name.split("_")[0])
        out = fn(x, dim) if dim is not None else fn(x)
        out = out.values if isinstance(out, tuple) else out
        reduced = (0, 1, 2) if dim is None else (dim,) if isinstance(dim, int) else sorted(d % 3 for d in dim)
        groups = torch.arange(24).reshape(2, 3, 4).permute(
            *[k for k in range(3) if k not in reduced], *reduced).reshape(-1, math.prod(
                (2, 3, 4)[k] for k in reduced)).tolist()
        flat = elements_of(x)
        for y, group in zip(elements_of(out), groups):
            assert y.op == op_name and [id(p) for p in y.parents] == [id(flat[i]) for i in group]

    def test_softmax_along_a_dimension_is_one_logsumexp_per_group(self):
        x, _ = leaves_of(random_tensor((3, 4), 19))
        out = F.softmax(x, dim=0)
        for j in range(4):
            lse = out[0][j].parents[1]
            assert lse.op == "logsumexp" and [id(p) for p in lse.parents] == [id(x[i][j]) for i in range(3)]
            assert all(out[i][j].parents == (x[i][j], lse) for i in range(3))

    def test_a_full_reduction_is_a_scalar_and_keepdim_keeps_ones(self):
        x = [[1.0, 2.0], [3.0, 4.0]]
        assert isinstance(F.sum(x), Scalar) and isinstance(F.var(x, (0, 1)), Scalar)
        assert shape_of(F.sum(x, keepdim=True)) == (1, 1) and shape_of(F.amax(x, 1, keepdim=True)) == (2, 1)
        assert isinstance(F.logsumexp(Scalar(1.0)), Scalar) and isinstance(F.softmax(Scalar(1.0)), Scalar)


def _every_reduction(x):
    rows = [x[:3], x[3:]]
    values, _ = F.max(rows, 1)
    return (F.sum(values) + F.amax(rows, 0)[1] * F.var(rows, 1)[0] + F.std(x) * F.prod(rows, 0)[2]
            + F.min(x) + F.logsumexp(rows, 0)[0] + F.softmax(rows, 0)[1][1] + F.mean(rows, (0, 1)))


AT_BUILD, LATER = [0.3, 0.7, -1.0, 2.0, 0.1, 0.5], [0.9, 0.2, 0.4, -1.0, 0.6, 0.5]  # the largest ones move


class TestReplayAndCompile:
    def test_a_replay_picks_again_and_equals_a_fresh_build(self):
        build, at_build, later = _every_reduction, AT_BUILD, LATER
        xs = [Scalar(v) for v in at_build]
        replay = Replay(lambda: build(xs), xs)
        out = replay.forward(later)
        replay.backward()
        fresh = [Scalar(v) for v in later]
        y = build(fresh)
        y.backward()
        assert math.isclose(out, y.data, rel_tol=1e-12)
        for a, b in zip(xs, fresh):
            assert math.isclose(a.grad, b.grad, rel_tol=1e-12, abs_tol=1e-15)

    @parameterized.expand([("readable",), ("fast",)])
    def test_compiled_code_calls_the_ops_and_equals_a_fresh_build(self, form):
        xs = [Scalar(v) for v in AT_BUILD]
        compiled = compile_graph(lambda: _every_reduction(xs), inputs=xs, form=form)
        assert math.isclose(compiled(LATER), _every_reduction([Scalar(v) for v in LATER]).data, rel_tol=1e-12)


# ---- errors, where torch raises too ---------------------------------------------------------------------

M = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
T = torch.tensor(M, dtype=torch.float64)

ERRORS = [  # name, scalargrad call, torch call, error, message pattern
    ("dim_out_of_range", lambda: F.sum(M, 2), lambda: T.sum(2), ValueError,
     r"sum: dim=2 is out of range for 2 dimension\(s\) \(allowed: from -2 to 1\); x has shape \(2, 3\)"),
    ("negative_dim_out_of_range", lambda: F.mean(M, (-3, 0)), lambda: T.mean((-3, 0)), ValueError,
     r"mean: dim=-3 is out of range"),
    ("dim_of_0d", lambda: F.amax(2.0, 1), lambda: torch.tensor(2.0).amax(1), ValueError,
     r"amax: dim=1 is out of range for a 0-d x"),
    ("repeated_dim", lambda: F.var(M, (1, -1)), lambda: T.var((1, -1)), ValueError,
     r"var: dim \(1, -1\) names dimension 1 more than once \(x has shape \(2, 3\)\)"),
    ("repeated_dim_of_0d", lambda: F.sum(2.0, (0, -1)), lambda: torch.tensor(2.0).sum((0, -1)), ValueError,
     "names dimension 0 more than once"),
    ("softmax_dim_out_of_range", lambda: F.softmax([[Scalar(1.0)]], 2), lambda: T.softmax(2), ValueError,
     r"softmax: dim=2 is out of range"),
    ("argmax_dim_out_of_range", lambda: F.argmax(M, -3), lambda: T.argmax(-3), ValueError,
     r"argmax: dim=-3 is out of range"),
    ("max_dim_out_of_range", lambda: F.max(M, 2), lambda: T.max(2), ValueError,
     r"max: dim=2 is out of range"),
    ("amax_of_an_empty_dim", lambda: F.amax([[], []], 1), lambda: torch.ones(2, 0).amax(1), ValueError,
     "amax: cannot reduce a dimension of size 0"),
    ("max_of_nothing", lambda: F.max([]), lambda: torch.ones(0).max(), ValueError, "max: x has no elements"),
    ("argmin_of_nothing", lambda: F.argmin([]), lambda: torch.ones(0).argmin(), ValueError,
     "argmin: x has no elements"),
    ("logsumexp_of_no_dim", lambda: F.logsumexp([[Scalar(1.0)]], ()), lambda: T.logsumexp(()), ValueError,
     r"logsumexp: dim=\(\) names no dimension"),
    ("ragged", lambda: F.mean([[1.0, 2.0], [3.0]], 0), None, ValueError, r"mean: x is ragged"),
]

TYPE_ERRORS = [  # name, scalargrad call, torch call, message pattern
    ("prod_tuple_dim", lambda: F.prod(M, (0, 1)), lambda: T.prod((0, 1)),
     r"prod: dim must be an int, got tuple"),
    ("max_tuple_dim", lambda: F.max(M, (0, 1)), lambda: T.max((0, 1)), "max: dim must be an int"),
    ("argmax_tuple_dim", lambda: F.argmax(M, (0,)), lambda: T.argmax((0,)), "argmax: dim must be an int"),
    ("softmax_tuple_dim", lambda: F.softmax([[Scalar(1.0)]], (0, 1)), lambda: T.softmax((0, 1)),
     "softmax: dim must be an int"),
    ("float_dim", lambda: F.mean(M, 1.0), lambda: T.mean(1.0), r"mean: dim must be an int, got float"),
    ("float_dim_of_a_flat_list", lambda: F.softmax([Scalar(1.0)], 0.0), lambda: T[0].softmax(0.0),
     "softmax: dim must be an int, got float"),
    ("keepdim_not_a_bool", lambda: F.sum(M, 0, keepdim=1), lambda: T.sum(0, keepdim=1),
     "sum: keepdim must be a bool, got int"),
    ("max_keepdim_without_dim", lambda: F.max(M, keepdim=True), lambda: torch.max(T, keepdim=True),
     "max: keepdim needs a dim"),
    ("string_element", lambda: F.amax([["1"]], 0), lambda: torch.tensor([["1"]]),
     r"amax: x must hold Scalars"),
    ("softmax_of_numbers", lambda: F.softmax([[1.0, 2.0]], 1), None, "every element must be a Scalar"),
]


class TestErrors:
    @parameterized.expand(ERRORS)
    def test_shapes_and_dims_are_refused_where_torch_refuses(self, _name, call, torch_call, error, message):
        with pytest.raises(error, match=message):
            call()
        if torch_call is not None:
            with pytest.raises((RuntimeError, IndexError, ValueError)):
                torch_call()

    @parameterized.expand(TYPE_ERRORS)
    def test_types_are_refused_where_torch_refuses(self, _name, call, torch_call, message):
        with pytest.raises(TypeError, match=message):
            call()
        if torch_call is not None:
            with pytest.raises((TypeError, ValueError)):
                torch_call()

    def test_every_name_is_in_functional(self):
        from scalargrad import reductions

        for name in reductions.__all__:
            assert getattr(F, name) is getattr(reductions, name) and name in F.__all__
        assert scalargrad.functional.max is reductions.max
