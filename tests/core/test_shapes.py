"""Shapes (scalargrad.shapes, gathered in functional): broadcast_to, sum_to, squeeze, unsqueeze, cat and stack
against torch float64: values, gradients of a random weighted sum of the outputs, that the moving ops make
no node, numpy input, and the errors torch raises too.
"""

import numpy as np
import pytest
import torch
from parameterized import parameterized

from scalargrad import Scalar
from scalargrad import functional as F
from tests.core.test_nested_ops import check_nested, elements_of, leaves_of, random_tensor, values_of


def _same_scalars(out, inputs):
    """Every element of ``out`` is one of the inputs' elements, and every input element appears."""
    ids = {id(e) for x in inputs for e in elements_of(x)}
    got = {id(e) for e in elements_of(out)}
    return got <= ids and (got == ids or not ids)


MOVES = [  # name, input shapes, scalargrad op, torch op
    ("broadcast_row", [(3,)], lambda x: F.broadcast_to(x, (2, 3)), lambda t: t.broadcast_to((2, 3))),
    ("broadcast_column", [(2, 1)], lambda x: F.broadcast_to(x, [2, 3]), lambda t: t.broadcast_to((2, 3))),
    ("broadcast_new_and_repeated", [(2, 1)], lambda x: F.broadcast_to(x, (4, 2, 3)),
     lambda t: t.broadcast_to((4, 2, 3))),
    ("broadcast_keep_with_minus_one", [(2, 1)], lambda x: F.broadcast_to(x, (-1, 3)),
     lambda t: t.broadcast_to((-1, 3))),
    ("broadcast_0d", [()], lambda x: F.broadcast_to(x, (2, 2)), lambda t: t.broadcast_to((2, 2))),
    ("broadcast_0d_to_0d", [()], lambda x: F.broadcast_to(x, ()), lambda t: t.broadcast_to(())),
    ("broadcast_int_shape", [(1,)], lambda x: F.broadcast_to(x, 4), lambda t: t.broadcast_to(4)),
    ("broadcast_same", [(2, 3)], lambda x: F.broadcast_to(x, (2, 3)), lambda t: t.broadcast_to((2, 3))),
    ("squeeze_all", [(1, 3, 1)], lambda x: F.squeeze(x), lambda t: t.squeeze()),
    ("squeeze_one", [(1, 3, 1)], lambda x: F.squeeze(x, -1), lambda t: t.squeeze(-1)),
    ("squeeze_tuple", [(1, 3, 1)], lambda x: F.squeeze(x, (0, 2)), lambda t: t.squeeze((0, 2))),
    ("squeeze_not_one_is_a_no_op", [(1, 3, 1)], lambda x: F.squeeze(x, 1), lambda t: t.squeeze(1)),
    ("squeeze_mixed_tuple", [(1, 3, 1)], lambda x: F.squeeze(x, (1, 2)), lambda t: t.squeeze((1, 2))),
    ("squeeze_0d", [()], lambda x: F.squeeze(x, 0), lambda t: t.squeeze(0)),
    ("squeeze_nothing_to_squeeze", [(2, 3)], lambda x: F.squeeze(x), lambda t: t.squeeze()),
    ("unsqueeze_front", [(2, 3)], lambda x: F.unsqueeze(x, 0), lambda t: t.unsqueeze(0)),
    ("unsqueeze_middle", [(2, 3)], lambda x: F.unsqueeze(x, 1), lambda t: t.unsqueeze(1)),
    ("unsqueeze_end", [(2, 3)], lambda x: F.unsqueeze(x, 2), lambda t: t.unsqueeze(2)),
    ("unsqueeze_negative", [(2, 3)], lambda x: F.unsqueeze(x, -1), lambda t: t.unsqueeze(-1)),
    ("unsqueeze_most_negative", [(2, 3)], lambda x: F.unsqueeze(x, -3), lambda t: t.unsqueeze(-3)),
    ("unsqueeze_0d", [()], lambda x: F.unsqueeze(x, -1), lambda t: t.unsqueeze(-1)),
    ("cat_rows", [(2, 3), (1, 3)], lambda a, b: F.cat([a, b]), lambda a, b: torch.cat([a, b])),
    ("cat_columns", [(2, 3), (2, 4)], lambda a, b: F.cat((a, b), dim=1), lambda a, b: torch.cat((a, b), 1)),
    ("cat_negative", [(2, 3, 1), (2, 3, 2)], lambda a, b: F.cat([a, b], -1),
     lambda a, b: torch.cat([a, b], -1)),
    ("cat_middle", [(2, 1, 2), (2, 3, 2)], lambda a, b: F.cat([a, b], 1), lambda a, b: torch.cat([a, b], 1)),
    ("cat_vectors", [(2,), (3,)], lambda a, b: F.cat([a, b]), lambda a, b: torch.cat([a, b])),
    ("cat_one", [(2, 3)], lambda a: F.cat([a], 1), lambda a: torch.cat([a], 1)),
    ("cat_skips_empty_vector", [(2, 3), (0,)], lambda a, b: F.cat([a, b], 1),
     lambda a, b: torch.cat([a, b], 1)),
    ("stack_front", [(2, 3), (2, 3)], lambda a, b: F.stack([a, b]), lambda a, b: torch.stack([a, b])),
    ("stack_middle", [(2, 3), (2, 3)], lambda a, b: F.stack([a, b], 1), lambda a, b: torch.stack([a, b], 1)),
    ("stack_end", [(2, 3), (2, 3)], lambda a, b: F.stack((a, b), 2), lambda a, b: torch.stack((a, b), 2)),
    ("stack_negative", [(2, 3), (2, 3)], lambda a, b: F.stack([a, b], -2),
     lambda a, b: torch.stack([a, b], -2)),
    ("stack_most_negative", [(2, 3), (2, 3)], lambda a, b: F.stack([a, b], -3),
     lambda a, b: torch.stack([a, b], -3)),
    ("stack_0d", [(), ()], lambda a, b: F.stack([a, b]), lambda a, b: torch.stack([a, b])),
    ("stack_vectors_end", [(4,), (4,)], lambda a, b: F.stack([a, b], -1),
     lambda a, b: torch.stack([a, b], -1)),
]

