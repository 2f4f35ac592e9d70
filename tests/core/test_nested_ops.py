"""Nested lists as tensors (scalargrad.nested_ops, gathered in functional): values, gradients and shape
errors against torch float64.

Each case builds its inputs as nested lists of Scalars from a torch tensor's values, runs the op on
both sides, back-propagates the same random output gradient (``scalargrad.backward`` with
``grad_outputs``, torch's ``Tensor.backward(gradient)``) and compares every value and every gradient.
These helpers (``random_tensor``, ``leaves_of``, ``check_nested``, ...) serve ``test_reductions`` and
``test_shapes`` too.
"""

import pytest
import torch
from parameterized import parameterized

import scalargrad
from scalargrad import Scalar
from scalargrad import functional as F
from tests.helpers import assert_close


def random_tensor(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64)


def scalars_of(t, numbers_every=0):
    """Nested Scalars holding ``t``'s values; with ``numbers_every=k``, every k-th element a plain float."""
    flat = [Scalar(v) if not numbers_every or i % numbers_every else v
            for i, v in enumerate(t.flatten().tolist())]
    return F.reshape(flat, tuple(t.shape)) if t.dim() else flat[0]


def values_of(x):
    """The floats of nested Scalars and numbers, in the same nesting (torch's ``tolist()`` form)."""
    if isinstance(x, list):
        return [values_of(v) for v in x]
    return x.data if isinstance(x, Scalar) else float(x)


def elements_of(x):
    return F.flatten(x)


def check_nested(sg_inputs, torch_inputs, sg_out, torch_out, seed=99):
    """Same values (within rounding), then the same gradient of every Scalar input element."""
    assert shape_of(sg_out) == tuple(torch_out.shape)
    for got, want in zip(elements_of(values_of(sg_out)), torch_out.flatten().tolist()):
        assert_close(float(got), want)
    gradient = random_tensor(tuple(torch_out.shape), seed)
    scalargrad.backward(sg_out, grad_outputs=gradient.tolist())
    torch_out.backward(gradient)
    for k, (x, t) in enumerate(zip(sg_inputs, torch_inputs)):
        for i, (element, g) in enumerate(zip(elements_of(x), t.grad.flatten().tolist())):
            if isinstance(element, Scalar):
                assert_close(element.grad, g, f"gradient of input {k} element {i}")


def shape_of(x):
    dims = []
    while isinstance(x, list):
        dims.append(len(x))
        x = x[0] if x else None
    return tuple(dims)


def leaves_of(t, numbers_every=0):
    t = t.clone().requires_grad_(True)
    return scalars_of(t.detach(), numbers_every), t


# ---- moving elements: reshape, flatten, transpose, permute --------------------------------------

MOVES = [
    ("reshape_2x3_to_3x2", (2, 3), lambda x: F.reshape(x, (3, 2)), lambda t: t.reshape(3, 2)),
    ("reshape_infer_last", (2, 3, 4), lambda x: F.reshape(x, [4, -1]), lambda t: t.reshape(4, -1)),
    ("reshape_infer_first", (2, 3), lambda x: F.reshape(x, (-1, 2, 1)), lambda t: t.reshape(-1, 2, 1)),
    ("reshape_to_flat_int", (2, 3), lambda x: F.reshape(x, -1), lambda t: t.reshape(-1)),
    ("reshape_one_to_0d", (1, 1), lambda x: F.reshape(x, ()), lambda t: t.reshape(())),
    ("reshape_0d_to_1", (), lambda x: F.reshape(x, (1,)), lambda t: t.reshape(1)),
    ("flatten_all", (2, 3, 4), lambda x: F.flatten(x), lambda t: t.flatten()),
    ("flatten_from_1", (2, 3, 4), lambda x: F.flatten(x, 1), lambda t: t.flatten(1)),
    ("flatten_0_to_1", (2, 3, 4), lambda x: F.flatten(x, 0, 1), lambda t: t.flatten(0, 1)),
    ("flatten_negative", (2, 3, 4, 2), lambda x: F.flatten(x, -3, -2), lambda t: t.flatten(-3, -2)),
    ("flatten_0d", (), lambda x: F.flatten(x), lambda t: t.flatten()),
    ("transpose_matrix", (2, 3), lambda x: F.transpose(x), lambda t: t.transpose(0, 1)),
    ("transpose_outer", (2, 3, 4), lambda x: F.transpose(x, 0, 2), lambda t: t.transpose(0, 2)),
    ("transpose_negative", (2, 3, 4), lambda x: F.transpose(x, -1, 1), lambda t: t.transpose(-1, 1)),
    ("transpose_0d", (), lambda x: F.transpose(x, 0, 0), lambda t: t.transpose(0, 0)),
    ("transpose_0d_negative", (), lambda x: F.transpose(x, -1, 0), lambda t: t.transpose(-1, 0)),
    ("permute", (2, 3, 4), lambda x: F.permute(x, (2, 0, 1)), lambda t: t.permute(2, 0, 1)),
    ("permute_negative", (2, 3, 4), lambda x: F.permute(x, [-1, -2, 0]), lambda t: t.permute(-1, -2, 0)),
]


