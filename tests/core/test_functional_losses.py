"""The functional losses (scalargrad.losses, gathered in functional) against torch float64.

Each case builds its inputs as nested lists of Scalars from torch tensors, runs the loss on both sides,
back-propagates the same random output gradient and compares every value and every gradient; the smooth
losses also compare second derivatives (a Hessian-vector product through ``grad(create_graph=True)``).
Error cases check that torch refuses the same call.
"""

import math
import warnings

import numpy
import pytest
import torch
import torch.nn.functional as TF
from parameterized import parameterized

import scalargrad
from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad.replay import Replay
from tests.helpers import assert_close, flat, scalars

REL, ABS = 1e-9, 1e-12
REDUCTIONS = ("mean", "sum", "none")


def _randn(shape, seed, scale=1.0):
    return scale * torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _rand(shape, seed):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _nested(t):
    """Nested Scalars holding a tensor's values, in its shape (a Scalar for a 0-d tensor)."""
    return scalars(t.tolist())


def _listed(t):
    return None if t is None else t.tolist()


def _leaf(t):
    return t.clone().requires_grad_(True)


def _shape(x):
    dims = []
    while isinstance(x, list):
        dims.append(len(x))
        x = x[0] if x else None
    return tuple(dims)


def _values(out):
    return [v.data for v in flat(out)]


def compare(sg_out, t_out, pairs, seed=7, second=False):
    """Same values and shape; the gradient of each Scalar of ``pairs`` (nested Scalars, torch leaf) for the
    same random output gradient; with ``second``, the same Hessian-vector product too."""
    assert _shape(sg_out) == tuple(t_out.shape)
    for i, (got, want) in enumerate(zip(_values(sg_out), t_out.detach().flatten().tolist())):
        assert_close(got, want, f"value {i}", REL, ABS)
    g = _randn(tuple(t_out.shape), seed)
    xs = [x for sg, _ in pairs for x in flat(sg)]
    leaves = [t for _, t in pairs]
    outs = flat(sg_out)
    if not second:
        scalargrad.backward(sg_out, grad_outputs=g.tolist())
        t_out.backward(g)
        for k, (sg, t) in enumerate(pairs):
            for i, (x, want) in enumerate(zip(flat(sg), t.grad.flatten().tolist())):
                assert_close(x.grad, want, f"gradient of input {k} element {i}", REL, ABS)
        return
    first = scalargrad.grad(outs, xs, grad_outputs=g.flatten().tolist(), create_graph=True, allow_unused=True)
    t_first = torch.autograd.grad(t_out, leaves, g, create_graph=True)
    v = _randn(len(xs), seed + 1).tolist()
    for got, want in zip(first, torch.cat([f.flatten() for f in t_first]).tolist()):
        got = 0.0 if got is None else float(getattr(got, "data", got))
        assert_close(got, want, "first derivative", REL, ABS)
    terms = [f * w for f, w in zip(first, v) if isinstance(f, Scalar)]
    hv = scalargrad.grad(F.sum(terms), xs, allow_unused=True) if terms else [None] * len(xs)
    t_v = torch.split(torch.tensor(v, dtype=torch.float64), [t.numel() for t in leaves])
    t_s = sum((f * w.view_as(f)).sum() for f, w in zip(t_first, t_v))
    t_hv = torch.autograd.grad(t_s, leaves, allow_unused=True) if t_s.requires_grad else [None] * len(leaves)
    t_hv = torch.cat([torch.zeros(t.numel(), dtype=torch.float64) if h is None else h.flatten()
                      for h, t in zip(t_hv, leaves)])
    assert any(h != 0.0 for h in t_hv.tolist()), "a second derivative that is all zero tests little"
    for i, (got, want) in enumerate(zip(hv, t_hv.tolist())):
        assert_close(0.0 if got is None else float(got), want, f"second derivative {i}", REL, ABS)


# ---- elementwise losses --------------------------------------------------------------------------------