SUMS = [  # name, shape of x, shape to sum to
    ("rows", (2, 3), (3,)), ("keep_rows", (2, 3), (2, 1)), ("keep_columns", (2, 3), (1, 3)),
    ("everything", (2, 3), ()), ("leading_and_inner", (4, 2, 3), (2, 1)), ("leading_one", (1, 3), (3,)),
    ("vector", (5,), (1,)), ("same_shape", (2, 3), (2, 3)), ("0d", (), ()),
]


class TestAgainstTorch:
    @parameterized.expand(MOVES)
    def test_values_and_gradients(self, _name, shapes, op, torch_op):
        pairs = [leaves_of(random_tensor(shape, 20 + i)) for i, shape in enumerate(shapes)]
        xs, ts = [x for x, _ in pairs], [t for _, t in pairs]
        check_nested(xs, ts, op(*xs), torch_op(*ts))

    @parameterized.expand(MOVES)
    def test_the_same_scalars_move_and_no_node_is_made(self, _name, shapes, op, _torch_op):
        xs = [leaves_of(random_tensor(shape, 30 + i))[0] for i, shape in enumerate(shapes)]
        out = op(*xs)
        assert _same_scalars(out, xs) and all(e.is_leaf for e in elements_of(out))

    @parameterized.expand(SUMS)
    def test_sum_to_matches_torch(self, _name, shape, to):
        x, t = leaves_of(random_tensor(shape, 40))
        check_nested([x], [t], F.sum_to(x, to), t.sum_to_size(to))

    @parameterized.expand(SUMS)
    def test_sum_to_is_the_adjoint_of_broadcast_to(self, _name, shape, to):
        """<broadcast_to(a, shape), b> = <a, sum_to(b, a's shape)> for every a and b."""
        a, b = random_tensor(to, 41), random_tensor(shape, 42)
        broadcast, summed = F.broadcast_to(a.tolist(), shape), F.sum_to(b.tolist(), to)
        left = sum(u * v for u, v in zip(elements_of(b.tolist()), elements_of(values_of(broadcast))))
        right = sum(u * v for u, v in zip(elements_of(a.tolist()), elements_of(values_of(summed))))
        assert abs(left - right) <= 1e-12 * (1 + abs(left))

    @parameterized.expand([(name, shape, to) for name, shape, to in SUMS if shape != to])
    def test_sum_to_makes_one_sum_node_per_output_element(self, _name, shape, to):
        x, _ = leaves_of(random_tensor(shape, 43))
        summed = F.sum_to(x, to)
        per_output = len(elements_of(x)) // len(elements_of(summed))
        assert all(y.op == "sum" and len(y.parents) == per_output for y in elements_of(summed))

    def test_sum_to_its_own_shape_gives_the_elements_back(self):
        x, _ = leaves_of(random_tensor((2, 3), 44))
        out = F.sum_to(x, (2, 3))
        assert all(a is b for a, b in zip(elements_of(out), elements_of(x)))

    def test_numbers_move_too(self):
        a, t = leaves_of(random_tensor((2, 3), 45), numbers_every=2)
        b, u = leaves_of(random_tensor((1, 3), 46), numbers_every=1)
        out = F.cat([a, b])
        assert values_of(out) == torch.cat([t, u]).tolist() and _same_scalars(out, [a, b])
        assert F.stack([1, 2.5]) == [1, 2.5] and F.squeeze([[7]]) == 7 and F.unsqueeze(3, 0) == [3]