class TestMovingElements:
    @parameterized.expand(MOVES)
    def test_values_and_gradients_match_torch(self, _name, shape, op, torch_op):
        x, t = leaves_of(random_tensor(shape, 1))
        check_nested([x], [t], op(x), torch_op(t))

    @parameterized.expand(MOVES)
    def test_the_same_scalars_move_and_no_node_is_made(self, _name, shape, op, _torch_op):
        x, _ = leaves_of(random_tensor(shape, 2))
        out = op(x)
        assert sorted(map(id, elements_of(out))) == sorted(map(id, elements_of(x)))
        assert all(e.is_leaf for e in elements_of(out))

    def test_numbers_and_tuples_are_moved_too(self):
        assert F.transpose(((1, 2), (3, 4))) == [[1, 3], [2, 4]]
        assert F.reshape([1, Scalar(2.0), 3.0, 4], (2, 2))[1] == [3.0, 4]
        assert F.flatten([[]]) == [] and F.reshape([], (0, 3)) == [] and F.reshape([], (2, 0)) == [[], []]


# ---- tensordot ------------------------------------------------------------------------------------

DOTS = [  # name, shape of a, shape of b, axes as scalargrad takes them, dims as torch takes them
    ("matmul", (2, 3), (3, 4), 1, 1),
    ("matvec", (4, 3), (3,), 1, 1),
    ("vector_dot", (5,), (5,), 1, 1),
    ("default_two_axes", (2, 3, 4), (3, 4, 5), 2, 2),
    ("outer", (2, 3), (4,), 0, 0),
    ("all_axes", (2, 3), (2, 3), 2, 2),
    ("pair_of_lists", (2, 3, 4), (4, 3, 5), ([1, 2], [1, 0]), ([1, 2], [1, 0])),
    ("pair_of_lists_negative", (2, 3, 4), (4, 3, 5), ([-1], [0]), ([-1], [0])),
    ("pair_of_ints", (3, 2), (3, 4), (0, 0), ([0], [0])),
    ("first_axes_of_both", (3, 2, 2), (3, 5), ([0], [0]), ([0], [0])),
    ("scalar_side", (), (3, 2), 0, 0),
]

# torch contracts a dimension of size 1 against one of any size: the size-1 side repeats (broadcasts)
BROADCAST_DOTS = [
    ("size_one_against_three", (1,), (3, 1), 1, 1),
    ("size_one_in_b", (2, 3), (1, 4), 1, 1),
    ("size_one_both_ways", (3, 1), (1, 4), 2, 2),
    ("size_one_in_a_pair", (1, 2, 4), (4, 3, 5), ([0, 2], [1, 0]), ([0, 2], [1, 0])),
    ("size_one_against_zero", (1,), (0,), 1, 1),
    ("zero_against_size_one", (2, 0), (1, 3), 1, 1),
]


