"""Tests of scalargrad.nn losses against torch float64 (values and gradients of every
output), their handling of extreme inputs and bad batches, and a 10-epoch training run
in lock-step with the same model in PyTorch."""

import math
import random

import pytest
import torch
import torch.nn.functional as TF
from parameterized import parameterized

from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad.nn import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeLoss,
    L1Loss,
    Linear,
    MSELoss,
    NLLLoss,
    Sequential,
)
from tests.helpers import all_close as helpers_all_close
from tests.helpers import assert_close, flat, scalars, tt, with_tolerances
from tests.helpers import grads_close as helpers_grads_close

REL = 1e-9
ABS = 1e-15


close = with_tolerances(assert_close, REL, ABS)
all_close = with_tolerances(helpers_all_close, REL, ABS)
grads_close = with_tolerances(helpers_grads_close, REL, ABS)


def backward_both(loss, torch_loss, reduction, rng):
    """Back-propagate the loss (a random weighted sum of per-sample losses for 'none')."""
    if reduction == "none":
        assert isinstance(loss, list) and all(isinstance(v, Scalar) for v in loss)
        coeffs = [rng.uniform(-2, 2) for _ in loss]
        F.dot(loss, coeffs).backward()
        (torch_loss * torch.tensor(coeffs, dtype=torch.float64)).sum().backward()
    else:
        assert isinstance(loss, Scalar)
        loss.backward(0.75)
        torch_loss.backward(torch.tensor(0.75, dtype=torch.float64))


# --------------------------------------------------------------------------
# Cross-entropy
# --------------------------------------------------------------------------

# (name, batch, classes, reduction, label_smoothing, logit scale)
CE_CASES = [
    ("b4_c1", 4, 1, "mean", 0.0, 1.0),
    ("b4_c2_mean", 4, 2, "mean", 0.0, 1.0),
    ("b4_c3_sum", 4, 3, "sum", 0.0, 3.0),
    ("b8_c10_none", 8, 10, "none", 0.0, 3.0),
    ("b16_c10_smooth", 16, 10, "mean", 0.1, 3.0),
    ("b16_c10_sum_smooth", 16, 10, "sum", 0.1, 3.0),
    ("b8_c4_none_smooth", 8, 4, "none", 0.3, 5.0),
    ("b8_c4_full_smoothing", 8, 4, "mean", 1.0, 2.0),
    ("b32_c128_mean", 32, 128, "mean", 0.0, 10.0),
    ("b64_c5_sum_smooth", 64, 5, "sum", 0.25, 1.0),
    ("b256_c16_mean", 256, 16, "mean", 0.0, 4.0),
    ("b256_c128_none_smooth", 256, 128, "none", 0.05, 2.0),
    ("b4_c7_large", 4, 7, "mean", 0.1, 200.0),
]