class TestNumpy:
    def test_arrays_give_what_their_lists_give(self):
        a = np.arange(6.0).reshape(2, 3)
        assert F.broadcast_to(a[:1], (3, 3)) == F.broadcast_to(a[:1].tolist(), (3, 3))
        assert F.cat([a, a], 1) == F.cat([a.tolist(), a.tolist()], 1)
        assert F.stack(a, 1) == torch.stack(list(torch.tensor(a)), 1).tolist()  # an array: a list of its rows
        assert F.squeeze(a[None]) == a.tolist() and F.unsqueeze(a, np.int64(-1)) == a[..., None].tolist()
        assert values_of(F.sum_to(a, (3,))) == a.sum(0).tolist()


# ---- errors, where torch raises too ------------------------------------------------------------------

A, B = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[1.0, 2.0], [3.0, 4.0]]
TA, TB = torch.tensor(A), torch.tensor(B)

ERRORS = [  # name, scalargrad call, torch call, message pattern
    ("broadcast_incompatible", lambda: F.broadcast_to(A, (2, 4)), lambda: TA.broadcast_to((2, 4)),
     r"broadcast_to: x \(shape \(2, 3\)\) cannot be broadcast to shape \(2, 4\): its size 3 at dimension 1"),
    ("broadcast_size_two", lambda: F.broadcast_to(B, (2, 3)), lambda: TB.broadcast_to((2, 3)),
     r"broadcast_to: x \(shape \(2, 2\)\) cannot be broadcast to shape \(2, 3\): its size 2 at dimension 1"),
    ("broadcast_fewer_dims", lambda: F.broadcast_to(A, (3,)), lambda: TA.broadcast_to((3,)),
     r"broadcast_to: shape \(3,\) has fewer dimensions than x \(shape \(2, 3\)\)"),
    ("broadcast_minus_one_in_front", lambda: F.broadcast_to(A, (-1, 2, 3)),
     lambda: TA.broadcast_to((-1, 2, 3)),
     r"size -1 at index 0 of shape \(-1, 2, 3\) is not allowed for a new leading dimension"),
    ("sum_to_incompatible", lambda: F.sum_to(A, (4,)), lambda: TA.sum_to_size((4,)),
     r"sum_to: shape \(4,\) does not broadcast to x's shape \(2, 3\)"),
    ("sum_to_more_dims", lambda: F.sum_to(A, (1, 2, 3)), lambda: TA.sum_to_size((1, 2, 3)),
     r"sum_to: shape \(1, 2, 3\) does not broadcast"),
    ("squeeze_out_of_range", lambda: F.squeeze(A, 2), lambda: TA.squeeze(2),
     r"squeeze: dim=2 is out of range for 2 dimension\(s\) \(allowed: from -2 to 1\); x has shape \(2, 3\)"),
    ("squeeze_repeated", lambda: F.squeeze([[[1.0]]], (0, -3)), lambda: torch.ones(1, 1, 1).squeeze((0, -3)),
     "squeeze: dim .* names dimension 0 more than once"),
    ("squeeze_0d_out_of_range", lambda: F.squeeze(1.0, 1), lambda: torch.tensor(1.0).squeeze(1),
     "squeeze: dim=1 is out of range for a 0-d x"),
    ("unsqueeze_out_of_range", lambda: F.unsqueeze(A, 3), lambda: TA.unsqueeze(3),
     r"unsqueeze: dim=3 is out of range for 3 dimension\(s\) \(allowed: from -3 to 2\)"),
    ("unsqueeze_negative_out_of_range", lambda: F.unsqueeze(A, -4), lambda: TA.unsqueeze(-4),
     "unsqueeze: dim=-4 is out of range"),
    ("cat_mismatched", lambda: F.cat([A, B]), lambda: torch.cat([TA, TB]),
     r"cat: tensors\[1\] has shape \(2, 2\), but the shapes must match \(2, 3\) except at dimension 0"),
    ("cat_other_ndim", lambda: F.cat([A, [1.0, 2.0, 3.0]]), lambda: torch.cat([TA, torch.ones(3)]),
     r"cat: tensors\[1\] has shape \(3,\)"),
    ("cat_0d", lambda: F.cat([1.0, 2.0]), lambda: torch.cat([torch.tensor(1.0), torch.tensor(2.0)]),
     r"cat: tensors\[0\] is 0-d"),
    ("cat_none", lambda: F.cat([]), lambda: torch.cat([]), "cat: tensors is empty"),
    ("cat_dim_out_of_range", lambda: F.cat([A, A], 2), lambda: torch.cat([TA, TA], 2),
     "cat: dim=2 is out of range"),
    ("stack_unequal", lambda: F.stack([A, B]), lambda: torch.stack([TA, TB]),
     r"stack: every tensor must have the same shape, but tensors\[0\] has shape \(2, 3\) and tensors\[1\]"),
    ("stack_none", lambda: F.stack([]), lambda: torch.stack([]), "stack: tensors is empty"),
    ("stack_dim_out_of_range", lambda: F.stack([A, A], 3), lambda: torch.stack([TA, TA], 3),
     r"stack: dim=3 is out of range for 3 dimension\(s\)"),
    ("ragged", lambda: F.stack([[1.0, 2.0], [3.0, [4.0]]]), None, r"stack: tensors\[1\] is ragged"),
]