class TestTensordot:
    @parameterized.expand(DOTS)
    def test_values_and_gradients_match_torch(self, _name, shape_a, shape_b, axes, dims):
        a, ta = leaves_of(random_tensor(shape_a, 3))
        b, tb = leaves_of(random_tensor(shape_b, 4))
        check_nested([a, b], [ta, tb], F.tensordot(a, b, axes), torch.tensordot(ta, tb, dims=dims))

    @parameterized.expand([(name, sa, sb, axes, dims, every) for name, sa, sb, axes, dims in DOTS[:7]
                           for every in (2, 3)])
    def test_numbers_mixed_with_scalars(self, _name, shape_a, shape_b, axes, dims, every):
        a, ta = leaves_of(random_tensor(shape_a, 5), numbers_every=every)
        b, tb = leaves_of(random_tensor(shape_b, 6), numbers_every=1)  # every element of b a plain number
        check_nested([a, b], [ta, tb], F.tensordot(a, b, axes), torch.tensordot(ta, tb, dims=dims))

    @parameterized.expand([("matmul", (2, 3), (3, 4), 1, 3), ("two_axes", (2, 3, 4), (3, 4, 2), 2, 12),
                           ("pairs", (2, 3, 4), (4, 3), ([1, 2], [1, 0]), 12)])
    def test_one_dot_node_per_output_element(self, _name, shape_a, shape_b, axes, summed):
        a, _ = leaves_of(random_tensor(shape_a, 7))
        b, _ = leaves_of(random_tensor(shape_b, 8))
        out = elements_of(F.tensordot(a, b, axes))
        inputs = {id(e) for e in elements_of(a) + elements_of(b)}
        for y in out:
            assert y.op == "dot" and len(y.parents) == 2 * summed  # one node; its parents are the inputs
            assert all(id(p) in inputs for p in y.parents)

    @parameterized.expand(BROADCAST_DOTS)
    def test_a_size_one_dimension_is_contracted_against_any_size_as_in_torch(self, _name, shape_a, shape_b,
                                                                             axes, dims):
        a, ta = leaves_of(random_tensor(shape_a, 19))
        b, tb = leaves_of(random_tensor(shape_b, 20), numbers_every=2)
        check_nested([a, b], [ta, tb], F.tensordot(a, b, axes), torch.tensordot(ta, tb, dims=dims))

    def test_the_example_of_the_size_one_contraction(self):
        assert values_of(F.tensordot([1.0], [[1.0]] * 3, axes=1)) == [3.0]
        assert torch.tensordot(torch.ones(1), torch.ones(3, 1), dims=1).tolist() == [3.0]

    def test_matmul_agrees_exactly(self):
        a, _ = leaves_of(random_tensor((3, 4), 9))
        b, _ = leaves_of(random_tensor((4, 2), 10))
        assert values_of(F.tensordot(a, b, 1)) == values_of(F.matmul(a, b))

    def test_nothing_to_sum_gives_zeros_as_torch(self):
        out = F.tensordot([[], []], [], axes=1)  # (2, 0) with (0,)
        assert values_of(out) == torch.tensordot(torch.zeros(2, 0), torch.zeros(0), dims=1).tolist()


# ---- add, mul, map: element by element, with broadcasting --------------------------------------

BROADCASTS = [  # name, shape of a, shape of b
    ("same_shape", (2, 3), (2, 3)),
    ("row_to_matrix", (2, 3), (3,)),
    ("column_and_row", (2, 1), (1, 3)),
    ("scalar_and_matrix", (), (2, 3)),
    ("three_d", (4, 1, 3), (2, 1)),
    ("vectors", (5,), (5,)),
]


class TestElementwise:
    @parameterized.expand([(f"{op}_{name}", op, sa, sb) for op in ("add", "mul")
                           for name, sa, sb in BROADCASTS])
    def test_add_and_mul_match_torch(self, _name, op, shape_a, shape_b):
        a, ta = leaves_of(random_tensor(shape_a, 11))
        b, tb = leaves_of(random_tensor(shape_b, 12), numbers_every=2)
        check_nested([a, b], [ta, tb], getattr(F, op)(a, b), getattr(torch, op)(ta, tb))

    @parameterized.expand([("add", 2.5), ("mul", -3)])
    def test_a_python_number_with_a_list(self, op, number):
        a, ta = leaves_of(random_tensor((2, 3), 13))
        check_nested([a], [ta], getattr(F, op)(a, number), getattr(torch, op)(ta, number))
        check_nested([a], [ta], getattr(F, op)(number, a), getattr(torch, op)(number, ta), seed=98)

    def test_results_are_scalars_even_for_numbers(self):
        out = F.add([1, 2], [[10], [20.5]])
        assert all(isinstance(v, Scalar) for v in elements_of(out))
        assert values_of(out) == [[11.0, 12.0], [21.5, 22.5]]

    @parameterized.expand(BROADCASTS)
    def test_map_of_two_inputs_matches_torch(self, _name, shape_a, shape_b):
        a, ta = leaves_of(random_tensor(shape_a, 14))
        b, tb = leaves_of(random_tensor(shape_b, 15))
        out = F.map(lambda x, y: (x * y).tanh() + x, a, b)
        check_nested([a, b], [ta, tb], out, torch.tanh(ta * tb) + ta)

    def test_map_of_one_and_three_inputs(self):
        a, ta = leaves_of(random_tensor((2, 3), 16))
        check_nested([a], [ta], F.map(Scalar.exp, a), torch.exp(ta))
        a, ta = leaves_of(random_tensor((2, 1), 17))
        b, tb = leaves_of(random_tensor((3,), 18))
        out = F.map(lambda x, y, z: x * y + z, a, b, 0.5)
        check_nested([a, b], [ta, tb], out, ta * tb + 0.5)

    def test_map_returns_what_fn_returns(self):
        assert F.map(lambda v: v * 2, [[1, 2], [3, 4]]) == [[2, 4], [6, 8]]