class TestCrossEntropyLoss:
    @parameterized.expand(CE_CASES)
    def test_matches_torch(self, _, batch, classes, reduction, smoothing, scale):
        rng = random.Random(batch * 1000 + classes)
        zv = [[scale * rng.gauss(0, 1) for _ in range(classes)] for _ in range(batch)]
        targets = [rng.randrange(classes) for _ in range(batch)]
        zs = scalars(zv)
        loss = CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing)(zs, targets)
        tz = tt(zv)
        tl = TF.cross_entropy(tz, torch.tensor(targets), reduction=reduction, label_smoothing=smoothing)
        backward_both(loss, tl, reduction, rng)
        all_close(loss, tl, "loss")
        grads_close(zs, tz.grad, "grad logits")

    @parameterized.expand([("mean", "mean", 0.0), ("sum", "sum", 0.0), ("none", "none", 0.0),
                           ("mean_smooth", "mean", 0.2), ("none_smooth", "none", 0.2)])
    def test_logits_of_1000_are_finite_and_exact(self, _, reduction, smoothing):
        zv = [[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0], [1000.0, 1000.0, -1000.0],
              [0.0, 0.0, 1000.0], [-1000.0, -1000.0, -1000.0], [1000.0, -1000.0, 999.0]]
        targets = [0, 0, 2, 1, 1, 2]
        zs = scalars(zv)
        loss = CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing)(zs, targets)
        tz = tt(zv)
        tl = TF.cross_entropy(tz, torch.tensor(targets), reduction=reduction, label_smoothing=smoothing)
        backward_both(loss, tl, reduction, random.Random(0))
        assert all(math.isfinite(v.data) for v in flat(loss))
        assert all(math.isfinite(z.grad) for z in flat(zs))
        all_close(loss, tl, "loss")
        grads_close(zs, tz.grad, "grad logits")

    def test_seed_example(self):
        random.seed(0)
        model = Sequential([Linear(2, 4, activation="relu"), Linear(4, 2, activation="identity")])
        xb = [[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]]
        yb = [1, 0, 1]
        loss = CrossEntropyLoss()([model(x) for x in xb], yb)
        loss.backward()
        tm = model.to_torch()
        tl = TF.cross_entropy(tm(torch.tensor(xb, dtype=torch.float64)), torch.tensor(yb))
        tl.backward()
        close(loss.data, tl, "loss")
        expected = []
        for lin in (tm[0], tm[2]):
            for j in range(lin.out_features):
                expected += lin.weight.grad[j].tolist() + [lin.bias.grad[j].item()]
        all_close([p.grad for p in model.parameters()], expected, "parameter grads")

    def test_float_logits_are_accepted(self):
        loss = CrossEntropyLoss()([[2.0, 0.0]], [0])
        close(loss.data, TF.cross_entropy(torch.tensor([[2.0, 0.0]], dtype=torch.float64), torch.tensor([0])),
              "loss")

    @parameterized.expand([("too_big", 3), ("negative", -1), ("far", 100)])
    def test_class_index_out_of_range(self, _, target):
        zs = scalars([[0.1, 0.2, 0.3], [0.0, 0.0, 0.0]])
        with pytest.raises(ValueError, match=rf"sample 1: class index {target} is out of range for 3 logits"):
            CrossEntropyLoss()(zs, [0, target])

    def test_mismatched_and_empty_batches(self):
        zs = scalars([[0.1, 0.2], [0.3, 0.4]])
        with pytest.raises(ValueError, match="2 outputs but 3 targets"):
            CrossEntropyLoss()(zs, [0, 1, 1])
        with pytest.raises(ValueError, match="2 outputs but 1 targets"):
            CrossEntropyLoss()(zs, [0])
        with pytest.raises(ValueError, match="empty batch"):
            CrossEntropyLoss()([], [])
        with pytest.raises(ValueError, match="output 1 must be a non-empty list of logits"):
            CrossEntropyLoss()([zs[0], []], [0, 0])

    def test_non_integer_targets(self):
        zs = scalars([[0.1, 0.2]])
        for bad in (1.0, "1", True, None):
            with pytest.raises(TypeError, match="class targets must be ints"):
                CrossEntropyLoss()(zs, [bad])

    def test_bad_settings(self):
        with pytest.raises(ValueError, match="reduction"):
            CrossEntropyLoss(reduction="avg")
        with pytest.raises(ValueError, match="label_smoothing"):
            CrossEntropyLoss(label_smoothing=1.5)
        with pytest.raises(ValueError, match="label_smoothing"):
            CrossEntropyLoss(label_smoothing=-0.1)


# --------------------------------------------------------------------------
# NLL on log_softmax
# --------------------------------------------------------------------------

class TestNLLLoss:
    @parameterized.expand([(f"b{b}_c{c}_{r}", b, c, r) for b, c, r in
                           [(4, 3, "mean"), (16, 10, "sum"), (64, 128, "none"), (256, 5, "mean")]])
    def test_on_log_softmax_matches_torch(self, _, batch, classes, reduction):
        rng = random.Random(batch + classes)
        zv = [[rng.gauss(0, 3) for _ in range(classes)] for _ in range(batch)]
        targets = [rng.randrange(classes) for _ in range(batch)]
        zs = scalars(zv)
        loss = NLLLoss(reduction=reduction)([F.log_softmax(z) for z in zs], targets)
        tz = tt(zv)
        tl = TF.nll_loss(torch.log_softmax(tz, dim=1), torch.tensor(targets), reduction=reduction)
        backward_both(loss, tl, reduction, rng)
        all_close(loss, tl, "loss")
        grads_close(zs, tz.grad, "grad logits")

    def test_bad_input(self):
        logp = [F.log_softmax(scalars([0.0, 1.0]))]
        with pytest.raises(ValueError, match="class index 2 is out of range for 2 outputs"):
            NLLLoss()(logp, [2])
        with pytest.raises(ValueError, match="1 outputs but 2 targets"):
            NLLLoss()(logp, [0, 1])
        with pytest.raises(ValueError, match="empty batch"):
            NLLLoss()([], [])


# --------------------------------------------------------------------------
# Regression losses
# --------------------------------------------------------------------------