TYPE_ERRORS = [  # name, scalargrad call, torch call, message pattern
    ("cat_not_a_list", lambda: F.cat(Scalar(1.0)), lambda: torch.cat(torch.tensor(1.0)),
     "cat: tensors must be a list or tuple"),
    ("broadcast_shape_a_string", lambda: F.broadcast_to(A, "23"), lambda: TA.broadcast_to("23"),
     "broadcast_to: shape must be an int or a list"),
    ("sum_to_float_size", lambda: F.sum_to(A, (3.0,)), lambda: TA.sum_to_size((3.0,)),
     "sum_to: a shape entry must be an int, got float"),
    ("unsqueeze_float_dim", lambda: F.unsqueeze(A, 1.0), lambda: TA.unsqueeze(1.0),
     "unsqueeze: dim must be an int"),
    ("stack_dim_a_string", lambda: F.stack([A], "0"), lambda: torch.stack([TA], "0"),
     "stack: dim must be an int"),
]


class TestErrors:
    @parameterized.expand(ERRORS)
    def test_shapes_are_refused_where_torch_refuses(self, _name, call, torch_call, message):
        with pytest.raises(ValueError, match=message):
            call()
        if torch_call is not None:
            with pytest.raises((RuntimeError, IndexError, ValueError)):
                torch_call()

    @parameterized.expand(TYPE_ERRORS)
    def test_types_are_refused_where_torch_refuses(self, _name, call, torch_call, message):
        with pytest.raises(TypeError, match=message):
            call()
        with pytest.raises(TypeError):
            torch_call()

    def test_every_name_is_in_functional(self):
        from scalargrad import shapes

        for name in shapes.__all__:
            assert getattr(F, name) is getattr(shapes, name) and name in F.__all__