# ---- shapes checked: a clear error wherever torch refuses too -----------------------------------

def _matrix(rows, cols):
    return [[Scalar(float(i * cols + j)) for j in range(cols)] for i in range(rows)]


SHAPE_ERRORS = [  # name, scalargrad call, torch call on the same shapes, error, message pattern
    ("ragged", lambda: F.tensordot([[1.0, 2.0], [3.0]], [1.0, 2.0], 1), None, ValueError,
     r"tensordot: a is ragged: its first elements give shape \(2, 2\), but a\[1\] is a list of 1"),
    ("ragged_deeper", lambda: F.add([[1.0, 2.0], [3.0, [4.0]]], 1.0), None, ValueError,
     r"add: input 0 is ragged: .* but input 0\[1\]\[1\] is a list of 1"),
    ("leaf_where_a_list_belongs", lambda: F.flatten([[1.0, 2.0], 3.0]), None, ValueError,
     r"x\[1\] is a float"),
    ("mismatched_axes_sizes", lambda: F.tensordot(_matrix(2, 3), _matrix(2, 3), 1),
     lambda: torch.tensordot(torch.ones(2, 3), torch.ones(2, 3), dims=1), ValueError,
     r"a's dimension 1 has 3 and b's dimension 0 has 2"),
    ("mismatched_pair_sizes", lambda: F.tensordot(_matrix(2, 3), _matrix(2, 3), ([0], [1])),
     lambda: torch.tensordot(torch.ones(2, 3), torch.ones(2, 3), dims=([0], [1])), ValueError,
     "paired dimensions must have the same size"),
    ("too_many_axes", lambda: F.tensordot(_matrix(2, 3), [1.0, 2.0], 2),
     lambda: torch.tensordot(torch.ones(2, 3), torch.ones(2), dims=2), ValueError,
     r"axes=2 must be from 0 to 1"),
    ("negative_axes", lambda: F.tensordot(_matrix(2, 3), _matrix(3, 2), -1),
     lambda: torch.tensordot(torch.ones(2, 3), torch.ones(3, 2), dims=-1), ValueError, "must be from 0 to 2"),
    ("axes_lists_of_two_lengths", lambda: F.tensordot(_matrix(2, 3), _matrix(3, 2), ([1], [0, 1])),
     lambda: torch.tensordot(torch.ones(2, 3), torch.ones(3, 2), dims=([1], [0, 1])), ValueError,
     "give both lists the same length"),
    ("repeated_axis", lambda: F.tensordot(_matrix(3, 3), _matrix(3, 3), ([0, 0], [0, 1])),
     lambda: torch.tensordot(torch.ones(3, 3), torch.ones(3, 3), dims=([0, 0], [0, 1])), ValueError,
     "repeat a dimension"),
    ("axis_out_of_range", lambda: F.tensordot(_matrix(2, 3), _matrix(3, 2), ([2], [0])),
     lambda: torch.tensordot(torch.ones(2, 3), torch.ones(3, 2), dims=([2], [0])), ValueError,
     r"an axis of a=2 is out of range for 2 dimension\(s\)"),
    ("reshape_other_count", lambda: F.reshape(_matrix(2, 3), (4, 2)), lambda: torch.ones(2, 3).reshape(4, 2),
     ValueError, r"shape \(4, 2\) does not hold the 6 elements of x \(shape \(2, 3\)\)"),
    ("reshape_infer_not_whole", lambda: F.reshape(_matrix(2, 3), (4, -1)),
     lambda: torch.ones(2, 3).reshape(4, -1), ValueError, r"shape \(4, -1\) does not hold the 6 elements"),
    ("reshape_two_inferred", lambda: F.reshape(_matrix(2, 3), (-1, -1)),
     lambda: torch.ones(2, 3).reshape(-1, -1), ValueError, "only one dimension can be -1"),
    ("reshape_infer_from_zero", lambda: F.reshape([], (-1, 0)), lambda: torch.ones(0).reshape(-1, 0),
     ValueError, "any size would do"),
    ("reshape_negative", lambda: F.reshape(_matrix(2, 3), (-2, 3)), lambda: torch.ones(2, 3).reshape(-2, 3),
     ValueError, "invalid size -2 at index 0"),
    ("transpose_out_of_range", lambda: F.transpose([1.0, 2.0]), lambda: torch.ones(2).transpose(0, 1),
     ValueError, r"dim1=1 is out of range for 1 dimension\(s\) \(allowed: from -1 to 0\)"),
    ("transpose_0d_out_of_range", lambda: F.transpose(Scalar(2.0)), lambda: torch.tensor(2.0).transpose(0, 1),
     ValueError, r"dim1=1 is out of range for a 0-d x \(allowed: -1 and 0, as in torch\)"),
    ("transpose_0d_negative_out_of_range", lambda: F.transpose(2.0, -2, 0),
     lambda: torch.tensor(2.0).transpose(-2, 0), ValueError, "dim0=-2 is out of range for a 0-d x"),
    ("tensordot_size_one_is_no_wildcard_for_other_sizes", lambda: F.tensordot(_matrix(2, 1), _matrix(1, 3),
                                                                             ([0, 1], [1, 0])),
     lambda: torch.tensordot(torch.ones(2, 1), torch.ones(1, 3), dims=([0, 1], [1, 0])), ValueError,
     r"a's dimension 0 has 2 and b's dimension 1 has 3"),
    ("permute_too_few", lambda: F.permute(_matrix(2, 3), (0,)), lambda: torch.ones(2, 3).permute(0),
     ValueError, "name 1 dimension"),
    ("permute_repeat", lambda: F.permute(_matrix(2, 3), (1, 1)), lambda: torch.ones(2, 3).permute(1, 1),
     ValueError, "repeat a dimension"),
    ("flatten_backwards", lambda: F.flatten(_matrix(2, 3), 1, 0), lambda: torch.ones(2, 3).flatten(1, 0),
     ValueError, r"start_dim \(1\) comes after end_dim \(0\)"),
    ("no_broadcast", lambda: F.add(_matrix(2, 3), [1.0, 2.0]), lambda: torch.ones(2, 3) + torch.ones(2),
     ValueError, r"shapes \(2, 3\), \(2,\) do not broadcast: sizes \[2, 3\] meet at dimension 1"),
    ("no_broadcast_map", lambda: F.map(lambda x, y: x, [[1.0]] * 3, [[1.0, 2.0]] * 2), None,
     ValueError, "map: shapes"),
]

