"""The argument checks (``_util.checks``), the nested-list walker (``_util.nested``) and broadcasting in
``nested_ops``, at their edges: nan, 0.0 at a closed bound, the first ragged row, numpy numbers in
tuples, and a dimension of size 0 meeting one of size 1.

torch float64 is the reference wherever it has an opinion (which optimizer arguments it takes, the
broadcast shape, values and gradients); where torch lets nan through (``lr``, ``weight_decay``),
scalargrad's documented rule is stricter: nan is refused everywhere a range is checked.
"""

import math
import re

import pytest
import torch
from parameterized import parameterized

from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad._util import checks
from scalargrad._util.nested import leaves, ragged_description, regular_leaves, shape, to_lists
from scalargrad.nn import SGD, Adadelta, Adam, AdamW, RMSprop
from scalargrad.train import EarlyStopping
from tests.helpers import assert_close

NAN, INF = math.nan, math.inf
BELOW_ONE = math.nextafter(1.0, 0.0)

# ---- the checks -------------------------------------------------------------------------------


@parameterized.expand([
    ("nonnegative_nan", checks.nonnegative, NAN),
    ("nonnegative_below_zero", checks.nonnegative, -5e-324),
    ("nonnegative_minus_inf", checks.nonnegative, -INF),
    ("positive_nan", checks.positive, NAN),
    ("positive_zero", checks.positive, 0.0),
    ("positive_minus_zero", checks.positive, -0.0),
    ("unit_interval_nan", checks.unit_interval, NAN),
    ("unit_interval_above_one", checks.unit_interval, math.nextafter(1.0, 2.0)),
    ("unit_interval_below_zero", checks.unit_interval, -5e-324),
    ("finite_nan", checks.finite, NAN),
    ("finite_inf", checks.finite, INF),
])
def test_out_of_range_values_are_refused(_name, check, value):
    with pytest.raises(ValueError, match=r"^x must be"):
        check(value, "x")


@parameterized.expand([
    ("nonnegative_zero", checks.nonnegative, 0.0),
    ("nonnegative_tiny", checks.nonnegative, 5e-324),
    ("nonnegative_inf", checks.nonnegative, INF),
    ("positive_tiny", checks.positive, 5e-324),
    ("unit_interval_zero", checks.unit_interval, 0.0),
    ("unit_interval_one", checks.unit_interval, 1.0),
    ("finite_zero", checks.finite, 0.0),
])
def test_values_at_a_closed_bound_are_accepted(_name, check, value):
    result = check(value, "x")
    assert type(result) is float and result == value


def test_unit_interval_without_one():
    assert checks.unit_interval(0.0, "beta", include_one=False) == 0.0
    assert checks.unit_interval(BELOW_ONE, "beta", include_one=False) == BELOW_ONE
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\), got 1.0"):
        checks.unit_interval(1.0, "beta", include_one=False)
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\), got nan"):
        checks.unit_interval(NAN, "beta", include_one=False)


@pytest.mark.parametrize("beta", [0.0, -0.0, 0.5, BELOW_ONE, 1.0, -1e-12, NAN, INF])
@pytest.mark.parametrize("which", [0, 1])
def test_adam_takes_the_betas_torch_takes(beta, which):
    betas = (beta, 0.999) if which == 0 else (0.9, beta)
    try:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], betas=betas)
    except ValueError:
        with pytest.raises(ValueError, match=f"beta{which + 1}"):
            Adam([Scalar(1.0)], betas=betas)
    else:
        assert Adam([Scalar(1.0)], betas=betas).param_groups[0]["betas"] == betas


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=NAN), lambda ps: SGD(ps, lr=0.1, weight_decay=NAN),
    lambda ps: SGD(ps, lr=0.1, momentum=NAN),
    lambda ps: Adam(ps, eps=NAN), lambda ps: AdamW(ps, weight_decay=NAN), lambda ps: RMSprop(ps, alpha=NAN),
    lambda ps: RMSprop(ps, momentum=NAN), lambda ps: Adadelta(ps, rho=NAN), lambda ps: SGD(ps, lr=-INF),
], ids=["sgd_lr", "sgd_weight_decay", "sgd_momentum", "adam_eps", "adamw_weight_decay", "rmsprop_alpha",
        "rmsprop_momentum", "adadelta_rho", "sgd_lr_minus_inf"])
def test_optimizers_refuse_nan_hyperparameters(make):
    with pytest.raises(ValueError, match="nan|inf"):
        make([Scalar(1.0)])


def test_early_stopping_refuses_a_nan_min_delta():
    with pytest.raises(ValueError, match="min_delta must be non-negative, got nan"):
        EarlyStopping(min_delta=NAN)