SHAPES = [(), (5,), (3, 4), (2, 3, 2)]
# (name, ours, torch's, keyword arguments, smooth: second derivatives compared)
ELEMENTWISE = [
    ("mse", F.mse_loss, TF.mse_loss, {}, True),
    ("l1", F.l1_loss, TF.l1_loss, {}, False),
    ("smooth_l1", F.smooth_l1_loss, TF.smooth_l1_loss, {}, True),
    ("smooth_l1_beta_half", F.smooth_l1_loss, TF.smooth_l1_loss, {"beta": 0.5}, True),
    ("smooth_l1_beta_0", F.smooth_l1_loss, TF.smooth_l1_loss, {"beta": 0.0}, False),
    ("huber", F.huber_loss, TF.huber_loss, {}, True),
    ("huber_delta_2", F.huber_loss, TF.huber_loss, {"delta": 2.0}, True),
    ("huber_delta_0_3", F.huber_loss, TF.huber_loss, {"delta": 0.3}, True),
]


class TestElementwiseLosses:
    @parameterized.expand([(f"{name}_{'x'.join(map(str, s)) or '0d'}_{r}", ours, theirs, kw, s, r)
                           for name, ours, theirs, kw, _ in ELEMENTWISE for s in SHAPES for r in REDUCTIONS])
    def test_values_and_gradients(self, _, ours, theirs, kw, shape, reduction):
        x, t = _randn(shape, 1, 2.0), _randn(shape, 2, 2.0)
        if shape:  # an exact hit (|d| has a kink at 0: gradient 0 in both) and a |d| of exactly 1
            x.view(-1)[0] = t.view(-1)[0]
            x.view(-1)[-1] = t.view(-1)[-1] + 1.0
        sx, st = _nested(x), _nested(t)
        tx, tt_ = _leaf(x), _leaf(t)
        compare(ours(sx, st, reduction=reduction, **kw), theirs(tx, tt_, reduction=reduction, **kw),
                [(sx, tx), (st, tt_)])

    @parameterized.expand([(f"{name}_{r}", ours, theirs, kw, r)
                           for name, ours, theirs, kw, smooth in ELEMENTWISE if smooth for r in REDUCTIONS])
    def test_second_derivatives(self, _, ours, theirs, kw, reduction):
        x, t = _randn((3, 4), 3, 1.5), _randn((3, 4), 4)
        sx, st = _nested(x), _nested(t)
        tx, tt_ = _leaf(x), _leaf(t)
        compare(ours(sx, st, reduction=reduction, **kw), theirs(tx, tt_, reduction=reduction, **kw),
                [(sx, tx), (st, tt_)], second=True)

    @parameterized.expand([(name, ours, theirs, kw) for name, ours, theirs, kw, _ in ELEMENTWISE])
    def test_shapes_broadcast_with_torchs_warning(self, _, ours, theirs, kw):
        x, t = _randn((3, 4), 5, 2.0), _randn((4,), 6, 2.0)
        sx, st = _nested(x), _nested(t)
        tx, tt_ = _leaf(x), _leaf(t)
        with pytest.warns(UserWarning, match="size"):
            t_out = theirs(tx, tt_, reduction="sum", **kw)
        with pytest.warns(UserWarning, match=r"target's shape \(4,\) differs from the input's shape \(3, 4"):
            out = ours(sx, st, reduction="sum", **kw)
        compare(out, t_out, [(sx, tx), (st, tt_)])

    @parameterized.expand([(name, ours, kw) for name, ours, _, kw, _ in ELEMENTWISE])
    def test_numbers_and_numpy_arrays_give_the_same_bits(self, _, ours, kw):
        x, t = _randn((3, 4), 8), _randn((3, 4), 9)
        from_lists = ours(_nested(x), t.tolist(), **kw).data
        assert ours(_nested(x), t.numpy(), **kw).data == from_lists
        assert ours(x.numpy(), t.numpy(), **kw).data == ours(x.tolist(), t.tolist(), **kw).data

    def test_mean_squared_error_is_mse_loss(self):
        x, t = _randn((4, 2), 10), _randn((4, 2), 11)
        assert F.mean_squared_error(_nested(x), t.tolist()).data == F.mse_loss(_nested(x), t.tolist()).data
        assert F.mean_squared_error(_nested(x), t.tolist()).data == TF.mse_loss(x, t).item() or math.isclose(
            F.mean_squared_error(_nested(x), t.tolist()).data, TF.mse_loss(x, t).item(), rel_tol=REL)