TYPE_ERRORS = [
    ("string_element", lambda: F.mul([[1.0, "2"]], 2.0),
     r"mul: input 0 must hold Scalars or numbers, but input 0\[0\]\[1\] is a str"),
    ("bool_element", lambda: F.transpose([[True]]), r"x\[0\]\[0\] is a bool"),
    ("axes_a_string", lambda: F.tensordot([1.0], [1.0], "1"), "axes must be an int or a pair"),
    ("axes_three_lists", lambda: F.tensordot([1.0], [1.0], ([0], [0], [0])), "axes must be an int or a pair"),
    ("reshape_float_size", lambda: F.reshape([1.0, 2.0], (2.0,)), "must be an int, got float"),
    ("reshape_shape_a_string", lambda: F.reshape([1.0, 2.0], "2"), "shape must be an int or a list"),
    ("transpose_dim_a_float", lambda: F.transpose(_matrix(2, 2), 0.0, 1), "dim0 must be an int"),
    ("permute_dims_an_int", lambda: F.permute(_matrix(2, 2), 1), "dims must be a list or tuple"),
    ("map_not_callable", lambda: F.map(3.0, [1.0]), "fn must be callable"),
]


class TestErrors:
    @parameterized.expand(SHAPE_ERRORS)
    def test_bad_shapes_are_refused_where_torch_refuses(self, _name, call, torch_call, error, message):
        with pytest.raises(error, match=message):
            call()
        if torch_call is not None:
            with pytest.raises((RuntimeError, IndexError)):  # torch: IndexError for a dimension out of range
                torch_call()

    @parameterized.expand(TYPE_ERRORS)
    def test_bad_types_are_named(self, _name, call, message):
        with pytest.raises(TypeError, match=message):
            call()

    def test_every_op_is_in_functional(self):
        from scalargrad import nested_ops

        for name in nested_ops.__all__:
            assert getattr(F, name) is getattr(nested_ops, name)
            assert name in F.__all__ and name in dir(F)
        with pytest.raises(AttributeError, match="no attribute 'tensor_dot'"):
            F.tensor_dot  # noqa: B018