OPTIMIZERS_AT_ZERO = [  # a rate of 0.0 at a closed bound: the running average keeps only the newest value
    ("adam_beta1_zero", Adam, torch.optim.Adam, {"lr": 0.1, "betas": (0.0, 0.999)}),
    ("adam_beta2_zero", Adam, torch.optim.Adam, {"lr": 0.1, "betas": (0.9, 0.0)}),
    ("adamw_both_zero", AdamW, torch.optim.AdamW, {"lr": 0.1, "betas": (0.0, 0.0), "weight_decay": 0.1}),
    ("rmsprop_alpha_zero", RMSprop, torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.0}),
    ("adadelta_rho_zero", Adadelta, torch.optim.Adadelta, {"lr": 1.0, "rho": 0.0}),
    ("sgd_weight_decay_zero", SGD, torch.optim.SGD, {"lr": 0.1, "momentum": 0.0, "weight_decay": 0.0}),
]


@parameterized.expand(OPTIMIZERS_AT_ZERO)
def test_a_zero_rate_trains_as_in_torch(_name, ours, theirs, kwargs):
    start = [0.5, -1.5, 2.0]
    ps = [Scalar(v) for v in start]
    ts = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt, topt = ours(ps, **kwargs), theirs([ts], **kwargs)
    for step in range(4):
        loss = (ps[0] - 1.0) ** 2 + (ps[1] * ps[2]).tanh() + 0.5 * ps[2] ** 4
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = (ts[0] - 1.0) ** 2 + (ts[1] * ts[2]).tanh() + 0.5 * ts[2] ** 4
        topt.zero_grad()
        tloss.backward()
        topt.step()
        for i, p in enumerate(ps):
            assert_close(p.data, ts[i], f"parameter {i} after step {step + 1}")


# ---- nested lists -----------------------------------------------------------------------------


@parameterized.expand([
    ("short_row_then_another", [[1, 2], [3], [4]], "x[1] is a list of 1"),
    ("last_row_short", [[1, 2], [3, 4], [5]], "x[2] is a list of 1"),
    ("long_row_before_short", [[1, 2], [3, 4, 5], [6]], "x[1] is a list of 3"),
    ("deep", [[[1], [2]], [[3], [4, 5]], [[6], []]], "x[1][1] is a list of 2"),
    ("a_list_for_a_number", [[1, 2], [3, [4]], [5, [6]]], "x[1][1] is a list of 1"),
    ("a_number_for_a_list", [[1.0, 2.0], 3.0, 4.0], "x[1] is a float"),
    ("an_int_for_a_list", [[1, 2], 3, 4], "x[1] is an int"),
    ("second_of_three_blocks", [[[1, 2]], [[3]], [[4]]], "x[1][0] is a list of 1"),
])
def test_a_ragged_value_is_described_by_its_first_bad_row(_name, value, found):
    with pytest.raises((TypeError, ValueError)):
        torch.tensor(value, dtype=torch.float64)  # torch refuses it too
    assert ragged_description(value, "x").endswith(f"but {found}")
    message = rf"^input x is ragged: its first elements give shape .*, but {re.escape(found)}$"
    with pytest.raises(ValueError, match=message):
        regular_leaves(value, "x", "input x")
    with pytest.raises(ValueError, match=rf"^add: input 0 is ragged: .*but input 0{re.escape(found[1:])}$"):
        F.add(value, 1.0)


def test_a_regular_value_has_no_description():
    for value in ([], [[]], [[1, 2], [3, 4]], [[[1], [2]]], 5.0):
        assert ragged_description(value, "x") is None


@parameterized.expand([  # each case made from the numpy module, imported only where it is installed
    ("in_a_tuple_in_a_list", lambda np: [(np.float64(1.5), np.int64(2))], [[1.5, 2]]),
    ("in_a_tuple_after_plain_rows", lambda np: [[0.5, 1.0], (np.float32(0.25), 3.0)],
     [[0.5, 1.0], [0.25, 3.0]]),
    ("in_a_tuple_in_a_tuple", lambda np: [((np.float64(-1.0),), (np.int32(7),))], [[[-1.0], [7]]]),
    ("an_array_in_a_tuple", lambda np: [(np.array([1.0, 2.0]), np.array([3.0, 4.0]))],
     [[[1.0, 2.0], [3.0, 4.0]]]),
    ("a_0d_array_in_a_tuple", lambda np: ((np.array(2.5),),), [[2.5]]),
])
def test_numpy_values_inside_tuples_become_plain_numbers(_name, make, expected):
    plain = to_lists(make(pytest.importorskip("numpy")))
    assert plain == expected
    assert [type(v) for v in leaves(plain)] == [type(v) for v in leaves(expected)]  # float and int, no numpy
    assert shape(plain) == tuple(torch.tensor(expected).shape)