class TestKLDiv:
    @parameterized.expand([(f"{'x'.join(map(str, s))}_{r}_{'log' if lt else 'prob'}", s, r, lt)
                           for s in [(5,), (3, 4), (2, 3, 2)] for r in ("sum", "none", "batchmean", "mean")
                           for lt in (False, True)])
    def test_values_gradients_and_second_derivatives(self, _, shape, reduction, log_target):
        x = torch.log_softmax(_randn(shape, 12), -1)
        t = _rand(shape, 13) + 0.01
        if log_target:
            t = torch.log(t)
        for second in (False, True):
            sx, st = _nested(x), _nested(t)
            tx, tt_ = _leaf(x), _leaf(t)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours = F.kl_div(sx, st, reduction=reduction, log_target=log_target)
                theirs = TF.kl_div(tx, tt_, reduction=reduction, log_target=log_target)
            compare(ours, theirs, [(sx, tx), (st, tt_)], second=second)

    @parameterized.expand([(r, r) for r in ("sum", "none")])
    def test_a_zero_target_adds_nothing(self, _, reduction):
        x, t = torch.log_softmax(_randn((3, 4), 16), -1), _rand((3, 4), 17)
        t[0, 1] = t[2, 3] = 0.0  # xlogy: 0, where t * log t would be nan
        sx, tx = _nested(x), _leaf(x)
        compare(F.kl_div(sx, t.tolist(), reduction), TF.kl_div(tx, t, reduction=reduction), [(sx, tx)])

    def test_mean_warns_as_torch_and_batchmean_divides_by_the_batch(self):
        x, t = torch.log_softmax(_randn((4, 3), 14), -1), _rand((4, 3), 15)
        with pytest.warns(UserWarning, match="batchmean"):
            mean = F.kl_div(x.tolist(), t.tolist())
        with pytest.warns(UserWarning):
            assert_close(mean.data, TF.kl_div(x, t), "mean", REL, ABS)
        batchmean = F.kl_div(x.tolist(), t.tolist(), reduction="batchmean").data
        assert_close(batchmean, TF.kl_div(x, t, reduction="batchmean"), "batchmean", REL, ABS)
        assert math.isclose(batchmean, 3 * mean.data, rel_tol=1e-12)


# ---- class losses ---------------------------------------------------------------------------------------

def _class_case(shape, seed, ignored=0, scale=2.0):
    """Logits of ``shape`` (classes on dimension 1, or 0 for one dimension) and class indices, the first
    ``ignored`` of them -100."""
    x = _randn(shape, seed, scale)
    n = shape[0] if len(shape) == 1 else shape[1]
    target_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
    g = torch.Generator().manual_seed(seed + 1)
    target = torch.randint(0, n, target_shape, generator=g)
    if ignored:
        target.view(-1)[:ignored] = -100
    return x, target, n


CLASS_SHAPES = [(4,), (5, 3), (3, 4, 2)]
CE_OPTIONS = [  # (name, weight?, label_smoothing, ignored samples)
    ("plain", False, 0.0, 0), ("weighted", True, 0.0, 0), ("smoothed", False, 0.2, 0),
    ("weighted_smoothed", True, 0.3, 0), ("ignored", False, 0.0, 2), ("weighted_ignored", True, 0.1, 2),
]