# (name, batch, width, reduction, form): form 'list' = 1-element lists, 'scalar' = plain Scalars,
# 'rows' = multi-output rows with list targets
REGRESSION_CASES = [
    (f"{form}_b{b}_w{w}_{r}", b, w, r, form)
    for form, b, w in [("list", 4, 1), ("scalar", 16, 1), ("list", 256, 1), ("rows", 8, 3), ("rows", 64, 10)]
    for r in ("mean", "sum", "none")
]


def _regression_batch(batch, width, form, rng):
    ov = [[rng.gauss(0, 2) for _ in range(width)] for _ in range(batch)]
    tv = [[rng.gauss(0, 2) for _ in range(width)] for _ in range(batch)]
    tv[0][0] = ov[0][0]  # an exact hit: |d| has a kink there, torch's gradient is 0
    outputs = scalars(ov)
    if form == "list":
        targets = [t[0] for t in tv]
    elif form == "scalar":
        outputs = [o[0] for o in outputs]
        targets = [t[0] for t in tv]
    else:
        targets = tv
    return outputs, targets, ov, tv


# (name, loss, torch's function, what the random seed adds)
REGRESSION_LOSSES = [("mse", MSELoss, TF.mse_loss, 0), ("l1", L1Loss, TF.l1_loss, 1)]


class TestRegressionLosses:
    @parameterized.expand([(f"{loss_name}_{case}", cls, torch_fn, seed, batch, width, reduction, form)
                           for loss_name, cls, torch_fn, seed in REGRESSION_LOSSES
                           for case, batch, width, reduction, form in REGRESSION_CASES])
    def test_matches_torch(self, _, cls, torch_fn, seed, batch, width, reduction, form):
        rng = random.Random(batch * width + seed)
        outputs, targets, ov, tv = _regression_batch(batch, width, form, rng)
        loss = cls(reduction=reduction)(outputs, targets)
        to = tt(ov)
        tl = torch_fn(to, torch.tensor(tv, dtype=torch.float64), reduction=reduction).flatten()
        if reduction != "none":
            tl = tl[0]
        backward_both(loss, tl, reduction, rng)
        all_close(loss, tl, "loss")
        grads_close(outputs, to.grad, "grad outputs")
        if cls is L1Loss:
            assert outputs and flat(outputs)[0].grad == 0.0  # the exact hit

    def test_mse_seed_example_and_int_targets(self):
        outputs = [[Scalar(1.0)], [Scalar(3.0)]]
        loss = MSELoss()(outputs, [0, 2])
        assert loss.data == 1.0
        loss.backward()
        assert [o[0].grad for o in outputs] == [1.0, 1.0]

    def test_mse_on_model_outputs(self):
        random.seed(4)
        model = Sequential([Linear(3, 5, activation="tanh"), Linear(5, 1)])
        xb = [[0.1, 0.2, 0.3], [-1.0, 0.5, 0.0], [0.7, -0.7, 0.2], [0.0, 0.0, 1.0]]
        yb = [0.5, -0.25, 1.0, 0.0]
        loss = MSELoss()([model(x) for x in xb], yb)
        loss.backward()
        tm = model.to_torch()
        tl = TF.mse_loss(tm(torch.tensor(xb, dtype=torch.float64)).flatten(),
                         torch.tensor(yb, dtype=torch.float64))
        tl.backward()
        close(loss.data, tl, "loss")
        expected = []
        for lin in (tm[0], tm[2]):
            for j in range(lin.out_features):
                expected += lin.weight.grad[j].tolist() + [lin.bias.grad[j].item()]
        all_close([p.grad for p in model.parameters()], expected, "parameter grads")

    @parameterized.expand([("mse", MSELoss), ("l1", L1Loss), ("hinge", HingeLoss), ("bce", BCELoss),
                           ("bce_logits", BCEWithLogitsLoss)])
    def test_bad_batches(self, _, cls):
        outputs = [[Scalar(0.5)], [Scalar(0.5)]]
        with pytest.raises(ValueError, match="2 outputs but 3 targets"):
            cls()(outputs, [1.0, 1.0, 1.0])
        with pytest.raises(ValueError, match="empty batch"):
            cls()([], [])
        with pytest.raises(ValueError, match="output 1 has 2 values but its target has 1"):
            cls()([[Scalar(0.5)], [Scalar(0.5), Scalar(0.5)]], [1.0, 1.0])
        with pytest.raises(ValueError, match="output 0 has 1 values but its target has 2"):
            cls()([[Scalar(0.5)]], [[1.0, 1.0]])
        with pytest.raises(ValueError, match="reduction"):
            cls(reduction="mean ")