class _Row(list):
    """A list of its own kind, as a user's data class may be."""


@parameterized.expand([
    ("flat", [1.0, 2, 3.0], [1.0, 2, 3.0]),
    ("a_row_of_mixed_numbers", [True, 2.5, -0.0], [True, 2.5, -0.0]),
    ("nested", [[1.0, 2.0], (3.0, [4.0])], [1.0, 2.0, 3.0, 4.0]),
    ("a_list_subclass_inside", [1.0, _Row([2.0, 3.0])], [1.0, 2.0, 3.0]),
    ("a_tuple_subclass_inside", [_Row([1.0]), torch.Size([2, 3])], [1.0, 2, 3]),
    ("a_leaf_alone", 5.0, [5.0]),
])
def test_leaves_come_in_row_major_order(_name, value, expected):
    got = leaves(value)
    assert got == expected and [type(v) for v in got] == [type(v) for v in expected]


def test_a_value_with_nothing_to_convert_is_given_back_as_it_is():
    for value in ([[1.0, 2.0], (3.0, 4.0)], [(Scalar(1.0),)], ()):
        assert to_lists(value) is value


def test_deep_false_converts_only_the_value_itself():
    """For entry points called once per sample: a list passes untouched, numpy numbers in it too."""
    np = pytest.importorskip("numpy")
    row = [np.float64(0.5), (np.int64(2),)]
    assert to_lists(row, deep=False) is row
    assert to_lists(row) == [0.5, [2]]
    array = to_lists(np.array([[1.0, 2.0]]), deep=False)
    assert array == [[1.0, 2.0]] and type(array[0][0]) is float
    number = to_lists(np.float32(0.25), deep=False)
    assert number == 0.25 and type(number) is float


# ---- broadcasting in nested_ops -----------------------------------------------------------------


def _scalars(value):
    """Nested lists of floats as nested lists of leaf Scalars."""
    return [_scalars(v) for v in value] if isinstance(value, list) else Scalar(value)


# Shapes that nested lists can hold (a 0 only as the last size: [] has no inner shape to keep).
BROADCASTS = [
    ("empty_and_one", [], [1.0]),
    ("one_and_empty", [2.0], []),
    ("empty_and_a_number", [], 3.0),
    ("rows_of_nothing_and_one", [[], []], [1.5]),
    ("one_row_of_nothing_and_a_column", [[]], [[2.0], [-3.0], [0.5]]),
    ("a_column_and_rows_of_nothing", [[2.0], [-3.0]], [[]]),
    ("empty_and_one_by_one", [], [[4.0]]),
    ("a_row_over_rows", [[1.0, -2.0, 3.0], [0.5, 0.25, -1.0]], [[2.0, -1.0, 0.5]]),
    ("a_column_against_a_row", [[1.0], [-2.0]], [3.0, 0.5, -4.0]),
    ("a_number_over_a_matrix", 2.5, [[1.0, -2.0], [3.0, 0.5]]),
]


@parameterized.expand([(f"{name}_{op}", a, b, op) for name, a, b in BROADCASTS for op in ("add", "mul")])
def test_broadcasting_matches_torch_in_shape_values_and_gradients(_name, a, b, op):
    xa, xb = _scalars(a), _scalars(b)
    out = getattr(F, op)(xa, xb)
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
    tout = getattr(torch, op)(ta, tb)
    assert shape(out) == tuple(tout.shape)
    values = leaves(out)
    assert all(isinstance(v, Scalar) for v in values)
    for v, t in zip(values, tout.flatten()):
        assert_close(v.data, t, "value")
    weights = [0.5 * k - 1.0 for k in range(len(values))]  # a distinct weight per element
    loss = sum((w * v for w, v in zip(weights, values)), Scalar(0.0))
    loss.backward()
    (torch.tensor(weights, dtype=torch.float64) * tout.flatten()).sum().backward()
    for x, t in ((xa, ta), (xb, tb)):
        grads = [s.grad for s in leaves(x)]
        assert len(grads) == t.numel()
        for g, tg in zip(grads, t.grad.flatten()):
            assert_close(g, tg, "gradient")


@parameterized.expand([
    ("empty_and_two", [], [1.0, 2.0]),
    ("two_and_three", [1.0, 2.0], [1.0, 2.0, 3.0]),
    ("rows_of_nothing_and_two", [[], []], [[1.0, 2.0]]),
])
def test_shapes_torch_cannot_broadcast_are_refused(_name, a, b):
    with pytest.raises(RuntimeError):
        torch.add(torch.tensor(a), torch.tensor(b))
    with pytest.raises(ValueError, match="do not broadcast"):
        F.add(_scalars(a), _scalars(b))