class TestCrossEntropy:
    @parameterized.expand([(f"{'x'.join(map(str, s))}_{name}_{r}", s, w, eps, ign, r)
                           for s in CLASS_SHAPES for name, w, eps, ign in CE_OPTIONS for r in REDUCTIONS
                           if not (ign and len(s) == 1)])
    def test_class_indices(self, _, shape, weighted, eps, ignored, reduction):
        x, target, n = _class_case(shape, len(shape) * 10 + ignored, ignored)
        weight = _rand(n, 3) + 0.5 if weighted else None
        sx, tx = _nested(x), _leaf(x)
        ours = F.cross_entropy(sx, target.tolist(), weight=_listed(weight),
                               reduction=reduction, label_smoothing=eps)
        theirs = TF.cross_entropy(tx, target, weight=weight, reduction=reduction, label_smoothing=eps)
        compare(ours, theirs, [(sx, tx)])
        if reduction == "none" and ignored:
            assert all(v.data == 0.0 for v in flat(ours)[:ignored])

    @parameterized.expand([(f"{'x'.join(map(str, s))}_{name}_{r}", s, w, eps, r)
                           for s in CLASS_SHAPES for name, w, eps, ign in CE_OPTIONS if not ign
                           for r in REDUCTIONS])
    def test_class_probabilities(self, _, shape, weighted, eps, reduction):
        x = _randn(shape, 20, 2.0)
        dim = 0 if len(shape) == 1 else 1
        p = torch.softmax(_randn(shape, 21), dim)
        n = shape[dim]
        weight = _rand(n, 4) + 0.5 if weighted else None
        sx, tx = _nested(x), _leaf(x)
        ours = F.cross_entropy(sx, p.tolist(), weight=_listed(weight),
                               reduction=reduction, label_smoothing=eps)
        theirs = TF.cross_entropy(tx, p, weight=weight, reduction=reduction, label_smoothing=eps)
        compare(ours, theirs, [(sx, tx)])

    @parameterized.expand([(f"{kind}_{name}_{r}", kind, w, eps, r) for kind in ("indices", "probabilities")
                           for name, w, eps, ign in CE_OPTIONS if not ign for r in ("mean", "sum")])
    def test_second_derivatives(self, _, kind, weighted, eps, reduction):
        x, target, n = _class_case((4, 3), 30)
        if kind == "probabilities":
            target = torch.softmax(_randn((4, 3), 31), 1) * 1.5  # unnormalised: the sum S of the rule counts
        weight = _rand(n, 5) + 0.5 if weighted else None
        sx, tx = _nested(x), _leaf(x)
        ours = F.cross_entropy(sx, target.tolist(), weight=_listed(weight),
                               reduction=reduction, label_smoothing=eps)
        theirs = TF.cross_entropy(tx, target, weight=weight, reduction=reduction, label_smoothing=eps)
        compare(ours, theirs, [(sx, tx)], second=True)

    @parameterized.expand([(f"{name}_{r}", w, eps, r) for name, w, eps, _ in CE_OPTIONS for r in REDUCTIONS])
    def test_all_ignored_is_nan_as_torch(self, _, weighted, eps, reduction):
        x = _randn((3, 4), 40)
        target = torch.full((3,), -100)
        weight = _rand(4, 6) + 0.5 if weighted else None
        sx, tx = _nested(x), _leaf(x)
        ours = F.cross_entropy(sx, target.tolist(), weight=_listed(weight),
                               reduction=reduction, label_smoothing=eps)
        theirs = TF.cross_entropy(tx, target, weight=weight, reduction=reduction, label_smoothing=eps)
        if reduction == "mean":
            assert math.isnan(ours.data) and math.isnan(theirs.item())
        compare(ours, theirs, [(sx, tx)])

    def test_ignore_index_is_any_class(self):
        x, target, _ = _class_case((6, 3), 41)
        sx, tx = _nested(x), _leaf(x)
        ours = F.cross_entropy(sx, target.tolist(), ignore_index=1)
        theirs = TF.cross_entropy(tx, target, ignore_index=1)
        assert 1 in target.tolist()
        compare(ours, theirs, [(sx, tx)])

    @parameterized.expand([(f"{name}_{kind}", values, kind, eps) for name, values in [
        ("thousands", [[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [1000.0, 1000.0, -1000.0]]),
        ("huge", [[1e300, -1e300, 0.0], [1e16, 1e16 + 2.0, 1.0], [-1e307, 0.0, 1e307]]),
    ] for kind, eps in (("indices", 0.0), ("smoothed", 0.1), ("probabilities", 0.0))])
    def test_extreme_logits(self, _, values, kind, eps):
        x = torch.tensor(values, dtype=torch.float64)
        target = torch.tensor([1, 2, 0]) if kind != "probabilities" else torch.tensor(
            [[0.2, 0.3, 0.5], [0.0, 1.0, 0.0], [0.5, 0.25, 0.25]], dtype=torch.float64)
        sx, tx = _nested(x), _leaf(x)
        ours = F.cross_entropy(sx, target.tolist(), reduction="none", label_smoothing=eps)
        theirs = TF.cross_entropy(tx, target, reduction="none", label_smoothing=eps)
        assert all(math.isfinite(v) for v in _values(ours))
        compare(ours, theirs, [(sx, tx)])

    def test_softmax_cross_entropy_is_cross_entropy(self):
        x, target, _ = _class_case((5, 3), 42)
        assert F.softmax_cross_entropy(_nested(x), target.tolist()).data == \
            F.cross_entropy(_nested(x), target.tolist()).data
        assert_close(F.softmax_cross_entropy(x.numpy(), target.numpy()).data, TF.cross_entropy(x, target),
                     "alias", REL, ABS)

    def test_a_replay_feeds_the_class(self):
        logits, t = [Scalar(0.1), Scalar(0.7), Scalar(-0.4)], Scalar(0.0)
        weight = [0.5, 2.0, 1.5]
        replay = Replay(lambda: F.cross_entropy([logits], [t], weight=weight, reduction="sum",
                                                label_smoothing=0.1), [t])
        for cls in (2.0, 1.0):
            value = replay.forward([cls])
            rebuilt = F.cross_entropy([logits], [int(cls)], weight=weight, reduction="sum",
                                      label_smoothing=0.1)
            assert value == rebuilt.data
        with pytest.raises(ValueError, match="weights of the targets.*reduction='sum'"):
            Replay(lambda: F.cross_entropy([logits], [t], weight=weight), [t])


class TestNLLLoss:
    @parameterized.expand([(f"{'x'.join(map(str, s))}_{name}_{r}", s, w, ign, r)
                           for s in CLASS_SHAPES for name, w, eps, ign in CE_OPTIONS if not eps
                           for r in REDUCTIONS if not (ign and len(s) == 1)])
    def test_values_and_gradients(self, _, shape, weighted, ignored, reduction):
        x, target, n = _class_case(shape, len(shape) + 50 + ignored, ignored)
        weight = _rand(n, 7) + 0.5 if weighted else None
        sx, tx = _nested(x), _leaf(x)
        ours = F.nll_loss(sx, target.tolist(), weight=_listed(weight),
                          reduction=reduction)
        theirs = TF.nll_loss(tx, target, weight=weight, reduction=reduction)
        compare(ours, theirs, [(sx, tx)])

    @parameterized.expand([(f"{name}_{r}", w, r) for name, w in (("plain", False), ("weighted", True))
                           for r in ("mean", "sum")])
    def test_second_derivatives_after_log_softmax(self, _, weighted, reduction):
        x, target, n = _class_case((4, 3), 60)
        weight = _rand(n, 8) + 0.5 if weighted else None
        sx, tx = _nested(x), _leaf(x)
        ours = F.nll_loss([F.log_softmax(row) for row in sx], target.tolist(),
                          weight=_listed(weight), reduction=reduction)
        theirs = TF.nll_loss(torch.log_softmax(tx, 1), target, weight=weight, reduction=reduction)
        compare(ours, theirs, [(sx, tx)], second=True)

    def test_all_ignored_is_nan_as_torch(self):
        x = _randn((2, 3), 61)
        sx, tx = _nested(x), _leaf(x)
        ours = F.nll_loss(sx, [-100, -100])
        theirs = TF.nll_loss(tx, torch.tensor([-100, -100]))
        assert math.isnan(ours.data)
        compare(ours, theirs, [(sx, tx)])


# ---- binary losses ---------------------------------------------------------------------------------------

BINARY_SHAPES = [(5,), (3, 4), (2, 3, 2)]


def _binary_case(shape, seed):
    p = _rand(shape, seed) * 0.98 + 0.01
    t = torch.tensor([(0.0, 1.0, 0.3)[i % 3] for i in range(p.numel())], dtype=torch.float64).view(shape)
    return p, t


class TestBinaryCrossEntropy:
    @parameterized.expand([(f"{'x'.join(map(str, s))}_{r}_{w}", s, r, w) for s in BINARY_SHAPES
                           for r in REDUCTIONS for w in ("none", "full", "last_dim")])
    def test_values_and_gradients_with_0_and_1(self, _, shape, reduction, weight_kind):
        p, t = _binary_case(shape, 70)
        p.view(-1)[:2] = torch.tensor([0.0, 1.0])  # the -100 floor on the log terms and the 1e-12 clamp
        weight = None if weight_kind == "none" else _rand(shape if weight_kind == "full" else shape[-1:], 71)
        sp, tp = _nested(p), _leaf(p)
        ours = F.binary_cross_entropy(sp, t.tolist(), _listed(weight), reduction)
        theirs = TF.binary_cross_entropy(tp, t, weight, reduction=reduction)
        compare(ours, theirs, [(sp, tp)])

    @parameterized.expand([(r, r) for r in REDUCTIONS])
    def test_second_derivatives(self, _, reduction):
        p, t = _binary_case((3, 4), 72)
        weight = _rand((4,), 73)
        sp, tp = _nested(p), _leaf(p)
        compare(F.binary_cross_entropy(sp, t.tolist(), weight.tolist(), reduction),
                TF.binary_cross_entropy(tp, t, weight, reduction=reduction), [(sp, tp)], second=True)


class TestBinaryCrossEntropyWithLogits:
    @parameterized.expand([(f"{'x'.join(map(str, s))}_{r}_{w}", s, r, w) for s in BINARY_SHAPES
                           for r in REDUCTIONS for w in ("none", "weight", "pos_weight", "both")])
    def test_values_and_gradients_with_extremes(self, _, shape, reduction, weights):
        z, t = _randn(shape, 80, 4.0), _binary_case(shape, 81)[1]
        z.view(-1)[:3] = torch.tensor([1000.0, -1000.0, 40.0])
        weight = _rand(shape[-1:], 82) if weights in ("weight", "both") else None
        pos_weight = _rand(shape[-1:], 83) * 3.0 if weights in ("pos_weight", "both") else None
        sz, tz = _nested(z), _leaf(z)
        ours = F.binary_cross_entropy_with_logits(sz, t.tolist(), _listed(weight), reduction,
                                                  _listed(pos_weight))
        theirs = TF.binary_cross_entropy_with_logits(tz, t, weight, reduction=reduction,
                                                     pos_weight=pos_weight)
        assert all(math.isfinite(v) for v in _values(ours))
        compare(ours, theirs, [(sz, tz)])

    @parameterized.expand([(f"{r}_{w}", r, w) for r in ("mean", "none") for w in ("none", "pos_weight")])
    def test_second_derivatives(self, _, reduction, weights):
        z, t = _randn((3, 4), 84, 2.0), _binary_case((3, 4), 85)[1]
        pos_weight = _rand((4,), 86) * 3.0 if weights == "pos_weight" else None
        sz, tz = _nested(z), _leaf(z)
        compare(F.binary_cross_entropy_with_logits(sz, t.tolist(), reduction=reduction,
                                                   pos_weight=_listed(pos_weight)),
                TF.binary_cross_entropy_with_logits(tz, t, reduction=reduction, pos_weight=pos_weight),
                [(sz, tz)], second=True)


class TestHingeLoss:
    @parameterized.expand([(f"{'x'.join(map(str, s))}_{r}", s, r) for s in BINARY_SHAPES for r in REDUCTIONS])
    def test_matches_the_formula_in_torch(self, _, shape, reduction):
        x = _randn(shape, 90, 1.5)
        t = torch.tensor([(-1.0, 1.0)[i % 2] for i in range(x.numel())], dtype=torch.float64).view(shape)
        x.view(-1)[0] = t.view(-1)[0]  # on the margin: relu's kink, gradient 0 in both
        sx, tx = _nested(x), _leaf(x)
        per_element = torch.relu(1.0 - t * tx)
        theirs = {"mean": per_element.mean(), "sum": per_element.sum(), "none": per_element}[reduction]
        compare(F.hinge_loss(sx, t.tolist(), reduction), theirs, [(sx, tx)])


# ---- errors: where torch refuses, a clear error -----------------------------------------------------------

def _x23():
    return _randn((2, 3), 95)


ERRORS = [  # (name, ours, torch's, error, message)
    ("ce_index_too_big", lambda: F.cross_entropy(_x23().tolist(), [0, 3]),
     lambda: TF.cross_entropy(_x23(), torch.tensor([0, 3])), ValueError,
     "sample 1: class index 3 is out of range"),
    ("ce_index_negative", lambda: F.cross_entropy(_x23().tolist(), [-1, 0]),
     lambda: TF.cross_entropy(_x23(), torch.tensor([-1, 0])), ValueError, "class index -1 is out of range"),
    ("ce_target_shape", lambda: F.cross_entropy(_x23().tolist(), [0, 1, 2]),
     lambda: TF.cross_entropy(_x23(), torch.tensor([0, 1, 2])), ValueError, r"target must have shape \(2,\)"),
    ("ce_probability_shape", lambda: F.cross_entropy(_x23().tolist(), [[0.5, 0.5], [0.5, 0.5]]),
     lambda: TF.cross_entropy(_x23(), torch.full((2, 2), 0.5)), ValueError, "neither class indices"),
    ("ce_string_target", lambda: F.cross_entropy(_x23().tolist(), "cat"),
     lambda: TF.cross_entropy(_x23(), "cat"), TypeError, "class targets must be ints, got str"),
    ("ce_float_index", lambda: F.cross_entropy(_x23().tolist(), [0.0, 1.0]),
     lambda: TF.cross_entropy(_x23(), torch.tensor([0.0, 1.0])), TypeError, "class targets must be ints"),
    ("ce_no_class_dimension", lambda: F.cross_entropy(Scalar(1.0), 0),
     lambda: TF.cross_entropy(torch.tensor(1.0), torch.tensor(0)), ValueError, "dimension of classes"),
    ("ce_weight_length", lambda: F.cross_entropy(_x23().tolist(), [0, 1], weight=[1.0, 2.0]),
     lambda: TF.cross_entropy(_x23(), torch.tensor([0, 1]), weight=torch.ones(2, dtype=torch.float64)),
     ValueError, r"one number per class \(3\)"),
    ("ce_ignore_index_with_probabilities",
     lambda: F.cross_entropy(_x23().tolist(), torch.softmax(_x23(), 1).tolist(), ignore_index=0),
     lambda: TF.cross_entropy(_x23(), torch.softmax(_x23(), 1), ignore_index=0), ValueError, "ignore_index"),
    ("ce_label_smoothing", lambda: F.cross_entropy(_x23().tolist(), [0, 1], label_smoothing=1.5),
     lambda: TF.cross_entropy(_x23(), torch.tensor([0, 1]), label_smoothing=1.5), ValueError,
     "label_smoothing must be in"),
    ("nll_index", lambda: F.nll_loss(_x23().tolist(), [3, 0]),
     lambda: TF.nll_loss(_x23(), torch.tensor([3, 0])), ValueError, "class index 3 is out of range for 3"),
    ("nll_target_shape", lambda: F.nll_loss(_x23().tolist(), [[0], [1]]),
     lambda: TF.nll_loss(_x23(), torch.tensor([[0], [1]])), ValueError, "target must have shape"),
    ("bce_target_shape", lambda: F.binary_cross_entropy([0.5, 0.5], [1.0]),
     lambda: TF.binary_cross_entropy(torch.full((2,), 0.5), torch.ones(1)), ValueError,
     r"target's shape \(1,\) must be the input's shape \(2,\)"),
    ("bce_probability", lambda: F.binary_cross_entropy([1.5], [1.0]),
     lambda: TF.binary_cross_entropy(torch.tensor([1.5]), torch.ones(1)), ValueError,
     r"probabilities in \[0, 1\]"),
    ("bce_logits_target_shape", lambda: F.binary_cross_entropy_with_logits([[0.5, 0.5]], [1.0, 0.0]),
     lambda: TF.binary_cross_entropy_with_logits(torch.full((1, 2), 0.5), torch.ones(2)), ValueError,
     "must be the input's shape"),
    ("bce_weight_shape", lambda: F.binary_cross_entropy([0.5, 0.5], [1.0, 0.0], weight=[1.0, 2.0, 3.0]),
     lambda: TF.binary_cross_entropy(torch.full((2,), 0.5), torch.ones(2), torch.ones(3)), ValueError,
     "do not broadcast"),
    ("mse_shapes", lambda: F.mse_loss([1.0, 2.0, 3.0], [1.0, 2.0]),
     lambda: TF.mse_loss(torch.ones(3), torch.ones(2)), ValueError, "do not broadcast"),
    ("mse_string_target", lambda: F.mse_loss([1.0, 2.0], [1.0, "2"]),
     lambda: TF.mse_loss(torch.ones(2), torch.tensor([1.0, "2"])), TypeError, r"target\[1\] is a str"),
    ("l1_reduction", lambda: F.l1_loss([1.0], [2.0], reduction="avg"),
     lambda: TF.l1_loss(torch.ones(1), torch.ones(1), reduction="avg"), ValueError, "avg"),
    ("kl_div_reduction", lambda: F.kl_div([1.0], [2.0], reduction="avg"),
     lambda: TF.kl_div(torch.ones(1), torch.ones(1), reduction="avg"), ValueError, "batchmean"),
    ("smooth_l1_beta", lambda: F.smooth_l1_loss([1.0], [2.0], beta=-1.0),
     lambda: TF.smooth_l1_loss(torch.ones(1), torch.ones(1), beta=-1.0), ValueError,
     "beta must be non-negative"),
    ("huber_delta", lambda: F.huber_loss([1.0], [2.0], delta=0.0),
     lambda: TF.huber_loss(torch.ones(1), torch.ones(1), delta=0.0), ValueError, "delta must be positive"),
]


@parameterized.expand([(name, ours, theirs, error, message) for name, ours, theirs, error, message in ERRORS])
def test_errors_where_torch_raises(_, ours, theirs, error, message):
    refusals = (RuntimeError, ValueError, TypeError, IndexError)  # torch's kinds of refusal
    with pytest.raises(refusals), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs()
    with pytest.raises(error, match=message), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mse_loss warns of different shapes, then finds no broadcast
        ours()


def test_ragged_input_and_targets_are_named():
    with pytest.raises(ValueError, match=r"cross_entropy: input is ragged.*input\[1\] is a list of 2"):
        F.cross_entropy([[0.1, 0.2, 0.3], [0.1, 0.2]], [0, 1])
    with pytest.raises(ValueError, match="mse_loss: target is ragged"):
        F.mse_loss([[1.0], [2.0]], [[1.0], [2.0, 3.0]])
    with pytest.raises(TypeError, match=r"hinge_loss: input must hold Scalars or numbers, but input\[0\] is"):
        F.hinge_loss([True], [1])


def test_inputs_may_be_numpy_arrays():
    x, target, _ = _class_case((4, 3), 99)
    bits = F.cross_entropy(x.tolist(), target.tolist(), weight=[1.0, 2.0, 0.5]).data
    assert F.cross_entropy(x.numpy(), target.numpy(), weight=numpy.array([1.0, 2.0, 0.5])).data == bits
    p = torch.softmax(x, 1)
    assert F.cross_entropy(x.numpy(), p.numpy()).data == F.cross_entropy(x.tolist(), p.tolist()).data