# --------------------------------------------------------------------------
# Hinge (micrograd's moon demo): mean(relu(1 - y * score))
# --------------------------------------------------------------------------

class TestHingeLoss:
    @parameterized.expand([(f"b{b}_{r}", b, r) for b in (4, 32, 256) for r in ("mean", "sum", "none")])
    def test_matches_torch_by_hand(self, _, batch, reduction):
        rng = random.Random(batch)
        sv = [rng.gauss(0, 1.5) for _ in range(batch)]
        yv = [rng.choice((-1, 1)) for _ in range(batch)]
        sv[0] = float(yv[0])  # exactly on the margin: relu's kink, gradient 0 in both
        sv[1] = -0.5 * yv[1]
        outputs = [[Scalar(s)] for s in sv]
        loss = HingeLoss(reduction=reduction)(outputs, yv)
        ts = tt(sv)
        per_sample = torch.relu(1 - torch.tensor(yv, dtype=torch.float64) * ts)
        tl = {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}[reduction]
        backward_both(loss, tl, reduction, rng)
        all_close(loss, tl, "loss")
        grads_close(outputs, ts.grad, "grad scores")
        assert outputs[0][0].grad == 0.0

    def test_targets_must_be_plus_or_minus_one(self):
        with pytest.raises(ValueError, match="-1 or 1, got 0"):
            HingeLoss()([Scalar(0.5), Scalar(0.2)], [1, 0])


# --------------------------------------------------------------------------
# Binary cross-entropy
# --------------------------------------------------------------------------

class TestBCELoss:
    @parameterized.expand([(f"b{b}_{r}", b, r) for b in (4, 16, 256) for r in ("mean", "sum", "none")])
    def test_matches_torch_including_0_and_1(self, _, batch, reduction):
        rng = random.Random(batch)
        pv = [rng.uniform(0.001, 0.999) for _ in range(batch)]
        tv = [rng.choice((0.0, 1.0, 0.3)) for _ in range(batch)]
        # exact 0 and 1: torch clamps each log term at -100 and the gradient's denominator at 1e-12
        pv[0], tv[0] = 0.0, 0.0
        pv[1], tv[1] = 0.0, 1.0
        pv[2], tv[2] = 1.0, 1.0
        pv[3], tv[3] = 1.0, 0.0
        outputs = [[Scalar(p)] for p in pv]
        loss = BCELoss(reduction=reduction)(outputs, tv)
        tp = tt(pv)
        tl = TF.binary_cross_entropy(tp, torch.tensor(tv, dtype=torch.float64), reduction=reduction)
        backward_both(loss, tl, reduction, rng)
        all_close(loss, tl, "loss")
        grads_close(outputs, tp.grad, "grad probabilities")
        assert all(math.isfinite(v.data) for v in flat(loss))

    def test_after_sigmoid_in_a_model(self):
        random.seed(6)
        model = Sequential([Linear(2, 3, activation="tanh"), Linear(3, 1, activation="sigmoid")])
        xb = [[0.2, -0.4], [1.0, 1.0], [-0.5, 0.3]]
        yb = [1.0, 0.0, 1.0]
        loss = BCELoss()([model(x) for x in xb], yb)
        loss.backward()
        tm = model.to_torch()
        tl = TF.binary_cross_entropy(tm(torch.tensor(xb, dtype=torch.float64)).flatten(),
                                     torch.tensor(yb, dtype=torch.float64))
        tl.backward()
        close(loss.data, tl, "loss")
        close(model[1].neurons[0].b.grad, tm[2].bias.grad[0], "last bias grad")

    @parameterized.expand([("above", 1.5), ("below", -0.1), ("nan", math.nan)])
    def test_probabilities_outside_0_1(self, _, p):
        with pytest.raises(ValueError, match="probabilities in"):
            BCELoss()([Scalar(p)], [1.0])


class TestBCEWithLogitsLoss:
    @parameterized.expand([(f"b{b}_{r}", b, r) for b in (4, 16, 256) for r in ("mean", "sum", "none")])
    def test_matches_torch_including_extremes(self, _, batch, reduction):
        rng = random.Random(batch + 1)
        zv = [rng.gauss(0, 5) for _ in range(batch)]
        tv = [rng.choice((0.0, 1.0, 0.25)) for _ in range(batch)]
        zv[0], tv[0] = 1000.0, 0.0
        zv[1], tv[1] = -1000.0, 1.0
        zv[2], tv[2] = 1000.0, 1.0
        zv[3], tv[3] = -40.0, 0.0
        outputs = [Scalar(z) for z in zv]
        loss = BCEWithLogitsLoss(reduction=reduction)(outputs, tv)
        tz = tt(zv)
        tl = TF.binary_cross_entropy_with_logits(tz, torch.tensor(tv, dtype=torch.float64),
                                                 reduction=reduction)
        backward_both(loss, tl, reduction, rng)
        assert all(math.isfinite(v.data) for v in flat(loss))
        all_close(loss, tl, "loss")
        grads_close(outputs, tz.grad, "grad logits")


# --------------------------------------------------------------------------
# Training in lock-step with PyTorch
# --------------------------------------------------------------------------

def _dataset(kind):
    rng = random.Random(123)
    xs = [[rng.gauss(0, 1) for _ in range(16)] for _ in range(32)]
    if kind == "cross_entropy":
        ys = [int(sum(x[:5]) > 0) + int(sum(x[5:10]) > 0.5) for x in xs]
    else:
        ys = [[math.sin(x[0]), x[1] * x[2], 0.5 * x[3]] for x in xs]
    return xs, ys


def _sgd_momentum_step(params, buffers, lr, momentum):
    """torch.optim.SGD's update, written out: buf = g (first step), then momentum * buf + g."""
    for i, p in enumerate(params):
        g = p.grad
        buffers[i] = g if buffers[i] is None else momentum * buffers[i] + g
        p.data -= lr * buffers[i]


def _library_sgd(params, lr, momentum):
    optim = pytest.importorskip("scalargrad.nn.optim")
    return optim.SGD(params, lr=lr, momentum=momentum)


@pytest.mark.parametrize("kind, optimizer", [("cross_entropy", "by_hand"), ("mse", "by_hand"),
                                             ("cross_entropy", "library"), ("mse", "library")])
def test_training_in_lock_step_with_torch(kind, optimizer):
    random.seed(2024)
    model = Sequential([Linear(16, 32, activation="relu"), Linear(32, 16, activation="relu"),
                        Linear(16, 3, activation="identity")])
    tm = model.to_torch()
    params = model.parameters()
    lr, momentum, batch_size = 0.05, 0.9, 8
    torch_opt = torch.optim.SGD(tm.parameters(), lr=lr, momentum=momentum)
    ours = _library_sgd(params, lr, momentum) if optimizer == "library" else None
    buffers = [None] * len(params)
    loss_fn = CrossEntropyLoss() if kind == "cross_entropy" else MSELoss()
    xs, ys = _dataset(kind)
    order = list(range(len(xs)))
    shuffle = random.Random(9)
    epoch_means = []

    for epoch in range(10):
        shuffle.shuffle(order)
        our_losses, torch_losses = [], []
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            xb, yb = [xs[i] for i in idx], [ys[i] for i in idx]

            for p in params:
                p.grad = 0.0
            loss = loss_fn([model(x) for x in xb], yb)
            loss.backward()
            if ours is not None:
                ours.step()
            else:
                _sgd_momentum_step(params, buffers, lr, momentum)
            our_losses.append(loss.data)

            torch_opt.zero_grad()
            out = tm(torch.tensor(xb, dtype=torch.float64))
            if kind == "cross_entropy":
                tl = TF.cross_entropy(out, torch.tensor(yb))
            else:
                tl = TF.mse_loss(out, torch.tensor(yb, dtype=torch.float64))
            tl.backward()
            torch_opt.step()
            torch_losses.append(tl.item())

        epoch_means.append(sum(our_losses) / len(our_losses))
        for i, (a, e) in enumerate(zip(our_losses, torch_losses)):
            assert math.isclose(a, e, rel_tol=1e-6, abs_tol=1e-9), f"epoch {epoch} batch {i}: {a} vs {e}"
        expected = []
        for lin in (tm[0], tm[2], tm[4]):
            for j in range(lin.out_features):
                expected += lin.weight[j].tolist() + [lin.bias[j].item()]
        assert len(expected) == len(params)
        for i, (p, e) in enumerate(zip(params, expected)):
            assert math.isclose(p.data, e, rel_tol=1e-6, abs_tol=1e-9), \
                f"epoch {epoch} param {i}: {p.data} vs {e}"
    assert epoch_means[-1] < 0.7 * epoch_means[0], epoch_means  # and it did learn
